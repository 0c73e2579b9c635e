//! `integ alerts test [--channel slack|email]` and `integ alerts list`, and the small step that
//! `sync`, `refresh` and `status --alert` take after their work is done ([`after_run`]): gather
//! the channels' settings and secrets through the context, then let `alerts` judge, record and
//! send. A channel that is misconfigured or down is reported on stderr and in `alerts list`,
//! never in the command's exit code.

use comfy_table::Table;
use secrecy::SecretString;

use crate::alerts::{self, Channels, channels};
use crate::cli::{AlertsCommand, AlertsTestArgs};
use crate::config::{self, AlertSettings};
use crate::context::Context;
use crate::error::{Done, Error, Kind, Result};
use crate::store::alerts::{self as store, AlertRow};
use crate::store::connections::{self, State};
use crate::ui::{Listing, Ui};

/// How long a run waits for another one's alert step before leaving alerts to it.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Which command is asking: only `sync` makes the daily summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Sync,
    Refresh,
    Status,
}

pub async fn run(ctx: &mut Context, cmd: AlertsCommand) -> Result<Done> {
    match cmd {
        AlertsCommand::Test(a) => test(ctx, a).await,
        AlertsCommand::List => list(ctx),
    }
}

/// A secret setting: its environment variable first, then the secret store.
fn secret(ctx: &mut Context, key: &str) -> Result<Option<SecretString>> {
    let def = config::key_def(key).ok_or_else(|| Error::failure(format!("unknown setting {key}")))?;
    if let Some(v) = def.env.and_then(|e| ctx.env.get(e)) {
        return Ok(Some(SecretString::from(v.to_string())));
    }
    Ok(ctx.secrets()?.get(&super::config::store_key(def))?)
}

/// The configured channels, and what is wrong with the half-configured ones. A secret store
/// that cannot be read is one problem, not an error: a secret given in the environment still
/// works, so the alert about that very store can go out.
pub(super) fn load_channels(ctx: &mut Context) -> Result<(Channels, Vec<String>)> {
    let s: AlertSettings = ctx.settings()?.alerts()?;
    let mut problems = Vec::new();
    let mut store_failed = false;
    let mut read = |ctx: &mut Context, key: &str, problems: &mut Vec<String>| match secret(ctx, key) {
        Ok(v) => v,
        Err(e) => {
            if !store_failed {
                problems.push(format!("cannot read {key} from the secret store: {}", e.message));
                store_failed = true;
            }
            None
        }
    };
    let mut ch = Channels::default();
    let webhook = read(ctx, "alerts.slack_webhook", &mut problems).filter(|hook| {
        let def = config::key_def("alerts.slack_webhook").expect("in the key table");
        match config::check(def, secrecy::ExposeSecret::expose_secret(hook)) {
            Ok(()) => true,
            Err(why) => {
                problems.push(format!("alerts.slack_webhook: {why}"));
                false
            }
        }
    });
    let bot = match (read(ctx, "alerts.slack_bot_token", &mut problems), s.slack_channel.clone()) {
        (Some(t), Some(c)) => Some((t, c)),
        (Some(_), None) => {
            problems.push("alerts.slack_bot_token is set but alerts.slack_channel is not".into());
            None
        }
        _ => None,
    };
    if webhook.is_some() || bot.is_some() {
        ch.slack = Some(channels::Slack { webhook, bot, api_url: s.slack_api_url.clone() });
    }
    if let Some(url) = &s.smtp_url {
        let password = read(ctx, "alerts.smtp_password", &mut problems);
        match email(&s, url, password) {
            Ok(e) => ch.email = Some(e),
            Err(why) => problems.push(why),
        }
    } else if !s.email_to.is_empty() {
        problems.push("alerts.email_to is set but alerts.smtp_url is not".into());
    }
    Ok((ch, problems))
}

