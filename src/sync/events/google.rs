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
//! Calendars are read concurrently by the shared driver (up to [`IN_FLIGHT`] requests) and each
//! page is applied as it arrives (see `events/drive.rs` and `events/write.rs`).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::drive::{self, Cx, Limits, Step};
use super::write::{Apply, Change, Sweep, Target};
use super::{EventsOptions, Finish, Saved, StreamCx, load_cursor, stream_of};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use crate::oauth::session::Session;
use crate::providers::api::{ApiError, Raw};
use crate::providers::google::calendar::{
    CalendarApi, EVENTS_PAGE, Event, EventTime, EventsOutcome, EventsPage, EventsQuery,
};
use crate::store::db::Db;
use crate::store::events::{CalendarRow, CalendarView, EventRow};
use crate::time::{rfc3339, timestamp};

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
        let (min, max) = super::window(now, opts);
        Cursor {
            time_min: timestamp(min),
            time_max: timestamp(max),
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
        let (min, max) = super::window(now, opts);
        let far =
            |a: Timestamp, b: Timestamp| a.duration_since(b).abs() > SignedDuration::from_hours(24 * REANCHOR_DAYS);
        far(w.min, min) || far(w.max, max)
    }
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

/// The calendar an item is read for: its window and zone.
struct Frame<'a> {
    window: Window,
    zone: &'a TimeZone,
    zone_name: Option<&'a str>,
}

/// Turn a page's items into changes (pure: the plan before the apply).
fn plan(items: Vec<Raw<Event>>, f: &Frame) -> std::result::Result<Vec<Change>, ApiError> {
    items.into_iter().map(|item| change(item, f)).collect()
}

fn change(item: Raw<Event>, f: &Frame) -> std::result::Result<Change, ApiError> {
    let Raw { value: e, json } = item;
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
        raw_json: json.to_string(),
        id: e.id,
    })))
}

fn at_day(w: When) -> (Option<String>, Option<String>) {
    match w {
        When::At(t) => (Some(rfc3339(t)), None),
        When::Day(d) => (None, Some(d.to_string())),
    }
}

/// One calendar's round.
struct Round<'v> {
    cid: i64,
    cal: &'v CalendarView,
    stream: String,
    cursor: Cursor,
    apply: Apply,
    zone: TimeZone,
    zone_name: Option<String>,
    opts: &'v EventsOptions,
    /// A 410 already restarted this round.
    resynced: bool,
    /// The page token came from the database (it may have expired).
    stored_page: bool,
    /// The round began in an earlier run: once it ends, an incremental round follows at once,
    /// since changes made in between to pages already read are only in the next round.
    catch_up: bool,
    /// The calendar answered 404: it is gone or no longer shared.
    gone: bool,
    /// The page tokens of this run, so a server going round in circles is stopped.
    pages: Pages,
}

impl<'v> Round<'v> {
    /// Decide the round from the stored cursor and the options.
    fn begin(
        db: &Db,
        cid: i64,
        cal: &'v CalendarView,
        opts: &'v EventsOptions,
        now: Timestamp,
    ) -> Result<(Round<'v>, Option<String>)> {
        let stream = stream_of(&cal.id);
        let name = cal.name.as_deref().unwrap_or(&cal.id);
        let fresh = || Cursor::fresh(now, opts);
        let (cursor, apply, note) = match load_cursor::<Cursor>(db, cid, &stream)? {
            _ if opts.full => (fresh(), Apply::replace(Sweep::Missing), Some(format!("'{name}': full round"))),
            Saved::Never | Saved::Unreadable => (fresh(), Apply::Progressive, None),
            Saved::Found(c) if c.window().is_none() => (fresh(), Apply::Progressive, None),
            Saved::Found(c) if c.sync_token.is_some() && c.drifted(now, opts) => (
                fresh(),
                Apply::replace(Sweep::Missing),
                Some(format!("'{name}': the sync window moved; reading the calendar again")),
            ),
            Saved::Found(c) => (c, Apply::Progressive, None),
        };
        let zone_name = cal.time_zone.clone();
        let zone = zone_name.as_deref().and_then(|z| TimeZone::get(z).ok()).unwrap_or(TimeZone::UTC);
        let stored_page = apply == Apply::Progressive && cursor.page_token.is_some();
        Ok((
            Round {
                cid,
                cal,
                stream,
                cursor,
                apply,
                zone,
                zone_name,
                opts,
                resynced: false,
                stored_page,
                catch_up: stored_page,
                gone: false,
                pages: Pages::new(format!("{WHAT}: calendar '{name}'")),
            },
            note,
        ))
    }

