//! Google Calendar writes, as the push section of `shared/providers/google.md` describes them:
//! `calendars.insert` (never deduplicated), `events.insert` with a client-supplied id (base32hex,
//! 5 to 1024 characters; 409 `duplicate` for a live **or cancelled** id), `events.patch` (fields
//! replace, nested objects merge, `null` deletes a key; `date` + `dateTime` together is 400),
//! `events.update` (replaces everything, `extendedProperties` included; a stale `If-Match` is
//! 412 `conditionNotMet`), `events.delete` (204;
//! 410 `deleted` for a cancelled event; 404 for an unknown id), undelete by patching `status:
//! "confirmed"` (switchable to 403), `extendedProperties.private` limits (keys over 44
//! characters dropped, values over 1024 truncated), `freeBusy.query`, and 403
//! `insufficientPermissions` per the scope table.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::super::model::{Calendar, Ev, Person, Status, Store, When};
use super::super::time::{parse_date, parse_rfc3339, utc_secs};
use super::{GoogleCal, SCOPE, gerr, invalid, not_found, primary_id, render};
use crate::core::{Env, Grant, Stats};
use crate::http::{Req, Resp};

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
const CAL_INSERT: &[&str] = &["calendar", "calendar.app.created", "calendar.calendars"];
const FREEBUSY: &[&str] = &["calendar", "calendar.readonly", "calendar.events.freebusy", "calendar.freebusy"];
const MAX_KEY: usize = 44;
const MAX_VALUE: usize = 1024;

fn insufficient(method: &str) -> Resp {
    Resp::json(
        403,
        &json!({ "error": { "code": 403, "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "errors": [{ "message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions" }],
            "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": { "service": "calendar-json.googleapis.com", "method": method } }] } }),
    )
}

fn no_content() -> Resp {
    Resp { status: 204, headers: Vec::new(), body: Vec::new() }
}

/// Whether the grant holds one of `scopes` (short names under `…/auth/`).
fn has(g: &Grant, scopes: &[&str]) -> bool {
    scopes.iter().any(|s| g.scope.iter().any(|x| *x == format!("{SCOPE}{s}")))
}

/// Whether the grant may write events in `cal`: `calendar.app.created` only covers calendars
/// this client created; `calendar.events.owned` only calendars the user owns.
fn may_write(g: &Grant, cal: &Calendar) -> bool {
    has(g, &["calendar", "calendar.events"])
        || (has(g, &["calendar.events.owned"]) && cal.role == "owner")
        || (has(g, &["calendar.app.created"]) && cal.app_created)
}

/// A valid client-supplied event id.
pub fn valid_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| ALPHABET.contains(&b))
}

/// One side of an event's times as a merged JSON object, `{dateTime|date, timeZone?}`.
fn time_obj(w: When, end: bool, tz: &str) -> Map<String, Value> {
    let mut m = Map::new();
    match w {
        When::Timed { start, end: e } => {
            m.insert("dateTime".into(), json!(utc_secs(if end { e } else { start })));
            m.insert("timeZone".into(), json!(tz));
        }
        When::AllDay { start, end: e } => {
            m.insert("date".into(), json!(super::super::time::date_str(if end { e } else { start })));
        }
    }
    m
}

enum Side {
    At(i64),
    Day(i64),
}

fn side(m: &Map<String, Value>, which: &str) -> Result<(Side, Option<String>), Resp> {
    let bad = || invalid(&format!("Invalid {which} time."));
    let dt = m.get("dateTime").filter(|v| !v.is_null());
    let d = m.get("date").filter(|v| !v.is_null());
    let tz = m.get("timeZone").and_then(Value::as_str).map(String::from);
    match (dt, d) {
        (Some(v), None) => {
            let t = v.as_str().and_then(parse_rfc3339).ok_or_else(bad)?;
            Ok((Side::At(t), tz))
        }
        (None, Some(v)) => Ok((Side::Day(v.as_str().and_then(parse_date).ok_or_else(bad)?), None)),
        _ => Err(bad()),
    }
}

