//! PostgreSQL, against a real server: `integ db migrate` creates the schema and refuses a newer
//! one, `integ db copy` copies a database filled by real syncs (Jobber jobs, Google events) row
//! for row into an empty database and refuses a non-empty one, a failed copy leaves nothing
//! behind, TLS is never given up for plaintext, and the password never shows.
//!
//! scripts/test starts a private server (`scripts/with-postgres`) and sets
//! INTEG_TEST_REQUIRE_PG=1, so there a missing server fails the run; under a bare
//! `cargo nextest run` without INTEG_TEST_PG_URL these tests say so and pass.

use rusqlite::types::ValueRef;
use tokio_postgres::{NoTls, SimpleQueryMessage};

use crate::common::{TestEnv, db, rand_hex};
use crate::{events_google, sync as jobber};

/// The server's admin URL (no password in it) and the test role's password, or `None` (with
/// the reason printed) when there is no server and none is required.
fn server() -> Option<(String, String)> {
    let url = std::env::var("INTEG_TEST_PG_URL").ok().filter(|u| !u.is_empty());
    let password = std::env::var("INTEG_TEST_PG_PASSWORD").unwrap_or_default();
    match url {
        Some(url) => Some((url, password)),
        None if std::env::var("INTEG_TEST_REQUIRE_PG").is_ok_and(|v| v == "1") => {
            panic!(
                "INTEG_TEST_REQUIRE_PG=1 but INTEG_TEST_PG_URL is unset: scripts/with-postgres did not start a server"
            )
        }
        None => {
            eprintln!("skipping: no PostgreSQL server (INTEG_TEST_PG_URL is unset; scripts/test starts one)");
            None
        }
    }
}

/// A PostgreSQL database of its own for one test.
pub struct PgDb {
    /// postgres://integ_test@127.0.0.1:PORT/NAME, no password.
    pub url: String,
    pub password: String,
}

impl PgDb {
    pub fn new() -> Option<PgDb> {
        let (admin, password) = server()?;
        let name = format!("integ_t_{}", rand_hex(6));
        run_sql(&admin, &password, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').unwrap().0;
        Some(PgDb { url: format!("{base}/{name}"), password })
    }

    /// The URL with the password in it.
    fn url_with_password(&self) -> String {
        self.url.replacen("integ_test@", &format!("integ_test:{}@", self.password), 1)
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        run_sql(&self.url, &self.password, sql)
    }

    pub fn env_for(&self, env: &mut TestEnv) {
        env.set("INTEG_DATABASE_PASSWORD", self.password.clone());
    }
}

/// Run `sql` (simple protocol: every value as text) and return the rows.
fn run_sql(url: &str, password: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut config: tokio_postgres::Config = url.parse().unwrap();
        config.password(password);
        let (client, conn) = config.connect(NoTls).await.unwrap();
        tokio::spawn(conn);
        let mut rows = Vec::new();
        for msg in client.simple_query(sql).await.unwrap() {
            if let SimpleQueryMessage::Row(row) = msg {
                rows.push((0..row.len()).map(|i| row.get(i).map(str::to_string)).collect());
            }
        }
        rows
    })
}

fn tables(pg: &PgDb) -> Vec<String> {
    pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

/// Every row of `table` on both sides, as text, sorted: SQLite and PostgreSQL must agree.
fn assert_table_equal(pg: &PgDb, sqlite: &rusqlite::Connection, table: &str) -> usize {
    assert_table_equal_but(pg, sqlite, table, &[])
}

/// The same, leaving out the columns named in `skip` (`table.column`).
fn assert_table_equal_but(pg: &PgDb, sqlite: &rusqlite::Connection, table: &str, skip: &[&str]) -> usize {
    let cols: Vec<String> = pg
        .query(&format!(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name = '{table}' ORDER BY ordinal_position"
        ))
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .filter(|c| !skip.contains(&format!("{table}.{c}").as_str()) && !skip.contains(&format!("*.{c}").as_str()))
        .collect();
    let list = cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let mut theirs = pg.query(&format!("SELECT {list} FROM \"{table}\""));
    let mut stmt = sqlite.prepare(&format!("SELECT {list} FROM \"{table}\"")).unwrap();
    let mut ours: Vec<Vec<Option<String>>> = stmt
        .query_map([], |row| {
            Ok((0..cols.len())
                .map(|i| match row.get_ref(i).unwrap() {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string()),
                    ValueRef::Real(v) => Some(v.to_string()),
                    ValueRef::Text(t) => Some(String::from_utf8(t.to_vec()).unwrap()),
                    ValueRef::Blob(_) => panic!("no blobs in integ's schema"),
                })
                .collect())
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ours.sort();
    theirs.sort();
    assert_eq!(ours.len(), theirs.len(), "{table}: row counts differ");
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a, b, "{table}: a row differs");
    }
    ours.len()
}

