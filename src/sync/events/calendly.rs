//! The Calendly round of the events stream.
//!
//! Calendly has no calendars and no change feed. Each account shows one pseudo-calendar (the
//! user URI, "Scheduled events"), and every run rescans a window of `start_time` around now
//! (`past_days` back, `future_days` ahead; it slides with time, since a rescan has no cursor to
//! keep), both statuses, oldest first, upserting events by their URI. Canceled events stay
//! listed (status `canceled`); events that vanished, moved out of the window or aged out of it
//! are marked deleted by the transaction that completes the scan: a scan that does not finish
//! marks nothing.
//!
//! "Not seen by this scan" is `last_seen_at` older than the scan's start stamp: every page's
//! upserts write a stamp no earlier than it (a logical clock kept in the cursor, so a clock
//! that steps back, or two runs in one second, cannot make a seen event look unseen). The scan's
//! window and the start time of the last event applied travel in the cursor with each page, so
//! a run killed or stopped by `--max-duration` resumes the same scan from that start time
//! (`min_start_time` is inclusive: the boundary events are read twice, harmlessly) instead of
//! starting over, and a long window still completes across runs. A scan left unfinished for a
//! day is dropped and started afresh.
//!
//! An incremental run with no changes makes one request per selected calendar when the window
//! holds at most 100 events (one page); a larger window costs one request per 100 events.

use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::drive::{self, Cx, Limits, Step};
use super::write::{self, Change, Sweep, Target};
use super::{EventsOptions, Finish, Observer, Saved, StreamCx, load_cursor, stream_of};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::providers::api::ApiError;
use crate::providers::calendly::events::{CalendlyApi, Event, Next, Page, Window};
use crate::store::db::Db;
use crate::store::events::{CalendarRow, CalendarView, EventRow};
use crate::time::{rfc3339, timestamp};

const WHAT: &str = "could not list Calendly scheduled events";

/// The name of the one pseudo-calendar.
pub const CALENDAR_NAME: &str = "Scheduled events";

/// A scan unfinished for this long is started again rather than resumed.
const STALE_ROUND: SignedDuration = SignedDuration::from_hours(24);

