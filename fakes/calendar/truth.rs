//! The ground truth: every live event a correct client should hold after syncing, in one
//! provider-neutral shape, expanded the way the client syncs (Google `singleEvents=true`,
//! Graph occurrences, Calendly both statuses).
//!
//! Row: `{calendar_id, id, title, description, location, status, all_day, start, end,
//! time_zone, series_id, original_start, organizer, attendees_count, updated}`. Timed
//! `start`/`end`/`original_start` are RFC 3339 UTC instants (`2026-03-09T15:00:00Z`, six
//! fractional digits only when not whole seconds); all-day ones are `YYYY-MM-DD` with an
//! exclusive end. Empty strings become null. `updated` is the provider's own string.

use serde_json::{Value, json};

use super::calendly::{Booking, Bookings, api_base, user_uri};
use super::graph::ext_id;
use super::model::{Calendar, Ev, Inst, Status, Store, When, Window};
use super::rrule::Orig;
use super::time::{date_str, utc_frac, utc_secs};
use crate::core::{Env, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Google,
    Microsoft,
}

fn opt(s: Option<&str>) -> Value {
    match s {
        Some(x) if !x.is_empty() => json!(x),
        _ => Value::Null,
    }
}

/// A canonical instant from microseconds.
pub fn instant(micros: i64) -> String {
    if micros % 1_000_000 == 0 { utc_secs(micros / 1_000_000) } else { utc_frac(micros, 6) }
}

fn bound(w: When, end: bool) -> String {
    match w {
        When::Timed { start, end: e } => utc_secs(if end { e } else { start }),
        When::AllDay { start, end: e } => date_str(if end { e } else { start }),
    }
}

fn orig(o: Orig) -> String {
    match o {
        Orig::At(t) => utc_secs(t),
        Orig::Day(d) => date_str(d),
    }
}

struct Row<'a> {
    cal: &'a Calendar,
    /// The owner's address (Google: the primary calendar's id).
    me: &'a str,
    id: String,
    src: &'a Ev,
    when: When,
    series: Option<(String, Orig, &'a Ev)>,
}

/// Google shows a secondary calendar as the organizer of its owner's events.
fn organizer<'a>(p: Provider, r: &'a Row) -> &'a str {
    if p == Provider::Google && !r.cal.primary && r.src.organizer.email == r.me {
        &r.cal.id
    } else {
        &r.src.organizer.email
    }
}

fn row(p: Provider, r: Row) -> Value {
    let ev = r.src;
    let status = if ev.is_cancelled { Status::Cancelled } else { ev.status };
    let tz = match (r.when.is_all_day(), &r.series) {
        (true, _) => Value::Null,
        (false, Some((_, _, m))) => json!(m.tz),
        (false, None) => json!(ev.tz),
    };
    let updated = match p {
        Provider::Google => utc_frac(ev.updated, 3),
        Provider::Microsoft => utc_frac(ev.updated, 7),
    };
    json!({
        "calendar_id": r.cal.id,
        "id": r.id,
        "title": ev.title,
        "description": opt(ev.description.as_deref()),
        "location": opt(ev.location.as_deref()),
        "status": status.as_str(),
        "all_day": r.when.is_all_day(),
        "start": bound(r.when, false),
        "end": bound(r.when, true),
        "time_zone": tz,
        "series_id": r.series.as_ref().map(|s| s.0.clone()),
        "original_start": r.series.as_ref().map(|s| orig(s.1)),
        "organizer": organizer(p, &r),
        "attendees_count": ev.attendees.len(),
        "updated": updated,
    })
}

/// Calendars the truth covers: one by id, or every listed one (Google: not deleted, not
/// hidden; Graph: not deleted).
fn calendars<'a>(s: &'a Store, cal: Option<&str>) -> Vec<&'a Calendar> {
    s.cals
        .iter()
        .filter(|c| match cal {
            Some(id) => c.id == id,
            None => !c.deleted && !c.hidden,
        })
        .collect()
}

