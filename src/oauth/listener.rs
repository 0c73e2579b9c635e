//! The loopback listener that receives the provider's redirect at the end of the browser step
//! (RFC 8252 §7.3), and the paste-the-address fallback for when the browser cannot reach it.
//!
//! Why a small HTTP reader of our own on `std::net` rather than `tiny_http`: the listener must
//! put a deadline on every connection (a browser's speculative pre-connect, or anything else on
//! the machine, may open a socket and send nothing), close its port the moment the flow ends,
//! and answer exactly one request per connection. `tiny_http` 0.12 sets no read timeout on
//! accepted sockets and offers no way to set one, parks a pool thread on every idle or
//! keep-alive connection until the peer goes away, and closes its listening socket on its own
//! accept thread some time after the server is dropped. The part of HTTP needed here is one
//! request line and a few headers of a GET, so owning it costs less than working around that.
//!
//! Security rules this file keeps (RFC 9700 §4.1, §4.7; RFC 8252 §8.3):
//! - listen on loopback addresses only, never on all interfaces;
//! - a callback counts only with the exact `state` this run generated (compared in constant
//!   time); anything else gets a 400 and the flow keeps waiting, so a forged request cannot end
//!   or steer it;
//! - requests whose `Host` is not a loopback name of this port are refused (DNS rebinding);
//! - the code and the state are never logged, echoed in a page, or put in an error message.

use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::pages::{self, Page};

/// How long `wait` waits for the browser when nothing else is configured.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(300);
/// How long one connection may take to send its request line and headers.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the wait loop looks for new connections. Accepting is non-blocking so that the
/// loop owns the listening sockets and can close them the moment it returns.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// A request head bigger than this is not a browser following a redirect.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Connections being read at once. When all are taken, the oldest that has not sent its
/// request head is closed to make room, so a flood of idle sockets can neither pile up threads
/// nor keep the browser's real callback out.
const MAX_CONNECTIONS: usize = 32;
/// A pasted line longer than this is not an address.
const MAX_PASTE_BYTES: u64 = 16 * 1024;
/// The "declined?" page's text for a bare callback.
const BARE_DECLINE_TEXT: &str = "the browser came back with no answer, which is how this provider reports a declined \
                                 request; integ keeps waiting, so if you did not mean to decline, sign in again";
/// A `state` shorter than this cannot hold 128 bits in base64url (RFC 9700 §4.7.1).
const MIN_STATE_CHARS: usize = 22;
/// Provider text kept in [`ListenerError::Denied`], which ends up in a terminal.
const MAX_PROVIDER_TEXT_CHARS: usize = 500;

/// Which loopback addresses to listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindHost {
    /// `127.0.0.1` only: the redirect URI names the IP literal (RFC 8252 §7.3 prefers it).
    Ipv4,
    /// `127.0.0.1` and `[::1]` on the same port, for providers that insist on `localhost`,
    /// which a browser may resolve to either. `[::1]` is skipped when IPv6 is unavailable.
    Localhost,
}

/// What [`Listener::bind`] needs. Build it with [`ListenerConfig::new`] and adjust the fields.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    pub host: BindHost,
    /// `0` picks a free port.
    pub port: u16,
    /// The callback path, e.g. `/callback/google`; requests to other paths get a 404.
    pub path: String,
    /// The random, single-use `state` sent in the authorize request (at least 128 bits).
    pub expected_state: SecretString,
    /// Jobber reports a refusal by sending the browser to the callback with no query string at
    /// all; with this set, such a request gets the "declined?" page. It carries no state, so
    /// any local process could send it: the flow keeps waiting for a real answer (until the
    /// timeout, Ctrl-C, or a code).
    pub bare_callback_is_denial: bool,
    /// How long to wait for the browser or a pasted address before giving up.
    pub overall_timeout: Duration,
    /// How long one connection may take to send its request head.
    pub read_timeout: Duration,
    /// Where the user changes the port, named in the busy-port error
    /// (e.g. "--port or JOBBER_REDIRECT_URI").
    pub port_setting_hint: String,
}

