//! The secret store: the only place token values and client secrets ever go.
//!
//! One trait, two real backends: the OS keyring (`keyring.rs`) and an encrypted file for
//! headless servers and cron (`file.rs`). There is no silent fallback: when the chosen backend
//! is unavailable the error says why and points at the other one.
//!
//! Start at [`open`], which turns the resolved [`SecretSettings`] into a backend without doing
//! any I/O, so commands that never need a secret never wait on a keyring or ask for a key.

mod chunks;
mod crypto;
mod database;
mod file;
mod keyring;

use std::path::PathBuf;
use std::time::Duration;

pub use crypto::KeyMaterial;
pub use database::{DatabaseStore, DatabaseTarget, key_file_material};
pub use file::FileStore;
pub use keyring::KeyringStore;
pub use secrecy::{ExposeSecret, SecretString};

/// Opens the backend that `settings` names.
///
/// Nothing is read or written yet; the first `get`/`set`/`delete` reports an unavailable
/// keyring or a damaged file. A missing key for the file backend is reported here already,
/// because no operation could succeed without it.
pub fn open(settings: &SecretSettings) -> Result<Box<dyn SecretStore>, SecretError> {
    Ok(match settings.kind {
        StoreKind::Keyring => Box::new(KeyringStore::open(settings)?),
        StoreKind::File => Box::new(FileStore::open(settings)?),
        StoreKind::Database => Box::new(DatabaseStore::open(settings)?),
    })
}

/// Keeps the secrets in this process's memory out of core dumps, and (on Linux) away from
/// debuggers and `/proc/<pid>/mem` readers running as the same user: the process is made
/// non-dumpable and its core size limit 0. Called first thing in `main`, before any secret is
/// read; programs integ starts are dumpable again (the kernel resets the flag on exec).
pub fn protect_process_memory() {
    #[cfg(unix)]
    {
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: setrlimit only reads the struct passed; on failure the limit stays as it was,
        // which is all that can be done about it.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(
            libc::PR_SET_DUMPABLE,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        );
    }
}

/// Which backend holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Keyring,
    File,
    /// Encrypted rows in the PostgreSQL database (`database_url`), shared by every machine.
    Database,
}

/// Which OS keyring implementation to use (only Linux has a choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyringBackend {
    /// The platform's default: Secret Service on Linux/BSD, Keychain on macOS, Credential
    /// Manager on Windows.
    Default,
    /// Freedesktop Secret Service over D-Bus (gnome-keyring, KWallet, KeePassXC).
    SecretService,
    /// Linux kernel keyutils: the per-user persistent keyring where the kernel has one (shared
    /// by all of the user's sessions, cron included; lost at reboot or after 3 days unused),
    /// else the session keyring (lost at logout/reboot).
    Keyutils,
}

/// Everything a backend needs, resolved by `config` from defaults, config.toml and the
/// environment.
#[derive(Debug, Clone)]
pub struct SecretSettings {
    pub kind: StoreKind,
    pub keyring_backend: KeyringBackend,
    /// Keyring service name; tests set their own so they never touch a developer's entries.
    pub service: String,
    /// The encrypted file (file backend).
    pub file_path: PathBuf,
    /// Lock file serialising read-modify-write of the encrypted file across processes.
    pub lock_path: PathBuf,
    /// The passphrase for the file backend (`INTEG_SECRET_KEY` or the key file's contents).
    pub key: Option<SecretString>,
    /// Where the key came from, for messages ("INTEG_SECRET_KEY", "key file /x/y").
    pub key_source: String,
    /// Deadline for each keyring call.
    pub timeout: Duration,
    /// The database store's connection, raw key and clock (`None` for the other stores).
    pub database: Option<DatabaseTarget>,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring is not available: {reason}")]
    KeyringUnavailable { reason: String },
    #[error("the OS keyring did not answer within {} s (it may be waiting for an unlock prompt)", .0.as_secs())]
    Timeout(Duration),
    #[error("the OS keyring is locked")]
    KeyringLocked,
    #[error("the OS keyring refused the request: {0}")]
    Keyring(String),
    #[error("no key for the encrypted secret file")]
    NoKey,
    #[error("the secret file {path} could not be decrypted: the key is wrong or the file was tampered with")]
    Decrypt { path: PathBuf },
    #[error("the secret file {path} is damaged: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("could not access the secret file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the secret entry {key} is damaged: {reason}")]
    BadEntry { key: String, reason: String },
    #[error("secret_store = \"database\" needs a PostgreSQL database, and none is configured")]
    NoDatabase,
    #[error("the secret key does not open the secrets in the database (it is not the key they were stored with)")]
    DatabaseKey,
    #[error("the secret {key} in the database could not be decrypted: the key is wrong or the row was changed")]
    DatabaseRow { key: String },
    #[error("the secret store's database failed: {0}")]
    Database(String),
    #[error("another process has held the secret {key} for over {} s", .wait.as_secs())]
    Busy { key: String, wait: Duration },
    #[error("the target secret store ({store}) is not empty: it holds {held}")]
    NotEmpty { store: String, held: String },
}

