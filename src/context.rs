//! The context built once per run: environment snapshot, paths, settings, output, and the
//! expensive things (database, secret store, HTTP client) opened lazily on first use. Commands
//! get everything through it and never read environment variables themselves.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::cli::GlobalArgs;
use crate::config::{Env, Paths, Settings};
use crate::error::{Error, Result};
use crate::oauth::session::{self, Session, SessionParts};
use crate::oauth::token::GrantKind;
use crate::provider::Provider;
use crate::store::connections::Connection;
use crate::store::db::Db;
use crate::store::secrets::{self, SecretSettings, SecretStore, StoreKind};
use crate::time::{Clock, TEST_NOW_VAR};
use crate::ui::Ui;

/// Deadline for each keyring call (an unlock prompt under cron must become an error).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);

/// A passphrase for the encrypted file store shorter than this gets a warning.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

pub struct Context {
    pub env: Env,
    pub paths: Paths,
    pub ui: Ui,
    pub global: GlobalArgs,
    /// The run's one clock: every "now" integ uses comes from here.
    pub clock: Clock,
    settings: Option<Result<Settings>>,
    db: Option<Db>,
    /// The PostgreSQL session that holds advisory locks (opened on first use).
    lock_session: Option<Arc<crate::store::pg::link::PgLink>>,
    secrets: Option<Arc<dyn SecretStore>>,
    http: Option<reqwest::Client>,
}

impl Context {
    pub fn new(global: GlobalArgs, env: Env) -> Result<Context> {
        let clock = Clock::from_setting(env.get(TEST_NOW_VAR))
            .map_err(|e| Error::config(e).hint(format!("unset {TEST_NOW_VAR}: it is only for tests")))?;
        let ui = Ui::new(&global, &env, clock);
        let paths = Paths::resolve(&env)?;
        Ok(Context {
            env,
            paths,
            ui,
            global,
            clock,
            settings: None,
            db: None,
            lock_session: None,
            secrets: None,
            http: None,
        })
    }

    /// The layered settings; a broken config.toml or environment is a configuration error.
    pub fn settings(&mut self) -> Result<&Settings> {
        self.settings.get_or_insert_with(|| Settings::load(&self.paths, &self.env)).as_ref().map_err(Error::clone)
    }

    /// The database, opened (and migrated) on first use: PostgreSQL when `database_url` /
    /// INTEG_DATABASE_URL names one, else the SQLite file.
    pub fn db(&mut self) -> Result<&mut Db> {
        if self.db.is_none() {
            let db = match self.database_url()? {
                Some(url) => {
                    let password = self.database_password_for(&url)?;
                    Db::open_pg(url, password, &self.clock.stamp())?
                }
                None => Db::open(&self.paths.db_file)?,
            };
            self.db = Some(db);
        }
        Ok(self.db.as_mut().expect("opened just above"))
    }

    /// The database only if it already exists (read-only commands on a fresh home create
    /// nothing). A PostgreSQL database always exists: integ does not create it.
    pub fn existing_db(&mut self) -> Result<Option<&mut Db>> {
        if self.db.is_none() && self.database_url()?.is_none() && !self.paths.db_file.exists() {
            return Ok(None);
        }
        self.db().map(Some)
    }

    /// On PostgreSQL, the session of its own that holds the run's advisory locks (a lock on the
    /// data session would end with any hiccup of it, and must not wait behind its statements).
    pub fn lock_session(&mut self) -> Result<Option<Arc<crate::store::pg::link::PgLink>>> {
        if let Some(link) = &self.lock_session {
            return Ok(Some(link.clone()));
        }
        let Some(url) = self.database_url()? else { return Ok(None) };
        let password = self.database_password_for(&url)?;
        let link = Arc::new(crate::store::pg::link::PgLink::connect(url, password)?);
        self.lock_session = Some(link.clone());
        Ok(Some(link))
    }

    /// The SQLite file, whatever `database_url` says (what `integ db copy` copies from).
    pub fn sqlite_db(&mut self) -> Result<Option<Db>> {
        if !self.paths.db_file.exists() {
            return Ok(None);
        }
        Ok(Some(Db::open(&self.paths.db_file)?))
    }

