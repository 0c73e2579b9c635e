//! In-process tests of the calendar write APIs (Google and Graph), through the same
//! `State::handle` the server uses: the behaviour `shared/providers/*.md` lists under
//! "What a faithful fake must do (writes)".

use clap::Parser as _;
use serde_json::{Value, json};

use crate::http::{Req, Resp};
use crate::state::State;
use crate::{Cli, Command, build_state};

const G: &str = "https://www.googleapis.com/auth/";

/// The fakes' clock in these tests (a Saturday); every date below is counted from it.
const NOW: &str = "2026-11-21T12:00:00Z";

/// The date `n` days after [`NOW`]'s.
fn day(n: i64) -> jiff::civil::Date {
    let now: jiff::Timestamp = NOW.parse().unwrap();
    now.to_zoned(jiff::tz::TimeZone::UTC).date().checked_add(jiff::Span::new().days(n)).unwrap()
}

/// `hms` on [`day`]`(n)`, without a zone (Graph's form).
fn at(n: i64, hms: &str) -> String {
    format!("{}T{hms}", day(n))
}

fn state() -> State {
    let cli = Cli::try_parse_from(["integ-fakes", "serve", "--now", NOW]).unwrap();
    let Command::Serve(a) = cli.command else { panic!("serve") };
    build_state(&a, "http://127.0.0.1:5".into()).unwrap()
}

fn call(st: &mut State, method: &str, path_query: &str, at: &str, body: &Value) -> Resp {
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    st.handle(&Req {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![
            ("Authorization".into(), format!("Bearer {at}")),
            ("Content-Type".into(), "application/json".into()),
            ("Prefer".into(), "IdType=\"ImmutableId\"".into()),
        ],
        body: if body.is_null() { Vec::new() } else { body.to_string().into_bytes() },
    })
}

fn token(st: &mut State, p: &str, scope: &str) -> String {
    let r = call(st, "POST", &format!("/_fake/{p}/token"), "", &json!({ "scope": scope }));
    r.json_value()["access_token"].as_str().unwrap().to_string()
}

fn g(st: &mut State, at: &str, method: &str, path: &str, body: Value) -> Resp {
    call(st, method, &format!("/google/api/calendar/v3/{path}"), at, &body)
}

fn event(id: Option<&str>) -> Value {
    let mut v = json!({ "summary": "Visit", "start": { "dateTime": format!("{}Z", at(3, "15:00:00")) },
                        "end": { "dateTime": format!("{}Z", at(3, "16:00:00")) },
                        "extendedProperties": { "private": { "integVisit": "J/V" } } });
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    v
}

