//! Sync bookkeeping read back for `status`: the last run of each stream of a connection.

use crate::store::sql::params;

use super::db::{Db, DbError};

/// The latest run of one stream.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamStatus {
    pub stream: String,
    pub last_attempt_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_run_started_at: Option<String>,
    pub last_run_finished_at: Option<String>,
    pub outcome: Option<String>,
    /// Seconds the last run took.
    pub duration_secs: Option<i64>,
    pub fetched: i64,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    pub error: Option<String>,
}

/// One line per stream the connection has state or history for. A calendar's cursor
/// (`events:<calendar id>`) is part of the `events` stream, not a stream of its own: the
/// `events` line's last attempt is its calendars' latest. A stream's last success is the later
/// of its cursor's last completed round and its last run that ended `ok` (the `events` stream
/// is `ok` only when every selected calendar completed).
pub fn streams(db: &Db, connection_id: i64) -> Result<Vec<StreamStatus>, DbError> {
    let conn = db.conn();
    let duration = conn.dialect().seconds_between("l.finished_at", "l.started_at");
    conn.query_map(
        &format!(
            "WITH names AS (
                 SELECT stream FROM sync_state WHERE connection_id = ?1 AND stream NOT LIKE 'events:%'
                 UNION SELECT stream FROM sync_runs WHERE connection_id = ?1
                 UNION SELECT 'events' FROM sync_state WHERE connection_id = ?1 AND stream LIKE 'events:%'),
             state AS (
                 SELECT CASE WHEN stream LIKE 'events:%' THEN 'events' ELSE stream END AS stream,
                        max(last_attempt_at) AS attempt, max(last_success_at) AS success
                 FROM sync_state WHERE connection_id = ?1 GROUP BY 1),
             ok AS (
                 SELECT stream, max(finished_at) AS at FROM sync_runs
                 WHERE connection_id = ?1 AND outcome = 'ok' GROUP BY stream),
             last AS (
                 SELECT r.* FROM sync_runs r
                 WHERE r.connection_id = ?1 AND r.id = (
                     SELECT max(id) FROM sync_runs WHERE connection_id = ?1 AND stream = r.stream))
             SELECT n.stream, s.attempt,
                    CASE WHEN s.stream = 'events' THEN ok.at
                         WHEN ok.at IS NULL OR s.success >= ok.at THEN coalesce(s.success, ok.at)
                         ELSE ok.at END,
                    l.started_at, l.finished_at, l.outcome,
                    coalesce(l.fetched, 0), coalesce(l.inserted, 0), coalesce(l.updated, 0),
                    coalesce(l.deleted, 0), l.error,
                    {duration}
             FROM names n
             LEFT JOIN state s ON s.stream = n.stream
             LEFT JOIN ok ON ok.stream = n.stream
             LEFT JOIN last l ON l.stream = n.stream
             ORDER BY n.stream"
        ),
        params![connection_id],
        |r| {
            Ok(StreamStatus {
                stream: r.get(0)?,
                last_attempt_at: r.get(1)?,
                last_success_at: r.get(2)?,
                last_run_started_at: r.get(3)?,
                last_run_finished_at: r.get(4)?,
                outcome: r.get(5)?,
                duration_secs: r.get(11)?,
                fetched: r.get(6)?,
                inserted: r.get(7)?,
                updated: r.get(8)?,
                deleted: r.get(9)?,
                error: r.get(10)?,
            })
        },
    )
}

/// The saved cursor of a stream.
pub fn cursor(db: &Db, connection_id: i64, stream: &str) -> Result<Option<String>, DbError> {
    db.conn()
        .query_opt(
            "SELECT cursor FROM sync_state WHERE connection_id = ?1 AND stream = ?2",
            params![connection_id, stream],
            |r| r.get::<Option<String>>(0),
        )
        .map(Option::flatten)
}

/// Save a stream's cursor inside the transaction that wrote the rows it covers.
pub fn save_cursor(
    tx: &crate::store::sql::Conn<'_>,
    connection_id: i64,
    stream: &str,
    cursor: Option<&str>,
    now: &str,
    success: bool,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO sync_state (connection_id, stream, cursor, last_attempt_at, last_success_at)
         VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?4 END)
         ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor,
            last_attempt_at = excluded.last_attempt_at,
            last_success_at = CASE WHEN ?5 THEN excluded.last_attempt_at ELSE sync_state.last_success_at END",
        params![connection_id, stream, cursor, now, success],
    )
    .map(|_| ())
}

/// Counts of one run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counts {
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub requests: u64,
    pub throttle_waits: u64,
}

impl Counts {
    /// Count one row write as inserted or updated.
    pub fn written(&mut self, w: super::Written) {
        match w {
            super::Written::Inserted => self.inserted += 1,
            super::Written::Updated => self.updated += 1,
            super::Written::Unchanged => {}
        }
    }