#[test]
fn pg_migrate_creates_the_schema_once_and_refuses_a_newer_one() {
    let Some(pg) = PgDb::new() else { return };
    let mut env = TestEnv::new();
    pg.env_for(&mut env);
    let first = env.run(&["db", "migrate", "--url", &pg.url]).ok();
    assert!(first.stderr.contains("migrated to schema version 6"), "{}", first.stderr);
    let t = tables(&pg);
    for want in [
        "connections",
        "jobs",
        "job_visits",
        "events",
        "alerts",
        "push_rules",
        "pushed_events",
        "integ_schema_versions",
    ] {
        assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
    }
    assert!(t.contains(&"pushed_calendar_events".to_string()), "the view is missing: {t:?}");
    let again = env.run(&["db", "migrate", "--url", &pg.url]).ok();
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert_eq!(pg.query("SELECT version FROM integ_schema_versions"), vec![vec![Some("6".to_string())]]);
    // A newer integ migrated it: refused, and nothing is touched.
    pg.query("INSERT INTO integ_schema_versions VALUES (99, '2030-01-01T00:00:00Z')");
    let newer = env.run(&["db", "migrate", "--url", &pg.url]).code(2);
    assert!(newer.stderr.contains("schema version 99, newer than this integ understands (6)"), "{}", newer.stderr);
    assert!(newer.stderr.contains("upgrade integ"), "{}", newer.stderr);
    assert_eq!(pg.query("SELECT count(*) FROM integ_schema_versions"), vec![vec![Some("2".to_string())]]);
}

#[test]
fn pg_db_copy_of_a_synced_database_equals_it_row_for_row() {
    let Some(pg) = PgDb::new() else { return };
    let (mut env, _fakes) = jobber::jobber(40, &["--calendar-seed", "7", "--google-seed-events", "60"]);
    jobber::sync(&env, &[]).ok();
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    events_google::sync(&env, &[]).ok();
    pg.env_for(&mut env);
    let copied = env.run(&["db", "copy", "--to", &pg.url]).ok();
    assert!(copied.stderr.contains("every table's row count and SHA-256 match"), "{}", copied.stderr);
    let sqlite = db(&env);
    let mut total = 0;
    // Every table the SQLite file holds, read from the file itself (not from integ's list).
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(tables.len(), 15, "{tables:?}");
    for table in tables.iter().map(String::as_str) {
        let n = assert_table_equal(&pg, &sqlite, table);
        if ["jobs", "job_visits", "events", "sync_state", "calendars"].contains(&table) {
            assert!(n > 0, "{table} is empty: the sync wrote nothing to compare");
        }
        let line = copied.stdout.lines().find(|l| l.split_whitespace().next() == Some(table)).unwrap();
        assert_eq!(line.split_whitespace().skip(1).collect::<Vec<_>>(), [n.to_string(), n.to_string()], "{line}");
        total += n;
    }
    assert!(total > 100, "{total}");
    // The cursors came along.
    assert_eq!(
        pg.query("SELECT count(*) FROM sync_state WHERE cursor IS NOT NULL")[0][0],
        Some(
            sqlite
                .query_row("SELECT count(*) FROM sync_state WHERE cursor IS NOT NULL", [], |r| r.get::<_, i64>(0))
                .unwrap()
                .to_string()
        )
    );
    // Identity columns go on after the copied ids.
    let next = pg.query("INSERT INTO sync_runs (stream, started_at, outcome) VALUES ('x', 'y', 'ok') RETURNING id");
    let max: i64 = sqlite.query_row("SELECT max(id) FROM sync_runs", [], |r| r.get(0)).unwrap();
    assert_eq!(next[0][0], Some((max + 1).to_string()));
    pg.query("DELETE FROM sync_runs WHERE stream = 'x'");
    // A second copy into the same (now full) database is refused, and changes nothing.
    let before = pg.query("SELECT count(*) FROM jobs");
    let again = env.run(&["db", "copy", "--to", &pg.url]).code(2);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
    assert!(again.stderr.contains("CREATE DATABASE"), "{}", again.stderr);
    assert_eq!(pg.query("SELECT count(*) FROM jobs"), before);
    // The round trip: integ goes on in PostgreSQL where it stopped in SQLite. The copied
    // cursors make both syncs incremental (nothing new), and new runs get new ids.
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    let jobs = jobber::sync(&env, &[]).ok();
    assert!(jobs.stderr.contains("0 inserted, 0 updated"), "{}", jobs.stderr);
    let events = events_google::sync(&env, &[]).ok();
    assert!(events.stderr.contains("0 inserted, 0 updated"), "{}", events.stderr);
    assert_eq!(pg.query("SELECT count(*) FROM jobs"), before);
    let runs =
        pg.query("SELECT count(*) FROM sync_runs WHERE id > (SELECT max(id) FROM sync_runs) - 10 AND outcome = 'ok'");
    assert_ne!(runs[0][0].as_deref(), Some("0"));
}

