//! Control endpoints for the calendar data, under `/_fake/{p}/` with `p` one of `google`,
//! `microsoft`, `calendly`. Every endpoint takes an optional `user` (query or body): the
//! provider user id whose data to use, default the user currently signing in at that fake.
//! Ids are the ones the API shows (Graph: either id form; Calendly: the uuid or the URI);
//! calendar ids in paths are percent-encoded.
//!
//! - `GET truth?calendar=&time_min=&time_max=` (RFC 3339). Google/Graph: live events as
//!   instances overlapping `[time_min, time_max)` (end > min, start < max; all-day dates read
//!   in the calendar's zone), every non-deleted, non-hidden calendar unless `calendar` names
//!   one; Graph ids are the immutable ones and `isCancelled` events are included with status
//!   `cancelled`. Calendly: both statuses, `time_min <= start_time < time_max`. Aliases:
//!   Graph `start_date_time`/`end_date_time`, Calendly `min_start_time`/`max_start_time`.
//!   Answer: `{user, count, events: [row]}`, rows as in `truth.rs`.
//! - `GET calendars`; `POST calendars {name, time_zone?, access_role?, hidden?, selected?, id?}`;
//!   `POST calendars/{id} {name?, hidden?, selected?, deleted?}` (Google and Graph).
//! - `POST events {calendar?, title, description?, location?, status?: confirmed|tentative,
//!   start, end?, time_zone?, recurrence?: [RRULE/EXDATE lines], attendees?: [email |
//!   {email, name?, response?}], organizer?: {email, name?}, id?}`: `start`/`end` are
//!   `YYYY-MM-DD` (all-day, end exclusive), RFC 3339 instants, or local `YYYY-MM-DDTHH:MM:SS`
//!   read in `time_zone` (default: the calendar's). Calendly: `{start, end?, name?, kind?: 0-2,
//!   status?: active|canceled, location?, invitee_email?, guests?, notes?}`.
//! - `POST events/{id}` changes any of those fields (bumps `updated`, `sequence`); on an
//!   instance id it makes or updates an exception; `calendar` moves a single event (a tombstone
//!   stays behind; Graph's non-immutable id changes); Graph also `is_cancelled: bool`.
//! - `POST events/{id}/delete`: Google tombstone (`cancelled`), Graph removal, an instance id
//!   cancels one occurrence; Calendly cancels (`reason?, canceled_by?, canceler_type?`) or with
//!   `{"hard": true}` deletes without a trace. `POST calendly/events/{id}/reschedule {start}`.
//! - `POST google/invalidate-sync-tokens {calendar?, no_reason?: bool}`,
//!   `POST microsoft/invalidate-delta {calendar?, mode?: syncStateNotFound|resyncRequired}`.
//! - `POST {p}/throttle {next: N, kind}`: Google kind `403|429|500`; Graph kind `429|503`,
//!   `code?`, `retry_after?` (default "2.128"), `concurrency_limit?`,
//!   `concurrency_retry_after?`; Calendly: next N requests get 429 with
//!   `X-RateLimit-Reset: reset?` (default 60, a full window).
//! - `POST {google|microsoft}/paging {mode?: mixed|plain|empty-first, duplicates?: bool}`.
//! - `POST {p}/token {scope?, ttl?}`: an access token for the current user (test shortcut).

use serde_json::{Value, json};

use super::graph::{Throttle, ext_id, key_of};
use super::model::{Attendee, Calendar, Ev, Person, Status, Store, When, Window};
use super::rrule::{self, Orig};
use super::time::{local_to_instant, parse_date, parse_local, parse_rfc3339, zone};
use super::truth::{self, Provider};
use super::{Paging, Query, exception, pct_decode};
use crate::core::{Env, User, alnum, jwt, split_scope, urlsafe};
use crate::http::{Req, Resp};
use crate::state::State;

const ACTIONS: &[&str] = &[
    "truth",
    "written",
    "write-options",
    "calendars",
    "events",
    "throttle",
    "paging",
    "token",
    "invalidate-sync-tokens",
    "invalidate-delta",
];

/// Whether `/_fake/{p}/{rest...}` is a calendar control endpoint.
pub fn owns(p: &str, rest: &[&str]) -> bool {
    matches!(p, "google" | "microsoft" | "calendly") && rest.first().is_some_and(|a| ACTIONS.contains(a))
}

