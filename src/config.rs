//! Paths and settings, layered defaults → `config.toml` → environment.
//!
//! Every setting is described once in [`KEYS`]: its dotted key in config.toml, the environment
//! variable that overrides it, its default and whether it is a secret. Secrets (client secrets)
//! are never read from or written to config.toml: they come from the environment or the secret
//! store. Commands never read environment variables themselves; they get an [`Env`] snapshot
//! through the context, which is what makes tests hermetic.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::store::secrets::{KeyringBackend, StoreKind};

/// A snapshot of the process environment (or a test's made-up one).
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect())
    }
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Env(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
    /// A variable's value; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Where integ keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `INTEG_HOME` when set: everything lives in that one folder.
    pub home: Option<PathBuf>,
    pub config_file: PathBuf,
    pub db_file: PathBuf,
    pub secrets_file: PathBuf,
    pub lock_dir: PathBuf,
}

impl Paths {
    pub fn resolve(env: &Env) -> Result<Paths> {
        if let Some(home) = env.get("INTEG_HOME") {
            let home = absolute(Path::new(home))?;
            return Ok(Paths {
                config_file: home.join("config.toml"),
                db_file: home.join("integ.db"),
                secrets_file: home.join("secrets.enc"),
                lock_dir: home.join("locks"),
                home: Some(home),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "integ").ok_or_else(|| {
            Error::config("cannot find a home folder for integ's files")
                .hint("set INTEG_HOME to a folder integ may use")
        })?;
        let data = dirs.data_dir().to_path_buf();
        let state = dirs.state_dir().map(Path::to_path_buf).unwrap_or_else(|| data.clone());
        Ok(Paths {
            home: None,
            config_file: dirs.config_dir().join("config.toml"),
            db_file: data.join("integ.db"),
            secrets_file: data.join("secrets.enc"),
            lock_dir: state.join("locks"),
        })
    }

    /// Refuse folders and a config file that another user owns or may write to (exit 2, the
    /// fix in the hint). Missing ones are fine: integ creates them private.
    pub fn check_private(&self) -> Result<()> {
        for dir in self.folders() {
            crate::store::fs::check_private_dir(dir)?;
        }
        crate::store::fs::check_private_file(&self.config_file)
    }

    /// Every folder integ keeps files in (the same folder once however many roles it has).
    pub fn folders(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        let candidates = [
            self.home.as_deref(),
            self.config_file.parent(),
            self.db_file.parent(),
            self.secrets_file.parent(),
            self.lock_dir.parent(),
            Some(self.lock_dir.as_path()),
        ];
        for dir in candidates.into_iter().flatten() {
            if !dir.as_os_str().is_empty() && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }

    /// The lock file for one name (a connection's refresh, a sync run, ...).
    pub fn lock_file(&self, name: &str) -> PathBuf {
        self.lock_dir.join(format!("{name}.lock"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::config(format!("INTEG_HOME {} is not usable", p.display())).cause(e))
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Source {
    Default,
    ConfigFile,
    Env(String),
    SecretStore,
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ConfigFile => f.write_str("config.toml"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::SecretStore => f.write_str("secret store"),
            Source::Unset => f.write_str("unset"),
        }
    }
}

/// How a setting's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Text,
    /// An endpoint: https, or plain http only for loopback hosts.
    Url,
    /// A loopback redirect URI with a path.
    RedirectUri,
    OneOf(&'static [&'static str]),
    Date,
    /// A whole number from 1 to the given bound, which fits a u32 (what [`Settings::count`]
    /// reads), so every use can widen it and multiply without overflow.
    Count(u32),
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    pub key: &'static str,
    pub env: Option<&'static str>,
    pub default: Option<&'static str>,
    pub secret: bool,
    pub check: Check,
    pub help: &'static str,
}

const fn key(
    key: &'static str,
    env: Option<&'static str>,
    default: Option<&'static str>,
    check: Check,
    help: &'static str,
) -> KeyDef {
    KeyDef { key, env, default, secret: false, check, help }
}

const fn secret(key: &'static str, env: &'static str, help: &'static str) -> KeyDef {
    KeyDef { key, env: Some(env), default: None, secret: true, check: Check::Text, help }
}

/// The Jobber GraphQL API version integ speaks. Jobber serves a version for at least 12 and at
/// most 18 months and silently serves the oldest supported one after that, so this is a recent
/// version named in jobber.md (2026-05-12), not the 2025 example.
pub const JOBBER_GRAPHQL_VERSION: &str = "2026-05-12";

/// Bounds of the count settings: generous, but far from where days × 86,400 or a timestamp
/// window could overflow.
pub const MAX_WINDOW_DAYS: u32 = 36_525;
pub const MAX_SWEEP_DAYS: u32 = 3_650;
pub const MAX_OVERLAP_MINUTES: u32 = 30 * 24 * 60;

/// Every setting integ knows. `integ config list` prints them in this order.
pub const KEYS: &[KeyDef] = &[
    key(
        "secret_store",
        Some("INTEG_SECRET_STORE"),
        Some("keyring"),
        Check::OneOf(&["keyring", "file"]),
        "where tokens and client secrets are kept: the OS keyring, or an encrypted file",
    ),
    key(
        "keyring_backend",
        Some("INTEG_KEYRING_BACKEND"),
        Some("default"),
        Check::OneOf(&["default", "secret-service", "keyutils"]),
        "which OS keyring on Linux: Secret Service (default) or kernel keyutils",
    ),
    key(
        "keyring_service",
        Some("INTEG_KEYRING_SERVICE"),
        Some("integ"),
        Check::Text,
        "service name of integ's keyring entries",
    ),
    key(
        "secret_key_file",
        Some("INTEG_SECRET_KEY_FILE"),
        None,
        Check::Text,
        "file holding the passphrase of the encrypted file store (instead of INTEG_SECRET_KEY)",
    ),
    secret("secret_key", "INTEG_SECRET_KEY", "passphrase of the encrypted file store (environment only)"),
    key("jobber.client_id", Some("JOBBER_CLIENT_ID"), None, Check::Text, "Jobber app client id"),
    secret("jobber.client_secret", "JOBBER_CLIENT_SECRET", "Jobber app client secret"),
    key(
        "jobber.redirect_uri",
        Some("JOBBER_REDIRECT_URI"),
        Some("http://localhost:47620/callback/jobber"),
        Check::RedirectUri,
        "the OAuth Callback URL registered on the Jobber app (exact match)",
    ),
    key(
        "jobber.auth_url",
        Some("INTEG_JOBBER_AUTH_URL"),
        Some("https://api.getjobber.com/api/oauth/authorize"),
        Check::Url,
        "Jobber authorization endpoint",
    ),
    key(
        "jobber.token_url",
        Some("INTEG_JOBBER_TOKEN_URL"),
        Some("https://api.getjobber.com/api/oauth/token"),
        Check::Url,
        "Jobber token endpoint",
    ),
    key(
        "jobber.revoke_url",
        Some("INTEG_JOBBER_REVOKE_URL"),
        None,
        Check::Url,
        "unused: Jobber disconnects through the appDisconnect mutation",
    ),
    key(
        "jobber.api_url",
        Some("INTEG_JOBBER_API_URL"),
        Some("https://api.getjobber.com/api/graphql"),
        Check::Url,
        "Jobber GraphQL endpoint",
    ),
    key(
        "jobber.graphql_version",
        Some("INTEG_JOBBER_GRAPHQL_VERSION"),
        Some(JOBBER_GRAPHQL_VERSION),
        Check::Date,
        "X-JOBBER-GRAPHQL-VERSION sent with every Jobber request",
    ),
    key(
        "jobber.pkce",
        Some("INTEG_JOBBER_PKCE"),
        Some("on"),
        Check::OneOf(&["on", "off"]),
        "send PKCE S256 to Jobber (undocumented there; servers ignore unknown parameters)",
    ),
    key(
        "jobber.overlap_minutes",
        Some("INTEG_JOBBER_OVERLAP_MINUTES"),
        Some("60"),
        Check::Count(MAX_OVERLAP_MINUTES),
        "how far below the last watermark an incremental jobs scan reaches (at most 30 days)",
    ),
    key(
        "jobber.sweep_days",
        Some("INTEG_JOBBER_SWEEP_DAYS"),
        Some("7"),
        Check::Count(MAX_SWEEP_DAYS),
        "a full jobs sweep (which finds deleted jobs) runs on its own after this many days (at most 3650)",
    ),
    key("google.client_id", Some("GOOGLE_CLIENT_ID"), None, Check::Text, "Google Desktop-app client id"),
    secret("google.client_secret", "GOOGLE_CLIENT_SECRET", "Google Desktop-app client secret"),
    key(
        "events.past_days",
        Some("INTEG_EVENTS_PAST_DAYS"),
        Some("30"),
        Check::Count(MAX_WINDOW_DAYS),
        "the sync window reaches this many days back (at most 36525, a century)",
    ),
    key(
        "events.future_days",
        Some("INTEG_EVENTS_FUTURE_DAYS"),
        Some("365"),
        Check::Count(MAX_WINDOW_DAYS),
        "the sync window reaches this many days ahead (at most 36525, a century)",
    ),
    key(
        "google.app_status",
        Some("INTEG_GOOGLE_APP_STATUS"),
        Some("production"),
        Check::OneOf(&["production", "testing"]),
        "publishing status of the Google app; Testing apps lose refresh tokens after 7 days",
    ),
    key(
        "google.auth_url",
        Some("INTEG_GOOGLE_AUTH_URL"),
        Some("https://accounts.google.com/o/oauth2/v2/auth"),
        Check::Url,
        "Google authorization endpoint",
    ),
    key(
        "google.token_url",
        Some("INTEG_GOOGLE_TOKEN_URL"),
        Some("https://oauth2.googleapis.com/token"),
        Check::Url,
        "Google token endpoint",
    ),
    key(
        "google.revoke_url",
        Some("INTEG_GOOGLE_REVOKE_URL"),
        Some("https://oauth2.googleapis.com/revoke"),
        Check::Url,
        "Google revocation endpoint",
    ),
    key(
        "google.api_url",
        Some("INTEG_GOOGLE_API_URL"),
        Some("https://www.googleapis.com"),
        Check::Url,
        "Google API base (calendar/v3, oauth2/v3/userinfo)",
    ),
    key(
        "google.scopes",
        Some("INTEG_GOOGLE_SCOPES"),
        Some("openid email https://www.googleapis.com/auth/calendar.readonly"),
        Check::Text,
        "space-separated Google scopes",
    ),
    key(
        "microsoft.client_id",
        Some("MICROSOFT_CLIENT_ID"),
        None,
        Check::Text,
        "Microsoft Entra app (client) id, registered as 'Mobile and desktop applications'",
    ),
    key(
        "microsoft.tenant_id",
        Some("MICROSOFT_TENANT_ID"),
        Some("common"),
        Check::Text,
        "Microsoft tenant: common, organizations, consumers or a tenant id",
    ),
    key(
        "microsoft.redirect_uri",
        Some("MICROSOFT_REDIRECT_URI"),
        Some("http://localhost/callback/microsoft"),
        Check::RedirectUri,
        "redirect URI registered on the Entra app (the port is ignored by Microsoft)",
    ),
    key(
        "microsoft.auth_url",
        Some("INTEG_MICROSOFT_AUTH_URL"),
        Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
        Check::Url,
        "Microsoft authorization endpoint ({tenant} is replaced)",
    ),
    key(
        "microsoft.token_url",
        Some("INTEG_MICROSOFT_TOKEN_URL"),
        Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        Check::Url,
        "Microsoft token endpoint ({tenant} is replaced)",
    ),
    key(
        "microsoft.revoke_url",
        Some("INTEG_MICROSOFT_REVOKE_URL"),
        None,
        Check::Url,
        "unused: Microsoft has no revocation endpoint",
    ),
    key(
        "microsoft.api_url",
        Some("INTEG_MICROSOFT_API_URL"),
        Some("https://graph.microsoft.com/v1.0"),
        Check::Url,
        "Microsoft Graph base",
    ),
    key(
        "microsoft.scopes",
        Some("INTEG_MICROSOFT_SCOPES"),
        Some("offline_access openid profile email User.Read Calendars.Read"),
        Check::Text,
        "space-separated Microsoft scopes",
    ),
    key("calendly.client_id", Some("CALENDLY_CLIENT_ID"), None, Check::Text, "Calendly OAuth app client id"),
    secret("calendly.client_secret", "CALENDLY_CLIENT_SECRET", "Calendly OAuth app client secret (web apps)"),
    key(
        "calendly.redirect_uri",
        Some("CALENDLY_REDIRECT_URI"),
        Some("http://localhost:47621/callback/calendly"),
        Check::RedirectUri,
        "redirect URI registered on the Calendly app (exact match; Sandbox apps only)",
    ),
    key(
        "calendly.auth_url",
        Some("INTEG_CALENDLY_AUTH_URL"),
        Some("https://auth.calendly.com/oauth/authorize"),
        Check::Url,
        "Calendly authorization endpoint",
    ),
    key(
        "calendly.token_url",
        Some("INTEG_CALENDLY_TOKEN_URL"),
        Some("https://auth.calendly.com/oauth/token"),
        Check::Url,
        "Calendly token endpoint",
    ),
    key(
        "calendly.revoke_url",
        Some("INTEG_CALENDLY_REVOKE_URL"),
        Some("https://auth.calendly.com/oauth/revoke"),
        Check::Url,
        "Calendly revocation endpoint",
    ),
    key(
        "calendly.api_url",
        Some("INTEG_CALENDLY_API_URL"),
        Some("https://api.calendly.com"),
        Check::Url,
        "Calendly API base",
    ),
    key(
        "calendly.scopes",
        Some("INTEG_CALENDLY_SCOPES"),
        Some("users:read scheduled_events:read"),
        Check::Text,
        "space-separated Calendly scopes",
    ),
];

/// Look a key up in [`KEYS`].
pub fn key_def(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.key == name)
}

/// A resolved, non-secret value and its origin.
#[derive(Debug, Clone)]
pub struct Value {
    pub value: Option<String>,
    pub source: Source,
}

/// All settings after layering.
#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<&'static str, Value>,
    /// Whether config.toml existed.
    pub config_found: bool,
}

impl Settings {
    /// Layer defaults → config.toml → environment and validate the result.
    pub fn load(paths: &Paths, env: &Env) -> Result<Settings> {
        let (table, config_found) = read_config_file(&paths.config_file)?;
        Self::from_layers(&table, config_found, env)
    }

