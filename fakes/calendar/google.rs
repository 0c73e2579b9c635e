//! Google Calendar API v3 under the fake's API base (`/google/api/calendar/v3/...`):
//! `users/me/calendarList[/{id}]`, `calendars/{id}`, `calendars/{id}/events[/{eventId}]`.
//!
//! `events.list` follows the sync guide: full rounds paged by `nextPageToken` (pages short or
//! empty now and then) with `nextSyncToken` only on the last page; incremental rounds with
//! `syncToken` return every record changed since the token's round began, window or not,
//! deletions as `{kind,id,status:"cancelled"}` and cancelled instances with
//! `recurringEventId` + `originalStartTime`; 400 `syncTokenWithRequestRestrictions`; 410 for
//! a token the control API invalidated (optionally without `reason`). A sync token carries the
//! calendar, the change number its round began at, the calendar's token generation and
//! `singleEvents`; a later request with a different `singleEvents` is served as asked
//! (undefined at Google) and counted under `events.list (sync params changed)`.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::model::{Calendar, Ev, Status, Store, When, Window};
use super::rrule::Orig;
use super::seed::{Rng, mix};
use super::time::{date_str, parse_rfc3339, rfc3339_in, utc_frac, zone};
use super::{Layout, Paging, Pos, Query, SeedCfg, b64, decode_token, encode_token, pct_decode};
use crate::core::{Env, Grant, Stats, User};
use crate::http::{Req, Resp};

mod write;

const SCOPE: &str = "https://www.googleapis.com/auth/";
const LIST_SCOPES: &[&str] =
    &["calendar", "calendar.readonly", "calendar.calendarlist", "calendar.calendarlist.readonly"];
const EVENT_SCOPES: &[&str] = &["calendar", "calendar.readonly", "calendar.events", "calendar.events.readonly"];
/// Filters `syncToken` cannot be combined with.
const RESTRICTIONS: &[&str] = &[
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "updatedMin",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
];
const HOLIDAYS: &str = "en.usa#holiday@group.v.calendar.google.com";

pub struct GoogleCal {
    pub seed: SeedCfg,
    pub users: HashMap<String, Store>,
    /// Statuses (403, 429, 500) the next calendar requests answer with.
    pub throttle: Vec<u16>,
    pub paging: Paging,
    /// Refuse to bring a cancelled event back with a patch (403), as Google did for someone
    /// who had emptied the bin.
    pub restore_forbidden: bool,
}

/// Google's error envelope; `reason: None` leaves the reason out (some 410s).
pub fn gerr(code: u16, domain: &str, reason: Option<&str>, message: &str) -> Resp {
    let mut item = Map::new();
    item.insert("domain".into(), json!(domain));
    if let Some(r) = reason {
        item.insert("reason".into(), json!(r));
    }
    item.insert("message".into(), json!(message));
    Resp::json(code, &json!({ "error": { "errors": [item], "code": code, "message": message } }))
}

fn invalid(message: &str) -> Resp {
    gerr(400, "global", Some("invalid"), message)
}

fn not_found() -> Resp {
    gerr(404, "global", Some("notFound"), "Not Found")
}

/// A primary calendar id for a user.
pub fn primary_id(u: &User) -> String {
    u.email.clone().unwrap_or_else(|| format!("{}@gmail.example", u.id))
}

fn seed_store(u: &User, cfg: SeedCfg) -> Store {
    let mut rng = Rng::new(mix(cfg.seed, &u.id));
    let primary = primary_id(u);
    let crew = format!("c_{}@group.calendar.google.com", rng.chars(40, b"0123456789abcdef"));
    let mut s = Store::default();
    let mut p = Calendar::new(&primary, &primary, "America/Denver", "owner");
    p.primary = true;
    s.add_calendar(p);
    let mut c = Calendar::new(&crew, "Crew schedule", "Europe/Berlin", "owner");
    c.color = "#f83a22".into();
    s.add_calendar(c);
    let mut h = Calendar::new(HOLIDAYS, "Holidays in United States", "America/Denver", "reader");
    h.color = "#16a765".into();
    s.add_calendar(h);
    let cals = vec![primary.clone(), crew, HOLIDAYS.to_string()];
    let mut idr = Rng::new(mix(cfg.seed ^ 0x600613, &u.id));
    let mut new_id = || idr.chars(26, b"0123456789abcdefghijklmnopqrstuv");
    let mut layout = Layout {
        cals: &cals,
        owner: super::model::Person { email: primary.clone(), name: Some(u.name.clone()) },
        zone_name: &|z, _| z.to_string(),
        new_id: &mut new_id,
    };
    let evs = super::seed::shifted(super::seed::generate(cfg.events, cfg.seed), cfg.shift_days);
    super::materialize(&mut s, &mut layout, &evs, &mut rng);
    s
}

