//! `integ sync [jobs|events|push] [--account NAME] [--full] [--wait SECS] [--shard I/N]`: pull
//! every connected account's streams into SQLite, and push Jobber visits by the push rules. One
//! account's failure does not stop the others; the exit code says what happened (0 ok, 3 some
//! failed, 4 some need reconnecting, 5 a run holds the lock). With `--shard` (or `INTEG_SHARD`)
//! only the accounts of that shard run, their keep-alive refreshes included.
//!
//! A progress bar shows on a terminal; otherwise (or with `--quiet`) one summary line per
//! stream, and `--json` prints the summaries as one JSON array.

use std::time::{Duration, Instant};

use super::progress::Bar;
use crate::cli::{SyncArgs, SyncStream};
use crate::config::SyncSettings;
use crate::context::Context;
use crate::error::{Done, Error, Outcomes, Result};
use crate::provider::Provider;
use crate::shard::Shard;
use crate::store::connections::{self, Connection, State};
use crate::sync::{self, engine};

/// The default of `--shard`, for a container whose command line is shared by every worker.
const SHARD_VAR: &str = "INTEG_SHARD";

pub async fn run(ctx: &mut Context, args: SyncArgs) -> Result<Done> {
    // Unattended runs write to logs: every line gets the time.
    ctx.ui.timestamps = !ctx.ui.stderr_is_terminal;
    // A bad INTEG_SHARD is refused before anything else, whatever there is to sync.
    let chosen = shard(ctx, &args)?;
    // `--max-duration` is at most a year (cli.rs), so this cannot overflow; if it ever did, no
    // deadline is better than a panic.
    let deadline = args.max_duration.and_then(|d| Instant::now().checked_add(d));
    let providers: Vec<Provider> = match args.stream {
        Some(SyncStream::Jobs) => vec![Provider::Jobber],
        Some(SyncStream::Events) => vec![Provider::Google, Provider::Microsoft, Provider::Calendly],
        Some(SyncStream::Push) => vec![Provider::Google, Provider::Microsoft],
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
    let now = ctx.now();
    let keepalive: Vec<Connection> = if args.stream.is_none() {
        engine::keepalive_targets(ctx.db()?, args.account.as_deref(), now)?
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
    let (targets, keepalive) = match chosen {
        None => (targets, keepalive),
        Some(shard) => {
            let Some(kept) = only_shard(ctx, &shard, &args, targets, keepalive)? else {
                return Ok(Done::Ok);
            };
            kept
        }
    };
    let settings = ctx.settings()?.sync()?;
    let only = args.stream.map(|s| match s {
        SyncStream::Jobs => engine::Stream::Jobs,
        SyncStream::Events => engine::Stream::Events,
        SyncStream::Push => engine::Stream::Push,
    });
    let request = engine::Request { full: args.full, deadline, only };
    let wait = Duration::from_secs(args.wait.unwrap_or(0));
    let mut summaries = Vec::new();
    let mut outcomes = Outcomes::default();
    for c in targets {
        if sync::out_of_time(deadline) {
            ctx.ui.warn(format!("--max-duration reached; the {} is left for the next run", c.describe()));
            continue;
        }
        let before = summaries.len();
        match sync_account(ctx, &c, &settings, &request, wait, &mut summaries).await {
            Ok(()) => outcomes.ok(),
            Err(e) => {
                // A failed stream has its summary already; a failure before any stream (the lock,
                // the tokens) gets one, so `--json` still prints one document.
                if summaries[before..].iter().all(|s| s.outcome != "failed") {
                    summaries.push(engine::Summary::account_failed(&c, &e));
                }
                report(ctx, &e);
                outcomes.failed(e.kind);
            }
        }
    }
    for c in keepalive {
        let kept = async {
            let mut session = ctx.session(c.clone())?;
            engine::keep_alive(&mut session, ctx.db()?).await
        };
        match kept.await {
            Ok(_) => {
                ctx.ui.info(format!("kept the {} alive (tokens refreshed)", c.describe()));
                outcomes.ok();
            }
            Err(e) => {
                summaries.push(engine::Summary::account_failed(&c, &e));
                report(ctx, &e);
                outcomes.failed(e.kind);
            }
        }
    }
    // Every account's data is committed: tell someone if a person is needed.
    super::alerts::after_run(ctx, super::alerts::Trigger::Sync).await;
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::to_value(&summaries)?)?;
    }
    Ok(outcomes.done())
}

