//! Numbers and sizes a provider (or something pretending to be one) controls can neither crash
//! nor hang a run, nor take the machine's memory: huge or absurd `Retry-After`, rate-limit
//! resets, Jobber cost figures, endless or repeating pages, huge bodies. Accounts connect against
//! the fakes; then the API URL points at a tiny loopback server of the test's own that answers
//! with a crafted reply. Settings and flags whose numbers overflowed are here too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Fakes, Outcome, Run, TestEnv, connected, finish_within, free_port, runs_with_outcome};

/// What the hostile server sends back for one request.
enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// This head, then `total` bytes of body as fast as the client takes them, then close.
    Stream { head: String, total: u64 },
}

/// A loopback HTTP server answering every request with what `respond` makes of it (the request
/// line and body). Counts requests and the body bytes it managed to write.
struct Hostile {
    url: String,
    hits: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
}

impl Hostile {
    fn start(respond: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let (hits, sent) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let respond = Arc::new(respond);
        let (h, s) = (hits.clone(), sent.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (respond, h, s) = (respond.clone(), h.clone(), s.clone());
                std::thread::spawn(move || serve(stream, &*respond, &h, &s));
            }
        });
        Hostile { url, hits, sent }
    }

    fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

/// One request per connection: every answer closes it.
fn serve(stream: TcpStream, respond: &dyn Fn(&str, &str) -> Reply, hits: &AtomicU64, sent: &AtomicU64) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let request_line = line.trim().to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    hits.fetch_add(1, Ordering::SeqCst);
    match respond(&request_line, &String::from_utf8_lossy(&body)) {
        Reply::Bytes(b) => {
            let _ = out.write_all(&b);
        }
        Reply::Stream { head, total } => {
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut done = 0u64;
            while done < total {
                let n = chunk.len().min((total - done) as usize);
                if out.write_all(&chunk[..n]).is_err() {
                    return;
                }
                done += n as u64;
                sent.fetch_add(n as u64, Ordering::SeqCst);
            }
        }
    }
}

/// A complete HTTP/1.1 answer that closes the connection.
fn reply(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut s = format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    Reply::Bytes(s.into_bytes())
}

/// Run integ, killing it if it is still going after `limit` (a hang). Returns the run and how
/// long it took.
fn run_within(env: &TestEnv, args: &[&str], limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    let child = env.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    (finish_within(child, limit), started.elapsed())
}

#[track_caller]
fn assert_no_panic(run: &Outcome) {
    assert_ne!(run.code, 101, "integ panicked\nstderr:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked at"), "a panic message was printed:\n{}", run.stderr);
}