impl ListenerConfig {
    /// A config for 127.0.0.1 on a free port with the default timeouts.
    pub fn new(path: impl Into<String>, expected_state: SecretString) -> Self {
        ListenerConfig {
            host: BindHost::Ipv4,
            port: 0,
            path: path.into(),
            expected_state,
            bare_callback_is_denial: false,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            port_setting_hint: "--port".to_owned(),
        }
    }
}

/// Why no authorization code came back.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("port {port} on the loopback interface is already in use; choose another with {setting}")]
    PortBusy { port: u16, setting: String },
    #[error("could not listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the callback listener is misconfigured: {reason}")]
    Misconfigured { reason: String },
    /// The provider refused; `error` and `description` are the provider's words with control
    /// characters removed, safe to print.
    #[error("authorization denied")]
    Denied { error: String, description: Option<String> },
    #[error("no answer came back from the browser within {secs} s")]
    Timeout { secs: u64 },
}

impl From<ListenerError> for crate::error::Error {
    fn from(e: ListenerError) -> Self {
        use crate::error::Error;
        let message = e.to_string();
        match e {
            ListenerError::PortBusy { port, setting } => Error::config(message).hint(format!(
                "stop the program using port {port}, or choose another port with {setting} \
                 (if the provider has the redirect address registered, register the new one too)"
            )),
            ListenerError::Bind { source, .. } => Error::failure(message).cause(source).hint(
                "check that the loopback interface is up and that nothing (a sandbox, a \
                 firewall) forbids listening on it",
            ),
            ListenerError::Misconfigured { .. } => Error::config(message),
            ListenerError::Denied { error, description } => {
                let said = match description {
                    Some(d) => format!("the provider answered {error}: {d}"),
                    None => format!("the provider answered {error}"),
                };
                Error::failure(message)
                    .cause(said)
                    .hint("run `integ connect` again and approve access on the provider's page")
            }
            ListenerError::Timeout { .. } => Error::failure(message).hint(
                "run `integ connect` again and finish in the browser sooner, allow more time \
                 with --timeout, or paste the address the browser ended on into the terminal",
            ),
        }
    }
}

/// Where the code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackSource {
    /// The browser was redirected to the listener.
    Loopback,
    /// The user pasted the address the browser ended on.
    Pasted,
}

/// A successful callback: the authorization code, to be exchanged for tokens.
#[derive(Debug)]
pub struct Authorization {
    pub code: SecretString,
    pub source: CallbackSource,
}

/// Listening sockets bound and ready; [`Listener::wait`] consumes them.
#[derive(Debug)]
pub struct Listener {
    sockets: Vec<TcpListener>,
    port: u16,
    cfg: ListenerConfig,
}

