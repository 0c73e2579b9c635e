//! The Google round of the events stream: `events.list` with `singleEvents=true` and a
//! `syncToken` per calendar.
//!
//! A calendar's first round asks for the sync window (`timeMin`/`timeMax`) and commits page by
//! page; the cursor (`events:<calendar id>`) holds the window, the next `pageToken` of the round
//! in progress and, once the last page came, the `nextSyncToken`. Later rounds send only that
//! token (Google refuses it together with a window) and get every change in the calendar,
//! inside the window or not: an event is stored when it overlaps the window and marked deleted
//! when it is cancelled or lies outside (it may have moved out).
//!
//! A round left unfinished by a killed or timed-out run resumes from its saved page token; once
//! it ends, an incremental round follows in the same run, because changes made meanwhile to
//! pages already read are only reported there.
//!
//! Three cases read the whole calendar again and apply it in one transaction at the end, so
//! the stored rows never mix two rounds: a 410 (the sync token died: the calendar's rows are
//! wiped first), `--full`, and a window that drifted more than [`REANCHOR_DAYS`] from where
//! the settings put it today (both mark what the round did not see as deleted).
//!
//! Calendars are read concurrently (up to [`IN_FLIGHT`] requests) with one access token; each
//! page is applied as it arrives. A 401 falls back to [`Session::call`] for that page, which
//! refreshes the token once.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Counts, Finish, Observer, out_of_time};
use super::{EventsOptions, stream_of};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use crate::oauth::session::Session;
use crate::providers::api::ApiError;
use crate::providers::google::calendar::{
    CalendarApi, EVENTS_PAGE, Event, EventTime, EventsOutcome, EventsPage, EventsQuery,
};
use crate::store::db::{Db, DbError};
use crate::store::events::{self as store, CalendarRow, CalendarView, EventRow, Written};
use crate::store::runs;
use crate::time::rfc3339;

/// Requests in flight at once (one per calendar). Google limits requests per minute per user,
/// not concurrency; a few at once hide latency without bursting.
const IN_FLIGHT: usize = 4;
/// A stored window further than this from today's is replaced by a full round.
const REANCHOR_DAYS: i64 = 7;
const WHAT: &str = "could not read Google Calendar events";

/// The saved state of one calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// The sync window, fixed when the round that built the stored rows began.
    time_min: String,
    time_max: String,
    /// Sent on every request of every round: Google wants them identical to the first round's.
    single_events: bool,
    max_results: u32,
    /// From the last page of the last completed round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_token: Option<String>,
    /// The next page of the round in progress (full without `sync_token`, else incremental).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_token: Option<String>,
}

impl Cursor {
    /// A first round over the window the settings give at `now`.
    fn fresh(now: Timestamp, opts: &EventsOptions) -> Cursor {
        let (min, max) = window_at(now, opts);
        Cursor {
            time_min: rfc3339(min),
            time_max: rfc3339(max),
            single_events: true,
            max_results: EVENTS_PAGE,
            sync_token: None,
            page_token: None,
        }
    }

    fn query(&self) -> EventsQuery {
        EventsQuery {
            single_events: self.single_events,
            max_results: self.max_results,
            time_min: Some(self.time_min.clone()),
            time_max: Some(self.time_max.clone()),
            sync_token: self.sync_token.clone(),
            page_token: self.page_token.clone(),
        }
    }

    fn window(&self) -> Option<Window> {
        Some(Window { min: self.time_min.parse().ok()?, max: self.time_max.parse().ok()? })
    }

    /// Whether the stored window has drifted too far from the one the settings give today.
    fn drifted(&self, now: Timestamp, opts: &EventsOptions) -> bool {
        let Some(w) = self.window() else { return true };
        let (min, max) = window_at(now, opts);
        let far =
            |a: Timestamp, b: Timestamp| a.duration_since(b).abs() > SignedDuration::from_hours(24 * REANCHOR_DAYS);
        far(w.min, min) || far(w.max, max)
    }
}