#[test]
fn pg_a_failed_copy_leaves_the_target_empty() {
    let Some(pg) = PgDb::new() else { return };
    let (mut env, _fakes) = jobber::jobber(10, &[]);
    jobber::sync(&env, &[]).ok();
    // A value PostgreSQL's bigint cannot take, in the last table of the copy order to be read
    // before it: jobs come after connections, sync state and runs.
    db(&env)
        .execute("UPDATE jobs SET job_number = 'not a number' WHERE key = (SELECT max(key) FROM jobs)", [])
        .unwrap();
    pg.env_for(&mut env);
    let failed = env.run(&["db", "copy", "--to", &pg.url]).code(1);
    assert!(
        failed.stderr.contains("jobs.job_number holds a value PostgreSQL's bigint cannot take"),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("nothing was written"), "{}", failed.stderr);
    assert_eq!(tables(&pg), Vec::<String>::new(), "the transaction should have rolled back everything");
}

#[test]
fn pg_the_password_never_shows() {
    let Some(pg) = PgDb::new() else { return };
    let (env, _fakes) = jobber::jobber(3, &[]);
    jobber::sync(&env, &[]).ok();
    // In the URL: it works, the output masks it and warns about the process list.
    let ok = env.run(&["db", "copy", "--to", &pg.url_with_password(), "--json"]).ok();
    let report = ok.json();
    assert_eq!(report["tables"].as_array().unwrap().len(), 15, "{report}");
    for t in report["tables"].as_array().unwrap() {
        assert_eq!(t["source_rows"], t["target_rows"], "{t}");
        assert_eq!(t["sha256"].as_str().unwrap().len(), 64, "{t}");
    }
    assert_eq!(report["url"].as_str().unwrap(), pg.url.replacen("integ_test@", "integ_test:***@", 1));
    assert!(ok.stderr.contains("integ_test:***@127.0.0.1"), "{}", ok.stderr);
    assert!(ok.stderr.contains("process list"), "{}", ok.stderr);
    for out in [&ok.stdout, &ok.stderr] {
        assert!(!out.contains(&pg.password), "the password leaked:\n{out}");
    }
    // A wrong one, in the URL and in the environment: refused, never echoed.
    let wrong = format!("wrong-{}", rand_hex(8));
    let url = pg.url.replacen("integ_test@", &format!("integ_test:{wrong}@"), 1);
    let bad = env.run(&["db", "migrate", "--url", &url]).code(1);
    assert!(bad.stderr.contains("password authentication failed"), "{}", bad.stderr);
    assert!(bad.stderr.contains("integ_test:***@"), "{}", bad.stderr);
    let mut env2 = TestEnv::new();
    env2.set("INTEG_DATABASE_PASSWORD", wrong.clone());
    let bad2 = env2.run(&["db", "migrate", "--url", &pg.url]).code(1);
    assert!(bad2.stderr.contains("password authentication failed"), "{}", bad2.stderr);
    for out in [&bad.stdout, &bad.stderr, &bad2.stdout, &bad2.stderr] {
        assert!(!out.contains(&wrong) && !out.contains(&pg.password), "a password leaked:\n{out}");
    }
    // From the secret store (stdin), never config.toml.
    let mut env3 = TestEnv::new();
    env3.unset("INTEG_DATABASE_PASSWORD");
    env3.run_stdin(&["config", "set", "database.password"], &format!("{}\n", pg.password)).ok();
    let stored = env3.run(&["db", "migrate", "--url", &pg.url]).ok();
    assert!(stored.stderr.contains("nothing to do"), "{}", stored.stderr);
    assert!(!files_contain(env3.dir.path(), pg.password.as_bytes()), "the password is in a file in plain text");
}