#[test]
fn google_ids_deletes_and_scopes_follow_the_documents() {
    let mut st = state();
    let read = token(&mut st, "google", &format!("openid {G}calendar.readonly"));
    let r = g(&mut st, &read, "POST", "calendars/primary/events", event(Some("abcde12345")));
    assert_eq!(r.status, 403, "a read-only grant cannot write");
    assert_eq!(r.json_value()["error"]["errors"][0]["reason"], "insufficientPermissions");
    let app = token(&mut st, "google", &format!("{G}calendar.app.created"));
    assert_eq!(
        g(&mut st, &app, "POST", "calendars/primary/events", event(Some("abcde12345"))).status,
        403,
        "calendar.app.created does not cover calendars the app did not create"
    );
    let cal = g(&mut st, &app, "POST", "calendars", json!({ "summary": "Jobber visits" })).json_value();
    let cal = cal["id"].as_str().unwrap().to_string();
    let path = format!("calendars/{}/events", super::pct_encode(&cal));
    assert_eq!(g(&mut st, &app, "POST", &path, event(Some("ABCDE"))).status, 400, "upper case is not base32hex");
    let r = g(&mut st, &app, "POST", &path, event(Some("abcde12345")));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_value()["extendedProperties"]["private"]["integVisit"], "J/V");
    assert_eq!(g(&mut st, &app, "POST", &path, event(Some("abcde12345"))).status, 409);
    // A filter on the private property finds it; another value does not.
    let both = token(&mut st, "google", &format!("{G}calendar.readonly {G}calendar.app.created"));
    // Every page of the round (pages may be short or empty).
    let list = |st: &mut State, q: &str| -> usize {
        let (mut n, mut page) = (0, String::new());
        loop {
            let r = g(st, &both, "GET", &format!("{path}?privateExtendedProperty={q}{page}"), Value::Null).json_value();
            n += r["items"].as_array().unwrap().len();
            match r["nextPageToken"].as_str() {
                Some(t) => page = format!("&pageToken={t}"),
                None => return n,
            }
        }
    };
    assert_eq!(list(&mut st, "integVisit%3DJ%2FV"), 1);
    assert_eq!(list(&mut st, "integVisit%3Dother"), 0);
    // Patch: timed to all-day without nulling dateTime is refused; with it, accepted.
    let one = format!("{path}/abcde12345");
    let (tue, wed) = (day(3).to_string(), day(4).to_string());
    let bad = json!({ "start": { "date": tue }, "end": { "date": wed } });
    assert_eq!(g(&mut st, &app, "PATCH", &one, bad).status, 400);
    let good = json!({ "start": { "date": tue, "dateTime": null }, "end": { "date": wed, "dateTime": null } });
    assert_eq!(g(&mut st, &app, "PATCH", &one, good).json_value()["start"]["date"], json!(tue));
    // Delete, delete again (410), insert the deleted id (409), get (cancelled), restore.
    assert_eq!(g(&mut st, &app, "DELETE", &one, Value::Null).status, 204);
    assert_eq!(g(&mut st, &app, "DELETE", &one, Value::Null).status, 410);
    assert_eq!(g(&mut st, &app, "DELETE", &format!("{path}/zzzzz"), Value::Null).status, 404);
    assert_eq!(g(&mut st, &app, "POST", &path, event(Some("abcde12345"))).status, 409, "deleted ids stay taken");
    assert_eq!(g(&mut st, &both, "GET", &one, Value::Null).json_value()["status"], "cancelled");
    let restored = g(&mut st, &app, "PATCH", &one, json!({ "status": "confirmed" }));
    assert_eq!(restored.json_value()["status"], "confirmed");
    // `update` replaces everything (the private properties too); a stale etag is 412.
    let etag = restored.json_value()["etag"].as_str().unwrap().to_string();
    let put = |st: &mut State, tag: &str| {
        let mut b = event(None);
        b["extendedProperties"] = json!({ "private": { "other": "1" } });
        st.handle(&Req {
            method: "PUT".into(),
            path: format!("/google/api/calendar/v3/{one}"),
            query: String::new(),
            headers: vec![("Authorization".into(), format!("Bearer {app}")), ("If-Match".into(), tag.into())],
            body: b.to_string().into_bytes(),
        })
    };
    assert_eq!(put(&mut st, "\"1\"").status, 412);
    let updated = put(&mut st, &etag).json_value();
    assert_eq!(updated["extendedProperties"]["private"], json!({ "other": "1" }));
    // freeBusy refuses the write scopes alone, and answers per calendar.
    let (min, max) = (format!("{}Z", at(3, "00:00:00")), format!("{}Z", at(4, "00:00:00")));
    let body = json!({ "timeMin": min, "timeMax": max, "items": [{ "id": cal }, { "id": "nope" }] });
    assert_eq!(g(&mut st, &app, "POST", "freeBusy", body.clone()).status, 403);
    let fb = g(&mut st, &read, "POST", "freeBusy", body).json_value();
    assert_eq!(fb["calendars"]["nope"]["errors"][0]["reason"], "notFound");
    let (min, max) = (format!("{}Z", at(-100, "00:00:00")), format!("{}Z", at(51, "00:00:00")));
    let long = json!({ "timeMin": min, "timeMax": max, "items": [] });
    assert_eq!(g(&mut st, &read, "POST", "freeBusy", long).status, 400, "over 90 days");
}

