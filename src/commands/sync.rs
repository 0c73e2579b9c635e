//! `integ sync [jobs] [--account NAME] [--full] [--wait SECS]`: pull every connected account's
//! streams into SQLite. One account's failure does not stop the others; the exit code says what
//! happened (0 ok, 3 some failed, 4 some need reconnecting, 5 a run holds the lock).
//!
//! A progress bar shows on a terminal; otherwise (or with `--quiet`) one summary line per
//! stream, and `--json` prints the summaries as one JSON array.

use std::time::{Duration, Instant};

use futures_util::FutureExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{SyncArgs, SyncStream};
use crate::context::Context;
use crate::error::{Done, Error, Outcomes, Result};
use crate::http::{Http, RetryPolicy};
use crate::oauth::session::RefreshMode;
use crate::provider::Provider;
use crate::providers::jobber::api::JobberApi;
use crate::store::connections::{self, Connection, State};
use crate::store::lock::FileLock;
use crate::store::runs::{self, Counts};
use crate::sync::events::EventsOptions;
use crate::sync::{self, Finish, JobberOptions, Observer};

/// Retries one run may spend across all its requests.
const RETRY_BUDGET: u32 = 200;

pub async fn run(ctx: &mut Context, args: SyncArgs) -> Result<Done> {
    // Unattended runs write to logs: every line gets the time.
    ctx.ui.timestamps = !ctx.ui.stderr_is_terminal;
    // `--max-duration` is at most a year (cli.rs), so this cannot overflow; if it ever did, no
    // deadline is better than a panic.
    let deadline = args.max_duration.and_then(|d| Instant::now().checked_add(d));
    let providers: Vec<Provider> = match args.stream {
        Some(SyncStream::Jobs) => vec![Provider::Jobber],
        Some(SyncStream::Events) => vec![Provider::Google, Provider::Microsoft, Provider::Calendly],
        None => Provider::ALL.to_vec(),
    };
    let providers: Vec<Provider> = providers.into_iter().filter(|p| args.provider.is_none_or(|q| q == *p)).collect();
    let mut targets = Vec::new();
    for p in &providers {
        match &args.account {
            Some(name) => {
                if let Ok(c) = super::select::one(ctx.db()?, *p, Some(name)) {
                    targets.push(c);
                }
            }
            None => targets
                .extend(connections::list(ctx.db()?, Some(*p))?.into_iter().filter(|c| c.state != State::Disconnected)),
        }
    }
    // Accounts a stream doesn't touch still need their idle refresh tokens kept alive.
    let keepalive: Vec<Connection> = if args.stream.is_none() {
        keepalive_targets(ctx, args.account.as_deref())?
            .into_iter()
            .filter(|k| targets.iter().all(|t| t.id != k.id))
            .collect()
    } else {
        Vec::new()
    };
    let any_connected = connections::list(ctx.db()?, None)?.iter().any(|c| c.state != State::Disconnected);
    if targets.is_empty() && keepalive.is_empty() && args.stream.is_none() && args.account.is_none() && any_connected {
        ctx.ui.info("nothing to sync: no connected account has a stream yet, and no token needs keeping alive");
        return Ok(Done::Ok);
    }
    if targets.is_empty() && keepalive.is_empty() {
        return Err(match &args.account {
            Some(name) => Error::config(format!("no connected account named '{name}' has these streams")),
            None => Error::config("no connected account to sync"),
        }
        .hint("run `integ connect <provider>` first; `integ status` lists the connections"));
    }
    let mut summaries = Vec::new();
    let mut outcomes = Outcomes::default();
    for c in targets {
        if sync::out_of_time(deadline) {
            ctx.ui.warn(format!("--max-duration reached; the {} is left for the next run", c.describe()));
            continue;
        }
        match sync_connection(ctx, &c, &args, deadline, &mut summaries).await {
            Ok(()) => outcomes.ok(),
            Err(e) => {
                ctx.ui.error(&e);
                outcomes.failed(e.kind);
            }
        }
    }
    for c in keepalive {
        if let Err(e) = keep_alive(ctx, &c).await {
            ctx.ui.error(&e);
            outcomes.failed(e.kind);
        } else {
            outcomes.ok();
        }
    }
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::to_value(&summaries)?)?;
    }
    Ok(outcomes.done())
}

