//! The SQLite database: opening it safely, its pragmas, and versioned migrations.
//!
//! WAL so readers (reports) never block the cron sync; a busy timeout so two integ processes
//! wait for each other instead of failing; `BEGIN IMMEDIATE` for every write so a transaction
//! never has to upgrade its lock halfway (the classic SQLITE_BUSY deadlock). The schema version
//! lives in `PRAGMA user_version`; a database from a newer integ is refused before anything
//! writes to it, so it stays byte-for-byte as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::{Error, Result};

/// How long a writer waits for another before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[include_str!("schema/v1.sql"), include_str!("schema/v2.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database {path} has schema version {found}, newer than this integ understands ({supported})")]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("cannot open the database {path}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the database is full or the disk has no space left")]
    Full(#[source] rusqlite::Error),
    #[error("the database is busy: another process held it for more than {} s", BUSY_TIMEOUT.as_secs())]
    Busy(#[source] rusqlite::Error),
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match &e {
            DbError::TooNew { .. } => Error::config(e.to_string())
                .hint("upgrade integ to the version that wrote this database; the file was left untouched"),
            DbError::Open { source, .. } => Error::failure(e.to_string())
                .cause(source)
                .hint("check that the folder exists and is writable (see `integ doctor`)"),
            DbError::Full(source) => Error::failure(e.to_string())
                .cause(source)
                .hint("free some disk space and run the command again; nothing was half-written"),
            DbError::Busy(source) => Error::failure(e.to_string())
                .cause(source)
                .hint("another integ or a report is writing; run the command again"),
            DbError::Sqlite(source) => Error::failure(e.to_string()).cause(source),
        }
    }
}

/// Classify a raw SQLite error (disk full and busy get their own messages).
pub fn classify(e: rusqlite::Error) -> DbError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => DbError::Full(e),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => DbError::Busy(e),
        _ => DbError::Sqlite(e),
    }
}

/// An open database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Open (creating with mode 0600 in a 0700 folder if needed) and migrate.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open_err = |source| DbError::Open { path: path.to_path_buf(), source };
        if !path.exists() {
            crate::store::fs::touch_private(path).map_err(|e| {
                open_err(rusqlite::Error::InvalidPath(PathBuf::from(format!("{}: {}", path.display(), e.message))))
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Read the version before anything that writes (journal_mode=WAL rewrites the header).
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify)?;
        if found > SCHEMA_VERSION {
            return Err(DbError::TooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(classify)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(classify)?;
        let mut db = Db { conn, path: path.to_path_buf() };
        db.migrate()?;
        Ok(db)
    }

    /// Apply every pending migration in one `BEGIN IMMEDIATE` transaction; re-check the
    /// version inside it because another process may have migrated meanwhile.
    fn migrate(&mut self) -> Result<(), DbError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify)?;
        if current > SCHEMA_VERSION {
            return Err(DbError::TooNew { path: self.path.clone(), found: current, supported: SCHEMA_VERSION });
        }
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql).map_err(classify)?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(classify)?;
        }
        tx.commit().map_err(classify)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read-only access (plain statements; SQLite gives them a consistent snapshot each).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` in a `BEGIN IMMEDIATE` transaction; commit on `Ok`, roll back on `Err`.
    pub fn write<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<DbError>,
    {
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| E::from(classify(e)))?;
        let out = f(&tx)?;
        tx.commit().map_err(|e| E::from(classify(e)))?;
        Ok(out)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_file_with_pragmas_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/integ.db");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = db.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = db.conn().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = db.conn().query_row("PRAGMA busy_timeout", [], |r| r.get(0)).unwrap();
        assert!(busy >= 5000);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        for table in ["connections", "sync_state", "sync_runs"] {
            let n: i64 = db
                .conn()
                .query_row("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1", [table], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "{table}");
        }
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("integ.db");
        drop(Db::open(&path).unwrap());
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("integ.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Db::open(&path).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 999, .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let e: Error = err.into();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("integ.db")).unwrap();
        let r: std::result::Result<(), DbError> = db.write(|tx| {
            tx.execute(
                "INSERT INTO connections (provider, account_id, account_name, label, state, created_at, updated_at)
                 VALUES ('jobber', 'a', 'A', 'A', 'connected', 'now', 'now')",
                [],
            )?;
            Err(DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
        });
        assert!(r.is_err());
        let n: i64 = db.conn().query_row("SELECT count(*) FROM connections", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
