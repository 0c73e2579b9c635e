//! Rows of the `alerts`, `alert_outbox` and `alert_summaries` tables (schema v5), and the
//! sync history the alert conditions are judged from.
//!
//! The alert state has to outlive the process: cron starts a fresh integ every few minutes, and
//! each condition must reach a person once when it starts and once when it clears, and a
//! message a channel refused must be sent again by the next run. So the open episodes and the
//! messages owed live here, next to the runs they are about. What counts as a condition is
//! decided in `alerts/`; this module only stores and reads.

use super::db::{Db, DbError};
use crate::store::sql::{Conn, Row, params};

/// One episode of a condition (a row of `alerts`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub connection_id: Option<i64>,
    pub stream: String,
    pub condition: String,
    pub account: String,
    pub detail: String,
    pub fix: String,
    pub since: String,
    pub first_seen_at: String,
    pub last_sent_at: Option<String>,
    pub cleared_at: Option<String>,
}

/// A condition seen for the first time.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub connection_id: Option<i64>,
    pub stream: &'a str,
    pub condition: &'a str,
    pub account: &'a str,
    pub detail: &'a str,
    pub fix: &'a str,
    pub since: &'a str,
}

/// A message to queue for one channel.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub channel: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// One message owed to a channel (a row of `alert_outbox`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub alert_id: Option<i64>,
    pub kind: String,
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub gave_up_at: Option<String>,
}

const ALERT_COLUMNS: &str =
    "id, connection_id, stream, condition, account, detail, fix, since, first_seen_at, last_sent_at, cleared_at";

fn alert_row(r: &Row<'_>) -> Result<AlertRow, DbError> {
    Ok(AlertRow {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        stream: r.get(2)?,
        condition: r.get(3)?,
        account: r.get(4)?,
        detail: r.get(5)?,
        fix: r.get(6)?,
        since: r.get(7)?,
        first_seen_at: r.get(8)?,
        last_sent_at: r.get(9)?,
        cleared_at: r.get(10)?,
    })
}

/// The open episodes (not cleared), oldest first.
pub fn open(db: &Db) -> Result<Vec<AlertRow>, DbError> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE cleared_at IS NULL ORDER BY id");
    db.conn().query_map(&sql, params![], alert_row)
}

/// Open episodes, and those cleared at or after `since`, newest first (at most `limit`).
pub fn recent(db: &Db, since: &str, limit: u32) -> Result<Vec<AlertRow>, DbError> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE cleared_at IS NULL OR cleared_at >= ?1 ORDER BY id DESC LIMIT ?2"
    );
    db.conn().query_map(&sql, params![since, limit], alert_row)
}

/// Record a new episode and queue its messages; returns its id.
pub fn insert(tx: &Conn<'_>, a: &NewAlert<'_>, messages: &[NewMessage<'_>], now: &str) -> Result<i64, DbError> {
    let id = tx.query_one(
        "INSERT INTO alerts (connection_id, stream, condition, account, detail, fix, since, first_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        params![a.connection_id, a.stream, a.condition, a.account, a.detail, a.fix, a.since, now],
        |r| r.get(0),
    )?;
    queue(tx, Some(id), "opened", messages, now)?;
    Ok(id)
}

/// Keep an open episode's text current (the last error changes from run to run) without
/// sending anything.
pub fn refresh(tx: &Conn<'_>, id: i64, detail: &str, fix: &str) -> Result<(), DbError> {
    tx.execute("UPDATE alerts SET detail = ?2, fix = ?3 WHERE id = ?1", params![id, detail, fix]).map(|_| ())
}

/// The channels that accepted the opening message of an episode.
pub fn told(tx: &Conn<'_>, id: i64) -> Result<Vec<String>, DbError> {
    tx.query_map(
        "SELECT DISTINCT channel FROM alert_outbox WHERE alert_id = ?1 AND kind = 'opened' AND sent_at IS NOT NULL",
        params![id],
        |r| r.get(0),
    )
}

/// The channels that have an opening message of an episode, sent or not.
pub fn announced_on(tx: &Conn<'_>, id: i64) -> Result<Vec<String>, DbError> {
    tx.query_map(
        "SELECT DISTINCT channel FROM alert_outbox WHERE alert_id = ?1 AND kind = 'opened'",
        params![id],
        |r| r.get(0),
    )
}

/// Close an episode. Its opening messages not sent yet are dropped (no one needs to hear about
/// a problem that is already gone); `messages` (the recovery) are queued.
pub fn clear(tx: &Conn<'_>, id: i64, messages: &[NewMessage<'_>], now: &str) -> Result<(), DbError> {
    tx.execute("UPDATE alerts SET cleared_at = ?2 WHERE id = ?1", params![id, now])?;
    tx.execute("DELETE FROM alert_outbox WHERE alert_id = ?1 AND kind = 'opened' AND sent_at IS NULL", params![id])?;
    queue(tx, Some(id), "cleared", messages, now)
}