impl Listener {
    /// Bind the loopback address(es). A port already in use is [`ListenerError::PortBusy`].
    pub fn bind(cfg: ListenerConfig) -> Result<Listener, ListenerError> {
        validate(&cfg)?;
        let sockets = match cfg.host {
            BindHost::Ipv4 => vec![bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.port)), &cfg)?],
            BindHost::Localhost => bind_both(&cfg)?,
        };
        let mut port = cfg.port;
        for socket in &sockets {
            // Non-blocking so that `wait` can poll for connections and its deadline together.
            let addr = socket.local_addr().map_err(|source| ListenerError::Bind {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.port)),
                source,
            })?;
            socket.set_nonblocking(true).map_err(|source| ListenerError::Bind { addr, source })?;
            port = addr.port();
        }
        tracing::debug!(port, "callback listener bound");
        Ok(Listener { sockets, port, cfg })
    }

    /// The port being listened on (the chosen one when the config asked for `0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses being listened on.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets.iter().filter_map(|s| s.local_addr().ok()).collect()
    }

    /// The redirect URI to send in the authorize and token requests, e.g.
    /// `http://127.0.0.1:PORT/callback/google` for `host_in_uri` = "127.0.0.1".
    pub fn redirect_uri(&self, host_in_uri: &str) -> String {
        let host = if host_in_uri.contains(':') && !host_in_uri.starts_with('[') {
            format!("[{host_in_uri}]")
        } else {
            host_in_uri.to_owned()
        };
        format!("http://{host}:{}{}", self.port, self.cfg.path)
    }

    /// Wait for the callback until the overall deadline. With `paste` (stdin in production),
    /// an address pasted there counts too; whichever valid answer arrives first wins. The
    /// listening sockets are closed when this returns.
    ///
    /// A pasted line that is not this run's callback prints a one-line warning to stderr and
    /// the wait goes on; end of input on `paste` only stops that source. The thread reading
    /// `paste` cannot be interrupted in a blocking read: after `wait` returns it stays parked
    /// until the next line or end of input, and drops that line. Callers that read stdin again
    /// later in the same run should know the first line typed then is lost.
    pub fn wait(self, paste: Option<Box<dyn BufRead + Send>>) -> Result<Authorization, ListenerError> {
        let Listener { sockets, port, cfg } = self;
        let waiter = Waiter { port, cfg: &cfg };
        let (tx, rx) = mpsc::channel();
        if let Some(reader) = paste {
            spawn_paste_reader(reader, tx.clone());
        }
        let outcome = waiter.run(&sockets, &tx, &rx);
        // Close the port now, not whenever the caller drops something: the flow is over and a
        // late or replayed callback must find nothing listening.
        drop(sockets);
        outcome
    }
}

/// Something for the wait loop to judge.
enum Event {
    Request(Request),
    Pasted(SecretString),
}

/// The head of one HTTP request, with the connection to answer on.
struct Request {
    method: String,
    target: String,
    host: Option<String>,
    fetch_mode: Option<String>,
    stream: TcpStream,
}

/// What a callback's query string amounts to.
#[derive(Debug)]
enum Verdict {
    Code(SecretString),
    Denied {
        error: String,
        description: Option<String>,
    },
    /// A bare callback where the provider sends one to say "declined" (Jobber): unauthenticated,
    /// so it shows the page but does not end the flow.
    MaybeDeclined,
    /// Not an answer to this run's request; the reason is safe to show.
    Rejected(&'static str),
}

type Outcome = Result<Authorization, ListenerError>;

struct Waiter<'a> {
    port: u16,
    cfg: &'a ListenerConfig,
}

