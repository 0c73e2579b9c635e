//! The bookkeeping of a full sweep: which live jobs it has not seen yet, which it found off its
//! pages, and, in the transaction that completes it, marking every job it never saw as deleted.
//!
//! An incremental round stops at the saved watermark and never hears of a deleted job, so a
//! periodic full round (a sweep) reads every job; each job row carries the number of the last
//! sweep that saw it, and only a sweep that completed may mark the others deleted.

use crate::store::db::{Db, DbError};
use crate::store::sql::{Conn, params};

/// Live jobs of the connection that sweep `sweep` has not seen (yet).
pub fn unswept(db: &Db, cid: i64, sweep: i64) -> Result<Vec<String>, DbError> {
    db.conn().query_map(
        "SELECT id FROM jobs WHERE connection_id = ?1 AND deleted_at IS NULL AND sweep < ?2",
        params![cid, sweep],
        |r| r.get(0),
    )
}

/// Record that sweep `sweep` found the jobs `ids` (checked one by one, off its pages).
pub fn mark_swept(tx: &Conn<'_>, cid: i64, ids: &[String], sweep: i64) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(ids).map_err(|e| DbError::Value { column: 2, reason: e.to_string() })?;
    let d = tx.dialect();
    tx.execute(
        &format!(
            "UPDATE jobs SET sweep = {} WHERE connection_id = ?1 AND id IN ({})",
            d.greatest("sweep", "?3"),
            d.json_strings(2)
        ),
        params![cid, list, sweep],
    )?;
    Ok(())
}

/// Mark as deleted every live job of the connection that the completed sweep `sweep` did not
/// see. Only ever called in the transaction that completes a full sweep.
pub fn mark_unswept_deleted(tx: &Conn<'_>, cid: i64, sweep: i64, now: &str) -> Result<u64, DbError> {
    tx.execute(
        "UPDATE jobs SET deleted_at = ?3 WHERE connection_id = ?1 AND deleted_at IS NULL AND sweep < ?2",
        params![cid, sweep, now],
    )
    .map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{CID, db, deleted_at, job, write};
    use super::*;

    #[test]
    fn only_jobs_the_sweep_never_saw_are_marked_deleted() {
        let (_dir, mut db) = db();
        write(&mut db, &[job("J1", 1, "a"), job("J2", 2, "b"), job("J3", 3, "c"), job("J4", 4, "d")], "t1", 1);
        let mut all = unswept(&db, CID, 2).expect("unswept");
        all.sort();
        assert_eq!(all, ["J1", "J2", "J3", "J4"]);
        // Sweep 2 sees J1 on its pages (changed or not) and finds J2 off them.
        write(&mut db, &[job("J1", 1, "a")], "t2", 2);
        db.write(|tx| mark_swept(tx, CID, &["J2".to_owned()], 2)).expect("mark");
        db.write(|tx| mark_swept(tx, CID, &[], 2)).expect("nothing to mark");
        let mut left = unswept(&db, CID, 2).expect("unswept");
        left.sort();
        assert_eq!(left, ["J3", "J4"]);
        assert_eq!(db.write(|tx| mark_unswept_deleted(tx, CID, 2, "t3")).expect("delete"), 2);
        assert_eq!(deleted_at(&db, "J3").as_deref(), Some("t3"));
        assert_eq!((deleted_at(&db, "J1"), deleted_at(&db, "J2")), (None, None));
        // Deleted jobs are not live, so neither listed as unswept nor deleted twice.
        assert!(unswept(&db, CID, 3).expect("unswept").iter().all(|id| id == "J1" || id == "J2"));
        assert_eq!(db.write(|tx| mark_unswept_deleted(tx, CID, 2, "t4")).expect("again"), 0);
        assert_eq!(deleted_at(&db, "J4").as_deref(), Some("t3"));
    }

    #[test]
    fn an_incremental_write_does_not_lower_a_jobs_sweep() {
        let (_dir, mut db) = db();
        write(&mut db, &[job("J1", 1, "a")], "t1", 5);
        write(&mut db, &[job("J1", 1, "b")], "t2", 0);
        db.write(|tx| mark_swept(tx, CID, &["J1".to_owned()], 3)).expect("mark");
        assert!(unswept(&db, CID, 5).expect("unswept").is_empty());
        assert_eq!(unswept(&db, CID, 6).expect("unswept"), ["J1"]);
    }
}
