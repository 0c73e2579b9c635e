//! The database backend: secrets encrypted in a table of their own in the PostgreSQL database
//! integ already uses, so workers on many machines share one copy of each token set, and a
//! refresh token one of them rotates is the one the next one uses.
//!
//! ```sql
//! integ_secrets     (key TEXT PRIMARY KEY, nonce BYTEA, ciphertext BYTEA, updated_at TEXT)
//! integ_secrets_key (id = 1, salt BYTEA, nonce BYTEA, check_value BYTEA, created_at TEXT)
//! ```
//!
//! Each value is sealed with XChaCha20-Poly1305 under a fresh nonce, its key name as
//! associated data (a row copied under another name does not open). The key is a passphrase
//! stretched with Argon2id and the salt in `integ_secrets_key` (the file store's derivation), or
//! a raw 32-byte key from a key file; neither the key nor the passphrase is ever sent to the
//! server. `check_value` is a known text sealed with the key, so a wrong key is refused before
//! anything is read or written. Both tables are created on first use (idempotently, under a
//! transaction-scoped advisory lock); they are not part of the data schema's versions.
//!
//! A refresh reserves its token row ([`SecretStore::reserve`]): on a session of its own,
//! `BEGIN`, an advisory lock on the key name and `SELECT ... FOR UPDATE` on the row; the
//! refreshing process re-reads the tokens only then, and its write and `COMMIT` end the
//! reservation. Until the commit the old row stays, so a process killed mid-refresh loses
//! nothing; a second machine waits for the lock and then reads the rotated tokens.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::crypto::{self, Cipher, KeyMaterial, Keys, SALT_LEN, Salt};
use super::{Reservation, SecretError, SecretSettings, SecretStore};
use crate::store::pg::PgUrl;
use crate::store::pg::link::PgLink;
use crate::time::Clock;

/// Serialises the creation of the tables (`integsec` in ASCII).
const SETUP_LOCK: i64 = 0x0069_6e74_6567_7365;
/// The first key of the two-key advisory lock a reservation takes on its key name.
const ROW_LOCK_SPACE: i32 = 0x696e_7473;

const CHECK_AAD: &[u8] = b"integ_secrets key check v1";
const CHECK_TEXT: &[u8] = b"integ";

const SETUP: &str = "
CREATE TABLE IF NOT EXISTS integ_secrets (
    key        TEXT PRIMARY KEY,
    nonce      BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS integ_secrets_key (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    salt        BYTEA NOT NULL,
    nonce       BYTEA NOT NULL,
    check_value BYTEA NOT NULL,
    created_at  TEXT NOT NULL
);";

/// Where the database store connects, and with what key. Its `Debug` shows neither password
/// nor key.
#[derive(Clone)]
pub struct DatabaseTarget {
    pub url: PgUrl,
    /// For a URL without a password (INTEG_DATABASE_PASSWORD; never the secret store itself).
    pub password: Option<SecretString>,
    /// A raw key from a key file of 32 bytes or 64 hex digits; else `SecretSettings::key` is a
    /// passphrase.
    pub raw_key: Option<crypto::RawKey>,
    pub clock: Clock,
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseTarget").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The key material a key file holds, for the database store (see [`crypto::key_file_material`]).
pub use super::crypto::key_file_material;

/// The session and the key, once checked.
struct Ready {
    link: PgLink,
    salt: Salt,
}

pub struct DatabaseStore {
    target: DatabaseTarget,
    keys: Keys,
    ready: Mutex<Option<Ready>>,
}

impl std::fmt::Debug for DatabaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseStore").field("target", &self.target).finish_non_exhaustive()
    }
}

/// A reserved row: its own session, in a transaction holding the row's locks.
pub(crate) struct RowLock {
    link: PgLink,
    key: String,
    open: AtomicBool,
}

impl std::fmt::Debug for RowLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowLock").field("key", &self.key).finish_non_exhaustive()
    }
}

fn aad(key: &str) -> Vec<u8> {
    let mut aad = b"integ_secrets v1\0".to_vec();
    aad.extend_from_slice(key.as_bytes());
    aad
}

fn db_error(e: impl std::fmt::Display) -> SecretError {
    SecretError::Database(e.to_string())
}

/// The SQLSTATE of a lock wait that hit `lock_timeout`.
fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

