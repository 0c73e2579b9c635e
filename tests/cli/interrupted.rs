//! Stops and interruptions around a token refresh: Jobber and Calendly rotate single-use
//! refresh tokens, so the answer of a refresh must reach the secret store whatever happens to
//! the process, and a refresh that could not store its answer must not be started.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Fakes, TestEnv, a_run_is_going, connected, db, finish_within, hold_lock, kill};

fn jobber(extra: &[&str]) -> (TestEnv, Fakes) {
    connected("jobber", extra, |_| {})
}

fn signal(child: &Child, name: &str) {
    let ok = std::process::Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

fn refresh_requests(fakes: &Fakes) -> u64 {
    fakes.get("/_fake/stats")["jobber"]["token_requests"]["refresh_token"].as_u64().unwrap_or(0)
}

#[test]
fn a_stop_while_a_rotated_token_is_in_flight_waits_until_it_is_saved() {
    for sig in ["TERM", "INT", "HUP"] {
        let (env, fakes) = jobber(&[]);
        fakes.post("/_fake/stats/reset", json!({}));
        // Jobber answers the refresh (and has already retired the old token) 2 s later.
        fakes.post(
            "/_fake/faults",
            json!({"rate": 1.0, "kinds": ["slow"], "slow_ms": 2000, "provider": "jobber", "token": true}),
        );
        let child =
            env.cmd(&["refresh", "jobber", "--force"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        while refresh_requests(&fakes) == 0 {
            assert!(start.elapsed() < Duration::from_secs(20), "the refresh request never arrived");
            std::thread::sleep(Duration::from_millis(10));
        }
        signal(&child, sig);
        let run = finish_within(child, Duration::from_secs(30)).any();
        let (code, stderr) = (run.code, run.stderr);
        let want = match sig {
            "TERM" => 143,
            "INT" => 130,
            _ => 129,
        };
        assert_eq!(code, want, "SIG{sig}: {stderr}");
        assert!(stderr.contains(&format!("stopped by SIG{sig}")), "{stderr}");
        // The rotated token was saved: the grant still works without a person.
        fakes.post("/_fake/faults", json!({"rate": 0.0}));
        env.run(&["refresh", "jobber", "--force"]).ok();
        assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
    }
}

#[test]
fn a_stop_mid_sync_ends_cleanly_and_records_the_run_as_interrupted() {
    let seed = ["--jobber-seed-jobs", "400", "--jobber-restore-rate", "1000000", "--latency-ms", "200"];
    let (env, fakes) = jobber(&seed);
    let child = env.cmd(&["sync", "jobs"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while !a_run_is_going(&env) {
        assert!(start.elapsed() < Duration::from_secs(20), "the sync never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let run = finish_within(child, Duration::from_secs(10)).any();
    assert_eq!(run.code, 143, "{}", run.stderr);
    let (outcome, error): (String, String) = db(&env)
        .query_row("SELECT outcome, error FROM sync_runs ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(outcome, "interrupted");
    assert!(error.contains("SIGTERM"), "{error}");
    fakes.post("/_fake/latency", json!({"ms": 0}));
    env.run(&["sync", "jobs"]).ok();
    let stored: i64 =
        db(&env).query_row("SELECT count(*) FROM jobs WHERE deleted_at IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 400);
}

#[test]
fn a_secret_store_that_cannot_be_written_now_means_no_refresh_at_all() {
    let (env, fakes) = jobber(&[]);
    fakes.post("/_fake/stats/reset", json!({}));
    // Another process holds the encrypted file's lock (a long `integ config set`, a stuck run).
    let mut holder = hold_lock(&env.home().join("locks").join("secrets.lock"));
    let child =
        env.cmd(&["refresh", "jobber", "--force"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let run = finish_within(child, Duration::from_secs(40)).any();
    kill(holder.id());
    let _ = holder.wait();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("secret store cannot be written now"), "{}", run.stderr);
    assert_eq!(refresh_requests(&fakes), 0, "the refresh token was not spent");
    // Nothing was lost: the next run refreshes.
    env.run(&["refresh", "jobber", "--force"]).ok();
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
}

#[test]
fn a_throttled_token_endpoint_is_not_a_dead_grant() {
    let (env, _fakes) = connected("calendly", &["--calendly-token-rate-limit", "2"], |_| {});
    env.run(&["refresh", "calendly", "--force"]).ok();
    // The third token request in a minute gets Calendly's 429.
    let run = env.run(&["refresh", "calendly", "--force"]).code(1);
    assert!(run.stderr.contains("429"), "{}", run.stderr);
    let status = env.run(&["status", "--json"]).any();
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_eq!(status.json()[0]["state"], "connected");
}

#[test]
fn sigterm_at_any_moment_of_a_refresh_or_sync_never_needs_a_reconnect() {
    // Jobber rotates refresh tokens; its answers come 300 ms late, so some stops land while a
    // rotated token is in flight, others before the request or after the save, or mid-sync.
    let (mut env, fakes) = jobber(&["--jobber-seed-jobs", "60", "--jobber-restore-rate", "1000000"]);
    env.set("INTEG_JOBBER_OVERLAP_MINUTES", "1");
    fakes.post(
        "/_fake/faults",
        json!({"rate": 1.0, "kinds": ["slow"], "slow_ms": 300, "provider": "jobber", "token": true}),
    );
    let seed: u64 = std::env::var("INTEG_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(7)
    });
    eprintln!("seed {seed} (INTEG_TEST_SEED replays it)");
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..12 {
        let args: &[&str] = if i % 2 == 0 { &["refresh", "jobber", "--force"] } else { &["sync", "jobs"] };
        let child = env.cmd(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        // integ holds the stop signals from the first line of `main` (a stop during start-up
        // waits for the handlers); before that, while the loader and Rust's runtime start, only
        // the default action exists, so the stops come from 20 ms on.
        std::thread::sleep(Duration::from_millis(20 + next() % 900));
        signal(&child, "TERM");
        let run = finish_within(child, Duration::from_secs(60)).any();
        assert!(matches!(run.code, 0 | 143), "{args:?} after SIGTERM: {} {}", run.code, run.stderr);
    }
    fakes.post("/_fake/faults", json!({"rate": 0.0}));
    env.run(&["refresh", "jobber", "--force"]).ok();
    env.run(&["sync", "jobs"]).ok();
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
}