fn email(s: &AlertSettings, url: &str, password: Option<SecretString>) -> std::result::Result<channels::Email, String> {
    let url = url::Url::parse(url).map_err(|e| format!("alerts.smtp_url: {e}"))?;
    let from = s.email_from.as_deref().ok_or("alerts.smtp_url is set but alerts.email_from is not")?;
    let from = from.parse().map_err(|_| "alerts.email_from is not an e-mail address".to_string())?;
    let to = s.email_to.iter().filter_map(|t| t.parse().ok()).collect::<Vec<_>>();
    if to.is_empty() {
        return Err("alerts.smtp_url is set but alerts.email_to is not".into());
    }
    if !url.username().is_empty() && password.is_none() {
        return Err(format!("alerts.smtp_url names the user '{}' but alerts.smtp_password is not set", url.username()));
    }
    let ca_pem = match &s.smtp_ca_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| format!("alerts.smtp_ca_file {f}: {e}"))?),
        None => None,
    };
    Ok(channels::Email { url, password, from, to, ca_pem })
}

/// Whether the secret store can give the tokens back (a locked keyring under cron).
fn secret_store_error(ctx: &mut Context) -> Option<String> {
    let first = connections::list(ctx.db().ok()?, None).ok()?.into_iter().find(|c| c.state != State::Disconnected)?;
    match ctx.secrets().and_then(|s| s.get(&first.secret_key()).map_err(Into::into)) {
        Ok(_) => None,
        Err(e) => Some(e.message),
    }
}

