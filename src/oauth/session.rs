//! The token lifecycle every API call goes through.
//!
//! Refreshing is where connections get lost: Jobber and Calendly refresh tokens are single-use,
//! and overlapping cron runs must never send the same one twice. So a refresh takes a
//! per-connection lock file, re-reads the stored tokens (another process may have refreshed
//! already), refreshes only if still needed, writes the new pair to the secret store before
//! anything else, and only then updates the metadata in SQLite. On a refusal it re-reads the
//! store once more: a changed refresh token means another process won the race, not that the
//! grant is dead. Tokens are never deleted here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::app::OAuthApp;
use super::client;
use super::token::{GrantKind, TokenSet};
use crate::error::{Error, Result};
use crate::http::ApiError;
use crate::interrupt::Critical;
use crate::store::connections::{self, Connection, State};
use crate::store::db::Db;
use crate::store::lock::FileLock;
use crate::store::secrets::{Reservation, SecretStore};
use crate::time::{Clock, timestamp};

/// How long to wait for another process's refresh before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// How long to wait for the secret store's reservation (another process's write, or another
/// machine's refresh of the same tokens with the database store) before a refresh.
const STORE_WAIT: Duration = Duration::from_secs(10);

/// How long to keep trying to save a rotated refresh token.
const SAVE_RETRY_FOR: Duration = Duration::from_secs(60);

/// The longest `Retry-After` from a token endpoint that is waited out within a run.
const TOKEN_RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

/// Why a refresh is being considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    /// Before an API call: only when the access token is about to expire.
    IfExpiring,
    /// After a 401: unless another process already replaced the token that was refused.
    Unauthorized,
    /// `integ refresh`: unless another process refreshed while this one waited for the lock.
    KeepAlive,
    /// `integ refresh --force`: always.
    Force,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// A token request was made and its result stored.
    Now,
    /// Nothing to do: the stored tokens were fresh (maybe thanks to another process).
    AlreadyFresh,
    /// A personal access token has nothing to refresh.
    NotRefreshable,
}

/// One connection's tokens, with what is needed to refresh them.
pub struct Session {
    pub connection: Connection,
    app: Option<OAuthApp>,
    store: Arc<dyn SecretStore>,
    http: reqwest::Client,
    lock_path: std::path::PathBuf,
    tokens: TokenSet,
    /// The provider's API base: the app's, or the setting for connections without an OAuth
    /// application (Calendly personal access tokens).
    api_url: Option<String>,
    clock: Clock,
}

/// What a session needs besides its connection and tokens. The run's context gathers it
/// (`Context::session`); a session never sees the context, so it can be built in a test.
pub struct SessionParts {
    /// The OAuth application (`None` for a personal access token).
    pub app: Option<OAuthApp>,
    pub store: Arc<dyn SecretStore>,
    pub http: reqwest::Client,
    /// The per-account lock that refresh, connect and disconnect take.
    pub lock_path: std::path::PathBuf,
    /// The API base when there is no OAuth application.
    pub api_url: Option<String>,
    pub clock: Clock,
}

impl Session {
    pub fn new(connection: Connection, tokens: TokenSet, parts: SessionParts) -> Session {
        let SessionParts { app, store, http, lock_path, api_url, clock } = parts;
        let api_url = app.as_ref().map(|a| a.api_url.clone()).or(api_url);
        Session { connection, app, store, http, lock_path, tokens, api_url, clock }
    }

    pub fn app(&self) -> Option<&OAuthApp> {
        self.app.as_ref()
    }