/// A calendar account connected against the fakes, its calendars learned (the primary one
/// selected), then pointed at `hostile`.
fn calendar_account(provider: &str, hostile: &Hostile) -> (TestEnv, Fakes) {
    let mut args: Vec<String> = vec!["--calendar-seed".into(), "7".into()];
    match provider {
        "google" => args.extend(["--google-seed-events".into(), "3".into()]),
        "microsoft" => args.extend(["--microsoft-seed-events".into(), "3".into()]),
        _ => {
            let redirect = format!("http://localhost:{}/callback/calendly", free_port());
            args.extend(["--calendly-redirect-uri".into(), redirect, "--calendly-seed-events".into(), "3".into()]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut env, fakes) = connected(provider, &args, |_| {});
    env.run(&["calendars", "list", "--provider", provider]).ok();
    let var = format!("INTEG_{}_API_URL", provider.to_uppercase());
    let base = match provider {
        "microsoft" => format!("{}/v1.0", hostile.url),
        _ => hostile.url.clone(),
    };
    env.set(&var, base);
    (env, fakes)
}

fn jobber_account(hostile: &Hostile) -> (TestEnv, Fakes) {
    let (mut env, fakes) = connected("jobber", &["--jobber-seed-jobs", "3"], |_| {});
    env.set("INTEG_JOBBER_API_URL", format!("{}/api/graphql", hostile.url));
    (env, fakes)
}

#[test]
fn a_huge_retry_after_from_google_neither_panics_nor_outlasts_max_duration() {
    let hostile = Hostile::start(|_, _| {
        reply("503 Service Unavailable", &[("retry-after", "1e300"), ("content-type", "application/json")], "{}")
    });
    let (env, _fakes) = calendar_account("google", &hostile);
    let (run, took) =
        run_within(&env, &["sync", "events", "--provider", "google", "--max-duration", "3s"], Duration::from_secs(60));
    let run = run.any();
    assert_no_panic(&run);
    assert!(took < Duration::from_secs(20), "the wait outlasted --max-duration: {took:?}");
    assert!(run.stderr.contains("--max-duration"), "{}", run.stderr);
    assert!(hostile.hits() >= 1);
    assert_eq!(runs_with_outcome(&env, "running"), 0, "no run may stay 'running'");
}

#[test]
fn a_huge_retry_after_from_graph_neither_panics_nor_outlasts_max_duration() {
    let hostile =
        Hostile::start(|_, _| reply("503 Service Unavailable", &[("retry-after", "99999999999999999999999")], ""));
    let (env, _fakes) = calendar_account("microsoft", &hostile);
    let (run, took) = run_within(
        &env,
        &["sync", "events", "--provider", "microsoft", "--max-duration", "3s"],
        Duration::from_secs(60),
    );
    let run = run.any();
    assert_no_panic(&run);
    assert!(took < Duration::from_secs(20), "the wait outlasted --max-duration: {took:?}");
    assert_eq!(runs_with_outcome(&env, "running"), 0);
}

#[test]
fn a_huge_calendly_rate_limit_reset_neither_panics_nor_hangs() {
    // A 2xx that says the minute's budget is spent, and that it resets in 1e300 seconds.
    let hostile = Hostile::start(|_, _| {
        reply(
            "200 OK",
            &[("content-type", "application/json"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1e300")],
            r#"{"collection": [], "pagination": {"next_page_token": "p2", "next_page": null}}"#,
        )
    });
    let (env, _fakes) = calendar_account("calendly", &hostile);
    let (run, took) = run_within(
        &env,
        &["sync", "events", "--provider", "calendly", "--max-duration", "3s"],
        Duration::from_secs(60),
    );
    let run = run.any();
    assert_no_panic(&run);
    assert!(took < Duration::from_secs(20), "the wait outlasted --max-duration: {took:?}");
    assert_eq!(runs_with_outcome(&env, "running"), 0);
}

/// A Jobber GraphQL answer with the given cost extension; `data` per query kind.
fn jobber_answer(body: &str, cost: &str, throttled: bool, n: u64) -> Reply {
    let conn = |name: &str| {
        format!(r#"{{"{name}": {{"nodes": [], "pageInfo": {{"hasNextPage": true, "endCursor": "c{n}"}}}}}}"#)
    };
    let data = if body.contains("ClientsPage") { conn("clients") } else { conn("jobs") };
    let text = if throttled {
        format!(
            r#"{{"errors": [{{"message": "Throttled", "extensions": {{"code": "THROTTLED"}}}}], "extensions": {{"cost": {cost}}}}}"#
        )
    } else {
        format!(r#"{{"data": {data}, "extensions": {{"cost": {cost}}}}}"#)
    };
    reply("200 OK", &[("content-type", "application/json")], &text)
}

#[test]
fn a_huge_jobber_requested_cost_does_not_panic() {
    let cost = r#"{"requestedQueryCost": 1e300, "actualQueryCost": 0,
        "throttleStatus": {"maximumAvailable": 10000, "currentlyAvailable": 0, "restoreRate": 500}}"#;
    let hostile = Hostile::start(move |_, body| jobber_answer(body, cost, true, 1));
    let (env, _fakes) = jobber_account(&hostile);
    let (run, took) = run_within(&env, &["sync", "jobs", "--max-duration", "3s"], Duration::from_secs(60));
    let run = run.any();
    assert_no_panic(&run);
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(runs_with_outcome(&env, "running"), 0);
}

#[test]
fn a_tiny_jobber_restore_rate_does_not_mean_a_wait_of_months() {
    // Every page says the bucket is empty and restores a millionth of a point a second: the
    // next page's pacing would wait about 30 years.
    let cost = r#"{"requestedQueryCost": 903, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 10000, "currentlyAvailable": 0, "restoreRate": 0.000001}}"#;
    let n = Arc::new(AtomicU64::new(0));
    let hostile = Hostile::start(move |_, body| jobber_answer(body, cost, false, n.fetch_add(1, Ordering::SeqCst)));
    let (env, _fakes) = jobber_account(&hostile);
    let (run, took) = run_within(&env, &["sync", "jobs", "--max-duration", "3s"], Duration::from_secs(30));
    let run = run.any();
    assert_no_panic(&run);
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(run.stderr.contains("--max-duration"), "{}", run.stderr);
    assert_eq!(runs_with_outcome(&env, "running"), 0);
}

#[test]
fn a_repeating_google_calendar_list_page_token_ends_with_an_error() {
    let hostile = Hostile::start(|_, _| {
        reply("200 OK", &[("content-type", "application/json")], r#"{"items": [], "nextPageToken": "again"}"#)
    });
    let (env, _fakes) = calendar_account("google", &hostile);
    let (run, _) = run_within(&env, &["calendars", "list", "--provider", "google"], Duration::from_secs(30));
    // Exit 3: the list shows what is stored, and says this account's listing failed.
    let run = run.code(3);
    assert!(run.stderr.contains("page token") && run.stderr.contains("repeat"), "{}", run.stderr);
    assert!(hostile.hits() <= 3, "{} requests for a list that repeats itself", hostile.hits());
}

#[test]
fn a_huge_declared_body_is_refused_before_reading_and_not_retried() {
    // 3 GiB announced; the server would send it all if asked.
    let hostile = Hostile::start(|_, _| {
        Reply::Stream {
        head: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 3221225472\r\nconnection: close\r\n\r\n"
            .into(),
        total: 3 << 30,
    }
    });
    let (env, _fakes) = calendar_account("google", &hostile);
    let (run, _) = run_within(&env, &["sync", "events", "--provider", "google"], Duration::from_secs(60));
    let run = run.code(1);
    assert!(run.stderr.contains("too large"), "{}", run.stderr);
    assert_eq!(hostile.hits(), 1, "a too-large answer is not retried");
    // What the socket buffers took before integ hung up, not the 3 GiB.
    assert!(hostile.sent.load(Ordering::SeqCst) < 64 << 20, "{} bytes sent", hostile.sent.load(Ordering::SeqCst));
}

#[test]
fn an_endless_undeclared_body_is_cut_at_the_cap_and_not_retried() {
    let hostile = Hostile::start(|_, _| Reply::Stream {
        head: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".into(),
        total: 512 << 20,
    });
    let (env, _fakes) = calendar_account("microsoft", &hostile);
    let (run, _) = run_within(&env, &["sync", "events", "--provider", "microsoft"], Duration::from_secs(120));
    let run = run.code(1);
    assert!(run.stderr.contains("too large"), "{}", run.stderr);
    assert_eq!(hostile.hits(), 1, "a too-large answer is not retried");
    let sent = hostile.sent.load(Ordering::SeqCst);
    assert!(sent < 100 << 20, "{sent} bytes were read of an endless body");
}

#[test]
fn count_settings_out_of_range_are_refused_not_ignored_or_overflowed() {
    // Valid as a u64 but more than a u32: it used to be dropped silently for the default.
    let mut e = TestEnv::new();
    e.set("INTEG_EVENTS_PAST_DAYS", "4294967296");
    let run = e.run(&["config", "list"]).code(2);
    assert!(run.stderr.contains("events.past_days"), "{}", run.stderr);
    // Days × 86,400 and minutes × 60 used to overflow (a panic in debug builds, a wrap in
    // release) when the sync read them.
    for (var, key) in
        [("INTEG_JOBBER_SWEEP_DAYS", "jobber.sweep_days"), ("INTEG_JOBBER_OVERLAP_MINUTES", "jobber.overlap_minutes")]
    {
        let mut e = TestEnv::new();
        e.set(var, "300000000000000");
        let run = e.run(&["config", "list"]);
        let run = run.code(2);
        assert_no_panic(&run);
        assert!(run.stderr.contains(key), "{}", run.stderr);
    }
}

#[test]
fn huge_durations_on_the_command_line_are_usage_errors_not_panics() {
    let hostile = Hostile::start(|_, _| reply("500 Internal Server Error", &[], ""));
    let (env, _fakes) = jobber_account(&hostile);
    // Hours × 3600, now + the duration, now + the lock wait: each used to overflow.
    for args in [
        ["sync", "jobs", "--max-duration", "9999999999999999h"],
        ["sync", "jobs", "--max-duration", "18446744073709551615s"],
        ["sync", "jobs", "--wait", "18446744073709551615"],
    ] {
        let run = env.run(&args);
        let run = run.code(2);
        assert_no_panic(&run);
        assert!(run.stderr.contains(args[2]), "{args:?}: {}", run.stderr);
    }
    assert_eq!(hostile.hits(), 0);
}

/// A panic anywhere (here one planted by a debug-only switch, since no input is known to cause
/// one) is reported as a plain error without its payload, the run in progress is recorded as
/// failed, and integ exits 1, not 101.
#[test]
fn a_panic_during_a_sync_is_a_failed_run_and_exit_1() {
    let hostile = Hostile::start(|_, _| reply("500 Internal Server Error", &[], ""));
    let (mut env, _fakes) = jobber_account(&hostile);
    env.set("INTEG_DEBUG_PANIC", "sync");
    let run = env.run(&["sync", "jobs"]).any();
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("internal error"), "{}", run.stderr);
    assert!(!run.stderr.contains("planted panic"), "the payload is not printed: {}", run.stderr);
    assert!(!run.stderr.contains(&env.vars["INTEG_SECRET_KEY"]), "{}", run.stderr);
    assert_eq!(runs_with_outcome(&env, "running"), 0, "the run must not stay 'running'");
    assert_eq!(runs_with_outcome(&env, "failed"), 1);
}

#[test]
fn a_huge_token_answer_is_refused_not_retried_and_not_a_dead_grant() {
    // 2 MiB of "token": over the 1 MiB cap of token answers.
    let hostile = Hostile::start(|_, _| {
        let body = format!(r#"{{"access_token": "{}", "expires_in": 3600}}"#, "a".repeat(2 << 20));
        reply("200 OK", &[("content-type", "application/json")], &body)
    });
    let (mut env, _fakes) = calendar_account("google", &hostile);
    env.set("INTEG_GOOGLE_TOKEN_URL", format!("{}/token", hostile.url));
    let (run, _) = run_within(&env, &["refresh", "--force"], Duration::from_secs(60));
    let run = run.code(1);
    assert_no_panic(&run);
    assert!(run.stderr.contains("too large"), "{}", run.stderr);
    assert_eq!(hostile.hits(), 1, "a too-large answer is not retried");
}
