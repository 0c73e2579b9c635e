//! The database secret store against a real PostgreSQL server: several INTEG_HOMEs (as many
//! machines) share one database and one key, so a refresh token one of them rotates is the one
//! the next uses; ten concurrent syncs of an expired account refresh once; no token is ever in
//! a table in plaintext; a wrong key changes nothing; `integ secrets copy --to database`.

use std::process::Stdio;

use crate::common::{Fakes, TestEnv, rand_hex};
use crate::postgres::PgDb;

/// Jobber fakes seeded with `jobs` jobs, with `extra` flags.
fn fakes(jobs: usize, extra: &[&str]) -> Fakes {
    let seed = jobs.to_string();
    let mut args = vec!["--jobber-seed-jobs", seed.as_str()];
    args.extend_from_slice(extra);
    Fakes::start(&args)
}

/// A "machine": its own INTEG_HOME, the shared database, the database store and `key`.
fn machine(pg: &PgDb, fakes: &Fakes, key: &str) -> TestEnv {
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    pg.env_for(&mut env);
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    env.set("INTEG_SECRET_STORE", "database");
    env.set("INTEG_SECRET_KEY", key);
    env
}

/// Another machine's session on the test database (driven by `rt`), after it ran `sql`: a
/// transaction it leaves open, so the test decides when it ends.
fn other_session(rt: &tokio::runtime::Runtime, pg: &PgDb, sql: &str) -> tokio_postgres::Client {
    rt.block_on(async {
        let mut config: tokio_postgres::Config = pg.url.parse().unwrap();
        config.password(&pg.password);
        let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
        client
    })
}

fn refreshes(fakes: &Fakes) -> u64 {
    fakes.get("/_fake/stats")["jobber"]["token_requests"]["refresh_token"].as_u64().unwrap_or(0)
}

fn secrets_rows(pg: &PgDb) -> Vec<Vec<Option<String>>> {
    pg.query("SELECT key, encode(nonce, 'hex'), encode(ciphertext, 'hex'), updated_at FROM integ_secrets ORDER BY key")
}

/// Every row of every table in the database, as text (bytea as hex), must hold none of the
/// secrets the fake issued, neither as text nor as the hex of its bytes.
fn assert_no_plaintext(pg: &PgDb, fakes: &Fakes) {
    let issued = fakes.get("/_fake/issued");
    let secrets: Vec<String> = issued["all"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|s| s.len() >= 8)
        .map(str::to_string)
        .collect();
    assert!(!secrets.is_empty(), "{issued}");
    let tables = pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    assert!(tables.iter().any(|t| t[0].as_deref() == Some("integ_secrets")), "{tables:?}");
    let mut scanned = 0;
    for t in tables {
        let table = t[0].clone().unwrap();
        for row in pg.query(&format!("SELECT t::text FROM \"{table}\" t")) {
            let text = row[0].clone().unwrap_or_default();
            scanned += 1;
            for s in &secrets {
                let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                assert!(!text.contains(s.as_str()) && !text.contains(&hex), "a token in plaintext in {table}");
            }
        }
    }
    assert!(scanned > 10, "{scanned} rows scanned");
}

