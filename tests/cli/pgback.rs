//! The PostgreSQL backend of the test suite: with `INTEG_TEST_BACKEND=postgres` every
//! [`TestEnv`](crate::common::TestEnv) gets a fresh database of its own on the server that
//! `scripts/with-postgres` started (`CREATE DATABASE integ_t_<random>` through the admin URL
//! INTEG_TEST_PG_URL / INTEG_TEST_PG_PASSWORD), and integ runs on it through
//! INTEG_DATABASE_URL. The ground-truth comparisons read the SQLite schema: for them
//! [`PgTestDb::snapshot`] copies every table, column by column and by name, into a SQLite file
//! made by integ itself, so the very same assertions judge both backends.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

use crate::common::{INTEG, rand_hex};

/// Whether the suite runs on PostgreSQL (`INTEG_TEST_BACKEND=postgres`; anything else but
/// unset or `sqlite` is refused, so a typo cannot quietly test SQLite instead).
pub fn postgres_backend() -> bool {
    match std::env::var("INTEG_TEST_BACKEND").unwrap_or_default().as_str() {
        "" | "sqlite" => false,
        "postgres" => true,
        other => panic!("INTEG_TEST_BACKEND={other:?}: use `sqlite` (the default) or `postgres`"),
    }
}

/// One test's PostgreSQL database; dropped with it.
pub struct PgTestDb {
    /// The admin URL (INTEG_TEST_PG_URL, no password), ending in `/postgres`.
    admin: String,
    pub name: String,
    pub password: String,
}