fn window_at(now: Timestamp, opts: &EventsOptions) -> (Timestamp, Timestamp) {
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let day = |n: u32| SignedDuration::from_hours(24 * i64::from(n));
    (now.saturating_sub(day(opts.past_days)).unwrap_or(now), now.saturating_add(day(opts.future_days)).unwrap_or(now))
}

/// `[min, max)`: an event overlaps when it ends after `min` and starts before `max`.
#[derive(Debug, Clone, Copy)]
struct Window {
    min: Timestamp,
    max: Timestamp,
}

/// A start, end or original start.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    At(Timestamp),
    Day(Date),
}

impl When {
    fn parse(t: &EventTime) -> std::result::Result<When, String> {
        if let Some(dt) = &t.date_time {
            return dt.parse().map(When::At).map_err(|_| format!("'{dt}' is not an RFC 3339 date-time"));
        }
        if let Some(d) = &t.date {
            return d.parse().map(When::Day).map_err(|_| format!("'{d}' is not a date"));
        }
        Err("a time with neither dateTime nor date".into())
    }

    /// Instants compare as instants; all-day dates begin at midnight in the calendar's zone.
    fn instant(self, zone: &TimeZone) -> Timestamp {
        match self {
            When::At(t) => t,
            When::Day(d) => d.to_zoned(zone.clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::MIN),
        }
    }

    fn text(self) -> String {
        match self {
            When::At(t) => rfc3339(t),
            When::Day(d) => d.to_string(),
        }
    }
}

/// What one item of a page does to the store.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Upsert(Box<EventRow>),
    /// Cancelled, or outside the window.
    Delete(String),
}

/// The calendar an item is read for: its window and zone.
struct Frame<'a> {
    window: Window,
    zone: &'a TimeZone,
    zone_name: Option<&'a str>,
}

/// Turn a page's items into changes (pure: the plan before the apply).
fn plan(items: &[Value], f: &Frame) -> std::result::Result<Vec<Change>, ApiError> {
    items.iter().map(|raw| change(raw, f)).collect()
}

fn change(raw: &Value, f: &Frame) -> std::result::Result<Change, ApiError> {
    let e = Event::from_json(raw)?;
    if e.is_cancelled() {
        return Ok(Change::Delete(e.id));
    }
    let bad = |what: &str, why: String| ApiError::Malformed(format!("event {}: {what}: {why}", e.id));
    let (Some(start), Some(end)) = (&e.start, &e.end) else {
        return Err(bad("times", "no start or end".into()));
    };
    let (start_w, end_w) =
        (When::parse(start).map_err(|m| bad("start", m))?, When::parse(end).map_err(|m| bad("end", m))?);
    let original = match &e.original_start_time {
        Some(o) => Some(When::parse(o).map_err(|m| bad("originalStartTime", m))?),
        None => None,
    };
    let (s, t) = (start_w.instant(f.zone), end_w.instant(f.zone));
    if !(t > f.window.min && s < f.window.max) {
        return Ok(Change::Delete(e.id));
    }
    let all_day = matches!(start_w, When::Day(_));
    let zone = match (&start.time_zone, all_day) {
        (Some(z), _) => Some(z.clone()),
        (None, false) => f.zone_name.map(str::to_string),
        (None, true) => None,
    };
    let nonempty = |s: Option<String>| s.filter(|x| !x.is_empty());
    let (start_at, start_date) = at_day(start_w);
    let (end_at, end_date) = at_day(end_w);
    Ok(Change::Upsert(Box::new(EventRow {
        title: e.summary,
        description: nonempty(e.description),
        location: nonempty(e.location),
        status: e.status,
        all_day,
        start_at,
        end_at,
        start_date,
        end_date,
        time_zone: zone,
        series_id: e.recurring_event_id,
        original_start: original.map(When::text),
        organizer: e.organizer.and_then(|o| o.email),
        attendees_count: Some(e.attendees.map_or(0, |a| a.len() as i64)),
        updated_at: e.updated,
        raw_json: raw.to_string(),
        id: e.id,
    })))
}