#[test]
fn pg_database_store_shares_rotated_tokens_between_machines() {
    let Some(pg) = PgDb::new() else { return };
    let mut fakes = fakes(25, &[]);
    let key = format!("shared passphrase {}", rand_hex(8));
    let mut a = machine(&pg, &fakes, &key);
    let mut b = machine(&pg, &fakes, &key);
    a.curl_browser();
    a.run(&["connect", "jobber", "--timeout", "30"]).ok();
    let keys = pg.query("SELECT key FROM integ_secrets");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0][0].as_deref().unwrap().starts_with("jobber/"), "{keys:?}");

    // Machine B never connected: it syncs with the tokens A stored.
    b.run(&["sync", "jobs"]).ok();
    assert_eq!(refreshes(&fakes), 0);

    // The access token expires; B refreshes, and the fake rotates the single-use refresh token.
    fakes.advance(3700.0, &mut [&mut a, &mut b]);
    let before = secrets_rows(&pg);
    b.run(&["sync", "jobs"]).ok();
    assert_eq!(refreshes(&fakes), 1);
    assert_ne!(secrets_rows(&pg), before, "the rotated tokens were written");

    // A uses B's fresh access token without a refresh of its own...
    a.run(&["sync", "jobs"]).ok();
    assert_eq!(refreshes(&fakes), 1);
    // ...and, once that expires too, refreshes with the refresh token B got (the one A had
    // stored at connect time is dead: the fake refuses a rotated one).
    fakes.advance(3700.0, &mut [&mut a, &mut b]);
    a.run(&["sync", "jobs"]).ok();
    assert_eq!(refreshes(&fakes), 2);
    assert_eq!(b.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
    assert_no_plaintext(&pg, &fakes);

    // A wrong key: refused before anything is read or written, and said so.
    let rows = secrets_rows(&pg);
    let wrong = machine(&pg, &fakes, "another passphrase entirely");
    let out = wrong.run(&["sync", "jobs"]).code(2);
    assert!(out.stderr.contains("does not open the secrets in the database"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert!(!out.stderr.contains("another passphrase"), "{}", out.stderr);
    assert_eq!(secrets_rows(&pg), rows);
    assert_eq!(a.run(&["status", "--json"]).ok().json()[0]["state"], "connected");

    // A value sealed under another name does not open under this one (the name is bound to
    // the ciphertext): the client secret's row copied over the token row is refused.
    a.run_stdin(&["config", "set", "jobber.client_secret"], "a client secret\n").ok();
    let token_key = pg.query("SELECT key FROM integ_secrets WHERE key LIKE '%/tokens'")[0][0].clone().unwrap();
    pg.query(&format!(
        "UPDATE integ_secrets SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM integ_secrets \
         WHERE key = 'jobber/client_secret') WHERE key = '{token_key}'"
    ));
    let swapped = a.run(&["sync", "jobs"]).code(2);
    assert!(
        swapped.stderr.contains(&format!("the secret {token_key} in the database could not be decrypted")),
        "{}",
        swapped.stderr
    );
}

#[test]
fn pg_ten_machines_refresh_an_expired_token_once() {
    let Some(pg) = PgDb::new() else { return };
    // Tokens live 120 s and are refreshed in their last 60 s.
    let mut fakes = fakes(20, &["--jobber-restore-rate", "1000000", "--access-ttl", "120"]);
    // A raw 32-byte key, mounted as a file (the platform's secret store would do this).
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    let raw: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    std::fs::write(&key_file, &raw).unwrap();
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut homes: Vec<TestEnv> = (0..10)
        .map(|_| {
            let mut env = machine(&pg, &fakes, "");
            env.unset("INTEG_SECRET_KEY");
            env.set("INTEG_SECRET_KEY_FILE", key_file.display().to_string());
            env
        })
        .collect();
    homes[0].curl_browser();
    homes[0].run(&["connect", "jobber", "--timeout", "30"]).ok();
    {
        let mut refs: Vec<&mut TestEnv> = homes.iter_mut().collect();
        fakes.advance(100.0, &mut refs);
    }
    fakes.post("/_fake/stats/reset", serde_json::json!({}));
    let children: Vec<_> = homes
        .iter()
        .map(|env| env.cmd(&["sync", "jobs"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let mut codes = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        codes.push((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    for (code, stderr) in &codes {
        assert!(*code == 0 || *code == 5, "exit {code}: {stderr}");
    }
    assert!(codes.iter().any(|(c, _)| *c == 0), "{codes:?}");
    assert_eq!(refreshes(&fakes), 1, "{}", fakes.get("/_fake/stats"));
    assert_eq!(homes[3].run(&["status", "--json"]).ok().json()[0]["state"], "connected");

    // Forced refreshes take no sync lock: only the token row's lock keeps them apart. Each
    // must spend the refresh token the previous one stored, so the fake refuses none.
    fakes.post("/_fake/stats/reset", serde_json::json!({}));
    let children: Vec<_> = homes
        .iter()
        .map(|env| env.cmd(&["refresh", "--force"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["jobber"]["refresh_ok"], 10, "{stats}");
    assert_eq!(stats["jobber"]["refresh_failed"], 0, "{stats}");
    homes[7].run(&["sync", "jobs"]).ok();

    // The raw key never reached the database; only the salt and the key check are there.
    let raw_hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    for table in ["integ_secrets", "integ_secrets_key"] {
        for row in pg.query(&format!("SELECT t::text FROM {table} t")) {
            assert!(!row[0].as_deref().unwrap_or_default().contains(&raw_hex), "the key is in {table}");
        }
    }
    assert_no_plaintext(&pg, &fakes);
}

#[test]
fn pg_secrets_copy_moves_a_file_store_into_the_database_once() {
    let Some(pg) = PgDb::new() else { return };
    let fakes = fakes(15, &[]);
    // A machine with the encrypted file store and the data in PostgreSQL.
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    pg.env_for(&mut env);
    env.set("INTEG_DATABASE_URL", pg.url.clone());
    env.curl_browser();
    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    let secrets_file = env.home().join("secrets.enc");
    let file_before = std::fs::read(&secrets_file).ok();

    // Not while the store is the target itself.
    env.set("INTEG_SECRET_STORE", "database");
    let same = env.run(&["secrets", "copy", "--to", "database"]).code(2);
    assert!(same.stderr.contains("already database"), "{}", same.stderr);
    env.set("INTEG_SECRET_STORE", "file");

    let copied = env.run(&["secrets", "copy", "--to", "database"]).ok();
    let names: Vec<&str> = copied.stdout.lines().collect();
    assert_eq!(names.len(), 1, "{}", copied.stdout);
    assert!(names[0].starts_with("jobber/") && names[0].ends_with("/tokens"), "{names:?}");
    assert!(copied.stderr.contains("the source store is unchanged"), "{}", copied.stderr);
    let issued = fakes.get("/_fake/issued");
    for s in issued["all"].as_array().unwrap().iter().filter_map(|v| v.as_str()).filter(|s| s.len() >= 8) {
        assert!(!copied.stdout.contains(s) && !copied.stderr.contains(s), "a secret was printed");
    }
    assert_eq!(std::fs::read(&secrets_file).ok(), file_before, "the source was changed");

    // The database store now serves the sync.
    env.set("INTEG_SECRET_STORE", "database");
    env.run(&["sync", "jobs"]).ok();
    assert_no_plaintext(&pg, &fakes);

    // And back out of the database, into another machine's (empty) file store.
    let key = env.vars["INTEG_SECRET_KEY"].clone();
    let mut other = machine(&pg, &fakes, &key);
    let out = other.run(&["secrets", "copy", "--to", "file"]).ok();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), names);
    other.set("INTEG_SECRET_STORE", "file");
    other.run(&["sync", "jobs"]).ok();
    assert!(other.home().join("secrets.enc").exists());

    // A second copy would overwrite what is there now: refused.
    env.set("INTEG_SECRET_STORE", "file");
    let rows = pg.query("SELECT count(*) FROM integ_secrets");
    let again = env.run(&["secrets", "copy", "--to", "database"]).code(2);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
    assert_eq!(pg.query("SELECT count(*) FROM integ_secrets"), rows);

    // Another machine is filling the emptied table in a transaction of its own when the copy
    // starts: the copy's emptiness check waits for it (check and writes are one transaction,
    // the table locked), then finds the table full and writes nothing.
    pg.query("DELETE FROM integ_secrets");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let other_machine = other_session(
        &rt,
        &pg,
        "BEGIN; LOCK TABLE integ_secrets IN EXCLUSIVE MODE; \
         INSERT INTO integ_secrets (key, nonce, ciphertext, updated_at) \
         VALUES ('calendly/other/tokens', '\\x00', '\\x00', 'now')",
    );
    let racing =
        env.cmd(&["secrets", "copy", "--to", "database"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    rt.block_on(other_machine.batch_execute("COMMIT")).unwrap();
    let raced = racing.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&raced.stderr);
    assert_eq!(raced.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not empty") && stderr.contains("nothing was copied"), "{stderr}");
    assert_eq!(pg.query("SELECT key FROM integ_secrets"), vec![vec![Some("calendly/other/tokens".to_string())]]);
}

#[test]
fn database_store_without_a_database_is_a_usage_error() {
    let mut env = TestEnv::new();
    env.set("INTEG_SECRET_STORE", "database");
    let out = env.run_stdin(&["config", "set", "jobber.client_secret"], "a client secret\n").code(2);
    assert!(out.stderr.contains("needs a PostgreSQL database"), "{}", out.stderr);
    assert!(out.stderr.contains("INTEG_DATABASE_URL"), "{}", out.stderr);
}

#[test]
fn pg_a_refresh_waits_for_the_token_row_and_a_killed_one_changes_nothing() {
    let Some(pg) = PgDb::new() else { return };
    let fakes = fakes(5, &[]);
    let key = format!("shared passphrase {}", rand_hex(8));
    let mut a = machine(&pg, &fakes, &key);
    let b = machine(&pg, &fakes, &key);
    a.curl_browser();
    a.run(&["connect", "jobber", "--timeout", "30"]).ok();
    fakes.post("/_fake/stats/reset", serde_json::json!({}));
    let rows = secrets_rows(&pg);

    // Another machine is in the middle of a refresh: it holds the token row.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let holder = other_session(&rt, &pg, "BEGIN; SELECT key FROM integ_secrets FOR UPDATE");

    // A worker killed while it waits for the row leaves nothing behind.
    let mut waiting = b.cmd(&["refresh", "--force"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    crate::common::kill(waiting.id());
    let _ = waiting.wait();
    // One that waits out the row lock gives up (exit 5) without spending the refresh token.
    let started = std::time::Instant::now();
    let busy = b.run(&["refresh", "--force"]).code(5);
    assert!(started.elapsed() >= std::time::Duration::from_secs(9), "{:?}", started.elapsed());
    assert!(busy.stderr.contains("another process has held the secret jobber/"), "{}", busy.stderr);
    assert!(busy.stderr.contains("not refreshed"), "{}", busy.stderr);
    assert_eq!(refreshes(&fakes), 0);
    assert_eq!(secrets_rows(&pg), rows);

    // The other machine is done (here: gives up): the next refresh goes through.
    rt.block_on(holder.batch_execute("ROLLBACK")).unwrap();
    drop(holder);
    b.run(&["refresh", "--force"]).ok();
    assert_eq!(refreshes(&fakes), 1);
    a.run(&["sync", "jobs"]).ok();
    assert_eq!(a.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
}
