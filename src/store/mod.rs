//! Everything that is kept on disk: the SQLite database and the secret store. Knows nothing
//! about HTTP or providers' APIs.

pub mod alerts;
pub mod conflicts;
pub mod connections;
pub mod db;
pub mod events;
pub mod fs;
pub mod jobs;
pub mod lock;
pub mod pg;
pub mod push;
pub mod runs;
pub mod secrets;
pub mod sql;

/// What an upsert did to a row (for the inserted/updated counts of a run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Inserted,
    Updated,
    Unchanged,
}