/// Times from merged `start`/`end` objects; the end must come after the start.
fn when_of(start: &Map<String, Value>, end: &Map<String, Value>) -> Result<(When, Option<String>), Resp> {
    let (s, tz) = side(start, "start")?;
    let (e, _) = side(end, "end")?;
    let w = match (s, e) {
        (Side::At(a), Side::At(b)) => When::Timed { start: a, end: b },
        (Side::Day(a), Side::Day(b)) => When::AllDay { start: a, end: b },
        _ => return Err(invalid("The start and end times must both be dates or both be date-times.")),
    };
    let (a, b) = match w {
        When::Timed { start, end } | When::AllDay { start, end } => (start, end),
    };
    if b <= a {
        return Err(gerr(400, "calendar", Some("timeRangeEmpty"), "The specified time range is empty."));
    }
    Ok((w, tz))
}

/// Merge a patch object into `base`: keys replace, `null` deletes.
fn merge(base: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            base.remove(k);
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// Apply `extendedProperties.private` with Google's silent limits.
fn merge_props(props: &mut BTreeMap<String, String>, private: &Map<String, Value>) {
    for (k, v) in private {
        if k.chars().count() > MAX_KEY {
            continue;
        }
        match v {
            Value::Null => {
                props.remove(k);
            }
            Value::String(s) => {
                props.insert(k.clone(), s.chars().take(MAX_VALUE).collect());
            }
            other => {
                props.insert(k.clone(), other.to_string().chars().take(MAX_VALUE).collect());
            }
        }
    }
}

/// Apply an insert, patch or update body to `ev`. `replace` (insert, update) clears what the
/// body leaves out.
fn apply(ev: &mut Ev, body: &Map<String, Value>, replace: bool) -> Result<(), Resp> {
    let text = |k: &str| -> Result<Option<Option<String>>, Resp> {
        match body.get(k) {
            None if replace => Ok(Some(None)),
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(invalid(&format!("Invalid value for {k}."))),
        }
    };
    if let Some(v) = text("summary")? {
        ev.title = v.unwrap_or_default();
    }
    if let Some(v) = text("description")? {
        ev.description = v;
    }
    if let Some(v) = text("location")? {
        ev.location = v;
    }
    if body.contains_key("attendees") {
        return Err(invalid("The fake does not take attendees on writes."));
    }
    match body.get("status").and_then(Value::as_str) {
        Some("confirmed") => ev.status = Status::Confirmed,
        Some("tentative") => ev.status = Status::Tentative,
        Some("cancelled") => ev.status = Status::Cancelled,
        Some(_) => return Err(invalid("Invalid value for status.")),
        None if replace => ev.status = Status::Confirmed,
        None => {}
    }
    let obj = |k: &str| -> Result<Option<Map<String, Value>>, Resp> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(invalid(&format!("Invalid {k} time."))),
        }
    };
    let (ps, pe) = (obj("start")?, obj("end")?);
    if replace && (ps.is_none() || pe.is_none()) {
        return Err(gerr(400, "global", Some("required"), "Missing end time."));
    }
    if ps.is_some() || pe.is_some() {
        let (mut s, mut e) = if replace {
            (Map::new(), Map::new())
        } else {
            (time_obj(ev.when, false, &ev.tz), time_obj(ev.when, true, &ev.tz))
        };
        if let Some(p) = &ps {
            merge(&mut s, p);
        }
        if let Some(p) = &pe {
            merge(&mut e, p);
        }
        let (w, tz) = when_of(&s, &e)?;
        ev.when = w;
        ev.tz = tz.unwrap_or_else(|| "UTC".into());
    }
    let private = body.get("extendedProperties").and_then(|x| x.get("private")).and_then(Value::as_object);
    if replace {
        ev.props.clear();
    }
    if let Some(p) = private {
        merge_props(&mut ev.props, p);
    }
    Ok(())
}

