//! The test environment: a fresh `INTEG_HOME` per test, the real `integ` binary with a clean
//! environment, and (where needed) a private instance of the provider fakes.
//!
//! Time is an input. Every fake starts its clock at [`ANCHOR`] (`serve --now`) and every integ
//! process gets the same clock through `INTEG_TEST_NOW`: the anchor plus however long the test
//! has been running, read from the fake it talks to. So fixtures sit where the tests expect them
//! whatever the date, and a token that expires in two seconds still expires in two seconds.
//! libfaketime's variables pass through to integ (the fakes inherit them anyway), which is how
//! the suite's second pass proves that the machine's date no longer matters.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const INTEG: &str = env!("CARGO_BIN_EXE_integ");
/// The fakes' binary: built beside this test binary by the workspace's `integ-fakes` package
/// (`cargo build`, `cargo nextest run` and `scripts/test` build it; `-p integ` alone does not).
pub static FAKES: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(|| {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/cli-<hash> -> target/<profile>/integ-fakes
    let bin = exe.parent().and_then(Path::parent).map(|d| d.join("integ-fakes")).expect("a target folder");
    assert!(bin.exists(), "{} is missing: build it with `cargo build -p integ-fakes`", bin.display());
    bin
});

/// The instant the suite's clocks start at; the calendar fixtures are written for it.
pub const ANCHOR: &str = "2026-11-21T12:00:00Z";

/// The date `days` after the day of [`ANCHOR`] (a Saturday), as `YYYY-MM-DD`: tests name days
/// of the pinned clock, never of the calendar, so they pass whatever day they run.
pub fn anchor_date(days: i64) -> String {
    let start: jiff::Timestamp = ANCHOR.parse().unwrap();
    start.to_zoned(jiff::tz::TimeZone::UTC).date().checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

/// `hm` (HH:MM) UTC on [`anchor_date`]`(days)`, RFC 3339.
pub fn anchor_at(days: i64, hm: &str) -> String {
    format!("{}T{hm}:00Z", anchor_date(days))
}

/// The variables through which libfaketime (and its `faketime` wrapper) reaches a process.
pub fn is_faketime_var(name: &str) -> bool {
    name == "LD_PRELOAD" || name == "FAKETIME" || name.starts_with("FAKETIME_") || name == "DONT_FAKE_MONOTONIC"
}

/// A clock shared by a test's integ runs and its fake: `at` (epoch seconds) when `since` was taken.
#[derive(Debug, Clone, Copy)]
pub struct TestClock {
    at: f64,
    since: Instant,
}

impl TestClock {
    pub fn anchored() -> TestClock {
        let at: jiff::Timestamp = ANCHOR.parse().unwrap();
        TestClock { at: at.as_second() as f64, since: Instant::now() }
    }

    pub fn now(&self) -> jiff::Timestamp {
        let secs = self.at + self.since.elapsed().as_secs_f64();
        jiff::Timestamp::from_duration(jiff::SignedDuration::from_secs_f64(secs)).unwrap()
    }
}

/// A fresh home and environment for one test.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub vars: BTreeMap<String, String>,
    /// Where `INTEG_TEST_NOW` comes from (the fake's clock once [`Fakes::apply`] ran).
    pub clock: TestClock,
    /// The test's own PostgreSQL database, when the suite runs on that backend
    /// (`INTEG_TEST_BACKEND=postgres`; see [`crate::pgback`]).
    pub pg: Option<crate::pgback::PgTestDb>,
}

