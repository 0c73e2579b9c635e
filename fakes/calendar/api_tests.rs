//! In-process tests of the calendar APIs and their control endpoints, through the same
//! `State::handle` the server uses.

use std::collections::{BTreeSet, HashMap};

use clap::Parser as _;
use serde_json::{Value, json};

use crate::http::{Req, Resp};
use crate::state::State;
use crate::{Cli, Command, build_state};

fn state(extra: &[&str]) -> State {
    // The fixtures' reference instant: these tests don't depend on the day they run.
    let mut args = vec!["integ-fakes", "serve", "--now", "2026-11-21T12:00:00Z"];
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(args).unwrap();
    let Command::Serve(a) = cli.command else { panic!("serve") };
    build_state(&a, "http://127.0.0.1:5".into()).unwrap()
}

fn call(st: &mut State, method: &str, path_query: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    h.push(("Content-Type".into(), "application/json".into()));
    st.handle(&Req {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: h,
        body: body.as_bytes().to_vec(),
    })
}

fn ctl(st: &mut State, method: &str, path: &str, body: &str) -> Value {
    let r = call(st, method, path, &[], body);
    assert!(r.status < 300, "{path}: {} {}", r.status, String::from_utf8_lossy(&r.body));
    r.json_value()
}

fn token(st: &mut State, p: &str, scope: Option<&str>) -> String {
    let body = match scope {
        Some(s) => json!({ "scope": s }).to_string(),
        None => "{}".into(),
    };
    ctl(st, "POST", &format!("/_fake/{p}/token"), &body)["access_token"].as_str().unwrap().to_string()
}

fn enc(s: &str) -> String {
    super::pct_encode(s)
}

fn ids(v: &[Value], k: &str) -> BTreeSet<String> {
    v.iter().map(|e| e[k].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------- Google

const WIN: &str = "timeMin=2026-10-22T00:00:00Z&timeMax=2027-11-21T00:00:00-07:00";
const PRIMARY: &str = "pat.fake@gmail.example";

fn gget(st: &mut State, at: &str, path_query: &str) -> Resp {
    let auth = format!("Bearer {at}");
    call(st, "GET", &format!("/google/api/calendar/v3/{path_query}"), &[("Authorization", &auth)], "")
}

/// Page through a Google round; returns (items, nextSyncToken, pages, empty pages).
fn google_round(st: &mut State, at: &str, base: &str) -> (Vec<Value>, String, usize, usize) {
    let mut items = Vec::new();
    let (mut pages, mut empty) = (0, 0);
    let mut page: Option<String> = None;
    loop {
        let url = match &page {
            Some(p) => format!("{base}&pageToken={p}"),
            None => base.to_string(),
        };
        let r = gget(st, at, &url);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json_value();
        pages += 1;
        let got = v["items"].as_array().unwrap().clone();
        match (v.get("nextPageToken"), v.get("nextSyncToken")) {
            (Some(p), None) => {
                if got.is_empty() {
                    empty += 1;
                }
                page = Some(p.as_str().unwrap().to_string());
            }
            (None, Some(s)) => {
                items.extend(got);
                return (items, s.as_str().unwrap().to_string(), pages, empty);
            }
            other => panic!("page needs exactly one of the tokens: {other:?}"),
        }
        items.extend(got);
    }
}

fn find<'a>(items: &'a [Value], title: &str) -> Vec<&'a Value> {
    items.iter().filter(|e| e["summary"].as_str().is_some_and(|s| s.starts_with(title))).collect()
}

#[test]
fn google_calendar_list_aliases_and_errors() {
    let mut st = state(&["--google-seed-events", "20"]);
    let at = token(&mut st, "google", None);
    let v = gget(&mut st, &at, "users/me/calendarList").json_value();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], PRIMARY);
    assert_eq!(items[0]["primary"], true);
    assert!(items[0].get("hidden").is_none(), "false flags are left out");
    assert!(v.get("nextSyncToken").is_some());
    let holidays = "en.usa#holiday@group.v.calendar.google.com";
    assert_eq!(items[2]["id"], holidays);
    assert_eq!(items[2]["accessRole"], "reader");
    let p = gget(&mut st, &at, "users/me/calendarList?maxResults=2").json_value();
    assert_eq!(p["items"].as_array().unwrap().len(), 2);
    assert!(p.get("nextSyncToken").is_none());
    // Hidden calendars need showHidden.
    ctl(&mut st, "POST", "/_fake/google/calendars", r#"{"name":"Old","hidden":true}"#);
    assert_eq!(gget(&mut st, &at, "users/me/calendarList").json_value()["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        gget(&mut st, &at, "users/me/calendarList?showHidden=true").json_value()["items"].as_array().unwrap().len(),
        4
    );

    let r = gget(&mut st, &at, &format!("calendars/{}/events?maxResults=2500", enc(holidays)));
    assert_eq!(r.status, 200);
    assert_eq!(gget(&mut st, &at, "calendars/primary/events").status, 200);
    let r = gget(&mut st, &at, "calendars/nobody%40example.com/events");
    assert_eq!(r.status, 404);
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "notFound");
    let r = gget(&mut st, &at, "calendars/primary/events?orderBy=startTime");
    assert_eq!(r.status, 400);
    let r = gget(&mut st, &at, "calendars/primary/events?timeMin=2026-01-01T00:00:00");
    assert_eq!(r.status, 400, "timeMin needs an offset");
    let r = gget(&mut st, &at, "calendars/primary/events?timeMin=2026-02-01T00:00:00Z&timeMax=2026-01-01T00:00:00Z");
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "timeRangeEmpty");

    // Throttling on demand: 429 then 403 without Retry-After, then a backend error.
    ctl(&mut st, "POST", "/_fake/google/throttle", r#"{"next":1,"kind":"429"}"#);
    let r = gget(&mut st, &at, "calendars/primary/events");
    assert_eq!(r.status, 429);
    assert!(r.header("Retry-After").is_none());
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "rateLimitExceeded");
    ctl(&mut st, "POST", "/_fake/google/throttle", r#"{"next":1,"kind":"403"}"#);
    assert_eq!(gget(&mut st, &at, "calendars/primary/events").status, 403);
    ctl(&mut st, "POST", "/_fake/google/throttle", r#"{"next":1,"kind":"500"}"#);
    let r = gget(&mut st, &at, "calendars/primary/events");
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "backendError");
    assert_eq!(gget(&mut st, &at, "calendars/primary/events").status, 200);

    // Scope and token checks.
    let narrow = token(&mut st, "google", Some("openid email"));
    assert_eq!(gget(&mut st, &narrow, "calendars/primary/events").status, 403);
    let pair = token(
        &mut st,
        "google",
        Some(
            "https://www.googleapis.com/auth/calendar.calendarlist.readonly https://www.googleapis.com/auth/calendar.events.readonly",
        ),
    );
    assert_eq!(gget(&mut st, &pair, "calendars/primary/events").status, 200);
    assert_eq!(gget(&mut st, &pair, "users/me/calendarList").status, 200);
    ctl(&mut st, "POST", "/_fake/expire-access-tokens", r#"{"provider":"google"}"#);
    let r = gget(&mut st, &at, "calendars/primary/events");
    assert_eq!(r.status, 401);
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "authError");
}

