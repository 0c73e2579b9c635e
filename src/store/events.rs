//! Writing and reading `calendars` and `events`. Like every store module, writes happen inside
//! the caller's transaction so rows and the cursor that covers them commit together.

pub use super::Written;
use super::db::{Db, DbError};
use super::sql::{Conn, Row, params};

/// A calendar as a provider lists it.
#[derive(Debug, Clone, Default)]
pub struct CalendarRow {
    pub id: String,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub is_primary: bool,
    pub access_role: Option<String>,
    pub raw_json: String,
}

/// A calendar as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CalendarView {
    pub connection_id: i64,
    pub provider: String,
    pub account: String,
    pub id: String,
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub primary: bool,
    pub access_role: Option<String>,
    pub selected: bool,
}

/// Replace the stored list of a connection's calendars with what the provider lists. New
/// calendars are selected when they are the primary one; a calendar that is no longer listed
/// is marked deleted (and not synced).
pub fn save_calendars(db: &mut Db, cid: i64, rows: &[CalendarRow], now: &str) -> Result<(), DbError> {
    db.write(|tx| -> Result<(), DbError> {
        tx.execute(
            "UPDATE calendars SET deleted_at = coalesce(deleted_at, ?2) WHERE connection_id = ?1",
            params![cid, now],
        )?;
        for r in rows {
            tx.execute(
                "INSERT INTO calendars (connection_id, id, name, time_zone, is_primary, access_role, selected, raw_json,
                    first_seen_at, last_seen_at, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8, ?8, NULL)
                 ON CONFLICT (connection_id, id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
                    is_primary = excluded.is_primary, access_role = excluded.access_role, raw_json = excluded.raw_json,
                    last_seen_at = excluded.last_seen_at, deleted_at = NULL",
                params![cid, r.id, r.name, r.time_zone, r.is_primary, r.access_role, r.raw_json, now],
            )?;
        }
        Ok(())
    })
}

fn calendar_view(r: &Row<'_>) -> Result<CalendarView, DbError> {
    Ok(CalendarView {
        connection_id: r.get(0)?,
        provider: r.get(1)?,
        account: r.get(2)?,
        id: r.get(3)?,
        name: r.get(4)?,
        time_zone: r.get(5)?,
        primary: r.get(6)?,
        access_role: r.get(7)?,
        selected: r.get(8)?,
    })
}

/// Live calendars, optionally of one connection or provider.
pub fn calendars(db: &Db, connection: Option<i64>, provider: Option<&str>) -> Result<Vec<CalendarView>, DbError> {
    db
        .conn().query_map("SELECT c.connection_id, n.provider, n.label, c.id, c.name, c.time_zone, c.is_primary, c.access_role, c.selected
             FROM calendars c JOIN connections n ON n.id = c.connection_id
             WHERE c.deleted_at IS NULL AND n.state != 'disconnected'
               AND (CAST(?1 AS BIGINT) IS NULL OR c.connection_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR n.provider = ?2)
             ORDER BY n.provider, n.label, c.is_primary DESC, c.name, c.id", params![connection, provider], calendar_view)
}

/// Select or deselect a calendar; returns whether it exists.
pub fn set_selected(db: &mut Db, cid: i64, id: &str, selected: bool) -> Result<bool, DbError> {
    db.write(|tx| -> Result<bool, DbError> {
        tx.execute(
            "UPDATE calendars SET selected = ?3 WHERE connection_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            params![cid, id, selected],
        )
        .map(|n| n > 0)
    })
}

/// An event as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub status: Option<String>,
    pub all_day: bool,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub time_zone: Option<String>,
    pub series_id: Option<String>,
    pub original_start: Option<String>,
    pub organizer: Option<String>,
    pub attendees_count: Option<i64>,
    pub updated_at: Option<String>,
    pub raw_json: String,
}

/// Insert or update one event (clearing `deleted_at`).
pub fn upsert_event(
    tx: &Conn<'_>,
    cid: i64,
    provider: &str,
    calendar: &str,
    e: &EventRow,
    now: &str,
) -> Result<Written, DbError> {
    let existing: Option<(String, bool)> = tx.query_opt(
        "SELECT raw_json, deleted_at IS NOT NULL FROM events WHERE connection_id = ?1 AND calendar_id = ?2 AND id = ?3",
        params![cid, calendar, e.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let written = match &existing {
        None => Written::Inserted,
        Some((raw, deleted)) if !deleted && *raw == e.raw_json => Written::Unchanged,
        Some(_) => Written::Updated,
    };
    tx.execute("INSERT INTO events (connection_id, calendar_id, id, provider, title, description, location, status, all_day,
            start_at, end_at, start_date, end_date, time_zone, series_id, original_start, organizer, attendees_count,
            updated_at, raw_json, first_seen_at, last_seen_at, deleted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?21, NULL)
         ON CONFLICT (connection_id, calendar_id, id) DO UPDATE SET title = excluded.title,
            description = excluded.description, location = excluded.location, status = excluded.status,
            all_day = excluded.all_day, start_at = excluded.start_at, end_at = excluded.end_at,
            start_date = excluded.start_date, end_date = excluded.end_date, time_zone = excluded.time_zone,
            series_id = excluded.series_id, original_start = excluded.original_start, organizer = excluded.organizer,
            attendees_count = excluded.attendees_count, updated_at = excluded.updated_at, raw_json = excluded.raw_json,
            last_seen_at = excluded.last_seen_at, deleted_at = NULL", params![
        cid,
        calendar,
        e.id,
        provider,
        e.title,
        e.description,
        e.location,
        e.status,
        e.all_day,
        e.start_at,
        e.end_at,
        e.start_date,
        e.end_date,
        e.time_zone,
        e.series_id,
        e.original_start,
        e.organizer,
        e.attendees_count,
        e.updated_at,
        e.raw_json,
        now
    ])?;
    Ok(written)
}

