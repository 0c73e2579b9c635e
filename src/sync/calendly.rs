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

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Counts, Finish, Observer, out_of_time};
use super::{EventsOptions, stream_of};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::providers::calendly::events::{CalendlyApi, Event, Next, Window};
use crate::store::db::{Db, DbError};
use crate::store::events::{self, CalendarRow, CalendarView, EventRow, Written};
use crate::store::runs;
use crate::time::{rfc3339, timestamp};

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

fn load(db: &Db, cid: i64, stream: &str) -> Result<Cursor> {
    match runs::cursor(db, cid, stream)? {
        None => Ok(Cursor::default()),
        // An unreadable cursor (from an older integ) means a fresh scan, not failing forever.
        Some(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
    }
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
pub async fn sync_calendars(
    session: &mut Session,
    db: &mut Db,
    http: &Http,
    calendars: &[CalendarView],
    opts: &EventsOptions,
    observer: &dyn Observer,
    counts: &mut Counts,
) -> Result<Finish> {
    let base = session.api_url()?;
    let api = CalendlyApi::new(http, &base);
    for cal in calendars {
        let (finish, resumed) = sync_one(session, db, &api, cal, opts, observer, counts).await?;
        if finish == Finish::Paused {
            return Ok(Finish::Paused);
        }
        // A resumed scan did not revisit the part of the window it had passed before it was
        // interrupted, and changes made there meanwhile (a cancellation, an edit) would wait a
        // whole run. Scan once more, fresh, so a run that completes leaves exactly Calendly's
        // events.
        if resumed {
            if super::out_of_time(opts.deadline) {
                return Ok(Finish::Paused);
            }
            let (finish, _) = sync_one(session, db, &api, cal, opts, observer, counts).await?;
            if finish == Finish::Paused {
                return Ok(Finish::Paused);
            }
        }
    }
    Ok(Finish::Complete)
}

/// A fresh scan: the window around now, stamped after everything written before.
fn new_round(cur: &Cursor, opts: &EventsOptions, now: Timestamp) -> Round {
    let days = |n: u32| SignedDuration::from_secs(i64::from(n) * 86_400);
    let from = now.checked_sub(days(opts.past_days)).unwrap_or(Timestamp::MIN);
    let to = now.checked_add(days(opts.future_days)).unwrap_or(Timestamp::MAX);
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

async fn sync_one(
    session: &mut Session,
    db: &mut Db,
    api: &CalendlyApi<'_>,
    cal: &CalendarView,
    opts: &EventsOptions,
    observer: &dyn Observer,
    counts: &mut Counts,
) -> Result<(Finish, bool)> {
    let cid = session.connection.id;
    let stream = stream_of(&cal.id);
    let mut cur = load(db, cid, &stream)?;
    let now = opts.clock.now();
    let resumable =
        |r: &Round| !opts.full && parse_ts(&r.started_at).is_some_and(|s| now.duration_since(s) < STALE_ROUND);
    let taken = cur.round.take();
    let resumed = taken.as_ref().is_some_and(resumable);
    let mut round = match taken {
        Some(r) if resumed => {
            observer.note("resuming the unfinished scan of the Calendly window");
            r
        }
        _ => new_round(&cur, opts, now),
    };
    // The connected user's email, for events that name no host.
    let own_email = Some(session.connection.account_name.clone()).filter(|n| n.contains('@'));
    // One query for the whole run; later pages follow Calendly's token for it.
    let window = Window {
        user: cal.id.clone(),
        min_start: round.resume_from.clone().map_or_else(|| round.from.clone(), |r| later(r, Some(&round.from))),
        max_start: round.to.clone(),
    };
    let (window, api) = (&window, api);
    let mut next: Option<Next> = None;
    let mut pages = Pages::new("could not list Calendly scheduled events");
    loop {
        let at = next.clone();
        let page = session
            .call(db, "could not list Calendly scheduled events", |t| {
                let at = at.clone();
                async move { api.events_page(&t, window, at.as_ref()).await }
            })
            .await?;
        // Build every row before writing anything: a malformed page fails whole.
        let rows = page
            .events
            .iter()
            .map(|e| event_row(e, &cal.id, own_email.as_deref()))
            .collect::<Result<Vec<EventRow>>>()?;
        let complete = page.next.is_none();
        let stamp = later(opts.clock.stamp(), Some(&round.started_at));
        if let Some(last) = rows.last() {
            round.resume_from = last.start_at.clone();
        }
        round.events += rows.len() as u64;
        let mut saved = cur.clone();
        saved.stamp = Some(later(stamp.clone(), cur.stamp.as_deref()));
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
        let provider = Provider::Calendly.name();
        let (written, deleted) = db.write(|tx| -> Result<(Vec<Written>, u64), DbError> {
            let w = rows
                .iter()
                .map(|r| events::upsert_event(tx, cid, provider, &cal.id, r, &stamp))
                .collect::<Result<Vec<_>, _>>()?;
            let deleted =
                if complete { events::mark_unseen_deleted(tx, cid, &cal.id, &round.started_at, &stamp)? } else { 0 };
            runs::save_cursor(tx, cid, &stream, Some(&cursor), &stamp, complete)?;
            Ok((w, deleted))
        })?;
        counts.page(&written);
        counts.deleted += deleted;
        cur = saved;
        observer.page(counts.fetched, Duration::from_secs_f64(api.http().stats().waited_secs));
        if complete {
            if deleted > 0 {
                observer.note(&format!(
                    "{deleted} Calendly event(s) no longer returned in the sync window were marked deleted"
                ));
            }
            return Ok((Finish::Complete, resumed));
        }
        match &page.next {
            Some(Next::Token(t) | Next::Url(t)) => pages.next(t)?,
            None => {}
        }
        next = page.next;
        if out_of_time(opts.deadline) {
            return Ok((Finish::Paused, resumed));
        }
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