#[test]
fn google_full_round_with_empty_pages_then_incremental_changes() {
    let mut st = state(&["--google-seed-events", "60"]);
    let at = token(&mut st, "google", None);
    let base = format!("calendars/primary/events?singleEvents=true&maxResults=4&{WIN}");
    let (items, sync, pages, empty) = google_round(&mut st, &at, &base);
    assert!(pages > 3 && empty >= 1, "pages {pages}, empty {empty}");
    let truth = ctl(
        &mut st,
        "GET",
        &format!("/_fake/google/truth?calendar={PRIMARY}&time_min=2026-10-22T00:00:00Z&time_max=2027-11-21T07:00:00Z"),
        "",
    );
    let truth_rows = truth["events"].as_array().unwrap().clone();
    assert_eq!(ids(&items, "id"), ids(&truth_rows, "id"));
    assert_eq!(items.len(), truth_rows.len(), "no duplicates at Google");

    // The Denver series keeps 07:30 local; the offset changes on 2026-11-01.
    let weekly = find(&items, "Weekly sync (Denver fall DST)");
    assert!(weekly.len() >= 5);
    for e in &weekly {
        let dt = e["start"]["dateTime"].as_str().unwrap();
        let id = e["id"].as_str().unwrap();
        let master = e["recurringEventId"].as_str().unwrap();
        assert!(id.starts_with(&format!("{master}_")) && id.ends_with('Z'), "{id}");
        assert_eq!(e["start"]["timeZone"], "America/Denver");
        let moved = e["originalStartTime"]["dateTime"] != e["start"]["dateTime"];
        if !moved {
            assert!(dt.contains("T07:30:00"), "{dt}");
            let after_switch = &dt[..10] >= "2026-11-01";
            assert!(dt.ends_with(if after_switch { "-07:00" } else { "-06:00" }), "{dt}");
        }
    }
    let oct27 = weekly.iter().find(|e| e["start"]["dateTime"] == "2026-10-27T07:30:00-06:00").unwrap();
    assert!(oct27["id"].as_str().unwrap().ends_with("_20261027T133000Z"));
    let nov3 = weekly.iter().find(|e| e["start"]["dateTime"] == "2026-11-03T07:30:00-07:00").unwrap();
    assert!(nov3["id"].as_str().unwrap().ends_with("_20261103T143000Z"));
    // The moved instance keeps its id and original start.
    let moved = weekly.iter().find(|e| e["originalStartTime"]["dateTime"] != e["start"]["dateTime"]).unwrap();
    assert_eq!(moved["originalStartTime"]["dateTime"], "2026-11-10T07:30:00-07:00");
    assert_eq!(moved["start"]["dateTime"], "2026-11-10T06:30:00-07:00");
    // All-day: dates with an exclusive end; the all-day series uses date ids.
    let closed = find(&items, "Closed (Thanksgiving)")[0];
    assert_eq!(closed["start"], json!({ "date": "2026-11-26" }));
    assert_eq!(closed["end"], json!({ "date": "2026-11-27" }));
    let show = find(&items, "Trade show")[0];
    assert_eq!(show["end"]["date"], "2026-12-11");
    let bins = find(&items, "Bin day");
    assert_eq!(bins.len(), 9, "one of ten cancelled");
    assert!(bins[0]["id"].as_str().unwrap().ends_with("_20261104"));
    assert!(find(&items, "Archive review").is_empty(), "2020 is outside the window");

    // Changes: inside, outside, deleted, one cancelled instance, a new far-future event.
    let site = find(&items, "Site visit")[0]["id"].as_str().unwrap().to_string();
    ctl(
        &mut st,
        "POST",
        &format!("/_fake/google/events/{site}"),
        r#"{"title":"Site visit (moved)","start":"2026-11-03T11:00:00-07:00"}"#,
    );
    let lunch = find(&items, "Lunch")[0]["id"].as_str().unwrap().to_string();
    ctl(&mut st, "POST", &format!("/_fake/google/events/{lunch}/delete"), "");
    let bin2 = bins[1]["id"].as_str().unwrap().to_string();
    ctl(&mut st, "POST", &format!("/_fake/google/events/{bin2}/delete"), "");
    let far = ctl(
        &mut st,
        "POST",
        "/_fake/google/events",
        r#"{"title":"Far away","start":"2030-05-01T09:00:00","end":"2030-05-01T10:00:00","time_zone":"Europe/Berlin"}"#,
    );
    let truth_all = ctl(&mut st, "GET", &format!("/_fake/google/truth?calendar={PRIMARY}"), "");
    let archive =
        truth_all["events"].as_array().unwrap().iter().find(|e| e["title"] == "Archive review (2020)").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
    ctl(&mut st, "POST", &format!("/_fake/google/events/{archive}"), r#"{"description":"touched"}"#);

    let inc = format!("calendars/primary/events?singleEvents=true&maxResults=2&syncToken={sync}");
    let (changes, sync2, _, _) = google_round(&mut st, &at, &inc);
    assert_eq!(changes.len(), 5, "{changes:#?}");
    let by_id: HashMap<String, &Value> = changes.iter().map(|e| (e["id"].as_str().unwrap().to_string(), e)).collect();
    assert_eq!(by_id[&site]["summary"], "Site visit (moved)");
    assert_eq!(by_id[&site]["start"]["dateTime"], "2026-11-03T11:00:00-07:00");
    assert_eq!(*by_id[&lunch], json!({ "kind": "calendar#event", "id": lunch, "status": "cancelled" }));
    let c = by_id[&bin2];
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["recurringEventId"], bins[1]["recurringEventId"]);
    assert_eq!(c["originalStartTime"], json!({ "date": "2026-11-11" }));
    assert_eq!(by_id[far["id"].as_str().unwrap()]["start"]["timeZone"], "Europe/Berlin");
    assert_eq!(by_id[&archive]["description"], "touched");

    // Nothing changed: one request, no items.
    ctl(&mut st, "POST", "/_fake/stats/reset", "");
    let (none, sync3, pages, _) =
        google_round(&mut st, &at, &format!("calendars/primary/events?singleEvents=true&syncToken={sync2}"));
    assert!(none.is_empty());
    assert_eq!(pages, 1);
    let stats = ctl(&mut st, "GET", "/_fake/stats", "");
    assert_eq!(stats["google"]["endpoints"]["events.list"], 1);
    assert_eq!(stats["google"]["calendars"][PRIMARY], 1);

    // syncToken refuses window restrictions; invalidation gives 410, with or without reason.
    let r = gget(&mut st, &at, &format!("calendars/primary/events?syncToken={sync3}&timeMin=2026-01-01T00:00:00Z"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "syncTokenWithRequestRestrictions");
    ctl(&mut st, "POST", "/_fake/google/invalidate-sync-tokens", &json!({ "calendar": PRIMARY }).to_string());
    let r = gget(&mut st, &at, &format!("calendars/primary/events?singleEvents=true&syncToken={sync3}"));
    assert_eq!(r.status, 410);
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "fullSyncRequired");
    let (_, fresh, _, _) = google_round(&mut st, &at, &base);
    ctl(&mut st, "POST", "/_fake/google/invalidate-sync-tokens", r#"{"no_reason":true}"#);
    let r = gget(&mut st, &at, &format!("calendars/primary/events?singleEvents=true&syncToken={fresh}"));
    assert_eq!(r.status, 410);
    assert!(r.json_value()["error"]["errors"][0].get("reason").is_none());
    assert_eq!(gget(&mut st, &at, "calendars/primary/events?syncToken=garbage").status, 410);
}

#[test]
fn google_without_single_events_lists_masters_and_exceptions() {
    let mut st = state(&["--google-seed-events", "12", "--calendar-seed", "3"]);
    ctl(&mut st, "POST", "/_fake/google/paging", r#"{"mode":"plain"}"#);
    let at = token(&mut st, "google", None);
    let (items, _, pages, _) = google_round(&mut st, &at, &format!("calendars/primary/events?maxResults=2500&{WIN}"));
    assert_eq!(pages, 1);
    let weekly = find(&items, "Weekly sync");
    // The master (with its rule) and the moved exception; the cancelled one needs showDeleted.
    assert_eq!(weekly.len(), 2, "{weekly:#?}");
    let master = weekly.iter().find(|e| e.get("recurrence").is_some()).unwrap();
    assert_eq!(master["recurrence"], json!(["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8"]));
    assert_eq!(master["start"]["dateTime"], "2026-10-20T07:30:00-06:00");
    let (with_deleted, _, _, _) =
        google_round(&mut st, &at, &format!("calendars/primary/events?showDeleted=true&{WIN}"));
    let cancelled: Vec<&Value> = find(&with_deleted, "Weekly sync");
    assert_eq!(cancelled.len(), 2, "cancelled exceptions have no summary");
    assert!(with_deleted.iter().any(|e| e["status"] == "cancelled" && e["recurringEventId"] == master["id"]));
    // A response time zone moves the offsets, not the event's zone.
    let r = gget(&mut st, &at, &format!("calendars/primary/events/{}?timeZone=UTC", master["id"].as_str().unwrap()));
    assert_eq!(r.json_value()["start"], json!({ "dateTime": "2026-10-20T13:30:00Z", "timeZone": "America/Denver" }));
    // Ordered listing needs singleEvents and pages by offset.
    let (ordered, _, _, _) = google_round(
        &mut st,
        &at,
        &format!("calendars/primary/events?singleEvents=true&orderBy=startTime&maxResults=3&{WIN}"),
    );
    let starts: Vec<String> = ordered
        .iter()
        .map(|e| {
            crate::calendar::time::parse_rfc3339(e["start"]["dateTime"].as_str().unwrap_or(""))
                .map_or_else(|| e["start"]["date"].as_str().unwrap().to_string(), crate::calendar::time::utc_secs)
        })
        .collect();
    assert!(!starts.is_empty());
    // A series edit ("all events") reports the instances that vanished as cancelled.
    let (_, sync, _, _) = google_round(&mut st, &at, &format!("calendars/primary/events?singleEvents=true&{WIN}"));
    let id = master["id"].as_str().unwrap();
    ctl(
        &mut st,
        "POST",
        &format!("/_fake/google/events/{id}"),
        r#"{"recurrence":["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"]}"#,
    );
    let (changes, _, _, _) =
        google_round(&mut st, &at, &format!("calendars/primary/events?singleEvents=true&syncToken={sync}"));
    let gone: Vec<&Value> = changes.iter().filter(|e| e["status"] == "cancelled").collect();
    assert_eq!(gone.len(), 2, "{changes:#?}");
    assert_eq!(changes.len(), 8);
}

// ---------------------------------------------------------------- Microsoft

fn mget(st: &mut State, at: &str, url: &str, prefer: &[&str]) -> Resp {
    let auth = format!("Bearer {at}");
    let mut h = vec![("Authorization", auth.as_str())];
    for p in prefer {
        h.push(("Prefer", p));
    }
    let url = url.strip_prefix("http://127.0.0.1:5").unwrap_or(url);
    let path = if url.starts_with('/') { url.to_string() } else { format!("/microsoft/graph/v1.0/{url}") };
    call(st, "GET", &path, &h, "")
}

/// Follow a delta round: (items, deltaLink, pages, empty pages).
fn graph_round(st: &mut State, at: &str, first: &str, prefer: &[&str]) -> (Vec<Value>, String, usize, usize) {
    let mut url = first.to_string();
    let mut items = Vec::new();
    let (mut pages, mut empty) = (0, 0);
    loop {
        let r = mget(st, at, &url, prefer);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json_value();
        pages += 1;
        let got = v["value"].as_array().unwrap().clone();
        if got.is_empty() {
            empty += 1;
        }
        items.extend(got);
        match (v.get("@odata.nextLink"), v.get("@odata.deltaLink")) {
            (Some(n), None) => url = n.as_str().unwrap().to_string(),
            (None, Some(d)) => return (items, d.as_str().unwrap().to_string(), pages, empty),
            other => panic!("{other:?}"),
        }
    }
}

const MWIN: &str = "startDateTime=2026-10-22T00:00:00Z&endDateTime=2027-11-21T00:00:00Z";
const IMM: &str = "IdType=\"ImmutableId\"";

#[test]
fn graph_calendars_and_delta_round_with_removals() {
    let mut st = state(&["--microsoft-seed-events", "60"]);
    let at = token(&mut st, "microsoft", None);
    let cals = mget(&mut st, &at, "me/calendars?$top=2", &[]).json_value();
    assert_eq!(cals["value"].as_array().unwrap().len(), 2);
    assert_eq!(cals["value"][0]["isDefaultCalendar"], true);
    let next = cals["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("$skip=2"));
    assert_eq!(mget(&mut st, &at, &next, &[]).json_value()["value"].as_array().unwrap().len(), 1);

    let prefer = ["odata.maxpagesize=3", IMM];
    let r = mget(&mut st, &at, &format!("me/calendarView/delta?{MWIN}"), &prefer);
    assert_eq!(r.header("Preference-Applied"), Some("odata.maxpagesize=3, IdType=\"ImmutableId\""));
    let (items, delta, pages, empty) = graph_round(&mut st, &at, &format!("me/calendarView/delta?{MWIN}"), &prefer);
    assert!(pages > 5 && empty >= 1, "pages {pages} empty {empty}");
    let unique = ids(&items, "id");
    assert!(unique.len() < items.len(), "some items repeat across pages");
    let truth =
        ctl(&mut st, "GET", "/_fake/microsoft/truth?time_min=2026-10-22T00:00:00Z&time_max=2027-11-21T00:00:00Z", "");
    let default_id = cals["value"][0]["id"].as_str().unwrap();
    let rows: Vec<Value> =
        truth["events"].as_array().unwrap().iter().filter(|e| e["calendar_id"] == default_id).cloned().collect();
    assert_eq!(unique, ids(&rows, "id"));
    assert!(items.iter().all(|e| e["type"] != "seriesMaster"));
    // Offset-free UTC times; the Denver series moves one hour in UTC across the switch.
    let weekly: Vec<&Value> =
        items.iter().filter(|e| e["subject"] == "Weekly sync (Denver fall DST)" && e["type"] == "occurrence").collect();
    let starts: BTreeSet<&str> = weekly.iter().map(|e| e["start"]["dateTime"].as_str().unwrap()).collect();
    assert!(starts.contains("2026-10-27T13:30:00.0000000"));
    assert!(starts.contains("2026-11-03T14:30:00.0000000"));
    assert!(weekly.iter().all(|e| e["start"]["timeZone"] == "UTC" && e["seriesMasterId"].is_string()));
    let thanks = items.iter().find(|e| e["subject"] == "Closed (Thanksgiving)").unwrap();
    assert_eq!(thanks["isAllDay"], true);
    assert_eq!(thanks["start"]["dateTime"], "2026-11-26T00:00:00.0000000");
    assert_eq!(thanks["end"]["dateTime"], "2026-11-27T00:00:00.0000000");
    // outlook.timezone: local wall-clock times, all-day still at midnight.
    let (local, _, _, _) = graph_round(
        &mut st,
        &at,
        &format!("me/calendarView/delta?{MWIN}"),
        &["odata.maxpagesize=500", IMM, "outlook.timezone=\"Mountain Standard Time\""],
    );
    let w2: BTreeSet<&str> = local
        .iter()
        .filter(|e| e["subject"] == "Weekly sync (Denver fall DST)" && e["type"] == "occurrence")
        .map(|e| e["start"]["dateTime"].as_str().unwrap())
        .collect();
    assert!(w2.iter().all(|s| s.ends_with("T07:30:00.0000000")), "{w2:?}");
    // Without ImmutableId the ids differ.
    let (plain, _, _, _) =
        graph_round(&mut st, &at, &format!("me/calendarView/delta?{MWIN}"), &["odata.maxpagesize=500"]);
    assert!(ids(&plain, "id").is_disjoint(&unique));

    // Changes: one in the window, one moved out, one deleted, one new event far away.
    let site = items.iter().find(|e| e["subject"] == "Site visit").unwrap()["id"].as_str().unwrap().to_string();
    let lunch = items.iter().find(|e| e["subject"] == "Lunch").unwrap()["id"].as_str().unwrap().to_string();
    let tokyo =
        items.iter().find(|e| e["subject"] == "Tokyo supplier call").unwrap()["id"].as_str().unwrap().to_string();
    ctl(&mut st, "POST", &format!("/_fake/microsoft/events/{}", enc(&site)), r#"{"title":"Site visit 2"}"#);
    ctl(
        &mut st,
        "POST",
        &format!("/_fake/microsoft/events/{}", enc(&tokyo)),
        r#"{"start":"2030-01-01T01:00:00Z","end":"2030-01-01T02:00:00Z"}"#,
    );
    ctl(&mut st, "POST", &format!("/_fake/microsoft/events/{}/delete", enc(&lunch)), "");
    let far = ctl(
        &mut st,
        "POST",
        "/_fake/microsoft/events",
        r#"{"title":"Far","start":"2031-01-01T09:00:00","end":"2031-01-01T10:00:00","time_zone":"Pacific Standard Time"}"#,
    );
    let (changes, delta2, _, _) = graph_round(&mut st, &at, &delta, &prefer);
    let by_id: HashMap<&str, &Value> = changes.iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
    assert_eq!(by_id.len(), 4, "{changes:#?}");
    assert_eq!(by_id[site.as_str()]["subject"], "Site visit 2");
    for gone in [lunch.as_str(), tokyo.as_str(), far["id"].as_str().unwrap()] {
        assert_eq!(by_id[gone]["@removed"], json!({ "reason": "deleted" }), "{gone}");
    }
    // No changes: one request.
    ctl(&mut st, "POST", "/_fake/stats/reset", "");
    let (none, delta3, pages, _) = graph_round(&mut st, &at, &delta2, &prefer);
    assert!(none.is_empty() && pages == 1);
    assert_eq!(ctl(&mut st, "GET", "/_fake/stats", "")["microsoft"]["endpoints"]["calendarView.delta"], 1);

    // Expired delta tokens: 410 SyncStateNotFound with a Location, or 400 resyncRequired.
    ctl(&mut st, "POST", "/_fake/microsoft/invalidate-delta", r#"{"mode":"syncStateNotFound"}"#);
    let r = mget(&mut st, &at, &delta3, &prefer);
    assert_eq!(r.status, 410);
    assert_eq!(r.json_value()["error"]["code"], "SyncStateNotFound");
    let loc = r.header("Location").unwrap().to_string();
    assert!(loc.contains("$deltatoken=&startDateTime=2026-10-22T00:00:00Z"), "{loc}");
    let (_, fresh, _, _) = graph_round(&mut st, &at, &loc, &prefer);
    ctl(&mut st, "POST", "/_fake/microsoft/invalidate-delta", r#"{"mode":"resyncRequired"}"#);
    let r = mget(&mut st, &at, &fresh, &prefer);
    assert_eq!(r.status, 400);
    assert_eq!(r.json_value()["error"]["code"], "resyncRequired");
    assert!(r.header("Location").is_some());
}

#[test]
fn graph_refusals_and_throttling() {
    let mut st = state(&["--microsoft-seed-events", "5"]);
    let at = token(&mut st, "microsoft", None);
    for q in ["$select=subject", "$filter=isAllDay", "$orderby=start", "$top=5"] {
        let r = mget(&mut st, &at, &format!("me/calendarView/delta?{MWIN}&{q}"), &[]);
        assert_eq!(r.status, 400, "{q}");
    }
    assert_eq!(mget(&mut st, &at, "me/calendarView/delta", &[]).status, 400);
    assert_eq!(mget(&mut st, &at, &format!("me/calendars/AAMkADnope/calendarView/delta?{MWIN}"), &[]).status, 404);
    let basic = token(&mut st, "microsoft", Some("User.Read Calendars.ReadBasic"));
    assert_eq!(mget(&mut st, &basic, "me/calendars", &[]).status, 200);
    let r = mget(&mut st, &basic, &format!("me/calendarView/delta?{MWIN}"), &[]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json_value()["error"]["code"], "ErrorAccessDenied");

    // More than four requests in flight for the mailbox.
    st.microsoft.cal.inflight.set(&at, 5);
    let r = mget(&mut st, &at, "me/calendars", &[]);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("Retry-After"), Some("1.5"));
    assert_eq!(r.json_value()["error"]["code"], "ApplicationThrottled");
    st.microsoft.cal.inflight.set(&basic, 1);
    st.microsoft.cal.inflight.set(&at, 4);
    assert_eq!(mget(&mut st, &at, "me/calendars", &[]).status, 429, "tokens of one mailbox add up");
    st.microsoft.cal.inflight.set(&at, 3);
    assert_eq!(mget(&mut st, &at, "me/calendars", &[]).status, 200);

    ctl(&mut st, "POST", "/_fake/microsoft/throttle", r#"{"next":2,"retry_after":"2.128"}"#);
    let r = mget(&mut st, &at, "me/calendars", &[]);
    assert_eq!((r.status, r.header("Retry-After")), (429, Some("2.128")));
    assert_eq!(r.json_value()["error"]["code"], "TooManyRequests");
    assert_eq!(mget(&mut st, &at, "me/calendars", &[]).status, 429);
    assert_eq!(mget(&mut st, &at, "me/calendars", &[]).status, 200);
    ctl(&mut st, "POST", "/_fake/expire-access-tokens", r#"{"provider":"microsoft"}"#);
    let r = mget(&mut st, &at, "me/calendars", &[]);
    assert_eq!(r.json_value()["error"]["code"], "InvalidAuthenticationToken");
}

// ---------------------------------------------------------------- Calendly

fn cget(st: &mut State, at: &str, url: &str) -> Resp {
    let auth = format!("Bearer {at}");
    let url = url.strip_prefix("http://127.0.0.1:5").unwrap_or(url);
    let path = if url.starts_with('/') { url.to_string() } else { format!("/calendly/api/{url}") };
    call(st, "GET", &path, &[("Authorization", &auth)], "")
}

const ME: &str = "http://127.0.0.1:5/calendly/api/users/EBHAAFHDCAEQTSEZ";

#[test]
fn calendly_paging_validation_and_cancellations() {
    let mut st = state(&["--calendly-seed-events", "25"]);
    let at = token(&mut st, "calendly", None);
    let user = enc(ME);
    let mut url = format!("scheduled_events?user={user}&count=4&sort=start_time:asc");
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = cget(&mut st, &at, &url);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("X-RateLimit-Limit"), Some("500"));
        let v = r.json_value();
        pages += 1;
        all.extend(v["collection"].as_array().unwrap().clone());
        match v["pagination"]["next_page"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!(all.len(), 26, "25 seeded, one rescheduled into a second event");
    assert_eq!(pages, 7);
    let starts: Vec<&str> = all.iter().map(|e| e["start_time"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    assert!(starts[0].ends_with(".000000Z"));
    let truth = ctl(&mut st, "GET", "/_fake/calendly/truth", "");
    assert_eq!(ids(&all, "uri"), ids(truth["events"].as_array().unwrap(), "id"));
    // Backwards from the second page.
    let p2 = cget(&mut st, &at, &format!("scheduled_events?user={user}&count=4")).json_value();
    let second = cget(&mut st, &at, p2["pagination"]["next_page"].as_str().unwrap()).json_value();
    let back = cget(&mut st, &at, second["pagination"]["previous_page"].as_str().unwrap()).json_value();
    assert_eq!(back["collection"], p2["collection"]);
    assert!(p2["pagination"]["previous_page_token"].is_null());
    // Window and status filters; descending order.
    let w = cget(&mut st, &at, &format!("scheduled_events?user={user}&status=canceled&min_start_time=2026-11-01T00:00:00.000000Z&max_start_time=2026-12-31T00:00:00Z&sort=start_time:desc&count=100")).json_value();
    let c = w["collection"].as_array().unwrap();
    assert!(c.iter().all(|e| e["status"] == "canceled" && e["cancellation"].is_object()));
    assert!(c.len() >= 2);
    assert!(c[0]["start_time"].as_str() >= c[1]["start_time"].as_str());

    for (q, param) in [
        (format!("user={user}&count=101"), "count"),
        (format!("user={user}&count=0"), "count"),
        (format!("user={user}&sort=updated_at:asc"), "sort"),
        (format!("user={user}&status=deleted"), "status"),
        (format!("user={user}&min_start_time=yesterday"), "min_start_time"),
        ("count=5".to_string(), "organization"),
    ] {
        let r = cget(&mut st, &at, &format!("scheduled_events?{q}"));
        assert_eq!(r.status, 400, "{q}");
        let v = r.json_value();
        assert_eq!(v["title"], "Invalid Argument");
        assert_eq!(v["details"][0]["parameter"], param, "{q}");
    }
    let other = enc("http://127.0.0.1:5/calendly/api/users/SOMEONEELSE");
    assert_eq!(cget(&mut st, &at, &format!("scheduled_events?user={other}")).status, 403);
    let org = enc("http://127.0.0.1:5/calendly/api/organizations/FDFHA3EDQ2HHJVBM");
    assert_eq!(cget(&mut st, &at, &format!("scheduled_events?organization={org}")).status, 200);
    let no_scope = token(&mut st, "calendly", Some("users:read"));
    assert_eq!(cget(&mut st, &no_scope, &format!("scheduled_events?user={user}")).status, 403);

    // Cancel (stays, with cancellation), reschedule (cancel + new), hard delete (gone).
    let first = all.iter().find(|e| e["status"] == "active").unwrap()["uri"].as_str().unwrap().to_string();
    let uuid = first.rsplit('/').next().unwrap().to_string();
    ctl(
        &mut st,
        "POST",
        &format!("/_fake/calendly/events/{uuid}/delete"),
        r#"{"reason":"Weather","canceler_type":"host","canceled_by":"Dana Fake"}"#,
    );
    let e = cget(&mut st, &at, &format!("scheduled_events/{uuid}")).json_value();
    assert_eq!(e["resource"]["status"], "canceled");
    assert_eq!(e["resource"]["cancellation"]["reason"], "Weather");
    let second_active = all.iter().filter(|e| e["status"] == "active").nth(1).unwrap()["uri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let moved = ctl(
        &mut st,
        "POST",
        &format!("/_fake/calendly/events/{second_active}/reschedule"),
        r#"{"start":"2027-01-05T16:00:00Z"}"#,
    );
    let n = cget(&mut st, &at, moved["new"].as_str().unwrap()).json_value();
    assert_eq!(n["resource"]["start_time"], "2027-01-05T16:00:00.000000Z");
    ctl(&mut st, "POST", &format!("/_fake/calendly/events/{uuid}/delete"), r#"{"hard":true}"#);
    assert_eq!(cget(&mut st, &at, &format!("scheduled_events/{uuid}")).status, 404);
    let t = ctl(&mut st, "GET", "/_fake/calendly/truth", "");
    assert_eq!(t["count"], 26, "one gone, one added");

    ctl(&mut st, "POST", "/_fake/calendly/throttle", r#"{"next":1}"#);
    let r = cget(&mut st, &at, &format!("scheduled_events?user={user}"));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("X-RateLimit-Remaining"), Some("0"));
    assert!(r.header("X-RateLimit-Reset").is_some());
    assert_eq!(cget(&mut st, &at, &format!("scheduled_events?user={user}")).status, 200);
}

#[test]
fn seeded_data_is_the_same_for_the_same_seed() {
    let a = state(&["--google-seed-events", "300", "--calendar-seed", "9"]);
    let b = state(&["--google-seed-events", "300", "--calendar-seed", "9"]);
    let ta = super::truth::events(
        super::truth::Provider::Google,
        &a.google.cal.users[&a.google.c.user.id],
        None,
        Default::default(),
    );
    let tb = super::truth::events(
        super::truth::Provider::Google,
        &b.google.cal.users[&b.google.c.user.id],
        None,
        Default::default(),
    );
    assert_eq!(ta, tb);
    assert!(ta.len() > 300, "series expand into instances");
}

// ---------------------------------------------------------------- clients vs truth

/// (title, start, end) in the truth's canonical form.
type Seen = HashMap<String, (String, String, String)>;

fn google_norm(t: &Value) -> String {
    match (t.get("dateTime"), t.get("date")) {
        (Some(d), _) => {
            crate::calendar::time::utc_secs(crate::calendar::time::parse_rfc3339(d.as_str().unwrap()).unwrap())
        }
        (_, Some(d)) => d.as_str().unwrap().to_string(),
        _ => panic!("{t}"),
    }
}

/// Instant bounds of a canonical start/end (dates at Denver midnight, the primary's zone).
fn bounds(s: &str) -> i64 {
    use crate::calendar::time::{local_to_instant, parse_date, parse_rfc3339, zone};
    match parse_rfc3339(s) {
        Some(t) => t,
        None => local_to_instant(parse_date(s).unwrap(), 0, &zone("America/Denver").unwrap()),
    }
}

fn truth_map(st: &mut State, p: &str, cal: &str, min: &str, max: &str) -> Seen {
    let t = ctl(st, "GET", &format!("/_fake/{p}/truth?calendar={}&time_min={min}&time_max={max}", enc(cal)), "");
    t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap().to_string();
            (f("id"), (f("title"), f("start"), f("end")))
        })
        .collect()
}

/// Random changes through the control API, using ids the truth lists (any window).
fn churn(st: &mut State, p: &str, cal: &str, other_cal: &str, rng: &mut super::seed::Rng, n: usize) -> usize {
    let mut ok = 0;
    let all =
        ctl(st, "GET", &format!("/_fake/{p}/truth?calendar={}", enc(cal)), "")["events"].as_array().unwrap().clone();
    for _ in 0..n {
        let e = &all[rng.below(all.len() as u64) as usize];
        let id = enc(e["id"].as_str().unwrap());
        let series = e["series_id"].as_str().map(enc);
        let path = format!("/_fake/{p}/events/{id}");
        let shift = |s: &str, days: i64| -> String {
            match crate::calendar::time::parse_rfc3339(s) {
                Some(t) => crate::calendar::time::utc_secs(t + days * 86400),
                None => crate::calendar::time::date_str(crate::calendar::time::parse_date(s).unwrap() + days),
            }
        };
        let r = match rng.below(7) {
            0 => call(st, "POST", &path, &[], &json!({ "title": format!("changed {}", rng.below(1000)) }).to_string()),
            1 => {
                let d = [-400i64, -3, 2, 30, 500][rng.below(5) as usize];
                let body = json!({ "start": shift(e["start"].as_str().unwrap(), d), "end": shift(e["end"].as_str().unwrap(), d) });
                call(st, "POST", &path, &[], &body.to_string())
            }
            2 => call(st, "POST", &format!("{path}/delete"), &[], ""),
            3 if series.is_some() => {
                let s = series.unwrap();
                let body = if rng.below(2) == 0 {
                    json!({ "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"] })
                } else {
                    json!({ "title": "series retitled" })
                };
                call(st, "POST", &format!("/_fake/{p}/events/{s}"), &[], &body.to_string())
            }
            4 if series.is_none() && !other_cal.is_empty() => {
                call(st, "POST", &path, &[], &json!({ "calendar": other_cal }).to_string())
            }
            5 => {
                let day = 20_300 + rng.below(900) as i64;
                let start = crate::calendar::time::utc_secs(day * 86400 + 15 * 3600);
                let end = crate::calendar::time::utc_secs(day * 86400 + 16 * 3600);
                let body = json!({ "calendar": crate::calendar::pct_decode(&enc(cal)), "title": "new", "start": start, "end": end });
                call(st, "POST", &format!("/_fake/{p}/events"), &[], &body.to_string())
            }
            _ => call(st, "POST", &path, &[], r#"{"description":"poke"}"#),
        };
        assert!(r.status < 300 || r.status == 404, "{}", String::from_utf8_lossy(&r.body));
        ok += usize::from(r.status < 300);
    }
    ok
}

#[test]
fn google_client_following_sync_rules_matches_the_truth() {
    let mut st = state(&["--google-seed-events", "150", "--calendar-seed", "5"]);
    let at = token(&mut st, "google", None);
    let (min, max) = ("2026-10-22T00:00:00Z", "2027-11-21T00:00:00Z");
    let crew = ctl(&mut st, "GET", "/_fake/google/calendars", "")["calendars"][1]["id"].as_str().unwrap().to_string();
    let base = format!("calendars/primary/events?singleEvents=true&maxResults=7&timeMin={min}&timeMax={max}");
    let (items, mut sync, _, _) = google_round(&mut st, &at, &base);
    let (lo, hi) = (bounds(min), bounds(max));
    let mut db: Seen = HashMap::new();
    let apply = |db: &mut Seen, items: &[Value]| {
        for e in items {
            let id = e["id"].as_str().unwrap().to_string();
            if e["status"] == "cancelled" {
                db.remove(&id);
                continue;
            }
            let (s, en) = (google_norm(&e["start"]), google_norm(&e["end"]));
            if bounds(&en) > lo && bounds(&s) < hi {
                db.insert(id, (e["summary"].as_str().unwrap().to_string(), s, en));
            } else {
                db.remove(&id);
            }
        }
    };
    apply(&mut db, &items);
    assert_eq!(db, truth_map(&mut st, "google", PRIMARY, min, max));
    let mut rng = super::seed::Rng::new(42);
    for round in 0..10 {
        assert!(churn(&mut st, "google", PRIMARY, &crew, &mut rng, 16) >= 8);
        let (changes, next, _, _) = google_round(
            &mut st,
            &at,
            &format!("calendars/primary/events?singleEvents=true&maxResults=7&syncToken={sync}"),
        );
        sync = next;
        assert!(!changes.is_empty());
        apply(&mut db, &changes);
        assert_eq!(db, truth_map(&mut st, "google", PRIMARY, min, max), "round {round}");
    }
}

#[test]
fn graph_client_following_sync_rules_matches_the_truth() {
    let mut st = state(&["--microsoft-seed-events", "150", "--calendar-seed", "6"]);
    let at = token(&mut st, "microsoft", None);
    let cals = ctl(&mut st, "GET", "/_fake/microsoft/calendars", "")["calendars"].clone();
    let (cal, other) = (cals[0]["id"].as_str().unwrap().to_string(), cals[1]["id"].as_str().unwrap().to_string());
    let (min, max) = ("2026-10-22T00:00:00Z", "2027-11-21T00:00:00Z");
    let prefer = ["odata.maxpagesize=7", IMM];
    let first = format!("me/calendars/{}/calendarView/delta?startDateTime={min}&endDateTime={max}", enc(&cal));
    let (items, mut delta, _, _) = graph_round(&mut st, &at, &first, &prefer);
    let norm = |t: &Value, all_day: bool| {
        let s = t["dateTime"].as_str().unwrap();
        if all_day { s[..10].to_string() } else { format!("{}Z", &s[..19]) }
    };
    let apply = |db: &mut Seen, items: &[Value]| {
        for e in items {
            let id = e["id"].as_str().unwrap().to_string();
            if e.get("@removed").is_some() {
                db.remove(&id);
                continue;
            }
            let ad = e["isAllDay"].as_bool().unwrap();
            db.insert(id, (e["subject"].as_str().unwrap().to_string(), norm(&e["start"], ad), norm(&e["end"], ad)));
        }
    };
    let mut db: Seen = HashMap::new();
    apply(&mut db, &items);
    assert_eq!(db, truth_map(&mut st, "microsoft", &cal, min, max));
    let mut rng = super::seed::Rng::new(43);
    for round in 0..10 {
        assert!(churn(&mut st, "microsoft", &cal, &other, &mut rng, 16) >= 8);
        let (changes, next, _, _) = graph_round(&mut st, &at, &delta, &prefer);
        delta = next;
        assert!(!changes.is_empty());
        apply(&mut db, &changes);
        assert_eq!(db, truth_map(&mut st, "microsoft", &cal, min, max), "round {round}");
    }
}
