//! The calendly round of the events stream (to be written: see sync/events.rs for the contract).

use super::events::EventsOptions;
use super::{Counts, Finish, Observer};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::session::Session;
use crate::store::db::Db;
use crate::store::events::{CalendarRow, CalendarView};

pub async fn list_calendars(_session: &mut Session, _db: &mut Db, _http: &Http) -> Result<Vec<CalendarRow>> {
    Err(Error::failure("not built yet"))
}

pub async fn sync_calendars(
    _session: &mut Session,
    _db: &mut Db,
    _http: &Http,
    _calendars: &[CalendarView],
    _opts: &EventsOptions,
    _observer: &dyn Observer,
    _counts: &mut Counts,
) -> Result<Finish> {
    Err(Error::failure("not built yet"))
}