impl PgTestDb {
    pub fn create() -> PgTestDb {
        let admin = std::env::var("INTEG_TEST_PG_URL").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| {
            panic!(
                "INTEG_TEST_BACKEND=postgres needs a server: run the tests inside scripts/with-postgres \
                 (INTEG_TEST_PG_URL is unset)"
            )
        });
        let password = std::env::var("INTEG_TEST_PG_PASSWORD").unwrap_or_default();
        let name = format!("integ_t_{}", rand_hex(8));
        let create = format!("CREATE DATABASE {name}");
        block_on(&admin, &password, |c| async move {
            c.batch_execute(&create).await.unwrap();
        });
        PgTestDb { admin, name, password }
    }

    /// This database's URL, without the password.
    fn url(&self) -> String {
        format!("{}/{}", self.admin.rsplit_once('/').expect("INTEG_TEST_PG_URL ends in /DBNAME").0, self.name)
    }

    /// The URL integ gets (INTEG_DATABASE_URL; the password goes in INTEG_DATABASE_PASSWORD).
    /// The server is on loopback, where integ allows plain connections on request.
    pub fn integ_url(&self) -> String {
        format!("{}?sslmode=disable", self.url())
    }

    /// Run statements (simple protocol) on this database.
    pub fn exec(&self, sql: &str) {
        block_on(&self.url(), &self.password, |c| async move {
            c.batch_execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        });
    }

    /// This database's URL (no password in it) and the password, for [`hold`].
    pub fn url_and_password(&self) -> (String, String) {
        (self.url(), self.password.clone())
    }

    /// A SQLite file (in `dir`) with integ's own schema and a copy of every row of every table
    /// here: integers, reals, text, bytes and NULLs exactly as stored. A table or column on one
    /// side only fails the copy.
    pub fn snapshot(&self, dir: &Path) -> rusqlite::Connection {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = dir.join(format!("pg-snapshot-{}.db", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::copy(&*SCHEMA, &path).unwrap();
        let mut lite = rusqlite::Connection::open(&path).unwrap();
        lite.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let tx = lite.transaction().unwrap();
        let lite_tables: Vec<String> = tx
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let tx = block_on(&self.url(), &self.password, |c| async move {
            let pg_tables: Vec<String> = c
                .query(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            for t in &lite_tables {
                assert!(pg_tables.contains(t), "table {t} is in the SQLite schema but not in PostgreSQL");
            }
            for table in &pg_tables {
                // PostgreSQL's own record of its migrations (SQLite keeps the version in a
                // pragma), and the `database` secret store's tables (encrypted token sets, kept
                // out of integ.db on SQLite).
                if ["integ_schema_versions", "integ_secrets", "integ_secrets_key"].contains(&table.as_str()) {
                    continue;
                }
                assert!(lite_tables.contains(table), "table {table} is in PostgreSQL but not in the SQLite schema");
                copy_table(&c, &tx, table).await;
            }
            tx
        });
        tx.commit().unwrap();
        lite
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        // Best effort: the server and its folder go at the end of scripts/with-postgres anyway.
        let (admin, password, name) = (self.admin.clone(), self.password.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            block_on(&admin, &password, |c| async move {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            })
        })
        .join();
    }
}

/// Run `begin` in a session of its own on `url`, keep that session (and its transaction) open
/// for `hold`, then run `end` in it: another writer holding locks.
pub fn hold(url: &str, password: &str, begin: &str, hold: std::time::Duration, end: &str) {
    block_on(url, password, |c| async move {
        c.batch_execute(begin).await.unwrap_or_else(|e| panic!("{begin}: {e:?}"));
        tokio::time::sleep(hold).await;
        c.batch_execute(end).await.unwrap_or_else(|e| panic!("{end}: {e:?}"));
    });
}

/// Copy every row of `table` from PostgreSQL into the same-named SQLite table, by column name.
async fn copy_table(pg: &Client, lite: &rusqlite::Transaction<'_>, table: &str) {
    let stmt = pg.prepare(&format!("SELECT * FROM \"{table}\"")).await.unwrap();
    let cols: Vec<(String, Type)> = stmt.columns().iter().map(|c| (c.name().to_string(), c.type_().clone())).collect();
    let lite_cols: Vec<String> = lite
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut pg_names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    let mut lite_names: Vec<&str> = lite_cols.iter().map(String::as_str).collect();
    pg_names.sort_unstable();
    lite_names.sort_unstable();
    assert_eq!(pg_names, lite_names, "table {table}: the columns differ between PostgreSQL and SQLite");
    let names = cols.iter().map(|c| format!("\"{}\"", c.0)).collect::<Vec<_>>().join(", ");
    let marks = (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let mut insert = lite.prepare(&format!("INSERT INTO \"{table}\" ({names}) VALUES ({marks})")).unwrap();
    for row in pg.query(&stmt, &[]).await.unwrap() {
        let values: Vec<rusqlite::types::Value> = cols
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                use rusqlite::types::Value as V;
                let v = match *ty {
                    Type::INT8 => row.get::<_, Option<i64>>(i).map(V::Integer),
                    Type::INT4 => row.get::<_, Option<i32>>(i).map(|v| V::Integer(v.into())),
                    Type::INT2 => row.get::<_, Option<i16>>(i).map(|v| V::Integer(v.into())),
                    Type::BOOL => row.get::<_, Option<bool>>(i).map(|v| V::Integer(v.into())),
                    Type::FLOAT8 => row.get::<_, Option<f64>>(i).map(V::Real),
                    Type::FLOAT4 => row.get::<_, Option<f32>>(i).map(|v| V::Real(v.into())),
                    Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                        row.get::<_, Option<String>>(i).map(V::Text)
                    }
                    Type::BYTEA => row.get::<_, Option<Vec<u8>>>(i).map(V::Blob),
                    ref other => panic!("{table}.{name}: no SQLite twin for PostgreSQL type {other}"),
                };
                v.unwrap_or(V::Null)
            })
            .collect();
        insert.execute(rusqlite::params_from_iter(values)).unwrap();
    }
}

/// A SQLite file with integ's schema and no rows: what `integ sync` makes on a fresh home
/// (it opens, and so creates and migrates, the database before finding no account; exit 2).
static SCHEMA: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap().keep();
    let home = dir.join("home");
    let out = std::process::Command::new(INTEG)
        .arg("sync")
        .env_clear()
        .env("INTEG_HOME", &home)
        .env("HOME", &dir)
        .env("INTEG_SECRET_STORE", "file")
        .env("INTEG_SECRET_KEY", format!("schema-key-{}", rand_hex(16)))
        .output()
        .unwrap();
    let file = home.join("integ.db");
    assert!(file.exists(), "`integ sync` on a fresh home made no integ.db: {out:?}");
    file
});

/// Connect to `url` (plain: the server is on loopback), run `f` on the client, and return
/// what it returns.
fn block_on<T, F, Fut>(url: &str, password: &str, f: F) -> T
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut config: tokio_postgres::Config = url.parse().unwrap();
        config.password(password);
        let (client, conn) = config.connect(NoTls).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
        let driver = tokio::spawn(conn);
        let out = f(client).await;
        driver.abort();
        out
    })
}