/// Mark one event deleted; returns whether a live row was marked.
pub fn mark_deleted(tx: &Conn<'_>, cid: i64, calendar: &str, id: &str, now: &str) -> Result<bool, DbError> {
    tx.execute("UPDATE events SET deleted_at = ?4 WHERE connection_id = ?1 AND calendar_id = ?2 AND id = ?3 AND deleted_at IS NULL", params![cid, calendar, id, now])
    .map(|n| n > 0)
}

/// Forget a calendar's events (a resync replaces them, in the same transaction).
pub fn wipe_calendar(tx: &Conn<'_>, cid: i64, calendar: &str) -> Result<u64, DbError> {
    tx.execute("DELETE FROM events WHERE connection_id = ?1 AND calendar_id = ?2", params![cid, calendar])
        .map(|n| n as u64)
}

/// Ids of a calendar's live events starting in `[from, to)` (instants or dates compared as
/// text, both RFC 3339 UTC): what a window rescan expects to see again.
pub fn live_ids_in_window(db: &Db, cid: i64, calendar: &str, from: &str, to: &str) -> Result<Vec<String>, DbError> {
    db.conn().query_map(
        "SELECT id FROM events WHERE connection_id = ?1 AND calendar_id = ?2 AND deleted_at IS NULL
               AND coalesce(start_at, start_date) >= ?3 AND coalesce(start_at, start_date) < ?4",
        params![cid, calendar, from, to],
        |r| r.get(0),
    )
}

/// An event for `events list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventView {
    pub provider: String,
    pub account: String,
    pub calendar_id: String,
    pub id: String,
    pub title: Option<String>,
    pub location: Option<String>,
    pub status: Option<String>,
    pub all_day: bool,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub time_zone: Option<String>,
    pub series_id: Option<String>,
    pub organizer: Option<String>,
    pub attendees_count: Option<i64>,
}

/// Filters of `events list`.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events ending after this instant (RFC 3339 UTC) / date.
    pub from: Option<(String, String)>,
    /// Events starting before this instant / date.
    pub to: Option<(String, String)>,
    pub provider: Option<String>,
    pub calendar: Option<String>,
    pub connection: Option<i64>,
}

/// Live events overlapping the window, in start order. Each bound comes as (instant, date) so
/// timed events compare by instant and all-day events by date.
pub fn list_events(db: &Db, f: &EventFilter) -> Result<Vec<EventView>, DbError> {
    let (from_ts, from_date) = f.from.clone().unzip();
    let (to_ts, to_date) = f.to.clone().unzip();
    db.conn().query_map(
        "SELECT e.provider, n.label, e.calendar_id, e.id, e.title, e.location, e.status, e.all_day, e.start_at,
                    e.end_at, e.start_date, e.end_date, e.time_zone, e.series_id, e.organizer, e.attendees_count
             FROM events e JOIN connections n ON n.id = e.connection_id
             WHERE e.deleted_at IS NULL
               AND (CAST(?1 AS TEXT) IS NULL OR (e.all_day = 0 AND e.end_at > ?1) OR (e.all_day = 1 AND e.end_date > ?2))
               AND (CAST(?3 AS TEXT) IS NULL OR (e.all_day = 0 AND e.start_at < ?3) OR (e.all_day = 1 AND e.start_date < ?4))
               AND (CAST(?5 AS TEXT) IS NULL OR e.provider = ?5) AND (CAST(?6 AS TEXT) IS NULL OR e.calendar_id = ?6)
               AND (CAST(?7 AS BIGINT) IS NULL OR e.connection_id = ?7)
             ORDER BY coalesce(e.start_at, e.start_date || 'T00:00:00Z'), e.all_day DESC, e.id",
        params![from_ts, from_date, to_ts, to_date, f.provider, f.calendar, f.connection],
        |r| {
            Ok(EventView {
                provider: r.get(0)?,
                account: r.get(1)?,
                calendar_id: r.get(2)?,
                id: r.get(3)?,
                title: r.get(4)?,
                location: r.get(5)?,
                status: r.get(6)?,
                all_day: r.get(7)?,
                start_at: r.get(8)?,
                end_at: r.get(9)?,
                start_date: r.get(10)?,
                end_date: r.get(11)?,
                time_zone: r.get(12)?,
                series_id: r.get(13)?,
                organizer: r.get(14)?,
                attendees_count: r.get(15)?,
            })
        },
    )
}

/// Mark deleted a calendar's live events last seen before `before` (`last_seen_at`, as written
/// by [`upsert_event`]): what a completed window rescan that began at `before` did not return.
pub fn mark_unseen_deleted(tx: &Conn<'_>, cid: i64, calendar: &str, before: &str, now: &str) -> Result<u64, DbError> {
    tx.execute(
        "UPDATE events SET deleted_at = ?4
         WHERE connection_id = ?1 AND calendar_id = ?2 AND deleted_at IS NULL AND last_seen_at < ?3",
        params![cid, calendar, before, now],
    )
    .map(|n| n as u64)
}
