//! The Microsoft round of the events stream: Graph's `calendarView/delta`, one delta per
//! selected calendar.
//!
//! A calendar's first round lists its window (`past_days` back, `future_days` ahead, frozen
//! into the delta token, so fixed at that round) page by page; each page's rows commit with a
//! cursor naming the next page, so a killed run resumes there. The last page's
//! `@odata.deltaLink` becomes the cursor, and the next round GETs that link: only changes come
//! back, `@removed` marking deletions and events that left the window (ids never stored are
//! ignored). Duplicates across pages are expected; upserts make them harmless.
//!
//! A resync signal (410, `syncStateNotFound`, `resyncRequired`), `--full`, or a change of the
//! window settings runs a *replace* round instead: every page is read into memory and the
//! calendar's rows are wiped and written again in one transaction with the new delta link, so
//! the database never holds half a calendar. Until that commit the old cursor stays, so an
//! interrupted replace round costs nothing but time.
//!
//! Selected calendars sync concurrently through the shared driver, with at most four requests
//! in flight (Outlook's per-mailbox limit); see `events/drive.rs` and `events/write.rs`.

use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::drive::{self, Cx, Limits, Step};
use super::write::{Apply, Change, Sweep, Target};
use super::{EventsOptions, Finish, Saved, StreamCx, load_cursor, stream_of};
use crate::error::{Error, Result};
use crate::http::{Http, Pages};
use crate::oauth::session::Session;
use crate::providers::api::{ApiError, Raw};
use crate::providers::microsoft::graph::{self, Delta, Graph, Item, MAX_IN_FLIGHT, Page};
use crate::providers::microsoft::zones;
use crate::store::db::Db;
use crate::store::events::{CalendarRow, CalendarView, EventRow};
use crate::time::{rfc3339, timestamp};

const PROVIDER: &str = "microsoft";
/// Pages of calendars followed before giving up on a list that never ends.
const MAX_CALENDAR_PAGES: u32 = 1000;
/// Resync signals accepted for one calendar in one run before failing it.
const MAX_RESYNCS: u32 = 3;

/// The window a delta round covers, and the settings it came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Window {
    start: String,
    end: String,
    past_days: u32,
    future_days: u32,
}

impl Window {
    fn around(now: Timestamp, opts: &EventsOptions) -> Window {
        let (start, end) = super::window(now, opts);
        Window {
            start: timestamp(start),
            end: timestamp(end),
            past_days: opts.past_days,
            future_days: opts.future_days,
        }
    }
}

/// The saved state of one calendar (`sync_state` stream `events:<calendar id>`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    window: Option<Window>,
    /// A round in progress: the page to read next.
    next_link: Option<String>,
    /// The last completed round's `@odata.deltaLink`, where the next round starts.
    delta_link: Option<String>,
}

/// One calendar's sync, driven page by page by the shared driver.
struct CalRun<'c> {
    cid: i64,
    cal: &'c CalendarView,
    graph: &'c Graph<'c>,
    stream: String,
    /// The cursor as committed.
    cur: Cursor,
    /// The request to make next.
    url: String,
    /// A replace round wipes the calendar's rows and writes its pages at its end.
    apply: Apply,
    /// The window of the replace round in progress (committed with its last page).
    pending_window: Option<Window>,
    resyncs: u32,
    /// The `nextLink`s of this run, so a server going round in circles is stopped.
    pages: Pages,
}