/// The saved state of one account's `events:<user uri>` stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    /// The last completed scan.
    last_scan: Option<Scan>,
    /// The latest `last_seen_at` this stream wrote; the next scan starts after it.
    stamp: Option<String>,
    /// A scan in progress.
    round: Option<Round>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scan {
    /// The window: `start_time` in `[from, to)`.
    from: String,
    to: String,
    started_at: String,
    finished_at: String,
    /// Events the scan returned.
    events: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Round {
    from: String,
    to: String,
    /// The scan's stamp: what it writes is stamped at or after this, so whatever is stamped
    /// before it when the scan completes was not returned.
    started_at: String,
    /// The start time of the last event applied: a resumed scan continues from here.
    resume_from: Option<String>,
    events: u64,
}

fn parse_ts(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// A UTC instant as the store keeps it: whole seconds, or six fractional digits (Calendly's
/// microseconds) when there is a fraction.
fn instant(s: &str) -> Option<String> {
    parse_ts(s).map(rfc3339)
}

/// The later of two stamps (both `YYYY-MM-DDTHH:MM:SSZ`).
fn later(a: String, b: Option<&str>) -> String {
    crate::time::latest(Some(a), b).unwrap_or_default()
}

/// The account's one pseudo-calendar, from `GET /users/me`.
pub async fn list_calendars(session: &mut Session, db: &mut Db, http: &Http) -> Result<Vec<CalendarRow>> {
    let base = session.api_url()?;
    let api = CalendlyApi::new(http, &base);
    let api = &api;
    let me = session.call(db, "could not read the Calendly user", |t| async move { api.me(&t).await }).await?;
    let uri = me.get("uri").and_then(|v| v.as_str()).unwrap_or(&session.connection.account_id).to_string();
    if uri != session.connection.account_id {
        tracing::warn!("Calendly's /users/me names a different user URI than the one connected");
    }
    Ok(vec![CalendarRow {
        id: uri,
        name: Some(CALENDAR_NAME.to_string()),
        time_zone: me.get("timezone").and_then(|v| v.as_str()).map(str::to_string),
        is_primary: true,
        access_role: Some("owner".to_string()),
        raw_json: me.to_string(),
    }])
}

/// Rescan the window of each selected calendar (there is one per account).
pub async fn sync_calendars(cx: &mut StreamCx<'_>, calendars: &[CalendarView], opts: &EventsOptions) -> Result<Finish> {
    let base = cx.session.api_url()?;
    let api = CalendlyApi::new(cx.http, &base);
    let api = &api;
    // The connected user's email, for events that name no host.
    let own_email = Some(cx.session.connection.account_name.clone()).filter(|n| n.contains('@'));
    let cid = cx.session.connection.id;
    let mut scans = Vec::with_capacity(calendars.len());
    for cal in calendars {
        scans.push(Rescan::begin(cx.db, cid, cal, opts, own_email.clone(), cx.observer)?);
    }
    // One calendar per account, read page after page: nothing to overlap.
    let limits = Limits { in_flight: 1, deadline: opts.deadline, clock: opts.clock };
    let fetch = |token: SecretString, (window, next): (Window, Option<Next>)| async move {
        api.events_page(&token, &window, next.as_ref()).await
    };
    drive::drive(cx, &mut scans, limits, fetch).await
}

/// A fresh scan: the window around now, stamped after everything written before.
fn new_round(cur: &Cursor, opts: &EventsOptions, now: Timestamp) -> Round {
    let (from, to) = super::window(now, opts);
    let after_last =
        cur.stamp.as_deref().and_then(parse_ts).and_then(|s| s.checked_add(SignedDuration::from_secs(1)).ok());
    let after_last = after_last.map(timestamp);
    Round {
        from: timestamp(from),
        to: timestamp(to),
        started_at: later(timestamp(now), after_last.as_deref()),
        resume_from: None,
        events: 0,
    }
}

/// One calendar's window rescan, as the driver runs it.
struct Rescan<'c> {
    cid: i64,
    cal: &'c CalendarView,
    stream: String,
    opts: &'c EventsOptions,
    own_email: Option<String>,
    /// The cursor as committed.
    cur: Cursor,
    /// The scan in progress.
    round: Round,
    /// One query for the whole scan; later pages follow Calendly's token for it.
    window: Window,
    next: Option<Next>,
    /// The scan resumed one left unfinished: once it ends, a fresh scan follows (see
    /// [`Rescan::page`]).
    resumed: bool,
    pages: Pages,
}

impl<'c> Rescan<'c> {
    fn begin(
        db: &Db,
        cid: i64,
        cal: &'c CalendarView,
        opts: &'c EventsOptions,
        own_email: Option<String>,
        observer: &dyn Observer,
    ) -> Result<Rescan<'c>> {
        let stream = stream_of(&cal.id);
        // An unreadable cursor (from an older integ) means a fresh scan, not failing forever.
        let mut cur = match load_cursor::<Cursor>(db, cid, &stream)? {
            Saved::Found(c) => c,
            Saved::Never | Saved::Unreadable => Cursor::default(),
        };
        let now = opts.clock.now();
        let resumable =
            |r: &Round| !opts.full && parse_ts(&r.started_at).is_some_and(|s| now.duration_since(s) < STALE_ROUND);
        let taken = cur.round.take();
        let resumed = taken.as_ref().is_some_and(resumable);
        let round = match taken {
            Some(r) if resumed => {
                observer.note("resuming the unfinished scan of the Calendly window");
                r
            }
            _ => new_round(&cur, opts, now),
        };
        let mut scan = Rescan {
            cid,
            cal,
            stream,
            opts,
            own_email,
            cur,
            window: Window { user: cal.id.clone(), min_start: String::new(), max_start: String::new() },
            round,
            next: None,
            resumed,
            pages: Pages::new(WHAT),
        };
        scan.start();
        Ok(scan)
    }

    /// Point the query at the round's window, from where it stopped.
    fn start(&mut self) {
        let r = &self.round;
        self.window.min_start = r.resume_from.clone().map_or_else(|| r.from.clone(), |x| later(x, Some(&r.from)));
        self.window.max_start = r.to.clone();
        self.next = None;
        self.pages.restart();
    }

    /// Apply a page with the cursor after it; the last page also marks deleted what the scan did
    /// not see. Returns whether the scan is over.
    fn page(&mut self, page: Page, cx: &mut Cx<'_>) -> Result<bool> {
        // Build every row before writing anything: a malformed page fails whole.
        let rows = page
            .events
            .iter()
            .map(|e| event_row(e, &self.cal.id, self.own_email.as_deref()))
            .collect::<Result<Vec<EventRow>>>()?;
        cx.counts.fetched += rows.len() as u64;
        let complete = page.next.is_none();
        let round = &mut self.round;
        let stamp = later(cx.clock.stamp(), Some(&round.started_at));
        if let Some(last) = rows.last() {
            round.resume_from = last.start_at.clone();
        }
        round.events += rows.len() as u64;
        let mut saved = self.cur.clone();
        saved.stamp = Some(later(stamp.clone(), self.cur.stamp.as_deref()));
        if complete {
            saved.round = None;
            saved.last_scan = Some(Scan {
                from: round.from.clone(),
                to: round.to.clone(),
                started_at: round.started_at.clone(),
                finished_at: stamp.clone(),
                events: round.events,
            });
        } else {
            saved.round = Some(round.clone());
        }
        let cursor = serde_json::to_string(&saved)?;
        let changes: Vec<Change> = rows.into_iter().map(|r| Change::Upsert(Box::new(r))).collect();
        let sweep = complete.then(|| Sweep::UnseenSince(round.started_at.clone()));
        let provider = Provider::Calendly.name();
        let target = Target { cid: self.cid, provider, calendar: &self.cal.id, stream: &self.stream, stamp: &stamp };
        let swept = write::commit(cx.db, target, &changes, sweep.as_ref(), &cursor, complete, cx.counts)?;
        self.cur = saved;
        if complete && swept > 0 {
            cx.observer
                .note(&format!("{swept} Calendly event(s) no longer returned in the sync window were marked deleted"));
        }
        if let Some(Next::Token(t) | Next::Url(t)) = &page.next {
            self.pages.next(t)?;
        }
        self.next = page.next;
        Ok(complete)
    }
}

