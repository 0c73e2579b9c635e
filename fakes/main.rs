//! integ-fakes: local stand-ins for Jobber, Google, Microsoft and Calendly, served on loopback
//! for integ's tests and its no-account demo.
//!
//! Built from the providers' documented behaviour (shared/providers/*.md), never from the
//! client's code: it imports nothing from the `integ` library, so it cannot share its
//! mistakes. Where a real service is strict, the fake is at least as strict.
//!
//! Layout: `http` (request/response plumbing), `core` (clock, tokens, PKCE, grants, counters),
//! `redirect` (per-provider redirect-URI rules), one module per provider, `graphql` (the
//! engine behind the Jobber API), `control` (the `/_fake` API for tests), `state` (router),
//! `faults` (injected faults and latency), `slack` (the alert webhook and `chat.postMessage`),
//! `smtp` (a mail relay on its own port, with STARTTLS). Jobber, in `jobber/`: the OAuth server (`mod.rs`),
//! `data` (rows, indexes, JSON views), `generate` (seeding, random changes), `page` (cursors,
//! filters), `api` (schema, resolvers), `control` (`/_fake/jobber/...` data endpoints).

mod browse;
mod calendar;
mod calendly;
mod control;
mod core;
mod faults;
mod google;
mod graphql;
mod http;
mod jobber;
mod microsoft;
mod redirect;
mod slack;
mod smtp;
mod state;

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Args, Parser, Subcommand};

use crate::core::{Clock, PkcePolicy};
use crate::state::State;