fn m(st: &mut State, at: &str, method: &str, path: &str, body: Value) -> Resp {
    call(st, method, &format!("/microsoft/graph/v1.0/{path}"), at, &body)
}

const PROP: &str = "String {7f3b2a64-1c9e-4d35-8b0a-5e2f6c1d9a47} Name integKey";

#[test]
fn graph_transaction_ids_properties_and_deletes_follow_the_documents() {
    let mut st = state();
    let read = token(&mut st, "microsoft", "Calendars.Read");
    let body = json!({ "subject": "Visit", "transactionId": "tx1",
        "start": { "dateTime": at(3, "15:00:00"), "timeZone": "UTC" },
        "end": { "dateTime": at(3, "16:00:00"), "timeZone": "UTC" },
        "singleValueExtendedProperties": [{ "id": PROP, "value": "r1:abc" }] });
    let r = m(&mut st, &read, "POST", "me/events", body.clone());
    assert_eq!((r.status, r.json_value()["error"]["code"].clone()), (403, json!("ErrorAccessDenied")));
    let rw = token(&mut st, "microsoft", "Calendars.ReadWrite");
    let first = m(&mut st, &rw, "POST", "me/events", body.clone());
    assert_eq!(first.status, 201);
    let id = first.json_value()["id"].as_str().unwrap().to_string();
    assert!(first.json_value().get("singleValueExtendedProperties").is_none(), "never in a write response");
    let again = m(&mut st, &rw, "POST", "me/events", body);
    assert_eq!((again.status, again.json_value()["id"].as_str().unwrap()), (201, id.as_str()), "same transactionId");
    // Found by the property: the value ignoring case, the id exactly.
    let find = |st: &mut State, pid: &str, v: &str| -> Vec<Value> {
        let f = format!("singleValueExtendedProperties/Any(ep: ep/id eq '{pid}' and ep/value eq '{v}')");
        let e = format!("singleValueExtendedProperties($filter=id eq '{pid}')");
        let q = format!("me/events?$filter={}&$expand={}", super::pct_encode(&f), super::pct_encode(&e));
        m(st, &rw, "GET", &q, Value::Null).json_value()["value"].as_array().unwrap().clone()
    };
    let hits = find(&mut st, PROP, "R1:ABC");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["singleValueExtendedProperties"][0]["value"], "r1:abc");
    assert!(find(&mut st, &PROP.replace("integKey", "IntegKey"), "r1:abc").is_empty());
    // PATCH, DELETE, then 404 for that id.
    let one = format!("me/events/{}", super::pct_encode(&id));
    assert_eq!(m(&mut st, &rw, "PATCH", &one, json!({ "subject": "Moved" })).json_value()["subject"], "Moved");
    assert_eq!(m(&mut st, &rw, "PATCH", &one, json!({ "transactionId": "x" })).status, 400, "fixed at creation");
    assert_eq!(m(&mut st, &rw, "DELETE", &one, Value::Null).status, 204);
    assert_eq!(m(&mut st, &rw, "DELETE", &one, Value::Null).status, 404);
    assert_eq!(m(&mut st, &rw, "PATCH", &one, json!({ "subject": "x" })).status, 404);
    // A calendar of integ's own; getSchedule limits.
    let cal = m(&mut st, &rw, "POST", "me/calendars", json!({ "name": "Jobber visits" }));
    assert_eq!(cal.status, 201);
    let range = |days: i64| {
        json!({ "schedules": ["pat.fake@outlook.example"], "startTime": { "dateTime": at(-20, "00:00:00"), "timeZone": "UTC" },
                "endTime": { "dateTime": at(days - 20, "00:00:00"), "timeZone": "UTC" } })
    };
    let r = m(&mut st, &rw, "POST", "me/calendar/getSchedule", range(63));
    assert_eq!(r.json_value()["error"]["code"], "ErrorTimeIntervalTooBig");
    assert_eq!(m(&mut st, &rw, "POST", "me/calendar/getSchedule", range(7)).status, 200);
}
