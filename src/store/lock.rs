//! Cross-process locks on small lock files (never on the database file). The operating system
//! releases them when the holder dies, even by SIGKILL, so a crashed run never blocks the next.
//! A lock file is never opened through a symbolic link: one planted in its place would make
//! integ create (or lock) a file elsewhere.
//!
//! On PostgreSQL a run also takes a session advisory lock on a key derived from the lock's name
//! (the same on every machine), so workers on many machines never run one account at once.
//! The server releases it when the session ends, however the holder died. Session locks need
//! a session that stays integ's alone: a transaction-mode pooler (PgBouncer `pool_mode =
//! transaction`) hands the session to others between transactions and breaks them.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::store::pg::link::PgLink;
use crate::store::sql::params;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    fn open(path: &Path) -> Result<File> {
        if let Some(dir) = path.parent() {
            crate::store::fs::ensure_private_dir(dir)?;
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| crate::store::fs::open_error(path, "the lock file", e))
    }

    /// Take the lock if it is free right now.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = Self::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file, path: path.to_path_buf() })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(Error::failure(format!("cannot lock {}", path.display())).cause(e))
            }
        }
    }

    /// Wait up to `wait` for the lock, polling (async, so the runtime stays responsive).
    pub async fn acquire(path: &Path, wait: Duration) -> Result<Option<FileLock>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(lock) = Self::try_acquire(path)? {
                return Ok(Some(lock));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// The advisory-lock key of a lock name: the first 8 bytes of its SHA-256, as an `i64`.
pub fn advisory_key(name: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("integ:{name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// A held PostgreSQL session advisory lock; released on drop.
#[derive(Debug)]
pub struct PgLock {
    link: Arc<PgLink>,
    key: i64,
}

impl PgLock {
    /// Take the lock `name` if it is free right now.
    pub fn try_acquire(link: &Arc<PgLink>, name: &str) -> Result<Option<PgLock>> {
        let key = advisory_key(name);
        let got = link
            .conn()
            .query_one("SELECT pg_try_advisory_lock(?1)", params![key], |r| r.get::<bool>(0))
            .map_err(Error::from)?;
        Ok(got.then(|| PgLock { link: link.clone(), key }))
    }

    /// Wait up to `wait` for the lock, polling (async, so the runtime stays responsive).
    pub async fn acquire(link: &Arc<PgLink>, name: &str, wait: Duration) -> Result<Option<PgLock>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(lock) = Self::try_acquire(link, name)? {
                return Ok(Some(lock));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        let _ = self.link.conn().execute("SELECT pg_advisory_unlock(?1)", params![self.key]);
    }
}

/// A run's lock: the file lock on this machine and, on PostgreSQL, the advisory lock that
/// reaches every machine using the database.
#[derive(Debug)]
pub struct RunLock {
    // Dropped in order: the advisory lock first.
    _pg: Option<PgLock>,
    _file: FileLock,
}

impl RunLock {
    /// Take both, waiting up to `wait` in all; `None` when another run holds either.
    pub async fn acquire(path: &Path, pg: Option<&Arc<PgLink>>, wait: Duration) -> Result<Option<RunLock>> {
        let start = Instant::now();
        let Some(file) = FileLock::acquire(path, wait).await? else { return Ok(None) };
        let pg = match pg {
            Some(link) => {
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                match PgLock::acquire(link, &name, wait.saturating_sub(start.elapsed())).await? {
                    Some(l) => Some(l),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        Ok(Some(RunLock { _pg: pg, _file: file }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_until_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let first = FileLock::try_acquire(&path).unwrap().expect("free");
        assert!(FileLock::try_acquire(&path).unwrap().is_none());
        drop(first);
        assert!(FileLock::try_acquire(&path).unwrap().is_some());
    }

    #[test]
    fn a_planted_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locks")).unwrap();
        let victim = dir.path().join("victim");
        std::os::unix::fs::symlink(&victim, dir.path().join("locks/x.lock")).unwrap();
        let err = FileLock::try_acquire(&dir.path().join("locks/x.lock")).unwrap_err();
        assert!(err.message.contains("symbolic link"), "{}", err.message);
        assert!(!victim.exists());
    }
}
