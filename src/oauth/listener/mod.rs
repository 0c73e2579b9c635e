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
//! Security rules this module keeps (RFC 9700 §4.1, §4.7; RFC 8252 §8.3):
//! - listen on loopback addresses only, never on all interfaces;
//! - a callback counts only with the exact `state` this run generated (compared in constant
//!   time); anything else gets a 400 and the flow keeps waiting, so a forged request cannot end
//!   or steer it;
//! - requests whose `Host` is not a loopback name of this port are refused (DNS rebinding);
//! - the code and the state are never logged, echoed in a page, or put in an error message.
//!
//! The parts: `head` reads and parses one request head and writes the answer, `judge`
//! decides what a callback's query means for this run (the state check), `connections`
//! admits connections and gives each its reader thread, and `wait` is the loop that judges
//! what arrives until the flow ends. This file holds the public face: configuration, binding,
//! the errors.

use std::io::{self, BufRead};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

mod connections;
mod head;
mod judge;
mod wait;

use wait::{Waiter, spawn_paste_reader};

/// How long `wait` waits for the browser when nothing else is configured.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(300);
/// How long one connection may take to send its request line and headers.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A `state` shorter than this cannot hold 128 bits in base64url (RFC 9700 §4.7.1).
const MIN_STATE_CHARS: usize = 22;

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

pub(super) type Outcome = Result<Authorization, ListenerError>;

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

#[cfg(test)]
mod tests;
