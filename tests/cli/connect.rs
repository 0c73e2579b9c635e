//! `integ connect`, `refresh` and `disconnect` end to end: the real listener, a browser stand-in
//! that follows the fake's redirect (curl, or headless Chromium), and a private fake per test.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Fakes, TestEnv, free_port, hold_lock, kill, make_executable};
use crate::foundation::{contains, walk};

/// A test environment wired to a fresh fake, with Jobber's and Calendly's registered redirect
/// URIs on free ports so tests can run side by side.
fn setup(extra: &[&str]) -> (TestEnv, Fakes) {
    let jobber = format!("http://localhost:{}/callback/jobber", free_port());
    let calendly = format!("http://localhost:{}/callback/calendly", free_port());
    let mut args = vec!["--jobber-redirect-uri", &jobber, "--calendly-redirect-uri", &calendly];
    args.extend_from_slice(extra);
    let fakes = Fakes::start(&args);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    (env, fakes)
}

/// integ may exit before the browser stand-in has finished writing the page it was shown.
#[track_caller]
fn wait_for_page(page: &std::path::Path, marker: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let html = std::fs::read_to_string(page).unwrap_or_default();
        if html.contains(marker) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the browser never showed {marker:?}: {html}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn connect(env: &TestEnv, provider: &str) -> crate::common::Run {
    env.run(&["connect", provider, "--timeout", "30"])
}

#[test]
fn full_flow_for_every_provider() {
    let (mut env, fakes) = setup(&[]);
    let page = env.curl_browser();
    for provider in ["jobber", "google", "microsoft", "calendly"] {
        let run = connect(&env, provider).ok();
        assert!(run.stderr.contains("Connected"), "{provider}: {}", run.stderr);
        wait_for_page(&page, "<title>integ: connected</title>", provider);
        let _ = std::fs::remove_file(&page);
    }
    let status = env.run(&["status", "--json"]).ok().json();
    let list = status.as_array().unwrap();
    assert_eq!(list.len(), 4, "{status}");
    for c in list {
        assert_eq!(c["state"], "connected");
        assert!(c["token_expires_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{c}");
    }
    let stats = fakes.get("/_fake/stats");
    for provider in ["jobber", "google", "microsoft", "calendly"] {
        assert_eq!(stats[provider]["code_exchanges_ok"], 1, "{provider}: {stats}");
    }
    // The human table lists them too.
    let table = env.run(&["status"]).ok().stdout;
    for provider in ["jobber", "google", "microsoft", "calendly"] {
        assert!(table.contains(provider), "{table}");
    }
}

#[test]
fn favicon_and_forged_state_do_not_end_the_flow() {
    let (mut env, fakes) = setup(&[]);
    // A browser that first asks the listener for a favicon and sends a forged callback, then
    // follows the real redirect.
    let page = env.dir.path().join("page.html");
    let log = env.dir.path().join("probe.log");
    let script = env.dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
loc=$(curl -sS -o /dev/null -w '%{{redirect_url}}' "$1")
base=$(printf '%s' "$loc" | sed -E 's#^(http://[^/]+).*#\1#')
path=$(printf '%s' "$loc" | sed -E 's#^http://[^/]+([^?]*).*#\1#')
curl -s -o /dev/null -w 'favicon %{{http_code}}\n' "$base/favicon.ico" >> '{log}'
curl -s -o /dev/null -w 'forged %{{http_code}}\n' "$base$path?code=forged&state=forged" >> '{log}'
curl -s -o /dev/null -w 'nostate %{{http_code}}\n' "$base$path?code=forged" >> '{log}'
exec curl -sS -o '{page}' "$loc"
"#,
            log = log.display(),
            page = page.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    env.set("BROWSER", script.display().to_string());
    connect(&env, "google").ok();
    let probes = std::fs::read_to_string(&log).unwrap();
    assert_eq!(probes, "favicon 404\nforged 400\nnostate 400\n");
    wait_for_page(&page, "integ: connected", "google");
    assert_eq!(fakes.get("/_fake/stats")["google"]["code_exchanges_ok"], 1);
}

#[test]
fn denial_ends_the_flow_with_exit_1() {
    let (mut env, fakes) = setup(&[]);
    let page = env.curl_browser();
    for provider in ["google", "microsoft", "calendly"] {
        fakes.post(&format!("/_fake/{provider}/consent"), serde_json::json!({"mode": "deny"}));
        let run = connect(&env, provider).code(1);
        assert!(run.stderr.contains("authorization denied"), "{provider}: {}", run.stderr);
        wait_for_page(&page, "integ: authorization failed", provider);
        let _ = std::fs::remove_file(&page);
    }
    // Jobber says "declined" with a bare callback, which any local process could send: the
    // browser shows the declined page, and integ keeps waiting for a real answer.
    fakes.post("/_fake/jobber/consent", serde_json::json!({"mode": "deny"}));
    let run = env.run(&["connect", "jobber", "--timeout", "3"]).code(1);
    assert!(run.stderr.contains("did you decline?"), "{}", run.stderr);
    assert!(run.stderr.contains("within 3 s"), "{}", run.stderr);
    wait_for_page(&page, "integ: authorization failed", "jobber");
    assert_eq!(env.run(&["status", "--json"]).ok().stdout.trim(), "[]");
}

#[test]
fn no_answer_times_out() {
    let (mut env, _fakes) = setup(&[]);
    env.set("BROWSER", "/bin/true");
    let start = Instant::now();
    let run = env.run(&["connect", "google", "--timeout", "2"]).code(1);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(run.stderr.contains("within 2 s"), "{}", run.stderr);
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
}

#[test]
fn busy_port_names_the_port_and_setting() {
    let (mut env, _fakes) = setup(&[]);
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    env.set("JOBBER_REDIRECT_URI", format!("http://127.0.0.1:{port}/callback/jobber"));
    env.set("BROWSER", "/bin/true");
    let run = env.run(&["connect", "jobber", "--timeout", "5"]).code(2);
    assert!(run.stderr.contains(&format!("port {port}")), "{}", run.stderr);
    assert!(run.stderr.contains("JOBBER_REDIRECT_URI"), "{}", run.stderr);
}

#[test]
fn unregistered_redirect_uri_gives_a_clear_error() {
    let (mut env, _fakes) = setup(&[]);
    env.curl_browser();
    // Not the URI registered at the fake: Jobber shows an error page and never redirects.
    env.set("JOBBER_REDIRECT_URI", format!("http://localhost:{}/callback/jobber", free_port()));
    let run = env.run(&["connect", "jobber", "--timeout", "3"]).code(1);
    assert!(run.stderr.contains("redirect_uri_mismatch"), "{}", run.stderr);
    assert!(run.stderr.contains("register"), "{}", run.stderr);
}

#[test]
fn pasted_redirect_address_completes_the_flow() {
    let (env, fakes) = setup(&[]);
    let mut child = env
        .cmd(&["connect", "microsoft", "--no-browser", "--timeout", "30"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut url = None;
    let mut seen = String::new();
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
        if let Some(u) = line.trim().strip_prefix("http") {
            url = Some(format!("http{u}"));
        }
        if seen.contains("paste the address") {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no URL printed:\n{seen}"));
    // The user's laptop: approve, and read the address the browser ends on without loading it.
    let out = Command::new("curl").args(["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", &url]).output().unwrap();
    let landed = String::from_utf8(out.stdout).unwrap();
    assert!(landed.contains("code="), "{landed}");
    child.stdin.as_mut().unwrap().write_all(format!("  {landed}  \n").as_bytes()).unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{seen}{rest}");
    assert!(rest.contains("Connected"), "{rest}");
    assert_eq!(fakes.get("/_fake/stats")["microsoft"]["code_exchanges_ok"], 1);
}

#[test]
fn several_accounts_and_reconnect_replaces_tokens() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "google").ok();
    fakes.post(
        "/_fake/google/login",
        serde_json::json!({"id": "second-user", "name": "Second", "email": "second@example.com"}),
    );
    env.run(&["connect", "google", "--account", "second", "--timeout", "30"]).ok();
    let list = env.run(&["status", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    // Acting on one needs --account now.
    let run = env.run(&["refresh", "google", "--account", "nobody"]).code(2);
    assert!(run.stderr.contains("no google account 'nobody'"), "{}", run.stderr);
    // Signing in as someone else under an existing name is refused, nothing changes.
    fakes.post(
        "/_fake/google/login",
        serde_json::json!({"id": "third-user", "name": "Third", "email": "third@example.com"}),
    );
    let run = env.run(&["connect", "google", "--account", "second", "--timeout", "30"]).code(1);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(env.run(&["status", "--json"]).ok().json().as_array().unwrap().len(), 2);
}

#[test]
fn refresh_rotates_and_old_token_is_dead() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "jobber").ok();
    env.run(&["refresh", "jobber", "--force"]).ok();
    env.run(&["refresh", "jobber", "--force"]).ok();
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["jobber"]["refresh_ok"], 2, "{stats}");
    assert_eq!(stats["jobber"]["refresh_failed"], 0, "{stats}");
    let status = env.run(&["status", "--json"]).ok().json();
    assert_eq!(status[0]["state"], "connected");
    assert!(status[0]["last_refresh_at"].is_string());
}

#[test]
fn ten_concurrent_refreshes_make_one_request() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "jobber").ok();
    env.run(&["refresh", "jobber", "--force"]).ok();
    let lock = refresh_lock(&env, "jobber");
    // Hold the lock while ten keep-alive refreshes start, so they all queue behind one another
    // with the same rotating refresh token in hand; then let them go.
    let mut holder = hold_lock(&lock);
    fakes.post("/_fake/stats/reset", serde_json::json!({}));
    let children: Vec<_> = (0..10)
        .map(|_| env.cmd(&["refresh", "jobber"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    kill(holder.id());
    let _ = holder.wait();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["jobber"]["token_requests"]["refresh_token"], 1, "{stats}");
    assert_eq!(stats["jobber"]["refresh_ok"], 1, "{stats}");
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
}

fn refresh_lock(env: &TestEnv, provider: &str) -> std::path::PathBuf {
    walk(&env.home().join("locks"))
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("refresh-{provider}-")))
        .expect("refresh lock file")
}

