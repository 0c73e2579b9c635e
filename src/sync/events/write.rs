//! How every calendar round reaches the store: one event-write type ([`Change`]), one commit
//! (a batch of changes with the cursor that covers it, in one transaction) and one replace-round
//! buffer ([`Apply`]).
//!
//! The three providers' rounds differ in how they learn what changed (a sync token, a delta
//! link, a window rescan); they do not differ in what a change does to the store, so that lives
//! here once. A round turns each page into `Change`s with a pure function, then hands them to
//! [`Apply::page`] with the cursor to save after them.

use std::collections::HashSet;

use crate::store::sql::{Conn, params};

use super::Counts;
use crate::error::Result;
use crate::store::db::{Db, DbError};
use crate::store::events::{self as store, EventRow, Written};
use crate::store::runs;

/// What one item of a provider's page does to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Insert or update the event (clearing a deletion).
    Upsert(Box<EventRow>),
    /// Mark the event deleted: cancelled, removed, or out of the window. Ids never stored are
    /// ignored.
    Delete(String),
}

/// What a commit does to the calendar's other rows, besides its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sweep {
    /// Forget the calendar's rows first: a resync replaces them all.
    Wipe,
    /// Mark deleted every live row the commit does not upsert: a full re-read saw everything
    /// that still exists.
    Missing,
    /// Mark deleted the rows last seen before this stamp: a window rescan that began then
    /// stamped everything it saw at or after it.
    UnseenSince(String),
}

/// The calendar and stream a round writes, and the stamp its writes carry.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub cid: i64,
    pub provider: &'a str,
    pub calendar: &'a str,
    /// The `sync_state` stream of the calendar (`events:<calendar id>`).
    pub stream: &'a str,
    /// `last_seen_at`, `deleted_at` and the cursor's `updated_at` of this write.
    pub stamp: &'a str,
}

/// Write `changes` and save `cursor` in one transaction (the sweep first, when given); counts
/// what was inserted, updated and deleted, and returns how many rows the sweep marked deleted.
pub fn commit(
    db: &mut Db,
    target: Target<'_>,
    changes: &[Change],
    sweep: Option<&Sweep>,
    cursor: &str,
    complete: bool,
    counts: &mut Counts,
) -> Result<u64> {
    let Target { cid, provider, calendar, stream, stamp } = target;
    let (written, deleted, swept) = db.write(|tx| -> std::result::Result<(Vec<Written>, u64, u64), DbError> {
        let before = match sweep {
            Some(Sweep::Wipe) => {
                store::wipe_calendar(tx, cid, calendar)?;
                Vec::new()
            }
            Some(Sweep::Missing) => live_ids(tx, cid, calendar)?,
            _ => Vec::new(),
        };
        let mut written = Vec::with_capacity(changes.len());
        let mut deleted = 0;
        for c in changes {
            match c {
                Change::Upsert(row) => written.push(store::upsert_event(tx, cid, provider, calendar, row, stamp)?),
                Change::Delete(id) => deleted += u64::from(store::mark_deleted(tx, cid, calendar, id, stamp)?),
            }
        }
        let mut swept = 0;
        match sweep {
            Some(Sweep::Missing) => {
                let seen: HashSet<&str> = changes
                    .iter()
                    .filter_map(|c| match c {
                        Change::Upsert(r) => Some(r.id.as_str()),
                        Change::Delete(_) => None,
                    })
                    .collect();
                for id in before.iter().filter(|id| !seen.contains(id.as_str())) {
                    swept += u64::from(store::mark_deleted(tx, cid, calendar, id, stamp)?);
                }
            }
            Some(Sweep::UnseenSince(began)) => swept = store::mark_unseen_deleted(tx, cid, calendar, began, stamp)?,
            Some(Sweep::Wipe) | None => {}
        }
        runs::save_cursor(tx, cid, stream, Some(cursor), stamp, complete)?;
        Ok((written, deleted, swept))
    })?;
    written.into_iter().for_each(|w| counts.written(w));
    counts.deleted += deleted + swept;
    Ok(swept)
}

/// Ids of a calendar's live events.
fn live_ids(tx: &Conn<'_>, cid: i64, calendar: &str) -> std::result::Result<Vec<String>, DbError> {
    tx.query_map(
        "SELECT id FROM events WHERE connection_id = ?1 AND calendar_id = ?2 AND deleted_at IS NULL",
        params![cid, calendar],
        |r| r.get(0),
    )
}

/// How a round's pages reach the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Apply {
    /// Each page with the cursor after it, as it arrives: a killed run resumes at the next page.
    Progressive,
    /// Every page of the round at its end, in one transaction with `sweep`, so the stored rows
    /// never mix two rounds. Until then the old cursor stays: an interrupted replace round costs
    /// only time.
    Replace { sweep: Sweep, buffer: Vec<Change> },
}

impl Apply {
    /// A replace round that has not read anything yet.
    pub fn replace(sweep: Sweep) -> Apply {
        Apply::Replace { sweep, buffer: Vec::new() }
    }

    /// Take a page's changes and the cursor after it: commit them now, or keep them until the
    /// round's last page (`complete`) commits them all. A replace round that completes leaves
    /// the round progressive.
    pub fn page(
        &mut self,
        db: &mut Db,
        target: Target<'_>,
        changes: Vec<Change>,
        cursor: &str,
        complete: bool,
        counts: &mut Counts,
    ) -> Result<()> {
        match self {
            Apply::Progressive => {
                commit(db, target, &changes, None, cursor, complete, counts)?;
            }
            Apply::Replace { sweep, buffer } => {
                buffer.extend(changes);
                if complete {
                    commit(db, target, buffer, Some(sweep), cursor, true, counts)?;
                    *self = Apply::Progressive;
                }
            }
        }
        Ok(())
    }

