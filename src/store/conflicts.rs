//! The busy events `integ conflicts` checks visits against: live events of the selected
//! calendars of one connection in a window, without cancelled or free (transparent) events and
//! without integ's own pushed visit events (so a visit never conflicts with itself).

use crate::store::db::{Db, DbError};
use crate::store::sql::params;

/// A busy event: timed as instants, all-day as dates (exclusive end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub calendar_id: String,
    pub id: String,
    pub title: Option<String>,
    pub all_day: bool,
    pub start: String,
    pub end: String,
}

/// Busy events of a connection's selected calendars overlapping `[from, to)` (RFC 3339 UTC).
pub fn busy(db: &Db, connection_id: i64, from: &str, to: &str) -> Result<Vec<Busy>, DbError> {
    let conn = db.conn();
    let d = conn.dialect();
    let (transparency, show_as, cancelled) = (
        d.json_text("e.raw_json", "transparency"),
        d.json_text("e.raw_json", "showAs"),
        d.json_true("e.raw_json", "isCancelled"),
    );
    conn.query_map(
            &format!("SELECT e.calendar_id, e.id, e.title, e.all_day, coalesce(e.start_at, e.start_date), coalesce(e.end_at, e.end_date)
             FROM events e JOIN calendars c ON c.connection_id = e.connection_id AND c.id = e.calendar_id
             WHERE e.connection_id = ?1 AND c.selected = 1 AND e.deleted_at IS NULL
               AND coalesce(e.status, '') NOT IN ('cancelled', 'canceled')
               AND coalesce({transparency}, '') <> 'transparent'
               AND coalesce({show_as}, '') <> 'free'
               AND NOT ({cancelled})
               AND NOT EXISTS (SELECT 1 FROM pushed_calendar_events p WHERE p.connection_id = e.connection_id
                               AND p.calendar_id = e.calendar_id AND p.event_id = e.id)
               AND ((e.all_day = 0 AND e.start_at < ?3 AND e.end_at > ?2)
                    OR (e.all_day = 1 AND e.start_date < substr(?3, 1, 10) AND e.end_date > substr(?2, 1, 10)))
             ORDER BY 5, e.id"),
        params![connection_id, from, to], |r| {
            Ok(Busy {
                calendar_id: r.get(0)?,
                id: r.get(1)?,
                title: r.get(2)?,
                all_day: r.get::<i64>(3)? != 0,
                start: r.get::<Option<String>>(4)?.unwrap_or_default(),
                end: r.get::<Option<String>>(5)?.unwrap_or_default(),
            })
        })
}