#[test]
fn refused_refresh_marks_reconnect_needed_and_keeps_tokens() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "calendly").ok();
    let before = std::fs::read(env.home().join("secrets.enc")).unwrap();
    fakes.post("/_fake/calendly/disconnect", serde_json::json!({}));
    let run = env.run(&["refresh", "calendly", "--force"]).code(4);
    assert!(run.stderr.contains("integ connect calendly"), "{}", run.stderr);
    let status = env.run(&["status", "--json"]).any();
    assert_eq!(status.code, 4);
    assert_eq!(status.json()[0]["state"], "reconnect_needed");
    assert!(status.json()[0]["action"].as_str().unwrap().contains("integ connect calendly"));
    // The tokens were not deleted (the secret file is unchanged).
    assert_eq!(std::fs::read(env.home().join("secrets.enc")).unwrap(), before);
    // Connecting again heals it.
    connect(&env, "calendly").ok();
    env.run(&["status"]).ok();
}

#[test]
fn killed_lock_holder_does_not_block_the_next_refresh() {
    let (mut env, _fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "microsoft").ok();
    env.run(&["refresh", "microsoft", "--force"]).ok();
    let lock = refresh_lock(&env, "microsoft");
    // Another process holds the lock, then dies by SIGKILL.
    let mut holder = hold_lock(&lock);
    let waiter =
        env.cmd(&["refresh", "microsoft", "--force"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    kill(holder.id());
    let _ = holder.wait();
    let start = Instant::now();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn disconnect_revokes_and_removes_secrets() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    for p in ["jobber", "google", "calendly", "microsoft"] {
        connect(&env, p).ok();
    }
    for p in ["jobber", "google", "calendly"] {
        let run = env.run(&["disconnect", p]).ok();
        assert!(run.stderr.contains("Disconnected"), "{}", run.stderr);
    }
    let run = env.run(&["disconnect", "microsoft", "--purge"]).ok();
    assert!(run.stderr.contains("no revocation endpoint"), "{}", run.stderr);
    let stats = fakes.get("/_fake/stats");
    assert_eq!(stats["google"]["revocations"], 1, "{stats}");
    assert_eq!(stats["calendly"]["revocations"], 1, "{stats}");
    assert_eq!(stats["jobber"]["revocations"], 1, "{stats}");
    let status = env.run(&["status", "--json"]).ok().json();
    let list = status.as_array().unwrap();
    assert_eq!(list.len(), 3, "purged microsoft is gone: {status}");
    assert!(list.iter().all(|c| c["state"] == "disconnected"));
    // Nothing left to refresh: the tokens are gone from the store.
    env.run(&["refresh"]).code(2);
}

#[test]
fn disconnect_with_provider_unreachable_changes_nothing() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    connect(&env, "google").ok();
    let before = std::fs::read(env.home().join("secrets.enc")).unwrap();
    drop(fakes);
    let run = env.run(&["disconnect", "google"]).code(1);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert!(run.stderr.contains("--local-only"), "{}", run.stderr);
    assert_eq!(std::fs::read(env.home().join("secrets.enc")).unwrap(), before);
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "connected");
    env.run(&["disconnect", "google", "--local-only"]).ok();
    assert_eq!(env.run(&["status", "--json"]).ok().json()[0]["state"], "disconnected");
}