impl Waiter<'_> {
    fn run(&self, sockets: &[TcpListener], tx: &Sender<Event>, rx: &Receiver<Event>) -> Outcome {
        let start = Instant::now();
        let active = Arc::new(Connections::default());
        loop {
            let elapsed = start.elapsed();
            if elapsed >= self.cfg.overall_timeout {
                return Err(ListenerError::Timeout { secs: ceil_secs(self.cfg.overall_timeout) });
            }
            for socket in sockets {
                self.accept_ready(socket, tx, &active);
            }
            let next_poll = POLL_INTERVAL.min(self.cfg.overall_timeout - elapsed);
            let done = match rx.recv_timeout(next_poll) {
                Ok(Event::Request(request)) => self.on_request(request),
                Ok(Event::Pasted(line)) => self.on_paste(&line),
                // `tx` lives in this frame, so the channel cannot disconnect; both cases just
                // mean "nothing yet".
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
            };
            if let Some(outcome) = done {
                return outcome;
            }
        }
    }

    /// Hand every pending connection to its own reader thread, so a client that is slow to
    /// send its request never holds up the loop.
    fn accept_ready(&self, socket: &TcpListener, tx: &Sender<Event>, active: &Arc<Connections>) {
        loop {
            match socket.accept() {
                Ok((stream, _)) => spawn_connection(stream, self.cfg.read_timeout, tx, active),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // Out of descriptors, connection aborted before accept: try next round.
                    tracing::debug!(error = %e, "accepting a connection failed");
                    return;
                }
            }
        }
    }

    fn on_request(&self, request: Request) -> Option<Outcome> {
        let Request { method, target, host, fetch_mode, stream } = request;
        if !self.host_allowed(host.as_deref()) {
            tracing::debug!("request with a non-loopback Host header refused");
            respond(stream, &pages::bad_request(), &[]);
            return None;
        }
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target.as_str(), None),
        };
        if path != self.cfg.path {
            tracing::debug!(path = ?path, "request for another path");
            respond(stream, &pages::not_found(), &[]);
            return None;
        }
        tracing::debug!("callback received on {}", self.cfg.path);
        if method != "GET" {
            respond(stream, &pages::method_not_allowed(), &[("Allow", "GET")]);
            return None;
        }
        // A bare callback carries no state to check, so make a forged one at least come from a
        // top-level navigation: a page's <img> or fetch() gets Sec-Fetch-Mode no-cors/cors.
        if is_bare(query) && fetch_mode.is_some_and(|mode| !mode.trim().eq_ignore_ascii_case("navigate")) {
            respond(stream, &pages::bad_request(), &[]);
            return None;
        }
        match judge(query, &self.cfg.expected_state, self.cfg.bare_callback_is_denial) {
            Verdict::Code(code) => {
                respond(stream, &pages::success(), &[]);
                Some(Ok(Authorization { code, source: CallbackSource::Loopback }))
            }
            Verdict::Denied { error, description } => {
                respond(stream, &pages::failure(&error, description.as_deref()), &[]);
                Some(Err(ListenerError::Denied { error, description }))
            }
            Verdict::MaybeDeclined => {
                respond(stream, &pages::failure("access_denied", Some(BARE_DECLINE_TEXT)), &[]);
                tracing::warn!(
                    "the browser came back without an answer (did you decline?); still waiting for the sign-in \
                     (Ctrl-C to stop)"
                );
                None
            }
            Verdict::Rejected(why) => {
                tracing::debug!("callback ignored: {why}");
                respond(stream, &pages::bad_request(), &[]);
                None
            }
        }
    }

    fn on_paste(&self, line: &SecretString) -> Option<Outcome> {
        let warn = |why: &str| {
            // The line itself is never repeated: it may hold a code.
            crate::ui::stderr_line(&format!("integ: ignored the pasted address: {why}"));
            None
        };
        let Ok(url) = Url::parse(line.expose_secret().trim()) else {
            return warn("it is not a web address; paste the whole address from the browser's address bar");
        };
        if url.path() != self.cfg.path {
            return warn(&format!("it is not integ's callback (expected the path {})", self.cfg.path));
        }
        match judge(url.query(), &self.cfg.expected_state, self.cfg.bare_callback_is_denial) {
            Verdict::Code(code) => Some(Ok(Authorization { code, source: CallbackSource::Pasted })),
            Verdict::Denied { error, description } => Some(Err(ListenerError::Denied { error, description })),
            // Pasted by the person at the terminal: their word ends the flow.
            Verdict::MaybeDeclined => Some(Err(ListenerError::Denied {
                error: "access_denied".to_owned(),
                description: Some(BARE_DECLINE_TEXT.to_owned()),
            })),
            Verdict::Rejected(why) => warn(why),
        }
    }

    /// The browser sends the host of the redirect URI; anything else (a DNS-rebinding page
    /// reaching the port under its own name) is not the provider's redirect.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        // HTTP/1.0 clients may omit Host; they cannot be a rebinding browser.
        let Some(host) = host else { return true };
        let port = self.port;
        ["127.0.0.1", "localhost", "[::1]"].iter().any(|name| {
            host.eq_ignore_ascii_case(&format!("{name}:{port}")) || (port == 80 && host.eq_ignore_ascii_case(name))
        })
    }
}

fn validate(cfg: &ListenerConfig) -> Result<(), ListenerError> {
    let bad = |reason: String| Err(ListenerError::Misconfigured { reason });
    if !cfg.path.starts_with('/') || cfg.path.contains(['?', '#', ' ']) {
        return bad(format!("the callback path {:?} must start with / and hold no query", cfg.path));
    }
    if cfg.expected_state.expose_secret().chars().count() < MIN_STATE_CHARS {
        return bad(format!("the state must be at least {MIN_STATE_CHARS} random characters"));
    }
    if cfg.read_timeout.is_zero() {
        return bad("the per-connection read timeout must be more than zero".to_owned());
    }
    Ok(())
}

