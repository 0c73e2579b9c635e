//! What users see, pinned: the help of every command, the `status` table and its JSON, the
//! sync summary lines, `doctor`, and the `error:` / `caused by:` / `hint:` blocks, human and
//! `--json`.
//!
//! The snapshots live in `tests/cli/snapshots/`. What changes from run to run or from machine to
//! machine is redacted before comparing: the temporary home, instants, loopback ports, long hex
//! and the durations of a run; help is rendered at a pinned width (COLUMNS=100) and every run
//! in UTC. The suite's clock is pinned (see `common`), so the numbers in the summaries do not
//! depend on the date either.
//!
//! To accept an intended change of output, run
//! `INSTA_UPDATE=always cargo nextest run -E 'test(/^snapshots::/)'` (or `cargo insta review`
//! where cargo-insta is installed), read the diff of the `.snap` files and commit them with the
//! change. A missing or different snapshot fails the test; under `CI=true` insta never writes
//! one. Help snapshots of commands that no longer exist fail the walk until deleted.

use std::path::Path;

use serde_json::json;

use crate::common::{Fakes, Outcome, TestEnv, free_port, hold_lock};

/// A test environment whose output does not depend on the terminal or the machine's zone.
fn pinned_env() -> TestEnv {
    let mut env = TestEnv::new();
    // clap wraps help at the terminal's width (at most 100 columns, see `Cli`); without a
    // terminal it reads COLUMNS. Pin it so help wraps the same everywhere.
    env.set("COLUMNS", "100");
    env.set("TZ", "UTC");
    env
}

/// Redactions that make output stable on any machine and date; `env`'s temporary folder first,
/// so paths inside it keep their shape.
fn settings(env: &TestEnv) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    let tmp = env.dir.path().display().to_string();
    s.add_filter(&regex_escape(&tmp), "[TMP]");
    // Any other temporary folder (tempfile's names).
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    // Instants: RFC 3339 (the database's form, whole seconds) or a local date and time. Their
    // length never varies, so table columns keep their widths.
    s.add_filter(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", "[TIME]");
    // Loopback ports.
    s.add_filter(r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[PORT]");
    s.add_filter(r"\bport \d+", "port [PORT]");
    // Long random hex (secret keys, lock names).
    s.add_filter(r"\b[0-9a-f]{16,}\b", "[HEX]");
    s
}

/// [`settings`], and the durations of a run (`0.0 s waiting; 1.2 s`, `"duration_secs": 0.4`),
/// which depend on the machine's speed.
fn run_settings(env: &TestEnv) -> insta::Settings {
    let mut s = settings(env);
    s.add_filter(r"\b\d+(\.\d+)? s\b", "[DUR]");
    s.add_filter(r#""(duration_secs|waited_secs)": \d+(\.\d+)?"#, r#""$1": "[DUR]""#);
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' { c.to_string() } else { format!("\\{c}") }
        })
        .collect()
}

/// Both streams of a run and its exit code, as one text.
fn shown(run: &Outcome) -> String {
    format!("exit: {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr)
}

/// The subcommands a help text lists under `Commands:` (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn help_of_every_command() {
    let env = pinned_env();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = env.run(&args).ok();
        assert!(run.stderr.is_empty(), "integ {args:?}: {}", run.stderr);
        for sub in subcommands(&run.stdout) {
            let mut p = path.clone();
            p.push(sub);
            todo.push(p);
        }
        let name = if path.is_empty() { "help".to_string() } else { format!("help_{}", path.join("_")) };
        settings(&env)
            .bind(|| insta::assert_snapshot!(name.as_str(), run.stdout, &format!("integ {}", args.join(" "))));
        seen.insert(format!("{name}.snap"));
    }
    // The walk reached the nested commands (jobs show, calendars list, config set, ...).
    assert!(seen.len() >= 24, "only {} commands walked", seen.len());
    // A command that went away leaves no help snapshot behind.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/snapshots");
    let stale: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("help") && f.ends_with(".snap") && !seen.contains(f))
        .collect();
    assert!(stale.is_empty(), "help snapshots of commands that no longer exist (delete them): {stale:?}");
}

#[test]
fn doctor_on_a_fresh_home() {
    let env = pinned_env();
    let run = env.run(&["doctor"]).ok();
    let json = env.run(&["doctor", "--json"]).ok();
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("doctor", shown(&run));
        insta::assert_json_snapshot!("doctor_json", json.json());
    });
}

/// Two Jobber accounts and a Google account against one fake, jobs and events synced.
struct Realistic {
    env: TestEnv,
    fakes: Fakes,
    sync_jobs: Outcome,
    sync_events: Outcome,
}