fn at_day(w: When) -> (Option<String>, Option<String>) {
    match w {
        When::At(t) => (Some(rfc3339(t)), None),
        When::Day(d) => (None, Some(d.to_string())),
    }
}

/// How a round's rows reach the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Apply {
    /// Each page with the cursor, as it arrives.
    Progressive,
    /// All at the end, in one transaction; `wipe` forgets the calendar's rows first, otherwise
    /// stored events the round did not see are marked deleted.
    Replace { wipe: bool },
}

/// What counts a write produced.
#[derive(Debug, Default)]
struct Tally {
    inserted: u64,
    updated: u64,
    deleted: u64,
}

impl Tally {
    fn add(&mut self, w: Written) {
        match w {
            Written::Inserted => self.inserted += 1,
            Written::Updated => self.updated += 1,
            Written::Unchanged => {}
        }
    }

    fn into_counts(self, c: &mut Counts) {
        c.inserted += self.inserted;
        c.updated += self.updated;
        c.deleted += self.deleted;
    }
}

/// One calendar's round.
struct Round<'v> {
    cal: &'v CalendarView,
    stream: String,
    cursor: Cursor,
    apply: Apply,
    zone: TimeZone,
    zone_name: Option<String>,
    buffer: Vec<Change>,
    /// A 410 already restarted this round.
    resynced: bool,
    /// The page token came from the database (it may have expired).
    stored_page: bool,
    /// The round began in an earlier run: once it ends, an incremental round follows at once,
    /// since changes made in between to pages already read are only in the next round.
    catch_up: bool,
    /// The page tokens of this run, so a server going round in circles is stopped.
    pages: Pages,
}

impl<'v> Round<'v> {
    /// Decide the round from the stored cursor and the options.
    fn begin(
        db: &Db,
        cid: i64,
        cal: &'v CalendarView,
        opts: &EventsOptions,
        now: Timestamp,
    ) -> Result<(Round<'v>, Option<String>)> {
        let stream = stream_of(&cal.id);
        // An unreadable cursor (from an older integ) means starting over, not failing forever.
        let stored: Option<Cursor> = runs::cursor(db, cid, &stream)?.and_then(|t| serde_json::from_str(&t).ok());
        let name = cal.name.as_deref().unwrap_or(&cal.id);
        let (cursor, apply, note) = match stored {
            _ if opts.full => {
                (Cursor::fresh(now, opts), Apply::Replace { wipe: false }, Some(format!("'{name}': full round")))
            }
            None => (Cursor::fresh(now, opts), Apply::Progressive, None),
            Some(c) if c.window().is_none() => (Cursor::fresh(now, opts), Apply::Progressive, None),
            Some(c) if c.sync_token.is_some() && c.drifted(now, opts) => (
                Cursor::fresh(now, opts),
                Apply::Replace { wipe: false },
                Some(format!("'{name}': the sync window moved; reading the calendar again")),
            ),
            Some(c) => (c, Apply::Progressive, None),
        };
        let zone_name = cal.time_zone.clone();
        let zone = zone_name.as_deref().and_then(|z| TimeZone::get(z).ok()).unwrap_or(TimeZone::UTC);
        let stored_page = apply == Apply::Progressive && cursor.page_token.is_some();
        let catch_up = stored_page;
        Ok((
            Round {
                cal,
                stream,
                cursor,
                apply,
                zone,
                zone_name,
                buffer: Vec::new(),
                resynced: false,
                stored_page,
                catch_up,
                pages: Pages::new(format!("{WHAT}: calendar '{}'", cal.name.as_deref().unwrap_or(&cal.id))),
            },
            note,
        ))
    }

    fn name(&self) -> &str {
        self.cal.name.as_deref().unwrap_or(&self.cal.id)
    }