fn bind_one(addr: SocketAddr, cfg: &ListenerConfig) -> Result<TcpListener, ListenerError> {
    TcpListener::bind(addr).map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            ListenerError::PortBusy { port: addr.port(), setting: cfg.port_setting_hint.clone() }
        } else {
            ListenerError::Bind { addr, source }
        }
    })
}

/// Bind 127.0.0.1 and then [::1] on the same port. With a random port, the port free on IPv4
/// may be taken on IPv6, so a few ports are tried.
fn bind_both(cfg: &ListenerConfig) -> Result<Vec<TcpListener>, ListenerError> {
    const ATTEMPTS: usize = 8;
    let mut last_busy = None;
    for _ in 0..ATTEMPTS {
        let v4 = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.port)), cfg)?;
        let port = v4
            .local_addr()
            .map_err(|source| ListenerError::Bind { addr: SocketAddr::from((Ipv4Addr::LOCALHOST, cfg.port)), source })?
            .port();
        let v6_addr = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        match TcpListener::bind(v6_addr) {
            Ok(v6) => return Ok(vec![v4, v6]),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                let busy = ListenerError::PortBusy { port, setting: cfg.port_setting_hint.clone() };
                if cfg.port != 0 {
                    return Err(busy);
                }
                last_busy = Some(busy);
            }
            Err(e) => {
                // No IPv6 on this machine (or no ::1): a browser resolving localhost can only
                // reach 127.0.0.1 then, so IPv4 alone is enough.
                tracing::debug!(error = %e, "IPv6 loopback unavailable; listening on 127.0.0.1 only");
                return Ok(vec![v4]);
            }
        }
    }
    Err(last_busy.unwrap_or(ListenerError::PortBusy { port: cfg.port, setting: cfg.port_setting_hint.clone() }))
}

/// The connections whose request head is still being read, oldest first.
#[derive(Default)]
struct Connections {
    next_id: AtomicUsize,
    open: std::sync::Mutex<std::collections::VecDeque<(usize, TcpStream)>>,
}

impl Connections {
    /// Register a new connection, closing the oldest one still reading when all places are
    /// taken. `None` if the socket cannot be tracked (then it is not served).
    fn admit(self: &Arc<Self>, stream: &TcpStream) -> Option<ActiveGuard> {
        let handle = stream.try_clone().ok()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while open.len() >= MAX_CONNECTIONS {
            if let Some((_, oldest)) = open.pop_front() {
                tracing::debug!("too many connections still sending their request; closing the oldest");
                let _ = oldest.shutdown(Shutdown::Both);
            }
        }
        open.push_back((id, handle));
        Some(ActiveGuard { id, all: Arc::clone(self) })
    }
}

/// Removes a connection from [`Connections`] when its reader thread ends (or never starts).
struct ActiveGuard {
    id: usize,
    all: Arc<Connections>,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let mut open = self.all.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|(id, _)| *id != self.id);
    }
}

fn spawn_connection(stream: TcpStream, read_timeout: Duration, tx: &Sender<Event>, active: &Arc<Connections>) {
    let Some(guard) = active.admit(&stream) else {
        return;
    };
    let tx = tx.clone();
    let spawned = thread::Builder::new().name("integ-callback-conn".to_owned()).spawn(move || {
        let _guard = guard;
        read_connection(stream, read_timeout, &tx);
    });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "could not start a connection reader");
    }
}