/// Refresh tokens that die when unused (Google after 6 months, Microsoft after 90 days) once they
/// are this old, so a scheduled `integ sync` keeps idle connections alive.
const KEEPALIVE_AFTER_DAYS: i64 = 7;

/// Connections whose refresh tokens age out when idle and have not been refreshed lately.
fn keepalive_targets(ctx: &mut Context, account: Option<&str>) -> Result<Vec<Connection>> {
    let now = ctx.now().as_second();
    let list = connections::list(ctx.db()?, None)?;
    Ok(list
        .into_iter()
        .filter(|c| c.state == State::Connected && matches!(c.provider, Provider::Google | Provider::Microsoft))
        .filter(|c| account.is_none_or(|a| super::select::matches(c, a)))
        .filter(|c| {
            let last = c.last_refresh_at.as_deref().unwrap_or(&c.created_at);
            last.parse::<jiff::Timestamp>()
                .map(|t| now - t.as_second() >= KEEPALIVE_AFTER_DAYS * 86_400)
                .unwrap_or(true)
        })
        .collect())
}

async fn keep_alive(ctx: &mut Context, c: &Connection) -> Result<()> {
    let mut session = ctx.session(c.clone())?;
    session.refresh(ctx.db()?, RefreshMode::KeepAlive).await?;
    ctx.ui.info(format!("kept the {} alive (tokens refreshed)", c.describe()));
    Ok(())
}

#[derive(Debug, serde::Serialize)]
struct Summary {
    provider: Provider,
    account: String,
    stream: String,
    outcome: String,
    #[serde(flatten)]
    counts: Counts,
    retries: u64,
    waited_secs: f64,
    duration_secs: f64,
    error: Option<String>,
}

impl Summary {
    fn line(&self) -> String {
        format!(
            "{} '{}' {}: {} fetched, {} inserted, {} updated, {} deleted; {} requests, {} throttle waits, {:.1} s waiting; {:.1} s",
            self.provider,
            self.account,
            self.stream,
            self.counts.fetched,
            self.counts.inserted,
            self.counts.updated,
            self.counts.deleted,
            self.counts.requests,
            self.counts.throttle_waits,
            self.waited_secs,
            self.duration_secs
        )
    }
}