/// A new Google event id (base32hex, as the API requires).
pub fn new_event_id() -> String {
    crate::core::rand_bytes(16)
        .iter()
        .map(|b| b"0123456789abcdefghijklmnopqrstuv"[(*b % 32) as usize] as char)
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct SyncTok {
    c: String,
    w: u64,
    g: u64,
    s: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct PageTok {
    c: String,
    /// Change number when the round began (the next sync token's watermark).
    w: u64,
    /// Incremental rounds: the watermark of the sync token used.
    b: Option<u64>,
    g: u64,
    n: u32,
    p: Pos,
    /// Offset for ordered listings.
    o: usize,
}

/// Per-request rendering context.
struct Render<'a> {
    cal: &'a Calendar,
    cal_tz: TimeZone,
    out_tz: TimeZone,
    me: &'a str,
}

struct Filter {
    win: Window,
    q: Option<String>,
    ical: Option<String>,
    updated_min: Option<i64>,
    show_deleted: bool,
    /// `privateExtendedProperty=key=value` constraints, all of which must match.
    private: Vec<(String, String)>,
    /// `sharedExtendedProperty` given: the fake keeps no shared properties, so nothing matches.
    shared: bool,
}

impl Filter {
    fn text(&self, ev: &Ev, master: &Ev) -> bool {
        if self.shared {
            return false;
        }
        if !self.private.iter().all(|(k, v)| master.props.get(k) == Some(v)) {
            return false;
        }
        if let Some(u) = &self.ical
            && *u != format!("{}@google.com", master.key)
        {
            return false;
        }
        if let Some(q) = &self.q {
            let q = q.to_lowercase();
            let hay = [Some(ev.title.as_str()), ev.description.as_deref(), ev.location.as_deref()];
            if !hay.iter().flatten().any(|h| h.to_lowercase().contains(&q)) {
                return false;
            }
        }
        true
    }

    /// Deleted items show with `showDeleted`, or when `updatedMin` picks them up.
    fn deleted_ok(&self, ev: &Ev) -> bool {
        self.show_deleted || self.updated_min.is_some_and(|m| ev.updated >= m)
    }

    fn updated_ok(&self, ev: &Ev) -> bool {
        self.updated_min.is_none_or(|m| ev.updated >= m)
    }
}

impl Render<'_> {
    fn time(&self, w: When, tz: &str, end: bool) -> Value {
        match w {
            When::Timed { start, end: e } => {
                json!({ "dateTime": rfc3339_in(if end { e } else { start }, &self.out_tz), "timeZone": tz })
            }
            When::AllDay { start, end: e } => {
                json!({ "date": date_str(if end { e } else { start }) })
            }
        }
    }

    fn orig(&self, o: Orig, tz: &str) -> Value {
        match o {
            Orig::At(t) => json!({ "dateTime": rfc3339_in(t, &self.out_tz), "timeZone": tz }),
            Orig::Day(d) => json!({ "date": date_str(d) }),
        }
    }

    fn sort_start(&self, w: When) -> i64 {
        w.span(&self.cal_tz).0
    }

    /// A full event. `inst` = (master, original start) for instances and exceptions.
    fn event(&self, ev: &Ev, id: &str, when: When, inst: Option<(&Ev, Orig)>) -> Value {
        let cal = self.cal;
        let mut m = Map::new();
        m.insert("kind".into(), json!("calendar#event"));
        m.insert("etag".into(), json!(format!("\"{}\"", ev.updated * 2)));
        m.insert("id".into(), json!(id));
        m.insert("status".into(), json!(ev.status.as_str()));
        m.insert(
            "htmlLink".into(),
            json!(format!("https://www.google.com/calendar/event?eid={}", b64(&format!("{id} {}", cal.id)))),
        );
        m.insert("created".into(), json!(utc_frac(ev.created, 3)));
        m.insert("updated".into(), json!(utc_frac(ev.updated, 3)));
        m.insert("summary".into(), json!(ev.title));
        if let Some(d) = &ev.description {
            m.insert("description".into(), json!(d));
        }
        if let Some(l) = &ev.location {
            m.insert("location".into(), json!(l));
        }
        let own = ev.organizer.email == self.me;
        let organizer = if own && !cal.primary {
            json!({ "email": cal.id, "displayName": cal.name, "self": true })
        } else {
            let mut o = Map::new();
            o.insert("email".into(), json!(ev.organizer.email));
            if let Some(n) = &ev.organizer.name {
                o.insert("displayName".into(), json!(n));
            }
            if own {
                o.insert("self".into(), json!(true));
            }
            Value::Object(o)
        };
        let mut creator = organizer.clone();
        if let Some(c) = creator.as_object_mut() {
            c.remove("displayName");
        }
        m.insert("creator".into(), creator);
        m.insert("organizer".into(), organizer);
        let tz = inst.map(|(ms, _)| ms.tz.as_str()).unwrap_or(&ev.tz);
        m.insert("start".into(), self.time(when, tz, false));
        m.insert("end".into(), self.time(when, tz, true));
        if when.is_all_day() {
            m.insert("transparency".into(), json!("transparent"));
        }
        match inst {
            Some((master, o)) => {
                m.insert("recurringEventId".into(), json!(master.key));
                m.insert("originalStartTime".into(), self.orig(o, &master.tz));
            }
            None if !ev.recurrence.is_empty() => {
                m.insert("recurrence".into(), json!(ev.recurrence));
            }
            None => {}
        }
        let uid = inst.map(|(ms, _)| ms.key.as_str()).unwrap_or(&ev.key);
        m.insert("iCalUID".into(), json!(format!("{uid}@google.com")));
        m.insert("sequence".into(), json!(ev.sequence));
        if !ev.attendees.is_empty() {
            let list: Vec<Value> = ev
                .attendees
                .iter()
                .map(|a| {
                    let mut x = Map::new();
                    x.insert("email".into(), json!(a.email));
                    if let Some(n) = &a.name {
                        x.insert("displayName".into(), json!(n));
                    }
                    if a.email == self.me {
                        x.insert("self".into(), json!(true));
                    }
                    x.insert("responseStatus".into(), json!(a.response));
                    Value::Object(x)
                })
                .collect();
            m.insert("attendees".into(), json!(list));
        }
        m.insert("reminders".into(), json!({ "useDefault": true }));
        m.insert("eventType".into(), json!("default"));
        if !ev.props.is_empty() {
            m.insert("extendedProperties".into(), json!({ "private": ev.props }));
        }
        Value::Object(m)
    }

    fn cancelled_instance(&self, id: &str, master: &Ev, o: Orig, updated: i64) -> Value {
        json!({ "kind": "calendar#event", "etag": format!("\"{}\"", updated * 2), "id": id,
                "status": "cancelled", "recurringEventId": master.key,
                "originalStartTime": self.orig(o, &master.tz) })
    }
}

