//! What `integ sync` shows while an account syncs: a progress bar on a terminal, and one line
//! per stream (even under `--quiet`: it is the run's record in a cron log) unless `--json`
//! prints the summaries instead.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::store::connections::Connection;
use crate::sync::Observer;
use crate::sync::engine::Summary;
use crate::ui::{self, Ui};

/// A progress bar on a terminal; plain (timestamped) lines otherwise.
pub struct Bar {
    ui: Ui,
    bar: Option<ProgressBar>,
    started: Instant,
    name: String,
}

impl Bar {
    pub fn new(ui: &Ui, c: &Connection) -> Bar {
        let name = ui::clean(&format!("{} '{}'", c.provider, c.label)).into_owned();
        let bar = (ui.stderr_is_terminal && !ui.quiet && !ui.json).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b.set_message(format!("{name}: starting"));
            b
        });
        Bar { ui: ui.clone(), bar, started: Instant::now(), name }
    }

    /// Print a line above the bar (or plainly, timestamped off a terminal, without one).
    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(ui::clean(line)),
            None => self.ui.always(line),
        }
    }
}

impl Observer for Bar {
    fn page(&self, fetched: u64, waited: Duration) {
        if let Some(b) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            b.set_message(format!(
                "{}: {fetched} records, {:.0}/s, {:.1} s waiting for the budget",
                self.name,
                fetched as f64 / secs,
                waited.as_secs_f64()
            ));
        }
    }

    fn note(&self, message: &str) {
        // Notes name calendars and quote providers: made safe for the terminal and the log.
        let message = ui::clean(message);
        match &self.bar {
            Some(b) => b.println(format!("{}: {message}", self.name)),
            None => tracing::info!("{}: {message}", self.name),
        }
    }

    fn stream_done(&self, summary: &Summary) {
        if !self.ui.json {
            self.say(&summary.line());
        }
    }

    fn paused(&self) {
        self.say("--max-duration reached; progress is saved and the next run continues");
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
