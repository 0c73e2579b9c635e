//! Microsoft Graph calendar writes and the reads that go with them, as the push section of
//! `shared/providers/microsoft.md` describes them: `POST /me/calendars` (201, never
//! deduplicated), `POST /me/events` / `me/calendar/events` / `me/calendars/{id}/events` (201;
//! the same `transactionId` again answers 201 with the existing event unless switched off),
//! single-value extended properties (absent from write responses; `$filter=
//! singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')` on `/me/events`
//! with a case-sensitive id and a case-insensitive value; `$expand=singleValueExtendedProperties
//! ($filter=id eq '…')` returns `[{id, value}]`), `PATCH` (200 + event), `DELETE` (204, then
//! 404 `ErrorItemNotFound`), 403 `ErrorAccessDenied` for writes without `Calendars.ReadWrite`,
//! and `POST /me/calendar/getSchedule` (≤ 20 schedules, < 62 days, refused for personal
//! accounts).

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use super::super::model::{Attendee, Calendar, Ev, Person, Status, Store, When, Window};
use super::super::time::{graph_local, parse_iso_local, parse_local, zone};
use super::super::{Query, pct_encode};
use super::{GraphCal, Prefs, READ, Render, graph_error, key_of};
use crate::core::{Env, Grant};
use crate::http::{Req, Resp};

pub(super) const WRITE: &[&str] = &["Calendars.ReadWrite", "Calendars.ReadWrite.Shared", ".default"];

/// The endpoint name and scopes of a request this module serves.
pub(super) fn route(method: &str, segs: &[&str]) -> Option<(&'static str, &'static [&'static str])> {
    Some(match (method, segs) {
        ("POST", ["me", "calendars"]) => ("calendars.create", WRITE),
        ("POST", ["me", "events"] | ["me", "calendar", "events"] | ["me", "calendars", _, "events"]) => {
            ("events.create", WRITE)
        }
        ("GET", ["me", "events"]) => ("events.list", READ),
        ("GET", ["me", "events", _] | ["me", "calendars", _, "events", _]) => ("events.get", READ),
        ("PATCH", ["me", "events", _] | ["me", "calendars", _, "events", _]) => ("events.update", WRITE),
        ("DELETE", ["me", "events", _] | ["me", "calendars", _, "events", _]) => ("events.delete", WRITE),
        ("POST", ["me", "calendar", "getSchedule"]) => ("calendar.getSchedule", READ),
        _ => return None,
    })
}

fn not_found(now: i64) -> Resp {
    graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.", now)
}

fn bad(now: i64, msg: &str) -> Resp {
    graph_error(400, "ErrorInvalidRequest", msg, now)
}

/// `ep/id eq '…' and ep/value eq '…'` inside `singleValueExtendedProperties/Any(...)`.
pub(super) fn prop_filter(f: &str) -> Option<(String, String)> {
    let inner = f.trim().strip_prefix("singleValueExtendedProperties/Any(")?.strip_suffix(')')?;
    let quoted = |key: &str| -> Option<String> {
        let at = inner.find(key)? + key.len();
        let rest = &inner[at..];
        let end = rest.find('\'')?;
        Some(rest[..end].to_string())
    };
    Some((quoted("ep/id eq '")?, quoted("ep/value eq '")?))
}

/// The property ids `$expand=singleValueExtendedProperties($filter=id eq '…')` asks for.
fn expand_ids(q: &Query) -> Option<Vec<String>> {
    let e = q.get("$expand")?;
    let inner = e.strip_prefix("singleValueExtendedProperties")?;
    let ids = inner.split("id eq '").skip(1).filter_map(|s| s.split('\'').next()).map(String::from).collect::<Vec<_>>();
    Some(ids)
}

fn matches(ev: &Ev, (id, value): &(String, String)) -> bool {
    ev.props.get(id).is_some_and(|v| v.eq_ignore_ascii_case(value))
}

/// Times of a create or patch body: `{dateTime (no offset), timeZone}`; all-day at midnight.
fn times(body: &Map<String, Value>, current: Option<When>, now: i64) -> Result<Option<(When, String)>, Resp> {
    let all_day = body.get("isAllDay").and_then(Value::as_bool).or(current.map(When::is_all_day)).unwrap_or(false);
    let side = |k: &str| -> Result<Option<(String, String)>, Resp> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let dt = v.get("dateTime").and_then(Value::as_str);
                let tz = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
                match dt {
                    Some(d) => Ok(Some((d.to_string(), tz.to_string()))),
                    None => Err(bad(now, &format!("'{k}' needs a dateTime."))),
                }
            }
        }
    };
    let (s, e) = (side("start")?, side("end")?);
    let (Some((s, stz)), Some((e, etz))) = (s, e) else {
        if current.is_none() {
            return Err(bad(now, "An event needs a start and an end."));
        }
        return Ok(None);
    };
    let tz = zone(&stz).ok_or_else(|| {
        graph_error(
            400,
            "TimeZoneNotSupportedException",
            &format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{stz}'."
            ),
            now,
        )
    })?;
    let etz_ok = zone(&etz).unwrap_or(TimeZone::UTC);
    if all_day {
        let (Some((sd, ss)), Some((ed, es))) = (parse_local(&s), parse_local(&e)) else {
            return Err(bad(now, "Invalid dateTime."));
        };
        if ss != 0 || es != 0 || stz != etz || ed <= sd {
            return Err(bad(
                now,
                "The start and end time of an all-day event must be at midnight, in the same time zone.",
            ));
        }
        return Ok(Some((When::AllDay { start: sd, end: ed }, stz)));
    }
    let (Some(a), Some(b)) = (parse_iso_local(&s, &tz), parse_iso_local(&e, &etz_ok)) else {
        return Err(bad(now, "Invalid dateTime."));
    };
    if b < a {
        return Err(bad(now, "The end of an event must not be before its start."));
    }
    Ok(Some((When::Timed { start: a, end: b }, stz)))
}