    /// A 410: forget the rows and read everything again, applied in one transaction.
    fn resync(&mut self, now: Timestamp) {
        self.cursor = Cursor::fresh(now, self.opts);
        self.apply = Apply::replace(Sweep::Wipe);
        self.resynced = true;
        self.stored_page = false;
        self.catch_up = false;
        self.pages.restart();
    }

    /// Take a page: plan it and apply it (or buffer it). Returns whether the round is over.
    fn page(&mut self, page: EventsPage, cx: &mut Cx<'_>) -> Result<bool> {
        self.stored_page = false;
        if let Some(z) = page.time_zone.as_deref().filter(|z| Some(*z) != self.zone_name.as_deref())
            && let Ok(tz) = TimeZone::get(z)
        {
            self.zone = tz;
            self.zone_name = Some(z.to_string());
        }
        let window = self.cursor.window().ok_or_else(|| Error::failure("the stored sync window is damaged"))?;
        let frame = Frame { window, zone: &self.zone, zone_name: self.zone_name.as_deref() };
        cx.counts.fetched += page.items.len() as u64;
        let changes = plan(page.items, &frame).map_err(|e| e.into_error(WHAT))?;
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
        let stamp = cx.clock.stamp();
        let (cal, stream) = (&self.cal, &self.stream);
        let target = Target { cid: self.cid, provider: &cal.provider, calendar: &cal.id, stream, stamp: &stamp };
        self.apply.page(cx.db, target, changes, &text, complete, cx.counts)?;
        self.cursor = next;
        Ok(complete)
    }
}