impl From<SecretError> for crate::error::Error {
    fn from(e: SecretError) -> Self {
        use crate::error::Error;
        let file_hint = "to use the encrypted file store instead, set INTEG_SECRET_STORE=file and \
                         INTEG_SECRET_KEY (or `secret_store = \"file\"` in config.toml)";
        match &e {
            SecretError::KeyringUnavailable { .. } | SecretError::KeyringLocked | SecretError::Timeout(_) => {
                Error::config(e.to_string()).hint(format!(
                    "unlock or start the keyring (a D-Bus session with gnome-keyring or KWallet), or {file_hint}"
                ))
            }
            SecretError::Keyring(_) => Error::failure(e.to_string()).hint(file_hint),
            SecretError::NoKey => Error::config(e.to_string()).hint(
                "set INTEG_SECRET_KEY to a long passphrase, or name a key file with `secret_key_file` in config.toml",
            ),
            SecretError::Decrypt { .. } => {
                Error::config(e.to_string()).hint("check INTEG_SECRET_KEY (or the key file); nothing was changed")
            }
            SecretError::Corrupt { .. } | SecretError::BadEntry { .. } => Error::failure(e.to_string())
                .hint("restore the file from a backup, or move it aside and run `integ connect` again"),
            // O_NOFOLLOW met a link planted where integ keeps its own file.
            SecretError::Io { path, source } if source.raw_os_error() == Some(libc::ELOOP) => {
                Error::config(format!("{} is a symbolic link, which integ does not follow", path.display()))
                    .hint(format!("remove the link (rm {}); integ creates the file itself", path.display()))
            }
            SecretError::Io { .. } => Error::failure(e.to_string()),
            SecretError::NoDatabase => Error::config(e.to_string()).hint(
                "set INTEG_DATABASE_URL (or `database_url` in config.toml), or choose another store with INTEG_SECRET_STORE",
            ),
            SecretError::DatabaseKey | SecretError::DatabaseRow { .. } => Error::config(e.to_string()).hint(
                "give the key every worker uses (INTEG_SECRET_KEY or INTEG_SECRET_KEY_FILE); nothing was changed",
            ),
            SecretError::Database(_) => Error::failure(e.to_string()),
            SecretError::Busy { .. } => {
                Error::locked(e.to_string()).hint("another integ process is refreshing these tokens; run again later")
            }
            SecretError::NotEmpty { .. } => Error::config(e.to_string()).hint(
                "copy only into an empty store (copying over newer tokens could replace them with older ones); nothing was copied",
            ),
        }
    }
}

/// A place for secrets. Keys are short ASCII paths such as `jobber/<account-id>/tokens` or
/// `google/client_secret`.
pub trait SecretStore: Send + Sync {
    /// Human-readable description of the backend, e.g. "keyring (Secret Service)".
    fn describe(&self) -> String;
    fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError>;
    fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError>;
    /// Deletes the entry; returns whether there was one.
    fn delete(&self, key: &str) -> Result<bool, SecretError>;

    /// Make sure a write can happen now, and keep it possible until the reservation is
    /// dropped. A refresh asks for this before it spends a single-use refresh token: if the
    /// store can't take the answer, the old token stays good. The file store takes its lock
    /// (waiting at most `wait`) and holds it; the database store locks `key`'s row (on a
    /// session of its own, in a transaction) so other machines wait; a keyring proves itself
    /// with a write and delete. A refresh re-reads `key` only once it holds the reservation.
    fn reserve(&self, key: &str, wait: Duration) -> Result<Reservation, SecretError> {
        let _ = (key, wait);
        let probe = format!("write-probe-{}", std::process::id());
        self.set(&probe, &SecretString::from("probe"))?;
        self.delete(&probe)?;
        Ok(Reservation { held: Held::Nothing })
    }

    /// `set`, under a reservation this store gave.
    fn set_reserved(&self, reservation: &Reservation, key: &str, value: &SecretString) -> Result<(), SecretError> {
        let _ = reservation;
        self.set(key, value)
    }

