//! Running from cron for months: schedules, time budgets, logs, overlapping runs, a busy or full
//! database, an unavailable keyring, several accounts where one fails.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Fakes, TestEnv, db, free_port, make_executable, rand_hex};
use crate::foundation::{contains, walk};
use crate::sync::{assert_matches_truth, jobber, sync};

/// A test environment whose secret-store passphrase is in a key file, as a schedule needs it.
fn with_key_file() -> TestEnv {
    let mut env = TestEnv::new();
    let key_file = env.dir.path().join("key");
    std::fs::write(&key_file, "a passphrase").unwrap();
    env.unset("INTEG_SECRET_KEY");
    env.set("INTEG_SECRET_KEY_FILE", key_file.display().to_string());
    env
}

#[test]
fn schedule_prints_cron_systemd_and_launchd() {
    let env = with_key_file();
    let home = env.home().display().to_string();
    let cron = env.run(&["schedule", "--cron", "--every", "15m"]).ok().stdout;
    assert!(cron.starts_with("*/15 * * * * "), "{cron}");
    assert!(cron.contains(&format!("INTEG_HOME={home}")), "{cron}");
    assert!(cron.contains("INTEG_SECRET_STORE=file") && cron.contains("INTEG_SECRET_KEY_FILE="), "{cron}");
    assert!(cron.contains(" sync --quiet --max-duration 840s --log-file "), "{cron}");
    let systemd = env.run(&["schedule", "--systemd", "--every", "1h"]).ok().stdout;
    assert!(systemd.contains("[Timer]") && systemd.contains("OnUnitActiveSec=3600s"), "{systemd}");
    assert!(systemd.contains("ExecStart=") && systemd.contains("--max-duration 3540s"), "{systemd}");
    let launchd = env.run(&["schedule", "--launchd"]).ok().stdout;
    assert!(launchd.contains("<key>StartInterval</key><integer>900</integer>"), "{launchd}");
    env.run(&["schedule", "--cron", "--every", "7m"]).code(2);
}

#[test]
fn schedule_never_embeds_the_secret_key() {
    let env = TestEnv::new();
    let key = env.vars["INTEG_SECRET_KEY"].clone();
    let run = env.run(&["schedule", "--cron"]).code(2);
    assert!(run.stderr.contains("secret_key_file"), "{}", run.stderr);
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
}

/// A schedule carries the database's URL and where its password file is, never a password:
/// one in the URL is refused, one in INTEG_DATABASE_PASSWORD is left out with a warning that
/// says where scheduled runs can find it.
#[test]
fn schedule_passes_the_database_on_but_never_its_password() {
    let mut env = with_key_file();
    let password = format!("pw-{}", rand_hex(12));
    env.set("INTEG_DATABASE_URL", format!("postgres://integ:{password}@127.0.0.1:5432/integ"));
    let refused = env.run(&["schedule", "--cron"]).code(2);
    assert!(refused.stderr.contains("holds a password") && refused.stderr.contains("~/.pgpass"), "{}", refused.stderr);
    env.set("INTEG_DATABASE_URL", "postgres://integ@127.0.0.1:5432/integ");
    env.set("INTEG_DATABASE_PASSWORD", password.clone());
    let pgpass = env.dir.path().join("pgpass");
    env.set("PGPASSFILE", pgpass.display().to_string());
    let cron = env.run(&["schedule", "--cron"]).ok();
    assert!(cron.stdout.contains("INTEG_DATABASE_URL=postgres://integ@127.0.0.1:5432/integ"), "{}", cron.stdout);
    assert!(cron.stdout.contains(&format!("PGPASSFILE={}", pgpass.display())), "{}", cron.stdout);
    assert!(cron.stderr.contains("INTEG_DATABASE_PASSWORD is not passed to the schedule"), "{}", cron.stderr);
    assert!(!cron.stdout.contains("INTEG_DATABASE_PASSWORD"), "{}", cron.stdout);
    for out in [&refused.stdout, &refused.stderr, &cron.stdout, &cron.stderr] {
        assert!(!out.contains(&password), "the password leaked:\n{out}");
    }
}

#[test]
fn schedule_install_writes_the_crontab() {
    let mut env = with_key_file();
    // A stand-in crontab keeps the table in a file.
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let table = env.dir.path().join("crontab.txt");
    std::fs::write(&table, "MAILTO=me\n0 3 * * * backup\n").unwrap();
    let script = bin.join("crontab");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nif [ \"$1\" = -l ]; then cat '{t}'; else cat > '{t}'; fi\n", t = table.display()),
    )
    .unwrap();
    make_executable(&script);
    let path = format!("{}:{}", bin.display(), env.vars["PATH"]);
    env.set("PATH", path);
    env.run(&["schedule", "--cron", "--install"]).ok();
    env.run(&["schedule", "--cron", "--install", "--every", "30m"]).ok();
    let text = std::fs::read_to_string(&table).unwrap();
    assert!(text.starts_with("MAILTO=me\n0 3 * * * backup\n"), "{text}");
    assert_eq!(text.matches("managed by `integ schedule`").count(), 1, "reinstalling replaces the line: {text}");
    assert!(text.contains("*/30 * * * *"), "{text}");
}

