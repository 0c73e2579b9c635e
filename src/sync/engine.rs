//! The engine's outer loop: which streams an account has, the clients they need, the run
//! records (`sync_runs`) around each stream, and what each stream reports. The `sync` command
//! picks the accounts, builds their sessions through the context and prints; everything else
//! about running a sync is here, and it never prints.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::FutureExt;

use super::events::EventsOptions;
use super::{Finish, JobberOptions, Observer, StreamCx};
use crate::config::SyncSettings;
use crate::error::{Error, Result};
use crate::http::{Http, RetryPolicy};
use crate::oauth::session::{RefreshMode, Refreshed, Session};
use crate::provider::Provider;
use crate::providers::jobber::api::JobberApi;
use crate::store::connections::{Connection, State};
use crate::store::db::Db;
use crate::store::lock::RunLock;
use crate::store::pg::link::PgLink;
use crate::store::runs::{self, Counts};
use crate::time::Clock;

/// Retries one account's run may spend across all its requests.
const RETRY_BUDGET: u32 = 200;

/// Refresh tokens that die when unused (Google after 6 months, Microsoft after 90 days) once
/// they are this old, so a scheduled `integ sync` keeps idle connections alive.
const KEEPALIVE_AFTER_DAYS: i64 = 7;

/// A stream of one account: what `sync_runs.stream` and `sync_state` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Clients,
    Jobs,
    /// Every selected calendar (each keeps its own cursor, `events:<calendar id>`).
    Events,
    /// Jobber visits into this account's calendars, per push rule (runs only with rules).
    Push,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Clients => super::jobs::CLIENTS,
            Stream::Jobs => super::jobs::JOBS,
            Stream::Events => super::events::EVENTS,
            Stream::Push => super::push::PUSH,
        }
    }

    /// A provider's streams, in the order they run (Jobber's clients before the jobs that
    /// name them; a calendar account's push after its events, and after Jobber, whose
    /// accounts run first).
    pub fn of(provider: Provider) -> &'static [Stream] {
        match provider {
            Provider::Jobber => &[Stream::Clients, Stream::Jobs],
            Provider::Google | Provider::Microsoft => &[Stream::Events, Stream::Push],
            Provider::Calendly => &[Stream::Events],
        }
    }
}

/// What a run was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    /// Read everything again (and find deletions).
    pub full: bool,
    /// `--max-duration`: stop cleanly between pages, and cut waits, after this.
    pub deadline: Option<Instant>,
    /// Run only this stream (`integ sync jobs|events|push`); `None`: every stream.
    pub only: Option<Stream>,
}

/// How one stream of one account went: a line for the log, an object for `--json`.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    pub provider: Provider,
    pub account: String,
    pub stream: String,
    pub outcome: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub retries: u64,
    pub waited_secs: f64,
    pub duration_secs: f64,
    pub error: Option<String>,
}

impl Summary {
    /// An account that failed before any of its streams ran (its lock, its tokens).
    pub fn account_failed(c: &Connection, e: &Error) -> Summary {
        Summary {
            provider: c.provider,
            account: c.label.clone(),
            stream: "-".into(),
            outcome: "failed".into(),
            counts: Counts::default(),
            retries: 0,
            waited_secs: 0.0,
            duration_secs: 0.0,
            error: Some(e.message.clone()),
        }
    }