/// Local fakes of the Jobber, Google, Microsoft and Calendly OAuth servers and APIs
#[derive(Parser)]
#[command(name = "integ-fakes", version)]
struct Cli {
    /// Log one line per request to stderr
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve all four fakes on 127.0.0.1 until killed
    Serve(Box<ServeArgs>),
    /// Act as a browser: GET a loopback URL, follow redirects, save the final page
    Browse {
        /// The URL to open (integ passes the authorization URL)
        url: String,
        /// Where to save the final page (default: discard)
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Start the fake's clock at this RFC 3339 instant instead of the machine's time; it then
    /// runs forward at the machine's pace. Seeded data is anchored to it.
    #[arg(long, value_parser = parse_instant)]
    now: Option<jiff::Timestamp>,
    /// Also write the client's environment as `export K='V'` lines to this file
    #[arg(long)]
    env_file: Option<PathBuf>,
    /// Exit when standard input reaches end of file (ties the fake's life to its parent)
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Worker threads answering requests (more than 4 lets Graph's mailbox-concurrency
    /// throttle trigger)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// Access-token lifetime in seconds for every provider (default: each provider's own)
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    access_ttl: Option<i64>,
    /// Whether Google, Microsoft and Calendly demand PKCE S256 (Jobber verifies it if sent)
    #[arg(long, value_enum, default_value_t = PkcePolicy::Required)]
    pkce: PkcePolicy,

    #[arg(long, default_value = "fake-jobber-client")]
    jobber_client_id: String,
    #[arg(long, default_value = "fake-jobber-secret")]
    jobber_client_secret: String,
    /// The app's one registered OAuth callback URL (matched exactly)
    #[arg(long, default_value = "http://localhost:47620/callback/jobber")]
    jobber_redirect_uri: String,
    /// Refresh-token rotation mode
    #[arg(long, value_enum, default_value_t = jobber::Rotation::On)]
    jobber_rotation: jobber::Rotation,
    /// Query-cost points restored per second
    #[arg(long, default_value_t = 500.0)]
    jobber_restore_rate: f64,
    /// Supported X-JOBBER-GRAPHQL-VERSION values (the oldest serves unknown ones)
    #[arg(long, value_delimiter = ',', default_value = "2025-04-16,2026-05-12")]
    jobber_api_versions: Vec<String>,
    /// Requests per account per window before HTTP 429
    #[arg(long, default_value_t = 2500)]
    jobber_request_limit: usize,
    /// The request-rate window in seconds
    #[arg(long, default_value_t = 300.0)]
    jobber_request_window: f64,
    /// HTTP status of invalid_grant answers (undocumented: 400 or 401)
    #[arg(long, default_value_t = 400, value_parser = grant_status)]
    jobber_invalid_grant_status: u16,
    /// Seed the current Jobber user's account with this many jobs at startup
    #[arg(long, default_value_t = 0)]
    jobber_seed_jobs: usize,
    /// Random seed of the generated Jobber data
    #[arg(long, default_value_t = 0)]
    jobber_seed: u64,
    /// How jobs/clients cursors encode a position: Jobber's offset (the default, faithful:
    /// deletions and edits shift later rows), or the row's sort key
    #[arg(long, value_enum, default_value_t = jobber::page::CursorMode::Offset)]
    jobber_cursors: jobber::page::CursorMode,

    /// Probability of an injected fault per API request (0 = none)
    #[arg(long, default_value_t = 0.0)]
    faults_rate: f64,
    /// Fault kinds to pick from (default all): 500,502,503,reset,slow,truncated,html,graphql_partial,throttled,429
    #[arg(long, value_delimiter = ',')]
    faults_kinds: Vec<String>,
    /// Delay of the `slow` fault in milliseconds
    #[arg(long, default_value_t = 1500)]
    faults_slow_ms: u64,
    /// Random seed of fault injection
    #[arg(long, default_value_t = 0)]
    faults_seed: u64,
    /// Inject faults only into this provider's endpoints
    #[arg(long)]
    faults_provider: Option<String>,
    /// Also inject faults into token and revoke endpoints
    #[arg(long)]
    faults_token: bool,
    /// Milliseconds added to every API response
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,

    #[arg(long, default_value = "fake-google-client.apps.googleusercontent.com")]
    google_client_id: String,
    #[arg(long, default_value = "GOCSPX-fake-google-secret")]
    google_client_secret: String,
    /// Live refresh tokens per Google account per client before the oldest dies
    #[arg(long, default_value_t = 100)]
    google_refresh_cap: usize,
    /// Consent screen in "Testing": refresh tokens expire after 7 days
    #[arg(long)]
    google_testing_app: bool,
    /// Calendar API requests per user in any --google-quota-window-secs (Google: 600 a
    /// minute, sliding); 0 for no limit
    #[arg(long, default_value_t = 600)]
    google_user_quota: usize,
    /// The window of --google-user-quota, in seconds
    #[arg(long, default_value_t = 60.0, value_parser = positive_secs)]
    google_quota_window_secs: f64,

    #[arg(long, default_value = "f4ce0000-0000-4000-8000-00000000a11d")]
    microsoft_client_id: String,
    /// Tenant in the authorize and token paths
    #[arg(long, default_value = "common")]
    microsoft_tenant: String,
    /// Registered redirect path (host localhost or 127.0.0.1, any port)
    #[arg(long, default_value = "/callback/microsoft")]
    microsoft_redirect_path: String,
    /// Whether a refresh token still works after it was used once
    #[arg(long, value_enum, default_value_t = microsoft::OldRefresh::KeepOld)]
    microsoft_old_refresh: microsoft::OldRefresh,
    /// Calendar requests per mailbox in any --microsoft-request-window-secs (Outlook: 10,000
    /// per 10 minutes; throttled requests count too); 0 for no limit
    #[arg(long, default_value_t = 10_000)]
    microsoft_request_limit: usize,
    /// The window of --microsoft-request-limit, in seconds
    #[arg(long, default_value_t = 600.0, value_parser = positive_secs)]
    microsoft_request_window_secs: f64,

    #[arg(long, default_value = "fake-calendly-client")]
    calendly_client_id: String,
    #[arg(long, default_value = "fake-calendly-secret")]
    calendly_client_secret: String,
    /// The app's registered redirect URI (matched exactly)
    #[arg(long, default_value = "http://localhost:47621/callback/calendly")]
    calendly_redirect_uri: String,
    /// Sandbox allows http://localhost redirects; production demands HTTPS
    #[arg(long, value_enum, default_value_t = calendly::Mode::Sandbox)]
    calendly_mode: calendly::Mode,
    /// Web apps authenticate with HTTP Basic; native apps send client_id in the body
    #[arg(long, value_enum, default_value_t = calendly::ClientType::Web)]
    calendly_client_type: calendly::ClientType,
    /// Token requests per user per minute
    #[arg(long, default_value_t = 8)]
    calendly_token_rate_limit: usize,
    /// API requests per user per minute (500 paid, 50 free)
    #[arg(long, default_value_t = 500)]
    calendly_api_rate_limit: usize,

    /// Events seeded into each Google user's calendars (fixtures first, then pseudo-random)
    #[arg(long, default_value_t = 0)]
    google_seed_events: usize,
    /// Events seeded into each Microsoft user's calendars
    #[arg(long, default_value_t = 0)]
    microsoft_seed_events: usize,
    /// Scheduled events seeded for each Calendly user
    #[arg(long, default_value_t = 0)]
    calendly_seed_events: usize,
    /// Seed of the generated calendar data (same seed, same data)
    #[arg(long, default_value_t = 1)]
    calendar_seed: u64,
}

fn parse_instant(s: &str) -> Result<jiff::Timestamp, String> {
    s.parse::<jiff::Timestamp>().map_err(|e| format!("not an RFC 3339 instant such as 2026-11-21T12:00:00Z: {e}"))
}

fn grant_status(s: &str) -> Result<u16, String> {
    match s {
        "400" => Ok(400),
        "401" => Ok(401),
        _ => Err("must be 400 or 401".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match serve(*args, cli.verbose) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("integ-fakes: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Browse { url, out } => match browse::browse(&url) {
            Ok((_status, body)) => {
                // Like a browser, showing an error page is still a success.
                if let Some(path) = out
                    && let Err(e) = std::fs::write(&path, &body)
                {
                    eprintln!("integ-fakes: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("integ-fakes: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn build_state(a: &ServeArgs, base: String) -> Result<State, String> {
    if !a.microsoft_redirect_path.starts_with('/') {
        return Err("--microsoft-redirect-path must start with '/'".into());
    }
    if a.jobber_api_versions.iter().any(|v| v.parse::<jiff::civil::Date>().is_err()) {
        return Err("--jobber-api-versions must be YYYY-MM-DD dates".into());
    }
    if !(a.jobber_restore_rate.is_finite() && a.jobber_restore_rate > 0.0) {
        return Err("--jobber-restore-rate must be positive".into());
    }
    let mut jobber = jobber::Jobber::new(
        jobber::JobberConfig {
            client_id: a.jobber_client_id.clone(),
            client_secret: a.jobber_client_secret.clone(),
            redirect_uri: a.jobber_redirect_uri.clone(),
            access_ttl: a.access_ttl.unwrap_or(3600),
            restore_rate: a.jobber_restore_rate,
            versions: a.jobber_api_versions.clone(),
            request_limit: a.jobber_request_limit,
            request_window: a.jobber_request_window,
            invalid_grant_status: a.jobber_invalid_grant_status,
            app_name: "integ".into(),
            app_author: "integ contributors".into(),
        },
        a.jobber_rotation,
    )?;
    jobber.cursors = a.jobber_cursors;
    let clock = match a.now {
        Some(t) => Clock::starting_at(t.as_second() as f64 + f64::from(t.subsec_nanosecond()) / 1e9),
        None => Clock::default(),
    };
    if a.jobber_seed_jobs > 0 {
        let now = clock.now_f();
        let id = jobber.account_for(None, now)?;
        if let Some(d) = jobber.data_mut(&id) {
            *d = jobber::generate::seed(a.jobber_seed_jobs, a.jobber_seed, now.floor() as i64, &id);
        }
    }
    let mut faults = faults::Faults::default();
    let mut spec = serde_json::json!({
        "rate": a.faults_rate,
        "slow_ms": a.faults_slow_ms,
        "seed": a.faults_seed,
        "provider": a.faults_provider,
        "token": a.faults_token,
    });
    if !a.faults_kinds.is_empty() {
        spec["kinds"] = serde_json::json!(a.faults_kinds);
    }
    faults.configure(&spec).map_err(|e| format!("--faults-*: {e}"))?;
    faults.latency_ms = a.latency_ms;
    let google = google::Google::new(google::GoogleConfig {
        client_id: a.google_client_id.clone(),
        client_secret: a.google_client_secret.clone(),
        access_ttl: a.access_ttl.unwrap_or(3599),
        refresh_cap: a.google_refresh_cap,
        testing_app: a.google_testing_app,
        pkce: a.pkce,
        user_quota: a.google_user_quota,
        quota_window: a.google_quota_window_secs,
    });
    let microsoft = microsoft::Microsoft::new(
        microsoft::MicrosoftConfig {
            client_id: a.microsoft_client_id.clone(),
            tenant: a.microsoft_tenant.clone(),
            redirect_path: a.microsoft_redirect_path.clone(),
            access_ttl: a.access_ttl,
            pkce: a.pkce,
        },
        a.microsoft_old_refresh,
    );
    let calendly = calendly::Calendly::new(calendly::CalendlyConfig {
        client_id: a.calendly_client_id.clone(),
        client_secret: a.calendly_client_secret.clone(),
        redirect_uri: a.calendly_redirect_uri.clone(),
        mode: a.calendly_mode,
        client_type: a.calendly_client_type,
        access_ttl: a.access_ttl.unwrap_or(7200),
        token_rate_limit: a.calendly_token_rate_limit,
        api_rate_limit: a.calendly_api_rate_limit,
        pkce: a.pkce,
    });
    let (mut google, mut microsoft, mut calendly) = (google, microsoft, calendly);
    let shift_days = calendar::seed::anchor_shift(clock.now());
    let seed = |events| calendar::SeedCfg { events, seed: a.calendar_seed, shift_days };
    google.cal.seed = seed(a.google_seed_events);
    microsoft.cal.seed = seed(a.microsoft_seed_events);
    microsoft.cal.request_limit = a.microsoft_request_limit;
    microsoft.cal.request_window = a.microsoft_request_window_secs;
    calendly.cal.seed = seed(a.calendly_seed_events);
    // Seed the default users now, so the first API request does not pay for it.
    google.cal.store(&google.c.user.clone());
    microsoft.cal.store(&microsoft.c.user.clone());
    calendly.cal.store(&calendly.c.user.clone());
    Ok(State { base, clock, jobber, google, microsoft, calendly, faults, slack: Default::default(), smtp: None })
}

/// Turn off Nagle's algorithm on the listening socket; Linux copies the setting to every
/// accepted connection. tiny_http writes a response head and body separately, and with Nagle
/// the body's last segment waits for the client's delayed ACK: 40 ms a request, which would
/// make every benchmark measure the fake instead of integ. Real APIs don't add that delay.
#[cfg(target_os = "linux")]
fn no_delay(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const std::ffi::c_void, len: u32) -> i32;
    }
    const IPPROTO_TCP: i32 = 6;
    const TCP_NODELAY: i32 = 1;
    let one: i32 = 1;
    // SAFETY: a valid socket fd, a pointer to a live i32 and its size.
    let rc = unsafe { setsockopt(listener.as_raw_fd(), IPPROTO_TCP, TCP_NODELAY, (&one as *const i32).cast(), 4) };
    if rc != 0 {
        eprintln!("integ-fakes: could not set TCP_NODELAY; responses may be slow");
    }
}

#[cfg(not(target_os = "linux"))]
fn no_delay(_: &std::net::TcpListener) {}

/// A window length in seconds: a finite number above 0 and at most a day.
fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds above 0 and at most 86400")),
    }
}

fn serve(args: ServeArgs, verbose: bool) -> Result<(), String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    no_delay(&listener);
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| format!("cannot serve on 127.0.0.1:{}: {e}", args.port))?;
    let addr = server.server_addr().to_ip().ok_or("the server has no IP address")?;
    let base = format!("http://127.0.0.1:{}", addr.port());
    let mut state = build_state(&args, base)?;
    state.smtp = Some(smtp::start()?);
    let line = state.startup_line();
    if let Some(path) = &args.env_file {
        let vars = line.get("env").and_then(|v| v.as_object()).cloned().unwrap_or_default();
        std::fs::write(path, state::env_file(&vars)).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let server = Arc::new(server);
    let inflight = state.microsoft.cal.inflight.clone();
    let state = Arc::new(Mutex::new(state));
    let mut workers = Vec::new();
    for _ in 0..args.threads {
        let server = Arc::clone(&server);
        let state = Arc::clone(&state);
        let inflight = inflight.clone();
        workers.push(std::thread::spawn(move || worker(&server, &state, &inflight, verbose)));
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| format!("cannot write to stdout: {e}"))?;
        out.flush().map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    if args.exit_on_stdin_eof {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while let Ok(n) = stdin.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
        return Ok(());
    }
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

fn worker(server: &tiny_http::Server, state: &Mutex<State>, inflight: &calendar::graph::InFlight, verbose: bool) {
    loop {
        let mut rq = match server.recv() {
            Ok(rq) => rq,
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        let req = http::Req::read(&mut rq);
        // Graph's per-mailbox concurrency counts a request from arrival to answer (latency too).
        let busy = inflight.enter(&req);
        let (resp, delivery) = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| st.serve(&req))).unwrap_or_else(|_| {
                let r = http::Resp::json(500, &serde_json::json!({ "error": "internal error in integ-fakes" }));
                (r, faults::Delivery::default())
            })
        };
        // Latency and slow faults wait here, outside the lock.
        if !delivery.delay.is_zero() {
            std::thread::sleep(delivery.delay);
        }
        // The answer is on its way: the request no longer counts as in flight. Released before
        // the send, since a client may send its next request the moment this answer arrives,
        // before this thread gets past the send: counted then, it would be a fifth in flight
        // that the client never had.
        drop(busy);
        if let Some(mid_body) = delivery.reset {
            if verbose {
                eprintln!("integ-fakes: {} {} -> reset", req.method, req.path);
            }
            faults::break_connection(rq, mid_body);
            continue;
        }
        if verbose {
            // Path only: query strings carry codes and states.
            eprintln!("integ-fakes: {} {} -> {}", req.method, req.path, resp.status);
        }
        faults::send(rq, resp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn default_state_builds_and_lists_every_env_var() {
        let cli = Cli::try_parse_from(["integ-fakes", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let st = build_state(&args, "http://127.0.0.1:5".into()).unwrap();
        let env = st.env_vars();
        for k in [
            "INTEG_JOBBER_AUTH_URL",
            "INTEG_JOBBER_TOKEN_URL",
            "INTEG_JOBBER_API_URL",
            "INTEG_GOOGLE_AUTH_URL",
            "INTEG_GOOGLE_TOKEN_URL",
            "INTEG_GOOGLE_REVOKE_URL",
            "INTEG_GOOGLE_API_URL",
            "INTEG_MICROSOFT_AUTH_URL",
            "INTEG_MICROSOFT_TOKEN_URL",
            "INTEG_MICROSOFT_API_URL",
            "INTEG_CALENDLY_AUTH_URL",
            "INTEG_CALENDLY_TOKEN_URL",
            "INTEG_CALENDLY_REVOKE_URL",
            "INTEG_CALENDLY_API_URL",
            "JOBBER_CLIENT_ID",
            "JOBBER_CLIENT_SECRET",
            "JOBBER_REDIRECT_URI",
            "GOOGLE_CLIENT_ID",
            "GOOGLE_CLIENT_SECRET",
            "MICROSOFT_CLIENT_ID",
            "MICROSOFT_TENANT_ID",
            "CALENDLY_CLIENT_ID",
            "CALENDLY_CLIENT_SECRET",
            "CALENDLY_REDIRECT_URI",
        ] {
            assert!(env.contains_key(k), "{k}");
        }
        assert_eq!(env.len(), 24);
        assert_eq!(env["INTEG_MICROSOFT_TOKEN_URL"], "http://127.0.0.1:5/microsoft/common/oauth2/v2.0/token");
    }

    #[test]
    fn bad_flags_are_refused() {
        let cli = Cli::try_parse_from(["integ-fakes", "serve", "--microsoft-redirect-path", "cb"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert!(build_state(&args, String::new()).is_err());
        assert!(Cli::try_parse_from(["integ-fakes", "serve", "--jobber-invalid-grant-status", "500"]).is_err());
        assert!(Cli::try_parse_from(["integ-fakes", "serve", "--jobber-rotation", "maybe"]).is_err());
    }

    fn state() -> State {
        let cli = Cli::try_parse_from(["integ-fakes", "serve", "--now", "2026-11-21T12:00:00Z"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        build_state(&args, "http://127.0.0.1:5".into()).unwrap()
    }

    fn call(st: &mut State, method: &str, path_query: &str, ctype: &str, body: &str) -> http::Resp {
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        st.handle(&http::Req {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![("Content-Type".into(), ctype.into())],
            body: body.as_bytes().to_vec(),
        })
    }

    fn control(st: &mut State, method: &str, path: &str, body: &str) -> serde_json::Value {
        let r = call(st, method, path, "application/json", body);
        assert!(r.status < 300, "{path}: {}", String::from_utf8_lossy(&r.body));
        r.json_value()
    }

    /// Connect the current Jobber user: (access, refresh).
    fn connect_jobber(st: &mut State) -> (String, String) {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let redirect = "http%3A%2F%2Flocalhost%3A47620%2Fcallback%2Fjobber";
        let r = call(
            st,
            "GET",
            &format!(
                "/jobber/api/oauth/authorize?response_type=code&client_id=fake-jobber-client&redirect_uri={redirect}&state=s&code_challenge={c}&code_challenge_method=S256"
            ),
            "",
            "",
        );
        let loc = r.header("Location").unwrap().to_string();
        let code =
            http::Params::parse(loc.split_once('?').unwrap().1.as_bytes()).unwrap().get("code").unwrap().to_string();
        let t = call(
            st,
            "POST",
            "/jobber/api/oauth/token",
            "application/x-www-form-urlencoded",
            &format!("grant_type=authorization_code&client_id=fake-jobber-client&client_secret=fake-jobber-secret&code={code}&redirect_uri={redirect}&code_verifier={v}"),
        )
        .json_value();
        (t["access_token"].as_str().unwrap().into(), t["refresh_token"].as_str().unwrap().into())
    }

    fn account(st: &mut State, at: &str) -> (u16, serde_json::Value) {
        let r = st.handle(&http::Req {
            method: "POST".into(),
            path: "/jobber/api/graphql".into(),
            query: String::new(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Authorization".into(), format!("Bearer {at}")),
                ("X-JOBBER-GRAPHQL-VERSION".into(), "2025-04-16".into()),
            ],
            body: br#"{"query":"query { account { id name } }"}"#.to_vec(),
        });
        (r.status, r.json_value())
    }

    #[test]
    fn control_api_steers_users_consent_expiry_and_disconnects() {
        let mut st = state();
        let (a1, _) = connect_jobber(&mut st);
        control(
            &mut st,
            "POST",
            "/_fake/jobber/login",
            r#"{"id":"Z2lkOi8vSm9iYmVyL0FjY291bnQvMg==","name":"Second Co","email":null}"#,
        );
        let (a2, r2) = connect_jobber(&mut st);
        assert_eq!(account(&mut st, &a1).1["data"]["account"]["name"], "Fake Landscaping Co.");
        assert_eq!(account(&mut st, &a2).1["data"]["account"]["name"], "Second Co");

        // Disconnect only the second account.
        let d = control(&mut st, "POST", "/_fake/jobber/disconnect", r#"{"user":"Z2lkOi8vSm9iYmVyL0FjY291bnQvMg=="}"#);
        assert_eq!(d["access_tokens"], 1);
        assert_eq!(account(&mut st, &a2).0, 401);
        assert_eq!(account(&mut st, &a1).0, 200);
        let refresh = call(
            &mut st,
            "POST",
            "/jobber/api/oauth/token",
            "application/x-www-form-urlencoded",
            &format!(
                "grant_type=refresh_token&client_id=fake-jobber-client&client_secret=fake-jobber-secret&refresh_token={r2}"
            ),
        );
        assert_eq!(refresh.status, 400);

        // Expire everything: the API answers 401 until a refresh.
        let e = control(&mut st, "POST", "/_fake/expire-access-tokens", "");
        assert_eq!(e["expired"]["jobber"], 1);
        assert_eq!(account(&mut st, &a1).0, 401);

        // Throttle through the bucket control.
        let (a3, _) = connect_jobber(&mut st);
        control(&mut st, "POST", "/_fake/jobber/account", r#"{"available":0}"#);
        assert_eq!(account(&mut st, &a3).1["errors"][0]["extensions"]["code"], "THROTTLED");
        control(&mut st, "POST", "/_fake/jobber/account", r#"{"active":false}"#);
        assert_eq!(account(&mut st, &a3).1, serde_json::json!({"error": {"message": "This account is not active"}}));

        // Consent, rotation and bad input.
        assert_eq!(control(&mut st, "POST", "/_fake/google/consent", r#"{"mode":"deny"}"#)["consent"], "deny");
        assert_eq!(control(&mut st, "POST", "/_fake/jobber/rotation", r#"{"mode":"legacy"}"#)["rotation"], "legacy");
        assert_eq!(
            control(&mut st, "POST", "/_fake/microsoft/rotation", r#"{"mode":"revoke-old"}"#)["rotation"],
            "revoke-old"
        );
        assert_eq!(
            call(&mut st, "POST", "/_fake/jobber/rotation", "application/json", r#"{"mode":"sideways"}"#).status,
            400
        );
        assert_eq!(call(&mut st, "POST", "/_fake/nope/login", "application/json", "{}").status, 404);
        assert_eq!(call(&mut st, "POST", "/_fake/calendly/login", "application/json", "[1]").status, 400);

        // Stats and issued material.
        let stats = control(&mut st, "GET", "/_fake/stats", "");
        assert_eq!(stats["jobber"]["code_exchanges_ok"], 3);
        assert_eq!(stats["jobber"]["refresh_failed"], 1);
        assert_eq!(stats["jobber"]["token_requests"]["authorization_code"], 3);
        let issued = control(&mut st, "GET", "/_fake/issued", "");
        let all: Vec<&str> = issued["all"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        for t in [&a1, &a2, &r2] {
            assert!(all.contains(&t.as_str()));
        }
        assert!(all.contains(&"fake-jobber-secret"));
        assert!(all.contains(&"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        // `--now` pinned the clock to the fixtures' reference instant; it runs on from there.
        let before = control(&mut st, "GET", "/_fake/clock", "")["now"].as_i64().unwrap();
        assert!((1_795_262_400..1_795_262_400 + 60).contains(&before), "{before}");
        assert!((st.startup_line()["now"].as_f64().unwrap() - before as f64).abs() < 60.0);
        let clock = control(&mut st, "POST", "/_fake/clock/advance", r#"{"seconds":600}"#);
        assert_eq!(clock["offset_seconds"], 600.0);
        assert!(clock["now"].as_i64().unwrap() >= before + 600);
        control(&mut st, "POST", "/_fake/stats/reset", "");
        assert_eq!(control(&mut st, "GET", "/_fake/stats", "")["jobber"]["api_calls"], 0);
    }

    #[test]
    fn unknown_paths_and_garbage_never_panic() {
        let mut st = state();
        for (m, p, ct, body) in [
            ("GET", "/", "", ""),
            ("POST", "/jobber/api/graphql", "application/json", "\u{0}\u{ff}"),
            ("GET", "/jobber/api/graphql", "", ""),
            ("POST", "/google/token", "application/x-www-form-urlencoded", "%%%&&&=="),
            ("GET", "/google/o/oauth2/v2/auth?%ff%fe=%00", "", ""),
            ("GET", "/microsoft/x", "", ""),
            ("GET", "/microsoft/common/oauth2/v2.0/authorize?client_id=a&client_id=b", "", ""),
            ("POST", "/calendly/oauth/token", "text/plain", "x"),
            ("DELETE", "/calendly/api/users/me", "", ""),
            ("POST", "/_fake/clock/advance", "application/json", r#"{"seconds":-5}"#),
        ] {
            let r = call(&mut st, m, p, ct, body);
            assert!(r.status >= 200, "{m} {p}");
        }
    }
}