#[test]
fn max_duration_stops_cleanly_and_the_next_run_continues() {
    let (env, fakes) = jobber(400, &["--jobber-restore-rate", "1000000", "--latency-ms", "150"]);
    let run = sync(&env, &["--max-duration", "1s"]).ok();
    assert!(run.stderr.contains("--max-duration reached"), "{}", run.stderr);
    let conn = db(&env);
    let partial: i64 =
        conn.query_row("SELECT count(*) FROM sync_runs WHERE outcome = 'partial'", [], |r| r.get(0)).unwrap();
    assert_eq!(partial, 1);
    let stored: i64 = conn.query_row("SELECT count(*) FROM jobs", [], |r| r.get(0)).unwrap();
    assert!(stored > 0 && stored < 400, "some progress was committed: {stored}");
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
}

#[test]
fn log_file_is_timestamped_and_free_of_secrets() {
    let (mut env, mut fakes) = jobber(30, &["--jobber-restore-rate", "1000000", "--access-ttl", "4"]);
    env.set("RUST_LOG", "trace");
    fakes.advance(2.5, &mut [&mut env]); // the access token now needs a refresh
    let log = env.dir.path().join("logs/sync.log");
    let run = env.run(&["sync", "--log-file", log.to_str().unwrap(), "--json"]).ok();
    let summary = run.json();
    assert_eq!(summary.as_array().unwrap().len(), 2, "clients and jobs: {summary}");
    assert_eq!(summary[1]["stream"], "jobs");
    assert_eq!(summary[1]["fetched"], 30);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().count() > 5, "{text}");
    assert!(text.lines().all(|l| l.starts_with("20")), "every log line starts with a timestamp:\n{text}");
    assert!(text.contains("tokens refreshed"), "{text}");
    let issued = fakes.get("/_fake/issued");
    for s in issued["all"].as_array().unwrap().iter().filter_map(|v| v.as_str()).filter(|s| s.len() >= 8) {
        assert!(!contains(text.as_bytes(), s.as_bytes()), "a secret leaked into the log");
        assert!(!contains(run.stderr.as_bytes(), s.as_bytes()), "a secret leaked into stderr");
    }
    // Off a terminal, stderr lines carry the time too.
    let plain = env.run(&["sync"]).ok();
    assert!(
        plain
            .stderr
            .lines()
            .filter(|l| !l.is_empty() && !l.contains("TRACE") && !l.contains("DEBUG"))
            .all(|l| l.starts_with("20")),
        "{}",
        plain.stderr
    );
}