/// Queue messages of `kind` ('opened', 'cleared', 'summary').
pub fn queue(
    tx: &Conn<'_>,
    alert_id: Option<i64>,
    kind: &str,
    messages: &[NewMessage<'_>],
    now: &str,
) -> Result<(), DbError> {
    for m in messages {
        tx.execute(
            "INSERT INTO alert_outbox (alert_id, kind, channel, subject, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![alert_id, kind, m.channel, m.subject, m.body, now],
        )?;
    }
    Ok(())
}

const OUTBOX_COLUMNS: &str =
    "id, alert_id, kind, channel, subject, body, created_at, attempts, last_error, sent_at, gave_up_at";

fn outbox_row(r: &Row<'_>) -> Result<OutboxRow, DbError> {
    Ok(OutboxRow {
        id: r.get(0)?,
        alert_id: r.get(1)?,
        kind: r.get(2)?,
        channel: r.get(3)?,
        subject: r.get(4)?,
        body: r.get(5)?,
        created_at: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        sent_at: r.get(9)?,
        gave_up_at: r.get(10)?,
    })
}

/// Messages still owed to `channel`, oldest first (at most `limit`).
pub fn unsent(db: &Db, channel: &str, limit: u32) -> Result<Vec<OutboxRow>, DbError> {
    let sql = format!(
        "SELECT {OUTBOX_COLUMNS} FROM alert_outbox WHERE channel = ?1 AND sent_at IS NULL AND gave_up_at IS NULL
         ORDER BY id LIMIT ?2"
    );
    db.conn().query_map(&sql, params![channel, limit], outbox_row)
}

/// Every message still owed, on any channel (for `status`, `doctor` and `alerts list`).
pub fn pending(db: &Db) -> Result<Vec<OutboxRow>, DbError> {
    let sql =
        format!("SELECT {OUTBOX_COLUMNS} FROM alert_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL ORDER BY id");
    db.conn().query_map(&sql, params![], outbox_row)
}

/// A channel accepted a message.
pub fn mark_sent(db: &mut Db, id: i64, now: &str) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE alert_outbox SET sent_at = ?2, last_try_at = ?2, attempts = attempts + 1, last_error = NULL
             WHERE id = ?1",
            params![id, now],
        )?;
        tx.execute(
            "UPDATE alerts SET last_sent_at = ?2 WHERE id = (SELECT alert_id FROM alert_outbox WHERE id = ?1)",
            params![id, now],
        )
        .map(|_| ())
    })
}

/// A send failed: keep the message for the next run, or give it up after `max_attempts`.
pub fn mark_failed(db: &mut Db, id: i64, error: &str, max_attempts: u32, now: &str) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1, last_try_at = ?2, last_error = ?3,
                    gave_up_at = CASE WHEN attempts + 1 >= ?4 THEN ?2 END
             WHERE id = ?1",
            params![id, now, error, max_attempts],
        )
        .map(|_| ())
    })
}