    /// How many secrets the store holds, where it can tell (`integ secrets copy` refuses a
    /// non-empty target); `None` for a keyring, which cannot list its entries.
    fn count(&self) -> Result<Option<u64>, SecretError> {
        Ok(None)
    }

    /// Write `entries` into this store, which must hold none of integ's secrets (those of
    /// `names`, for a store that cannot count): all of them, or none (`integ secrets copy`).
    /// The file store writes the file once and the database store commits one transaction, both
    /// checking emptiness inside; a keyring writes entry by entry, and on a failure deletes
    /// what it wrote before returning the error.
    fn fill(&self, names: &[String], entries: &[(String, SecretString)]) -> Result<(), SecretError> {
        let held: Vec<String> = match self.count()? {
            Some(0) => Vec::new(),
            Some(n) => vec![format!("{n} secrets")],
            None => names
                .iter()
                .filter_map(|n| self.get(n).transpose().map(|r| r.map(|_| n.clone())))
                .collect::<Result<_, _>>()?,
        };
        if !held.is_empty() {
            return Err(SecretError::NotEmpty { store: self.describe(), held: held.join(", ") });
        }
        for (i, (key, value)) in entries.iter().enumerate() {
            if let Err(e) = self.set(key, value) {
                for (written, _) in &entries[..i] {
                    let _ = self.delete(written);
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

/// A write the store has promised to take (see [`SecretStore::reserve`]), and the lock that
/// keeps it possible until dropped.
#[derive(Debug)]
pub struct Reservation {
    held: Held,
}

#[derive(Debug)]
enum Held {
    Nothing,
    /// The file store's lock file, locked.
    File {
        _lock: std::fs::File,
    },
    /// The database store's row, locked in an open transaction (rolled back if dropped
    /// before the write).
    Row(Box<database::RowLock>),
}

impl Reservation {
    pub(crate) fn file(lock: std::fs::File) -> Reservation {
        Reservation { held: Held::File { _lock: lock } }
    }

    pub(crate) fn row(lock: database::RowLock) -> Reservation {
        Reservation { held: Held::Row(Box::new(lock)) }
    }

    pub(crate) fn holds_file_lock(&self) -> bool {
        matches!(self.held, Held::File { .. })
    }

    pub(crate) fn row_lock(&self) -> Option<&database::RowLock> {
        match &self.held {
            Held::Row(lock) => Some(lock),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use secrecy::ExposeSecret as _;

    use super::*;

    /// A store that cannot count its entries (as a keyring) and refuses to write `fail_on`.
    struct Flaky {
        entries: Mutex<BTreeMap<String, String>>,
        fail_on: &'static str,
    }

    impl SecretStore for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }
        fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError> {
            Ok(self.entries.lock().unwrap().get(key).map(|v| SecretString::from(v.clone())))
        }
        fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError> {
            if key == self.fail_on {
                return Err(SecretError::Keyring("refused".into()));
            }
            self.entries.lock().unwrap().insert(key.into(), value.expose_secret().into());
            Ok(())
        }
        fn delete(&self, key: &str) -> Result<bool, SecretError> {
            Ok(self.entries.lock().unwrap().remove(key).is_some())
        }
    }

    fn entries(keys: &[&str]) -> (Vec<String>, Vec<(String, SecretString)>) {
        let names = keys.iter().map(|k| k.to_string()).collect();
        (names, keys.iter().map(|k| (k.to_string(), SecretString::from(format!("value of {k}")))).collect())
    }

    #[test]
    fn a_fill_that_fails_midway_leaves_nothing_behind() {
        let store = Flaky { entries: Mutex::default(), fail_on: "c" };
        let (names, new) = entries(&["a", "b", "c", "d"]);
        assert!(matches!(store.fill(&names, &new), Err(SecretError::Keyring(_))));
        assert!(store.entries.lock().unwrap().is_empty(), "{:?}", store.entries.lock().unwrap());
    }

    #[test]
    fn a_fill_refuses_a_store_holding_one_of_the_names_and_writes_nothing() {
        let store = Flaky { entries: Mutex::default(), fail_on: "" };
        store.set("b", &SecretString::from("newer")).unwrap();
        let (names, new) = entries(&["a", "b"]);
        match store.fill(&names, &new) {
            Err(SecretError::NotEmpty { held, .. }) => assert_eq!(held, "b"),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.get("b").unwrap().unwrap().expose_secret(), "newer");
        assert!(store.get("a").unwrap().is_none());
        let empty = Flaky { entries: Mutex::default(), fail_on: "" };
        empty.fill(&names, &new).unwrap();
        assert_eq!(empty.get("a").unwrap().unwrap().expose_secret(), "value of a");
    }
}