    /// The PostgreSQL database the data lives in, if `database_url` / INTEG_DATABASE_URL names
    /// one. A password in the URL is taken only from the environment, never from config.toml.
    pub fn database_url(&mut self) -> Result<Option<crate::store::pg::PgUrl>> {
        let from_env = self.env.get("INTEG_DATABASE_URL").is_some_and(|v| !v.is_empty());
        let Some(text) = self.settings()?.get("database_url").filter(|v| !v.is_empty()).map(str::to_string) else {
            return Ok(None);
        };
        let url = crate::store::pg::PgUrl::parse(&text).map_err(|e| {
            let source = if from_env { "INTEG_DATABASE_URL" } else { "database_url in config.toml" };
            let mut err = Error::from(crate::store::pg::PgError::from(e));
            err.message = format!("{source}: {}", err.message);
            err
        })?;
        if url.password.is_some() && !from_env {
            return Err(Error::config("database_url in config.toml holds a password").hint(
                "remove it from the URL and give it with INTEG_DATABASE_PASSWORD or `integ config set database.password`",
            ));
        }
        Ok(Some(url))
    }

    /// What the secret store needs, from settings and environment.
    pub fn secret_settings(&mut self) -> Result<SecretSettings> {
        let kind = self.settings()?.secret_store();
        self.secret_settings_for(kind)
    }