    pub fn line(&self) -> String {
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

/// One account's run: its session and what the streams need, gathered by the command.
pub struct Account<'a> {
    pub session: Session,
    /// The run's HTTP client; each account gets its own retry budget over it.
    pub http: reqwest::Client,
    pub settings: &'a SyncSettings,
    pub clock: Clock,
    /// The account's sync lock, held for the whole run (see [`lock`]).
    pub lock: RunLock,
    /// Panic inside the run (the test of the panic path; the command sets it in debug builds
    /// only).
    pub planted_panic: bool,
}

/// Take an account's sync lock, which keeps two runs off one account, waiting up to `wait`:
/// its lock file, and on PostgreSQL (`pg`, the lock session) its advisory lock too.
pub async fn lock(path: &Path, pg: Option<&std::sync::Arc<PgLink>>, c: &Connection, wait: Duration) -> Result<RunLock> {
    RunLock::acquire(path, pg, wait).await?.ok_or_else(|| {
        Error::locked(format!("another integ sync is running for the {}", c.describe()))
            .hint("let it finish, or pass --wait SECS to wait for it")
    })
}

/// Whether a connection's refresh token should be used now, so that it does not die idle.
pub fn needs_keepalive(c: &Connection, now: jiff::Timestamp) -> bool {
    if c.state != State::Connected || !matches!(c.provider, Provider::Google | Provider::Microsoft) {
        return false;
    }
    let last = c.last_refresh_at.as_deref().unwrap_or(&c.created_at);
    last.parse::<jiff::Timestamp>()
        .map(|t| now.as_second() - t.as_second() >= KEEPALIVE_AFTER_DAYS * 86_400)
        .unwrap_or(true)
}

/// The connections (of `--account`, if given) whose refresh tokens age out when idle and have
/// not been refreshed lately.
pub fn keepalive_targets(db: &Db, account: Option<&str>, now: jiff::Timestamp) -> Result<Vec<Connection>> {
    Ok(crate::store::connections::list(db, None)?
        .into_iter()
        .filter(|c| account.is_none_or(|a| c.answers_to(a)))
        .filter(|c| needs_keepalive(c, now))
        .collect())
}

/// Refresh an idle connection's tokens so they stay alive.
pub async fn keep_alive(session: &mut Session, db: &mut Db) -> Result<Refreshed> {
    session.refresh(db, RefreshMode::KeepAlive).await
}

/// Run every stream of one account, recording each in `sync_runs` and pushing its summary to
/// `out` (also when a stream fails: the summaries of the streams before it stay).
pub async fn sync_account(
    db: &mut Db,
    account: Account<'_>,
    request: &Request,
    observer: &dyn Observer,
    out: &mut Vec<Summary>,
) -> Result<()> {
    let Account { mut session, http, settings, clock, lock: _lock, planted_panic } = account;
    let c = session.connection.clone();
    let deadline = request.deadline;
    let events_opts = EventsOptions {
        full: request.full,
        past_days: settings.events.past_days,
        future_days: settings.events.future_days,
        deadline,
        clock,
    };
    let opts = JobberOptions {
        full: request.full,
        sweep_every: Duration::from_secs(u64::from(settings.jobber.sweep_days) * 86_400),
        overlap: Duration::from_secs(u64::from(settings.jobber.overlap_minutes) * 60),
        graphql_version: settings.jobber.graphql_version.clone(),
        deadline,
    };
    // Google counts requests per user, Outlook per mailbox: this account's streams share one pace.
    let http = Http::new(http, RetryPolicy::default(), RETRY_BUDGET)
        .with_deadline(deadline)
        .with_rate_limit(settings.rate_limit(c.provider));
    let api = match c.provider {
        Provider::Jobber => {
            let api_url = session.api_url()?;
            Some(JobberApi::new(&http, &api_url, &opts.graphql_version))
        }
        _ => None,
    };
    let push_opts = super::push::PushOptions { deadline, clock };
    for &stream in Stream::of(c.provider) {
        if request.only.is_some_and(|o| o != stream && !(o == Stream::Jobs && stream == Stream::Clients)) {
            continue;
        }
        // No rules, no push stream: nothing to record.
        if stream == Stream::Push && !super::push::has_rules(db, c.id)? {
            continue;
        }
        let started = Instant::now();
        let before = http.stats();
        let run_id = runs::start(db, c.id, stream.name(), &clock.stamp())?;
        crate::interrupt::track_run(run_id);
        let mut counts = Counts::default();
        let work = async {
            if planted_panic {
                panic!("planted panic (INTEG_DEBUG_PANIC=sync)");
            }
            let cx = &mut StreamCx { session: &mut session, db: &mut *db, http: &http, observer, counts: &mut counts };
            match (stream, &api) {
                (Stream::Clients, Some(api)) => super::jobs::sync_clients(cx, api, &opts).await,
                (Stream::Jobs, Some(api)) => super::jobs::sync_jobs(cx, api, &opts).await,
                (Stream::Push, _) => super::push::sync_push(cx, &push_opts).await,
                _ => super::events::sync_events(cx, &events_opts).await,
            }
        };
        // A panic (a bug) must not leave the run 'running': record it as failed, then let the
        // panic go on to `main_entry`, which ends the process with exit 1. Any transaction open
        // at the panic was rolled back as it unwound.
        let result = match std::panic::AssertUnwindSafe(work).catch_unwind().await {
            Ok(result) => result,
            Err(panic) => {
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
            stream: stream.name().into(),
            outcome: outcome.into(),
            counts,
            retries: stats.retries - before.retries,
            waited_secs: ((stats.waited_secs - before.waited_secs) * 10.0).round() / 10.0,
            duration_secs: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
            error,
        };
        tracing::info!("{}", summary.line());
        observer.stream_done(&summary);
        out.push(summary);
        match result {
            Err(e) => {
                observer.finish();
                return Err(e);
            }
            Ok(Finish::Paused) => {
                observer.paused();
                break;
            }
            Ok(Finish::Complete) => {}
        }
    }
    observer.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(provider: Provider, created: &str, refreshed: Option<&str>, state: State) -> Connection {
        Connection {
            id: 1,
            provider,
            account_id: "a".into(),
            account_name: "A".into(),
            label: "A".into(),
            scopes: String::new(),
            token_expires_at: None,
            state,
            created_at: created.into(),
            updated_at: created.into(),
            last_refresh_at: refreshed.map(str::to_string),
            last_error: None,
        }
    }

    #[test]
    fn streams_run_in_order_and_keep_their_names() {
        assert_eq!(Stream::of(Provider::Jobber), &[Stream::Clients, Stream::Jobs]);
        assert_eq!(Stream::of(Provider::Calendly), &[Stream::Events]);
        assert_eq!(Stream::of(Provider::Google), &[Stream::Events, Stream::Push]);
        let names: Vec<&str> =
            [Stream::Clients, Stream::Jobs, Stream::Events, Stream::Push].iter().map(|s| s.name()).collect();
        assert_eq!(names, ["clients", "jobs", "events", "push"]);
    }

    #[test]
    fn idle_google_and_microsoft_tokens_are_kept_alive_after_a_week() {
        let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let at = |p, created, refreshed, state| needs_keepalive(&connection(p, created, refreshed, state), now);
        assert!(at(Provider::Google, "2026-11-01T00:00:00Z", None, State::Connected));
        assert!(!at(Provider::Google, "2026-11-01T00:00:00Z", Some("2026-11-20T00:00:00Z"), State::Connected));
        assert!(at(Provider::Microsoft, "2026-01-01T00:00:00Z", Some("2026-11-14T12:00:00Z"), State::Connected));
        assert!(!at(Provider::Microsoft, "2026-01-01T00:00:00Z", Some("2026-11-14T12:00:01Z"), State::Connected));
        // Jobber and Calendly rotate on every refresh and do not age out idle; a connection
        // needing a reconnect cannot be refreshed.
        assert!(!at(Provider::Jobber, "2020-01-01T00:00:00Z", None, State::Connected));
        assert!(!at(Provider::Calendly, "2020-01-01T00:00:00Z", None, State::Connected));
        assert!(!at(Provider::Google, "2020-01-01T00:00:00Z", None, State::ReconnectNeeded));
        // An unreadable stamp is not a reason to let a token die.
        assert!(at(Provider::Google, "garbage", None, State::Connected));
    }
}