pub(super) fn bad(msg: &str) -> Resp {
    Resp::json(400, &json!({ "error": msg }))
}

pub(super) fn missing(what: &str) -> Resp {
    Resp::json(404, &json!({ "error": format!("no such {what}") }))
}

pub(super) fn s<'a>(b: &'a Value, k: &str) -> Option<&'a str> {
    b.get(k).and_then(Value::as_str)
}

/// The user whose data an endpoint works on.
fn pick_user(current: &User, known: &crate::core::TokenStore, want: Option<&str>) -> Result<User, Resp> {
    match want {
        None => Ok(current.clone()),
        Some(id) if id == current.id => Ok(current.clone()),
        Some(id) => known
            .grants
            .values()
            .find(|g| g.user.id == id)
            .map(|g| g.user.clone())
            .ok_or_else(|| missing("user (sign them in first)")),
    }
}

pub fn handle(st: &mut State, env: &Env, req: &Req, method: &str, p: &str, rest: &[&str], body: &Value) -> Resp {
    let q = Query::parse(&req.query);
    let Some(rest) = rest.iter().map(|x| pct_decode(x)).collect::<Option<Vec<String>>>() else {
        return bad("bad percent-encoding in the path");
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let want = q.get("user").or(s(body, "user"));
    let now = (env.now * 1_000_000.0) as i64;
    match (method, rest.as_slice()) {
        ("POST", ["token"]) => mint(st, env, p, body),
        ("POST", ["throttle"]) => throttle(st, p, body),
        ("POST", ["paging"]) => paging(st, p, body),
        ("POST", ["write-options"]) => write_options(st, p, body),
        _ if p == "calendly" => {
            let u = match pick_user(&st.calendly.c.user, &st.calendly.c.store, want) {
                Ok(u) => u,
                Err(e) => return e,
            };
            let store = st.calendly.cal.store(&u);
            super::calendly::control(env, &u, store, method, &rest, &q, body, now)
        }
        _ => {
            let (prov, user, known) = match p {
                "google" => (Provider::Google, &st.google.c.user, &st.google.c.store),
                _ => (Provider::Microsoft, &st.microsoft.c.user, &st.microsoft.c.store),
            };
            let u = match pick_user(user, known, want) {
                Ok(u) => u,
                Err(e) => return e,
            };
            let store = match prov {
                Provider::Google => st.google.cal.store(&u),
                Provider::Microsoft => st.microsoft.cal.store(&u),
            };
            calendar_data(prov, &u, store, method, &rest, &q, body, now)
        }
    }
}

fn window(q: &Query, lo: &[&str], hi: &[&str]) -> Result<Window, Resp> {
    let get = |keys: &[&str]| -> Result<Option<i64>, Resp> {
        match keys.iter().find_map(|k| q.get(k)) {
            None => Ok(None),
            Some(v) => {
                parse_rfc3339(v).map(Some).ok_or_else(|| bad("window bounds must be RFC 3339 instants with an offset"))
            }
        }
    };
    Ok(Window { min: get(lo)?, max: get(hi)? })
}

/// Resolve a client-facing id to a record key.
fn key_for(p: Provider, id: &str) -> String {
    match p {
        Provider::Google => id.to_string(),
        Provider::Microsoft => key_of(id).unwrap_or_else(|| id.to_string()),
    }
}

fn public_id(p: Provider, key: &str) -> String {
    match p {
        Provider::Google => key.to_string(),
        Provider::Microsoft => ext_id(key, true, 0),
    }
}

fn cal_json(p: Provider, c: &Calendar) -> Value {
    let _ = p;
    json!({ "id": c.id, "name": c.name, "time_zone": c.tz, "access_role": c.role, "primary": c.primary,
            "hidden": c.hidden, "selected": c.selected, "deleted": c.deleted, "events": c.events.len(),
            "generation": c.generation })
}

#[allow(clippy::too_many_arguments)]
fn calendar_data(
    p: Provider,
    u: &User,
    store: &mut Store,
    method: &str,
    rest: &[&str],
    q: &Query,
    body: &Value,
    now: i64,
) -> Resp {
    match (method, rest) {
        ("GET", ["truth"]) => {
            let win = match window(q, &["time_min", "start_date_time"], &["time_max", "end_date_time"]) {
                Ok(w) => w,
                Err(e) => return e,
            };
            let cal = q.get("calendar");
            if cal.is_some_and(|c| store.cal(c).is_none()) {
                return missing("calendar");
            }
            let rows = truth::events(p, store, cal, win);
            Resp::json(200, &json!({ "user": u.id, "count": rows.len(), "events": rows }))
        }
        ("GET", ["written"]) => {
            let Some(c) = q.get("calendar").and_then(|c| store.cal(c)) else {
                return missing("calendar");
            };
            let rows = truth::written(p, c);
            Resp::json(200, &json!({ "calendar": c.id, "count": rows.len(), "events": rows }))
        }
        ("GET", ["calendars"]) => {
            let v: Vec<Value> = store.cals.iter().map(|c| cal_json(p, c)).collect();
            Resp::json(200, &json!({ "user": u.id, "calendars": v }))
        }
        ("POST", ["calendars"]) => {
            let name = s(body, "name").or(s(body, "summary")).unwrap_or("New calendar");
            let tz = s(body, "time_zone").unwrap_or("America/Denver");
            if zone(tz).is_none() {
                return bad("unknown time_zone");
            }
            let id = match (s(body, "id"), p) {
                (Some(id), _) => id.to_string(),
                (None, Provider::Google) => {
                    format!("c_{}@group.calendar.google.com", alnum(40).to_lowercase())
                }
                (None, Provider::Microsoft) => format!("AAMkAD{}AAA=", urlsafe(60)),
            };
            if store.cal(&id).is_some() {
                return bad("a calendar with this id exists");
            }
            let mut c = Calendar::new(&id, name, tz, s(body, "access_role").unwrap_or("owner"));
            c.hidden = body.get("hidden").and_then(Value::as_bool).unwrap_or(false);
            c.selected = body.get("selected").and_then(Value::as_bool).unwrap_or(true);
            store.add_calendar(c);
            let c = store.cal(&id).map(|c| cal_json(p, c));
            Resp::json(200, &json!({ "calendar": c }))
        }
        ("POST", ["calendars", id]) => {
            let seq = store.next_seq();
            let Some(c) = store.cal_mut(id) else {
                return missing("calendar");
            };
            if let Some(n) = s(body, "name") {
                c.name = n.into();
            }
            for (k, f) in [("hidden", &mut c.hidden), ("selected", &mut c.selected), ("deleted", &mut c.deleted)] {
                if let Some(b) = body.get(k).and_then(Value::as_bool) {
                    *f = b;
                }
            }
            c.seq = seq;
            let v = cal_json(p, c);
            Resp::json(200, &json!({ "calendar": v }))
        }
        ("POST", ["events"]) => add_event(p, u, store, body, now),
        ("POST", ["events", id]) => change_event(p, store, &key_for(p, id), body, now, false),
        ("POST", ["events", id, "delete"]) => change_event(p, store, &key_for(p, id), body, now, true),
        ("POST", ["invalidate-sync-tokens"]) if p == Provider::Google => {
            let mode = if body.get("no_reason").and_then(Value::as_bool).unwrap_or(false) {
                "no-reason"
            } else {
                "fullSyncRequired"
            };
            invalidate(store, s(body, "calendar"), mode)
        }
        ("POST", ["invalidate-delta"]) if p == Provider::Microsoft => {
            let mode = match s(body, "mode") {
                None | Some("syncStateNotFound") => "syncStateNotFound",
                Some("resyncRequired") => "resyncRequired",
                Some(_) => {
                    return bad("\"mode\" must be \"syncStateNotFound\" or \"resyncRequired\"");
                }
            };
            invalidate(store, s(body, "calendar"), mode)
        }
        _ => missing("calendar control endpoint"),
    }
}

fn invalidate(store: &mut Store, cal: Option<&str>, mode: &str) -> Resp {
    if cal.is_some_and(|c| store.cal(c).is_none()) {
        return missing("calendar");
    }
    let mut done = Vec::new();
    for c in store.cals.iter_mut().filter(|c| cal.is_none_or(|id| c.id == id)) {
        c.generation += 1;
        c.invalid_mode = mode.into();
        done.push(c.id.clone());
    }
    Resp::json(200, &json!({ "invalidated": done, "mode": mode }))
}

/// Where an event goes and what it looks like, from a control body.
fn parse_when(body: &Value, tz: &jiff::tz::TimeZone, current: Option<When>) -> Result<When, String> {
    let one = |k: &str| -> Result<Option<Orig>, String> {
        let Some(v) = s(body, k) else { return Ok(None) };
        if let Some(d) = parse_date(v).filter(|_| v.len() == 10) {
            return Ok(Some(Orig::Day(d)));
        }
        if let Some(t) = parse_rfc3339(v) {
            return Ok(Some(Orig::At(t)));
        }
        match parse_local(v) {
            Some((d, secs)) => Ok(Some(Orig::At(local_to_instant(d, secs, tz)))),
            None => Err(format!("\"{k}\" must be YYYY-MM-DD, an RFC 3339 instant or a local YYYY-MM-DDTHH:MM:SS")),
        }
    };
    let (a, b) = (one("start")?, one("end")?);
    let w = match (a, b, current) {
        (Some(Orig::At(x)), Some(Orig::At(y)), _) => When::Timed { start: x, end: y },
        (Some(Orig::Day(x)), Some(Orig::Day(y)), _) => When::AllDay { start: x, end: y },
        // Only a start: keep the length.
        (Some(o), None, Some(c)) if std::mem::discriminant(&c.orig()) == std::mem::discriminant(&o) => c.shifted_to(o),
        (Some(Orig::At(x)), None, _) => When::Timed { start: x, end: x + 3600 },
        (Some(Orig::Day(x)), None, _) => When::AllDay { start: x, end: x + 1 },
        (None, Some(Orig::At(y)), Some(When::Timed { start, .. })) => When::Timed { start, end: y },
        (None, Some(Orig::Day(y)), Some(When::AllDay { start, .. })) => When::AllDay { start, end: y },
        (None, None, Some(c)) => c,
        _ => return Err("\"start\" and \"end\" must both be dates or both date-times".into()),
    };
    let ok = match w {
        When::Timed { start, end } => end >= start,
        When::AllDay { start, end } => end > start,
    };
    if !ok {
        return Err("the end must not be before the start (all-day ends are exclusive)".into());
    }
    Ok(w)
}

/// Apply the descriptive fields of a control body.
fn apply_fields(ev: &mut Ev, body: &Value) -> Result<(), String> {
    if let Some(t) = s(body, "title").or(s(body, "summary")).or(s(body, "subject")) {
        ev.title = t.into();
    }
    for (k, f) in [("description", &mut ev.description), ("location", &mut ev.location)] {
        match body.get(k) {
            None => {}
            Some(Value::Null) => *f = None,
            Some(Value::String(x)) => *f = Some(x.clone()),
            Some(_) => return Err(format!("\"{k}\" must be a string or null")),
        }
    }
    match s(body, "status") {
        None => {}
        Some("confirmed") => ev.status = Status::Confirmed,
        Some("tentative") => ev.status = Status::Tentative,
        Some(_) => {
            return Err("\"status\" must be confirmed or tentative (delete to cancel)".into());
        }
    }
    if let Some(b) = body.get("is_cancelled").and_then(Value::as_bool) {
        ev.is_cancelled = b;
    }
    if let Some(o) = body.get("organizer") {
        ev.organizer = Person {
            email: s(o, "email").ok_or("\"organizer.email\" is required")?.into(),
            name: s(o, "name").map(String::from),
        };
    }
    if let Some(list) = body.get("attendees") {
        let arr = list.as_array().ok_or("\"attendees\" must be a list")?;
        ev.attendees = arr
            .iter()
            .map(|a| match a {
                Value::String(e) => Ok(Attendee { email: e.clone(), name: None, response: "needsAction".into() }),
                Value::Object(_) => Ok(Attendee {
                    email: s(a, "email").ok_or("attendee \"email\" is required")?.into(),
                    name: s(a, "name").map(String::from),
                    response: s(a, "response").unwrap_or("needsAction").into(),
                }),
                _ => Err("attendees are emails or {email, name, response}".to_string()),
            })
            .collect::<Result<_, String>>()?;
    }
    Ok(())
}

fn add_event(p: Provider, u: &User, store: &mut Store, body: &Value, now: i64) -> Resp {
    let cal_id =
        s(body, "calendar").map(String::from).or_else(|| store.cals.iter().find(|c| c.primary).map(|c| c.id.clone()));
    let Some(cal) = cal_id.as_deref().and_then(|id| store.cal(id)) else {
        return missing("calendar");
    };
    let cal_id = cal.id.clone();
    let tz_name = s(body, "time_zone").unwrap_or(&cal.tz).to_string();
    let Some(tz) = zone(&tz_name) else {
        return bad("unknown time_zone");
    };
    let when = match parse_when(body, &tz, None) {
        Ok(w) => w,
        Err(e) => return bad(&e),
    };
    let key = match (s(body, "id"), p) {
        (Some(id), Provider::Google) => {
            let ok = (5..=1024).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'a'..=b'v' | b'0'..=b'9'));
            if !ok {
                return bad("Google event ids are 5-1024 characters of base32hex (a-v, 0-9)");
            }
            id.to_string()
        }
        (Some(_), Provider::Microsoft) => return bad("Graph assigns ids itself"),
        (None, Provider::Google) => super::google::new_event_id(),
        (None, Provider::Microsoft) => super::graph::new_key(),
    };
    if store.cals.iter().any(|c| c.events.contains_key(&key)) {
        return bad("an event with this id exists");
    }
    let recurrence: Vec<String> = match body.get("recurrence") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(String::from).collect(),
        Some(_) => return bad("\"recurrence\" must be a list of RRULE/EXDATE lines"),
    };
    let rec = if recurrence.is_empty() {
        None
    } else {
        match rrule::parse(&recurrence, &tz) {
            Ok(r) => Some(r),
            Err(e) => return bad(&e),
        }
    };
    let stamp = store.stamp(now);
    let organizer = Person {
        email: match p {
            Provider::Google => super::google::primary_id(u),
            Provider::Microsoft => u.email.clone().unwrap_or_else(|| format!("{}@outlook.example", u.id)),
        },
        name: Some(u.name.clone()),
    };
    let mut ev =
        Ev { title: "(untitled)".into(), tz: tz_name, recurrence, rec, ..Ev::new(key.clone(), when, organizer, stamp) };
    if let Err(e) = apply_fields(&mut ev, body) {
        return bad(&e);
    }
    store.put(&cal_id, ev);
    Resp::json(200, &json!({ "id": public_id(p, &key), "calendar_id": cal_id, "key": key }))
}