fn tombstone(id: &str) -> Value {
    json!({ "kind": "calendar#event", "id": id, "status": "cancelled" })
}

/// One listed item: where it sits (for the next page token), how to sort it, and how to
/// render it (lazily: an ordered listing sorts everything but renders one page).
struct Item<'a> {
    pos: Pos,
    start: i64,
    updated: i64,
    v: Box<dyn Fn() -> Value + 'a>,
}

type Emit<'e, 'a> = dyn FnMut(Item<'a>) -> bool + 'e;

/// Full round over records from `from` (keys in order; instances inside masters).
fn walk_full<'a>(r: &'a Render<'a>, f: &Filter, single: bool, from: &Pos, emit: &mut Emit<'_, 'a>) {
    let cal = r.cal;
    let start = from.k.clone().unwrap_or_default();
    for (key, ev) in cal.events.range(start..) {
        let resume = from.k.as_deref() == Some(key.as_str());
        if resume && from.i.is_none() {
            continue;
        }
        let at = |i: Option<i64>| Pos { k: Some(key.clone()), q: None, i };
        if ev.is_master() && single {
            let gone = ev.deleted || ev.status == Status::Cancelled;
            for x in cal.instances(ev) {
                if resume && from.i.is_some_and(|i| x.orig.key() <= i) {
                    continue;
                }
                let cancelled = gone || x.cancelled;
                if !f.text(x.src, ev) || !f.updated_ok(x.src) {
                    continue;
                }
                if !f.win.overlaps(x.when, &r.cal_tz) {
                    continue;
                }
                if cancelled && !f.deleted_ok(x.src) {
                    continue;
                }
                let (id, src, when, o) = (x.key.clone(), x.src, x.when, x.orig);
                let v: Box<dyn Fn() -> Value> = if cancelled {
                    Box::new(move || r.cancelled_instance(&id, ev, o, src.updated))
                } else {
                    Box::new(move || r.event(src, &id, when, Some((ev, o))))
                };
                let item = Item { pos: at(Some(x.orig.key())), start: r.sort_start(x.when), updated: x.src.updated, v };
                if !emit(item) {
                    return;
                }
            }
            continue;
        }
        let master = ev.series.as_ref().and_then(|m| cal.events.get(m)).filter(|m| m.is_master());
        if ev.series.is_some() && (single || master.is_none()) {
            continue;
        }
        let master_ref = master.unwrap_or(ev);
        if !f.text(ev, master_ref) || !f.updated_ok(ev) {
            continue;
        }
        let master_live = master.is_none_or(|m| m.live());
        let v: Box<dyn Fn() -> Value> = if !ev.live() || !master_live {
            if !f.deleted_ok(ev) {
                continue;
            }
            match (master, ev.original) {
                (Some(m), Some(o)) => Box::new(move || r.cancelled_instance(&ev.key, m, o, ev.updated)),
                _ => Box::new(|| tombstone(&ev.key)),
            }
        } else {
            let in_window = if ev.is_master() {
                cal.instances(ev).iter().any(|x| !x.cancelled && f.win.overlaps(x.when, &r.cal_tz))
            } else {
                f.win.overlaps(ev.when, &r.cal_tz)
            };
            if !in_window {
                continue;
            }
            let inst = master.zip(ev.original);
            Box::new(move || r.event(ev, &ev.key, ev.when, inst))
        };
        let item = Item { pos: at(None), start: r.sort_start(ev.when), updated: ev.updated, v };
        if !emit(item) {
            return;
        }
    }
}