/// Read one request head within `read_timeout` and pass it to the wait loop. The wait loop
/// answers it; a connection that fails to send a head in time is just closed.
fn read_connection(stream: TcpStream, read_timeout: Duration, tx: &Sender<Event>) {
    // On macOS and the BSDs an accepted socket inherits the listener's non-blocking mode.
    if stream.set_nonblocking(false).is_err() || stream.set_write_timeout(Some(read_timeout)).is_err() {
        return;
    }
    let head = match read_head(&stream, read_timeout) {
        Ok(head) => head,
        Err(HeadError::TooLarge) => {
            respond(stream, &pages::Page { status: 431, body: String::new() }, &[]);
            return;
        }
        Err(HeadError::Closed) => return,
    };
    let Some(parsed) = parse_head(&head) else {
        respond(stream, &Page { status: 400, body: String::new() }, &[]);
        return;
    };
    let (method, target, host, fetch_mode) = parsed;
    // The wait loop is gone when this fails: the flow has ended and the socket just closes.
    let _ = tx.send(Event::Request(Request { method, target, host, fetch_mode, stream }));
}

enum HeadError {
    /// Timed out, closed early, or failed: nothing worth answering.
    Closed,
    TooLarge,
}

/// Read up to the blank line ending the head. The deadline covers the whole head, so a client
/// dripping one byte at a time is cut off as surely as a silent one.
fn read_head(stream: &TcpStream, budget: Duration) -> Result<Vec<u8>, HeadError> {
    // Clamped so that an absurd setting cannot overflow the clock arithmetic.
    let deadline = Instant::now() + budget.min(Duration::from_secs(3600));
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let mut reader = stream;
    loop {
        if let Some(end) = head_end(&head) {
            if end > MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || reader.set_read_timeout(Some(remaining)).is_err() {
            return Err(HeadError::Closed);
        }
        match reader.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Closed),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

/// Where the head ends (before the empty line), accepting bare LF as RFC 9112 §2.2 allows.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = buf.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Method, request target, Host and Sec-Fetch-Mode of a request head; `None` if malformed.
#[allow(clippy::type_complexity)]
fn parse_head(head: &[u8]) -> Option<(String, String, Option<String>, Option<String>)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
        || !version.starts_with("HTTP/1.")
    {
        return None;
    }
    let (mut host, mut fetch_mode) = (None, None);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return None;
        }
        let slot = if name.eq_ignore_ascii_case("host") {
            &mut host
        } else if name.eq_ignore_ascii_case("sec-fetch-mode") {
            &mut fetch_mode
        } else {
            continue;
        };
        // Two Host headers are how request-smuggling tricks start; no browser sends them.
        if slot.is_some() {
            return None;
        }
        *slot = Some(value.trim().to_owned());
    }
    Some((method.to_owned(), target.to_owned(), host, fetch_mode))
}

/// Send one response and close the connection.
fn respond(mut stream: TcpStream, page: &Page, extra_headers: &[(&str, &str)]) {
    let bytes = pages::http_response(page, extra_headers);
    if let Err(e) = stream.write_all(&bytes).and_then(|()| stream.flush()) {
        tracing::debug!(error = %e, "could not send the response");
    }
    let _ = stream.shutdown(Shutdown::Write);
}

fn is_bare(query: Option<&str>) -> bool {
    query.is_none_or(str::is_empty)
}

/// Decide what a callback's query string means for this run.
fn judge(query: Option<&str>, expected_state: &SecretString, bare_is_denial: bool) -> Verdict {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return if bare_is_denial { Verdict::MaybeDeclined } else { Verdict::Rejected("it carries no state") };
    };
    let (mut state, mut code, mut error, mut description) = (None, None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        // RFC 6749 §3.1: parameters must not repeat; a repeated one is someone's trick.
        if slot.is_some() {
            return Verdict::Rejected("a parameter appears twice");
        }
        *slot = Some(SecretString::from(value.into_owned()));
    }
    let Some(state) = state else {
        return Verdict::Rejected("it carries no state");
    };
    if !constant_time_eq(state.expose_secret().as_bytes(), expected_state.expose_secret().as_bytes()) {
        return Verdict::Rejected("its state does not match this sign-in");
    }
    if let Some(error) = error {
        return Verdict::Denied {
            error: printable(error.expose_secret()),
            description: description.map(|d| printable(d.expose_secret())),
        };
    }
    match code {
        Some(code) if !code.expose_secret().is_empty() => Verdict::Code(code),
        _ => Verdict::Rejected("it carries no code"),
    }
}

