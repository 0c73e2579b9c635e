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
//! A stop that arrives while integ is still starting (before the handlers are in place) is
//! held, not lost and not fatal: the three signals are blocked from the first instant
//! ([`hold`]) until the command has its handlers or is known to keep the default actions
//! ([`release`]); a pending one is then delivered as if it had just come.
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

/// Block SIGINT, SIGTERM and SIGHUP on this (the main) thread, and so on every thread it starts,
/// until [`release`]. Child processes start with an empty mask whatever ours is (the standard
/// library's `Command` resets it), so a browser never inherits it.
pub fn hold() {
    set_mask(libc::SIG_BLOCK);
}

/// Unblock the stop signals: one that arrived while they were held is delivered now, to the
/// handlers if [`Signals::install`] put them in place, else with its default action.
pub fn release() {
    set_mask(libc::SIG_UNBLOCK);
}

fn set_mask(how: libc::c_int) {
    // SAFETY: a zeroed sigset_t is a valid argument to sigemptyset, which initialises it; the
    // calls only read and write that local set and this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
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

    /// A stop that comes while the signals are held is neither lost nor fatal: it waits, and the
    /// handlers get it once they are in place.
    #[test]
    fn a_stop_during_start_up_waits_for_the_handlers() {
        hold();
        // SAFETY: raise only sends a signal to this thread, where it is blocked (pending).
        unsafe { libc::raise(libc::SIGTERM) };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut signals = Signals::install().expect("the handlers");
            release();
            let kind = tokio::time::timeout(std::time::Duration::from_secs(10), signals.stop_requested())
                .await
                .expect("the held stop is delivered");
            assert_eq!(kind, Kind::Terminated);
        });
    }
}