/// The password file, as psql reads it (PGPASSFILE, else ~/.pgpass): used when nothing else
/// gives a password (and by the `database` secret store, which cannot hold its own password),
/// refused while others can read it, never echoed.
#[test]
fn pg_the_password_file_is_read_as_psql_reads_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(pg) = PgDb::new() else { return };
    let port = pg.url.rsplit_once(':').unwrap().1.split('/').next().unwrap().to_string();
    let mut env = TestEnv::new();
    env.unset("INTEG_DATABASE_PASSWORD");
    // None anywhere: the failure says where integ looks.
    let none = env.run(&["db", "migrate", "--url", &pg.url]).code(1);
    assert!(none.stderr.contains("~/.pgpass") && none.stderr.contains("INTEG_DATABASE_PASSWORD"), "{}", none.stderr);
    // ~/.pgpass (HOME is the test's folder): a comment, a line for another database, the match.
    let pgpass = env.dir.path().join(".pgpass");
    let text = format!(
        "# integ's tests\n127.0.0.1:{port}:some_other_db:integ_test:not-this-one\n127.0.0.1:{port}:*:integ_test:{}\n",
        pg.password
    );
    std::fs::write(&pgpass, text).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = env.run(&["db", "migrate", "--url", &pg.url]).code(2);
    assert!(open.stderr.contains("open to other users") && open.stderr.contains("chmod 600"), "{}", open.stderr);
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let migrated = env.run(&["db", "migrate", "--url", &pg.url]).ok();
    assert_eq!(pg.query("SELECT max(version) FROM integ_schema_versions")[0][0].as_deref(), Some("6"));
    // Every command on INTEG_DATABASE_URL finds it too, the database secret store included.
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    env.set("INTEG_SECRET_STORE", "database");
    env.set("INTEG_SECRET_KEY", format!("key-{}", rand_hex(16)));
    env.run_stdin(&["config", "set", "jobber.client_secret"], "a-client-secret-of-some-length\n").ok();
    assert_eq!(pg.query("SELECT key FROM integ_secrets")[0][0].as_deref(), Some("jobber/client_secret"));
    let status = env.run(&["status", "--json"]).ok();
    // PGPASSFILE comes first: one with a wrong password is used, and fails.
    let other = env.dir.path().join("other-pgpass");
    std::fs::write(&other, format!("*:*:*:*:wrong-{}\n", rand_hex(8))).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.set("PGPASSFILE", other.display().to_string());
    let wrong = env.run(&["status"]).code(1);
    assert!(wrong.stderr.contains("password authentication failed"), "{}", wrong.stderr);
    for out in [&none, &open, &migrated, &status, &wrong] {
        assert!(!out.stdout.contains(&pg.password) && !out.stderr.contains(&pg.password), "the password leaked");
    }
}

#[test]
fn pg_tls_verifies_the_certificate_and_the_name() {
    let Some(pg) = PgDb::new() else { return };
    let ca = std::env::var("INTEG_TEST_PG_CA").expect("scripts/with-postgres sets INTEG_TEST_PG_CA");
    let mut env = TestEnv::new();
    pg.env_for(&mut env);
    // The server's certificate names `localhost`, issued by the test CA.
    let localhost = pg.url.replacen("@127.0.0.1:", "@localhost:", 1);
    let good = format!("{localhost}?sslmode=verify-full&sslrootcert={ca}");
    env.run(&["db", "migrate", "--url", &good]).ok();
    assert_eq!(pg.query("SELECT count(*) FROM integ_schema_versions"), vec![vec![Some("1".to_string())]]);
    // Without the CA the chain is unknown; by address the name does not match: refused, no
    // plaintext retry.
    for (url, why) in [
        (format!("{localhost}?sslmode=verify-full"), "UnknownIssuer"),
        (format!("{}?sslmode=require&sslrootcert={ca}", pg.url), "certificate not valid for name"),
    ] {
        let refused = env.run(&["db", "migrate", "--url", &url]).code(1);
        assert!(refused.stderr.contains("TLS") && refused.stderr.contains(why), "{url}: {}", refused.stderr);
        assert!(refused.stderr.contains("sslrootcert=FILE"), "{}", refused.stderr);
    }
    // A CA file that is not one is a usage error.
    let junk = env.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let bad_ca = format!("{localhost}?sslrootcert={}", junk.display());
    let e = env.run(&["db", "migrate", "--url", &bad_ca]).code(2);
    assert!(e.stderr.contains("holds no usable certificate"), "{}", e.stderr);
}

/// A server that speaks no TLS answers the client's SSLRequest with `N` (PostgreSQL protocol,
/// "SSL Session Encryption"); that is all this stand-in does.
fn plaintext_server() -> (u16, std::thread::JoinHandle<bool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else { return false };
        conn.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        let mut request = [0u8; 8];
        if conn.read_exact(&mut request).is_err() {
            return false;
        }
        // Length 8, code 80877103: an SSLRequest.
        let asked = request == [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        let _ = conn.write_all(b"N");
        // Whatever comes next would be the plaintext startup message integ must never send.
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
        asked && rest.is_empty()
    });
    (port, handle)
}