#[test]
fn no_secret_leaks_anywhere() {
    let (mut env, fakes) = setup(&[]);
    env.curl_browser();
    env.set("RUST_LOG", "trace");
    // The browser stand-in records integ's command line while integ is running.
    let cmdline_log = env.dir.path().join("cmdline.log");
    let script = env.dir.path().join("browser.sh");
    let page = env.dir.path().join("page.html");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntr '\\0' ' ' < /proc/$PPID/cmdline >> '{}'\nexec curl -sS -L -o '{}' \"$1\"\n",
            cmdline_log.display(),
            page.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    env.set("BROWSER", script.display().to_string());
    let mut output = String::new();
    for p in ["jobber", "google", "microsoft", "calendly"] {
        let run = connect(&env, p).ok();
        output.push_str(&run.stdout);
        output.push_str(&run.stderr);
        let run = env.run(&["refresh", p, "--force", "-vvv"]).ok();
        output.push_str(&run.stdout);
        output.push_str(&run.stderr);
    }
    let run = env.run(&["--json", "status"]).ok();
    output.push_str(&run.stdout);
    let run = env.run(&["doctor", "-vvv"]).ok();
    output.push_str(&run.stdout);
    output.push_str(&run.stderr);
    assert!(output.contains("TRACE") || output.contains("DEBUG"), "trace logging was on");
    let issued = fakes.get("/_fake/issued");
    let mut secrets: Vec<String> = issued["all"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .filter(|s| s.len() >= 8)
        .collect();
    for var in ["JOBBER_CLIENT_SECRET", "GOOGLE_CLIENT_SECRET", "CALENDLY_CLIENT_SECRET"] {
        secrets.push(env.vars[var].clone());
    }
    assert!(secrets.len() > 20, "the fake reported what it issued: {issued}");
    let cmdlines = std::fs::read_to_string(&cmdline_log).unwrap();
    let mut places: Vec<(String, Vec<u8>)> =
        vec![("output".into(), output.into_bytes()), ("cmdline".into(), cmdlines.into_bytes())];
    for f in walk(&env.home()) {
        if f.file_name().is_some_and(|n| n == "secrets.enc") {
            continue; // encrypted: the one place tokens belong
        }
        places.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    for (name, bytes) in &places {
        for s in &secrets {
            assert!(!contains(bytes, s.as_bytes()), "a secret ({}...) leaked into {name}", &s[..6]);
        }
    }
}

#[test]
fn headless_chromium_completes_the_flow() {
    let chromium =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| std::path::Path::new(p).exists());
    let Some(chromium) = chromium else {
        assert!(std::env::var("INTEG_TEST_REQUIRE_KEYRING").is_err(), "CI installs chromium; it is missing");
        eprintln!("skipping: chromium is not installed");
        return;
    };
    let (mut env, _fakes) = setup(&[]);
    let profile = env.dir.path().join("chromium-profile");
    let dom = env.dir.path().join("dom.html");
    let script = env.dir.path().join("chromium.sh");
    std::fs::write(
        &script,
        format!(
            // Chromium is the one program here that does not run under libfaketime (the suite's
            // second pass): it starts outside it. integ and the fakes still run under it.
            "#!/bin/sh\nunset LD_PRELOAD FAKETIME FAKETIME_NO_CACHE FAKETIME_DONT_RESET DONT_FAKE_MONOTONIC\n\
             exec '{chromium}' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
             --user-data-dir='{}' --dump-dom \"$1\" > '{}' 2>/dev/null\n",
            profile.display(),
            dom.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    env.set("BROWSER", script.display().to_string());
    env.run(&["connect", "google", "--timeout", "60"]).ok();
    // --dump-dom writes once the page has loaded; give it a moment after integ finished.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&dom).unwrap_or_default();
        if text.contains("integ: connected") {
            break;
        }
        assert!(Instant::now() < deadline, "Chromium did not render the success page: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