impl drive::Round for Rescan<'_> {
    type Ask = (Window, Option<Next>);
    type Answer = Page;

    fn name(&self) -> &str {
        self.cal.name.as_deref().unwrap_or(CALENDAR_NAME)
    }

    fn what(&self) -> String {
        WHAT.to_string()
    }

    fn ask(&self) -> (Window, Option<Next>) {
        (self.window.clone(), self.next.clone())
    }

    fn take(&mut self, answer: std::result::Result<Page, ApiError>, cx: &mut Cx<'_>) -> Result<Step> {
        let page = answer.map_err(|e| e.into_error(WHAT))?;
        if !self.page(page, cx)? {
            return Ok(Step::More);
        }
        // A resumed scan did not revisit the part of the window it had passed before it was
        // interrupted, and changes made there meanwhile (a cancellation, an edit) would wait a
        // whole run. Scan once more, fresh, so a run that completes leaves exactly Calendly's
        // events.
        if std::mem::take(&mut self.resumed) {
            self.round = new_round(&self.cur, self.opts, cx.clock.now());
            self.start();
            return Ok(Step::More);
        }
        Ok(Step::Done)
    }
}

/// Where the event happens: the address or phone number, else the meeting link, else the
/// kind of location (`zoom`, `ask_invitee`, ...).
fn location(v: Option<&serde_json::Value>) -> Option<String> {
    let v = v?;
    ["location", "join_url", "type"]
        .iter()
        .find_map(|k| v.get(*k).and_then(|x| x.as_str()).map(str::trim).filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// One scheduled event as a row of `events`.
fn event_row(e: &Event, calendar: &str, own_email: Option<&str>) -> Result<EventRow> {
    let ev = &e.event;
    let when = |s: &str, field: &str| {
        instant(s).ok_or_else(|| {
            Error::failure(format!("Calendly sent {field} '{s}' for {}, which is not an instant", ev.uri))
                .hint("nothing from this page was written; run again later")
        })
    };
    let memberships = ev.event_memberships.as_deref().unwrap_or_default();
    let organizer = memberships
        .iter()
        .find(|m| m.user.as_deref() == Some(calendar) && m.user_email.is_some())
        .or_else(|| memberships.iter().find(|m| m.user_email.is_some()))
        .and_then(|m| m.user_email.clone())
        .or_else(|| own_email.map(str::to_string));
    Ok(EventRow {
        id: ev.uri.clone(),
        title: ev.name.clone(),
        description: ev.meeting_notes_plain.clone().filter(|n| !n.is_empty()),
        location: location(ev.location.as_ref()),
        status: ev.status.clone(),
        all_day: false,
        start_at: Some(when(&ev.start_time, "start_time")?),
        end_at: Some(when(&ev.end_time, "end_time")?),
        start_date: None,
        end_date: None,
        time_zone: Some("UTC".to_string()),
        series_id: None,
        original_start: None,
        organizer,
        attendees_count: ev.invitees_counter.as_ref().and_then(|c| c.total),
        updated_at: ev.updated_at.clone(),
        raw_json: e.raw.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::calendly::events::parse_page;
    use serde_json::json;

    #[test]
    fn instants_keep_microseconds_only_when_there_are_some() {
        assert_eq!(instant("2026-03-04T15:00:00.000000Z").as_deref(), Some("2026-03-04T15:00:00Z"));
        assert_eq!(instant("2026-03-04T15:00:00.123400Z").as_deref(), Some("2026-03-04T15:00:00.123400Z"));
        assert_eq!(instant("2026-03-04T16:00:00+01:00").as_deref(), Some("2026-03-04T15:00:00Z"));
        assert_eq!(instant("soon"), None);
    }

    #[test]
    fn rows_follow_calendly_fields() {
        let page = parse_page(&json!({ "collection": [
            { "uri": "E1", "name": "Estimate call", "status": "canceled", "start_time": "2026-03-04T15:00:00.000000Z",
              "end_time": "2026-03-04T15:30:00.000000Z", "meeting_notes_plain": "",
              "location": { "type": "google_conference", "join_url": "https://meet.example/x" },
              "invitees_counter": { "total": 2 }, "updated_at": "2026-02-20T10:00:00.000000Z",
              "event_memberships": [{ "user": "other", "user_email": "o@x.example" }, { "user": "U", "user_email": "me@x.example" }] },
            { "uri": "E2", "start_time": "2026-03-05T15:00:00Z", "end_time": "2026-03-05T15:30:00Z",
              "location": { "type": "physical", "location": "12 Elm St" } },
            { "uri": "E3", "start_time": "2026-03-06T15:00:00Z", "end_time": "2026-03-06T15:30:00Z",
              "location": { "type": "ask_invitee", "location": "" } } ],
            "pagination": {} }))
        .unwrap();
        let rows: Vec<EventRow> =
            page.events.iter().map(|e| event_row(e, "U", Some("own@x.example")).unwrap()).collect();
        assert_eq!(rows[0].organizer.as_deref(), Some("me@x.example"));
        assert_eq!(rows[0].location.as_deref(), Some("https://meet.example/x"));
        assert_eq!(rows[0].description, None);
        assert_eq!(rows[0].status.as_deref(), Some("canceled"));
        assert_eq!(rows[0].attendees_count, Some(2));
        assert_eq!(rows[0].updated_at.as_deref(), Some("2026-02-20T10:00:00.000000Z"));
        assert_eq!(rows[0].start_at.as_deref(), Some("2026-03-04T15:00:00Z"));
        assert_eq!(rows[1].organizer.as_deref(), Some("own@x.example"));
        assert_eq!(rows[1].location.as_deref(), Some("12 Elm St"));
        assert_eq!(rows[2].location.as_deref(), Some("ask_invitee"));
        assert_eq!(rows[1].time_zone.as_deref(), Some("UTC"));
    }

    #[test]
    fn a_new_round_starts_after_every_stamp_written() {
        let opts = EventsOptions::defaults_at("2026-11-21T12:00:00Z");
        let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        let r = new_round(&Cursor::default(), &opts, now);
        assert_eq!((r.from.as_str(), r.to.as_str()), ("2026-10-22T10:00:00Z", "2027-11-21T10:00:00Z"));
        assert_eq!(r.started_at, "2026-11-21T10:00:00Z");
        let cur = Cursor { stamp: Some("2026-11-21T10:00:05Z".into()), ..Default::default() };
        assert_eq!(new_round(&cur, &opts, now).started_at, "2026-11-21T10:00:06Z");
    }

    mod props {
        use super::*;
        use crate::providers::api::arb;
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "uri",
            "name",
            "status",
            "start_time",
            "end_time",
            "event_type",
            "location",
            "invitees_counter",
            "created_at",
            "updated_at",
            "event_memberships",
            "event_guests",
            "cancellation",
        ];

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any scheduled-events page is read and turned into rows, or refused, never a panic.
            #[test]
            fn any_scheduled_event_is_read_or_refused(
                items in prop::collection::vec(arb::object(FIELDS), 0..4),
                pagination in arb::json(),
                own in proptest::option::of(arb::text()),
            ) {
                let body = json!({ "collection": items, "pagination": pagination });
                if let Ok(page) = parse_page(&body) {
                    for e in &page.events {
                        let _ = event_row(e, "https://api.calendly.com/users/X", own.as_deref());
                    }
                }
            }
        }
    }
}