impl TestEnv {
    /// Encrypted file store with a random key, so tests never touch a real keyring.
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vars = BTreeMap::new();
        vars.insert("INTEG_HOME".into(), dir.path().join("home").display().to_string());
        vars.insert("HOME".into(), dir.path().display().to_string());
        vars.insert("PATH".into(), std::env::var("PATH").unwrap_or_default());
        vars.insert("INTEG_SECRET_STORE".into(), "file".into());
        vars.insert("INTEG_SECRET_KEY".into(), format!("test-key-{}", rand_hex(16)));
        vars.insert("NO_COLOR".into(), "1".into());
        for (k, v) in std::env::vars() {
            if is_faketime_var(&k) {
                vars.insert(k, v);
            }
        }
        let pg = crate::pgback::postgres_backend().then(crate::pgback::PgTestDb::create);
        if let Some(pg) = &pg {
            vars.insert("INTEG_DATABASE_URL".into(), pg.integ_url());
            vars.insert("INTEG_DATABASE_PASSWORD".into(), pg.password.clone());
        }
        TestEnv { dir, vars, clock: TestClock::anchored(), pg }
    }

    /// The test's "now", as integ's next run will see it.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    pub fn home(&self) -> PathBuf {
        PathBuf::from(&self.vars["INTEG_HOME"])
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.vars.insert(k.into(), v.into());
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut Self {
        self.vars.remove(k);
        self
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(INTEG);
        c.args(args).env_clear().envs(&self.vars).stdin(Stdio::null());
        if !self.vars.contains_key("INTEG_TEST_NOW") {
            c.env("INTEG_TEST_NOW", self.now().to_string());
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run integ"))
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn integ");
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        Run::from(child.wait_with_output().expect("wait integ"))
    }

    /// Write a BROWSER stand-in that follows redirects like a browser would (curl), saving the
    /// final page so a test can check it.
    pub fn curl_browser(&mut self) -> PathBuf {
        let page = self.dir.path().join("browser-page.html");
        let script = self.dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nexec curl -sS -L --max-redirs 10 -o '{}' \"$1\"\n", page.display()),
        )
        .unwrap();
        make_executable(&script);
        self.set("BROWSER", script.display().to_string());
        page
    }
}

pub fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub fn rand_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf)).expect("urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a finished run printed, and how it exited.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A finished run whose exit code nobody has looked at yet. Its output is only reachable
/// through a decision about the code: `.ok()` or `.code(n)` assert it, `.any()` says the test
/// accepts any code (and then looks at it itself). Dropping a `Run` unread would hide a
/// failure, hence `must_use`.
#[derive(Debug)]
#[must_use = "check the exit code with .ok() or .code(n) (or take it with .any() and look at it)"]
pub struct Run(Outcome);

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run(Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        })
    }
}

impl Run {
    /// Assert the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Outcome {
        self.code(0)
    }
    /// Assert the run exited with `code`.
    #[track_caller]
    pub fn code(self, code: i32) -> Outcome {
        let o = self.0;
        let what = if code == 0 { "success".to_string() } else { format!("exit {code}") };
        assert_eq!(o.code, code, "expected {what}\nstdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
        o
    }
    /// Whatever the exit code: for a test that only needs the run to have happened, or that
    /// reads the code itself.
    pub fn any(self) -> Outcome {
        self.0
    }
}

