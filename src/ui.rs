//! Output: data to stdout (a table, or JSON under `--json`), everything else to stderr.
//! One printer takes any value that is both a table and serializable, so every listing has
//! both forms.

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};

use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::Env;
use crate::error::Error;
use crate::time::Clock;

/// Something `integ` lists: printable as a table and as JSON.
pub trait Listing: serde::Serialize {
    fn table(&self) -> Table;
    /// The human form; a table unless the listing reads better as lines.
    fn human(&self) -> String {
        self.table().to_string()
    }
    /// What to say instead of an empty table (JSON still prints `[]`).
    fn empty_message(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    pub color: bool,
    pub stderr_is_terminal: bool,
    /// Start every stderr line with the time (unattended runs writing to a log).
    pub timestamps: bool,
    clock: Clock,
}

impl Ui {
    pub fn new(global: &GlobalArgs, env: &Env, clock: Clock) -> Ui {
        let stderr_is_terminal = std::io::stderr().is_terminal();
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => env.get("NO_COLOR").is_none() && stderr_is_terminal && env.get("TERM") != Some("dumb"),
        };
        Ui { json: global.json, quiet: global.quiet, color, stderr_is_terminal, timestamps: false, clock }
    }

    /// A new table in integ's style.
    pub fn table(header: &[&str]) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header.iter().copied());
        t
    }

    /// Print a listing on stdout.
    pub fn data<T: Listing>(&self, value: &T) -> Result<(), Error> {
        let mut out = std::io::stdout().lock();
        let text = if self.json {
            serde_json::to_string_pretty(value)?
        } else if let Some(msg) = value.empty_message() {
            if self.quiet {
                return Ok(());
            }
            msg
        } else {
            value.human()
        };
        writeln!(out, "{text}").map_err(broken_pipe)
    }

    /// Print a plain line of data on stdout (for `config get` and the like).
    pub fn line(&self, text: &str) -> Result<(), Error> {
        writeln!(std::io::stdout().lock(), "{text}").map_err(broken_pipe)
    }

    /// Print a JSON value on stdout.
    pub fn json_value(&self, value: &serde_json::Value) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(value)?;
        self.line(&text)
    }

    /// `2026-11-21T06:30:00Z ` when lines carry timestamps, else nothing.
    pub fn stamp(&self) -> String {
        if self.timestamps { format!("{} ", self.clock.stamp()) } else { String::new() }
    }

    /// A progress or status message on stderr (silent under `--quiet`).
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}{}", self.stamp(), msg.as_ref());
        }
    }

    /// A line on stderr that shows even under `--quiet` (a run's summary for a cron log).
    pub fn always(&self, msg: impl AsRef<str>) {
        eprintln!("{}{}", self.stamp(), msg.as_ref());
    }

    /// A warning on stderr (silent under `--quiet`, which means errors only).
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}{} {}", self.stamp(), self.paint("warning:", "33"), msg.as_ref());
        }
    }

    /// A final success line on stderr.
    pub fn success(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}{} {}", self.stamp(), self.paint("✓", "32"), msg.as_ref());
        }
    }

    /// Print an error: `error:` / `caused by:` / `hint:` on stderr, or JSON on stdout.
    pub fn error(&self, err: &Error) {
        if self.json {
            if let Ok(text) = serde_json::to_string_pretty(&err.to_json()) {
                println!("{text}");
            }
            return;
        }
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "{}{} {}", self.stamp(), self.paint("error:", "1;31"), err.message);
        for cause in &err.causes {
            let _ = writeln!(e, "  {} {cause}", self.paint("caused by:", "2"));
        }
        if let Some(hint) = &err.hint {
            let _ = writeln!(e, "{} {hint}", self.paint("hint:", "1;36"));
        }
    }

    pub fn paint(&self, text: &str, ansi: &str) -> String {
        if self.color { format!("\x1b[{ansi}m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// A closed stdout (`integ status | head -1`) is not worth an error message.
fn broken_pipe(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    Error::failure("cannot write to stdout").cause(e)
}