    pub fn from_layers(table: &toml::Table, config_found: bool, env: &Env) -> Result<Settings> {
        let file_values = flatten(table);
        for name in file_values.keys() {
            match key_def(name) {
                None => {
                    return Err(Error::config(format!("config.toml has an unknown setting '{name}'"))
                        .hint("remove it, or see `integ config list` for the settings integ knows"));
                }
                Some(def) if def.secret => {
                    return Err(Error::config(format!("config.toml holds the secret '{name}' in plain text")).hint(
                        format!(
                            "remove it from config.toml and store it with `integ config set {name}` (reads stdin){}",
                            def.env.map(|e| format!(", or set {e}")).unwrap_or_default()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let mut values = BTreeMap::new();
        for def in KEYS.iter().filter(|d| !d.secret) {
            let mut v = Value { value: def.default.map(str::to_string), source: Source::Default };
            if def.default.is_none() {
                v.source = Source::Unset;
            }
            if let Some(fv) = file_values.get(def.key) {
                v = Value { value: Some(fv.clone()), source: Source::ConfigFile };
            }
            if let Some(name) = def.env
                && let Some(ev) = env.get(name)
            {
                v = Value { value: Some(ev.to_string()), source: Source::Env(name.to_string()) };
            }
            if let Some(value) = &v.value {
                check(def, value).map_err(|why| {
                    Error::config(format!("invalid {} ({}): {why}", def.key, v.source))
                        .hint(format!("fix it in {}", where_to_fix(def, &v.source)))
                })?;
            }
            values.insert(def.key, v);
        }
        Ok(Settings { values, config_found })
    }

    /// A non-secret value, `None` when unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(|v| v.value.as_deref())
    }

    /// A count setting, read the way [`Check::Count`] validated it.
    pub fn count(&self, key: &str) -> Option<u32> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    pub fn value(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn secret_store(&self) -> StoreKind {
        match self.get("secret_store") {
            Some("file") => StoreKind::File,
            _ => StoreKind::Keyring,
        }
    }

    pub fn keyring_backend(&self) -> KeyringBackend {
        match self.get("keyring_backend") {
            Some("secret-service") => KeyringBackend::SecretService,
            Some("keyutils") => KeyringBackend::Keyutils,
            _ => KeyringBackend::Default,
        }
    }

    /// The endpoints (`*_url` settings) that do not have integ's default value: tokens, client
    /// secrets and data go wherever they say, so `status` and `doctor` point them out.
    pub fn endpoint_overrides(&self) -> Vec<EndpointOverride> {
        KEYS.iter()
            .filter(|def| def.check == Check::Url)
            .filter_map(|def| {
                let v = self.values.get(def.key)?;
                let value = v.value.as_deref()?;
                (Some(value) != def.default).then(|| EndpointOverride {
                    key: def.key,
                    // As the URL parser sees it: controls and odd characters come out
                    // percent-encoded, so the value can be printed as it is.
                    value: url::Url::parse(value).map_or_else(|_| value.escape_default().to_string(), String::from),
                    source: v.source.clone(),
                })
            })
            .collect()
    }

    /// A provider setting such as `client_id` or `api_url`.
    pub fn provider(&self, provider: Provider, name: &str) -> Option<&str> {
        self.get(&format!("{}.{name}", provider.name()))
    }
}

/// An endpoint that is not integ's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointOverride {
    pub key: &'static str,
    pub value: String,
    pub source: Source,
}

impl EndpointOverride {
    /// How to go back to the default.
    pub fn undo(&self) -> String {
        match &self.source {
            Source::Env(name) => format!("unset {name}"),
            _ => format!("integ config unset {}", self.key),
        }
    }
}

impl std::fmt::Display for EndpointOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {} ({})", self.key, self.value, self.source)
    }
}

fn where_to_fix(def: &KeyDef, source: &Source) -> String {
    match source {
        Source::Env(name) => format!("the environment variable {name}"),
        Source::ConfigFile => format!("config.toml (`integ config set {} VALUE`)", def.key),
        _ => format!("config.toml or {}", def.env.unwrap_or("the environment")),
    }
}

/// Check one value against its key's rule.
pub fn check(def: &KeyDef, value: &str) -> std::result::Result<(), String> {
    match def.check {
        Check::Text => Ok(()),
        Check::OneOf(options) => {
            if options.contains(&value) {
                Ok(())
            } else {
                Err(format!("'{value}' is not one of {}", options.join(", ")))
            }
        }
        Check::Date => jiff::civil::Date::strptime("%Y-%m-%d", value)
            .map(|_| ())
            .map_err(|_| format!("'{value}' is not a date like 2026-05-12")),
        Check::Count(max) => match value.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(()),
            _ => Err(format!("'{value}' is not a whole number from 1 to {max}")),
        },
        Check::Url => check_url(value, false),
        Check::RedirectUri => check_url(value, true),
    }
}

/// https anywhere; plain http only for loopback hosts (RFC 8252 §7.3, RFC 9700 §4.1).
fn check_url(value: &str, redirect: bool) -> std::result::Result<(), String> {
    // `{tenant}` in the Microsoft defaults is replaced later; braces are fine in a path.
    let url = url::Url::parse(value).map_err(|e| format!("'{value}' is not a URL ({e})"))?;
    let loopback = url.host().is_some_and(|h| match h {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    });
    if redirect {
        if url.scheme() != "http" || !loopback {
            return Err(format!(
                "'{value}' must be a plain-http loopback address such as http://localhost:47620/callback, \
                 where integ's listener can receive the redirect"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("'{value}' must not have a query or fragment"));
        }
        return Ok(());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!("'{value}' uses plain http to a non-loopback host; use https")),
        other => Err(format!("'{value}' has scheme '{other}'; use https")),
    }
}

/// Read config.toml; a missing file is an empty table, and one others may change is refused.
pub fn read_config_file(path: &Path) -> Result<(toml::Table, bool)> {
    crate::store::fs::check_private_file(path)?;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let table = text.parse::<toml::Table>().map_err(|e| {
                Error::config(format!("{} is not valid TOML", path.display()))
                    .cause(e.to_string().trim())
                    .hint("fix the file, or move it aside to start from the defaults")
            })?;
            Ok((table, true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((toml::Table::new(), false)),
        Err(e) => Err(Error::config(format!("cannot read {}", path.display())).cause(e)),
    }
}

/// Flatten `[jobber] client_id = "x"` into `jobber.client_id = "x"`.
fn flatten(table: &toml::Table) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(inner) => {
                for (ik, iv) in inner {
                    out.insert(format!("{k}.{ik}"), scalar(iv));
                }
            }
            other => {
                out.insert(k.clone(), scalar(other));
            }
        }
    }
    out
}

fn scalar(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(items) => items.iter().map(scalar).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

/// Set (or with `None`, remove) a non-secret key in config.toml, written atomically with mode
/// 0600 in a 0700 folder.
pub fn write_config_value(path: &Path, def: &KeyDef, value: Option<&str>) -> Result<()> {
    let (mut table, _) = read_config_file(path)?;
    let (section, name) = match def.key.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, def.key),
    };
    let target = match section {
        Some(s) => {
            let entry = table.entry(s.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => t,
                _ => return Err(Error::config(format!("config.toml: '{s}' must be a table"))),
            }
        }
        None => &mut table,
    };
    match value {
        Some(v) => {
            target.insert(name.to_string(), toml::Value::String(v.to_string()));
        }
        None => {
            target.remove(name);
        }
    }
    table.retain(|_, v| !matches!(v, toml::Value::Table(t) if t.is_empty()));
    let text = toml::to_string_pretty(&table).map_err(|e| Error::failure("cannot encode config.toml").cause(e))?;
    crate::store::fs::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str, env: &[(&str, &str)]) -> Result<Settings> {
        let table: toml::Table = toml_text.parse().expect("test TOML");
        Settings::from_layers(&table, true, &Env::from_pairs(env.iter().copied()))
    }

    #[test]
    fn defaults_then_file_then_env() {
        let s = settings("", &[]).unwrap();
        assert_eq!(s.get("jobber.graphql_version"), Some(JOBBER_GRAPHQL_VERSION));
        assert_eq!(s.value("jobber.client_id").unwrap().source, Source::Unset);

        let s = settings("[jobber]\nclient_id = \"from-file\"\n", &[]).unwrap();
        assert_eq!(s.get("jobber.client_id"), Some("from-file"));
        assert_eq!(s.value("jobber.client_id").unwrap().source, Source::ConfigFile);

        let s = settings("[jobber]\nclient_id = \"from-file\"\n", &[("JOBBER_CLIENT_ID", "from-env")]).unwrap();
        assert_eq!(s.get("jobber.client_id"), Some("from-env"));
        assert_eq!(s.value("jobber.client_id").unwrap().source, Source::Env("JOBBER_CLIENT_ID".into()));
    }

    #[test]
    fn empty_env_var_counts_as_unset() {
        let s = settings("secret_store = \"file\"\n", &[("INTEG_SECRET_STORE", "")]).unwrap();
        assert_eq!(s.secret_store(), StoreKind::File);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in ["http://127.0.0.1:9/x", "http://localhost:1/t", "http://[::1]:5/", "https://example.com/t"] {
            settings("", &[("INTEG_JOBBER_TOKEN_URL", ok)]).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let err = settings("", &[("INTEG_JOBBER_TOKEN_URL", "http://example.com/token")]).unwrap_err();
        assert_eq!(err.kind, crate::error::Kind::Config);
        assert!(err.message.contains("jobber.token_url"), "{}", err.message);
        assert!(err.hint.unwrap().contains("INTEG_JOBBER_TOKEN_URL"));
        let err = settings("[google]\napi_url = \"ftp://x\"\n", &[]).unwrap_err();
        assert!(err.hint.unwrap().contains("config.toml"));
    }

    #[test]
    fn redirect_uri_must_be_loopback_http() {
        settings("", &[("JOBBER_REDIRECT_URI", "http://localhost:8888/callback")]).unwrap();
        assert!(settings("", &[("JOBBER_REDIRECT_URI", "https://localhost:8888/cb")]).is_err());
        assert!(settings("", &[("CALENDLY_REDIRECT_URI", "http://10.0.0.1:8888/cb")]).is_err());
    }

    #[test]
    fn secrets_and_unknown_keys_in_file_are_refused() {
        let err = settings("[jobber]\nclient_secret = \"s3cr3t\"\n", &[]).unwrap_err();
        assert!(err.message.contains("jobber.client_secret"));
        assert!(!err.message.contains("s3cr3t") && !err.hint.as_deref().unwrap_or("").contains("s3cr3t"));
        assert!(settings("colour = \"red\"\n", &[]).is_err());
    }

    #[test]
    fn counts_are_bounded_to_what_their_users_can_hold() {
        // Each count setting is read as a u32 and multiplied into seconds: a value past what
        // that holds used to pass validation and be ignored (u32) or overflow (× 86,400).
        for (var, key) in [
            ("INTEG_EVENTS_PAST_DAYS", "events.past_days"),
            ("INTEG_EVENTS_FUTURE_DAYS", "events.future_days"),
            ("INTEG_JOBBER_SWEEP_DAYS", "jobber.sweep_days"),
            ("INTEG_JOBBER_OVERLAP_MINUTES", "jobber.overlap_minutes"),
        ] {
            for bad in ["4294967296", "300000000000000", "18446744073709551615", "0", "-1", "1e3"] {
                let err = settings("", &[(var, bad)]).unwrap_err();
                assert!(err.message.contains(key), "{var}={bad}: {}", err.message);
            }
            let ok = settings("", &[(var, "1")]).unwrap();
            assert_eq!(ok.get(key), Some("1"));
        }
    }

    #[test]
    fn bad_choice_names_options() {
        let err = settings("", &[("INTEG_SECRET_STORE", "plaintext")]).unwrap_err();
        assert!(err.message.contains("keyring, file"), "{}", err.message);
    }

    #[test]
    fn integ_home_puts_everything_in_one_folder() {
        let p = Paths::resolve(&Env::from_pairs([("INTEG_HOME", "/tmp/integ-x")])).unwrap();
        assert_eq!(p.config_file, Path::new("/tmp/integ-x/config.toml"));
        assert_eq!(p.db_file, Path::new("/tmp/integ-x/integ.db"));
        assert_eq!(p.lock_dir, Path::new("/tmp/integ-x/locks"));
    }

    #[test]
    fn config_writes_round_trip_and_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        write_config_value(&path, key_def("jobber.client_id").unwrap(), Some("abc")).unwrap();
        write_config_value(&path, key_def("secret_store").unwrap(), Some("file")).unwrap();
        let (t, found) = read_config_file(&path).unwrap();
        assert!(found);
        let s = Settings::from_layers(&t, true, &Env::default()).unwrap();
        assert_eq!(s.get("jobber.client_id"), Some("abc"));
        assert_eq!(s.secret_store(), StoreKind::File);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        write_config_value(&path, key_def("jobber.client_id").unwrap(), None).unwrap();
        let (t, _) = read_config_file(&path).unwrap();
        assert!(!t.contains_key("jobber"));
    }

    #[test]
    fn only_moved_endpoints_are_overrides() {
        let s = settings("", &[]).unwrap();
        assert!(s.endpoint_overrides().is_empty());
        let s = settings(
            "[calendly]\napi_url = \"https://api.calendly.com\"\n[google]\napi_url = \"https://g.example\"\n",
            &[("INTEG_MICROSOFT_REVOKE_URL", "https://revoke.example"), ("JOBBER_CLIENT_ID", "x")],
        )
        .unwrap();
        let keys: Vec<&str> = s.endpoint_overrides().iter().map(|o| o.key).collect();
        assert_eq!(keys, ["google.api_url", "microsoft.revoke_url"]);
    }

    proptest::proptest! {
        #[test]
        fn any_value_of_any_key_is_checked_without_panicking(index in 0..KEYS.len(), value in "\\PC{0,60}") {
            let _ = check(&KEYS[index], &value);
        }

        #[test]
        fn any_config_text_loads_without_panicking(text in "(\\[[a-z_.]{0,12}\\]\n)?([a-z_.]{1,20} = (\"\\PC{0,20}\"|[0-9]{1,30}|true|\\[\\]|\\{\\})\n){0,4}") {
            if let Ok(table) = text.parse::<toml::Table>() {
                let _ = Settings::from_layers(&table, true, &Env::default());
            }
        }

        #[test]
        fn any_environment_value_loads_without_panicking(index in 0..KEYS.len(), value in "\\PC{0,60}") {
            if let Some(var) = KEYS[index].env {
                let _ = Settings::from_layers(&toml::Table::new(), false, &Env::from_pairs([(var, value.as_str())]));
            }
        }

        #[test]
        fn any_home_resolves_without_panicking(home in "\\PC{0,80}") {
            let _ = Paths::resolve(&Env::from_pairs([("INTEG_HOME", home.as_str())]));
        }

        #[test]
        fn any_config_file_reads_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.toml");
            std::fs::write(&path, &bytes).unwrap();
            let _ = read_config_file(&path);
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

            /// Any value of a count setting is refused or read back as the same u32 in range.
            #[test]
            fn count_values_are_refused_or_read_consistently(
                value in prop_oneof![any::<u64>().prop_map(|n| n.to_string()), any::<i64>().prop_map(|n| n.to_string()),
                                     "[ -~]{0,12}"],
            ) {
                for def in KEYS.iter().filter(|d| matches!(d.check, Check::Count(_))) {
                    let Check::Count(max) = def.check else { unreachable!() };
                    let env = Env::from_pairs([(def.env.unwrap(), value.as_str())]);
                    match Settings::from_layers(&toml::Table::new(), false, &env) {
                        Ok(s) => {
                            let n = s.count(def.key);
                            prop_assert!(n.is_some_and(|n| (1..=max).contains(&n)), "{} = {value}: {n:?}", def.key);
                        }
                        Err(e) => prop_assert!(e.message.contains(def.key)),
                    }
                }
            }
        }
    }
}