/// Apply a create or patch body.
fn apply(ev: &mut Ev, body: &Map<String, Value>, create: bool, now: i64) -> Result<(), Resp> {
    if let Some(v) = body.get("subject") {
        ev.title = v.as_str().unwrap_or_default().to_string();
    }
    if let Some(v) = body.get("body") {
        ev.description = v.get("content").and_then(Value::as_str).map(String::from).filter(|s| !s.is_empty());
    }
    if let Some(v) = body.get("location") {
        ev.location = v.get("displayName").and_then(Value::as_str).map(String::from).filter(|s| !s.is_empty());
    }
    if let Some(v) = body.get("showAs").and_then(Value::as_str) {
        ev.status = if v == "tentative" { Status::Tentative } else { Status::Confirmed };
    }
    if body.contains_key("transactionId") && !create {
        return Err(bad(now, "The property 'transactionId' cannot be changed after the event is created."));
    }
    if let Some((w, tz)) = times(body, (!create).then_some(ev.when), now)? {
        ev.when = w;
        ev.tz = tz;
    }
    if let Some(list) = body.get("attendees").and_then(Value::as_array) {
        ev.attendees = list
            .iter()
            .filter_map(|a| {
                let e = a.get("emailAddress")?;
                Some(Attendee {
                    email: e.get("address")?.as_str()?.to_string(),
                    name: e.get("name").and_then(Value::as_str).map(String::from),
                    response: "needsAction".into(),
                })
            })
            .collect();
    }
    if let Some(list) = body.get("singleValueExtendedProperties").and_then(Value::as_array) {
        for p in list {
            let (Some(id), Some(v)) = (p.get("id").and_then(Value::as_str), p.get("value").and_then(Value::as_str))
            else {
                return Err(bad(now, "A single-value extended property needs an id and a value."));
            };
            ev.props.insert(id.to_string(), v.to_string());
        }
    }
    Ok(())
}

/// Where an event key lives: (calendar index, key).
fn find(store: &Store, key: &str) -> Option<String> {
    store.cals.iter().find(|c| c.events.get(key).is_some_and(|e| !e.deleted)).map(|c| c.id.clone())
}

struct Ctx<'a> {
    env: &'a Env,
    req: &'a Req,
    q: &'a Query,
    p: &'a Prefs,
    me: &'a str,
}