/// Truth rows for Google or Microsoft, sorted by calendar, start, id.
pub fn events(p: Provider, s: &Store, cal: Option<&str>, win: Window) -> Vec<Value> {
    let id = |k: &str| match p {
        Provider::Google => k.to_string(),
        Provider::Microsoft => ext_id(k, true, 0),
    };
    let me = s.cals.iter().find(|c| c.primary).map_or("", |c| c.id.as_str());
    let mut out: Vec<(String, i64, String, Value)> = Vec::new();
    for c in calendars(s, cal) {
        let tz = c.zone();
        for ev in c.events.values() {
            if ev.series.is_some() || !ev.live() {
                continue;
            }
            let mut push = |r: Row| {
                let sort = r.when.span(&tz).0;
                let idv = r.id.clone();
                out.push((c.id.clone(), sort, idv, row(p, r)));
            };
            if ev.is_master() {
                for Inst { key, orig: o, when, src, cancelled, .. } in c.instances(ev) {
                    if cancelled || !win.overlaps(when, &tz) {
                        continue;
                    }
                    push(Row { cal: c, me, id: id(&key), src, when, series: Some((id(&ev.key), o, ev)) });
                }
            } else if win.overlaps(ev.when, &tz) {
                push(Row { cal: c, me, id: id(&ev.key), src: ev, when: ev.when, series: None });
            }
        }
    }
    out.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
    out.into_iter().map(|x| x.3).collect()
}

fn calendly_row(env: &Env, u: &User, b: &Booking) -> Value {
    let loc = b
        .location
        .get("location")
        .or_else(|| b.location.get("join_url"))
        .or_else(|| b.location.get("type"))
        .and_then(Value::as_str);
    json!({
        "calendar_id": user_uri(env, u),
        "id": format!("{}/scheduled_events/{}", api_base(env), b.uuid),
        "title": b.name,
        "description": opt(b.notes.as_deref()),
        "location": opt(loc),
        "status": if b.canceled { "canceled" } else { "active" },
        "all_day": false,
        "start": instant(b.start),
        "end": instant(b.end),
        "time_zone": "UTC",
        "series_id": null,
        "original_start": null,
        "organizer": u.email,
        "attendees_count": b.invitees.len(),
        "updated": utc_frac(b.updated, 6),
    })
}

/// Calendly: every event (active and canceled) whose start is in `[min, max)`.
pub fn calendly(env: &Env, u: &User, s: &Bookings, min: Option<i64>, max: Option<i64>) -> Vec<Value> {
    s.by_start
        .iter()
        .filter(|(t, _)| min.is_none_or(|m| *t >= m) && max.is_none_or(|m| *t < m))
        .filter_map(|(_, id)| s.by_uuid.get(id))
        .map(|b| calendly_row(env, u, b))
        .collect()
}

/// Every single event record of one calendar as the writes left it, deleted ones included
/// (Google keeps their ids; Graph forgets them, but the fake keeps the record so a test can
/// see what happened): `{id, deleted, status, title, description, location, all_day, start,
/// end, time_zone, props, transaction_id, attendees_count}`, sorted by id. Times as in
/// [`events`].
pub fn written(p: Provider, cal: &Calendar) -> Vec<Value> {
    let mut rows: Vec<Value> = cal
        .events
        .values()
        .filter(|e| e.series.is_none() && e.rec.is_none())
        .map(|ev| {
            let id = match p {
                Provider::Google => ev.key.clone(),
                Provider::Microsoft => ext_id(&ev.key, true, 0),
            };
            json!({
                "id": id,
                "deleted": ev.deleted || ev.status == Status::Cancelled,
                "status": ev.status.as_str(),
                "title": ev.title,
                "description": opt(ev.description.as_deref()),
                "location": opt(ev.location.as_deref()),
                "all_day": ev.when.is_all_day(),
                "start": bound(ev.when, false),
                "end": bound(ev.when, true),
                "time_zone": ev.tz,
                "props": ev.props,
                "transaction_id": ev.transaction_id,
                "attendees_count": ev.attendees.len(),
            })
        })
        .collect();
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    rows
}