    /// The API base URL, with or without an OAuth application.
    /// The provider's API base (from the OAuth app, or the `<provider>.api_url` setting for a
    /// personal-access-token connection).
    pub fn api_url(&self) -> Result<String> {
        let p = self.connection.provider;
        self.api_url.clone().ok_or_else(|| {
            Error::config(format!("no {} API URL is configured", p.display_name()))
                .hint(format!("set INTEG_{}_API_URL, or run `integ config set {p}.api_url URL`", p.env_prefix()))
        })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The run's clock (sync decisions ask it, through the session they already hold).
    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// A usable access token, refreshed first if it is about to expire.
    pub async fn access_token(&mut self, db: &mut Db) -> Result<SecretString> {
        if self.tokens.kind == GrantKind::Oauth && self.tokens.needs_refresh(self.clock.now()) {
            self.refresh(db, RefreshMode::IfExpiring).await?;
        }
        Ok(self.tokens.access())
    }

    /// Call the API with a fresh token; on a 401 refresh once and retry once.
    pub async fn call<T, F, Fut>(&mut self, db: &mut Db, what: &str, f: F) -> Result<T>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let token = self.access_token(db).await?;
        let first = f(token).await;
        let second = match first {
            Err(ApiError::Unauthorized) if self.tokens.kind == GrantKind::Oauth => {
                tracing::info!(provider = %self.connection.provider, "access token refused; refreshing once");
                self.refresh(db, RefreshMode::Unauthorized).await?;
                f(self.tokens.access()).await
            }
            other => other,
        };
        match second {
            Ok(v) => Ok(v),
            Err(ApiError::Unauthorized) => {
                Err(self.reconnect_needed(db, "the provider keeps refusing the access token"))
            }
            Err(ApiError::Disconnected(msg)) => Err(self.reconnect_needed(db, &msg)),
            Err(e) => Err(e.into_error(what)),
        }
    }

