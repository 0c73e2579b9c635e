//! The foundation: status, doctor, config, the database rules, exit codes and completions.

use std::os::unix::fs::PermissionsExt;

use crate::common::{INTEG, TestEnv};

fn redact(env: &TestEnv, text: &str) -> String {
    text.replace(&env.dir.path().display().to_string(), "[TMP]")
}

#[test]
fn status_on_an_empty_home() {
    let env = TestEnv::new();
    let run = env.run(&["status", "--json"]).ok();
    assert_eq!(run.stdout.trim(), "[]");
    let run = env.run(&["status"]).ok();
    insta::assert_snapshot!(run.stdout, @"No accounts connected yet. Start with `integ connect jobber` (or google, microsoft, calendly).");
    // Reading status creates nothing.
    assert!(!env.home().join("integ.db").exists());
}

#[test]
fn doctor_reports_the_secret_backend_and_probe() {
    let env = TestEnv::new();
    let run = env.run(&["doctor"]).ok();
    let out = redact(&env, &run.stdout);
    assert!(out.contains("OK    secret store"), "{out}");
    assert!(out.contains("encrypted file"), "{out}");
    assert!(out.contains("write, read and delete probe passed"), "{out}");
    let json = env.run(&["doctor", "--json"]).ok().json();
    let checks = json.as_array().unwrap();
    assert!(checks.iter().any(|c| c["check"] == "database" && c["level"] == "OK"));
    // The database doctor created is private.
    let mode = std::fs::metadata(env.home().join("integ.db")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dmode = std::fs::metadata(env.home()).unwrap().permissions().mode() & 0o777;
    assert_eq!(dmode, 0o700);
}

#[test]
fn the_clock_is_an_input_and_doctor_says_when_it_is_pinned() {
    let mut env = TestEnv::new();
    env.set("INTEG_TEST_NOW", "2031-02-03T04:05:06Z");
    let json = env.run(&["doctor", "--json"]).ok().json();
    let clock = json.as_array().unwrap().iter().find(|c| c["check"] == "clock").cloned().expect("a clock check");
    assert_eq!(clock["level"], "WARN", "{clock}");
    assert!(clock["detail"].as_str().unwrap().contains("2031-02-03T04:05"), "{clock}");
    env.set("INTEG_TEST_NOW", "yesterday");
    let run = env.run(&["status"]).code(2);
    assert!(run.stderr.contains("INTEG_TEST_NOW") && run.stderr.contains("RFC 3339"), "{}", run.stderr);
}

#[test]
fn doctor_fails_without_a_key_for_the_file_store() {
    let mut env = TestEnv::new();
    env.unset("INTEG_SECRET_KEY");
    let run = env.run(&["doctor"]).code(1);
    assert!(run.stdout.contains("FAIL  secret store"), "{}", run.stdout);
    assert!(run.stdout.contains("INTEG_SECRET_KEY"), "{}", run.stdout);
}

#[test]
fn newer_database_is_refused_and_left_byte_for_byte() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.home()).unwrap();
    let db = env.home().join("integ.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE connections (x); PRAGMA user_version = 42;").unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let run = env.run(&["status"]).code(2);
    assert!(run.stderr.contains("schema version 42"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: upgrade integ"), "{}", run.stderr);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    let run = env.run(&["--json", "status"]).code(2);
    assert_eq!(run.json()["error"]["exit_code"], 2);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn config_layers_and_redacts_secrets() {
    let mut env = TestEnv::new();
    env.run(&["config", "set", "jobber.client_id", "from-file"]).ok();
    let run = env.run(&["config", "get", "jobber.client_id"]).ok();
    assert_eq!(run.stdout.trim(), "from-file");
    env.set("JOBBER_CLIENT_ID", "from-env");
    assert_eq!(env.run(&["config", "get", "jobber.client_id"]).ok().stdout.trim(), "from-env");

    // A secret is refused as an argument, accepted on stdin, stored in the secret store only.
    let secret = format!("sekrit-{}", crate::common::rand_hex(12));
    let run = env.run(&["config", "set", "jobber.client_secret", &secret]).code(2);
    assert!(run.stderr.contains("cannot be given as an argument"));
    env.run_stdin(&["config", "set", "jobber.client_secret"], &format!("{secret}\n")).ok();
    let list = env.run(&["config", "list"]).ok();
    assert!(list.stdout.contains("(redacted)"), "{}", list.stdout);
    let json = env.run(&["config", "list", "--json"]).ok().json();
    let row = json.as_array().unwrap().iter().find(|r| r["key"] == "jobber.client_secret").unwrap().clone();
    assert_eq!(row["value"], "(redacted)");
    assert_eq!(row["source"], "secret store");
    for file in walk(&env.home()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, secret.as_bytes()), "secret found in {}", file.display());
    }
    // Another process reads it back (file store persistence across processes).
    let run = env.run(&["config", "get", "jobber.client_secret"]).ok();
    assert!(run.stderr.contains("set (secret store)"), "{}", run.stderr);
    assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));
    let cfg_mode = std::fs::metadata(env.home().join("config.toml")).unwrap().permissions().mode() & 0o777;
    assert_eq!(cfg_mode, 0o600);
}