impl<'c> CalRun<'c> {
    fn load(
        db: &Db,
        cid: i64,
        cal: &'c CalendarView,
        opts: &EventsOptions,
        graph: &'c Graph<'c>,
    ) -> Result<CalRun<'c>> {
        let stream = stream_of(&cal.id);
        let fresh = Window::around(opts.clock.now(), opts);
        let mut run = CalRun {
            cid,
            cal,
            graph,
            stream: stream.clone(),
            cur: Cursor::default(),
            url: String::new(),
            apply: Apply::Progressive,
            pending_window: None,
            resyncs: 0,
            pages: Pages::new(format!(
                "could not read the Outlook calendar '{}'",
                cal.name.as_deref().unwrap_or(&cal.id)
            )),
        };
        let c = match load_cursor::<Cursor>(db, cid, &stream)? {
            Saved::Never => {
                // Never synced: a paged initial round.
                run.url = graph.delta_url(&cal.id, &fresh.start, &fresh.end).map_err(|e| e.into_error("Graph"))?;
                run.cur.window = Some(fresh);
                return Ok(run);
            }
            // An unreadable cursor (an older integ) means starting over with a replace round.
            Saved::Unreadable => Cursor::default(),
            Saved::Found(c) => c,
        };
        let settings_changed =
            c.window.as_ref().is_none_or(|w| w.past_days != opts.past_days || w.future_days != opts.future_days);
        run.cur = c.clone();
        match (&c.next_link, &c.delta_link) {
            _ if opts.full || settings_changed => run.start_replace(Some(fresh))?,
            (Some(next), _) => run.url = next.clone(),
            (None, Some(delta)) => run.url = delta.clone(),
            (None, None) => run.start_replace(None)?,
        }
        Ok(run)
    }

    /// Read the whole window again (a new one when given) and replace the calendar's rows.
    fn start_replace(&mut self, window: Option<Window>) -> Result<()> {
        let window = match window.or_else(|| self.cur.window.clone()) {
            Some(w) => w,
            None => {
                let name = drive::Round::name(self).to_string();
                return Err(Error::failure(format!("the cursor of calendar '{name}' has no window")));
            }
        };
        self.url = self.graph.delta_url(&self.cal.id, &window.start, &window.end).map_err(|e| e.into_error("Graph"))?;
        // Only the commit at the end of the round replaces the stored window.
        self.apply = Apply::replace(Sweep::Wipe);
        self.pages.restart();
        self.pending_window = Some(window);
        Ok(())
    }

    fn on_page(&mut self, page: Page, cx: &mut Cx<'_>) -> Result<Step> {
        let changes = page_changes(&page).map_err(|e| {
            Error::failure(format!("{}: Graph sent an event integ cannot read: {e}", drive::Round::what(self)))
                .hint("nothing from this page was written; report this if it persists")
        })?;
        cx.counts.fetched += page.items.len() as u64;
        if let Some(next) = &page.next_link {
            self.pages.next(next)?;
        }
        let complete = page.next_link.is_none();
        let replacing = matches!(self.apply, Apply::Replace { .. });
        let next = if replacing {
            // Committed only with the round's last page.
            Cursor {
                window: self.pending_window.clone().or_else(|| self.cur.window.clone()),
                next_link: None,
                delta_link: page.delta_link,
            }
        } else {
            let mut next = self.cur.clone();
            next.next_link = page.next_link.clone();
            if complete {
                next.delta_link = page.delta_link;
            }
            next
        };
        let text = serde_json::to_string(&next)?;
        let stamp = cx.clock.stamp();
        let target =
            Target { cid: self.cid, provider: PROVIDER, calendar: &self.cal.id, stream: &self.stream, stamp: &stamp };
        self.apply.page(cx.db, target, changes, &text, complete, cx.counts)?;
        if !replacing || complete {
            self.cur = next;
        }
        if replacing && complete {
            self.pending_window = None;
        }
        match page.next_link {
            None => Ok(Step::Done),
            Some(link) => {
                self.url = link;
                Ok(Step::More)
            }
        }
    }
}

impl drive::Round for CalRun<'_> {
    type Ask = String;
    type Answer = Delta;

    fn name(&self) -> &str {
        self.cal.name.as_deref().unwrap_or(&self.cal.id)
    }

    fn what(&self) -> String {
        format!("could not read the Outlook calendar '{}'", self.name())
    }

    fn ask(&self) -> String {
        self.url.clone()
    }

    fn take(&mut self, answer: std::result::Result<Delta, ApiError>, cx: &mut Cx<'_>) -> Result<Step> {
        match answer.map_err(|e| e.into_error(&self.what()))? {
            Delta::Page(page) => self.on_page(page, cx),
            Delta::Gone => {
                cx.observer.note(&format!(
                    "calendar '{}' no longer exists in Outlook; skipped (`integ calendars list` refreshes the list)",
                    self.name()
                ));
                Ok(Step::Done)
            }
            Delta::Resync(why) => {
                self.resyncs += 1;
                if self.resyncs > MAX_RESYNCS {
                    return Err(Error::failure(format!(
                        "Graph keeps asking for a resync of calendar '{}' ({why})",
                        self.name()
                    ))
                    .hint("run `integ sync events` again later"));
                }
                cx.observer.note(&format!(
                    "calendar '{}': Graph asked for a resync ({why}); reading its window again",
                    self.name()
                ));
                // A replace round keeps its own window; otherwise the stored one.
                let window = self.pending_window.clone();
                self.start_replace(window)?;
                Ok(Step::More)
            }
        }
    }

    fn unfinished(&self) -> bool {
        self.apply.is_pending()
    }
}