/// Where a run's shard came from: `--shard`, else `INTEG_SHARD`.
struct ChosenShard {
    shard: Shard,
    from: &'static str,
}

fn shard(ctx: &Context, args: &SyncArgs) -> Result<Option<ChosenShard>> {
    if let Some(shard) = args.shard {
        return Ok(Some(ChosenShard { shard, from: "--shard" }));
    }
    let Some(value) = ctx.env.get(SHARD_VAR) else { return Ok(None) };
    let shard = value.parse::<Shard>().map_err(|e| {
        Error::config(format!("{SHARD_VAR}: {e}")).hint(format!(
            "set {SHARD_VAR} to I/N, shard I of N workers (e.g. {SHARD_VAR}=2/4), or unset it to sync every account"
        ))
    })?;
    Ok(Some(ChosenShard { shard, from: SHARD_VAR }))
}

/// The accounts of this run that belong to its shard, or `None` when the shard has none (said
/// on stderr; not an error: with more workers than accounts some shards are empty).
/// An account named with `--account` that another shard owns is refused, so a person who
/// asked for one account never gets a quiet run that skipped it.
fn only_shard(
    ctx: &Context,
    chosen: &ChosenShard,
    args: &SyncArgs,
    targets: Vec<Connection>,
    keepalive: Vec<Connection>,
) -> Result<Option<(Vec<Connection>, Vec<Connection>)>> {
    let ChosenShard { shard, from } = chosen;
    let owns = |c: &Connection| shard.owns(c.provider, &c.account_id);
    if let Some(name) = &args.account
        && let Some(c) = targets.iter().chain(&keepalive).find(|c| !owns(c))
    {
        let owner = Shard::of(c.provider, &c.account_id, shard.count()).map_err(Error::config)?;
        return Err(Error::config(format!(
            "the {} (named by --account '{name}') is in shard {owner}, not in shard {shard} (from {from})",
            c.describe()
        ))
        .hint(format!("pass --shard {owner}, or --shard 1/1 to sync it whatever the shard")));
    }
    let all = targets.len() + keepalive.len();
    let targets: Vec<Connection> = targets.into_iter().filter(|c| owns(c)).collect();
    let keepalive: Vec<Connection> = keepalive.into_iter().filter(|c| owns(c)).collect();
    if targets.is_empty() && keepalive.is_empty() {
        ctx.ui.always(format!("shard {shard} (from {from}) has none of the {all} account(s) to sync; nothing to do"));
        if ctx.ui.json {
            ctx.ui.json_value(&serde_json::json!([]))?;
        }
        return Ok(None);
    }
    ctx.ui.info(format!("shard {shard} (from {from}): {} of {all} account(s)", targets.len() + keepalive.len()));
    Ok(Some((targets, keepalive)))
}

/// An account's failure: on stderr always (under `--json` the summaries on stdout carry it).
fn report(ctx: &Context, e: &Error) {
    if ctx.ui.json { ctx.ui.error_on_stderr(e) } else { ctx.ui.error(e) }
}

/// One account: its sync lock (before anything else), its session, then the engine.
async fn sync_account(
    ctx: &mut Context,
    c: &Connection,
    settings: &SyncSettings,
    request: &engine::Request,
    wait: Duration,
    out: &mut Vec<engine::Summary>,
) -> Result<()> {
    let pg = ctx.lock_session()?;
    let lock = engine::lock(&ctx.paths.lock_file(&c.lock_name("sync")), pg.as_ref(), c, wait).await?;
    // Debug builds only: release builds never plant a panic, whatever the environment says.
    let planted_panic = cfg!(debug_assertions) && ctx.env.get("INTEG_DEBUG_PANIC") == Some("sync");
    let account = engine::Account {
        session: ctx.session(c.clone())?,
        http: ctx.http_client()?,
        settings,
        clock: ctx.clock,
        lock,
        planted_panic,
    };
    let observer = Bar::new(&ctx.ui, c);
    engine::sync_account(ctx.db()?, account, request, &observer, out).await
}