/// Incremental round: records changed in `(base, upto]`, from `from`.
fn walk_changes<'a>(r: &'a Render<'a>, single: bool, base: u64, upto: u64, from: &Pos, emit: &mut Emit<'_, 'a>) {
    let cal = r.cal;
    let first = from.q.unwrap_or(base + 1);
    if first > upto {
        return;
    }
    for (&seq, key) in cal.changes.range(first..=upto) {
        let resume = from.q == Some(seq);
        if resume && from.i.is_none() {
            continue;
        }
        let Some(ev) = cal.events.get(key) else {
            continue;
        };
        let at = |i: Option<i64>| Pos { k: None, q: Some(seq), i };
        let item = |pos: Pos, v: Value, w: When, u: i64| Item {
            pos,
            start: r.sort_start(w),
            updated: u,
            v: Box::new(move || v.clone()),
        };
        if ev.is_master() && single {
            let gone = !ev.live();
            for x in cal.instances(ev) {
                if resume && from.i.is_some_and(|i| x.orig.key() <= i) {
                    continue;
                }
                let v = if gone {
                    tombstone(&x.key)
                } else if x.cancelled {
                    r.cancelled_instance(&x.key, ev, x.orig, x.src.updated)
                } else {
                    r.event(x.src, &x.key, x.when, Some((ev, x.orig)))
                };
                if !emit(item(at(Some(x.orig.key())), v, x.when, x.src.updated)) {
                    return;
                }
            }
            continue;
        }
        let master = ev.series.as_ref().and_then(|m| cal.events.get(m));
        // Exceptions of a master changed in this round went out with its instances; ghosts
        // (ids the series no longer has) did not.
        if single
            && !ev.ghost
            && let Some(m) = master
            && m.seq > base
            && m.seq <= upto
        {
            continue;
        }
        let v = match (master, ev.original) {
            (Some(m), Some(o)) if ev.live() && m.live() => r.event(ev, &ev.key, ev.when, Some((m, o))),
            (Some(m), Some(o)) => r.cancelled_instance(&ev.key, m, o, ev.updated),
            _ if ev.live() => r.event(ev, &ev.key, ev.when, None),
            _ => tombstone(&ev.key),
        };
        if !emit(item(at(None), v, ev.when, ev.updated)) {
            return;
        }
    }
}