    /// Refresh the tokens under the connection's lock (see the module docs).
    pub async fn refresh(&mut self, db: &mut Db, mode: RefreshMode) -> Result<Refreshed> {
        if self.tokens.kind == GrantKind::PersonalAccessToken {
            return match mode {
                RefreshMode::Unauthorized => Err(self.reconnect_needed(db, "the personal access token was refused")),
                _ => Ok(Refreshed::NotRefreshable),
            };
        }
        let before = self.tokens.clone();
        let _lock = lock_tokens(&self.lock_path, &self.connection.describe()).await?;
        // Reserve the write before re-reading: with the file store this takes its lock, with
        // the database store the token row's lock, which is what serialises refreshes across
        // machines. Only under it is the stored token set the one to decide on and to spend;
        // before the refresh token is spent, this also proves its successor can be stored (if
        // not, the old one is still good and the next run can try again). The wait happens off
        // the runtime's thread, so a stop signal is still heard meanwhile.
        let store = Arc::clone(&self.store);
        let key = self.connection.secret_key();
        let reserved = tokio::task::spawn_blocking(move || store.reserve(&key, STORE_WAIT))
            .await
            .map_err(|e| Error::failure("the secret store's lock could not be waited for").cause(e))?;
        let reservation = reserved.map_err(|e| {
            Error::from(e)
                .context(format!(
                    "the {} tokens were not refreshed: the secret store cannot be written now",
                    self.connection.describe()
                ))
                .hint("the stored refresh token is still good: fix the secret store or wait for the other process, then run again")
        })?;
        let current = load(&*self.store, &self.connection)?;
        if !should_refresh(mode, &before, &current, self.clock.now()) {
            tracing::debug!(provider = %self.connection.provider, ?mode, "stored tokens are fresh; no refresh");
            self.tokens = current;
            return Ok(Refreshed::AlreadyFresh);
        }
        let Some(refresh_token) = current.refresh_token.clone() else {
            return Err(self.reconnect_needed(db, "no refresh token is stored for this connection"));
        };
        let app = self.app.clone().ok_or_else(|| Error::failure("this connection has no OAuth application"))?;
        let mut attempt = 0;
        loop {
            // From the request until its answer is saved, this process holds the only copy of
            // the grant: a stop signal waits (see `interrupt`).
            let critical = Critical::enter();
            match client::refresh(&app, &self.http, &refresh_token).await {
                Ok(raw) => {
                    if let Some(w) = &raw.warning {
                        tracing::warn!(provider = %self.connection.provider, "token endpoint warning: {w}");
                    }
                    let now = self.clock.now();
                    let new = raw.into_token_set(app.expiry, now, Some(&current));
                    // Persist before anything else: the old refresh token may already be dead.
                    self.save_rotated(&reservation, &new).await;
                    drop(reservation);
                    drop(critical);
                    let expires = new.expires_at_rfc3339();
                    if let Err(e) = connections::record_refresh(
                        db,
                        self.connection.id,
                        expires.as_deref(),
                        new.scope.as_deref(),
                        &timestamp(now),
                    ) {
                        // The tokens are safe in the secret store; only the metadata lags.
                        tracing::warn!("tokens refreshed and stored, but the database update failed: {e}");
                    }
                    tracing::info!(provider = %self.connection.provider, "tokens refreshed");
                    self.tokens = new;
                    return Ok(Refreshed::Now);
                }
                Err(e) if e.is_transient() && attempt == 0 => {
                    drop(critical);
                    attempt += 1;
                    let wait = e.retry_after().unwrap_or(Duration::from_secs(1)).min(TOKEN_RETRY_AFTER_CAP);
                    tracing::info!("refresh failed ({e}); retrying once in {} s", wait.as_secs_f32());
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.is_rejection() => {
                    let reread = load(&*self.store, &self.connection)?;
                    if reread.refresh_token.as_deref() != Some(refresh_token.as_str()) {
                        self.tokens = reread;
                        return Ok(Refreshed::AlreadyFresh);
                    }
                    return Err(self.reconnect_needed(db, &e.to_string()));
                }
                Err(e) => {
                    return Err(Error::failure(format!(
                        "could not refresh the {} token: {e}",
                        self.connection.provider.display_name()
                    ))
                    .hint("check the network and try again; the stored tokens are unchanged"));
                }
            }
        }
    }

    /// Save freshly issued tokens. A rotated refresh token exists nowhere else, so this tries
    /// for about a minute; if the store still refuses, the tokens stay in memory for the rest of
    /// the run and the loss is logged as an error (the next run will need `integ connect`).
    async fn save_rotated(&self, reservation: &Reservation, tokens: &TokenSet) {
        let key = self.connection.secret_key();
        let mut wait = Duration::from_millis(250);
        let started = std::time::Instant::now();
        loop {
            let result = tokens
                .to_secret()
                .map_err(Error::from)
                .and_then(|secret| self.store.set_reserved(reservation, &key, &secret).map_err(Error::from));
            match result {
                Ok(()) => return,
                Err(e) if started.elapsed() + wait <= SAVE_RETRY_FOR => {
                    tracing::warn!("could not save the refreshed tokens ({e}); retrying in {} ms", wait.as_millis());
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(15));
                }
                Err(e) => {
                    tracing::error!(
                        provider = %self.connection.provider,
                        "the refreshed tokens of the {} could not be saved ({e}); they are kept for the rest of this \
                         run, but the grant will be lost when it ends: run `integ connect {} --account '{}'` afterwards",
                        self.connection.describe(),
                        self.connection.provider,
                        self.connection.label
                    );
                    return;
                }
            }
        }
    }

    /// Mark the connection "reconnect needed" and build the error that says so.
    fn reconnect_needed(&mut self, db: &mut Db, why: &str) -> Error {
        let now = timestamp(self.clock.now());
        if let Err(e) = connections::set_state(db, self.connection.id, State::ReconnectNeeded, Some(why), &now) {
            tracing::warn!("could not record the reconnect-needed state: {e}");
        }
        self.connection.state = State::ReconnectNeeded;
        Error::reconnect(format!("the {} needs to be connected again: {why}", self.connection.describe()))
            .hint(reconnect_hint(&self.connection))
    }
}

