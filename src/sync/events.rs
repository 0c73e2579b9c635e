//! The `events` stream of the calendar providers: keep each selected calendar's events in
//! SQLite. The shared part lives here (the calendar list, the per-calendar loop; the options
//! live in the engine's `mod.rs`);
//! each provider's round lives in its own file, because the three incremental mechanisms have
//! nothing in common: Google's `syncToken`, Graph's `calendarView/delta` link, and Calendly's
//! window rescan.
//!
//! Each calendar keeps its cursor in `sync_state` under the stream `events:<calendar id>`.

use super::{Counts, Finish, Observer};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::store::db::Db;
use crate::store::events::{self, CalendarRow, CalendarView};

pub const EVENTS: &str = "events";

use super::EventsOptions;

/// Ask the provider for the account's calendars and store them (the primary one starts
/// selected). Returns what is stored afterwards.
pub async fn refresh_calendars(session: &mut Session, db: &mut Db, http: &Http) -> Result<Vec<CalendarView>> {
    let rows: Vec<CalendarRow> = match session.connection.provider {
        Provider::Google => super::google::list_calendars(session, db, http).await?,
        Provider::Microsoft => super::microsoft::list_calendars(session, db, http).await?,
        Provider::Calendly => super::calendly::list_calendars(session, db, http).await?,
        Provider::Jobber => return Err(Error::config("Jobber has no calendars; use `integ sync jobs`")),
    };
    let now = session.clock().stamp();
    events::save_calendars(db, session.connection.id, &rows, &now)?;
    Ok(events::calendars(db, Some(session.connection.id), None)?)
}

/// Sync every selected calendar of one account.
pub async fn sync_events(
    session: &mut Session,
    db: &mut Db,
    http: &Http,
    opts: &EventsOptions,
    observer: &dyn Observer,
    counts: &mut Counts,
) -> Result<Finish> {
    let cid = session.connection.id;
    let mut calendars = events::calendars(db, Some(cid), None)?;
    if calendars.is_empty() {
        // First run after connecting: learn the calendars (the primary one is selected).
        calendars = refresh_calendars(session, db, http).await?;
    }
    let selected: Vec<CalendarView> = calendars.into_iter().filter(|c| c.selected).collect();
    if selected.is_empty() {
        observer.note("no calendar is selected; see `integ calendars list` and `integ calendars select`");
        return Ok(Finish::Complete);
    }
    match session.connection.provider {
        Provider::Google => {
            let (finish, gone) =
                super::google::sync_calendars(session, db, http, &selected, opts, observer, counts).await?;
            if gone {
                // Learn the current list: calendars no longer in it are marked deleted.
                if let Err(e) = refresh_calendars(session, db, http).await {
                    observer.note(&format!("could not refresh the calendar list: {e}"));
                }
            }
            Ok(finish)
        }
        Provider::Microsoft => {
            super::microsoft::sync_calendars(session, db, http, &selected, opts, observer, counts).await
        }
        Provider::Calendly => {
            super::calendly::sync_calendars(session, db, http, &selected, opts, observer, counts).await
        }
        Provider::Jobber => Err(Error::config("Jobber has no calendars; use `integ sync jobs`")),
    }
}