fn bool_param(q: &Query, k: &str) -> Result<bool, Resp> {
    match q.one(k) {
        Ok(None) => Ok(false),
        Ok(Some("true")) => Ok(true),
        Ok(Some("false")) => Ok(false),
        Ok(Some(v)) => Err(invalid(&format!("Invalid value '{v}' for {k}."))),
        Err(d) => Err(invalid(&format!("Parameter {d} given more than once."))),
    }
}

fn str_param<'a>(q: &'a Query, k: &str) -> Result<Option<&'a str>, Resp> {
    q.one(k).map_err(|d| invalid(&format!("Parameter {d} given more than once.")))
}

fn time_param(q: &Query, k: &str) -> Result<Option<i64>, Resp> {
    match str_param(q, k)? {
        None => Ok(None),
        Some(v) => parse_rfc3339(v).map(Some).ok_or_else(|| gerr(400, "global", Some("badRequest"), "Bad Request")),
    }
}

impl GoogleCal {
    /// The next injected fault (`/_fake/google/throttle`), if one is queued: a 500 backend
    /// error, or a rate-limit answer with the queued status, counted as such.
    pub(super) fn injected_fault(&mut self, stats: &mut Stats) -> Option<Resp> {
        if self.throttle.is_empty() {
            return None;
        }
        let code = self.throttle.remove(0);
        if code != 500 {
            stats.rate_limited += 1;
        }
        Some(match code {
            500 => gerr(500, "global", Some("backendError"), "Backend Error"),
            c => gerr(c, "usageLimits", Some("rateLimitExceeded"), "Rate Limit Exceeded"),
        })
    }

    pub fn new(seed: SeedCfg) -> GoogleCal {
        GoogleCal { seed, users: HashMap::new(), throttle: Vec::new(), paging: Paging::Mixed, restore_forbidden: false }
    }

    /// The user's store, seeded on first use.
    pub fn store(&mut self, u: &User) -> &mut Store {
        let cfg = self.seed;
        self.users.entry(u.id.clone()).or_insert_with(|| seed_store(u, cfg))
    }

    pub fn handle(&mut self, stats: &mut Stats, _env: &Env, req: &Req, path: &str, g: &Grant) -> Resp {
        let Some(segs) = path.trim_end_matches('/').split('/').map(pct_decode).collect::<Option<Vec<String>>>() else {
            return gerr(400, "global", Some("badRequest"), "Bad Request");
        };
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if req.method != "GET" || segs.as_slice() == ["freeBusy"] {
            return self.write(stats, _env, req, &segs, g);
        }
        let (endpoint, scopes) = match segs.as_slice() {
            ["users", "me", "calendarList"] => ("calendarList.list", LIST_SCOPES),
            ["users", "me", "calendarList", _] => ("calendarList.get", LIST_SCOPES),
            ["calendars", _] => ("calendars.get", LIST_SCOPES),
            ["calendars", _, "events"] => ("events.list", EVENT_SCOPES),
            ["calendars", _, "events", _] => ("events.get", EVENT_SCOPES),
            _ => return not_found(),
        };
        if req.method != "GET" {
            return gerr(405, "global", Some("httpMethodNotAllowed"), "The fake serves reads only.");
        }
        *stats.endpoints.entry(endpoint.into()).or_default() += 1;
        let granted = |s: &&str| g.scope.iter().any(|x| *x == format!("{SCOPE}{s}"));
        if !scopes.iter().any(granted) {
            return gerr(
                403,
                "global",
                Some("insufficientPermissions"),
                "Request had insufficient authentication scopes.",
            );
        }
        if let Some(fault) = self.injected_fault(stats) {
            return fault;
        }
        let q = Query::parse(&req.query);
        let me = primary_id(&g.user);
        let paging = self.paging;
        let store = self.store(&g.user);
        let cal_id = |s: &str| {
            if s == "primary" { me.clone() } else { s.to_string() }
        };
        match segs.as_slice() {
            ["users", "me", "calendarList"] => calendar_list(store, &q),
            ["users", "me", "calendarList", id] | ["calendars", id] => {
                match store.cal(&cal_id(id)).filter(|c| !c.deleted) {
                    Some(c) if endpoint == "calendars.get" => Resp::json(
                        200,
                        &json!({ "kind": "calendar#calendar", "etag": format!("\"{}\"", c.seq), "id": c.id,
                                 "summary": c.name, "timeZone": c.tz }),
                    ),
                    Some(c) => Resp::json(200, &list_entry(c)),
                    None => not_found(),
                }
            }
            ["calendars", id, "events"] => {
                let id = cal_id(id);
                *stats.calendars.entry(id.clone()).or_default() += 1;
                let Some(cal) = store.cal(&id).filter(|c| !c.deleted) else {
                    return not_found();
                };
                let last = store.seq;
                events_list(stats, cal, last, &q, &me, paging)
            }
            ["calendars", id, "events", eid] => {
                let Some(cal) = store.cal(&cal_id(id)).filter(|c| !c.deleted) else {
                    return not_found();
                };
                event_get(cal, eid, &me, &q)
            }
            _ => not_found(),
        }
    }
}