impl GoogleCal {
    /// Writes and `freeBusy.query`; `segs` is the path after `calendar/v3/`.
    pub(super) fn write(&mut self, stats: &mut Stats, env: &Env, req: &Req, segs: &[&str], g: &Grant) -> Resp {
        let (endpoint, method_name) = match (req.method.as_str(), segs) {
            ("POST", ["calendars"]) => ("calendars.insert", "calendar.v3.Calendars.Insert"),
            ("POST", ["calendars", _, "events"]) => ("events.insert", "calendar.v3.Events.Insert"),
            ("PATCH", ["calendars", _, "events", _]) => ("events.patch", "calendar.v3.Events.Patch"),
            ("PUT", ["calendars", _, "events", _]) => ("events.update", "calendar.v3.Events.Update"),
            ("DELETE", ["calendars", _, "events", _]) => ("events.delete", "calendar.v3.Events.Delete"),
            ("POST", ["freeBusy"]) => ("freeBusy.query", "calendar.v3.Freebusy.Query"),
            _ => return gerr(405, "global", Some("httpMethodNotAllowed"), "Method not allowed."),
        };
        *stats.endpoints.entry(endpoint.into()).or_default() += 1;
        if let Some(fault) = self.injected_fault(stats) {
            return fault;
        }
        let Some(body) = req.json_body() else {
            return gerr(400, "global", Some("parseError"), "Parse Error");
        };
        let empty = Map::new();
        let body_map = body.as_object().unwrap_or(&empty);
        let now = (env.now * 1_000_000.0) as i64;
        let me = primary_id(&g.user);
        let restore_forbidden = self.restore_forbidden;
        let store = self.store(&g.user);
        let cal_id = |s: &str| if s == "primary" { me.clone() } else { s.to_string() };
        match segs {
            ["calendars"] => {
                if !has(g, CAL_INSERT) {
                    return insufficient(method_name);
                }
                insert_calendar(store, body_map)
            }
            ["freeBusy"] => {
                if !has(g, FREEBUSY) {
                    return insufficient(method_name);
                }
                free_busy(store, &me, body_map)
            }
            ["calendars", id, "events", rest @ ..] => {
                let id = cal_id(id);
                let Some(cal) = store.cal(&id).filter(|c| !c.deleted) else {
                    return not_found();
                };
                if !may_write(g, cal) {
                    return insufficient(method_name);
                }
                if cal.role != "owner" && cal.role != "writer" {
                    return gerr(
                        403,
                        "global",
                        Some("requiredAccessLevel"),
                        "You need to have writer access to this calendar.",
                    );
                }
                let owner = Person { email: me.clone(), name: Some(g.user.name.clone()) };
                match (endpoint, rest) {
                    ("events.insert", []) => insert_event(store, &id, owner, body_map, now, &me, req),
                    ("events.patch", [eid]) => {
                        change_event(store, &id, eid, body_map, now, false, restore_forbidden, &me, req)
                    }
                    ("events.update", [eid]) => {
                        change_event(store, &id, eid, body_map, now, true, restore_forbidden, &me, req)
                    }
                    ("events.delete", [eid]) => delete_event(store, &id, eid, now),
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

fn rendered(store: &Store, cal: &str, key: &str, me: &str, req: &Req) -> Resp {
    let Some(c) = store.cal(cal) else {
        return not_found();
    };
    let Some(ev) = c.events.get(key) else {
        return not_found();
    };
    let q = super::super::Query::parse(&req.query);
    match render(c, me, &q) {
        Ok(r) => {
            let mut v = r.event(ev, key, ev.when, None);
            if ev.deleted {
                v["status"] = json!("cancelled");
            }
            Resp::json(200, &v)
        }
        Err(e) => e,
    }
}

fn insert_calendar(store: &mut Store, body: &Map<String, Value>) -> Resp {
    let Some(summary) = body.get("summary").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) else {
        return gerr(400, "global", Some("required"), "Missing title.");
    };
    let tz = body.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
    if super::super::time::zone(tz).is_none() {
        return invalid("Invalid time zone definition for time zone.");
    }
    let hex: String = crate::core::rand_bytes(20).iter().map(|b| format!("{b:02x}")).collect();
    let id = format!("c_{hex}@group.calendar.google.com");
    let mut c = Calendar::new(&id, summary, tz, "owner");
    c.app_created = true;
    c.description = body.get("description").and_then(Value::as_str).map(String::from);
    store.add_calendar(c);
    let desc = body.get("description").cloned().unwrap_or(Value::Null);
    Resp::json(
        200,
        &json!({ "kind": "calendar#calendar", "etag": format!("\"{}\"", store.seq), "id": id,
                 "summary": summary, "description": desc, "timeZone": tz }),
    )
}

#[allow(clippy::too_many_arguments)]
fn insert_event(
    store: &mut Store,
    cal: &str,
    owner: Person,
    body: &Map<String, Value>,
    now: i64,
    me: &str,
    req: &Req,
) -> Resp {
    let key = match body.get("id") {
        None | Some(Value::Null) => super::new_event_id(),
        Some(Value::String(id)) if valid_id(id) => id.clone(),
        Some(_) => return invalid("Invalid resource id value."),
    };
    if body.contains_key("iCalUID") && body.contains_key("id") {
        return invalid("Only one of id and iCalUID may be given.");
    }
    // Google keeps deleted events' ids: a cancelled one is still a duplicate.
    if store.cal(cal).is_some_and(|c| c.events.contains_key(&key)) {
        return gerr(409, "global", Some("duplicate"), "The requested identifier already exists.");
    }
    let stamp = store.stamp(now);
    let mut ev = Ev::new(key.clone(), When::Timed { start: 0, end: 1 }, owner, stamp);
    if let Err(e) = apply(&mut ev, body, true) {
        return e;
    }
    if ev.status == Status::Cancelled {
        ev.deleted = true;
    }
    store.put(cal, ev);
    rendered(store, cal, &key, me, req)
}

#[allow(clippy::too_many_arguments)]
fn change_event(
    store: &mut Store,
    cal: &str,
    eid: &str,
    body: &Map<String, Value>,
    now: i64,
    replace: bool,
    restore_forbidden: bool,
    me: &str,
    req: &Req,
) -> Resp {
    let Some(mut ev) = store.cal(cal).and_then(|c| c.events.get(eid)).filter(|e| e.series.is_none()).cloned() else {
        return not_found();
    };
    // `If-Match` with a stale etag: someone changed the event since it was read.
    let if_match = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("if-match")).map(|(_, v)| v.trim());
    if let Some(tag) = if_match
        && tag != "*"
        && tag != format!("\"{}\"", ev.updated * 2)
    {
        return gerr(412, "global", Some("conditionNotMet"), "Precondition Failed");
    }
    let was_deleted = ev.deleted;
    if let Err(e) = apply(&mut ev, body, replace) {
        return e;
    }
    match (was_deleted, ev.status) {
        (true, Status::Confirmed | Status::Tentative) if restore_forbidden => {
            return gerr(403, "global", Some("forbidden"), "Forbidden");
        }
        (_, Status::Cancelled) => ev.deleted = true,
        _ => ev.deleted = false,
    }
    if was_deleted && ev.deleted {
        // Google answers a write to a deleted event as it is; nothing changes.
        return rendered(store, cal, eid, me, req);
    }
    ev.updated = store.stamp(now);
    ev.sequence += 1;
    store.put(cal, ev);
    rendered(store, cal, eid, me, req)
}

fn delete_event(store: &mut Store, cal: &str, eid: &str, now: i64) -> Resp {
    let Some(mut ev) = store.cal(cal).and_then(|c| c.events.get(eid)).filter(|e| e.series.is_none()).cloned() else {
        return not_found();
    };
    if ev.deleted || ev.status == Status::Cancelled {
        return gerr(410, "global", Some("deleted"), "Resource has been deleted");
    }
    ev.deleted = true;
    ev.status = Status::Cancelled;
    ev.updated = store.stamp(now);
    store.put(cal, ev);
    no_content()
}

/// Busy blocks per calendar: live, opaque events (all-day events are transparent here, as the
/// fake renders them) overlapping the range; unknown calendars get `notFound`.
fn free_busy(store: &Store, me: &str, body: &Map<String, Value>) -> Resp {
    let t = |k: &str| body.get(k).and_then(Value::as_str).and_then(parse_rfc3339);
    let (Some(min), Some(max)) = (t("timeMin"), t("timeMax")) else {
        return gerr(400, "global", Some("badRequest"), "Bad Request");
    };
    if max <= min {
        return gerr(400, "calendar", Some("timeRangeEmpty"), "The specified time range is empty.");
    }
    if max - min > 90 * 86_400 {
        return gerr(400, "calendar", Some("timeRangeTooLong"), "The requested time range is too long.");
    }
    let items: Vec<&str> = body
        .get("items")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    if items.len() > 50 {
        return gerr(400, "calendar", Some("tooManyCalendarsRequested"), "Too many calendars requested.");
    }
    let win = super::super::model::Window { min: Some(min), max: Some(max) };
    let mut cals = Map::new();
    for id in items {
        let real = if id == "primary" { me } else { id };
        let Some(c) = store.cal(real).filter(|c| !c.deleted) else {
            cals.insert(id.into(), json!({ "errors": [{ "domain": "global", "reason": "notFound" }], "busy": [] }));
            continue;
        };
        let tz = c.zone();
        let mut busy: Vec<(i64, i64)> = Vec::new();
        for ev in c.events.values().filter(|e| e.series.is_none() && e.live() && !e.when.is_all_day()) {
            if ev.is_master() {
                for x in c.instances(ev).into_iter().filter(|x| !x.cancelled && !x.when.is_all_day()) {
                    if win.overlaps(x.when, &tz) {
                        busy.push(x.when.span(&tz));
                    }
                }
            } else if win.overlaps(ev.when, &tz) {
                busy.push(ev.when.span(&tz));
            }
        }
        busy.sort();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in busy {
            let (s, e) = (s.max(min), e.min(max));
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let list: Vec<Value> =
            merged.into_iter().map(|(s, e)| json!({ "start": utc_secs(s), "end": utc_secs(e) })).collect();
        cals.insert(id.into(), json!({ "busy": list }));
    }
    Resp::json(
        200,
        &json!({ "kind": "calendar#freeBusy", "timeMin": utc_secs(min), "timeMax": utc_secs(max), "calendars": cals }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_googles_alphabet() {
        assert!(valid_id("abcde"));
        assert!(valid_id("0123456789abcdefghijklmnopqrstuv"));
        assert!(!valid_id("abcd"), "too short");
        assert!(!valid_id("abcdw"), "w is not base32hex");
        assert!(!valid_id("ABCDE"), "upper case");
        assert!(!valid_id(&"a".repeat(1025)));
    }

    #[test]
    fn private_properties_drop_long_keys_and_truncate_long_values() {
        let mut p = BTreeMap::new();
        let long_key = "k".repeat(45);
        let body = json!({ long_key.clone(): "x", "v": "y".repeat(2000), "gone": null });
        p.insert("gone".to_string(), "1".to_string());
        merge_props(&mut p, body.as_object().unwrap());
        assert!(!p.contains_key(&long_key));
        assert_eq!(p["v"].len(), 1024);
        assert!(!p.contains_key("gone"));
    }

    #[test]
    fn a_patch_that_mixes_date_and_datetime_is_refused() {
        let mut s = time_obj(When::Timed { start: 0, end: 3600 }, false, "UTC");
        merge(&mut s, json!({ "date": "2026-04-06" }).as_object().unwrap());
        assert!(side(&s, "start").is_err());
        merge(&mut s, json!({ "dateTime": null }).as_object().unwrap());
        assert!(matches!(side(&s, "start"), Ok((Side::Day(_), _))));
    }
}
