//! Stopping on SIGINT, SIGTERM and SIGHUP without losing a token.
//!
//! Jobber and Calendly rotate single-use refresh tokens: from the moment a refresh request is
//! sent until its answer is in the secret store, the only copy of the grant is in this process.
//! A stop in that window (cron's `timeout`, a systemd stop, Ctrl-C) would leave the store with
//! a refresh token the provider has already retired, and the next run would need a person to
//! reconnect. So such a window is a [`Critical`] section: a stop that arrives inside one waits
//! until it ends. Anywhere else a stop ends the run at its next await point; no database
//! transaction is ever open across one (they are synchronous), so nothing is half-written, and
//! the runs this process had open are recorded as interrupted.
//!
//! SIGKILL and power loss cannot be deferred; that one window is documented in the README.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

use crate::error::Kind;

static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// The stop asked for, if a signal arrived.
static RECEIVED: Mutex<Option<Kind>> = Mutex::new(None);
static RUNS: Mutex<Vec<i64>> = Mutex::new(Vec::new());

fn left_critical() -> &'static Notify {
    static N: OnceLock<Notify> = OnceLock::new();
    N.get_or_init(Notify::new)
}

/// A window in which a stop must wait: held from just before a token request is sent until
/// its answer is saved (or known to be lost).
#[must_use = "the section ends when this guard is dropped"]
pub struct Critical(());

impl Critical {
    pub fn enter() -> Critical {
        CRITICAL.fetch_add(1, Ordering::SeqCst);
        Critical(())
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        if CRITICAL.fetch_sub(1, Ordering::SeqCst) == 1 {
            left_critical().notify_waiters();
        }
    }
}

/// Whether a critical section is open right now.
pub fn in_critical_section() -> bool {
    CRITICAL.load(Ordering::SeqCst) > 0
}

/// The stop asked for, if a signal arrived (it may have been deferred past the command's end).
pub fn received() -> Option<Kind> {
    RECEIVED.lock().ok().and_then(|r| *r)
}

/// Note a `sync_runs` row this process opened, so a stop can close it as interrupted.
pub fn track_run(id: i64) {
    if let Ok(mut v) = RUNS.lock() {
        v.push(id);
    }
}

/// The row was closed normally.
pub fn untrack_run(id: i64) {
    if let Ok(mut v) = RUNS.lock() {
        v.retain(|r| *r != id);
    }
}

/// The rows still open (to be closed as interrupted after a stop).
pub fn open_runs() -> Vec<i64> {
    RUNS.lock().map(|v| v.clone()).unwrap_or_default()
}

/// The stop signals, listened to from the start of the run. Once installed they no longer
/// end the process on their own: [`Signals::stop_requested`] decides when.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers (inside the runtime). `None` if the OS refused (then the default
    /// actions stay, as before).
    pub fn install() -> Option<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Signals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        })
    }

    /// Resolves when a stop was asked for and no critical section is open; the kind says which
    /// signal (and so which exit code).
    pub async fn stop_requested(&mut self) -> Kind {
        let kind = tokio::select! {
            _ = self.int.recv() => Kind::Interrupted,
            _ = self.term.recv() => Kind::Terminated,
            _ = self.hup.recv() => Kind::HungUp,
        };
        tracing::info!(?kind, "stop requested");
        if let Ok(mut r) = RECEIVED.lock() {
            *r = Some(kind);
        }
        loop {
            let left = left_critical().notified();
            tokio::pin!(left);
            // Register before checking, so a section ending in between is not missed.
            left.as_mut().enable();
            if !in_critical_section() {
                return kind;
            }
            tracing::warn!("stop deferred until the refreshed tokens are saved");
            left.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_nest_and_runs_are_tracked() {
        assert!(!in_critical_section());
        let a = Critical::enter();
        let b = Critical::enter();
        drop(a);
        assert!(in_critical_section());
        drop(b);
        assert!(!in_critical_section());
        track_run(7);
        track_run(8);
        untrack_run(7);
        assert_eq!(open_runs(), vec![8]);
        untrack_run(8);
    }
}