/// Wait for an integ started with piped output, within `limit`: a hang kills it and fails the
/// test (with what it printed) instead of stalling the suite.
pub fn finish_within(mut child: Child, limit: Duration) -> Run {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Run::from(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = Run::from(child.wait_with_output().unwrap()).any();
    panic!("integ still ran after {limit:?} (a hang)\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
}

/// A private instance of the provider fakes; killed on drop.
pub struct Fakes {
    child: Child,
    _stdin: Option<ChildStdin>,
    pub base_url: String,
    pub env: BTreeMap<String, String>,
    /// The fake's clock, as its banner gave it.
    pub clock: TestClock,
    /// The whole banner (the alert channels' addresses are in `slack` and `smtp`).
    pub banner: serde_json::Value,
}

impl Fakes {
    /// Start the fakes at [`ANCHOR`] (unless `extra` gives `--now`), with a loopback redirect of
    /// their own for Jobber and Calendly (unless `extra` gives one): the fakes' fixed defaults,
    /// 47620 and 47621, would be shared by every test running at once (seen: "port 47620 is
    /// already in use" under the parallel suite).
    pub fn start(extra: &[&str]) -> Fakes {
        let now: &[&str] = if extra.contains(&"--now") { &[] } else { &["--now", ANCHOR] };
        let mut redirects = Vec::new();
        for p in ["jobber", "calendly"] {
            let flag = format!("--{p}-redirect-uri");
            if !extra.contains(&flag.as_str()) {
                redirects.extend([flag, format!("http://localhost:{}/callback/{p}", free_port())]);
            }
        }
        let mut child = Command::new(&*FAKES)
            .arg("serve")
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .args(now)
            .args(&redirects)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start integ-fakes");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("fakes banner");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("fakes banner {line:?}: {e}"));
        let clock =
            TestClock { at: v["now"].as_f64().expect("the banner gives the fake's clock"), since: Instant::now() };
        let base_url = v["base_url"].as_str().unwrap().to_string();
        let env = v["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let stdin = child.stdin.take();
        Fakes { child, _stdin: stdin, base_url, env, clock, banner: v }
    }

    /// Point a test environment at this fake, and at its clock.
    pub fn apply(&self, env: &mut TestEnv) {
        for (k, v) in &self.env {
            env.set(k, v.clone());
        }
        env.clock = self.clock;
    }

    /// Move the fake's clock forward, and the environments that follow it with it.
    pub fn advance(&mut self, secs: f64, envs: &mut [&mut TestEnv]) {
        self.post("/_fake/clock/advance", serde_json::json!({ "seconds": secs }));
        self.clock.at += secs;
        for e in envs {
            e.clock = self.clock;
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> serde_json::Value {
        let url = format!("{}{path}", self.base_url);
        let mut args = vec!["-sS", "-X", method, "-H", "content-type: application/json"];
        let body_text = body.map(|b| b.to_string());
        if let Some(b) = &body_text {
            args.push("--data");
            args.push(b);
        }
        args.push(&url);
        let out = Command::new("curl").args(&args).output().expect("curl");
        assert!(out.status.success(), "control call {path} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        self.call("GET", path, None)
    }

    /// A GET that gives up after `limit` (`None` then): for polls that must not stall the
    /// poller (seen: one poll of the fake answered only when a 16 s push had ended).
    pub fn try_get(&self, path: &str, limit: Duration) -> Option<serde_json::Value> {
        let url = format!("{}{path}", self.base_url);
        let secs = format!("{:.3}", limit.as_secs_f64());
        let out = Command::new("curl").args(["-sS", "--max-time", &secs, &url]).output().ok()?;
        out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    }

    pub fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        self.call("POST", path, Some(&body))
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port for integ to listen on later. It comes from below Linux's ephemeral
/// range (32768-60999), where the kernel picks the local ports of outgoing connections and of
/// listeners bound to port 0: a port from there can be taken by any test's HTTP client in the
/// window before integ binds it (seen: "port ... is already in use" under parallel suites).
/// Spread by process and call, and checked free when handed out.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = std::process::id().wrapping_mul(2_654_435_761) ^ nanos;
    for _ in 0..2000 {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (seed.wrapping_add(n.wrapping_mul(7919)) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between 20000 and 32000")
}

/// The test's database, opened directly (as a report would). On the PostgreSQL backend, a
/// SQLite file with integ's schema holding a faithful copy of the test's PostgreSQL database
/// as it is now (a snapshot: what the test writes to it stays there; [`exec`] writes to the
/// real database).
pub fn db(env: &TestEnv) -> rusqlite::Connection {
    match &env.pg {
        Some(pg) => {
            let file = env.home().join("integ.db");
            assert!(!file.exists(), "integ made {} although INTEG_DATABASE_URL names PostgreSQL", file.display());
            pg.snapshot(env.dir.path())
        }
        None => rusqlite::Connection::open(env.home().join("integ.db")).unwrap(),
    }
}

/// Run `sql` (one or more statements, no parameters, in the spelling both databases accept)
/// against the test's database, whichever backend it is on.
pub fn exec(env: &TestEnv, sql: &str) {
    match &env.pg {
        Some(pg) => pg.exec(sql),
        None => db(env).execute_batch(sql).unwrap(),
    }
}

/// A SQL string literal for `text`, for [`exec`].
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether this test runs on the PostgreSQL backend and checks what only the SQLite file has
/// (then it says so on stderr and the caller returns).
pub fn sqlite_only(env: &TestEnv, why: &str) -> bool {
    if env.pg.is_some() {
        eprintln!("skipping on PostgreSQL (INTEG_TEST_BACKEND=postgres): {why}");
    }
    env.pg.is_some()
}

/// Percent-encode everything but RFC 3986 unreserved characters (for ids in fake URLs).
pub fn pct_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The fields of an event in the calendar fakes' truth, in `events` column order.
pub const EVENT_FIELDS: [&str; 15] = [
    "calendar_id",
    "id",
    "title",
    "description",
    "location",
    "status",
    "all_day",
    "start",
    "end",
    "time_zone",
    "series_id",
    "original_start",
    "organizer",
    "attendees_count",
    "updated",
];

/// Another process holding a lock file: a shell that takes an flock on it and becomes `sleep`,
/// so killing that one pid releases it the way a crashed integ would. Returns once the lock is
/// held (the shell says so), not merely once the shell has started.
pub fn hold_lock(lock: &Path) -> Child {
    let mut child = Command::new("sh")
        .args(["-c", "exec 9>>\"$0\"; flock 9; echo held; exec sleep 60"])
        .arg(lock)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "held", "the lock holder failed to take {}", lock.display());
    child
}

/// Start `integ ARGS`, wait until `ready()` holds or `limit` has passed, then SIGKILL it.
/// Returns whether the kill landed while the run was still going (a run can finish first).
pub fn kill_when(env: &TestEnv, args: &[&str], limit: Duration, ready: impl Fn() -> bool) -> bool {
    let log = env.dir.path().join("killed.stderr");
    let stderr = std::fs::File::create(&log).unwrap();
    let mut child = env.cmd(args).stdout(Stdio::null()).stderr(stderr).spawn().unwrap();
    let start = Instant::now();
    while start.elapsed() < limit && !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            // Say how it ended, so a run that was over too soon can be told from one that failed.
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("`integ {}` ended before the kill ({status}):\n{said}", args.join(" "));
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    let status = child.wait();
    if !running {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        eprintln!("`integ {}` had ended when the kill came ({status:?}):\n{said}", args.join(" "));
    }
    running
}

/// How many sync runs have this outcome.
pub fn runs_with_outcome(env: &TestEnv, outcome: &str) -> i64 {
    db(env).query_row("SELECT count(*) FROM sync_runs WHERE outcome = ?1", [outcome], |r| r.get(0)).unwrap_or(0)
}

/// Whether a sync run is recorded as running: killed now, it shows up as interrupted.
pub fn a_run_is_going(env: &TestEnv) -> bool {
    runs_with_outcome(env, "running") > 0
}

/// SIGKILL a process.
pub fn kill(pid: u32) {
    let status = Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

/// A fresh environment wired to a new fake started with `fake_args`, adjusted by `setup`, and
/// `provider` connected through the real browser flow (curl plays the browser).
pub fn connected(provider: &str, fake_args: &[&str], setup: impl FnOnce(&mut TestEnv)) -> (TestEnv, Fakes) {
    let fakes = Fakes::start(fake_args);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    setup(&mut env);
    env.curl_browser();
    env.run(&["connect", provider, "--timeout", "30"]).ok();
    (env, fakes)
}
