//! The wait loop: accept connections, judge each request and each pasted address, and end the
//! flow on the first real answer or at the deadline.
//!
//! The loop owns the listening sockets and polls them without blocking, so it can close the
//! port the moment it returns. It answers every request itself, which keeps the rules in one
//! place: a foreign Host is refused, other paths get 404, other methods 405, and a bare callback
//! from a page's subresource is not taken for the browser's redirect.

use std::io::{self, BufRead, Read};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::connections::{Connections, spawn_connection};
use super::head::{Request, respond};
use super::judge::{Verdict, is_bare, judge};
use super::{Authorization, CallbackSource, ListenerConfig, ListenerError, Outcome};
use crate::oauth::pages;

/// How often the wait loop looks for new connections. Accepting is non-blocking so that the
/// loop owns the listening sockets and can close them the moment it returns.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// A pasted line longer than this is not an address.
const MAX_PASTE_BYTES: u64 = 16 * 1024;
/// The "declined?" page's text for a bare callback.
const BARE_DECLINE_TEXT: &str = "the browser came back with no answer, which is how this provider reports a declined \
                                 request; integ keeps waiting, so if you did not mean to decline, sign in again";

/// Something for the wait loop to judge.
pub(super) enum Event {
    Request(Request),
    Pasted(SecretString),
}

pub(super) struct Waiter<'a> {
    pub(super) port: u16,
    pub(super) cfg: &'a ListenerConfig,
}

impl Waiter<'_> {
    pub(super) fn run(&self, sockets: &[TcpListener], tx: &Sender<Event>, rx: &Receiver<Event>) -> Outcome {
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

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Read pasted lines on their own thread: a blocking read on stdin cannot be combined with the
/// socket poll otherwise. The thread ends at end of input, on a read error, or at the first
/// line after the wait is over (the channel is closed by then).
pub(super) fn spawn_paste_reader(mut reader: Box<dyn BufRead + Send>, tx: Sender<Event>) {
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