/// After a command's work is committed: judge, record and send. Never fails the command.
pub(super) async fn after_run(ctx: &mut Context, trigger: Trigger) {
    let Ok(settings) = ctx.settings().and_then(|s| s.alerts()) else { return };
    // One process judges and sends at a time: two overlapping runs (two accounts' crons) would
    // otherwise both open the same episode or send the same queued message. The state is in
    // the database, so a run that finds the lock taken leaves nothing undone: the next run
    // judges it again.
    // On PostgreSQL the lock reaches every machine that uses the database.
    let lock = match ctx.lock_session() {
        Ok(pg) => crate::store::lock::RunLock::acquire(&ctx.paths.lock_file("alerts"), pg.as_ref(), LOCK_WAIT).await,
        Err(e) => Err(e),
    };
    let _lock = match lock {
        Ok(Some(l)) => l,
        Ok(None) => {
            tracing::info!("alerts: another integ run is sending alerts; left to it");
            return;
        }
        Err(e) => {
            ctx.ui.warn(format!("alerts: {}", e.message));
            return;
        }
    };
    let store_error = secret_store_error(ctx);
    let (channels, problems) = match load_channels(ctx) {
        Ok(c) => c,
        Err(e) => {
            ctx.ui.warn(format!("alerts: cannot read the channel settings: {}", e.message));
            (Channels::default(), Vec::new())
        }
    };
    for p in &problems {
        tracing::info!("alerts: {p}");
        ctx.ui.warn(format!("alerts: {p}"));
    }
    let names = channels.names();
    let rules = alerts::Rules {
        after_failures: settings.after_failures,
        stale_hours: settings.stale_hours,
        google_testing: settings.google_testing,
    };
    let now = ctx.now();
    let Ok(db) = ctx.db() else { return };
    match alerts::record(db, &rules, store_error.as_deref(), &names, now) {
        Ok(r) if r.opened + r.cleared > 0 => {
            tracing::info!("alerts: {} opened, {} cleared, {} open", r.opened, r.cleared, r.open)
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("alerts: could not record: {e}"),
    }
    if trigger == Trigger::Sync
        && let Some(at) = settings.daily_summary
        && let Err(e) = alerts::summary::make(db, at, &jiff::tz::TimeZone::system(), &names, now)
    {
        tracing::warn!("alerts: could not make the daily summary: {e}");
    }
    if names.is_empty() {
        return;
    }
    let Ok(http) = ctx.http_client() else { return };
    let clock = ctx.clock;
    let Ok(db) = ctx.db() else { return };
    for d in alerts::deliver(db, &channels, &http, clock).await {
        // Info reaches `--log-file` (cron runs are `--quiet`); the warning is for a terminal.
        tracing::info!(
            channel = d.channel,
            sent = d.sent,
            failed = d.failed,
            error = d.error.as_deref(),
            "alerts delivered"
        );
        if let Some(e) = &d.error {
            ctx.ui.warn(format!("alerts: {} not sent ({} waiting for the next run): {e}", d.channel, d.waiting));
        } else if d.sent > 0 {
            ctx.ui.info(format!("alerts: {} message(s) sent to {}", d.sent, d.channel));
        }
    }
}

async fn test(ctx: &mut Context, a: AlertsTestArgs) -> Result<Done> {
    let (channels, problems) = load_channels(ctx)?;
    for p in &problems {
        ctx.ui.warn(p);
    }
    let wanted: Vec<&str> = channels.names().into_iter().filter(|n| a.channel.is_none_or(|c| c.name() == *n)).collect();
    if wanted.is_empty() {
        return Err(Error::config(match a.channel {
            Some(c) => format!("the {} alert channel is not configured", c.name()),
            None => "no alert channel is configured".to_string(),
        })
        .hint("set alerts.slack_webhook (`integ config set alerts.slack_webhook`, reads stdin) or alerts.smtp_url, alerts.email_from and alerts.email_to; see README \"Alerts\""));
    }
    let results = send_test(ctx, &channels, &wanted).await?;
    let mut failed = false;
    for (name, r) in &results {
        match r {
            Ok(()) => ctx.ui.success(format!("{name}: test message sent")),
            Err(e) => {
                failed = true;
                ctx.ui.warn(format!("{name}: not sent: {e}"));
            }
        }
    }
    if ctx.ui.json {
        let v: Vec<_> = results
            .iter()
            .map(|(n, r)| serde_json::json!({"channel": n, "sent": r.is_ok(), "error": r.as_ref().err()}))
            .collect();
        ctx.ui.json_value(&serde_json::Value::Array(v))?;
    }
    Ok(if failed { Done::With(Kind::Failure) } else { Done::Ok })
}

/// Send the test message on each channel of `wanted` (also used by `doctor --send`).
pub(super) async fn send_test(
    ctx: &mut Context,
    channels: &Channels,
    wanted: &[&str],
) -> Result<Vec<(String, std::result::Result<(), String>)>> {
    let http = ctx.http_client()?;
    let m = alerts::message::test(&ctx.clock.stamp());
    let mut out = Vec::new();
    for name in wanted {
        let deadline = std::time::Instant::now() + alerts::CHANNEL_DEADLINE;
        out.push((name.to_string(), channels.send(name, &m, &http, ctx.now(), deadline).await));
    }
    Ok(out)
}

#[derive(Debug, serde::Serialize)]
struct Listed {
    alerts: Vec<AlertRow>,
    waiting: Vec<store::OutboxRow>,
}

impl Listing for Listed {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["STATE", "ACCOUNT", "CONDITION", "SINCE", "LAST SENT", "DETAIL"]);
        for a in &self.alerts {
            let state = match &a.cleared_at {
                Some(at) => format!("cleared {at}"),
                None => "open".into(),
            };
            let condition =
                if a.stream.is_empty() { a.condition.clone() } else { format!("{} ({})", a.condition, a.stream) };
            t.add_row(vec![
                state,
                if a.account.is_empty() { "-".into() } else { a.account.clone() },
                condition,
                a.since.clone(),
                a.last_sent_at.clone().unwrap_or_else(|| "-".into()),
                format!("{}\nfix: {}", a.detail, a.fix),
            ]);
        }
        for w in &self.waiting {
            t.add_row(vec![
                "waiting".into(),
                w.channel.clone(),
                w.kind.clone(),
                w.created_at.clone(),
                format!("{} tries", w.attempts),
                format!("{}\n{}", w.subject, w.last_error.as_deref().unwrap_or("")),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        (self.alerts.is_empty() && self.waiting.is_empty())
            .then(|| "No open alerts, none cleared in the last 7 days, and no message waiting.".to_string())
    }
}

fn list(ctx: &mut Context) -> Result<Done> {
    let week_ago = ctx.now().checked_sub(jiff::SignedDuration::from_hours(7 * 24)).unwrap_or(ctx.now());
    let listed = match ctx.existing_db()? {
        Some(db) => {
            Listed { alerts: store::recent(db, &crate::time::timestamp(week_ago), 500)?, waiting: store::pending(db)? }
        }
        None => Listed { alerts: Vec::new(), waiting: Vec::new() },
    };
    ctx.ui.data(&listed)?;
    Ok(Done::Ok)
}