fn realistic() -> Realistic {
    let redirect = format!("http://localhost:{}/callback/jobber", free_port());
    let fakes = Fakes::start(&[
        "--jobber-redirect-uri",
        &redirect,
        "--jobber-seed-jobs",
        "25",
        "--jobber-restore-rate",
        "1000000",
        "--google-seed-events",
        "40",
        "--calendar-seed",
        "7",
    ]);
    let mut env = pinned_env();
    fakes.apply(&mut env);
    env.set("INTEG_EVENTS_PAST_DAYS", "30");
    env.set("INTEG_EVENTS_FUTURE_DAYS", "60");
    env.curl_browser();
    env.run(&["connect", "jobber", "--account", "acme", "--timeout", "30"]).ok();
    fakes.post("/_fake/jobber/login", json!({"id": "second-account", "name": "Second Co"}));
    env.run(&["connect", "jobber", "--account", "second", "--timeout", "30"]).ok();
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    let sync_jobs = env.run(&["sync", "jobs"]).ok();
    let sync_events = env.run(&["sync", "events"]).ok();
    Realistic { env, fakes, sync_jobs, sync_events }
}

#[test]
fn sync_summaries_status_and_a_reconnect() {
    let Realistic { env, fakes, sync_jobs, sync_events } = realistic();
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("sync_jobs", shown(&sync_jobs));
        insta::assert_snapshot!("sync_events", shown(&sync_events));
    });
    // The second Jobber account's grant is revoked at the provider: it needs a reconnect.
    fakes.post("/_fake/jobber/disconnect", json!({"user": "second-account"}));
    let sync = env.run(&["sync"]).code(4);
    let sync_json = env.run(&["--json", "sync", "jobs", "--provider", "jobber", "--account", "second"]).code(4);
    let status = env.run(&["status"]).code(4);
    let status_json = env.run(&["status", "--json"]).code(4);
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("error_reconnect_needed", shown(&sync));
        insta::assert_snapshot!("error_reconnect_needed_json", shown(&sync_json));
        insta::assert_snapshot!("status", shown(&status));
        insta::assert_json_snapshot!("status_json", status_json.json());
    });
}

#[test]
fn error_missing_credentials() {
    let env = pinned_env();
    let run = env.run(&["connect", "microsoft", "--no-browser"]).code(2);
    let json = env.run(&["--json", "connect", "microsoft", "--no-browser"]).code(2);
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("error_missing_credentials", shown(&run));
        insta::assert_snapshot!("error_missing_credentials_json", shown(&json));
    });
}

/// The loopback port the sign-in would listen on is taken: a usage error.
#[test]
fn error_port_taken() {
    let mut env = pinned_env();
    env.set("GOOGLE_CLIENT_ID", "id").set("GOOGLE_CLIENT_SECRET", "secret");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let args = ["connect", "google", "--no-browser", "--port", port.as_str(), "--timeout", "5"];
    let run = env.run(&args).code(2);
    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let json = env.run(&json_args).code(2);
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("error_port_taken", shown(&run));
        insta::assert_snapshot!("error_port_taken_json", shown(&json));
    });
}

/// A cause chain: Jobber answers every request with a 500, retries run out.
#[test]
fn error_with_causes_provider_fails() {
    let (mut env, fakes) = crate::sync::jobber(5, &["--jobber-restore-rate", "1000000"]);
    env.set("COLUMNS", "100").set("TZ", "UTC");
    fakes.post("/_fake/faults", json!({"rate": 1, "kinds": ["500"], "provider": "jobber"}));
    let run = env.run(&["sync", "jobs"]).code(1);
    let json = env.run(&["--json", "sync", "jobs"]).code(1);
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("error_provider_fails", shown(&run));
        insta::assert_snapshot!("error_provider_fails_json", shown(&json));
    });
}

#[test]
fn error_lock_held() {
    let (env, _fakes) = crate::sync::jobber(5, &["--jobber-restore-rate", "1000000"]);
    let mut env = env;
    env.set("COLUMNS", "100").set("TZ", "UTC");
    env.run(&["sync", "jobs"]).ok();
    let lock = lock_file(&env.home().join("locks"), "sync-jobber-");
    let mut holder = hold_lock(&lock);
    let run = env.run(&["sync", "jobs"]).code(5);
    let json = env.run(&["--json", "sync", "jobs"]).code(5);
    let _ = holder.kill();
    let _ = holder.wait();
    run_settings(&env).bind(|| {
        insta::assert_snapshot!("error_lock_held", shown(&run));
        insta::assert_snapshot!("error_lock_held_json", shown(&json));
    });
}

fn lock_file(dir: &Path, prefix: &str) -> std::path::PathBuf {
    crate::foundation::walk(dir)
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}* lock in {}", dir.display()))
}
