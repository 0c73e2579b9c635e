//! The SQLite database: opening it safely, its pragmas, and versioned migrations.
//!
//! WAL so readers (reports) never block the cron sync; a busy timeout so two integ processes
//! wait for each other instead of failing; `BEGIN IMMEDIATE` for every write so a transaction
//! never has to upgrade its lock halfway (the classic SQLITE_BUSY deadlock). The schema version
//! lives in `PRAGMA user_version`; a database from a newer integ is refused before anything
//! writes to it, so it stays byte-for-byte as it was. The database is opened only as a regular
//! file in a folder that is the user's alone, never through a symbolic link.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::store::pg::link::PgLink;
use crate::store::pg::{self, PgError, PgUrl};
use crate::store::sql::{Conn, Dialect};

/// The page size of a new database. 16 KiB rather than SQLite's 4 KiB: a sync commits a few
/// hundred rows at a time, and each dirty page is one WAL frame (two `pwrite`s) and one copy at
/// checkpoint, so bigger pages mean a quarter of the system calls for the same bytes (measured in
/// BENCHMARKS.md).
pub const PAGE_SIZE: i64 = 16384;

/// WAL size at which a commit checkpoints it into the database file.
pub const CHECKPOINT_BYTES: i64 = 32 << 20;

/// How long a writer waits for another before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/v1.sql"),
    include_str!("schema/v2.sql"),
    include_str!("schema/v3.sql"),
    include_str!("schema/v4.sql"),
    include_str!("schema/v5.sql"),
    include_str!("schema/v6.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database {path} has schema version {found}, newer than this integ understands ({supported})")]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("cannot open the database {path}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("the database {path} is a symbolic link, which integ does not follow")]
    Symlink { path: PathBuf },
    /// Its folder is not private, or the file could not be created privately.
    #[error("{0}")]
    Refused(Error),
    #[error("the database is full or the disk has no space left")]
    Full(#[source] rusqlite::Error),
    #[error("the database is busy: another process held it for more than {} s", BUSY_TIMEOUT.as_secs())]
    Busy(#[source] rusqlite::Error),
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A PostgreSQL failure, its text already free of the password.
    #[error("{0}")]
    Pg(String),
    #[error("the database returned no row where one was expected")]
    NoRow,
    #[error("unexpected value in column {column}: {reason}")]
    Value { column: usize, reason: String },
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match &e {
            DbError::TooNew { .. } => Error::config(e.to_string())
                .hint("upgrade integ to the version that wrote this database; the file was left untouched"),
            DbError::Symlink { path } => Error::config(e.to_string()).hint(format!(
                "remove the link (rm {}), or set INTEG_HOME to the folder the database is really in",
                path.display()
            )),
            DbError::Refused(inner) => inner.clone(),
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
            DbError::Pg(_) => Error::failure(e.to_string())
                .hint("check that the PostgreSQL server is up and reachable; the transaction was rolled back"),
            DbError::NoRow | DbError::Value { .. } => Error::failure(format!("database error: {e}")),
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

/// An open database: the SQLite file, or a PostgreSQL session.
pub struct Db {
    backend: Backend,
}

enum Backend {
    Sqlite { conn: Connection, path: PathBuf },
    Pg(Box<PgLink>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("location", &self.location()).finish()
    }
}

impl Db {
    /// Open (creating with mode 0600 in a 0700 folder if needed) and migrate.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let open_err = |source| DbError::Open { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::store::fs::check_private_dir(dir).map_err(DbError::Refused)?;
        }
        // SQLite opens by name: make sure, right before, that the name is not a link (and
        // SQLITE_OPEN_NOFOLLOW below refuses one planted in between).
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => return Err(DbError::Symlink { path: path.to_path_buf() }),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::store::fs::touch_private(path).map_err(DbError::Refused)?;
            }
            Err(e) => {
                return Err(DbError::Refused(
                    Error::failure(format!("cannot inspect the database {}", path.display())).cause(e),
                ));
            }
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NOFOLLOW,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Read the version before anything that writes (journal_mode=WAL rewrites the header).
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify)?;
        if found > SCHEMA_VERSION {
            return Err(DbError::TooNew { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
        }
        // Only takes effect on a new (empty) file, and must come before WAL writes its header.
        conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(classify)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(classify)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(classify)?;
        // A sync writes a dozen rows a job into b-trees of tens of MB: an 8 MiB page cache keeps
        // their hot pages in memory (the default 2 MiB re-read them from the file every page;
        // 16 MiB cost 8 MiB more memory for no measurable CPU).
        conn.pragma_update(None, "cache_size", -8192).map_err(classify)?;
        // Checkpoint every 32 MiB of WAL rather than every 1,000 pages: a sync rewrites the same
        // index pages commit after commit, and each checkpoint copies them into the file again.
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).map_err(classify)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_BYTES / page.max(512)).map_err(classify)?;
        // Statement journals (a multi-row INSERT keeps one to undo itself) and sort spills stay
        // in memory: with the default, SQLite spilled them to files in /var/tmp, a third of a
        // sync's write system calls (measured with strace).
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(classify)?;
        // Every statement a sync repeats stays prepared.
        conn.set_prepared_statement_cache_capacity(128);
        let mut conn = conn;
        migrate(&mut conn, path)?;
        Ok(Db { backend: Backend::Sqlite { conn, path: path.to_path_buf() } })
    }

    /// Connect to PostgreSQL and bring its schema to this build's version (in one transaction,
    /// under the migration lock); a newer schema is refused before anything is written.
    pub fn open_pg(url: PgUrl, password: Option<SecretString>, now: &str) -> Result<Db, PgError> {
        let link = PgLink::connect(url, password)?;
        let url = link.url();
        let failed = |e: &tokio_postgres::Error| pg::query_error(url, e);
        link.run(link.client().batch_execute("BEGIN")).map_err(|e| failed(&e))?;
        match link.run(pg::migrate_in(url, link.client(), now)) {
            Ok(_) => link.run(link.client().batch_execute("COMMIT")).map_err(|e| failed(&e))?,
            Err(e) => {
                let _ = link.run(link.client().batch_execute("ROLLBACK"));
                return Err(e);
            }
        }
        Ok(Db { backend: Backend::Pg(Box::new(link)) })
    }

    /// Where the data is: the file's path, or the PostgreSQL URL (password masked).
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite { path, .. } => path.display().to_string(),
            Backend::Pg(link) => link.url().shown().to_string(),
        }
    }

    /// The SQLite file, or `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Some(path),
            Backend::Pg(_) => None,
        }
    }

    /// The PostgreSQL session, or `None` on SQLite.
    pub fn pg(&self) -> Option<&PgLink> {
        match &self.backend {
            Backend::Sqlite { .. } => None,
            Backend::Pg(link) => Some(link),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.conn().dialect()
    }

    /// Statements outside a transaction (reads; SQLite gives each a consistent snapshot).
    pub fn conn(&self) -> Conn<'_> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => Conn::sqlite(conn),
            Backend::Pg(link) => Conn::pg(link),
        }
    }

    /// The SQLite connection itself (what `db copy` reads), or `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<&Connection> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => Some(conn),
            Backend::Pg(_) => None,
        }
    }

    /// The SQLite connection itself, for tests that look underneath.
    #[cfg(test)]
    pub fn sqlite(&self) -> &Connection {
        match &self.backend {
            Backend::Sqlite { conn, .. } => conn,
            Backend::Pg(_) => panic!("not a SQLite database"),
        }
    }

    /// Run `f` in a transaction (SQLite: `BEGIN IMMEDIATE`); commit on `Ok`, roll back on `Err`.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&Conn<'_>) -> std::result::Result<T, E>) -> std::result::Result<T, E>
    where
        E: From<DbError>,
    {
        match &mut self.backend {
            Backend::Sqlite { conn, .. } => {
                let tx =
                    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| E::from(classify(e)))?;
                let out = f(&Conn::sqlite(&tx))?;
                tx.commit().map_err(|e| E::from(classify(e)))?;
                Ok(out)
            }
            Backend::Pg(link) => {
                link.batch("BEGIN").map_err(E::from)?;
                match f(&Conn::pg(link)) {
                    Ok(out) => match link.batch("COMMIT") {
                        Ok(()) => Ok(out),
                        Err(e) => {
                            let _ = link.batch("ROLLBACK");
                            Err(E::from(e))
                        }
                    },
                    Err(e) => {
                        let _ = link.batch("ROLLBACK");
                        Err(e)
                    }
                }
            }
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, DbError> {
        match &self.backend {
            Backend::Sqlite { conn, .. } => conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify),
            Backend::Pg(link) => {
                link.run(pg::schema_version(link.url(), link.client())).map_err(|e| DbError::Pg(e.to_string()))
            }
        }
    }
}