impl DatabaseStore {
    /// Prepares the store; needs a database and a key. Connects on first use.
    pub fn open(settings: &SecretSettings) -> Result<Self, SecretError> {
        let target = settings.database.clone().ok_or(SecretError::NoDatabase)?;
        let material = match (&target.raw_key, &settings.key) {
            (Some(raw), _) => KeyMaterial::Raw(raw.clone()),
            (None, Some(key)) if !key.expose_secret().is_empty() => KeyMaterial::Passphrase(key.clone()),
            _ => return Err(SecretError::NoKey),
        };
        Ok(DatabaseStore { target, keys: Keys::new(material), ready: Mutex::new(None) })
    }

    fn connect(&self) -> Result<PgLink, SecretError> {
        PgLink::connect(self.target.url.clone(), self.target.password.clone()).map_err(|e| {
            let mut detail = e.to_string();
            if self.target.url.password.is_none() && self.target.password.is_none() {
                detail.push_str(
                    " (with secret_store = \"database\" the database password cannot come from the secret store: \
                     give it in INTEG_DATABASE_PASSWORD or in INTEG_DATABASE_URL)",
                );
            }
            SecretError::Database(detail)
        })
    }

    fn cipher(&self, salt: &Salt) -> Result<Cipher, SecretError> {
        self.keys.cipher(salt).map_err(SecretError::Database)
    }

    /// Runs `f` with the checked session, connecting, creating the tables and checking the key
    /// first if this is the first use.
    fn with<T>(&self, f: impl FnOnce(&PgLink, &Cipher) -> Result<T, SecretError>) -> Result<T, SecretError> {
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        if ready.is_none() {
            let link = self.connect()?;
            let salt = self.setup(&link)?;
            *ready = Some(Ready { link, salt });
        }
        let r = ready.as_ref().expect("set just above");
        let cipher = self.cipher(&r.salt)?;
        f(&r.link, &cipher)
    }

    /// Creates the tables and the key check if missing; returns the salt once the key is
    /// known to be right.
    fn setup(&self, link: &PgLink) -> Result<Salt, SecretError> {
        let client = link.client();
        let stored = link.run(async {
            client.batch_execute("BEGIN").await?;
            client.execute("SELECT pg_advisory_xact_lock($1)", &[&SETUP_LOCK]).await?;
            // Only when missing: a role that may not create tables can still use them.
            let exists = client
                .query_one(
                    "SELECT to_regclass('integ_secrets') IS NOT NULL AND to_regclass('integ_secrets_key') IS NOT NULL",
                    &[],
                )
                .await?
                .get::<_, bool>(0);
            if !exists {
                client.batch_execute(SETUP).await?;
            }
            let row =
                client.query_opt("SELECT salt, nonce, check_value FROM integ_secrets_key WHERE id = 1", &[]).await?;
            let row = row.map(|r| (r.get::<_, Vec<u8>>(0), r.get::<_, Vec<u8>>(1), r.get::<_, Vec<u8>>(2)));
            Ok::<_, tokio_postgres::Error>(row)
        });
        let stored = match stored {
            Ok(row) => row,
            Err(e) => {
                let _ = link.batch("ROLLBACK");
                return Err(db_error(crate::store::pg::query_error(link.url(), &e)));
            }
        };
        let salt = match stored {
            Some((salt, nonce, check)) => {
                let _ = link.batch("COMMIT");
                let salt: Salt = salt.as_slice().try_into().map_err(|_| {
                    SecretError::Database(format!(
                        "integ_secrets_key holds a salt of {} bytes, not {SALT_LEN}",
                        salt.len()
                    ))
                })?;
                let cipher = self.cipher(&salt)?;
                match cipher.open_value(&nonce, CHECK_AAD, &check) {
                    Ok(text) if text.as_slice() == CHECK_TEXT => {}
                    _ => return Err(SecretError::DatabaseKey),
                }
                salt
            }
            None => {
                let salt = crypto::fresh_salt();
                let cipher = self.cipher(&salt)?;
                let (nonce, check) =
                    cipher.seal_value(CHECK_AAD, CHECK_TEXT).map_err(|()| db_error("cannot seal the key check"))?;
                let now = self.target.clock.stamp();
                let written = link.run(async {
                    client
                        .execute(
                            "INSERT INTO integ_secrets_key (id, salt, nonce, check_value, created_at) VALUES (1, $1, $2, $3, $4)",
                            &[&salt.as_slice(), &nonce.as_slice(), &check, &now],
                        )
                        .await?;
                    client.batch_execute("COMMIT").await
                });
                if let Err(e) = written {
                    let _ = link.batch("ROLLBACK");
                    return Err(db_error(crate::store::pg::query_error(link.url(), &e)));
                }
                salt
            }
        };
        Ok(salt)
    }