    /// A 410: forget the rows and read everything again, applied in one transaction.
    fn resync(&mut self, now: Timestamp, opts: &EventsOptions) {
        self.cursor = Cursor::fresh(now, opts);
        self.apply = Apply::Replace { wipe: true };
        self.buffer.clear();
        self.resynced = true;
        self.stored_page = false;
        self.catch_up = false;
        self.pages.restart();
    }

    /// Take a page: plan it and apply it (or buffer it). Returns whether the round is over.
    fn take(&mut self, db: &mut Db, cid: i64, page: EventsPage, stamp: &str, counts: &mut Counts) -> Result<bool> {
        self.stored_page = false;
        if let Some(z) = page.time_zone.as_deref().filter(|z| Some(*z) != self.zone_name.as_deref())
            && let Ok(tz) = TimeZone::get(z)
        {
            self.zone = tz;
            self.zone_name = Some(z.to_string());
        }
        let window = self.cursor.window().ok_or_else(|| Error::failure("the stored sync window is damaged"))?;
        let frame = Frame { window, zone: &self.zone, zone_name: self.zone_name.as_deref() };
        let changes = plan(&page.items, &frame).map_err(|e| e.into_error(WHAT))?;
        counts.fetched += page.items.len() as u64;
        let mut next = self.cursor.clone();
        let complete = match page.next_page_token {
            Some(t) => {
                self.pages.next(&t)?;
                next.page_token = Some(t);
                false
            }
            None => {
                next.sync_token = page.next_sync_token;
                next.page_token = None;
                true
            }
        };
        let text = serde_json::to_string(&next)?;
        let (cal, stream) = (self.cal.id.as_str(), self.stream.as_str());
        let provider = self.cal.provider.as_str();
        match self.apply {
            Apply::Progressive => {
                let tally = db.write(|tx| -> std::result::Result<Tally, DbError> {
                    let mut t = Tally::default();
                    write_changes(tx, cid, provider, cal, &changes, stamp, &mut t)?;
                    runs::save_cursor(tx, cid, stream, Some(&text), stamp, complete)?;
                    Ok(t)
                })?;
                tally.into_counts(counts);
            }
            Apply::Replace { wipe } => {
                self.buffer.extend(changes);
                if complete {
                    // Everything the round saw lives on; what it did not see is gone. Every stored
                    // start (an instant or a date) sorts between "" and "~": all live ids.
                    let before = if wipe { Vec::new() } else { store::live_ids_in_window(db, cid, cal, "", "~")? };
                    let buffer = std::mem::take(&mut self.buffer);
                    let tally = db.write(|tx| -> std::result::Result<Tally, DbError> {
                        let mut t = Tally::default();
                        if wipe {
                            store::wipe_calendar(tx, cid, cal)?;
                        }
                        write_changes(tx, cid, provider, cal, &buffer, stamp, &mut t)?;
                        let seen: HashSet<&str> = buffer
                            .iter()
                            .filter_map(|c| match c {
                                Change::Upsert(r) => Some(r.id.as_str()),
                                Change::Delete(_) => None,
                            })
                            .collect();
                        for id in before.iter().filter(|id| !seen.contains(id.as_str())) {
                            if store::mark_deleted(tx, cid, cal, id, stamp)? {
                                t.deleted += 1;
                            }
                        }
                        runs::save_cursor(tx, cid, stream, Some(&text), stamp, true)?;
                        Ok(t)
                    })?;
                    tally.into_counts(counts);
                }
            }
        }
        self.cursor = next;
        Ok(complete)
    }
}

fn write_changes(
    tx: &rusqlite::Transaction<'_>,
    cid: i64,
    provider: &str,
    cal: &str,
    changes: &[Change],
    stamp: &str,
    t: &mut Tally,
) -> std::result::Result<(), DbError> {
    for c in changes {
        match c {
            Change::Upsert(row) => t.add(store::upsert_event(tx, cid, provider, cal, row, stamp)?),
            Change::Delete(id) => {
                if store::mark_deleted(tx, cid, cal, id, stamp)? {
                    t.deleted += 1;
                }
            }
        }
    }
    Ok(())
}