/// Apply every pending migration in one `BEGIN IMMEDIATE` transaction; re-check the version
/// inside it because another process may have migrated meanwhile.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(classify)?;
    if current > SCHEMA_VERSION {
        return Err(DbError::TooNew { path: path.to_path_buf(), found: current, supported: SCHEMA_VERSION });
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

/// A fresh database in a temporary folder with one connected account (`id`, `provider`): the
/// starting point of the store's and the sync's unit tests.
#[cfg(test)]
pub fn test_db(id: i64, provider: &str) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&dir.path().join("integ.db")).expect("open");
    db.conn()
        .execute(
            "INSERT INTO connections (id, provider, account_id, account_name, label, state, created_at, updated_at)
             VALUES (?1, ?2, 'acct', 'Acme', 'Acme', 'connected', 'now', 'now')",
            crate::store::sql::params![id, provider],
        )
        .expect("connection");
    (dir, db)
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
        let mode: String = db.sqlite().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = db.sqlite().query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = db.sqlite().query_row("PRAGMA busy_timeout", [], |r| r.get(0)).unwrap();
        assert!(busy >= 5000);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        for table in ["connections", "sync_state", "sync_runs"] {
            let n: i64 = db
                .sqlite()
                .query_row("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1", [table], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "{table}");
        }
    }

    #[test]
    fn version_4_keeps_every_job_row_and_links_children_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("integ.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            for sql in &MIGRATIONS[..3] {
                c.execute_batch(sql).unwrap();
            }
            c.execute_batch(
                "PRAGMA user_version = 3;
                 INSERT INTO connections (id, provider, account_id, account_name, label, state, created_at, updated_at)
                 VALUES (7, 'jobber', 'a', 'A', 'A', 'connected', 'now', 'now');
                 INSERT INTO jobs (connection_id, id, job_number, title, raw_json, first_seen_at, last_seen_at, sweep)
                 VALUES (7, 'J2', 2, 'Two', '{\"id\":\"J2\"}', 't1', 't2', 3),
                        (7, 'J1', 1, 'One', '{\"id\":\"J1\"}', 't1', 't2', 3);
                 INSERT INTO job_line_items (connection_id, job_id, id, position, name, quantity, raw_json)
                 VALUES (7, 'J2', 'L1', 0, 'Mulch', 2.5, '{}'), (7, 'J2', 'L2', 1, 'Edging', 1, '{}');
                 INSERT INTO job_visits (connection_id, job_id, id, title, status, raw_json)
                 VALUES (7, 'J1', 'V1', 'Visit', 'completed', '{}');
                 INSERT INTO job_visit_assignees (connection_id, job_id, visit_id, user_id, user_name)
                 VALUES (7, 'J1', 'V1', 'U1', 'Ana');",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), SCHEMA_VERSION);
        let c = db.sqlite();
        let jobs: Vec<(i64, String, String, i64)> = c
            .prepare("SELECT key, id, raw_json, sweep FROM jobs ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(jobs.iter().map(|j| j.1.as_str()).collect::<Vec<_>>(), ["J1", "J2"]);
        assert_eq!(jobs[1].2, r#"{"id":"J2"}"#);
        assert_eq!(jobs[1].3, 3);
        let items: Vec<(String, String, f64)> = c
            .prepare(
                "SELECT j.id, li.name, li.quantity FROM job_line_items li JOIN jobs j ON j.key = li.job_key
                 WHERE li.connection_id = 7 ORDER BY li.position",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(items, [("J2".into(), "Mulch".into(), 2.5), ("J2".into(), "Edging".into(), 1.0)]);
        let crew: (String, String, String) = c
            .query_row(
                "SELECT j.id, v.status, a.user_name FROM job_visit_assignees a
                 JOIN job_visits v ON v.job_key = a.job_key AND v.id = a.visit_id JOIN jobs j ON j.key = v.job_key",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(crew, ("J1".into(), "completed".into(), "Ana".into()));
        let raw_cols: i64 = c
            .query_row("SELECT count(*) FROM pragma_table_info('job_line_items') WHERE name = 'raw_json'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(raw_cols, 0);
        let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let fk: Vec<String> = c
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(fk.is_empty(), "{fk:?}");
    }

    #[test]
    fn new_databases_use_large_pages() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("integ.db")).unwrap();
        let size: i64 = db.sqlite().query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        assert_eq!(size, PAGE_SIZE);
        let every: i64 = db.sqlite().query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap();
        assert_eq!(every * PAGE_SIZE, CHECKPOINT_BYTES);
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
                crate::store::sql::params![],
            )?;
            Err(DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
        });
        assert!(r.is_err());
        let n: i64 = db.sqlite().query_row("SELECT count(*) FROM connections", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
