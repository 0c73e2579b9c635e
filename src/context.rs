//! The context built once per run: environment snapshot, paths, settings, output, and the
//! expensive things (database, secret store, HTTP client) opened lazily on first use. Commands
//! get everything through it and never read environment variables themselves.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::cli::GlobalArgs;
use crate::config::{Env, Paths, Settings};
use crate::error::{Error, Result};
use crate::providers::Provider;
use crate::store::db::Db;
use crate::store::secrets::{self, SecretSettings, SecretStore, StoreKind};
use crate::time::{Clock, TEST_NOW_VAR};
use crate::ui::Ui;

/// Deadline for each keyring call (an unlock prompt under cron must become an error).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Context {
    pub env: Env,
    pub paths: Paths,
    pub ui: Ui,
    pub global: GlobalArgs,
    /// The run's one clock: every "now" integ uses comes from here.
    pub clock: Clock,
    settings: Option<Result<Settings>>,
    db: Option<Db>,
    secrets: Option<Arc<dyn SecretStore>>,
}

impl Context {
    pub fn new(global: GlobalArgs, env: Env) -> Result<Context> {
        let clock = Clock::from_setting(env.get(TEST_NOW_VAR))
            .map_err(|e| Error::config(e).hint(format!("unset {TEST_NOW_VAR}: it is only for tests")))?;
        let ui = Ui::new(&global, &env, clock);
        let paths = Paths::resolve(&env)?;
        Ok(Context { env, paths, ui, global, clock, settings: None, db: None, secrets: None })
    }

    /// The layered settings; a broken config.toml or environment is a configuration error.
    pub fn settings(&mut self) -> Result<&Settings> {
        self.settings.get_or_insert_with(|| Settings::load(&self.paths, &self.env)).as_ref().map_err(Error::clone)
    }

    /// The database, opened (and migrated) on first use.
    pub fn db(&mut self) -> Result<&mut Db> {
        if self.db.is_none() {
            self.db = Some(Db::open(&self.paths.db_file)?);
        }
        Ok(self.db.as_mut().expect("opened just above"))
    }

    /// The database only if it already exists (read-only commands on a fresh home create
    /// nothing).
    pub fn existing_db(&mut self) -> Result<Option<&mut Db>> {
        if self.db.is_none() && !self.paths.db_file.exists() {
            return Ok(None);
        }
        self.db().map(Some)
    }

    /// What the secret store needs, from settings and environment.
    pub fn secret_settings(&mut self) -> Result<SecretSettings> {
        let settings = self.settings()?.clone();
        let kind = settings.secret_store();
        let (key, key_source) = match (self.env.get("INTEG_SECRET_KEY"), settings.get("secret_key_file")) {
            (Some(k), _) => (Some(SecretString::from(k.to_string())), "INTEG_SECRET_KEY".to_string()),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    Error::config(format!("cannot read the secret key file {file}"))
                        .cause(e)
                        .hint("fix `secret_key_file` in config.toml or INTEG_SECRET_KEY_FILE")
                })?;
                (Some(SecretString::from(text.trim_end_matches(['\n', '\r']).to_string())), format!("key file {file}"))
            }
            (None, None) => (None, "none".to_string()),
        };
        Ok(SecretSettings {
            kind,
            keyring_backend: settings.keyring_backend(),
            service: settings.get("keyring_service").unwrap_or("integ").to_string(),
            file_path: self.paths.secrets_file.clone(),
            lock_path: self.paths.lock_file("secrets"),
            key,
            key_source,
            timeout: KEYRING_TIMEOUT,
        })
    }

    /// The secret store, opened on first use.
    pub fn secrets(&mut self) -> Result<Arc<dyn SecretStore>> {
        if let Some(s) = &self.secrets {
            return Ok(s.clone());
        }
        let ss = self.secret_settings()?;
        if ss.kind == StoreKind::File {
            crate::store::fs::ensure_private_dir(&self.paths.lock_dir)?;
        }
        let store: Arc<dyn SecretStore> = Arc::from(secrets::open(&ss)?);
        self.secrets = Some(store.clone());
        Ok(store)
    }

    /// A provider's client secret: the environment first, then the secret store.
    pub fn client_secret(&mut self, provider: Provider) -> Result<Option<SecretString>> {
        let var = format!("{}_CLIENT_SECRET", provider.env_prefix());
        if let Some(v) = self.env.get(&var) {
            return Ok(Some(SecretString::from(v.to_string())));
        }
        let store = self.secrets()?;
        Ok(store.get(&client_secret_key(provider))?)
    }

    /// The current time, from the run's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// The secret-store key of a provider's client secret.
pub fn client_secret_key(provider: Provider) -> String {
    format!("{}/client_secret", provider.name())
}