    /// Count a page of fetched records and how each was written.
    pub fn page(&mut self, written: &[super::Written]) {
        self.fetched += written.len() as u64;
        written.iter().for_each(|w| self.written(*w));
    }
}

/// Open a `sync_runs` row; runs of this stream left `running` by a killed process (the caller
/// holds the sync lock, so none is really running) become `interrupted`.
pub fn start(db: &mut Db, connection_id: i64, stream: &str, now: &str) -> Result<i64, DbError> {
    db.write(|tx| -> Result<i64, DbError> {
        tx.execute(
            "UPDATE sync_runs SET outcome = 'interrupted', finished_at = coalesce(finished_at, ?3),
                    error = coalesce(error, 'the process ended before the run finished')
             WHERE connection_id = ?1 AND stream = ?2 AND outcome = 'running'",
            params![connection_id, stream, now],
        )?;
        tx.query_one(
            "INSERT INTO sync_runs (connection_id, stream, started_at, outcome) VALUES (?1, ?2, ?3, 'running')
             RETURNING id",
            params![connection_id, stream, now],
            |r| r.get(0),
        )
    })
}

/// Close a `sync_runs` row.
pub fn finish(
    db: &mut Db,
    run: i64,
    counts: &Counts,
    outcome: &str,
    error: Option<&str>,
    now: &str,
) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE sync_runs SET finished_at = ?2, fetched = ?3, inserted = ?4, updated = ?5, deleted = ?6,
                    requests = ?7, throttle_waits = ?8, outcome = ?9, error = ?10 WHERE id = ?1",
            params![
                run,
                now,
                counts.fetched as i64,
                counts.inserted as i64,
                counts.updated as i64,
                counts.deleted as i64,
                counts.requests as i64,
                counts.throttle_waits as i64,
                outcome,
                error
            ],
        )
        .map(|_| ())
    })
}

/// Close a `sync_runs` row whose process was stopped by a signal (its counts are unknown).
pub fn interrupt(db: &mut Db, run: i64, why: &str, now: &str) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE sync_runs SET outcome = 'interrupted', finished_at = ?2, error = ?3
             WHERE id = ?1 AND outcome = 'running'",
            params![run, now, why],
        )
        .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        crate::store::db::test_db(1, "google")
    }

    fn cursor(db: &mut Db, stream: &str, at: &str, complete: bool) {
        db.write(|tx| save_cursor(tx, 1, stream, Some("{}"), at, complete)).expect("cursor");
    }

    fn run(db: &mut Db, stream: &str, at: &str, outcome: &str) {
        let id = start(db, 1, stream, at).expect("start");
        finish(db, id, &Counts::default(), outcome, None, at).expect("finish");
    }

    #[test]
    fn calendar_cursors_are_part_of_the_events_stream() {
        let (_d, mut db) = db();
        cursor(&mut db, "events:a", "2026-11-21T10:00:00Z", true);
        cursor(&mut db, "events:b", "2026-11-21T11:00:00Z", false);
        // Cursors without a run: one `events` line, attempted, never a success.
        let s = streams(&db, 1).unwrap();
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].stream, "events");
        assert_eq!(s[0].last_attempt_at.as_deref(), Some("2026-11-21T11:00:00Z"));
        assert_eq!(s[0].last_success_at, None);
        // The stream succeeds when a run ends ok, not when one calendar completes.
        run(&mut db, "events", "2026-11-21T11:30:00Z", "ok");
        run(&mut db, "events", "2026-11-21T12:30:00Z", "failed");
        let s = streams(&db, 1).unwrap();
        assert_eq!((s.len(), s[0].outcome.as_deref()), (1, Some("failed")));
        assert_eq!(s[0].last_success_at.as_deref(), Some("2026-11-21T11:30:00Z"));
    }

    #[test]
    fn a_streams_last_success_is_its_latest_round_or_ok_run() {
        let (_d, mut db) = db();
        cursor(&mut db, "jobs", "2026-11-21T10:00:00Z", true);
        run(&mut db, "jobs", "2026-11-21T09:00:00Z", "ok");
        assert_eq!(streams(&db, 1).unwrap()[0].last_success_at.as_deref(), Some("2026-11-21T10:00:00Z"));
        run(&mut db, "jobs", "2026-11-21T11:00:00Z", "ok");
        assert_eq!(streams(&db, 1).unwrap()[0].last_success_at.as_deref(), Some("2026-11-21T11:00:00Z"));
        cursor(&mut db, "jobs", "2026-11-21T12:00:00Z", false);
        let s = streams(&db, 1).unwrap();
        assert_eq!(s[0].last_success_at.as_deref(), Some("2026-11-21T11:00:00Z"));
        assert_eq!(s[0].last_attempt_at.as_deref(), Some("2026-11-21T12:00:00Z"));
    }
}