    /// What the `kind` secret store needs, from settings and environment (`integ secrets copy`
    /// opens a store other than the configured one).
    pub fn secret_settings_for(&mut self, kind: StoreKind) -> Result<SecretSettings> {
        let settings = self.settings()?.clone();
        let mut raw_key = None;
        let (key, key_source) = match (self.env.get("INTEG_SECRET_KEY"), settings.get("secret_key_file")) {
            (Some(k), _) => (Some(SecretString::from(k.to_string())), "INTEG_SECRET_KEY".to_string()),
            (None, Some(file)) => {
                check_key_file(Path::new(file))?;
                let bytes = std::fs::read(file).map(Zeroizing::new).map_err(|e| {
                    Error::config(format!("cannot read the secret key file {file}"))
                        .cause(e)
                        .hint("fix `secret_key_file` in config.toml or INTEG_SECRET_KEY_FILE")
                })?;
                let unreadable = || {
                    Error::config(format!("the secret key file {file} holds neither text nor a 32-byte key"))
                        .hint("put a passphrase, 64 hex digits, or exactly 32 bytes in it")
                };
                let passphrase = if kind == StoreKind::Database {
                    // A raw key (32 bytes, or 64 hex digits) is used as it is; anything else is
                    // a passphrase.
                    match secrets::key_file_material(&bytes).ok_or_else(unreadable)? {
                        secrets::KeyMaterial::Raw(k) => {
                            raw_key = Some(k);
                            None
                        }
                        secrets::KeyMaterial::Passphrase(p) => Some(p),
                    }
                } else {
                    let text = std::str::from_utf8(&bytes).map_err(|_| {
                        Error::config(format!("the secret key file {file} does not hold text")).hint(
                            "put the passphrase in it (a raw 32-byte key works only with secret_store = \"database\")",
                        )
                    })?;
                    Some(SecretString::from(text.trim_end_matches(['\n', '\r']).to_string()))
                };
                (passphrase, format!("key file {file}"))
            }
            (None, None) => (None, "none".to_string()),
        };
        let database = if kind == StoreKind::Database {
            let url = self.database_url()?.ok_or_else(|| {
                Error::config("secret_store = \"database\" needs a PostgreSQL database, and none is configured").hint(
                    "set INTEG_DATABASE_URL (or `database_url` in config.toml), or choose another store with INTEG_SECRET_STORE",
                )
            })?;
            // Never from the secret store: that is this database.
            let password = self.database_password_outside_store(&url)?;
            Some(secrets::DatabaseTarget { url, password, raw_key, clock: self.clock })
        } else {
            None
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
            database,
        })
    }

    /// The secret store, opened on first use.
    pub fn secrets(&mut self) -> Result<Arc<dyn SecretStore>> {
        if let Some(s) = &self.secrets {
            return Ok(s.clone());
        }
        let kind = self.settings()?.secret_store();
        let store = self.open_secret_store(kind)?;
        self.secrets = Some(store.clone());
        Ok(store)
    }

    /// Opens the `kind` secret store (not kept: [`Context::secrets`] keeps the configured one).
    pub fn open_secret_store(&mut self, kind: StoreKind) -> Result<Arc<dyn SecretStore>> {
        let ss = self.secret_settings_for(kind)?;
        if ss.kind == StoreKind::File {
            if let Some(dir) = ss.file_path.parent() {
                crate::store::fs::check_private_dir(dir)?;
            }
            crate::store::fs::ensure_private_dir(&self.paths.lock_dir)?;
        }
        if ss.kind != StoreKind::Keyring
            && let Some(key) = &ss.key
            && key.expose_secret().chars().count() < MIN_PASSPHRASE_CHARS
        {
            self.ui.warn(short_passphrase(&ss.key_source));
        }
        Ok(Arc::from(secrets::open(&ss)?))
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

    /// The password to connect to `url` with, when the URL carries none: INTEG_DATABASE_PASSWORD,
    /// then the secret store (`integ config set database.password`) unless the secret store is
    /// this database, then the password file (PGPASSFILE or ~/.pgpass, as psql reads it). None
    /// found: the connection says if one was needed.
    pub fn database_password_for(&mut self, url: &crate::store::pg::PgUrl) -> Result<Option<SecretString>> {
        if url.password.is_none()
            && self.env.get("INTEG_DATABASE_PASSWORD").is_none()
            && self.settings()?.secret_store() != StoreKind::Database
            && let Some(p) = self.secrets()?.get("database/password")?
        {
            return Ok(Some(p));
        }
        self.database_password_outside_store(url)
    }

    /// The password for `url` from INTEG_DATABASE_PASSWORD, else the password file: never the
    /// secret store (what the `database` secret store itself connects with).
    fn database_password_outside_store(&self, url: &crate::store::pg::PgUrl) -> Result<Option<SecretString>> {
        if url.password.is_some() {
            return Ok(None);
        }
        if let Some(v) = self.env.get("INTEG_DATABASE_PASSWORD") {
            return Ok(Some(SecretString::from(v.to_string())));
        }
        match crate::store::pg::passfile::path(&self.env) {
            Some(path) => crate::store::pg::passfile::password(&path, url),
            None => Ok(None),
        }
    }

    /// A provider's OAuth application, from settings and (where it has one) its client secret.
    pub fn app(&mut self, provider: Provider) -> Result<crate::oauth::app::OAuthApp> {
        let secret = if crate::providers::uses_client_secret(provider) { self.client_secret(provider)? } else { None };
        crate::providers::app(self.settings()?, provider, secret)
    }

    /// The run's one HTTP client (connection pool, timeouts, rustls), built on first use.
    pub fn http_client(&mut self) -> Result<reqwest::Client> {
        if let Some(c) = &self.http {
            return Ok(c.clone());
        }
        let client = crate::http::client()?;
        self.http = Some(client.clone());
        Ok(client)
    }

    /// A connection's token session: its tokens from the secret store, its OAuth application,
    /// lock and clock, over the run's HTTP client.
    pub fn session(&mut self, connection: Connection) -> Result<Session> {
        let http = self.http_client()?;
        let store = self.secrets()?;
        let tokens = session::load(&*store, &connection)?;
        let app = match tokens.kind {
            GrantKind::Oauth => {
                let mut app = self.app(connection.provider)?;
                // A write grant is refreshed as one (Microsoft scopes every refresh).
                if crate::providers::push::can_write(connection.provider, &connection.scopes)
                    || crate::providers::push::can_create_calendar(connection.provider, &connection.scopes)
                {
                    crate::providers::push::with_write_scopes(&mut app);
                }
                Some(app)
            }
            GrantKind::PersonalAccessToken => None,
        };
        let api_url = match &app {
            Some(_) => None,
            None => self.settings()?.provider(connection.provider, "api_url").map(str::to_string),
        };
        let lock_path = self.paths.lock_file(&connection.lock_name("refresh"));
        let parts = SessionParts { app, store, http, lock_path, api_url, clock: self.clock };
        Ok(Session::new(connection, tokens, parts))
    }

    /// The current time, from the run's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// Refuse a key file that others may read (or change): whoever reads it can decrypt every
/// token. Its mode is read through a link, since mounted secrets are often links.
fn check_key_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // A file that cannot be inspected cannot be read either; reading it says why.
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    crate::store::fs::refuse_open_to_others(path, meta.mode(), "the secret key file", "can decrypt every token")
}

/// The warning for a passphrase under [`MIN_PASSPHRASE_CHARS`].
pub fn short_passphrase(source: &str) -> String {
    format!(
        "the passphrase of the encrypted secret store ({source}) is shorter than {MIN_PASSPHRASE_CHARS} characters; \
         anyone with a copy of the file can guess it: use a long random one (e.g. `openssl rand -base64 32`)"
    )
}

/// The secret-store key of a provider's client secret.
pub fn client_secret_key(provider: Provider) -> String {
    format!("{}/client_secret", provider.name())
}
