//! Sync bookkeeping read back for `status`: the last run of each stream of a connection.

use rusqlite::params;

use super::db::{Db, DbError, classify};

/// The latest run of one stream.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamStatus {
    pub stream: String,
    pub last_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_run_started_at: Option<String>,
    pub last_run_finished_at: Option<String>,
    pub outcome: Option<String>,
    pub fetched: i64,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    pub error: Option<String>,
}

/// One line per stream the connection has state or history for.
pub fn streams(db: &Db, connection_id: i64) -> Result<Vec<StreamStatus>, DbError> {
    let mut stmt = db
        .conn()
        .prepare(
            "WITH names AS (
                 SELECT stream FROM sync_state WHERE connection_id = ?1
                 UNION SELECT stream FROM sync_runs WHERE connection_id = ?1),
             last AS (
                 SELECT r.* FROM sync_runs r
                 WHERE r.connection_id = ?1 AND r.id = (
                     SELECT max(id) FROM sync_runs WHERE connection_id = ?1 AND stream = r.stream))
             SELECT n.stream, s.last_attempt_at, s.last_success_at, l.started_at, l.finished_at, l.outcome,
                    coalesce(l.fetched, 0), coalesce(l.inserted, 0), coalesce(l.updated, 0),
                    coalesce(l.deleted, 0), l.error
             FROM names n
             LEFT JOIN sync_state s ON s.connection_id = ?1 AND s.stream = n.stream
             LEFT JOIN last l ON l.stream = n.stream
             ORDER BY n.stream",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map(params![connection_id], |r| {
            Ok(StreamStatus {
                stream: r.get(0)?,
                last_attempt_at: r.get(1)?,
                last_success_at: r.get(2)?,
                last_run_started_at: r.get(3)?,
                last_run_finished_at: r.get(4)?,
                outcome: r.get(5)?,
                fetched: r.get(6)?,
                inserted: r.get(7)?,
                updated: r.get(8)?,
                deleted: r.get(9)?,
                error: r.get(10)?,
            })
        })
        .map_err(classify)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(classify)
}