/// The last error of each channel whose latest attempt failed (for `status` and `doctor`).
pub fn channel_errors(db: &Db) -> Result<Vec<(String, String, String)>, DbError> {
    let mut rows: Vec<(String, String, String)> = db.conn().query_map(
        "SELECT channel, last_error, last_try_at FROM alert_outbox o
         WHERE last_error IS NOT NULL AND sent_at IS NULL
           AND last_try_at = (SELECT max(last_try_at) FROM alert_outbox WHERE channel = o.channel)
         ORDER BY channel, id",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    // One line per channel (several messages may have failed at the same moment).
    rows.dedup_by(|a, b| a.0 == b.0);
    Ok(rows)
}

/// Whether a daily summary was made for this local day.
pub fn summary_made(db: &Db, day: &str) -> Result<bool, DbError> {
    db.conn().query_opt("SELECT 1 FROM alert_summaries WHERE day = ?1", params![day], |_| Ok(())).map(|r| r.is_some())
}

/// Where the last summary's period ended.
pub fn last_summary_end(db: &Db) -> Result<Option<String>, DbError> {
    db.conn().query_one("SELECT max(covers_to) FROM alert_summaries", params![], |r| r.get(0))
}

/// Record the summary of `day` and queue its messages, once: false if another run made it.
pub fn record_summary(
    db: &mut Db,
    day: &str,
    covers_to: &str,
    messages: &[NewMessage<'_>],
    now: &str,
) -> Result<bool, DbError> {
    db.write(|tx| -> Result<bool, DbError> {
        let added = tx.execute(
            "INSERT INTO alert_summaries (day, covers_to, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![day, covers_to, now],
        )?;
        if added == 1 {
            queue(tx, None, "summary", messages, now)?;
        }
        Ok(added == 1)
    })
}

/// What the runs of one stream say about its health.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHistory {
    pub connection_id: i64,
    pub stream: String,
    /// Finished runs that failed since the last one that did not (at most the look-back).
    pub failures_in_a_row: u32,
    /// When the first of those failures started.
    pub failing_since: Option<String>,
    /// The latest failure's message.
    pub last_error: Option<String>,
    /// When the last run that made progress (`ok` or `partial`) finished.
    pub last_success_at: Option<String>,
    /// When the stream's first run started.
    pub first_run_at: Option<String>,
}

/// The history of every stream that has runs; `look_back` bounds the failure streak read.
pub fn histories(db: &Db, look_back: u32) -> Result<Vec<StreamHistory>, DbError> {
    let found = db.conn().query_map(
            "SELECT connection_id, stream,
                    (SELECT max(finished_at) FROM sync_runs s
                      WHERE s.connection_id = n.connection_id AND s.stream = n.stream AND s.outcome IN ('ok', 'partial')),
                    (SELECT min(started_at) FROM sync_runs s WHERE s.connection_id = n.connection_id AND s.stream = n.stream)
             FROM (SELECT DISTINCT connection_id, stream FROM sync_runs WHERE connection_id IS NOT NULL) n
             ORDER BY connection_id, stream",
        params![], |r| {
            Ok(StreamHistory {
                connection_id: r.get(0)?,
                stream: r.get(1)?,
                last_success_at: r.get(2)?,
                first_run_at: r.get(3)?,
                ..StreamHistory::default()
            })
        })?;
    let mut out = Vec::with_capacity(found.len());
    for mut h in found {
        let runs = db.conn().query_map(
            "SELECT outcome, started_at, error FROM sync_runs
             WHERE connection_id = ?1 AND stream = ?2 AND outcome IN ('ok', 'partial', 'failed')
             ORDER BY id DESC LIMIT ?3",
            params![h.connection_id, h.stream, look_back],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?)),
        )?;
        for (outcome, started, error) in runs {
            if outcome != "failed" {
                break;
            }
            if h.failures_in_a_row == 0 {
                h.last_error = error;
            }
            h.failures_in_a_row += 1;
            h.failing_since = Some(started);
        }
        out.push(h);
    }
    Ok(out)
}

/// What one account's runs did in a period (for the daily summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub connection_id: i64,
    pub runs: i64,
    pub failed: i64,
    pub fetched: i64,
    pub changed: i64,
}