/// The writes of a page, or why one of its events cannot be read (nothing is written then).
/// Graph also removes events it never showed (changed outside the window): harmless deletes.
fn page_changes(page: &Page) -> Result<Vec<Change>, String> {
    page.items
        .iter()
        .filter_map(|item| match item {
            Item::Removed(id) => Some(Ok(Change::Delete(id.clone()))),
            // calendarView lists occurrences, never masters; a master would double its series.
            Item::Event(e) if e.value.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("seriesMaster")) => None,
            Item::Event(e) => Some(event_row(&e.value, &e.json).map(|r| Change::Upsert(Box::new(r)))),
        })
        .collect()
}

/// A non-empty string.
fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty()).map(str::to_string)
}

/// The start the series gave an instance. For an all-day series Graph sends the midnight of
/// the original day in the event's zone as an instant; integ keeps the date.
fn original_start(value: &str, all_day: bool, zone_name: Option<&str>) -> Result<String, String> {
    let t: Timestamp = value.trim().parse().map_err(|_| format!("originalStart {value:?} is not an instant"))?;
    if !all_day {
        return Ok(rfc3339(t));
    }
    let local =
        zone_name.and_then(zones::zone).map(|z| t.to_zoned(z)).filter(|z| z.time() == jiff::civil::Time::midnight());
    Ok(match local {
        Some(z) => z.date().to_string(),
        None => t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
    })
}

/// Graph has no event status: `isCancelled` is cancelled, `showAs: tentative` tentative.
fn status(e: &graph::Event) -> &'static str {
    if e.is_cancelled == Some(true) {
        "cancelled"
    } else if e.show_as.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("tentative")) {
        "tentative"
    } else {
        "confirmed"
    }
}

fn event_row(e: &graph::Event, raw: &Value) -> Result<EventRow, String> {
    let all_day = e.is_all_day.unwrap_or(false);
    let start = e.start.as_ref().ok_or_else(|| format!("event {} has no start", e.id))?;
    let end = e.end.as_ref().ok_or_else(|| format!("event {} has no end", e.id))?;
    let series_id = text(e.series_master_id.as_deref());
    let mut row = EventRow {
        id: e.id.clone(),
        title: e.subject.clone(),
        description: e.description(),
        location: text(e.location.as_ref().and_then(|l| l.display_name.as_deref())),
        status: Some(status(e).to_string()),
        all_day,
        organizer: text(e.organizer_address()),
        attendees_count: e.attendees.as_ref().map(|a| a.len() as i64),
        updated_at: e.last_modified_date_time.clone(),
        raw_json: raw.to_string(),
        ..EventRow::default()
    };
    if all_day {
        // Midnight to midnight, end exclusive, whatever the zone: floating dates.
        let day = |d: &graph::DateTimeTz| {
            zones::date(&d.date_time).map(|d| d.to_string()).ok_or_else(|| format!("bad date {:?}", d.date_time))
        };
        row.start_date = Some(day(start)?);
        row.end_date = Some(day(end)?);
    } else {
        let at = |d: &graph::DateTimeTz| {
            zones::instant(&d.date_time, d.time_zone.as_deref())
                .map(rfc3339)
                .ok_or_else(|| format!("bad time {:?}", d.date_time))
        };
        row.start_at = Some(at(start)?);
        row.end_at = Some(at(end)?);
        row.time_zone = text(e.original_start_time_zone.as_deref()).or_else(|| text(start.time_zone.as_deref()));
    }
    if series_id.is_some() {
        row.original_start = e
            .original_start
            .as_deref()
            .map(|o| original_start(o, all_day, e.original_start_time_zone.as_deref()))
            .transpose()?;
    }
    row.series_id = series_id;
    Ok(row)
}

pub async fn list_calendars(session: &mut Session, db: &mut Db, http: &Http) -> Result<Vec<CalendarRow>> {
    let api_url = session.api_url()?;
    let graph = Graph::new(http, &api_url);
    let g = &graph;
    let mut url = graph.calendars_url();
    let mut found: Vec<Raw<graph::Calendar>> = Vec::new();
    let mut pages = Pages::with_max("could not list the Outlook calendars", MAX_CALENDAR_PAGES);
    loop {
        let page = session
            .call(db, "could not list the Outlook calendars", |t| {
                let url = url.clone();
                async move { g.calendars_page(&t, &url).await }
            })
            .await?;
        found.extend(page.calendars);
        match page.next_link {
            Some(next) => {
                pages.next(&next)?;
                url = next;
            }
            None => return Ok(calendar_rows(found)),
        }
    }
}