/// Compare without stopping at the first difference, so timing does not reveal how much of a
/// guessed state was right. Lengths are not secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the compiler from turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}

/// Provider text ends up in a terminal: drop control characters (escape sequences) and cap it.
fn printable(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_PROVIDER_TEXT_CHARS).collect();
    if text.chars().nth(MAX_PROVIDER_TEXT_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Read pasted lines on their own thread: a blocking read on stdin cannot be combined with the
/// socket poll otherwise. The thread ends at end of input, on a read error, or at the first
/// line after the wait is over (the channel is closed by then).
fn spawn_paste_reader(mut reader: Box<dyn BufRead + Send>, tx: Sender<Event>) {
    let spawned = thread::Builder::new().name("integ-paste".to_owned()).spawn(move || {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match (&mut reader).take(MAX_PASTE_BYTES).read_until(b'\n', &mut buf) {
                Ok(0) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim().to_owned();
                    if line.is_empty() {
                        continue;
                    }
                    if tx.send(Event::Pasted(SecretString::from(line))).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!(error = %e, "stopped reading pasted addresses");
                    return;
                }
            }
        }
    });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "could not start reading pasted addresses");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::thread::JoinHandle;

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
        let status =
            head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"));
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
        let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS + 8)
            .map(|_| TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect"))
            .collect();
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
    fn judging_a_query() {
        let state = SecretString::from(STATE);
        let judged = |q: &str| judge(Some(q), &state, false);
        assert!(matches!(judged(&format!("code=a%2Bb&state={STATE}")), Verdict::Code(c) if c.expose_secret() == "a+b"));
        assert!(matches!(judged(&format!("state={STATE}&code=x&extra=1")), Verdict::Code(_)));
        assert!(matches!(judged(&format!("code=x&state={STATE}&state={STATE}")), Verdict::Rejected(_)));
        assert!(matches!(judged(&format!("state={STATE}")), Verdict::Rejected(_)));
        assert!(matches!(judged(&format!("code=x&state={STATE}x")), Verdict::Rejected(_)));
        assert!(matches!(judged("code=x&state="), Verdict::Rejected(_)));
        // An error beats a code: RFC 6749 §4.1.2.1 responses carry one or the other.
        assert!(matches!(judged(&format!("code=x&error=server_error&state={STATE}")), Verdict::Denied { .. }));
        assert!(matches!(judge(None, &state, false), Verdict::Rejected(_)));
        assert!(matches!(judge(None, &state, true), Verdict::MaybeDeclined));
    }

    #[test]
    fn denial_becomes_a_crate_error_without_secrets() {
        let e = ListenerError::Denied {
            error: "access_denied".to_owned(),
            description: Some("The user declined".to_owned()),
        };
        let error = crate::error::Error::from(e);
        assert_eq!(error.message, "authorization denied");
        assert_eq!(error.causes, ["the provider answered access_denied: The user declined"]);
        assert!(error.hint.unwrap_or_default().contains("integ connect"));
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Any bytes a local process sends as a request head are parsed or refused.
            #[test]
            fn any_request_head_is_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
                let _ = parse_head(&bytes);
            }

            /// Any request-shaped head, with any target and headers.
            #[test]
            fn any_request_line_is_parsed_or_refused(
                method in "[A-Z]{0,8}", target in "\\PC{0,80}", version in "HTTP/[0-9.]{0,4}",
                headers in prop::collection::vec(("[!-9;-~]{0,16}", "[ -~]{0,40}"), 0..5),
            ) {
                let mut head = format!("{method} {target} {version}\r\n");
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = parse_head(head.as_bytes());
            }

            /// Any callback query is judged; only the exact state with a code yields a code.
            #[test]
            fn any_callback_query_is_judged(query in "[ -~]{0,120}", bare in any::<bool>()) {
                let state = SecretString::from(STATE.to_string());
                let verdict = judge(Some(&query), &state, bare);
                if let Verdict::Code(_) = verdict {
                    prop_assert!(query.contains(STATE));
                }
            }
        }
    }
}