    fn seal(&self, cipher: &Cipher, key: &str, value: &SecretString) -> Result<(Vec<u8>, Vec<u8>), SecretError> {
        let (nonce, sealed) = cipher
            .seal_value(&aad(key), value.expose_secret().as_bytes())
            .map_err(|()| db_error("the value is too large to encrypt"))?;
        Ok((nonce.to_vec(), sealed))
    }

    fn upsert(&self, link: &PgLink, key: &str, nonce: &[u8], sealed: &[u8]) -> Result<(), tokio_postgres::Error> {
        let now = self.target.clock.stamp();
        link.run(link.client().execute(
            "INSERT INTO integ_secrets (key, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, \
             updated_at = EXCLUDED.updated_at",
            &[&key, &nonce, &sealed, &now],
        ))?;
        Ok(())
    }

    /// How many secrets the table holds (what `integ secrets copy` checks before copying).
    pub fn count(&self) -> Result<i64, SecretError> {
        self.with(|link, _| {
            link.run(link.client().query_one("SELECT count(*) FROM integ_secrets", &[]))
                .map(|r| r.get::<_, i64>(0))
                .map_err(|e| db_error(crate::store::pg::query_error(link.url(), &e)))
        })
    }
}

impl SecretStore for DatabaseStore {
    fn describe(&self) -> String {
        format!("database {}", self.target.url.shown())
    }

    fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError> {
        self.with(|link, cipher| {
            let row = link
                .run(link.client().query_opt("SELECT nonce, ciphertext FROM integ_secrets WHERE key = $1", &[&key]))
                .map_err(|e| db_error(crate::store::pg::query_error(link.url(), &e)))?;
            let Some(row) = row else { return Ok(None) };
            let nonce: Vec<u8> = row.get(0);
            let sealed: Vec<u8> = row.get(1);
            let plain = cipher
                .open_value(&nonce, &aad(key), &sealed)
                .map_err(|()| SecretError::DatabaseRow { key: key.to_string() })?;
            let text = Zeroizing::new(
                String::from_utf8(plain.to_vec())
                    .map_err(|_| SecretError::BadEntry { key: key.into(), reason: "it is not text".into() })?,
            );
            Ok(Some(SecretString::from(text.as_str())))
        })
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError> {
        self.with(|link, cipher| {
            let (nonce, sealed) = self.seal(cipher, key, value)?;
            self.upsert(link, key, &nonce, &sealed).map_err(|e| db_error(crate::store::pg::query_error(link.url(), &e)))
        })
    }

    fn delete(&self, key: &str) -> Result<bool, SecretError> {
        self.with(|link, _| {
            link.run(link.client().execute("DELETE FROM integ_secrets WHERE key = $1", &[&key]))
                .map(|n| n > 0)
                .map_err(|e| db_error(crate::store::pg::query_error(link.url(), &e)))
        })
    }

    fn reserve(&self, key: &str, wait: Duration) -> Result<Reservation, SecretError> {
        // The key is checked (and the tables exist) before a row is locked.
        self.with(|_, _| Ok(()))?;
        let link = self.connect()?;
        let client = link.client();
        let timeout = format!("SET LOCAL lock_timeout = '{}ms'", wait.as_millis().max(1));
        let locked = link.run(async {
            client.batch_execute("BEGIN").await?;
            client.batch_execute(&timeout).await?;
            client.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&ROW_LOCK_SPACE, &key]).await?;
            client.query_opt("SELECT key FROM integ_secrets WHERE key = $1 FOR UPDATE", &[&key]).await?;
            // The wait is over; the write under the lock must not time out on a lock.
            client.batch_execute("SET LOCAL lock_timeout = 0").await
        });
        match locked {
            Ok(()) => Ok(Reservation::row(RowLock { link, key: key.to_string(), open: AtomicBool::new(true) })),
            Err(e) if is_lock_timeout(&e) => Err(SecretError::Busy { key: key.to_string(), wait }),
            Err(e) => Err(db_error(crate::store::pg::query_error(link.url(), &e))),
        }
    }

    fn set_reserved(&self, reservation: &Reservation, key: &str, value: &SecretString) -> Result<(), SecretError> {
        let Some(row) = reservation.row_lock() else { return self.set(key, value) };
        if row.key != key || !row.open.swap(false, Ordering::SeqCst) {
            // Another key, or the transaction already ended (a failed attempt rolled it back).
            return self.set(key, value);
        }
        let (nonce, sealed) = self.with(|_, cipher| self.seal(cipher, key, value))?;
        let written = self
            .upsert(&row.link, key, &nonce, &sealed)
            .and_then(|()| row.link.run(row.link.client().batch_execute("COMMIT")));
        if let Err(e) = written {
            // Release the row now, so a retry (a plain `set`) is not left waiting for it.
            let _ = row.link.batch("ROLLBACK");
            return Err(db_error(crate::store::pg::query_error(row.link.url(), &e)));
        }
        Ok(())
    }

    fn count(&self) -> Result<Option<u64>, SecretError> {
        DatabaseStore::count(self).map(|n| Some(u64::try_from(n).unwrap_or(0)))
    }

    /// One transaction: the table locked against other writers, checked empty, every row
    /// written, committed; any failure rolls it all back.
    fn fill(&self, _names: &[String], entries: &[(String, SecretString)]) -> Result<(), SecretError> {
        self.with(|link, cipher| {
            let mut sealed = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let (nonce, text) = self.seal(cipher, key, value)?;
                sealed.push((key.as_str(), nonce, text));
            }
            let now = self.target.clock.stamp();
            let client = link.client();
            let filled = link.run(async {
                client.batch_execute("BEGIN; LOCK TABLE integ_secrets IN EXCLUSIVE MODE").await?;
                let held: i64 = client.query_one("SELECT count(*) FROM integ_secrets", &[]).await?.get(0);
                if held > 0 {
                    client.batch_execute("ROLLBACK").await?;
                    return Ok(held);
                }
                for (key, nonce, text) in &sealed {
                    client
                        .execute(
                            "INSERT INTO integ_secrets (key, nonce, ciphertext, updated_at) VALUES ($1, $2, $3, $4)",
                            &[key, nonce, text, &now],
                        )
                        .await?;
                }
                client.batch_execute("COMMIT").await?;
                Ok::<_, tokio_postgres::Error>(0)
            });
            match filled {
                Ok(0) => Ok(()),
                Ok(held) => Err(SecretError::NotEmpty { store: self.describe(), held: format!("{held} secrets") }),
                Err(e) => {
                    let _ = link.batch("ROLLBACK");
                    Err(db_error(crate::store::pg::query_error(link.url(), &e)))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::secrets::{KeyringBackend, StoreKind};

    fn settings(key: Option<&str>, raw: Option<[u8; 32]>, url: Option<&str>) -> SecretSettings {
        SecretSettings {
            kind: StoreKind::Database,
            keyring_backend: KeyringBackend::Default,
            service: "integ-test".into(),
            file_path: "/nonexistent/secrets.enc".into(),
            lock_path: "/nonexistent/secrets.lock".into(),
            key: key.map(SecretString::from),
            key_source: "INTEG_SECRET_KEY".into(),
            timeout: Duration::from_secs(1),
            database: url.map(|u| DatabaseTarget {
                url: PgUrl::parse(u).unwrap(),
                password: Some(SecretString::from("env-password-xyz")),
                raw_key: raw.map(zeroize::Zeroizing::new),
                clock: Clock::fixed(jiff::Timestamp::UNIX_EPOCH),
            }),
        }
    }

    #[test]
    fn opening_needs_a_database_and_a_key_and_connects_to_nothing() {
        let url = "postgres://integ:url-password-xyz@127.0.0.1:1/integ";
        assert!(matches!(DatabaseStore::open(&settings(Some("k"), None, None)), Err(SecretError::NoDatabase)));
        assert!(matches!(DatabaseStore::open(&settings(None, None, Some(url))), Err(SecretError::NoKey)));
        assert!(matches!(DatabaseStore::open(&settings(Some(""), None, Some(url))), Err(SecretError::NoKey)));
        let store = DatabaseStore::open(&settings(None, Some([0xab; 32]), Some(url))).unwrap();
        let shown =
            format!("{store:?} {:?} {}", settings(Some("pass-xyz"), Some([0xab; 32]), Some(url)), store.describe());
        for secret in ["url-password-xyz", "env-password-xyz", "pass-xyz", "abab", "171, 171"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // Port 1 answers nothing: the first use says the database failed, nothing is written.
        assert!(matches!(store.get("a"), Err(SecretError::Database(_))));
    }

    #[test]
    fn names_are_bound_to_their_values() {
        assert_ne!(aad("jobber/1/tokens"), aad("jobber/2/tokens"));
        assert!(aad("x").starts_with(b"integ_secrets v1\0"));
    }
}
