//! The sync engine: fetch a page from a provider, turn it into rows, and apply the rows together
//! with the cursor that covers them in one transaction, so a run killed at any moment resumes
//! where it stopped and replays at most one page (upserts keyed by provider ids make that
//! harmless).
//!
//! Streams report progress through an [`Observer`]; only the command layer prints.

pub mod calendly;
pub mod engine;
pub mod events;
pub mod google;
pub mod jobs;
pub mod microsoft;
pub mod push;

use std::time::{Duration, Instant};

use crate::time::Clock;

pub use crate::store::runs::Counts;

/// What a stream tells the command layer while it runs.
pub trait Observer {
    /// Another page was applied; `fetched` is the running total of records.
    fn page(&self, fetched: u64, waited: Duration);
    /// Something worth a line in the log.
    fn note(&self, message: &str);
    /// A stream of the account ended (its summary is the run's record in a cron log).
    fn stream_done(&self, _summary: &engine::Summary) {}
    /// `--max-duration` stopped the account's run between pages.
    fn paused(&self) {}
    /// The account's run is over.
    fn finish(&self) {}
}

/// An observer that says nothing (tests, benchmarks).
pub struct Silent;

impl Observer for Silent {
    fn page(&self, _: u64, _: Duration) {}
    fn note(&self, _: &str) {}
}

/// Settings of the Jobber streams.
#[derive(Debug, Clone)]
pub struct JobberOptions {
    /// Rescan everything and mark vanished jobs deleted.
    pub full: bool,
    /// A full sweep happens on its own when the last one is older than this.
    pub sweep_every: Duration,
    /// How far below the saved watermark an incremental scan goes, for edits that shifted
    /// pages mid-scan and for clock skew.
    pub overlap: Duration,
    pub graphql_version: String,
    /// Stop cleanly between pages after this moment (`--max-duration`).
    pub deadline: Option<Instant>,
}

/// How a stream's run ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The round completed.
    Complete,
    /// The time budget ran out between pages; the cursor is saved and the next run continues.
    Paused,
}

/// Whether the time budget is spent.
pub fn out_of_time(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

/// The `sync_state` stream of one calendar.
pub fn stream_of(calendar_id: &str) -> String {
    format!("events:{calendar_id}")
}

/// Settings of the events stream.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Drop the cursors and read every calendar again.
    pub full: bool,
    /// The sync window, in days before and after now (Microsoft's delta and Calendly's rescan
    /// use it; Google uses it for the first round's `timeMin`/`timeMax`).
    pub past_days: u32,
    pub future_days: u32,
    pub deadline: Option<Instant>,
    /// The run's clock: the window is measured from its "now".
    pub clock: Clock,
}

#[cfg(test)]
impl EventsOptions {
    /// The default window (30 days back, 365 ahead) on a clock fixed at `now` (RFC 3339).
    pub fn defaults_at(now: &str) -> EventsOptions {
        EventsOptions {
            full: false,
            past_days: 30,
            future_days: 365,
            deadline: None,
            clock: Clock::fixed(now.parse().expect("an RFC 3339 instant")),
        }
    }
}
