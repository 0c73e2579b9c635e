//! Writing and reading the Jobber tables (`jobs`, `clients`, `job_line_items`, `job_visits`,
//! `job_visit_assignees`). Every write happens inside the caller's transaction, so a page of
//! rows and the sync cursor that covers them commit together.
//!
//! Three concerns, one file each: `writer` puts a page of jobs, their details and clients in
//! (the hot path of `sync jobs`), `sweep` records which jobs a full sweep saw and marks the rest
//! deleted, and `read` answers `jobs list` and `jobs show`. Everything is re-exported here, so
//! callers name `store::jobs::…` whichever part it lives in.

mod read;
mod sweep;
mod writer;

pub use read::{JobView, list, show};
pub use sweep::{mark_swept, mark_unswept_deleted, unswept};
pub use writer::{
    ClientRow, JobRow, JobWriter, LineItemRow, StoredJob, VisitRow, Written, delete_details, stored_jobs, upsert_client,
};

/// A fresh database with one Jobber connection, shared by the tests of the three parts.
#[cfg(test)]
mod testing {
    use super::*;
    use crate::store::db::{Db, DbError};
    use crate::store::sql::params;

    pub(super) const CID: i64 = 7;

    pub(super) fn db() -> (tempfile::TempDir, Db) {
        crate::store::db::test_db(CID, "jobber")
    }

    pub(super) fn job<'a>(id: &'a str, number: i64, raw_json: &'a str) -> JobRow<'a> {
        JobRow {
            id,
            job_number: Some(number),
            title: Some("Mow"),
            updated_at: Some(raw_json),
            raw_json,
            ..JobRow::default()
        }
    }

    /// Write `jobs` (no details) in one transaction, stamped `now` and seen by sweep `sweep`.
    pub(super) fn write(db: &mut Db, jobs: &[JobRow<'_>], now: &str, sweep: i64) -> Vec<(Written, i64)> {
        let ids: Vec<&str> = jobs.iter().map(|j| j.id).collect();
        let stored = stored_jobs(db, CID, &ids).expect("stored");
        db.write(|tx| {
            let mut writer = JobWriter::new(tx, CID, now, sweep)?;
            let done = jobs.iter().map(|j| writer.job(j, stored.get(j.id))).collect::<Result<Vec<_>, _>>()?;
            writer.finish()?;
            Ok::<_, DbError>(done)
        })
        .expect("write")
    }

    pub(super) fn deleted_at(db: &Db, id: &str) -> Option<String> {
        db.conn().query_one("SELECT deleted_at FROM jobs WHERE id = ?1", params![id], |r| r.get(0)).expect("job row")
    }
}