fn list_entry(c: &Calendar) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("calendar#calendarListEntry"));
    m.insert("etag".into(), json!(format!("\"{}\"", c.seq * 1000)));
    m.insert("id".into(), json!(c.id));
    m.insert("summary".into(), json!(c.name));
    if let Some(d) = &c.description {
        m.insert("description".into(), json!(d));
    }
    m.insert("timeZone".into(), json!(c.tz));
    m.insert("colorId".into(), json!("14"));
    m.insert("backgroundColor".into(), json!(c.color));
    m.insert("foregroundColor".into(), json!("#000000"));
    for (k, on) in [("selected", c.selected), ("hidden", c.hidden), ("primary", c.primary), ("deleted", c.deleted)] {
        if on {
            m.insert(k.into(), json!(true));
        }
    }
    m.insert("accessRole".into(), json!(c.role));
    let reminders =
        if c.role == "owner" || c.role == "writer" { json!([{ "method": "popup", "minutes": 10 }]) } else { json!([]) };
    m.insert("defaultReminders".into(), reminders);
    Value::Object(m)
}

fn role_rank(r: &str) -> Option<u8> {
    ["freeBusyReader", "reader", "writer", "owner"].iter().position(|x| *x == r).map(|p| p as u8)
}

fn calendar_list(store: &Store, q: &Query) -> Resp {
    let p = || -> Result<Resp, Resp> {
        let max = match str_param(q, "maxResults")? {
            None => 100,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| invalid(&format!("Invalid value '{v}'. Values must be within the range: [1, 250]")))?
                .min(250),
        };
        let show_deleted = bool_param(q, "showDeleted")?;
        let show_hidden = bool_param(q, "showHidden")?;
        let min_role = match str_param(q, "minAccessRole")? {
            None => None,
            Some(r) => Some(role_rank(r).ok_or_else(|| invalid("Invalid minAccessRole."))?),
        };
        let since = match str_param(q, "syncToken")? {
            None => None,
            Some(_) if min_role.is_some() => {
                return Err(gerr(
                    400,
                    "calendar",
                    Some("syncTokenWithRequestRestrictions"),
                    "Sync token cannot be used with other request restrictions.",
                ));
            }
            Some(t) => Some(decode_token::<u64>(t).ok_or_else(|| {
                gerr(
                    410,
                    "calendar",
                    Some("fullSyncRequired"),
                    "Sync token is no longer valid, a full sync is required.",
                )
            })?),
        };
        let offset = match str_param(q, "pageToken")? {
            None => 0,
            Some(t) => decode_token::<usize>(t).ok_or_else(|| invalid("Invalid page token."))?,
        };
        let mut cals: Vec<&Calendar> = store.cals.iter().collect();
        cals.sort_by_key(|c| !c.primary);
        let items: Vec<Value> = cals
            .into_iter()
            .filter(|c| match since {
                Some(w) => c.seq > w,
                None => {
                    (show_deleted || !c.deleted)
                        && (show_hidden || !c.hidden)
                        && min_role.is_none_or(|m| role_rank(&c.role).unwrap_or(0) >= m)
                }
            })
            .map(list_entry)
            .collect();
        let page: Vec<Value> = items.iter().skip(offset).take(max).cloned().collect();
        let mut body = json!({ "kind": "calendar#calendarList", "etag": format!("\"{}\"", store.seq), "items": page });
        if offset + max < items.len() {
            body["nextPageToken"] = json!(encode_token(&(offset + max)));
        } else {
            body["nextSyncToken"] = json!(encode_token(&store.seq));
        }
        Ok(Resp::json(200, &body))
    };
    p().unwrap_or_else(|e| e)
}