#[test]
fn ten_concurrent_syncs_refresh_once_and_end_0_or_5() {
    // Tokens live 6 s and are refreshed in their last 3 s: by the time the runs start, one is due.
    let (mut env, mut fakes) = jobber(20, &["--jobber-restore-rate", "1000000", "--access-ttl", "6"]);
    fakes.advance(3.5, &mut [&mut env]);
    fakes.post("/_fake/stats/reset", serde_json::json!({}));
    let children: Vec<_> =
        (0..10).map(|_| env.cmd(&["sync"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()).collect();
    let mut codes = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        codes.push((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    for (code, stderr) in &codes {
        assert!(*code == 0 || *code == 5, "exit {code}: {stderr}");
    }
    assert!(codes.iter().any(|(c, _)| *c == 0));
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["jobber"]["token_requests"]["refresh_token"], 1, "{stats}");
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
}

#[test]
fn database_held_by_another_writer_waits_and_succeeds() {
    let (env, fakes) = jobber(50, &["--jobber-restore-rate", "1000000"]);
    sync(&env, &[]).ok();
    let db = env.home().join("integ.db");
    // On PostgreSQL the other writer holds the row locks of every job (the sync's upserts of
    // the edited jobs wait for them); on SQLite the database's write lock.
    let pg = env.pg.as_ref().map(|pg| pg.url_and_password());
    let holder = std::thread::spawn(move || {
        if let Some((url, password)) = pg {
            crate::pgback::hold(
                &url,
                &password,
                "BEGIN; UPDATE jobs SET title = title;",
                Duration::from_secs(3),
                "COMMIT",
            );
            return;
        }
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE; UPDATE jobs SET title = title;").unwrap();
        std::thread::sleep(Duration::from_secs(3));
        c.execute_batch("COMMIT").unwrap();
    });
    std::thread::sleep(Duration::from_millis(200));
    fakes.post("/_fake/jobber/mutate", serde_json::json!({"edit": 5, "add": 2, "seed": 9}));
    let started = Instant::now();
    sync(&env, &[]).ok();
    assert!(started.elapsed() >= Duration::from_secs(2), "the sync waited for the writer");
    holder.join().unwrap();
    assert_matches_truth(&env, &fakes);
}

/// A tiny tmpfs as INTEG_HOME, unmounted on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| SmallDisk(dir.to_path_buf()))
    }
    fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_disk_fails_cleanly_and_the_next_run_completes() {
    let redirect = format!("http://localhost:{}/callback/jobber", free_port());
    let fakes = Fakes::start(&[
        "--jobber-redirect-uri",
        &redirect,
        "--jobber-seed-jobs",
        "800",
        "--jobber-restore-rate",
        "1000000",
    ]);
    let mut env = TestEnv::new();
    if crate::common::sqlite_only(&env, "fills the disk under the SQLite file; PostgreSQL's disk is the server's") {
        return;
    }
    fakes.apply(&mut env);
    env.curl_browser();
    let Some(disk) = SmallDisk::mount(&env.home(), "600k") else {
        assert!(std::env::var("INTEG_TEST_REQUIRE_KEYRING").is_err(), "CI runs as root and can mount a tmpfs");
        eprintln!("skipping: cannot mount a tmpfs here (needs root)");
        return;
    };
    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    let run = sync(&env, &[]).code(1);
    assert!(run.stderr.contains("disk has no space left") || run.stderr.contains("database is full"), "{}", run.stderr);
    let conn = rusqlite::Connection::open(env.home().join("integ.db")).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    drop(conn);
    disk.grow("64m");
    sync(&env, &[]).ok();
    assert_matches_truth(&env, &fakes);
    drop(disk);
}

#[test]
fn keyring_unavailable_is_a_clear_error_and_loses_nothing() {
    let (mut env, _fakes) = jobber(10, &["--jobber-restore-rate", "1000000"]);
    sync(&env, &[]).ok();
    let db = env.home().join("integ.db");
    let before: i64 =
        rusqlite::Connection::open(&db).unwrap().query_row("SELECT count(*) FROM jobs", [], |r| r.get(0)).unwrap();
    // Point integ at a keyring that is not there (cron without a D-Bus session).
    env.set("INTEG_SECRET_STORE", "keyring");
    env.set("INTEG_KEYRING_BACKEND", "secret-service");
    env.set("DBUS_SESSION_BUS_ADDRESS", format!("unix:path=/nonexistent/{}", rand_hex(4)));
    let run = env.run(&["sync"]).code(2);
    assert!(run.stderr.contains("keyring") && run.stderr.contains("INTEG_SECRET_STORE=file"), "{}", run.stderr);
    let status = env.run(&["status", "--json"]).code(2);
    assert!(status.json()[0]["action"].as_str().unwrap().contains("secret store cannot be read"), "{}", status.stdout);
    // Back on the right store, everything is still there.
    env.set("INTEG_SECRET_STORE", "file");
    let after: i64 =
        rusqlite::Connection::open(&db).unwrap().query_row("SELECT count(*) FROM jobs", [], |r| r.get(0)).unwrap();
    assert_eq!(before, after);
    sync(&env, &[]).ok();
}

#[test]
fn one_account_failing_does_not_stop_the_others() {
    let redirect = format!("http://localhost:{}/callback/jobber", free_port());
    let fakes = Fakes::start(&[
        "--jobber-redirect-uri",
        &redirect,
        "--jobber-seed-jobs",
        "25",
        "--jobber-restore-rate",
        "1000000",
    ]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.curl_browser();
    env.run(&["connect", "jobber", "--account", "first", "--timeout", "30"]).ok();
    fakes.post("/_fake/jobber/login", serde_json::json!({"id": "second-account", "name": "Second Co"}));
    env.run(&["connect", "jobber", "--account", "second", "--timeout", "30"]).ok();
    fakes.post("/_fake/jobber/disconnect", serde_json::json!({"user": "second-account"}));
    let run = env.run(&["sync"]).code(4);
    assert!(run.stderr.contains("integ connect jobber --account 'second'"), "{}", run.stderr);
    let status = env.run(&["status", "--json"]).code(4).json();
    let by_label = |l: &str| status.as_array().unwrap().iter().find(|c| c["account"] == l).unwrap().clone();
    assert_eq!(by_label("first")["state"], "connected");
    assert!(
        by_label("first")["streams"].as_array().unwrap().iter().any(|s| s["stream"] == "jobs" && s["outcome"] == "ok")
    );
    assert_eq!(by_label("second")["state"], "reconnect_needed");
    let _ = walk(&env.home());
}