/// Whether a refresh should go ahead, decided under the lock: `before` is what this session
/// held when it asked, `current` what the store holds now (another process may have refreshed
/// while this one waited).
fn should_refresh(mode: RefreshMode, before: &TokenSet, current: &TokenSet, now: jiff::Timestamp) -> bool {
    match mode {
        RefreshMode::IfExpiring => current.needs_refresh(now),
        // The refused (or kept-alive) tokens were already replaced: use the new ones.
        RefreshMode::Unauthorized | RefreshMode::KeepAlive => current.same_tokens(before),
        RefreshMode::Force => true,
    }
}

/// Take an account's token lock (refresh, connect and disconnect all do), waiting up to a
/// minute for another process's refresh.
pub async fn lock_tokens(path: &std::path::Path, what: &str) -> Result<FileLock> {
    FileLock::acquire(path, LOCK_WAIT).await?.ok_or_else(|| {
        Error::locked(format!(
            "another integ process has been refreshing the tokens of {what} for over {} s",
            LOCK_WAIT.as_secs()
        ))
        .hint(format!("if nothing else is running, check {}", path.display()))
    })
}

/// `integ connect <provider> --account '<label>'`.
pub fn reconnect_hint(c: &Connection) -> String {
    format!("run `integ connect {} --account '{}'`", c.provider, c.label)
}