impl drive::Round for Round<'_> {
    type Ask = (String, EventsQuery);
    type Answer = EventsOutcome;

    fn name(&self) -> &str {
        self.cal.name.as_deref().unwrap_or(&self.cal.id)
    }

    fn what(&self) -> String {
        WHAT.to_string()
    }

    fn ask(&self) -> (String, EventsQuery) {
        (self.cal.id.clone(), self.cursor.query())
    }

    fn take(&mut self, answer: std::result::Result<EventsOutcome, ApiError>, cx: &mut Cx<'_>) -> Result<Step> {
        match answer {
            Ok(EventsOutcome::Page(page)) => {
                let complete = self.page(page, cx)?;
                Ok(if !complete || std::mem::take(&mut self.catch_up) { Step::More } else { Step::Done })
            }
            Ok(EventsOutcome::FullSyncRequired) if self.resynced => Err(Error::failure(format!(
                "{WHAT}: Google keeps answering 410 (full sync required) for calendar '{}'",
                self.name()
            ))
            .hint("run `integ sync events` again later")),
            Ok(EventsOutcome::FullSyncRequired) => {
                cx.observer
                    .note(&format!("'{}': the sync token expired (HTTP 410); reading the calendar again", self.name()));
                self.resync(cx.clock.now());
                Ok(Step::More)
            }
            Ok(EventsOutcome::NotFound) => {
                cx.observer.note(&format!(
                    "'{}' is gone or no longer shared with this account (HTTP 404); skipped",
                    self.name()
                ));
                self.gone = true;
                Ok(Step::Done)
            }
            // A page token kept from an interrupted run may have expired: restart that round
            // (upserts make the replay harmless).
            Err(ApiError::Status { status: 400, .. }) if self.stored_page => {
                cx.observer.note(&format!("'{}': the saved page token was refused; restarting the round", self.name()));
                self.cursor.page_token = None;
                (self.stored_page, self.catch_up) = (false, false);
                Ok(Step::More)
            }
            Err(e) => Err(e.into_error(WHAT).context(format!("calendar '{}'", self.name()))),
        }
    }

    fn unfinished(&self) -> bool {
        self.apply.is_pending()
    }
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
        rows.extend(page.items.into_iter().map(|c| CalendarRow {
            name: c.value.summary_override.filter(|s| !s.is_empty()).or(c.value.summary),
            time_zone: c.value.time_zone,
            is_primary: c.value.primary,
            access_role: c.value.access_role,
            raw_json: c.json.to_string(),
            id: c.value.id,
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

/// Sync the selected calendars of one account (see the module docs); the flag says whether
/// one of them is gone (HTTP 404), so the caller learns the calendar list again.
pub async fn sync_calendars(
    cx: &mut StreamCx<'_>,
    calendars: &[CalendarView],
    opts: &EventsOptions,
) -> Result<(Finish, bool)> {
    let api_url = cx.session.api_url()?;
    let api = CalendarApi::new(cx.http, &api_url);
    let api = &api;
    let cid = cx.session.connection.id;
    let now = opts.clock.now();
    let mut rounds = Vec::with_capacity(calendars.len());
    for cal in calendars {
        let (round, note) = Round::begin(cx.db, cid, cal, opts, now)?;
        if let Some(n) = note {
            cx.observer.note(&n);
        }
        rounds.push(round);
    }
    let limits = Limits { in_flight: IN_FLIGHT, deadline: opts.deadline, clock: opts.clock };
    let fetch = |token: SecretString, (id, q): (String, EventsQuery)| async move { api.events(&token, &id, &q).await };
    let finish = drive::drive(cx, &mut rounds, limits, fetch).await?;
    // A calendar that is gone (404) makes the caller learn the current list.
    Ok((finish, rounds.iter().any(|r| r.gone)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

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

    fn raw(v: Value) -> Raw<Event> {
        Raw::parse(v, "an event").unwrap()
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
        let r = row(change(raw(v), &frame(&tz)).unwrap());
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
        let r = row(change(raw(v), &frame(&tz)).unwrap());
        assert!(r.all_day && r.start_at.is_none() && r.time_zone.is_none());
        assert_eq!((r.start_date.as_deref(), r.end_date.as_deref()), (Some("2026-12-24"), Some("2026-12-27")));
        assert_eq!(r.original_start.as_deref(), Some("2026-12-24"));
        assert_eq!(r.attendees_count, Some(0));
    }

    #[test]
    fn cancelled_and_out_of_window_events_are_deletions() {
        let tz = TimeZone::UTC;
        let f = frame(&tz);
        assert_eq!(change(raw(json!({"id": "x", "status": "cancelled"})), &f).unwrap(), Change::Delete("x".into()));
        let old = json!({"id": "o", "status": "confirmed", "start": {"dateTime": "2020-01-01T10:00:00Z"},
            "end": {"dateTime": "2020-01-01T11:00:00Z"}});
        assert_eq!(change(raw(old), &f).unwrap(), Change::Delete("o".into()));
        // Ends exactly at the window's start: outside. All-day on the last day: inside.
        let edge = json!({"id": "e", "start": {"dateTime": "2026-10-21T23:00:00Z"}, "end": {"dateTime": "2026-10-22T00:00:00Z"}});
        assert_eq!(change(raw(edge), &f).unwrap(), Change::Delete("e".into()));
        let last = json!({"id": "l", "start": {"date": "2027-11-20"}, "end": {"date": "2027-11-21"}});
        assert!(matches!(change(raw(last), &f).unwrap(), Change::Upsert(_)));
        assert!(change(raw(json!({"id": "m", "status": "confirmed"})), &f).is_err());
        assert!(
            change(raw(json!({"id": "n", "start": {"dateTime": "soon"}, "end": {"date": "2027-01-01"}})), &f).is_err()
        );
    }

    #[test]
    fn all_day_window_edges_use_the_calendars_zone() {
        // 2026-10-21 in Tokyo ends at 2026-10-21T15:00Z: before the window's start.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let ev = json!({"id": "d", "start": {"date": "2026-10-21"}, "end": {"date": "2026-10-22"}});
        assert_eq!(change(raw(ev.clone()), &frame(&tokyo)).unwrap(), Change::Delete("d".into()));
        let denver = TimeZone::get("America/Denver").unwrap();
        assert!(matches!(change(raw(ev), &frame(&denver)).unwrap(), Change::Upsert(_)));
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
                let items: Vec<Raw<Event>> =
                    items.into_iter().filter_map(|v| Raw::parse(v, "an event").ok()).collect();
                let _ = plan(items, &frame(&zone));
            }
        }
    }
}