/// The account's calendar list (hidden and deleted entries are not listed).
pub async fn list_calendars(session: &mut Session, db: &mut Db, http: &Http) -> Result<Vec<CalendarRow>> {
    let api_url = session.api_url()?;
    let api = CalendarApi::new(http, &api_url);
    let api = &api;
    let mut rows = Vec::new();
    let mut page_token: Option<String> = None;
    let mut pages = Pages::new("could not list the Google calendars");
    loop {
        let pt = page_token.clone();
        let page = session
            .call(db, "could not list the Google calendars", |t| {
                let pt = pt.clone();
                async move { api.calendar_list(&t, pt.as_deref()).await }
            })
            .await?;
        rows.extend(page.items.into_iter().map(|(c, raw)| CalendarRow {
            name: c.summary_override.filter(|s| !s.is_empty()).or(c.summary),
            time_zone: c.time_zone,
            is_primary: c.primary,
            access_role: c.access_role,
            raw_json: raw.to_string(),
            id: c.id,
        }));
        match page.next_page_token {
            Some(t) => {
                pages.next(&t)?;
                page_token = Some(t);
            }
            None => return Ok(rows),
        }
    }
}

/// One page request, tagged with the round it belongs to.
async fn fetch(
    api: &CalendarApi<'_>,
    token: SecretString,
    i: usize,
    id: String,
    q: EventsQuery,
) -> (usize, std::result::Result<EventsOutcome, ApiError>) {
    (i, api.events(&token, &id, &q).await)
}