impl Ctx<'_> {
    fn now(&self) -> i64 {
        self.env.now_secs()
    }

    fn render(&self, cal: &Calendar, ev: &Ev) -> Value {
        let r = Render { cal, cal_tz: cal.zone(), prefs: self.p, me: self.me };
        let mut v = r.event(ev, &ev.key, ev.when, None);
        v["transactionId"] = ev.transaction_id.clone().map_or(Value::Null, Value::String);
        if let Some(ids) = expand_ids(self.q) {
            let props: Vec<Value> = ev
                .props
                .iter()
                .filter(|(k, _)| ids.is_empty() || ids.iter().any(|i| i == *k))
                .map(|(k, v)| json!({ "id": k, "value": v }))
                .collect();
            v["singleValueExtendedProperties"] = json!(props);
        }
        v
    }
}

impl GraphCal {
    pub(super) fn write(&mut self, endpoint: &str, env: &Env, req: &Req, segs: &[&str], g: &Grant, p: &Prefs) -> Resp {
        let now = env.now_secs();
        let micros = (env.now * 1_000_000.0) as i64;
        let q = Query::parse(&req.query);
        let me = g.user.email.clone().unwrap_or_else(|| format!("{}@outlook.example", g.user.id));
        let personal = g.user.extra_bool("personal");
        let dedup = self.transaction_dedup;
        let body = match req.method.as_str() {
            "POST" | "PATCH" => match req.json_body() {
                Some(Value::Object(m)) => m,
                _ => return bad(now, "Empty Payload. JSON content expected."),
            },
            _ => Map::new(),
        };
        let store = self.store(&g.user);
        let cx = Ctx { env, req, q: &q, p, me: &me };
        match (endpoint, segs) {
            ("calendars.create", _) => create_calendar(store, &body, &cx, g),
            ("events.create", _) => {
                let cal = match segs {
                    ["me", "calendars", id, "events"] => store.cal(id).filter(|c| !c.deleted).map(|c| c.id.clone()),
                    _ => store.cals.iter().find(|c| c.primary && !c.deleted).map(|c| c.id.clone()),
                };
                let Some(cal) = cal else {
                    return not_found(now);
                };
                create_event(store, &cal, &body, &cx, micros, dedup)
            }
            ("events.list", _) => list_events(store, &cx),
            ("events.get", [.., id]) => {
                let Some(key) = key_of(id) else {
                    return not_found(now);
                };
                let Some(cal) = find(store, &key) else {
                    return not_found(now);
                };
                let Some(c) = store.cal(&cal) else {
                    return not_found(now);
                };
                Resp::json(200, &cx.render(c, &c.events[&key]))
            }
            ("events.update" | "events.delete", [.., id]) => {
                let Some(key) = key_of(id) else {
                    return not_found(now);
                };
                let Some(cal) = find(store, &key) else {
                    return not_found(now);
                };
                let Some(mut ev) = store.cal(&cal).and_then(|c| c.events.get(&key)).cloned() else {
                    return not_found(now);
                };
                if endpoint == "events.delete" {
                    ev.deleted = true;
                    ev.updated = store.stamp(micros);
                    store.put(&cal, ev);
                    return Resp { status: 204, headers: Vec::new(), body: Vec::new() };
                }
                if let Err(e) = apply(&mut ev, &body, false, now) {
                    return e;
                }
                ev.updated = store.stamp(micros);
                store.put(&cal, ev.clone());
                let Some(c) = store.cal(&cal) else {
                    return not_found(now);
                };
                let mut v = cx.render(c, &ev);
                if let Some(o) = v.as_object_mut() {
                    o.remove("singleValueExtendedProperties");
                }
                Resp::json(200, &v)
            }
            ("calendar.getSchedule", _) if personal => graph_error(
                400,
                "ErrorInvalidRequest",
                "getSchedule is not supported for personal Microsoft accounts.",
                now,
            ),
            ("calendar.getSchedule", _) => schedule(store, &body, &me, now),
            _ => bad(now, "Unsupported request."),
        }
    }
}