/// Runs started in `[from, to)`, summed per connection.
pub fn activity(db: &Db, from: &str, to: &str) -> Result<Vec<Activity>, DbError> {
    db
        .conn().query_map("SELECT connection_id, count(*), sum(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), sum(fetched), sum(inserted + updated + deleted)
             FROM sync_runs WHERE connection_id IS NOT NULL AND started_at >= ?1 AND started_at < ?2
             GROUP BY connection_id ORDER BY connection_id", params![from, to], |r| {
            Ok(Activity {
                connection_id: r.get(0)?,
                runs: r.get(1)?,
                failed: r.get(2)?,
                fetched: r.get(3)?,
                changed: r.get(4)?,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Provider;
    use crate::store::connections::{NewConnection, upsert_connected};
    use crate::store::runs::{Counts, finish, start};

    fn db() -> (tempfile::TempDir, Db, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("integ.db")).unwrap();
        let c = NewConnection {
            provider: Provider::Jobber,
            account_id: "a",
            account_name: "Acme",
            label: "Acme",
            scopes: "",
            token_expires_at: None,
        };
        let id = upsert_connected(&mut db, &c, "2026-11-01T00:00:00Z").unwrap();
        (dir, db, id)
    }

    fn run(db: &mut Db, conn: i64, stream: &str, at: &str, outcome: &str, error: Option<&str>) {
        let id = start(db, conn, stream, at).unwrap();
        let counts = Counts { fetched: 5, inserted: 1, updated: 2, ..Counts::default() };
        finish(db, id, &counts, outcome, error, at).unwrap();
    }

    #[test]
    fn a_streak_counts_failures_back_to_the_last_success() {
        let (_d, mut db, c) = db();
        run(&mut db, c, "jobs", "2026-11-20T00:00:00Z", "failed", Some("old"));
        run(&mut db, c, "jobs", "2026-11-20T01:00:00Z", "ok", None);
        run(&mut db, c, "jobs", "2026-11-20T02:00:00Z", "failed", Some("first"));
        run(&mut db, c, "jobs", "2026-11-20T03:00:00Z", "interrupted", None);
        run(&mut db, c, "jobs", "2026-11-20T04:00:00Z", "failed", Some("latest"));
        run(&mut db, c, "clients", "2026-11-20T04:00:00Z", "ok", None);
        let h = histories(&db, 100).unwrap();
        assert_eq!(h.len(), 2);
        let jobs = h.iter().find(|h| h.stream == "jobs").unwrap();
        assert_eq!(jobs.failures_in_a_row, 2);
        assert_eq!(jobs.failing_since.as_deref(), Some("2026-11-20T02:00:00Z"));
        assert_eq!(jobs.last_error.as_deref(), Some("latest"));
        assert_eq!(jobs.last_success_at.as_deref(), Some("2026-11-20T01:00:00Z"));
        assert_eq!(jobs.first_run_at.as_deref(), Some("2026-11-20T00:00:00Z"));
        let clients = h.iter().find(|h| h.stream == "clients").unwrap();
        assert_eq!(clients.failures_in_a_row, 0);
        // The look-back bounds the streak.
        assert_eq!(histories(&db, 1).unwrap().iter().find(|h| h.stream == "jobs").unwrap().failures_in_a_row, 1);
        let a = activity(&db, "2026-11-20T01:00:00Z", "2026-11-21T00:00:00Z").unwrap();
        assert_eq!(a, [Activity { connection_id: c, runs: 5, failed: 2, fetched: 25, changed: 15 }]);
    }

    #[test]
    fn an_episode_opens_once_and_a_cleared_one_drops_its_unsent_opening() {
        let (_d, mut db, c) = db();
        let new = NewAlert {
            connection_id: Some(c),
            stream: "",
            condition: "reconnect_needed",
            account: "jobber account 'Acme'",
            detail: "d",
            fix: "f",
            since: "t0",
        };
        let msgs = [
            NewMessage { channel: "slack", subject: "s", body: "b" },
            NewMessage { channel: "email", subject: "s", body: "b" },
        ];
        let id = db.write(|tx| insert(tx, &new, &msgs, "t1")).unwrap();
        // A second open episode of the same condition is refused by the index.
        assert!(db.write(|tx| insert(tx, &new, &msgs, "t1")).is_err());
        let slack = unsent(&db, "slack", 10).unwrap();
        mark_sent(&mut db, slack[0].id, "t2").unwrap();
        let email = unsent(&db, "email", 10).unwrap();
        mark_failed(&mut db, email[0].id, "smtp down", 2, "t2").unwrap();
        assert_eq!(unsent(&db, "email", 10).unwrap()[0].attempts, 1);
        assert_eq!(channel_errors(&db).unwrap(), [("email".to_string(), "smtp down".to_string(), "t2".to_string())]);
        assert_eq!(open(&db).unwrap()[0].last_sent_at.as_deref(), Some("t2"));
        let told_ = db.write(|tx| told(tx, id)).unwrap();
        assert_eq!(told_, ["slack"]);
        let recovery = [NewMessage { channel: "slack", subject: "ok", body: "ok" }];
        db.write(|tx| clear(tx, id, &recovery, "t3")).unwrap();
        assert!(open(&db).unwrap().is_empty());
        assert!(unsent(&db, "email", 10).unwrap().is_empty(), "the unsent opening is dropped");
        assert_eq!(unsent(&db, "slack", 10).unwrap()[0].kind, "cleared");
        // A new episode of the same condition may open now.
        db.write(|tx| insert(tx, &new, &[], "t4")).unwrap();
        assert_eq!(recent(&db, "t0", 10).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_send_is_given_up_after_its_attempts() {
        let (_d, mut db, _c) = db();
        assert!(
            record_summary(
                &mut db,
                "2026-11-21",
                "t1",
                &[NewMessage { channel: "slack", subject: "s", body: "b" }],
                "t1"
            )
            .unwrap()
        );
        assert!(!record_summary(&mut db, "2026-11-21", "t2", &[], "t2").unwrap(), "one summary a day");
        assert!(summary_made(&db, "2026-11-21").unwrap());
        assert_eq!(last_summary_end(&db).unwrap().as_deref(), Some("t1"));
        let id = unsent(&db, "slack", 10).unwrap()[0].id;
        mark_failed(&mut db, id, "e", 2, "t2").unwrap();
        mark_failed(&mut db, id, "e", 2, "t3").unwrap();
        assert!(unsent(&db, "slack", 10).unwrap().is_empty());
        assert!(pending(&db).unwrap().is_empty());
    }
}