/// Change (or delete) an event, a series, or one instance of a series.
fn change_event(p: Provider, store: &mut Store, key: &str, body: &Value, now: i64, delete: bool) -> Resp {
    let Some(cal_id) = store
        .cals
        .iter()
        .find(|c| c.events.get(key).is_some_and(|e| !e.ghost) || instance_of(c, key).is_some())
        .map(|c| c.id.clone())
    else {
        return missing("event");
    };
    let stamp = store.stamp(now);
    let Some(cal) = store.cal(&cal_id) else {
        return missing("calendar");
    };
    // One instance of a series: an exception record.
    if !cal.events.contains_key(key) || cal.events.get(key).is_some_and(|e| e.series.is_some()) {
        let Some((master, orig, generated)) = instance_of(cal, key) else {
            return missing("instance");
        };
        let mut x = match cal.events.get(key) {
            Some(e) => e.clone(),
            None => exception(&master, key, orig, generated, master.status, stamp),
        };
        if delete {
            x.status = Status::Cancelled;
        } else {
            let tz = master.zone();
            match parse_when(body, &tz, Some(x.when)) {
                Ok(w) => x.when = w,
                Err(e) => return bad(&e),
            }
            if let Err(e) = apply_fields(&mut x, body) {
                return bad(&e);
            }
        }
        x.updated = stamp;
        x.sequence += 1;
        store.put(&cal_id, x);
        return Resp::json(200, &json!({ "id": public_id(p, key), "calendar_id": cal_id, "instance": true }));
    }
    let Some(old) = cal.events.get(key).cloned() else {
        return missing("event");
    };
    let mut ev = old.clone();
    ev.updated = stamp;
    ev.sequence += 1;
    if delete {
        ev.deleted = true;
        ev.status = Status::Cancelled;
        store.put(&cal_id, ev);
        return Resp::json(200, &json!({ "id": public_id(p, key), "calendar_id": cal_id, "deleted": true }));
    }
    let tz_name = s(body, "time_zone").unwrap_or(&old.tz).to_string();
    let Some(tz) = zone(&tz_name) else {
        return bad("unknown time_zone");
    };
    ev.tz = tz_name;
    match parse_when(body, &tz, Some(old.when)) {
        Ok(w) => ev.when = w,
        Err(e) => return bad(&e),
    }
    if let Err(e) = apply_fields(&mut ev, body) {
        return bad(&e);
    }
    match body.get("recurrence") {
        None => {}
        Some(Value::Null) => {
            ev.recurrence.clear();
            ev.rec = None;
        }
        Some(Value::Array(a)) => {
            ev.recurrence = a.iter().filter_map(Value::as_str).map(String::from).collect();
            match rrule::parse(&ev.recurrence, &tz) {
                Ok(r) => ev.rec = Some(r),
                Err(e) => return bad(&e),
            }
        }
        Some(_) => return bad("\"recurrence\" must be a list or null"),
    }
    if old.rec.is_some() != ev.rec.is_some() {
        return bad("turning a single event into a series (or back) is not supported; delete and add");
    }
    // Move to another calendar: a tombstone stays behind.
    if let Some(dest) = s(body, "calendar").filter(|d| *d != cal_id) {
        if ev.rec.is_some() {
            return bad("moving a series is not supported");
        }
        if store.cal(dest).is_none() {
            return missing("destination calendar");
        }
        let mut gone = old.clone();
        gone.deleted = true;
        gone.status = Status::Cancelled;
        gone.updated = stamp;
        store.put(&cal_id, gone);
        ev.id_version += 1;
        if let Some(c) = store.cal_mut(dest) {
            c.drop_record(key);
        }
        store.put(dest, ev);
        return Resp::json(200, &json!({ "id": public_id(p, key), "calendar_id": dest, "moved_from": cal_id }));
    }
    if ev.rec.is_some() {
        store.replace_master(&cal_id, ev, stamp);
    } else {
        store.put(&cal_id, ev);
    }
    Resp::json(200, &json!({ "id": public_id(p, key), "calendar_id": cal_id }))
}