/// Rows for the calendars; without `isDefaultCalendar` (older mailboxes) the default one is
/// the calendar that cannot be removed.
fn calendar_rows(found: Vec<Raw<graph::Calendar>>) -> Vec<CalendarRow> {
    let flagged = found.iter().any(|c| c.value.is_default_calendar == Some(true));
    let mut fallback_used = false;
    found
        .into_iter()
        .map(|Raw { value: c, json: raw }| {
            let primary = if flagged {
                c.is_default_calendar == Some(true)
            } else {
                let p = !fallback_used && raw.get("isRemovable").and_then(Value::as_bool) == Some(false);
                fallback_used |= p;
                p
            };
            CalendarRow {
                id: c.id.clone(),
                name: c.name.clone(),
                time_zone: None,
                is_primary: primary,
                access_role: Some(c.access_role().to_string()),
                raw_json: raw.to_string(),
            }
        })
        .collect()
}

pub async fn sync_calendars(cx: &mut StreamCx<'_>, calendars: &[CalendarView], opts: &EventsOptions) -> Result<Finish> {
    let api_url = cx.session.api_url()?;
    let graph = Graph::new(cx.http, &api_url);
    let graph = &graph;
    let cid = cx.session.connection.id;
    let mut runs = calendars.iter().map(|c| CalRun::load(cx.db, cid, c, opts, graph)).collect::<Result<Vec<_>>>()?;
    let limits = Limits { in_flight: MAX_IN_FLIGHT, deadline: opts.deadline, clock: opts.clock };
    let fetch = |token: SecretString, url: String| async move { graph.delta_page(&token, &url).await };
    drive::drive(cx, &mut runs, limits, fetch).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> EventRow {
        let e = graph::Event::deserialize(&v).unwrap();
        event_row(&e, &v).unwrap()
    }

    #[test]
    fn timed_events_become_utc_instants_with_their_zone() {
        let r = row(json!({
            "id": "A1", "type": "singleInstance", "subject": "Quote walkthrough", "isAllDay": false,
            "isCancelled": false, "showAs": "busy", "lastModifiedDateTime": "2026-03-02T08:12:44.1230000Z",
            "originalStartTimeZone": "W. Europe Standard Time",
            "start": {"dateTime": "2026-03-25T16:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-25T17:00:00.0000000", "timeZone": "UTC"},
            "location": {"displayName": ""}, "bodyPreview": "", "attendees": [{}, {}],
            "organizer": {"emailAddress": {"name": "Lee", "address": "lee@example.com"}}
        }));
        assert_eq!(r.start_at.as_deref(), Some("2026-03-25T16:00:00Z"));
        assert_eq!(r.end_at.as_deref(), Some("2026-03-25T17:00:00Z"));
        assert_eq!((r.start_date.as_deref(), r.all_day), (None, false));
        assert_eq!(r.time_zone.as_deref(), Some("W. Europe Standard Time"));
        assert_eq!(r.status.as_deref(), Some("confirmed"));
        assert_eq!((r.location, r.description), (None, None));
        assert_eq!(r.attendees_count, Some(2));
        assert_eq!(r.organizer.as_deref(), Some("lee@example.com"));
        assert_eq!(r.updated_at.as_deref(), Some("2026-03-02T08:12:44.1230000Z"));
        assert_eq!((r.series_id, r.original_start), (None, None));
        // Times in another zone (Prefer: outlook.timezone) are read in it.
        let r = row(json!({
            "id": "A2", "isAllDay": false, "showAs": "tentative",
            "start": {"dateTime": "2026-03-09T09:00:00.0000000", "timeZone": "Mountain Standard Time"},
            "end": {"dateTime": "2026-03-09T09:30:00.5000000", "timeZone": "Mountain Standard Time"}
        }));
        assert_eq!(r.start_at.as_deref(), Some("2026-03-09T15:00:00Z"));
        assert_eq!(r.end_at.as_deref(), Some("2026-03-09T15:30:00.500000Z"));
        assert_eq!(r.time_zone.as_deref(), Some("Mountain Standard Time"));
        assert_eq!(r.status.as_deref(), Some("tentative"));
    }

    #[test]
    fn all_day_occurrences_keep_dates() {
        let r = row(json!({
            "id": "B1", "type": "occurrence", "isAllDay": true, "isCancelled": true,
            "seriesMasterId": "M1", "originalStart": "2026-11-04T07:00:00Z",
            "originalStartTimeZone": "Mountain Standard Time",
            "start": {"dateTime": "2026-11-04T00:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-06T00:00:00.0000000", "timeZone": "UTC"},
            "body": {"contentType": "html", "content": "<html><body>Put the <b>bins</b> out</body></html>"}
        }));
        assert!(r.all_day);
        assert_eq!((r.start_date.as_deref(), r.end_date.as_deref()), (Some("2026-11-04"), Some("2026-11-06")));
        assert_eq!((r.start_at, r.end_at, r.time_zone), (None, None, None));
        assert_eq!(r.series_id.as_deref(), Some("M1"));
        assert_eq!(r.original_start.as_deref(), Some("2026-11-04"));
        assert_eq!(r.status.as_deref(), Some("cancelled"));
        assert_eq!(r.description.as_deref(), Some("Put the bins out"));
        // Midnight UTC (no zone, or the zone's midnight elsewhere) reads as the UTC date.
        assert_eq!(original_start("2026-11-04T00:00:00Z", true, None).unwrap(), "2026-11-04");
        assert_eq!(original_start("2026-11-04T00:00:00Z", true, Some("America/Denver")).unwrap(), "2026-11-04");
        assert_eq!(original_start("2026-03-13T15:00:00Z", false, None).unwrap(), "2026-03-13T15:00:00Z");
        assert!(original_start("yesterday", false, None).is_err());
    }

    #[test]
    fn masters_and_unreadable_events() {
        let page = |v: Value| Page {
            items: vec![Item::Event(Box::new(Raw::parse(v, "an event").unwrap()))],
            next_link: None,
            delta_link: Some("x".into()),
        };
        let master = json!({"id": "M", "type": "seriesMaster", "start": {"dateTime": "x"}, "end": {"dateTime": "x"}});
        assert!(page_changes(&page(master)).unwrap().is_empty());
        let bad = json!({"id": "E", "isAllDay": false, "start": {"dateTime": "soon"}, "end": {"dateTime": "later"}});
        assert!(page_changes(&page(bad)).is_err());
        let no_end = json!({"id": "E", "start": {"dateTime": "2026-01-01T00:00:00"}});
        assert!(page_changes(&page(no_end)).is_err());
    }

    #[test]
    fn windows_follow_the_settings() {
        let opts = EventsOptions::defaults_at("2026-11-21T12:00:00Z");
        let now: Timestamp = "2026-11-21T06:49:30.25Z".parse().unwrap();
        let w = Window::around(now, &opts);
        assert_eq!((w.start.as_str(), w.end.as_str()), ("2026-10-22T06:49:30Z", "2027-11-21T06:49:30Z"));
        let c = Cursor { window: Some(w), next_link: None, delta_link: Some("https://g/delta?$deltatoken=x".into()) };
        let back: Cursor = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.window, c.window);
    }

    mod props {
        use super::*;
        use crate::providers::api::arb;
        use proptest::prelude::*;

        const FIELDS: &[&str] = &[
            "id",
            "@removed",
            "subject",
            "bodyPreview",
            "body",
            "start",
            "end",
            "isAllDay",
            "isCancelled",
            "showAs",
            "type",
            "seriesMasterId",
            "originalStart",
            "originalStartTimeZone",
            "organizer",
            "attendees",
            "lastModifiedDateTime",
            "location",
            "responseStatus",
        ];

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any delta page is read and turned into writes, or refused, never a panic.
            #[test]
            fn any_delta_page_is_read_or_refused(
                items in prop::collection::vec(arb::object(FIELDS), 0..4),
                next in proptest::option::of(arb::json()),
                delta in proptest::option::of(arb::json()),
            ) {
                let mut body = serde_json::Map::new();
                body.insert("value".into(), Value::from(items));
                if let Some(n) = next { body.insert("@odata.nextLink".into(), n); }
                if let Some(d) = delta { body.insert("@odata.deltaLink".into(), d); }
                if let Ok(page) = graph::parse_delta_page(&Value::Object(body)) {
                    let _ = page_changes(&page);
                }
            }
        }
    }
}