/// Read a connection's tokens; missing tokens mean the connection must be made again.
pub fn load(store: &dyn SecretStore, c: &Connection) -> Result<TokenSet> {
    let secret = store.get(&c.secret_key())?.ok_or_else(|| {
        Error::reconnect(format!("no tokens for the {} are in the secret store", c.describe()))
            .hint(format!("{} (was the secret store changed or cleared?)", reconnect_hint(c)))
    })?;
    TokenSet::from_secret(&secret).map_err(|_| {
        Error::failure(format!("the stored tokens of the {} are damaged", c.describe())).hint(reconnect_hint(c))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::oauth::app::{ClientAuth, RedirectRule};
    use crate::provider::Provider;
    use crate::store::secrets::{ExposeSecret, SecretError};

    /// The secret store in memory, counting writes.
    #[derive(Default)]
    struct MemStore {
        entries: Mutex<BTreeMap<String, String>>,
        writes: Mutex<u32>,
    }

    impl SecretStore for MemStore {
        fn describe(&self) -> String {
            "memory".into()
        }
        fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError> {
            Ok(self.entries.lock().unwrap().get(key).map(|v| SecretString::from(v.clone())))
        }
        fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError> {
            // The keyring's write probe (the default `reserve`) writes back no tokens.
            if !key.starts_with("write-probe-") {
                *self.writes.lock().unwrap() += 1;
            }
            self.entries.lock().unwrap().insert(key.into(), value.expose_secret().to_string());
            Ok(())
        }
        fn delete(&self, key: &str) -> Result<bool, SecretError> {
            Ok(self.entries.lock().unwrap().remove(key).is_some())
        }
    }

    const NOW: i64 = 1_795_262_400; // 2026-11-21T12:00:00Z

    fn tokens(access: &str, refresh: &str, expires_in: i64) -> TokenSet {
        TokenSet {
            kind: GrantKind::Oauth,
            access_token: access.into(),
            refresh_token: Some(refresh.into()),
            expires_at: Some(NOW + expires_in),
            obtained_at: NOW - 3000,
            scope: None,
        }
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(NOW).unwrap()
    }

    #[test]
    fn refresh_decisions() {
        let fresh = tokens("a1", "r1", 3600);
        let expiring = tokens("a1", "r1", 30);
        let replaced = tokens("a2", "r2", 3600);
        // Before an API call: only when the stored access token is about to expire.
        assert!(!should_refresh(RefreshMode::IfExpiring, &fresh, &fresh, now()));
        assert!(should_refresh(RefreshMode::IfExpiring, &expiring, &expiring, now()));
        assert!(!should_refresh(RefreshMode::IfExpiring, &expiring, &replaced, now()), "another process refreshed");
        // After a 401 or for a keep-alive: unless the store already holds other tokens.
        for mode in [RefreshMode::Unauthorized, RefreshMode::KeepAlive] {
            assert!(should_refresh(mode, &fresh, &fresh, now()), "{mode:?}");
            assert!(!should_refresh(mode, &fresh, &replaced, now()), "{mode:?}");
        }
        assert!(should_refresh(RefreshMode::Force, &fresh, &replaced, now()));
    }

    /// A Jobber session over `store`, whose token endpoint is a port nothing listens on: any
    /// refresh request fails, so a test sees whether one was made.
    fn session(dir: &std::path::Path, store: Arc<MemStore>, held: TokenSet) -> Session {
        let connection = Connection {
            id: 1,
            provider: Provider::Jobber,
            account_id: "acct-1".into(),
            account_name: "Acme".into(),
            label: "Acme".into(),
            scopes: String::new(),
            token_expires_at: None,
            state: State::Connected,
            created_at: "2026-11-01T00:00:00Z".into(),
            updated_at: "2026-11-01T00:00:00Z".into(),
            last_refresh_at: None,
            last_error: None,
        };
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let app = OAuthApp {
            provider: Provider::Jobber,
            client_id: "id".into(),
            client_secret: Some(SecretString::from("secret")),
            client_auth: ClientAuth::Body,
            auth_url: format!("http://127.0.0.1:{closed}/authorize"),
            token_url: format!("http://127.0.0.1:{closed}/token"),
            revoke_url: None,
            api_url: format!("http://127.0.0.1:{closed}/api"),
            scopes: Vec::new(),
            send_scope: false,
            pkce: false,
            redirect: RedirectRule::AnyPort { host: "127.0.0.1".into(), path: "/cb".into(), setting: "x" },
            bare_callback_is_denial: false,
            extra_auth_params: Vec::new(),
            refresh_sends_scope: false,
            expiry: crate::oauth::app::ExpiryRule::JwtExpFirst,
        };
        let parts = SessionParts {
            app: Some(app),
            store: store as Arc<dyn SecretStore>,
            http: reqwest::Client::new(),
            lock_path: dir.join("refresh.lock"),
            api_url: None,
            clock: Clock::fixed(now()),
        };
        Session::new(connection, held, parts)
    }

    fn db(dir: &std::path::Path) -> Db {
        Db::open(&dir.join("integ.db")).unwrap()
    }

    #[tokio::test]
    async fn tokens_another_process_refreshed_are_taken_without_a_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemStore::default());
        let held = tokens("a1", "r1", 30);
        let newer = tokens("a2", "r2", 3600);
        let mut db = db(dir.path());
        for mode in [RefreshMode::IfExpiring, RefreshMode::Unauthorized, RefreshMode::KeepAlive] {
            // This session still holds the old tokens; the store has the other process's.
            let mut s = session(dir.path(), store.clone(), held.clone());
            if mode == RefreshMode::IfExpiring {
                store.set(&s.connection.secret_key(), &newer.to_secret().unwrap()).unwrap();
            }
            assert_eq!(s.refresh(&mut db, mode).await.unwrap(), Refreshed::AlreadyFresh, "{mode:?}");
            assert_eq!(s.tokens().access_token, "a2");
        }
        assert_eq!(*store.writes.lock().unwrap(), 1, "nothing was written back");
    }

    #[tokio::test]
    async fn an_unreachable_token_endpoint_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemStore::default());
        let held = tokens("a1", "r1", 30);
        let mut s = session(dir.path(), store.clone(), held.clone());
        store.set(&s.connection.secret_key(), &held.to_secret().unwrap()).unwrap();
        let mut db = db(dir.path());
        let e = s.refresh(&mut db, RefreshMode::Force).await.unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Failure, "{e:?}");
        assert!(e.hint.as_deref().unwrap_or_default().contains("unchanged"), "{e:?}");
        let stored = load(&*store, &s.connection).unwrap();
        assert!(stored.same_tokens(&held), "the stored tokens are untouched");
        assert_eq!(s.connection.state, State::Connected, "a network failure is not a dead grant");
    }
}