/// `{master}_{suffix}` naming an instance of a live master: (master, original start, time).
fn instance_of(cal: &Calendar, key: &str) -> Option<(Ev, Orig, When)> {
    let (mk, _) = key.rsplit_once('_')?;
    let m = cal.events.get(mk).filter(|m| m.is_master())?;
    cal.instances(m).into_iter().find(|x| x.key == key).map(|x| (m.clone(), x.orig, m.when.shifted_to(x.orig)))
}

fn throttle(st: &mut State, p: &str, body: &Value) -> Resp {
    let n = body.get("next").and_then(Value::as_u64).unwrap_or(1).min(10_000) as usize;
    match p {
        "google" => {
            let code = match s(body, "kind").unwrap_or("429") {
                "403" => 403,
                "429" => 429,
                "500" => 500,
                _ => return bad("\"kind\" must be \"403\", \"429\" or \"500\""),
            };
            st.google.cal.throttle = vec![code; n];
            Resp::json(200, &json!({ "provider": p, "next": n, "status": code }))
        }
        "microsoft" => {
            let status = match s(body, "kind").unwrap_or("429") {
                "429" => 429,
                "503" => 503,
                _ => return bad("\"kind\" must be \"429\" or \"503\""),
            };
            let code = s(body, "code").unwrap_or(if status == 503 { "serviceNotAvailable" } else { "TooManyRequests" });
            let ra = s(body, "retry_after").unwrap_or("2.128").to_string();
            if ra.parse::<f64>().is_err() {
                return bad("\"retry_after\" must be a number of seconds such as \"1.5\"");
            }
            let cal = &mut st.microsoft.cal;
            if let Some(l) = body.get("concurrency_limit").and_then(Value::as_u64) {
                cal.concurrency_limit = l as usize;
            }
            if let Some(r) = s(body, "concurrency_retry_after") {
                cal.concurrency_retry_after = r.into();
            }
            cal.throttle = vec![Throttle { status, code: code.into(), retry_after: ra.clone() }; n];
            Resp::json(
                200,
                &json!({ "provider": p, "next": n, "status": status, "code": code, "retry_after": ra,
                                      "concurrency_limit": cal.concurrency_limit }),
            )
        }
        _ => {
            let reset = body.get("reset").and_then(Value::as_u64).unwrap_or(60);
            st.calendly.cal.throttle_next = n as u32;
            st.calendly.cal.throttle_reset = reset;
            Resp::json(200, &json!({ "provider": p, "next": n, "status": 429, "reset": reset }))
        }
    }
}