#[test]
fn bad_configuration_is_exit_2_naming_the_variable() {
    let mut env = TestEnv::new();
    env.set("INTEG_GOOGLE_TOKEN_URL", "http://example.com/token");
    env.set("GOOGLE_CLIENT_ID", "x");
    env.set("GOOGLE_CLIENT_SECRET", "y");
    let run = env.run(&["connect", "google", "--no-browser", "--timeout", "1"]).code(2);
    assert!(run.stderr.contains("google.token_url"), "{}", run.stderr);
    assert!(run.stderr.contains("INTEG_GOOGLE_TOKEN_URL"), "{}", run.stderr);
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(env.home().join("config.toml"), "[jobber]\nclient_secret = \"oops\"\n").unwrap();
    env.unset("INTEG_GOOGLE_TOKEN_URL");
    let run = env.run(&["config", "list"]).code(2);
    assert!(run.stderr.contains("plain text") && !run.stderr.contains("oops"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    env.run(&["connect", "myspace"]).code(2);
    env.run(&["frobnicate"]).code(2);
    let run = env.run(&["connect", "jobber", "--token-stdin"]).code(2);
    insta::assert_snapshot!(run.stderr, @r"
    error: --token-stdin is only for Calendly personal access tokens
    hint: run `integ connect jobber` to sign in through the browser
    ");
}

#[test]
fn missing_client_id_names_the_fix() {
    let env = TestEnv::new();
    let run = env.run(&["connect", "microsoft", "--no-browser"]).code(2);
    insta::assert_snapshot!(run.stderr, @r"
    error: no Microsoft Outlook client id is configured
    hint: set MICROSOFT_CLIENT_ID, or run `integ config set microsoft.client_id VALUE`
    ");
}

#[test]
fn completions_in_the_repo_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "integ.bash"),
        ("zsh", "_integ"),
        ("fish", "integ.fish"),
        ("powershell", "_integ.ps1"),
        ("elvish", "integ.elv"),
    ] {
        let out = std::process::Command::new(INTEG).args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let want = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            want.trim_end(),
            "completions/{file} is stale: run scripts/completions.sh"
        );
    }
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn one_sqlite_and_one_tls_stack_in_the_dependency_tree() {
    let mut cargo = std::process::Command::new(env!("CARGO"));
    // cargo hangs under libfaketime: the suite's faketime pass must not reach it.
    for (k, _) in std::env::vars().filter(|(k, _)| crate::common::is_faketime_var(k)) {
        cargo.env_remove(k);
    }
    let out = cargo
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sqlite: Vec<&str> = text.lines().filter(|l| l.starts_with("libsqlite3-sys ")).collect();
    sqlite.sort();
    sqlite.dedup();
    assert_eq!(sqlite.len(), 1, "exactly one SQLite: {sqlite:?}");
    for banned in ["openssl-sys ", "native-tls ", "aws-lc-sys "] {
        assert!(!text.lines().any(|l| l.starts_with(banned)), "{banned}is in the tree: one TLS stack (rustls) only");
    }
}