    /// A replace round with pages read but not committed (lost if the run stops now).
    pub fn is_pending(&self) -> bool {
        matches!(self, Apply::Replace { buffer, .. } if !buffer.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::Db;

    fn db() -> (tempfile::TempDir, Db, i64) {
        let (dir, db) = crate::store::db::test_db(3, "google");
        db.sqlite()
            .execute(
                "INSERT INTO calendars (connection_id, id, raw_json, first_seen_at, last_seen_at) VALUES (3, 'c', '{}', 'now', 'now')",
                [],
            )
            .expect("calendar");
        (dir, db, 3)
    }

    fn up(id: &str, title: &str) -> Change {
        Change::Upsert(Box::new(EventRow {
            id: id.into(),
            title: Some(title.into()),
            start_at: Some("2026-11-21T12:00:00Z".into()),
            raw_json: format!("{{\"id\":\"{id}\",\"t\":\"{title}\"}}"),
            ..EventRow::default()
        }))
    }

    fn live(db: &Db, cid: i64) -> Vec<String> {
        let mut ids: Vec<String> = db
            .sqlite()
            .prepare("SELECT id FROM events WHERE connection_id = ?1 AND deleted_at IS NULL")
            .unwrap()
            .query_map([cid], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        ids.sort();
        ids
    }

    fn cursor(db: &Db, cid: i64) -> Option<String> {
        runs::cursor(db, cid, "events:c").unwrap()
    }

    #[test]
    fn progressive_pages_commit_with_their_cursor_and_count_once() {
        let (_d, mut db, cid) = db();
        let t = Target { cid, provider: "google", calendar: "c", stream: "events:c", stamp: "2026-11-21T12:00:00Z" };
        let mut apply = Apply::Progressive;
        let mut counts = Counts::default();
        apply.page(&mut db, t, vec![up("a", "A"), up("b", "B")], "p1", false, &mut counts).unwrap();
        assert_eq!((live(&db, cid), cursor(&db, cid).as_deref()), (vec!["a".into(), "b".into()], Some("p1")));
        apply
            .page(&mut db, t, vec![up("a", "A"), up("b", "B2"), Change::Delete("a".into())], "p2", true, &mut counts)
            .unwrap();
        assert_eq!(live(&db, cid), vec!["b".to_string()]);
        assert_eq!((counts.inserted, counts.updated, counts.deleted), (2, 1, 1));
        // Deleting what is already deleted, or never stored, counts nothing.
        apply
            .page(&mut db, t, vec![Change::Delete("a".into()), Change::Delete("z".into())], "p3", true, &mut counts)
            .unwrap();
        assert_eq!(counts.deleted, 1);
    }

    #[test]
    fn replace_rounds_hold_everything_until_the_last_page() {
        let (_d, mut db, cid) = db();
        let t = Target { cid, provider: "google", calendar: "c", stream: "events:c", stamp: "2026-11-21T12:00:00Z" };
        let mut counts = Counts::default();
        commit(&mut db, t, &[up("a", "A"), up("b", "B"), up("c", "C")], None, "old", true, &mut counts).unwrap();
        // Missing: what the round did not see is deleted, what it saw stays.
        let mut apply = Apply::replace(Sweep::Missing);
        let mut counts = Counts::default();
        apply.page(&mut db, t, vec![up("a", "A")], "mid", false, &mut counts).unwrap();
        assert!(apply.is_pending());
        assert_eq!((live(&db, cid).len(), cursor(&db, cid).as_deref()), (3, Some("old")));
        apply.page(&mut db, t, vec![up("c", "C2")], "new", true, &mut counts).unwrap();
        assert_eq!(apply, Apply::Progressive);
        assert_eq!((live(&db, cid), cursor(&db, cid).as_deref()), (vec!["a".into(), "c".into()], Some("new")));
        assert_eq!((counts.inserted, counts.updated, counts.deleted), (0, 1, 1));
        // Wipe: the rows are replaced; nothing counts as deleted.
        let mut apply = Apply::replace(Sweep::Wipe);
        let mut counts = Counts::default();
        apply.page(&mut db, t, vec![up("d", "D")], "w", true, &mut counts).unwrap();
        assert_eq!(live(&db, cid), vec!["d".to_string()]);
        assert_eq!((counts.inserted, counts.deleted), (1, 0));
    }

    #[test]
    fn unseen_since_marks_rows_stamped_before_the_scan() {
        let (_d, mut db, cid) = db();
        let t = Target { cid, provider: "calendly", calendar: "c", stream: "events:c", stamp: "2026-11-21T12:00:00Z" };
        let mut counts = Counts::default();
        commit(&mut db, t, &[up("a", "A"), up("b", "B")], None, "1", true, &mut counts).unwrap();
        let (began, t) =
            (Sweep::UnseenSince("2026-11-21T12:00:01Z".into()), Target { stamp: "2026-11-21T12:00:01Z", ..t });
        let swept = commit(&mut db, t, &[up("b", "B")], Some(&began), "2", true, &mut counts).unwrap();
        assert_eq!((swept, live(&db, cid)), (1, vec!["b".to_string()]));
    }
}