fn create_calendar(store: &mut Store, body: &Map<String, Value>, cx: &Ctx, g: &Grant) -> Resp {
    let now = cx.now();
    let Some(name) = body.get("name").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
        return bad(now, "A calendar needs a name.");
    };
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let tail: String = crate::core::rand_bytes(60).iter().map(|b| alphabet[(*b % 64) as usize] as char).collect();
    let id = format!("AAMkAD{tail}AAA=");
    let mut c = Calendar::new(&id, name, "UTC", "owner");
    c.app_created = true;
    if let Some(list) = body.get("singleValueExtendedProperties").and_then(Value::as_array) {
        for p in list {
            if let (Some(k), Some(v)) = (p.get("id").and_then(Value::as_str), p.get("value").and_then(Value::as_str)) {
                c.props.insert(k.into(), v.into());
            }
        }
    }
    let v = super::calendar_json(&c, cx.me, &g.user.name);
    store.add_calendar(c);
    Resp::json(201, &v)
}

fn create_event(store: &mut Store, cal: &str, body: &Map<String, Value>, cx: &Ctx, micros: i64, dedup: bool) -> Resp {
    let now = cx.now();
    let tx = body.get("transactionId").and_then(Value::as_str).map(String::from);
    if dedup
        && let Some(t) = &tx
        && let Some((c, ev)) = store.cals.iter().find_map(|c| {
            c.events.values().find(|e| !e.deleted && e.transaction_id.as_deref() == Some(t)).map(|e| (c, e))
        })
    {
        let mut v = cx.render(c, ev);
        if let Some(o) = v.as_object_mut() {
            o.remove("singleValueExtendedProperties");
        }
        return Resp::json(201, &v);
    }
    let stamp = store.stamp(micros);
    let organizer = Person { email: cx.me.to_string(), name: None };
    let mut ev =
        Ev { transaction_id: tx, ..Ev::new(super::new_key(), When::Timed { start: 0, end: 0 }, organizer, stamp) };
    if let Err(e) = apply(&mut ev, body, true, now) {
        return e;
    }
    store.put(cal, ev.clone());
    let Some(c) = store.cal(cal) else {
        return not_found(now);
    };
    let mut v = cx.render(c, &ev);
    if let Some(o) = v.as_object_mut() {
        o.remove("singleValueExtendedProperties");
    }
    Resp::json(201, &v)
}

/// `GET /me/events`: every live single event of the mailbox, `$filter`ed by an extended
/// property when asked; `$top` (default 10) pages by `$skip`.
fn list_events(store: &Store, cx: &Ctx) -> Resp {
    let now = cx.now();
    let filter = match cx.q.get("$filter") {
        None => None,
        Some(f) => match prop_filter(f) {
            Some(x) => Some(x),
            None => return bad(now, "The fake understands only singleValueExtendedProperties/Any filters."),
        },
    };
    let top = cx.q.get("$top").and_then(|t| t.parse::<usize>().ok()).unwrap_or(10).clamp(1, 1000);
    let skip = cx.q.get("$skip").and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
    let mut all: Vec<Value> = Vec::new();
    for c in &store.cals {
        for ev in c.events.values().filter(|e| !e.deleted && e.series.is_none()) {
            if filter.as_ref().is_none_or(|f| matches(ev, f)) {
                let mut v = cx.render(c, ev);
                if filter.is_some() && super::super::Query::parse(&cx.req.query).get("$expand").is_none() {
                    // A `$filter`ed list does not carry the property itself.
                    if let Some(o) = v.as_object_mut() {
                        o.remove("singleValueExtendedProperties");
                    }
                }
                all.push(v);
            }
        }
    }
    let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({ "@odata.context": format!("{}/microsoft/graph/v1.0/$metadata#users('me')/events", cx.env.base),
                           "value": page });
    if skip + top < all.len() {
        let mut link = format!("{}{}?$top={top}&$skip={}", cx.env.base, cx.req.path, skip + top);
        if let Some(f) = cx.q.get("$filter") {
            link.push_str(&format!("&$filter={}", pct_encode(f)));
        }
        if let Some(e) = cx.q.get("$expand") {
            link.push_str(&format!("&$expand={}", pct_encode(e)));
        }
        body["@odata.nextLink"] = json!(link);
    }
    Resp::json(200, &body)
}