fn render<'a>(cal: &'a Calendar, me: &'a str, q: &Query) -> Result<Render<'a>, Resp> {
    let out_tz = match str_param(q, "timeZone")? {
        None => cal.zone(),
        Some(z) => zone(z).ok_or_else(|| invalid("Invalid time zone definition for time zone."))?,
    };
    Ok(Render { cal, cal_tz: cal.zone(), out_tz, me })
}

fn event_get(cal: &Calendar, eid: &str, me: &str, q: &Query) -> Resp {
    let r = match render(cal, me, q) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if let Some(ev) = cal.events.get(eid) {
        let master = ev.series.as_ref().and_then(|m| cal.events.get(m));
        let v = match (master, ev.original) {
            (Some(m), Some(o)) if ev.live() && m.live() => r.event(ev, eid, ev.when, Some((m, o))),
            (Some(m), Some(o)) => r.cancelled_instance(eid, m, o, ev.updated),
            _ if ev.deleted => {
                let mut v = r.event(ev, eid, ev.when, None);
                v["status"] = json!("cancelled");
                v
            }
            _ => r.event(ev, eid, ev.when, None),
        };
        return Resp::json(200, &v);
    }
    let Some((mk, _)) = eid.rsplit_once('_') else {
        return not_found();
    };
    let Some(m) = cal.events.get(mk).filter(|m| m.is_master()) else {
        return not_found();
    };
    match cal.instances(m).into_iter().find(|x| x.key == eid) {
        Some(x) if m.live() => Resp::json(200, &r.event(x.src, eid, x.when, Some((m, x.orig)))),
        Some(x) => Resp::json(200, &r.cancelled_instance(eid, m, x.orig, m.updated)),
        None => not_found(),
    }
}

fn full_sync_required(cal: &Calendar) -> Resp {
    let reason = (cal.invalid_mode != "no-reason").then_some("fullSyncRequired");
    let mut r = gerr(410, "calendar", reason, "Sync token is no longer valid, a full sync is required.");
    if reason.is_some() {
        let body = json!({ "error": { "errors": [{ "domain": "calendar", "reason": "fullSyncRequired",
            "message": "Sync token is no longer valid, a full sync is required.",
            "locationType": "parameter", "location": "syncToken" }],
            "code": 410, "message": "Sync token is no longer valid, a full sync is required." } });
        r.body = serde_json::to_vec(&body).unwrap_or_default();
    }
    r
}

