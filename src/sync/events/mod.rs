//! The `events` stream of the calendar providers: keep each selected calendar's events in
//! SQLite.
//!
//! The three incremental mechanisms really differ (Google's `syncToken`, Graph's
//! `calendarView/delta` link, Calendly's window rescan), so each provider keeps what is its own
//! in its file: the cursor model, the item-to-row mapping (pure), the round's state machine.
//! The plumbing under them is shared, once:
//! - [`write`]: one event-write type, one commit (rows and cursor in one transaction, with the
//!   wipe and sweep variants), one replace-round buffer;
//! - [`drive`]: one concurrency driver (at most N requests in flight, one token, a 401 handed to
//!   the session);
//! - here: the options, the sync window, the cursor loader and the calendar list.
//!
//! Each calendar keeps its cursor in `sync_state` under the stream `events:<calendar id>`.

pub mod calendly;
mod drive;
pub mod google;
pub mod microsoft;
mod write;

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;

use super::{Counts, Finish, Observer, StreamCx};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::store::db::Db;
use crate::store::events::{self, CalendarRow, CalendarView};
use crate::store::runs;
use crate::time::Clock;

pub const EVENTS: &str = "events";

/// Settings of the events stream.
#[derive(Debug, Clone)]
pub struct EventsOptions {
    /// Drop the cursors and read every calendar again.
    pub full: bool,
    /// The sync window, in days before and after now (Microsoft's delta and Calendly's rescan
    /// use it; Google uses it for the first round's `timeMin`/`timeMax`).
    pub past_days: u32,
    pub future_days: u32,
    pub deadline: Option<Instant>,
    /// The run's clock: the window is measured from its "now".
    pub clock: Clock,
}

#[cfg(test)]
impl EventsOptions {
    /// The default window (30 days back, 365 ahead) on a clock fixed at `now` (RFC 3339).
    pub fn defaults_at(now: &str) -> EventsOptions {
        EventsOptions {
            full: false,
            past_days: 30,
            future_days: 365,
            deadline: None,
            clock: Clock::fixed(now.parse().expect("an RFC 3339 instant")),
        }
    }
}

/// The `sync_state` stream of one calendar.
pub fn stream_of(calendar_id: &str) -> String {
    format!("events:{calendar_id}")
}

/// The sync window around `now`: `past_days` back and `future_days` ahead, in whole seconds
/// (so the same settings in the same second give the same text), clamped at the ends of time.
pub fn window(now: Timestamp, opts: &EventsOptions) -> (Timestamp, Timestamp) {
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let day = |n: u32| SignedDuration::from_hours(24 * i64::from(n));
    (now.saturating_sub(day(opts.past_days)).unwrap_or(now), now.saturating_add(day(opts.future_days)).unwrap_or(now))
}

/// A calendar's saved cursor, as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved<C> {
    /// Never synced.
    Never,
    /// Written by another version of integ, or damaged: each round decides how to start over
    /// (never by failing forever).
    Unreadable,
    Found(C),
}

/// Read a calendar's cursor.
pub fn load_cursor<C: DeserializeOwned>(db: &Db, cid: i64, stream: &str) -> Result<Saved<C>> {
    Ok(match runs::cursor(db, cid, stream)? {
        None => Saved::Never,
        Some(text) => serde_json::from_str(&text).map_or(Saved::Unreadable, Saved::Found),
    })
}

/// Ask the provider for the account's calendars and store them (the primary one starts
/// selected). Returns what is stored afterwards.
pub async fn refresh_calendars(session: &mut Session, db: &mut Db, http: &Http) -> Result<Vec<CalendarView>> {
    let rows: Vec<CalendarRow> = match session.connection.provider {
        Provider::Google => google::list_calendars(session, db, http).await?,
        Provider::Microsoft => microsoft::list_calendars(session, db, http).await?,
        Provider::Calendly => calendly::list_calendars(session, db, http).await?,
        Provider::Jobber => return Err(Error::config("Jobber has no calendars; use `integ sync jobs`")),
    };
    let now = session.clock().stamp();
    events::save_calendars(db, session.connection.id, &rows, &now)?;
    Ok(events::calendars(db, Some(session.connection.id), None)?)
}

/// Sync every selected calendar of one account.
pub async fn sync_events(cx: &mut StreamCx<'_>, opts: &EventsOptions) -> Result<Finish> {
    let cid = cx.session.connection.id;
    let mut calendars = events::calendars(cx.db, Some(cid), None)?;
    if calendars.is_empty() {
        // First run after connecting: learn the calendars (the primary one is selected).
        calendars = refresh_calendars(cx.session, cx.db, cx.http).await?;
    }
    let selected: Vec<CalendarView> = calendars.into_iter().filter(|c| c.selected).collect();
    if selected.is_empty() {
        cx.observer.note("no calendar is selected; see `integ calendars list` and `integ calendars select`");
        return Ok(Finish::Complete);
    }
    match cx.session.connection.provider {
        Provider::Google => {
            let (finish, gone) = google::sync_calendars(cx, &selected, opts).await?;
            if gone {
                // Learn the current list: calendars no longer in it are marked deleted.
                if let Err(e) = refresh_calendars(cx.session, cx.db, cx.http).await {
                    cx.observer.note(&format!("could not refresh the calendar list: {e}"));
                }
            }
            Ok(finish)
        }
        Provider::Microsoft => microsoft::sync_calendars(cx, &selected, opts).await,
        Provider::Calendly => calendly::sync_calendars(cx, &selected, opts).await,
        Provider::Jobber => Err(Error::config("Jobber has no calendars; use `integ sync jobs`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_whole_seconds_around_now_and_clamped() {
        let opts = EventsOptions::defaults_at("2026-11-21T12:00:00Z");
        let now: Timestamp = "2026-11-21T06:49:30.25Z".parse().unwrap();
        let (from, to) = window(now, &opts);
        assert_eq!((from.to_string(), to.to_string()), ("2026-10-22T06:49:30Z".into(), "2027-11-21T06:49:30Z".into()));
        let far = EventsOptions { past_days: u32::MAX, future_days: u32::MAX, ..opts };
        let (from, to) = window(now, &far);
        assert!(from <= now && to >= now);
    }
}