/// Sync one account's streams under its sync lock, which keeps two runs off one account.
async fn sync_connection(
    ctx: &mut Context,
    c: &Connection,
    args: &SyncArgs,
    deadline: Option<Instant>,
    out: &mut Vec<Summary>,
) -> Result<()> {
    let lock_path = ctx.paths.lock_file(&c.lock_name("sync"));
    let wait = Duration::from_secs(args.wait.unwrap_or(0));
    let _lock = FileLock::acquire(&lock_path, wait).await?.ok_or_else(|| {
        Error::locked(format!("another integ sync is running for the {}", c.describe()))
            .hint("let it finish, or pass --wait SECS to wait for it")
    })?;
    let clock = ctx.clock;
    #[cfg(debug_assertions)]
    let planted_panic = ctx.env.get("INTEG_DEBUG_PANIC") == Some("sync");
    let settings = ctx.settings()?;
    // Counts are validated (1 to a bound that fits a u32) where settings load; the defaults
    // here are for a value that is somehow absent, and u32 × 86,400 cannot overflow a u64.
    let events_opts = EventsOptions {
        full: args.full,
        past_days: settings.count("events.past_days").unwrap_or(30),
        future_days: settings.count("events.future_days").unwrap_or(365),
        deadline,
        clock,
    };
    let opts = JobberOptions {
        full: args.full,
        sweep_every: Duration::from_secs(u64::from(settings.count("jobber.sweep_days").unwrap_or(7)) * 86_400),
        overlap: Duration::from_secs(u64::from(settings.count("jobber.overlap_minutes").unwrap_or(60)) * 60),
        graphql_version: settings.get("jobber.graphql_version").unwrap_or_default().to_string(),
        deadline,
    };
    let client = ctx.http_client()?;
    let mut session = ctx.session(c.clone())?;
    let http = Http::new(client, RetryPolicy::default(), RETRY_BUDGET).with_deadline(deadline);
    let api = match c.provider {
        Provider::Jobber => {
            let api_url = session.api_url()?;
            Some(JobberApi::new(&http, &api_url, &opts.graphql_version))
        }
        _ => None,
    };
    let streams: &[&str] = match (c.provider, &api) {
        (Provider::Jobber, _) => &[sync::jobs::CLIENTS, sync::jobs::JOBS],
        _ => &[sync::events::EVENTS],
    };
    let observer = Bar::new(&ctx.ui, c);
    for &stream in streams {
        let started = Instant::now();
        let before = http.stats();
        let db = ctx.db()?;
        let run_id = runs::start(db, c.id, stream, &clock.stamp())?;
        crate::interrupt::track_run(run_id);
        let mut counts = Counts::default();
        let work = async {
            #[cfg(debug_assertions)]
            if planted_panic {
                panic!("planted panic (INTEG_DEBUG_PANIC=sync)");
            }
            match (stream, &api) {
                (sync::jobs::CLIENTS, Some(api)) => {
                    sync::jobs::sync_clients(&mut session, db, api, &opts, &observer, &mut counts).await
                }
                (sync::jobs::JOBS, Some(api)) => {
                    sync::jobs::sync_jobs(&mut session, db, &http, api, &opts, &observer, &mut counts).await
                }
                _ => sync::events::sync_events(&mut session, db, &http, &events_opts, &observer, &mut counts).await,
            }
        };
        // A panic (a bug) must not leave the run 'running': record it as failed, then let the
        // panic go on to `main_entry`, which ends the process with exit 1. Any transaction open
        // at the panic was rolled back as it unwound.
        let result = match std::panic::AssertUnwindSafe(work).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
                let db = ctx.db()?;
                let error = "integ stopped on an internal error (a bug)";
                if let Err(e) = runs::finish(db, run_id, &counts, "failed", Some(error), &clock.stamp()) {
                    tracing::warn!("could not record the run: {e}");
                }
                observer.finish();
                std::panic::resume_unwind(panic);
            }
        };
        // The deadline cut a wait short: the stream paused, it did not fail
        // (every page read so far is committed with its cursor).
        let result = match result {
            Err(e) if http.ran_out_of_time() => {
                tracing::info!("--max-duration reached while waiting on the provider: {}", e.message);
                Ok(Finish::Paused)
            }
            other => other,
        };
        let stats = http.stats();
        counts.requests = stats.requests - before.requests;
        counts.throttle_waits = stats.throttle_waits - before.throttle_waits;
        let (outcome, error) = match &result {
            Ok(Finish::Complete) => ("ok", None),
            Ok(Finish::Paused) => {
                ("partial", Some("stopped by --max-duration; the next run continues from here".to_string()))
            }
            Err(e) => ("failed", Some(e.message.clone())),
        };
        if let Err(e) = runs::finish(db, run_id, &counts, outcome, error.as_deref(), &clock.stamp()) {
            tracing::warn!("could not record the run: {e}");
        }
        crate::interrupt::untrack_run(run_id);
        let summary = Summary {
            provider: c.provider,
            account: c.label.clone(),
            stream: stream.into(),
            outcome: outcome.into(),
            counts,
            retries: stats.retries - before.retries,
            waited_secs: ((stats.waited_secs - before.waited_secs) * 10.0).round() / 10.0,
            duration_secs: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            error,
        };
        tracing::info!("{}", summary.line());
        if !ctx.ui.json {
            // One line per stream even under --quiet: it is the run's record in a cron log.
            observer.say(&summary.line());
        }
        out.push(summary);
        match result {
            Err(e) => {
                observer.finish();
                return Err(e);
            }
            Ok(Finish::Paused) => {
                observer.say("--max-duration reached; progress is saved and the next run continues");
                break;
            }
            Ok(Finish::Complete) => {}
        }
    }
    observer.finish();
    Ok(())
}

/// A progress bar on a terminal; nothing otherwise.
struct Bar {
    ui: crate::ui::Ui,
    bar: Option<ProgressBar>,
    started: Instant,
    name: String,
}

impl Bar {
    fn new(ui: &crate::ui::Ui, c: &Connection) -> Bar {
        let name = crate::ui::clean(&format!("{} '{}'", c.provider, c.label)).into_owned();
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

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// Print a line above the bar (or plainly, timestamped off a terminal, without one).
    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(crate::ui::clean(line)),
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
        let message = crate::ui::clean(message);
        match &self.bar {
            Some(b) => b.println(format!("{}: {message}", self.name)),
            None => tracing::info!("{}: {message}", self.name),
        }
    }
}