/// Sync the selected calendars of one account (see the module docs); the flag says whether
/// one of them is gone (HTTP 404), so the caller learns the calendar list again.
pub async fn sync_calendars(
    session: &mut Session,
    db: &mut Db,
    http: &Http,
    calendars: &[CalendarView],
    opts: &EventsOptions,
    observer: &dyn Observer,
    counts: &mut Counts,
) -> Result<(Finish, bool)> {
    let api_url = session.api_url()?;
    let api = CalendarApi::new(http, &api_url);
    let api = &api;
    let cid = session.connection.id;
    let now = opts.clock.now();
    let mut rounds = Vec::with_capacity(calendars.len());
    for cal in calendars {
        let (round, note) = Round::begin(db, cid, cal, opts, now)?;
        if let Some(n) = note {
            observer.note(&n);
        }
        rounds.push(round);
    }
    let mut waiting: VecDeque<usize> = (0..rounds.len()).collect();
    let mut inflight = FuturesUnordered::new();
    let (mut paused, mut gone) = (false, false);
    loop {
        while inflight.len() < IN_FLIGHT
            && let Some(i) = waiting.pop_front()
        {
            if out_of_time(opts.deadline) {
                paused = true;
                waiting.clear();
                break;
            }
            let token = session.access_token(db).await?;
            let r: &Round = &rounds[i];
            inflight.push(fetch(api, token, i, r.cal.id.clone(), r.cursor.query()));
        }
        let Some((i, answer)) = inflight.next().await else { break };
        let outcome = match answer {
            Ok(o) => o,
            // A refused token: refresh once through the session and ask again.
            Err(ApiError::Unauthorized) => {
                let (id, q) = (rounds[i].cal.id.clone(), rounds[i].cursor.query());
                session
                    .call(db, WHAT, |t| {
                        let (id, q) = (id.clone(), q.clone());
                        async move { api.events(&t, &id, &q).await }
                    })
                    .await?
            }
            // A page token kept from an interrupted run may have expired: restart that round
            // (upserts make the replay harmless).
            Err(ApiError::Status { status: 400, .. }) if rounds[i].stored_page => {
                let r = &mut rounds[i];
                observer.note(&format!("'{}': the saved page token was refused; restarting the round", r.name()));
                r.cursor.page_token = None;
                (r.stored_page, r.catch_up) = (false, false);
                waiting.push_front(i);
                continue;
            }
            Err(e) => return Err(e.into_error(WHAT).context(format!("calendar '{}'", rounds[i].name()))),
        };
        let r = &mut rounds[i];
        match outcome {
            EventsOutcome::Page(page) => {
                let complete = r.take(db, cid, page, &opts.clock.stamp(), counts)?;
                observer.page(counts.fetched, Duration::from_secs_f64(http.stats().waited_secs));
                if !complete || std::mem::take(&mut r.catch_up) {
                    waiting.push_front(i);
                }
            }
            EventsOutcome::FullSyncRequired if r.resynced => {
                return Err(Error::failure(format!(
                    "{WHAT}: Google keeps answering 410 (full sync required) for calendar '{}'",
                    r.name()
                ))
                .hint("run `integ sync events` again later"));
            }
            EventsOutcome::FullSyncRequired => {
                observer
                    .note(&format!("'{}': the sync token expired (HTTP 410); reading the calendar again", r.name()));
                r.resync(opts.clock.now(), opts);
                waiting.push_front(i);
            }
            EventsOutcome::NotFound => {
                observer
                    .note(&format!("'{}' is gone or no longer shared with this account (HTTP 404); skipped", r.name()));
                gone = true;
            }
        }
    }
    drop(inflight);
    for r in rounds.iter().filter(|r| r.apply != Apply::Progressive && !r.buffer.is_empty()) {
        observer.note(&format!("'{}': out of time before the round ended; the next run reads it again", r.name()));
    }
    // A calendar that is gone (404) makes the caller learn the current list.
    Ok((if paused { Finish::Paused } else { Finish::Complete }, gone))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(zone: &TimeZone) -> Frame<'_> {
        Frame {
            window: Window {
                min: "2026-10-22T00:00:00Z".parse().unwrap(),
                max: "2027-11-21T00:00:00Z".parse().unwrap(),
            },
            zone,
            zone_name: Some("America/Denver"),
        }
    }

    fn row(c: Change) -> EventRow {
        match c {
            Change::Upsert(r) => *r,
            other => panic!("expected a row, got {other:?}"),
        }
    }

    #[test]
    fn timed_events_become_utc_instants_with_their_zone() {
        let tz = TimeZone::get("America/Denver").unwrap();
        let v = json!({"id": "a_20261101T150000Z", "status": "confirmed", "summary": "Standup",
            "description": "", "updated": "2026-03-02T09:10:01.000Z",
            "start": {"dateTime": "2026-11-01T08:00:00-07:00", "timeZone": "America/Denver"},
            "end": {"dateTime": "2026-11-01T08:30:00.5-07:00", "timeZone": "America/Denver"},
            "recurringEventId": "a", "originalStartTime": {"dateTime": "2026-11-01T09:00:00-06:00"},
            "organizer": {"email": "o@example.com"}, "attendees": [{}, {}, {}]});
        let r = row(change(&v, &frame(&tz)).unwrap());
        assert_eq!(r.start_at.as_deref(), Some("2026-11-01T15:00:00Z"));
        assert_eq!(r.end_at.as_deref(), Some("2026-11-01T15:30:00.500000Z"));
        assert_eq!(r.original_start.as_deref(), Some("2026-11-01T15:00:00Z"));
        assert_eq!((r.time_zone.as_deref(), r.series_id.as_deref()), (Some("America/Denver"), Some("a")));
        assert_eq!((r.description, r.attendees_count, r.all_day), (None, Some(3), false));
        assert_eq!(r.updated_at.as_deref(), Some("2026-03-02T09:10:01.000Z"));
    }

    #[test]
    fn all_day_events_stay_dates_with_an_exclusive_end() {
        let tz = TimeZone::get("America/Denver").unwrap();
        let v = json!({"id": "h", "status": "confirmed", "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-27"},
            "originalStartTime": {"date": "2026-12-24"}});
        let r = row(change(&v, &frame(&tz)).unwrap());
        assert!(r.all_day && r.start_at.is_none() && r.time_zone.is_none());
        assert_eq!((r.start_date.as_deref(), r.end_date.as_deref()), (Some("2026-12-24"), Some("2026-12-27")));
        assert_eq!(r.original_start.as_deref(), Some("2026-12-24"));
        assert_eq!(r.attendees_count, Some(0));
    }

    #[test]
    fn cancelled_and_out_of_window_events_are_deletions() {
        let tz = TimeZone::UTC;
        let f = frame(&tz);
        assert_eq!(change(&json!({"id": "x", "status": "cancelled"}), &f).unwrap(), Change::Delete("x".into()));
        let old = json!({"id": "o", "status": "confirmed", "start": {"dateTime": "2020-01-01T10:00:00Z"},
            "end": {"dateTime": "2020-01-01T11:00:00Z"}});
        assert_eq!(change(&old, &f).unwrap(), Change::Delete("o".into()));
        // Ends exactly at the window's start: outside. All-day on the last day: inside.
        let edge = json!({"id": "e", "start": {"dateTime": "2026-10-21T23:00:00Z"}, "end": {"dateTime": "2026-10-22T00:00:00Z"}});
        assert_eq!(change(&edge, &f).unwrap(), Change::Delete("e".into()));
        let last = json!({"id": "l", "start": {"date": "2027-11-20"}, "end": {"date": "2027-11-21"}});
        assert!(matches!(change(&last, &f).unwrap(), Change::Upsert(_)));
        assert!(change(&json!({"id": "m", "status": "confirmed"}), &f).is_err());
        assert!(change(&json!({"id": "n", "start": {"dateTime": "soon"}, "end": {"date": "2027-01-01"}}), &f).is_err());
    }

    #[test]
    fn all_day_window_edges_use_the_calendars_zone() {
        // 2026-10-21 in Tokyo ends at 2026-10-21T15:00Z: before the window's start.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let ev = json!({"id": "d", "start": {"date": "2026-10-21"}, "end": {"date": "2026-10-22"}});
        assert_eq!(change(&ev, &frame(&tokyo)).unwrap(), Change::Delete("d".into()));
        let denver = TimeZone::get("America/Denver").unwrap();
        assert!(matches!(change(&ev, &frame(&denver)).unwrap(), Change::Upsert(_)));
    }

    #[test]
    fn cursor_round_trips_and_drifts() {
        let opts = EventsOptions::defaults_at("2026-11-21T12:00:00Z");
        let now: Timestamp = "2026-11-21T06:49:30.25Z".parse().unwrap();
        let c = Cursor::fresh(now, &opts);
        assert_eq!((c.time_min.as_str(), c.time_max.as_str()), ("2026-10-22T06:49:30Z", "2027-11-21T06:49:30Z"));
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("sync_token") && !text.contains("page_token"), "{text}");
        assert_eq!(serde_json::from_str::<Cursor>(&text).unwrap(), c);
        assert!(!c.drifted(now + SignedDuration::from_hours(24 * 6), &opts));
        assert!(c.drifted(now + SignedDuration::from_hours(24 * 8), &opts));
        assert!(c.drifted(now, &EventsOptions { future_days: 30, ..opts }));
    }

    mod props {
        use super::*;
        use crate::providers::api::arb;
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "id",
            "status",
            "summary",
            "description",
            "location",
            "start",
            "end",
            "originalStartTime",
            "recurringEventId",
            "organizer",
            "attendees",
            "updated",
            "eventType",
        ];

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any item of an events page is planned or refused, never a panic.
            #[test]
            fn any_event_payload_is_planned_or_refused(items in prop::collection::vec(arb::object(FIELDS), 0..4)) {
                let zone = TimeZone::get("America/Denver").unwrap();
                let _ = plan(&items, &frame(&zone));
            }
        }
    }
}