fn events_list(stats: &mut Stats, cal: &Calendar, last_seq: u64, q: &Query, me: &str, paging: Paging) -> Resp {
    let mut go = || -> Result<Resp, Resp> {
        let size = match str_param(q, "maxResults")? {
            None => 250,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| invalid(&format!("Invalid value '{v}'. Values must be within the range: [1, 2500]")))?
                .min(2500),
        };
        let single = bool_param(q, "singleEvents")?;
        let show_deleted = bool_param(q, "showDeleted")?;
        let sync = str_param(q, "syncToken")?;
        if sync.is_some() && RESTRICTIONS.iter().any(|k| q.has(k)) {
            return Err(gerr(
                400,
                "calendar",
                Some("syncTokenWithRequestRestrictions"),
                "Sync token cannot be used with other request restrictions.",
            ));
        }
        let win = Window { min: time_param(q, "timeMin")?, max: time_param(q, "timeMax")? };
        if let (Some(a), Some(b)) = (win.min, win.max)
            && a >= b
        {
            return Err(gerr(400, "calendar", Some("timeRangeEmpty"), "The specified time range is empty."));
        }
        let order = str_param(q, "orderBy")?;
        match order {
            None | Some("updated") => {}
            Some("startTime") if single => {}
            Some("startTime") => {
                return Err(gerr(
                    400,
                    "global",
                    Some("badRequest"),
                    "The requested ordering is not available for the particular query.",
                ));
            }
            Some(o) => return Err(invalid(&format!("Invalid value '{o}' for orderBy."))),
        }
        let updated_min = match str_param(q, "updatedMin")? {
            None => None,
            Some(v) => Some(
                parse_rfc3339(v).ok_or_else(|| gerr(400, "global", Some("badRequest"), "Bad Request"))? * 1_000_000,
            ),
        };
        let filter = Filter {
            win,
            q: str_param(q, "q")?.map(String::from),
            ical: str_param(q, "iCalUID")?.map(String::from),
            updated_min,
            show_deleted,
            private: q
                .0
                .iter()
                .filter(|(k, _)| k == "privateExtendedProperty")
                .map(|(_, v)| match v.split_once('=') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (v.clone(), String::new()),
                })
                .collect(),
            shared: q.has("sharedExtendedProperty"),
        };
        let r = render(cal, me, q)?;
        // The round: from a page token, a sync token, or a fresh full round.
        let (base, upto, n, pos, offset) = match str_param(q, "pageToken")? {
            Some(t) => {
                let pt: PageTok = decode_token(t)
                    .filter(|p: &PageTok| p.c == cal.id)
                    .ok_or_else(|| invalid("Invalid page token value."))?;
                // An invalidated sync token also ends the incremental round it started.
                if pt.b.is_some() && pt.g != cal.generation {
                    return Err(full_sync_required(cal));
                }
                (pt.b, pt.w, pt.n, pt.p, pt.o)
            }
            None => match sync {
                Some(t) => {
                    let st: SyncTok = match decode_token::<SyncTok>(t) {
                        Some(st) if st.c == cal.id && st.g == cal.generation => st,
                        _ => return Err(full_sync_required(cal)),
                    };
                    if st.s != single {
                        *stats.endpoints.entry("events.list (sync params changed)".into()).or_default() += 1;
                    }
                    (Some(st.w), last_seq, 0, Pos::default(), 0)
                }
                None => (None, last_seq, 0, Pos::default(), 0),
            },
        };
        if base.is_some() {
            *stats.endpoints.entry("events.list (syncToken)".into()).or_default() += 1;
        }
        let limit = paging.limit(n, upto, size);
        let mut items: Vec<Value> = Vec::new();
        let mut more = false;
        let mut next = pos.clone();
        let mut next_offset = offset;
        if order.is_some() && base.is_none() {
            let mut all: Vec<Item> = Vec::new();
            walk_full(&r, &filter, single, &Pos::default(), &mut |it| {
                all.push(it);
                true
            });
            if order == Some("updated") {
                all.sort_by_key(|it| it.updated);
            } else {
                all.sort_by_key(|it| it.start);
            }
            let total = all.len();
            let start = offset.min(total);
            let end = (start + limit).min(total);
            items = all.drain(start..end).map(|i| (i.v)()).collect();
            more = end < total;
            next_offset = end;
        } else {
            let mut take = |it: Item| {
                if items.len() >= limit {
                    more = true;
                    return false;
                }
                next = it.pos;
                items.push((it.v)());
                true
            };
            match base {
                Some(b) => walk_changes(&r, single, b, upto, &pos, &mut take),
                None => walk_full(&r, &filter, single, &pos, &mut take),
            }
        }
        let updated = cal.updated;
        let mut body = json!({
            "kind": "calendar#events",
            "etag": format!("\"{}\"", upto * 7 + n as u64),
            "summary": cal.name,
            "description": "",
            "updated": utc_frac(updated, 3),
            "timeZone": cal.tz,
            "accessRole": cal.role,
            "defaultReminders": list_entry(cal)["defaultReminders"].clone(),
        });
        if more {
            let pt =
                PageTok { c: cal.id.clone(), w: upto, b: base, g: cal.generation, n: n + 1, p: next, o: next_offset };
            body["nextPageToken"] = json!(encode_token(&pt));
        } else {
            let st = SyncTok { c: cal.id.clone(), w: upto, g: cal.generation, s: single };
            body["nextSyncToken"] = json!(encode_token(&st));
        }
        body["items"] = json!(items);
        Ok(Resp::json(200, &body))
    };
    go().unwrap_or_else(|e| e)
}