/// `getSchedule` for the signed-in user's own address (its default calendar); other addresses
/// get an error item, not a failed request.
fn schedule(store: &Store, body: &Map<String, Value>, me: &str, now: i64) -> Resp {
    let schedules: Vec<&str> = body
        .get("schedules")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if schedules.is_empty() || schedules.len() > 20 {
        return bad(now, "Between 1 and 20 schedules can be requested at once.");
    }
    let t = |k: &str| -> Option<i64> {
        let o = body.get(k)?;
        let tz = zone(o.get("timeZone").and_then(Value::as_str).unwrap_or("UTC"))?;
        parse_iso_local(o.get("dateTime")?.as_str()?, &tz)
    };
    let (Some(start), Some(end)) = (t("startTime"), t("endTime")) else {
        return bad(now, "startTime and endTime are required.");
    };
    if end <= start {
        return bad(now, "The end time must be after the start time.");
    }
    if end - start >= 62 * 86_400 {
        return graph_error(
            400,
            "ErrorTimeIntervalTooBig",
            "The requested time duration specified is too large. Allowed limit = 62 days.",
            now,
        );
    }
    let interval = body.get("availabilityViewInterval").and_then(Value::as_i64).unwrap_or(30);
    if !(5..=1440).contains(&interval) {
        return bad(now, "availabilityViewInterval must be from 5 to 1440.");
    }
    let win = Window { min: Some(start), max: Some(end) };
    let mut out = Vec::new();
    for s in schedules {
        let cal = store.cals.iter().find(|c| c.primary && !c.deleted);
        let (true, Some(c)) = (s.eq_ignore_ascii_case(me), cal) else {
            out.push(json!({ "scheduleId": s, "availabilityView": "",
                "error": { "message": "The specified user could not be found.", "responseCode": "ErrorMailRecipientNotFound" } }));
            continue;
        };
        let tz = c.zone();
        let mut items: Vec<(i64, i64, &Ev)> = Vec::new();
        for ev in c.events.values().filter(|e| e.live() && e.series.is_none()) {
            if ev.is_master() {
                for x in c.instances(ev).into_iter().filter(|x| !x.cancelled && win.overlaps(x.when, &tz)) {
                    let (a, b) = x.when.span(&tz);
                    items.push((a, b, ev));
                }
            } else if win.overlaps(ev.when, &tz) {
                let (a, b) = ev.when.span(&tz);
                items.push((a, b, ev));
            }
        }
        items.sort_by_key(|(a, b, _)| (*a, *b));
        let slots = ((end - start) + interval * 60 - 1) / (interval * 60);
        let view: String = (0..slots)
            .map(|i| {
                let (a, b) = (start + i * interval * 60, start + (i + 1) * interval * 60);
                if items.iter().any(|(s, e, _)| *s < b && *e > a) { '2' } else { '0' }
            })
            .collect();
        let list: Vec<Value> = items
            .iter()
            .map(|(a, b, ev)| {
                json!({ "isPrivate": false, "status": "busy", "subject": ev.title,
                        "location": ev.location.clone().unwrap_or_default(),
                        "start": { "dateTime": graph_local(*a, &TimeZone::UTC), "timeZone": "UTC" },
                        "end": { "dateTime": graph_local(*b, &TimeZone::UTC), "timeZone": "UTC" } })
            })
            .collect();
        out.push(json!({ "scheduleId": s, "availabilityView": view, "scheduleItems": list }));
    }
    Resp::json(200, &json!({ "value": out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_property_filters_are_read() {
        let f = "singleValueExtendedProperties/Any(ep: ep/id eq 'String {6d1c0a5e-3f43-4b7e-9a1e-2f5d8c4b7a10} Name integKey' and ep/value eq 'r7:abc')";
        let (id, v) = prop_filter(f).unwrap();
        assert_eq!(id, "String {6d1c0a5e-3f43-4b7e-9a1e-2f5d8c4b7a10} Name integKey");
        assert_eq!(v, "r7:abc");
        assert!(prop_filter("subject eq 'x'").is_none());
    }
}
