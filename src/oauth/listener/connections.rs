//! Admitting connections: each accepted socket gets its own reader thread, and at most
//! [`MAX_CONNECTIONS`] are read at once.
//!
//! When all places are taken the oldest connection that has not sent its request head is
//! closed, so a flood of idle sockets (or a browser's speculative pre-connects) can neither pile
//! up threads nor keep the browser's real callback out.

use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::thread;
use std::time::Duration;

use super::head::{HeadError, Request, parse_head, read_head, respond};
use super::wait::Event;
use crate::oauth::pages::{self, Page};

/// Connections being read at once. When all are taken, the oldest that has not sent its
/// request head is closed to make room, so a flood of idle sockets can neither pile up threads
/// nor keep the browser's real callback out.
pub(super) const MAX_CONNECTIONS: usize = 32;

/// The connections whose request head is still being read, oldest first.
#[derive(Default)]
pub(super) struct Connections {
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

pub(super) fn spawn_connection(
    stream: TcpStream,
    read_timeout: Duration,
    tx: &Sender<Event>,
    active: &Arc<Connections>,
) {
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
