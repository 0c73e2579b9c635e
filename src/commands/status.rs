//! `integ status`: every connection, its token expiry, the last run of each stream and the
//! next thing the user must do. The exit code lets a monitor alert on it alone: 4 when a
//! connection needs reconnecting, 2 when the secret store cannot be read (keyring locked, no
//! D-Bus), 3 when a stream's last run failed, 0 otherwise. It says on stderr whether alerts are
//! configured; `--alert` also sends them (for a monitor that runs `status` rather than `sync`),
//! which never changes the exit code. `--shards N` (or `INTEG_SHARDS`) adds the shard of N that
//! owns each account (`integ sync --shard I/N`).

use comfy_table::Table;

use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::{Done, Error, Kind, Result};
use crate::provider::Provider;
use crate::shard::Shard;
use crate::store::connections::{self, Connection, State};
use crate::store::runs::{self, StreamStatus};
use crate::ui::{Listing, Ui};

#[derive(Debug, serde::Serialize)]
struct Entry {
    provider: String,
    account: String,
    account_name: String,
    account_id: String,
    state: State,
    /// Google and Microsoft: whether the grant lets `integ push` write calendars.
    #[serde(skip_serializing_if = "Option::is_none")]
    can_write: Option<bool>,
    token_expires_at: Option<String>,
    last_refresh_at: Option<String>,
    last_error: Option<String>,
    streams: Vec<StreamStatus>,
    /// What the user must do, if anything.
    action: Option<String>,
    /// With `--shards N`: the shard (`I/N`) whose `integ sync --shard I/N` syncs this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct StatusList(Vec<Entry>);

impl Listing for StatusList {
    fn table(&self) -> Table {
        // `--shards N` gives every entry a shard; without it the table is as it always was.
        let shards = self.0.iter().any(|e| e.shard.is_some());
        let mut t = if shards {
            Ui::table(&["PROVIDER", "ACCOUNT", "SHARD", "STATE", "TOKEN EXPIRES", "LAST SYNC", "ACTION"])
        } else {
            Ui::table(&["PROVIDER", "ACCOUNT", "STATE", "TOKEN EXPIRES", "LAST SYNC", "ACTION"])
        };
        for e in &self.0 {
            let syncs = if e.streams.is_empty() {
                "never".to_string()
            } else {
                e.streams
                    .iter()
                    .map(|s| {
                        let when = s.last_run_finished_at.as_deref().or(s.last_run_started_at.as_deref()).unwrap_or("");
                        let took = s.duration_secs.map(|d| format!(", {d} s")).unwrap_or_default();
                        format!(
                            "{}: {} {when} ({} fetched, {} new, {} changed, {} deleted{took})",
                            s.stream,
                            s.outcome.as_deref().unwrap_or("-"),
                            s.fetched,
                            s.inserted,
                            s.updated,
                            s.deleted
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let mut row = vec![e.provider.clone(), e.account.clone()];
            if shards {
                row.push(e.shard.clone().unwrap_or_default());
            }
            row.extend([
                match e.can_write {
                    Some(true) => format!("{}, can write", e.state.as_str().replace('_', " ")),
                    _ => e.state.as_str().replace('_', " "),
                },
                e.token_expires_at.clone().unwrap_or_else(|| "-".into()),
                syncs,
                e.action.clone().or_else(|| e.last_error.clone()).unwrap_or_default(),
            ]);
            t.add_row(row);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0.is_empty().then(|| {
            "No accounts connected yet. Start with `integ connect jobber` (or google, microsoft, calendly).".to_string()
        })
    }
}

/// Refresh tokens that die when unused: warn this long before.
const IDLE_WARNING_DAYS: i64 = 30;

/// The next thing to do for a connection, most urgent first.
fn next_action(c: &Connection, streams: &[StreamStatus], google_testing: bool, now: jiff::Timestamp) -> Option<String> {
    let days_since = |t: Option<&str>| {
        t.and_then(|t| t.parse::<jiff::Timestamp>().ok()).map(|t| (now.as_second() - t.as_second()) / 86_400)
    };
    let reconnect = crate::oauth::session::reconnect_hint(c);
    match c.state {
        State::ReconnectNeeded => return Some(reconnect),
        State::Disconnected => return None,
        State::Connected => {}
    }
    let idle = days_since(c.last_refresh_at.as_deref().or(Some(c.created_at.as_str()))).unwrap_or(0);
    if c.provider == Provider::Google && google_testing {
        let age = days_since(Some(c.created_at.as_str())).unwrap_or(0);
        return Some(format!(
            "refresh token ages out in {} day(s): the Google app is in Testing mode; publish it, then {reconnect}",
            (7 - age).max(0)
        ));
    }
    let idle_limit = match c.provider {
        Provider::Microsoft => Some(90),
        Provider::Google => Some(180),
        _ => None,
    };
    if let Some(limit) = idle_limit
        && idle >= limit - IDLE_WARNING_DAYS
    {
        return Some(format!(
            "refresh token dies after {limit} idle days ({} left): run `integ refresh {}` or schedule `integ sync`",
            (limit - idle).max(0),
            c.provider
        ));
    }
    if let Some(failed) = streams.iter().find(|s| s.outcome.as_deref() == Some("failed")) {
        return Some(format!(
            "last {} sync failed: {}; run `integ sync` to retry",
            failed.stream,
            failed.error.as_deref().unwrap_or("see the log")
        ));
    }
    if c.provider == Provider::Jobber && streams.is_empty() {
        return Some("run `integ sync jobs`".into());
    }
    None
}

pub async fn run(ctx: &mut Context, args: StatusArgs) -> Result<Done> {
    let shards = match args.shards {
        Some(n) => Some(n),
        None => shards_from_env(ctx)?,
    };
    let done = report(ctx, shards)?;
    alerts_line(ctx);
    if args.alert {
        super::alerts::after_run(ctx, super::alerts::Trigger::Status).await;
    }
    Ok(done)
}

/// Whether alerts would reach anyone, and the last failure of a channel that is failing.
fn alerts_line(ctx: &mut Context) {
    match super::alerts::load_channels(ctx) {
        Ok((channels, problems)) => {
            let names = channels.names();
            if names.is_empty() {
                ctx.ui.info("alerts: not configured (see README \"Alerts\"; `integ alerts test` checks a channel)");
            } else {
                ctx.ui.info(format!("alerts: sent to {}", names.join(" and ")));
            }
            for p in problems {
                ctx.ui.warn(format!("alerts: {p}"));
            }
        }
        Err(e) => ctx.ui.warn(format!("alerts: cannot read the channel settings: {}", e.message)),
    }
    let failing = match ctx.existing_db() {
        Ok(Some(db)) => crate::store::alerts::channel_errors(db).unwrap_or_default(),
        _ => Vec::new(),
    };
    for (channel, error, at) in failing {
        ctx.ui
            .warn(format!("alerts: the last send to {channel} failed at {at}: {error}; it is retried by the next run"));
    }
}

/// The default of `--shards`, for a container that also sets `INTEG_SHARD`.
const SHARDS_VAR: &str = "INTEG_SHARDS";

fn shards_from_env(ctx: &Context) -> Result<Option<u32>> {
    let Some(value) = ctx.env.get(SHARDS_VAR) else { return Ok(None) };
    crate::shard::parse_count(value).map(Some).map_err(|e| {
        Error::config(format!("{SHARDS_VAR}: {e}"))
            .hint(format!("set {SHARDS_VAR} to the number of workers (N of `integ sync --shard I/N`), or unset it"))
    })
}

fn report(ctx: &mut Context, shards: Option<u32>) -> Result<Done> {
    let mut entries = Vec::new();
    let google_testing =
        ctx.settings().ok().and_then(|s| s.get("google.app_status").map(|v| v == "testing")).unwrap_or(false);
    let now = ctx.now();
    let mut store_problem = None;
    if let Some(db) = ctx.existing_db()? {
        let list = connections::list(db, None)?;
        // Can the tokens be read? A locked keyring under cron shows up here, not mid-sync.
        if let Some(first) = list.iter().find(|c| c.state != State::Disconnected) {
            let key = first.secret_key();
            if let Err(e) = ctx.secrets().and_then(|s| s.get(&key).map_err(Into::into)) {
                store_problem = Some(e);
            }
        }
        let db = ctx.db()?;
        for c in list {
            let streams = runs::streams(db, c.id)?;
            let action = match &store_problem {
                Some(e) if c.state != State::Disconnected => Some(format!(
                    "the secret store cannot be read ({}): {}",
                    e.message,
                    e.hint.as_deref().unwrap_or("see `integ doctor`")
                )),
                _ => {
                    // Push rules into an account that cannot write: say how to grant it (before
                    // "run integ sync to retry", which would fail the same way).
                    let rules = crate::store::push::list(db, Some(c.id)).map(|r| !r.is_empty()).unwrap_or(false);
                    if rules && c.state == State::Connected && !crate::providers::push::can_write(c.provider, &c.scopes)
                    {
                        Some(crate::providers::push::write_hint(c.provider, &c.label))
                    } else {
                        next_action(&c, &streams, google_testing, now)
                    }
                }
            };
            entries.push(Entry {
                provider: c.provider.name().to_string(),
                account: c.label.clone(),
                account_name: c.account_name.clone(),
                account_id: c.account_id.clone(),
                state: c.state,
                can_write: matches!(c.provider, Provider::Google | Provider::Microsoft)
                    .then(|| crate::providers::push::can_write(c.provider, &c.scopes)),
                token_expires_at: c.token_expires_at.clone(),
                last_refresh_at: c.last_refresh_at.clone(),
                last_error: c.last_error.clone(),
                streams,
                action,
                shard: match shards {
                    Some(n) => Some(Shard::of(c.provider, &c.account_id, n).map_err(Error::config)?.to_string()),
                    None => None,
                },
            });
        }
    }
    let reconnect = entries.iter().filter(|e| e.state == State::ReconnectNeeded).count();
    let failed = entries
        .iter()
        .filter(|e| e.state == State::Connected && e.streams.iter().any(|s| s.outcome.as_deref() == Some("failed")))
        .count();
    ctx.ui.data(&StatusList(entries))?;
    let moved = ctx.settings().map(|s| s.endpoint_overrides()).unwrap_or_default();
    for m in moved {
        ctx.ui.warn(format!("{m}, not integ's default; unless you mean that server: {}", m.undo()));
    }
    if reconnect > 0 {
        ctx.ui.warn(format!("{reconnect} connection(s) need reconnecting; see the ACTION column"));
        return Ok(Done::With(Kind::Reconnect));
    }
    if let Some(e) = store_problem {
        ctx.ui.warn(format!("the secret store cannot be read: {}", e.message));
        return Ok(Done::With(Kind::Config));
    }
    if failed > 0 {
        ctx.ui.warn(format!("{failed} connection(s) had a failed sync; see the ACTION column"));
        return Ok(Done::With(Kind::Partial));
    }
    Ok(Done::Ok)
}
