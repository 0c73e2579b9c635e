//! The sync engine: fetch a page from a provider, turn it into rows, and apply the rows together
//! with the cursor that covers them in one transaction, so a run killed at any moment resumes
//! where it stopped and replays at most one page (upserts keyed by provider ids make that
//! harmless).
//!
//! Streams report progress through an [`Observer`]; only the command layer prints.

pub mod engine;
pub mod events;
pub mod jobs;
pub mod push;

use std::time::{Duration, Instant};

use crate::http::Http;
use crate::oauth::session::Session;
use crate::store::db::Db;

pub use crate::store::runs::Counts;

/// What every stream of one account runs with: the account's session (tokens), the database,
/// the account's HTTP layer (one retry budget), where progress goes and what the run counts.
/// The engine builds one per stream; a stream's own settings come beside it.
pub struct StreamCx<'a> {
    pub session: &'a mut Session,
    pub db: &'a mut Db,
    pub http: &'a Http,
    pub observer: &'a dyn Observer,
    pub counts: &'a mut Counts,
}

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
