//! The listener end to end: real sockets on loopback, real threads, driven through
//! `Listener::bind` and `wait` as the browser flow uses them.

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::connections::MAX_CONNECTIONS;
use super::head::MAX_HEAD_BYTES;
use super::*;

const STATE: &str = "s7Yq0u9Jm2kQxW4eR6tZ1aB3cD5fG8hK";
const PATH: &str = "/callback/test";

fn config() -> ListenerConfig {
    let mut cfg = ListenerConfig::new(PATH, SecretString::from(STATE));
    cfg.overall_timeout = Duration::from_secs(20);
    cfg.read_timeout = Duration::from_secs(2);
    cfg
}

fn start(cfg: ListenerConfig, paste: Option<Box<dyn BufRead + Send>>) -> (u16, JoinHandle<Outcome>) {
    let listener = Listener::bind(cfg).expect("bind");
    let port = listener.port();
    (port, thread::spawn(move || listener.wait(paste)))
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Send `raw` as-is and read the whole answer (the listener always closes after one).
fn send_raw(addr: SocketAddr, raw: &str) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    stream.write_all(raw.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read");
    let text = String::from_utf8(bytes).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"));
    Response { status, head: head.to_owned(), body: body.to_owned() }
}

fn request(port: u16, method: &str, target: &str) -> Response {
    let raw = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: test\r\n\r\n");
    send_raw(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), &raw)
}

fn get(port: u16, target: &str) -> Response {
    request(port, "GET", target)
}

fn callback(port: u16, code: &str) -> Response {
    get(port, &format!("{PATH}?code={code}&state={STATE}"))
}

fn code_of(outcome: Outcome) -> (String, CallbackSource) {
    let auth = outcome.expect("an authorization");
    (auth.code.expose_secret().to_owned(), auth.source)
}

#[test]
fn favicon_then_forged_state_then_real_callback() {
    let (port, waiter) = start(config(), None);
    assert_eq!(get(port, "/favicon.ico").status, 404);
    let forged = get(port, &format!("{PATH}?code=evil&state=s7Yq0u9Jm2kQxW4eR6tZ1aB3cD5fG8hX"));
    assert_eq!(forged.status, 400);
    assert_eq!(get(port, &format!("{PATH}?code=evil")).status, 400);
    let ok = callback(port, "the-code");
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("<title>integ: connected</title>"));
    assert!(!ok.body.contains("the-code") && !ok.body.contains(STATE));
    assert_eq!(code_of(waiter.join().expect("join")), ("the-code".to_owned(), CallbackSource::Loopback));
}

