//! All settings after layering: defaults → `config.toml` → environment, each value checked
//! against its key's rule and remembered with where it came from.
//!
//! The typed getters ([`Settings::count`], [`Settings::secret_store`], ...) read values the
//! way [`check`] validated them, so a value that loads is one every caller can use; a bad one
//! stops the run before anything starts, naming the key, its source and where to fix it.

use std::collections::BTreeMap;

use super::file::{flatten, read_config_file};
use super::keys::{Check, KEYS, KeyDef, check, key_def};
use super::{Env, Paths};
use crate::error::{Error, Result};
use crate::provider::Provider;
use crate::store::secrets::{KeyringBackend, StoreKind};

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
            Some("database") => StoreKind::Database,
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

/// The settings the sync engine reads, typed once into a view per stream family. Their
/// defaults live only in the key table (`keys.rs`), which always gives these keys a value.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub jobber: JobberSettings,
    pub events: EventsSettings,
    /// `google.rate_limit`: the pace of one Google account's requests.
    pub google_rate: crate::http::RateLimit,
    /// `microsoft.rate_limit`: the pace of one mailbox's requests.
    pub microsoft_rate: crate::http::RateLimit,
}

impl SyncSettings {
    /// The pace of one account's requests to `provider`, where the provider counts them per
    /// user or mailbox (Google, Microsoft); `None` for the others (Jobber is paced by its cost
    /// budget, Calendly by its rate-limit headers).
    pub fn rate_limit(&self, provider: crate::provider::Provider) -> Option<crate::http::RateLimit> {
        use crate::provider::Provider;
        match provider {
            Provider::Google => Some(self.google_rate),
            Provider::Microsoft => Some(self.microsoft_rate),
            Provider::Jobber | Provider::Calendly => None,
        }
    }
}

/// `jobber.*`: the Jobber streams.
#[derive(Debug, Clone)]
pub struct JobberSettings {
    /// A full sweep runs on its own when the last one is older than this.
    pub sweep_days: u32,
    /// How far below the saved watermark an incremental scan goes.
    pub overlap_minutes: u32,
    pub graphql_version: String,
}

/// `events.*`: the calendar streams' sync window.
#[derive(Debug, Clone)]
pub struct EventsSettings {
    pub past_days: u32,
    pub future_days: u32,
}

impl Settings {
    /// The sync engine's settings (validated, bounded counts; see [`Check::Count`]).
    pub fn sync(&self) -> Result<SyncSettings> {
        let count = |key: &str| {
            self.count(key).ok_or_else(|| Error::config(format!("{key} has no value")).hint(format!("set {key}")))
        };
        Ok(SyncSettings {
            jobber: JobberSettings {
                sweep_days: count("jobber.sweep_days")?,
                overlap_minutes: count("jobber.overlap_minutes")?,
                graphql_version: self.get("jobber.graphql_version").unwrap_or_default().to_string(),
            },
            events: EventsSettings { past_days: count("events.past_days")?, future_days: count("events.future_days")? },
            google_rate: self.rate("google.rate_limit")?,
            microsoft_rate: self.rate("microsoft.rate_limit")?,
        })
    }

    /// A `*.rate_limit` setting (validated when the settings were read; defaults in the key
    /// table).
    fn rate(&self, key: &str) -> Result<crate::http::RateLimit> {
        let value = self.get(key).unwrap_or_default();
        let (requests, secs) = super::keys::parse_rate(value)
            .ok_or_else(|| Error::config(format!("{key} '{value}' is not a rate")).hint("for example 500/60s"))?;
        Ok(crate::http::RateLimit { requests, window: std::time::Duration::from_secs(u64::from(secs)) })
    }

    /// [`SyncSettings::rate_limit`], for a command outside the sync (`integ push`).
    pub fn rate_limit(&self, provider: crate::provider::Provider) -> Result<Option<crate::http::RateLimit>> {
        Ok(self.sync()?.rate_limit(provider))
    }
}

/// The alert settings, typed once (defaults in the key table). The channel secrets (webhook,
/// bot token, SMTP password) are not here: they come from the environment or the secret store.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub after_failures: u32,
    pub stale_hours: u32,
    /// Local (hour, minute) of the daily summary; `None`: no summary.
    pub daily_summary: Option<(i8, i8)>,
    /// `google.app_status = testing`: Google refresh tokens die 7 days after consent.
    pub google_testing: bool,
    pub slack_channel: Option<String>,
    pub slack_api_url: String,
    pub smtp_url: Option<String>,
    pub smtp_ca_file: Option<String>,
    pub email_to: Vec<String>,
    pub email_from: Option<String>,
}

impl Settings {
    /// The alert settings (validated when loaded; see [`Check`]).
    pub fn alerts(&self) -> Result<AlertSettings> {
        let count = |key: &str| {
            self.count(key).ok_or_else(|| Error::config(format!("{key} has no value")).hint(format!("set {key}")))
        };
        let text = |key: &str| self.get(key).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        Ok(AlertSettings {
            after_failures: count("alerts.after_failures")?,
            stale_hours: count("alerts.stale_hours")?,
            daily_summary: self.get("alerts.daily_summary").and_then(super::keys::time_of_day),
            google_testing: self.get("google.app_status") == Some("testing"),
            slack_channel: text("alerts.slack_channel"),
            slack_api_url: self.get("alerts.slack_api_url").unwrap_or_default().to_string(),
            smtp_url: text("alerts.smtp_url"),
            smtp_ca_file: text("alerts.smtp_ca_file"),
            email_to: self
                .get("alerts.email_to")
                .map(|v| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
            email_from: text("alerts.email_from"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JOBBER_GRAPHQL_VERSION;

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
