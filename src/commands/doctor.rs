//! `integ doctor`: check everything integ depends on and say, line by line, what is fine and
//! how to fix what is not. Exit 1 when any check fails.

use comfy_table::Table;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

use crate::cli::DoctorArgs;
use crate::context::Context;
use crate::error::{Done, Kind, Result};
use crate::provider::Provider;
use crate::store::connections;
use crate::store::db::{Db, SCHEMA_VERSION};
use crate::store::secrets::{KeyringBackend, StoreKind};
use crate::ui::{Listing, Ui};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, serde::Serialize)]
struct Check {
    level: Level,
    check: String,
    detail: String,
    fix: Option<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Report(Vec<Check>);

impl Listing for Report {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["", "CHECK", "DETAIL", "FIX"]);
        for c in &self.0 {
            let level = match c.level {
                Level::Ok => "OK",
                Level::Warn => "WARN",
                Level::Fail => "FAIL",
            };
            t.add_row(vec![level, &c.check, &c.detail, c.fix.as_deref().unwrap_or("")]);
        }
        t
    }

    /// One line per check, the fix indented under it: long fixes read better than in a table.
    fn human(&self) -> String {
        let width = self.0.iter().map(|c| c.check.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &self.0 {
            let level = match c.level {
                Level::Ok => "OK  ",
                Level::Warn => "WARN",
                Level::Fail => "FAIL",
            };
            out.push_str(&format!("{level}  {:width$}  {}\n", c.check, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("      {:width$}  fix: {fix}\n", ""));
            }
        }
        out.trim_end().to_string()
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn push(&mut self, level: Level, check: &str, detail: impl Into<String>, fix: Option<String>) {
        self.0.push(Check { level, check: check.to_string(), detail: detail.into(), fix });
    }
}

pub async fn run(ctx: &mut Context, args: DoctorArgs) -> Result<Done> {
    let mut c = Checks(Vec::new());
    check_config(ctx, &mut c);
    let settings_ok = ctx.settings().is_ok();
    check_database(ctx, &mut c);
    check_permissions(ctx, &mut c);
    check_endpoints(ctx, &mut c);
    if settings_ok {
        check_secret_store(ctx, &mut c);
        check_credentials(ctx, &mut c);
        check_alerts(ctx, &mut c, args.send).await;
    }
    let failed = c.0.iter().any(|x| x.level == Level::Fail);
    ctx.ui.data(&Report(c.0))?;
    Ok(if failed { Done::With(Kind::Failure) } else { Done::Ok })
}

fn check_config(ctx: &mut Context, c: &mut Checks) {
    let path = ctx.paths.config_file.display().to_string();
    let where_ = match &ctx.paths.home {
        Some(h) => format!("INTEG_HOME {}", h.display()),
        None => "XDG folders".to_string(),
    };
    c.push(Level::Ok, "paths", format!("{where_}; database {}", ctx.paths.db_file.display()), None);
    if ctx.clock.is_pinned() {
        c.push(
            Level::Warn,
            "clock",
            format!("INTEG_TEST_NOW pins the clock: integ thinks it is {}", ctx.clock.stamp()),
            Some("unset INTEG_TEST_NOW; it is for tests only".into()),
        );
    }
    match ctx.settings() {
        Ok(s) if s.config_found => c.push(Level::Ok, "config", format!("{path} is valid"), None),
        Ok(_) => c.push(Level::Ok, "config", format!("no {path}; using defaults and the environment"), None),
        Err(e) => c.push(Level::Fail, "config", e.message.clone(), e.hint.clone()),
    }
}

fn check_database(ctx: &mut Context, c: &mut Checks) {
    match ctx.database_url() {
        Ok(None) => {}
        Ok(Some(url)) => {
            let shown = url.shown().to_string();
            match ctx.db() {
                Ok(db) => {
                    let version = db.schema_version().unwrap_or(-1);
                    c.push(
                        Level::Ok,
                        "database",
                        format!("PostgreSQL {shown} reachable, schema version {version}"),
                        None,
                    );
                }
                Err(e) => c.push(Level::Fail, "database", e.message.clone(), e.hint.clone()),
            }
            return;
        }
        Err(e) => {
            c.push(Level::Fail, "database", e.message.clone(), e.hint.clone());
            return;
        }
    }
    let path = ctx.paths.db_file.clone();
    match Db::open(&path) {
        Ok(db) => {
            let version = db.schema_version().unwrap_or(-1);
            c.push(Level::Ok, "database", format!("{} writable, schema version {version}", path.display()), None);
        }
        Err(e) => {
            let err: crate::error::Error = e.into();
            c.push(
                Level::Fail,
                "database",
                format!("{} (this integ writes schema {SCHEMA_VERSION})", err.message),
                err.hint,
            );
        }
    }
}

fn check_permissions(ctx: &mut Context, c: &mut Checks) {
    use crate::store::fs::{check_private_dir, check_private_file, mode};
    // What integ refuses to use: folders or a config file others own or may change.
    let mut refused = Vec::new();
    let folders = ctx.paths.folders().into_iter().map(|d| (d.to_path_buf(), check_private_dir(d)));
    for (path, result) in folders.chain([(ctx.paths.config_file.clone(), check_private_file(&ctx.paths.config_file))]) {
        if let Err(e) = result {
            c.push(Level::Fail, "permissions", e.message, e.hint);
            refused.push(path);
        }
    }
    let mut files = vec![(ctx.paths.db_file.clone(), 0o600), (ctx.paths.config_file.clone(), 0o600)];
    files.push((ctx.paths.secrets_file.clone(), 0o600));
    if let Some(dir) = ctx.paths.db_file.parent() {
        files.push((dir.to_path_buf(), 0o700));
    }
    let mut wrong = Vec::new();
    for (path, want) in files.into_iter().filter(|(p, _)| !refused.contains(p)) {
        if let Some(m) = mode(&path)
            && m & !want != 0
        {
            wrong.push(format!("{} is {m:o}", path.display()));
        }
    }
    if !wrong.is_empty() {
        c.push(Level::Warn, "permissions", wrong.join("; "), Some("chmod 600 the files and 700 the folder".into()));
    } else if refused.is_empty() {
        c.push(Level::Ok, "permissions", "files 0600, folders 0700", None);
    }
}

/// Endpoints moved away from their defaults send tokens and data elsewhere: fine for a proxy
/// or a test server, worth a look when nobody meant it.
fn check_endpoints(ctx: &mut Context, c: &mut Checks) {
    let Ok(settings) = ctx.settings() else {
        return;
    };
    let moved = settings.endpoint_overrides();
    if moved.is_empty() {
        c.push(Level::Ok, "endpoints", "every provider endpoint is integ's default", None);
        return;
    }
    let detail = moved.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    let undo = moved.iter().map(|m| m.undo()).collect::<Vec<_>>().join("; ");
    c.push(
        Level::Warn,
        "endpoints",
        format!("not the defaults: {detail}"),
        Some(format!("unless you mean to use these servers: {undo}")),
    );
}

fn check_secret_store(ctx: &mut Context, c: &mut Checks) {
    let dbus = ctx.env.get("DBUS_SESSION_BUS_ADDRESS").is_some();
    let ss = match ctx.secret_settings() {
        Ok(ss) => ss,
        Err(e) => {
            c.push(Level::Fail, "secret store", e.message.clone(), e.hint.clone());
            return;
        }
    };
    let uses_secret_service = ss.kind == StoreKind::Keyring
        && matches!(ss.keyring_backend, KeyringBackend::Default | KeyringBackend::SecretService)
        && cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"));
    if cfg!(unix) && !cfg!(target_os = "macos") {
        let (level, fix) = match (dbus, uses_secret_service) {
            (true, _) => (Level::Ok, None),
            (false, true) => (
                Level::Warn,
                Some("cron and SSH sessions have no D-Bus session: use INTEG_SECRET_STORE=file, or export DBUS_SESSION_BUS_ADDRESS".into()),
            ),
            (false, false) => (Level::Ok, None),
        };
        let detail = if dbus { "present (DBUS_SESSION_BUS_ADDRESS)" } else { "absent" };
        c.push(level, "d-bus session", detail, fix);
    }
    let store = match ctx.secrets() {
        Ok(s) => s,
        Err(e) => {
            c.push(Level::Fail, "secret store", e.message.clone(), e.hint.clone());
            return;
        }
    };
    let what = store.describe();
    let probe_key = format!("doctor-probe-{:016x}", rand::thread_rng().r#gen::<u64>());
    let probe_value = SecretString::from(format!("probe-{:032x}", rand::thread_rng().r#gen::<u128>()));
    let result = (|| -> Result<()> {
        store.set(&probe_key, &probe_value)?;
        let back = store.get(&probe_key)?;
        let same = back.as_ref().map(|v| v.expose_secret() == probe_value.expose_secret()).unwrap_or(false);
        store.delete(&probe_key)?;
        if !same {
            return Err(crate::error::Error::failure("the probe read back a different value"));
        }
        if store.get(&probe_key)?.is_some() {
            return Err(crate::error::Error::failure("the probe entry survived its deletion"));
        }
        Ok(())
    })();
    match result {
        Ok(()) => c.push(Level::Ok, "secret store", format!("{what}: write, read and delete probe passed"), None),
        Err(e) => {
            let _ = store.delete(&probe_key);
            c.push(Level::Fail, "secret store", format!("{what}: probe failed: {}", e.message), e.hint);
        }
    }
}

/// Each alert channel's settings, the last failure of one that is failing, and with `--send`
/// a test message (the webhook URL, tokens and passwords are never shown).
async fn check_alerts(ctx: &mut Context, c: &mut Checks, send: bool) {
    let (channels, problems) = match super::alerts::load_channels(ctx) {
        Ok(x) => x,
        Err(e) => {
            c.push(Level::Fail, "alerts", format!("cannot read the channel settings: {}", e.message), e.hint.clone());
            return;
        }
    };
    for p in problems {
        c.push(Level::Fail, "alerts", p, Some("see README \"Alerts\" for the settings each channel needs".into()));
    }
    if let Some(s) = &channels.slack {
        let how = match (&s.webhook, &s.bot) {
            (Some(_), _) => "incoming webhook (URL set, not shown)".to_string(),
            (None, Some((_, channel))) => format!("bot token (set, not shown) posting to {channel}"),
            (None, None) => "nothing".to_string(),
        };
        c.push(Level::Ok, "alerts slack", how, None);
    }
    if let Some(e) = &channels.email {
        let tls = match (e.url.scheme(), e.url.query_pairs().any(|(k, v)| k == "tls" && v == "none")) {
            ("smtps", _) => "TLS",
            (_, true) => "no TLS (loopback)",
            _ => "STARTTLS required",
        };
        let user =
            if e.url.username().is_empty() { "no login".to_string() } else { format!("as {}", e.url.username()) };
        c.push(
            Level::Ok,
            "alerts email",
            format!(
                "{}:{} ({tls}, {user}) from {} to {} recipient(s)",
                e.url.host_str().unwrap_or(""),
                e.url.port().map(|p| p.to_string()).unwrap_or_else(|| "default port".into()),
                e.from,
                e.to.len()
            ),
            None,
        );
    }
    if channels.names().is_empty() {
        c.push(Level::Ok, "alerts", "no channel configured (optional)", None);
        return;
    }
    if let Ok(Some(db)) = ctx.existing_db() {
        for (channel, error, at) in crate::store::alerts::channel_errors(db).unwrap_or_default() {
            c.push(
                Level::Warn,
                &format!("alerts {channel}"),
                format!("the last send failed at {at}: {error}"),
                Some("the message is retried by the next run; `integ doctor --send` tries now".into()),
            );
        }
    }
    if send {
        let names = channels.names();
        match super::alerts::send_test(ctx, &channels, &names).await {
            Ok(results) => {
                for (name, r) in results {
                    match r {
                        Ok(()) => c.push(Level::Ok, &format!("alerts {name} send"), "test message sent", None),
                        Err(e) => c.push(Level::Fail, &format!("alerts {name} send"), e, None),
                    }
                }
            }
            Err(e) => c.push(Level::Fail, "alerts send", e.message.clone(), e.hint.clone()),
        }
    }
}

fn check_credentials(ctx: &mut Context, c: &mut Checks) {
    let connected: Vec<Provider> = match ctx.existing_db() {
        Ok(Some(db)) => connections::list(db, None).unwrap_or_default().into_iter().map(|x| x.provider).collect(),
        _ => Vec::new(),
    };
    for p in Provider::ALL {
        let id = ctx.settings().ok().and_then(|s| s.provider(p, "client_id").map(str::to_string));
        let needs_secret = matches!(p, Provider::Jobber | Provider::Google);
        let secret = if needs_secret || p == Provider::Calendly {
            match ctx.client_secret(p) {
                Ok(s) => Some(s.is_some()),
                Err(_) => None,
            }
        } else {
            Some(false)
        };
        let check = format!("{p} credentials");
        let prefix = p.env_prefix();
        let in_use = connected.contains(&p);
        match (id, secret) {
            (None, _) => c.push(
                if in_use { Level::Fail } else { Level::Warn },
                &check,
                "no client id: this provider cannot be connected",
                Some(format!("set {prefix}_CLIENT_ID (or `integ config set {p}.client_id ID`)")),
            ),
            (Some(_), Some(false)) if needs_secret => c.push(
                if in_use { Level::Fail } else { Level::Warn },
                &check,
                "client id set, client secret missing",
                Some(format!("set {prefix}_CLIENT_SECRET, or pipe it into `integ config set {p}.client_secret`")),
            ),
            (Some(_), None) => c.push(
                Level::Warn,
                &check,
                "client id set; the secret store could not be asked for the client secret",
                None,
            ),
            (Some(_), Some(has_secret)) => {
                let detail = match p {
                    Provider::Microsoft => "client id set (public client: no secret)".to_string(),
                    Provider::Calendly if !has_secret => "client id set, no secret (native app)".to_string(),
                    _ => "client id and secret set".to_string(),
                };
                c.push(Level::Ok, &check, detail, None)
            }
        }
    }
}