#[test]
fn other_paths_are_404_and_the_flow_goes_on() {
    let (port, waiter) = start(config(), None);
    for target in ["/", "/callback", "/callback/test/x", "/callback/other?code=a&state=b"] {
        assert_eq!(get(port, target).status, 404, "{target}");
    }
    // The right query on the wrong path is still the wrong path.
    assert_eq!(get(port, &format!("/callback/other?code=c&state={STATE}")).status, 404);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn a_bare_callback_shows_the_declined_page_but_the_flow_waits_for_a_real_answer() {
    let mut cfg = config();
    cfg.bare_callback_is_denial = true;
    let (port, waiter) = start(cfg, None);
    // Any local process can send this (it carries no state), so it must not end the flow.
    let page = get(port, PATH);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>integ: authorization failed</title>"));
    assert_eq!(get(port, &format!("{PATH}?")).status, 200);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn only_bare_callbacks_end_in_the_timeout() {
    let mut cfg = config();
    cfg.bare_callback_is_denial = true;
    cfg.overall_timeout = Duration::from_millis(800);
    let (port, waiter) = start(cfg, None);
    assert_eq!(get(port, PATH).status, 200);
    assert!(matches!(waiter.join().expect("join"), Err(ListenerError::Timeout { .. })));
}

#[test]
fn a_pasted_bare_callback_is_the_users_own_denial() {
    let mut cfg = config();
    cfg.bare_callback_is_denial = true;
    let paste = format!("http://127.0.0.1:1{PATH}\n");
    let (_port, waiter) = start(cfg, Some(Box::new(io::Cursor::new(paste.into_bytes()))));
    assert!(matches!(waiter.join().expect("join"), Err(ListenerError::Denied { .. })));
}

#[test]
fn a_flood_of_idle_sockets_does_not_keep_the_callback_out() {
    let mut cfg = config();
    cfg.read_timeout = Duration::from_secs(30);
    let (port, waiter) = start(cfg, None);
    let idle: Vec<TcpStream> =
        (0..MAX_CONNECTIONS + 8).map(|_| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect")).collect();
    thread::sleep(Duration::from_millis(300));
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
    drop(idle);
}

#[test]
fn bare_callback_is_only_a_bad_request_otherwise() {
    let (port, waiter) = start(config(), None);
    assert_eq!(get(port, PATH).status, 400);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn bare_callback_from_a_subresource_is_not_a_denial() {
    let mut cfg = config();
    cfg.bare_callback_is_denial = true;
    let (port, waiter) = start(cfg, None);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let img = format!("GET {PATH} HTTP/1.1\r\nHost: localhost:{port}\r\nSec-Fetch-Mode: no-cors\r\n\r\n");
    assert_eq!(send_raw(addr, &img).status, 400);
    let nav = format!("GET {PATH} HTTP/1.1\r\nHost: localhost:{port}\r\nSec-Fetch-Mode: navigate\r\n\r\n");
    assert_eq!(send_raw(addr, &nav).status, 200);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn access_denied_with_the_right_state_ends_the_flow() {
    let (port, waiter) = start(config(), None);
    // A forged denial (wrong state) must not end it.
    assert_eq!(get(port, &format!("{PATH}?error=access_denied&state=nope")).status, 400);
    let target = format!("{PATH}?error=access_denied&error_description=The+user+said+no%1B%5B31m&state={STATE}");
    let page = get(port, &target);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("access_denied"));
    match waiter.join().expect("join") {
        Err(ListenerError::Denied { error, description }) => {
            assert_eq!(error, "access_denied");
            // The escape character is gone before the text can reach a terminal.
            assert_eq!(description.as_deref(), Some("The user said no [31m"));
        }
        other => panic!("expected Denied, got {other:?}"),
    }
}

#[test]
fn pages_carry_the_security_headers_and_escape_provider_text() {
    let (port, waiter) = start(config(), None);
    let target =
        format!("{PATH}?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={STATE}");
    let page = get(port, &target);
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    assert_eq!(page.header("Referrer-Policy"), Some("no-referrer"));
    assert!(page.header("Content-Security-Policy").is_some_and(|v| v.starts_with("default-src 'none'")));
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(page.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(!page.body.contains("<script>"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains(STATE));
    let _ = waiter.join().expect("join");
    // The 404 and 400 answers carry them too.
    let (port, waiter) = start(config(), None);
    for target in ["/favicon.ico".to_owned(), format!("{PATH}?state=x&code=y")] {
        let page = get(port, &target);
        assert_eq!(page.header("Cache-Control"), Some("no-store"), "{target}");
        assert_eq!(page.header("Referrer-Policy"), Some("no-referrer"), "{target}");
    }
    assert_eq!(callback(port, "c").status, 200);
    let _ = waiter.join().expect("join");
}

#[test]
fn other_methods_on_the_callback_are_405() {
    let (port, waiter) = start(config(), None);
    let target = format!("{PATH}?code=c&state={STATE}");
    let post = request(port, "POST", &target);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow"), Some("GET"));
    assert_eq!(request(port, "HEAD", &target).status, 405);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn a_foreign_host_header_is_refused() {
    let (port, waiter) = start(config(), None);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let raw = format!("GET {PATH}?code=c&state={STATE} HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n");
    assert_eq!(send_raw(addr, &raw).status, 400);
    let raw = format!("GET {PATH}?code=c&state={STATE} HTTP/1.1\r\nHost: LOCALHOST:{port}\r\n\r\n");
    assert_eq!(send_raw(addr, &raw).status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn malformed_requests_get_400_and_the_flow_goes_on() {
    let (port, waiter) = start(config(), None);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    for raw in [
        "garbage\r\n\r\n".to_owned(),
        format!("GET {PATH} HTTP/2\r\n\r\n"),
        format!("GET http://127.0.0.1:{port}{PATH} HTTP/1.1\r\n\r\n"),
        format!("GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil\r\n\r\n"),
        format!("GET {PATH} HTTP/1.1\r\nBad Header: x\r\n\r\n"),
    ] {
        assert_eq!(send_raw(addr, &raw).status, 400, "{raw:?}");
    }
    // Just over the limit, all in one go: refused, whether the client reads the 431 or
    // the close resets the connection first.
    let huge = format!("GET {PATH} HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let _ = stream.write_all(huge.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 431 "));
    assert_eq!(get(port, &format!("{PATH}?code=c&code=d&state={STATE}")).status, 400);
    assert_eq!(get(port, &format!("{PATH}?code=&state={STATE}")).status, 400);
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
}

#[test]
fn times_out_when_nothing_comes() {
    let mut cfg = config();
    cfg.overall_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (_, waiter) = start(cfg, None);
    match waiter.join().expect("join") {
        Err(e @ ListenerError::Timeout { secs: 1 }) => {
            let error = crate::error::Error::from(e);
            assert!(error.hint.unwrap_or_default().contains("--timeout"));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3));
}

#[test]
fn a_busy_port_names_the_port_and_the_setting() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut cfg = config();
    cfg.port = port;
    cfg.port_setting_hint = "--port or JOBBER_REDIRECT_URI".to_owned();
    for host in [BindHost::Ipv4, BindHost::Localhost] {
        cfg.host = host;
        match Listener::bind(cfg.clone()) {
            Err(e @ ListenerError::PortBusy { .. }) => {
                let message = e.to_string();
                assert!(message.contains(&port.to_string()), "{message}");
                assert!(message.contains("--port or JOBBER_REDIRECT_URI"), "{message}");
                let error = crate::error::Error::from(e);
                assert_eq!(error.kind, crate::error::Kind::Config);
            }
            other => panic!("expected PortBusy, got {other:?}"),
        }
    }
}

#[test]
fn the_port_is_released_when_wait_returns() {
    let (port, waiter) = start(config(), None);
    assert_eq!(callback(port, "c").status, 200);
    let _ = waiter.join().expect("join");
    let refused = TcpStream::connect((Ipv4Addr::LOCALHOST, port));
    assert!(refused.is_err(), "something still listens on {port}");
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port is free again");

    // A fixed port can be reused at once by the next run.
    let mut cfg = config();
    cfg.port = port;
    cfg.overall_timeout = Duration::from_millis(50);
    let listener = Listener::bind(cfg.clone()).expect("bind");
    assert!(matches!(listener.wait(None), Err(ListenerError::Timeout { .. })));
    Listener::bind(cfg).expect("bind again after a timeout");
}

#[test]
fn an_idle_connection_does_not_hold_up_the_callback() {
    let mut cfg = config();
    cfg.read_timeout = Duration::from_secs(30);
    let (port, waiter) = start(cfg, None);
    let idle = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let mut half = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    half.write_all(b"GET /callback/te").expect("send part");
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    assert_eq!(callback(port, "c").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop((idle, half));
}

#[test]
fn a_silent_or_dripping_connection_is_cut_off_after_the_read_timeout() {
    let mut cfg = config();
    cfg.read_timeout = Duration::from_millis(400);
    let (port, waiter) = start(cfg, None);
    let mut silent = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let mut drip = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    let started = Instant::now();
    // One byte every 100 ms never finishes a head, and each read is well within 400 ms.
    for byte in b"GET /callback/test HTTP/1.1\r\n".iter().take(8) {
        let _ = drip.write_all(&[*byte]);
        thread::sleep(Duration::from_millis(100));
    }
    for stream in [&mut silent, &mut drip] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut buf = [0u8; 16];
        // Closed by the listener: end of stream (or a reset), never a timeout here.
        match stream.read(&mut buf) {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_ne!(e.kind(), io::ErrorKind::WouldBlock, "still open"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(callback(port, "c").status, 200);
    let _ = waiter.join().expect("join");
}

#[test]
fn a_pasted_address_wins_when_no_callback_comes() {
    let pasted = format!("\n   \n  http://127.0.0.1:1234{PATH}?code=pasted-code&state={STATE}  \n");
    let (_, waiter) = start(config(), Some(Box::new(Cursor::new(pasted))));
    assert_eq!(code_of(waiter.join().expect("join")), ("pasted-code".to_owned(), CallbackSource::Pasted));
}

#[test]
fn a_pasted_address_with_the_wrong_state_is_ignored() {
    let pasted = format!(
        "not a url\nhttp://127.0.0.1:1/elsewhere?code=a&state={STATE}\n\
         http://127.0.0.1:1{PATH}?code=forged&state=wrong\n"
    );
    let (port, waiter) = start(config(), Some(Box::new(Cursor::new(pasted))));
    // The reader hits end of input; that source stops and the listener keeps going.
    thread::sleep(Duration::from_millis(200));
    assert_eq!(callback(port, "real").status, 200);
    assert_eq!(code_of(waiter.join().expect("join")), ("real".to_owned(), CallbackSource::Loopback));
}

#[test]
fn a_pasted_denial_ends_the_flow() {
    let pasted = format!("https://localhost:9{PATH}?error=access_denied&state={STATE}\n");
    let (_, waiter) = start(config(), Some(Box::new(Cursor::new(pasted))));
    assert!(matches!(waiter.join().expect("join"), Err(ListenerError::Denied { .. })));
}

#[test]
fn localhost_listens_on_both_loopbacks() {
    let mut cfg = config();
    cfg.host = BindHost::Localhost;
    let listener = Listener::bind(cfg).expect("bind");
    let port = listener.port();
    let addrs = listener.local_addrs();
    assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == port), "{addrs:?}");
    assert_eq!(listener.redirect_uri("localhost"), format!("http://localhost:{port}{PATH}"));
    let v6 = addrs.iter().find(|a| a.is_ipv6()).copied();
    let waiter = thread::spawn(move || listener.wait(None));
    let target = format!("{PATH}?code=c&state={STATE}");
    let via = match v6 {
        Some(addr) => addr,
        None => {
            eprintln!("no IPv6 loopback here; checked IPv4 only");
            SocketAddr::from((Ipv4Addr::LOCALHOST, port))
        }
    };
    let raw = format!("GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
    assert_eq!(send_raw(via, &raw).status, 200);
    assert_eq!(code_of(waiter.join().expect("join")).0, "c");
    if let Some(addr) = v6 {
        assert!(TcpStream::connect(addr).is_err(), "[::1]:{port} still open");
    }
}

#[test]
fn redirect_uri_brackets_ipv6_literals() {
    let listener = Listener::bind(config()).expect("bind");
    let port = listener.port();
    assert_eq!(listener.redirect_uri("127.0.0.1"), format!("http://127.0.0.1:{port}{PATH}"));
    assert_eq!(listener.redirect_uri("::1"), format!("http://[::1]:{port}{PATH}"));
    assert_eq!(listener.redirect_uri("[::1]"), format!("http://[::1]:{port}{PATH}"));
}

#[test]
fn misconfiguration_is_refused() {
    let mut cfg = config();
    cfg.expected_state = SecretString::from("short");
    assert!(matches!(Listener::bind(cfg), Err(ListenerError::Misconfigured { .. })));
    let mut cfg = config();
    cfg.path = "callback".to_owned();
    assert!(matches!(Listener::bind(cfg), Err(ListenerError::Misconfigured { .. })));
    let mut cfg = config();
    cfg.read_timeout = Duration::ZERO;
    assert!(matches!(Listener::bind(cfg), Err(ListenerError::Misconfigured { .. })));
}

#[test]
fn denial_becomes_a_crate_error_without_secrets() {
    let e =
        ListenerError::Denied { error: "access_denied".to_owned(), description: Some("The user declined".to_owned()) };
    let error = crate::error::Error::from(e);
    assert_eq!(error.message, "authorization denied");
    assert_eq!(error.causes, ["the provider answered access_denied: The user declined"]);
    assert!(error.hint.unwrap_or_default().contains("integ connect"));
}