/// `{"restore_forbidden": bool}` (Google: a patch cannot bring a cancelled event back) or
/// `{"transaction_dedup": bool}` (Graph: a repeated `transactionId` returns the first event).
fn write_options(st: &mut State, p: &str, body: &Value) -> Resp {
    let flag = |k: &str| body.get(k).and_then(Value::as_bool);
    match p {
        "google" => {
            if let Some(b) = flag("restore_forbidden") {
                st.google.cal.restore_forbidden = b;
            }
            Resp::json(200, &json!({ "restore_forbidden": st.google.cal.restore_forbidden }))
        }
        "microsoft" => {
            if let Some(b) = flag("transaction_dedup") {
                st.microsoft.cal.transaction_dedup = b;
            }
            Resp::json(200, &json!({ "transaction_dedup": st.microsoft.cal.transaction_dedup }))
        }
        _ => bad("write options exist for google and microsoft"),
    }
}

fn paging(st: &mut State, p: &str, body: &Value) -> Resp {
    let mode = match body.get("mode").cloned().map(serde_json::from_value::<Paging>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => return bad("\"mode\" must be \"mixed\", \"plain\" or \"empty-first\""),
    };
    match p {
        "google" => {
            if let Some(m) = mode {
                st.google.cal.paging = m;
            }
            Resp::json(200, &json!({ "provider": p, "mode": st.google.cal.paging }))
        }
        "microsoft" => {
            let c = &mut st.microsoft.cal;
            if let Some(m) = mode {
                c.paging = m;
            }
            if let Some(d) = body.get("duplicates").and_then(Value::as_bool) {
                c.duplicates = d;
            }
            Resp::json(200, &json!({ "provider": p, "mode": c.paging, "duplicates": c.duplicates }))
        }
        _ => bad("Calendly pages are always full"),
    }
}