#[test]
fn pg_tls_is_never_traded_for_plaintext() {
    let Some(pg) = PgDb::new() else { return };
    let mut env = TestEnv::new();
    pg.env_for(&mut env);
    let (port, server) = plaintext_server();
    let url = format!("postgres://integ_test@127.0.0.1:{port}/integ?sslmode=verify-full");
    let refused = env.run(&["db", "migrate", "--url", &url]).code(1);
    assert!(refused.stderr.contains("server does not support TLS"), "{}", refused.stderr);
    assert!(refused.stderr.contains("sslmode=disable"), "{}", refused.stderr);
    assert!(server.join().unwrap(), "integ did not ask for TLS first, or went on in plaintext");
    // Modes that may fall back are refused before connecting, as are options integ does not know.
    let prefer =
        env.run(&["db", "migrate", "--url", "postgres://integ@db.example.invalid/integ?sslmode=prefer"]).code(2);
    assert!(prefer.stderr.contains("may fall back to a plaintext connection"), "{}", prefer.stderr);
    let unknown = env.run(&["db", "migrate", "--url", "postgres://integ@db.example.invalid/integ?sslcert=x"]).code(2);
    assert!(unknown.stderr.contains("option integ does not understand: sslcert"), "{}", unknown.stderr);
    // Plain to loopback, without sslmode or with sslmode=disable, works.
    env.run(&["db", "migrate", "--url", &pg.url]).ok();
    env.run(&["db", "migrate", "--url", &format!("{}?sslmode=disable", pg.url)]).ok();
}

/// Whether any file under `dir` holds `needle` (the secret file is encrypted, so it does not).
fn files_contain(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            files_contain(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

/// The database as written by integ itself: a Jobber and a Google sync into PostgreSQL
/// (INTEG_DATABASE_URL) write the same rows as the same syncs into SQLite, a second sync changes
/// nothing, and the reading commands answer from PostgreSQL.
#[test]
fn pg_a_sync_into_postgres_writes_what_it_writes_into_sqlite() {
    let Some(pg) = PgDb::new() else { return };
    let (mut env, _fakes) = jobber::jobber(40, &["--calendar-seed", "7", "--google-seed-events", "60"]);
    jobber::sync(&env, &[]).ok();
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    events_google::sync(&env, &[]).ok();
    let sqlite = db(&env);
    pg.env_for(&mut env);
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    // The accounts are connected in the SQLite file; in PostgreSQL they are connected anew
    // (the tokens are in the secret store already, so connect again).
    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    jobber::sync(&env, &[]).ok();
    events_google::sync(&env, &[]).ok();
    // integ's own stamps and the providers' cursors (sync tokens name a moment) differ.
    let skip = [
        "*.first_seen_at",
        "*.last_seen_at",
        "*.started_at",
        "*.finished_at",
        "*.last_attempt_at",
        "*.last_success_at",
        "*.last_refresh_at",
        "*.token_expires_at",
        "connections.created_at",
        "connections.updated_at",
        "sync_state.cursor",
        "sync_runs.requests",
        "sync_runs.throttle_waits",
    ];
    for table in [
        "connections",
        "clients",
        "jobs",
        "job_line_items",
        "job_visits",
        "job_visit_assignees",
        "calendars",
        "events",
        "sync_state",
    ] {
        let n = assert_table_equal_but(&pg, &sqlite, table, &skip);
        assert!(n > 0, "{table} is empty");
    }
    // A second sync finds nothing new, on PostgreSQL too.
    let again = jobber::sync(&env, &[]).ok();
    assert!(again.stderr.contains("jobs: 40 fetched, 0 inserted, 0 updated"), "{}", again.stderr);
    // The reading commands answer from PostgreSQL.
    let jobs = env.run(&["jobs", "list", "--json"]).ok().json();
    assert_eq!(jobs.as_array().map(Vec::len), Some(40), "{jobs}");
    let status = env.run(&["status", "--json"]).ok().json();
    assert!(status.to_string().contains("jobber"), "{status}");
    env.run(&["events", "list", "--json"]).ok();
    env.run(&["calendars", "list", "--json"]).ok();
    let doctor = env.run(&["doctor"]).any();
    assert!(doctor.stdout.contains("PostgreSQL") && doctor.stdout.contains("schema version 6"), "{}", doctor.stdout);
}