/// Mint an access token for the current user (tests that skip the browser flow).
fn mint(st: &mut State, env: &Env, p: &str, body: &Value) -> Resp {
    let now = env.now_secs();
    let given = s(body, "scope");
    let (c, client, default_scope, ttl, token) = match p {
        "google" => (
            &mut st.google.c,
            st.google.cfg.client_id.clone(),
            "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly",
            st.google.cfg.access_ttl,
            format!("ya29.a0{}", urlsafe(160)),
        ),
        "microsoft" => (
            &mut st.microsoft.c,
            st.microsoft.cfg.client_id.clone(),
            "openid profile email offline_access https://graph.microsoft.com/User.Read https://graph.microsoft.com/Calendars.Read",
            st.microsoft.cfg.access_ttl.unwrap_or(3600),
            jwt(
                &json!({"typ": "JWT", "alg": "RS256"}),
                &json!({"aud": "00000003-0000-0000-c000-000000000000", "iat": now, "exp": now + 3600, "minted": true}),
            ),
        ),
        _ => (
            &mut st.calendly.c,
            st.calendly.cfg.client_id.clone(),
            "users:read scheduled_events:read",
            st.calendly.cfg.access_ttl,
            jwt(
                &json!({"kid": "1", "typ": "JWT", "alg": "ES256"}),
                &json!({"iss": "https://auth.calendly.com", "iat": now, "exp": now + 7200, "minted": true}),
            ),
        ),
    };
    let scope: Vec<String> = split_scope(given.unwrap_or(default_scope))
        .into_iter()
        .map(|x| match (p, x.as_str()) {
            ("google", "email") => "https://www.googleapis.com/auth/userinfo.email".into(),
            ("google", "profile") => "https://www.googleapis.com/auth/userinfo.profile".into(),
            ("microsoft", o)
                if !["openid", "profile", "email", "offline_access"].contains(&o) && !o.starts_with("https://") =>
            {
                format!("https://graph.microsoft.com/{o}")
            }
            _ => x,
        })
        .collect();
    let ttl = body.get("ttl").and_then(Value::as_i64).filter(|t| *t > 0).unwrap_or(ttl);
    let user = c.user.clone();
    let grant = c.store.new_grant(user.clone(), &client, scope.clone(), now);
    c.store.add_access(&token, grant, now, ttl);
    c.issued.access(&token);
    Resp::json(
        200,
        &json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": scope.join(" "), "user": user.id }),
    )
}
