//! Microsoft Graph calendars under the fake's v1.0 base (`/microsoft/graph/v1.0/...`):
//! `me/calendars[/{id}]`, `me/calendar`, and `calendarView/delta` on `me/`, `me/calendar/`
//! and `me/calendars/{id}/`.
//!
//! Delta rounds page by `@odata.nextLink` (`$skiptoken`) and end with `@odata.deltaLink`
//! (`$deltatoken`); the window, the calendar and the change number the round began at live in
//! the tokens. Pages honour `Prefer: odata.maxpagesize` (default 10), are sometimes empty, and
//! sometimes repeat the previous page's last item. A delta round returns changed items in full
//! when they are in the window and `@removed` (`deleted`) otherwise, ids never seen included;
//! a changed series reports each occurrence that way (and its own id as `@removed` when none
//! is in the window).
//! Ids are immutable only with `Prefer: IdType="ImmutableId"`; otherwise they change when an
//! item moves. Times come offset-free in `Prefer: outlook.timezone` (default UTC); all-day
//! events stay at midnight. More than 4 concurrent requests per mailbox get 429
//! `ApplicationThrottled` with a decimal `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::model::{Calendar, Ev, Store, When, Window};
use super::rrule::Orig;
use super::seed::{Rng, mix};
use super::time::{date_str, graph_local, iana_to_windows, parse_iso_local, utc_frac, utc_secs, zone};
use super::{Layout, Paging, Pos, Query, SeedCfg, decode_token, encode_token, pct_decode, pct_encode};
use crate::core::{Common, Env, Grant, rfc3339, uuid4};
use crate::http::{Req, Resp};

pub mod write;

const GRAPH: &str = "https://graph.microsoft.com/";
const READ_BASIC: &[&str] = &[
    "Calendars.ReadBasic",
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Calendars.Read.Shared",
    "Calendars.ReadWrite.Shared",
    ".default",
];
const READ: &[&str] =
    &["Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared", ".default"];
/// OData options change tracking over calendarView refuses.
const NOT_WITH_DELTA: &[&str] = &["$select", "$filter", "$orderby", "$top", "$expand", "$search", "$skip"];
const IMMUTABLE: &str = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A";
const REGULAR: &str =
    "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAiIsqMbYjsT5e";

/// Requests in flight per bearer token, counted by the HTTP workers (outside the state lock).
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<String, usize>>>);

/// Decrements its token's in-flight count when dropped.
pub struct InFlightGuard {
    map: Arc<Mutex<HashMap<String, usize>>>,
    key: Option<String>,
}

impl InFlight {
    /// Count a Graph request as in flight until the guard drops.
    pub fn enter(&self, req: &Req) -> InFlightGuard {
        let key = (req.path.starts_with("/microsoft/graph/")).then(|| req.bearer().map(String::from)).flatten();
        if let Some(k) = &key {
            let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
            *m.entry(k.clone()).or_default() += 1;
        }
        InFlightGuard { map: Arc::clone(&self.0), key }
    }

    fn snapshot(&self) -> Vec<(String, usize)> {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    #[cfg(test)]
    pub fn set(&self, token: &str, n: usize) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(token.into(), n);
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Some(k) = &self.key {
            let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = m.get_mut(k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(k);
                }
            }
        }
    }
}

/// An on-demand failure for the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub status: u16,
    pub code: String,
    pub retry_after: String,
}

pub struct GraphCal {
    pub seed: SeedCfg,
    pub users: HashMap<String, Store>,
    pub throttle: Vec<Throttle>,
    pub paging: Paging,
    /// Repeat the previous page's last item on every third page of a round.
    pub duplicates: bool,
    pub concurrency_limit: usize,
    pub concurrency_retry_after: String,
    pub inflight: InFlight,
    /// Requests one mailbox may take in any `request_window` seconds (Outlook: 10,000 per 10
    /// minutes per app per mailbox); 0 for no limit. Throttled requests count too.
    pub request_limit: usize,
    pub request_window: f64,
    /// Each mailbox's recent requests (the fake's clock).
    request_times: HashMap<String, std::collections::VecDeque<f64>>,
    /// A second create with the same `transactionId` answers 201 with the first event
    /// (observed); off, it makes a second event.
    pub transaction_dedup: bool,
}

fn b64pad(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(s.as_bytes())
}

/// The id a client sees for a record key.
pub fn ext_id(key: &str, immutable: bool, version: u32) -> String {
    if immutable {
        format!("{IMMUTABLE}{}", b64pad(&format!("i|{key}")))
    } else {
        format!("{REGULAR}{}", b64pad(&format!("r|{version}|{key}")))
    }
}

/// The record key behind either id form.
pub fn key_of(id: &str) -> Option<String> {
    let body = id.strip_prefix(IMMUTABLE).or_else(|| id.strip_prefix(REGULAR))?;
    let raw = base64::engine::general_purpose::URL_SAFE.decode(body).ok()?;
    let s = String::from_utf8(raw).ok()?;
    match s.split('|').collect::<Vec<_>>().as_slice() {
        ["i", k] | ["r", _, k] => Some(k.to_string()),
        _ => None,
    }
}

pub fn graph_error(status: u16, code: &str, message: &str, now: i64) -> Resp {
    let date = rfc3339(now).trim_end_matches('Z').to_string();
    Resp::json(
        status,
        &json!({ "error": { "code": code, "message": message, "innerError": {
            "date": date, "request-id": uuid4(), "client-request-id": uuid4() } } }),
    )
}

fn seed_store(u: &crate::core::User, cfg: SeedCfg) -> Store {
    let mut rng = Rng::new(mix(cfg.seed, &u.id));
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut cal_id = || format!("AAMkAD{}AAA=", rng.chars(60, alphabet));
    let ids = [cal_id(), cal_id(), cal_id()];
    let mut s = Store::default();
    let mut d = Calendar::new(&ids[0], "Calendar", "America/Denver", "owner");
    d.primary = true;
    s.add_calendar(d);
    s.add_calendar(Calendar::new(&ids[1], "Crew", "America/Denver", "owner"));
    s.add_calendar(Calendar::new(&ids[2], "United States holidays", "America/Denver", "reader"));
    let mut idr = Rng::new(mix(cfg.seed ^ 0x6EA9, &u.id));
    let mut new_id = || idr.chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    let email = u.email.clone().unwrap_or_else(|| format!("{}@outlook.example", u.id));
    let cals: Vec<String> = ids.to_vec();
    let mut layout = Layout {
        cals: &cals,
        owner: super::model::Person { email, name: Some(u.name.clone()) },
        zone_name: &|z, i| {
            if i % 2 == 0 { iana_to_windows(z).unwrap_or(z).to_string() } else { z.to_string() }
        },
        new_id: &mut new_id,
    };
    let evs = super::seed::shifted(super::seed::generate(cfg.events, cfg.seed), cfg.shift_days);
    let mut r2 = Rng::new(mix(cfg.seed ^ 0x51, &u.id));
    super::materialize(&mut s, &mut layout, &evs, &mut r2);
    s
}

/// A new record key for an event added through the control API.
pub fn new_key() -> String {
    crate::core::alnum(16).to_uppercase()
}

/// The `Prefer` preferences of a request.
struct Prefs {
    page: Option<usize>,
    tz: TimeZone,
    tz_name: String,
    immutable: bool,
    applied: Vec<String>,
}

fn prefs(req: &Req) -> Prefs {
    let mut p = Prefs { page: None, tz: TimeZone::UTC, tz_name: "UTC".into(), immutable: false, applied: Vec::new() };
    let values = req.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("prefer")).flat_map(|(_, v)| v.split(','));
    for part in values {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "odata.maxpagesize" => {
                if let Some(n) = v.parse::<usize>().ok().filter(|n| *n >= 1) {
                    p.page = Some(n);
                    p.applied.push(format!("odata.maxpagesize={n}"));
                }
            }
            "outlook.timezone" => {
                if let Some(z) = zone(v) {
                    p.tz = z;
                    p.tz_name = v.to_string();
                    p.applied.push(format!("outlook.timezone=\"{v}\""));
                }
            }
            "idtype" if v.eq_ignore_ascii_case("ImmutableId") => {
                p.immutable = true;
                p.applied.push("IdType=\"ImmutableId\"".into());
            }
            _ => {}
        }
    }
    p
}

#[derive(Debug, Serialize, Deserialize)]
struct DeltaTok {
    c: String,
    s: i64,
    e: i64,
    w: u64,
    g: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SkipTok {
    c: String,
    s: i64,
    e: i64,
    /// Change number when the round began.
    w: u64,
    /// Delta rounds: the watermark of the delta token used.
    b: Option<u64>,
    g: u64,
    n: u32,
    p: Pos,
}

struct Render<'a> {
    cal: &'a Calendar,
    cal_tz: TimeZone,
    prefs: &'a Prefs,
    me: &'a str,
}

fn response(r: &str) -> &'static str {
    match r {
        "accepted" => "accepted",
        "declined" => "declined",
        "tentative" => "tentativelyAccepted",
        _ => "notResponded",
    }
}

fn html_escape(s: &str) -> String {
    crate::http::html_escape(s)
}

impl Render<'_> {
    fn id(&self, key: &str, version: u32) -> String {
        ext_id(key, self.prefs.immutable, version)
    }

    fn time(&self, w: When, end: bool) -> Value {
        let v = match w {
            When::Timed { start, end: e } => graph_local(if end { e } else { start }, &self.prefs.tz),
            When::AllDay { start, end: e } => {
                format!("{}T00:00:00.0000000", date_str(if end { e } else { start }))
            }
        };
        json!({ "dateTime": v, "timeZone": self.prefs.tz_name })
    }

    fn removed(&self, key: &str, version: u32) -> Value {
        json!({ "@odata.type": "#microsoft.graph.event", "id": self.id(key, version),
                "@removed": { "reason": "deleted" } })
    }

    /// An event; `inst` = (master, original start) for occurrences and exceptions.
    fn event(&self, ev: &Ev, key: &str, when: When, inst: Option<(&Ev, Orig, bool)>) -> Value {
        let id = self.id(key, ev.id_version);
        let tz = inst.map(|(m, _, _)| m.tz.as_str()).unwrap_or(&ev.tz);
        let kind = match inst {
            None => "singleInstance",
            Some((_, _, true)) => "exception",
            Some((_, _, false)) => "occurrence",
        };
        let own = ev.organizer.email == self.me;
        let etag = base64::engine::general_purpose::STANDARD.encode(format!("{}", ev.updated));
        let uid_key = inst.map(|(m, _, _)| m.key.as_str()).unwrap_or(key);
        let uid: String = uid_key.bytes().map(|b| format!("{b:02X}")).collect();
        let mut m = Map::new();
        m.insert("@odata.type".into(), json!("#microsoft.graph.event"));
        m.insert("@odata.etag".into(), json!(format!("W/\"DwAAABYAAAB{etag}\"")));
        m.insert("id".into(), json!(id));
        m.insert("createdDateTime".into(), json!(utc_frac(ev.created, 7)));
        m.insert("lastModifiedDateTime".into(), json!(utc_frac(ev.updated, 7)));
        m.insert("changeKey".into(), json!(format!("DwAAABYAAAB{etag}")));
        m.insert("categories".into(), json!([]));
        m.insert("transactionId".into(), Value::Null);
        m.insert("originalStartTimeZone".into(), json!(tz));
        m.insert("originalEndTimeZone".into(), json!(tz));
        m.insert("iCalUId".into(), json!(format!("040000008200E00074C5B7101A82E00800000000{uid}")));
        m.insert("reminderMinutesBeforeStart".into(), json!(15));
        m.insert("isReminderOn".into(), json!(!when.is_all_day()));
        m.insert("hasAttachments".into(), json!(false));
        m.insert("subject".into(), json!(ev.title));
        m.insert("bodyPreview".into(), json!(ev.description.clone().unwrap_or_default()));
        m.insert("importance".into(), json!("normal"));
        m.insert("sensitivity".into(), json!("normal"));
        m.insert("isAllDay".into(), json!(when.is_all_day()));
        m.insert("isCancelled".into(), json!(ev.is_cancelled));
        m.insert("isOrganizer".into(), json!(own));
        m.insert("responseRequested".into(), json!(true));
        m.insert(
            "seriesMasterId".into(),
            inst.map_or(Value::Null, |(ms, _, _)| json!(self.id(&ms.key, ms.id_version))),
        );
        let show = if ev.status == super::model::Status::Tentative {
            "tentative"
        } else if when.is_all_day() {
            "free"
        } else {
            "busy"
        };
        m.insert("showAs".into(), json!(show));
        m.insert("type".into(), json!(kind));
        m.insert(
            "webLink".into(),
            json!(format!(
                "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
                pct_encode(&id)
            )),
        );
        m.insert("onlineMeetingUrl".into(), Value::Null);
        m.insert("isOnlineMeeting".into(), json!(false));
        m.insert("onlineMeetingProvider".into(), json!("unknown"));
        m.insert("allowNewTimeProposals".into(), json!(true));
        m.insert("isDraft".into(), json!(false));
        m.insert("hideAttendees".into(), json!(false));
        let my_response = if own {
            "organizer"
        } else {
            ev.attendees.iter().find(|a| a.email == self.me).map_or("notResponded", |a| response(&a.response))
        };
        m.insert("responseStatus".into(), json!({ "response": my_response, "time": "0001-01-01T00:00:00Z" }));
        let content = format!(
            "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n{}\r\n</body>\r\n</html>\r\n",
            html_escape(ev.description.as_deref().unwrap_or(""))
        );
        m.insert("body".into(), json!({ "contentType": "html", "content": content }));
        m.insert("start".into(), self.time(when, false));
        m.insert("end".into(), self.time(when, true));
        let loc = ev.location.clone().unwrap_or_default();
        m.insert(
            "location".into(),
            json!({ "displayName": loc, "locationType": "default", "uniqueIdType": "unknown", "address": {}, "coordinates": {} }),
        );
        let locations = if loc.is_empty() {
            json!([])
        } else {
            json!([{ "displayName": loc, "locationType": "default", "uniqueId": loc, "uniqueIdType": "private" }])
        };
        m.insert("locations".into(), locations);
        m.insert("recurrence".into(), Value::Null);
        if let Some((_, o, _)) = inst {
            let v = match o {
                Orig::At(t) => utc_secs(t),
                Orig::Day(d) => {
                    let t = super::time::local_to_instant(d, 0, &self.cal_tz);
                    utc_secs(t)
                }
            };
            m.insert("originalStart".into(), json!(v));
        }
        let attendees: Vec<Value> = ev
            .attendees
            .iter()
            .map(|a| {
                json!({ "type": "required",
                        "status": { "response": response(&a.response), "time": "0001-01-01T00:00:00Z" },
                        "emailAddress": { "name": a.name.clone().unwrap_or_else(|| a.email.clone()), "address": a.email } })
            })
            .collect();
        m.insert("attendees".into(), json!(attendees));
        m.insert(
            "organizer".into(),
            json!({ "emailAddress": { "name": ev.organizer.name.clone().unwrap_or_else(|| ev.organizer.email.clone()),
                                       "address": ev.organizer.email } }),
        );
        Value::Object(m)
    }
}

struct Item {
    pos: Pos,
    v: Value,
}

type Emit<'e> = dyn FnMut(Item) -> bool + 'e;

/// Initial round: everything live in the window, occurrences expanded, no masters.
fn walk_initial(r: &Render, win: &Window, from: &Pos, emit: &mut Emit) {
    let cal = r.cal;
    for (key, ev) in cal.events.range(from.k.clone().unwrap_or_default()..) {
        let resume = from.k.as_deref() == Some(key.as_str());
        if (resume && from.i.is_none()) || ev.series.is_some() || !ev.live() {
            continue;
        }
        let at = |i| Pos { k: Some(key.clone()), q: None, i };
        if ev.is_master() {
            for x in cal.instances(ev) {
                if (resume && from.i.is_some_and(|i| x.orig.key() <= i))
                    || x.cancelled
                    || !win.overlaps(x.when, &r.cal_tz)
                {
                    continue;
                }
                let v = r.event(x.src, &x.key, x.when, Some((ev, x.orig, x.exception)));
                if !emit(Item { pos: at(Some(x.orig.key())), v }) {
                    return;
                }
            }
        } else if win.overlaps(ev.when, &r.cal_tz) && !emit(Item { pos: at(None), v: r.event(ev, key, ev.when, None) })
        {
            return;
        }
    }
}

/// Delta round: records changed in `(base, upto]`.
fn walk_delta(r: &Render, win: &Window, base: u64, upto: u64, from: &Pos, emit: &mut Emit) {
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
        let at = |i| Pos { k: None, q: Some(seq), i };
        if ev.is_master() {
            if resume && from.i == Some(i64::MAX) {
                continue;
            }
            let insts = cal.instances(ev);
            let any = ev.live() && insts.iter().any(|x| !x.cancelled && win.overlaps(x.when, &r.cal_tz));
            for x in insts {
                if resume && from.i.is_some_and(|i| x.orig.key() <= i) {
                    continue;
                }
                // A changed series reports every occurrence: in full inside the window,
                // `@removed` outside it (an exception may have been dragged out of it).
                let v = if ev.live() && !x.cancelled && win.overlaps(x.when, &r.cal_tz) {
                    r.event(x.src, &x.key, x.when, Some((ev, x.orig, x.exception)))
                } else {
                    r.removed(&x.key, ev.id_version)
                };
                if !emit(Item { pos: at(Some(x.orig.key())), v }) {
                    return;
                }
            }
            // A series with nothing in the window (or deleted) is reported by its own id.
            if !any && !emit(Item { pos: at(Some(i64::MAX)), v: r.removed(key, ev.id_version) }) {
                return;
            }
            continue;
        }
        let master = ev.series.as_ref().and_then(|m| cal.events.get(m));
        let shown = ev.live() && !ev.ghost && master.is_none_or(|m| m.live()) && win.overlaps(ev.when, &r.cal_tz);
        if shown && master.is_some_and(|m| m.seq > base && m.seq <= upto) {
            continue;
        }
        let v = match (shown, master, ev.original) {
            (true, Some(m), Some(o)) => r.event(ev, key, ev.when, Some((m, o, true))),
            (true, _, _) => r.event(ev, key, ev.when, None),
            (false, m, _) => r.removed(key, m.map_or(ev.id_version, |m| m.id_version)),
        };
        if !emit(Item { pos: at(None), v }) {
            return;
        }
    }
}

impl GraphCal {
    pub fn new(seed: SeedCfg) -> GraphCal {
        GraphCal {
            seed,
            users: HashMap::new(),
            throttle: Vec::new(),
            paging: Paging::Mixed,
            duplicates: true,
            concurrency_limit: 4,
            concurrency_retry_after: "1.5".into(),
            inflight: InFlight::default(),
            request_limit: 10_000,
            request_window: 600.0,
            request_times: HashMap::new(),
            transaction_dedup: true,
        }
    }

    pub fn store(&mut self, u: &crate::core::User) -> &mut Store {
        let cfg = self.seed;
        self.users.entry(u.id.clone()).or_insert_with(|| seed_store(u, cfg))
    }

    /// Whether a Graph path (after `v1.0/`) is a calendar path this module serves.
    pub fn serves(path: &str) -> bool {
        path == "me/calendar"
            || path.starts_with("me/calendar/")
            || path.starts_with("me/calendars")
            || path.starts_with("me/calendarView")
            || path == "me/events"
            || path.starts_with("me/events/")
    }

    /// The mailbox's request limit: every request is counted, the refused ones too ("requests
    /// made while throttled still count"); over the limit, 429 `TooManyRequests` with the
    /// seconds until the oldest counted request leaves the window as `Retry-After`.
    fn over_request_limit(&mut self, env: &Env, user: &str) -> Option<String> {
        if self.request_limit == 0 {
            return None;
        }
        let times = self.request_times.entry(user.to_string()).or_default();
        while times.front().is_some_and(|t| env.now - t >= self.request_window) {
            times.pop_front();
        }
        times.push_back(env.now);
        if times.len() <= self.request_limit {
            return None;
        }
        // Bounded: what a client keeps sending while refused is forgotten beyond twice the limit.
        while times.len() > 2 * self.request_limit {
            times.pop_front();
        }
        // Free again once enough counted requests have left that this one would be within it.
        let oldest = times[times.len() - self.request_limit];
        Some(format!("{}", (oldest + self.request_window - env.now).max(0.0).ceil().max(1.0) as u64))
    }

    pub fn handle(&mut self, c: &mut Common, env: &Env, req: &Req, path: &str, g: &Grant) -> Resp {
        let now = env.now_secs();
        let Some(segs) = path.trim_end_matches('/').split('/').map(pct_decode).collect::<Option<Vec<String>>>() else {
            return graph_error(400, "BadRequest", "Invalid request URL.", now);
        };
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let route = write::route(&req.method, &segs);
        let (endpoint, cal_sel, scopes): (&str, Option<Option<&str>>, &[&str]) = match segs.as_slice() {
            _ if route.is_some() => {
                let (name, scopes) = route.unwrap_or(("", READ));
                (name, None, scopes)
            }
            ["me", "calendars"] => ("calendars.list", None, READ_BASIC),
            ["me", "calendars", id] => ("calendars.get", Some(Some(*id)), READ_BASIC),
            ["me", "calendar"] => ("calendars.get", Some(None), READ_BASIC),
            ["me", "calendarView", "delta"] | ["me", "calendar", "calendarView", "delta"] => {
                ("calendarView.delta", Some(None), READ)
            }
            ["me", "calendars", id, "calendarView", "delta"] => ("calendarView.delta", Some(Some(*id)), READ),
            _ => {
                let seg = segs.get(1).copied().unwrap_or("");
                return graph_error(400, "BadRequest", &format!("Resource not found for the segment '{seg}'."), now);
            }
        };
        if req.method != "GET" && route.is_none() {
            return graph_error(405, "ErrorInvalidRequest", "The fake serves reads only.", now);
        }
        *c.stats.endpoints.entry(endpoint.into()).or_default() += 1;
        let granted = |s: &&str| g.scope.iter().any(|x| *x == format!("{GRAPH}{s}"));
        if !scopes.iter().any(granted) {
            return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", now);
        }
        if let Some(retry_after) = self.over_request_limit(env, &g.user.id) {
            c.stats.rate_limited += 1;
            return graph_error(429, "TooManyRequests", "Please retry again later.", now)
                .with_header("Retry-After", &retry_after);
        }
        // Mailbox concurrency: every in-flight request of this user's tokens.
        let busy: usize = self
            .inflight
            .snapshot()
            .into_iter()
            .filter(|(t, _)| {
                c.store.access.get(t).and_then(|a| c.store.grant(a.grant)).is_some_and(|gr| gr.user.id == g.user.id)
            })
            .map(|(_, n)| n)
            .sum();
        if busy > self.concurrency_limit {
            c.stats.rate_limited += 1;
            let mbx = g.user.email.clone().unwrap_or_else(|| g.user.id.clone());
            return graph_error(
                429,
                "ApplicationThrottled",
                &format!("Application is over its MailboxConcurrency limit. Mailbox: {mbx}"),
                now,
            )
            .with_header("Retry-After", &self.concurrency_retry_after);
        }
        if !self.throttle.is_empty() {
            let t = self.throttle.remove(0);
            c.stats.rate_limited += 1;
            let msg =
                if t.status == 503 { "The service is temporarily unavailable." } else { "Please retry again later." };
            return graph_error(t.status, &t.code, msg, now).with_header("Retry-After", &t.retry_after);
        }
        let p = prefs(req);
        if route.is_some() {
            return self.write(endpoint, env, req, &segs, g, &p);
        }
        let q = Query::parse(&req.query);
        let me = g.user.email.clone().unwrap_or_else(|| format!("{}@outlook.example", g.user.id));
        let (paging, dups) = (self.paging, self.duplicates);
        let store = self.store(&g.user);
        let cal = match cal_sel {
            None => return list_calendars(store, env, req, &q, &p, &me, g),
            Some(None) => store.cals.iter().find(|c| c.primary && !c.deleted),
            Some(Some(id)) => store.cal(id).filter(|c| !c.deleted),
        };
        let Some(cal) = cal else {
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.", now);
        };
        *c.stats.calendars.entry(cal.id.clone()).or_default() += 1;
        if endpoint == "calendars.get" {
            let mut v = calendar_json(cal, &me, &g.user.name);
            v["@odata.context"] =
                json!(format!("{}/microsoft/graph/v1.0/$metadata#users('{}')/calendars/$entity", env.base, g.user.id));
            return Resp::json(200, &v);
        }
        let d = Delta { cal, last: store.seq, q: &q, p: &p, me: &me, env, req, paging, dups };
        d.page(&mut c.stats)
    }
}

fn calendar_json(c: &Calendar, me: &str, name: &str) -> Value {
    let can_edit = c.role == "owner" || c.role == "writer";
    json!({
        "id": c.id, "name": c.name, "color": "auto", "hexColor": "",
        "isDefaultCalendar": c.primary, "changeKey": format!("fJKVL07sbkmIfHqjbDnRgQAA{}", c.seq),
        "canShare": c.role == "owner", "canViewPrivateItems": c.role == "owner", "canEdit": can_edit,
        "isRemovable": !c.primary, "isTallyingResponses": true,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"], "defaultOnlineMeetingProvider": "teamsForBusiness",
        "owner": { "name": name, "address": me },
    })
}

fn list_calendars(store: &Store, env: &Env, req: &Req, q: &Query, p: &Prefs, me: &str, g: &Grant) -> Resp {
    let now = env.now_secs();
    let num = |k: &str| -> Result<Option<usize>, Resp> {
        match q.one(k) {
            Ok(None) => Ok(None),
            Ok(Some(v)) => v
                .parse::<usize>()
                .map(Some)
                .map_err(|_| graph_error(400, "BadRequest", &format!("Invalid value for {k}."), now)),
            Err(d) => Err(graph_error(
                400,
                "BadRequest",
                &format!("Query option '{d}' was specified more than once, but it must be specified at most once."),
                now,
            )),
        }
    };
    let (top, skip) = match (num("$top"), num("$skip")) {
        (Ok(t), Ok(s)) => (t, s.unwrap_or(0)),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let size = top.or(p.page).unwrap_or(10).max(1);
    // `$filter` on integ-style extended properties (id exact, value ignoring case).
    let by_prop = q.get("$filter").map(write::prop_filter);
    if let Some(None) = by_prop {
        return graph_error(
            400,
            "BadRequest",
            "The fake filters calendars only by singleValueExtendedProperties.",
            now,
        );
    }
    let cals: Vec<&Calendar> = store
        .cals
        .iter()
        .filter(|c| !c.deleted)
        .filter(|c| match &by_prop {
            Some(Some((id, v))) => c.props.get(id).is_some_and(|x| x.eq_ignore_ascii_case(v)),
            _ => true,
        })
        .collect();
    let page: Vec<Value> = cals.iter().skip(skip).take(size).map(|c| calendar_json(c, me, &g.user.name)).collect();
    let mut body = json!({
        "@odata.context": format!("{}/microsoft/graph/v1.0/$metadata#users('{}')/calendars", env.base, g.user.id),
        "value": page,
    });
    if skip + size < cals.len() {
        let mut link = format!("{}{}?$skip={}", env.base, req.path, skip + size);
        if let Some(t) = top {
            link.push_str(&format!("&$top={t}"));
        }
        body["@odata.nextLink"] = json!(link);
    }
    let mut r = Resp::json(200, &body);
    if !p.applied.is_empty() {
        r = r.with_header("Preference-Applied", &p.applied.join(", "));
    }
    r
}

/// One `calendarView/delta` request.
struct Delta<'a> {
    cal: &'a Calendar,
    last: u64,
    q: &'a Query,
    p: &'a Prefs,
    me: &'a str,
    env: &'a Env,
    req: &'a Req,
    paging: Paging,
    dups: bool,
}

impl Delta<'_> {
    fn err(&self, status: u16, code: &str, msg: &str) -> Resp {
        graph_error(status, code, msg, self.env.now_secs())
    }

    fn link(&self, k: &str, v: &str) -> String {
        format!("{}{}?{k}={v}", self.env.base, self.req.path)
    }

    fn expired(&self, s: i64, e: i64) -> Resp {
        let loc = format!("{}&startDateTime={}&endDateTime={}", self.link("$deltatoken", ""), utc_secs(s), utc_secs(e));
        let r = if self.cal.invalid_mode == "resyncRequired" {
            self.err(400, "resyncRequired", "Resync required. Replace any local cached copies of the collection with the results of a new initial sync request.")
        } else {
            self.err(
                410,
                "SyncStateNotFound",
                "The sync state generation is not found; generation=149;[highest=157][157][155][156].",
            )
        };
        r.with_header("Location", &loc)
    }

    fn page(&self, stats: &mut crate::core::Stats) -> Resp {
        let q = self.q;
        if let Some(bad) = NOT_WITH_DELTA.iter().find(|k| q.has(k)) {
            let _ = bad;
            return self.err(400, "ErrorInvalidUrlQuery", "The following parameters are not supported with change tracking over the 'CalendarView' resource: '$orderby, $filter, $select, $expand, $search, $top'.");
        }
        let one = |k: &str| q.one(k).ok().flatten();
        if q.one("$skiptoken").is_err() || q.one("$deltatoken").is_err() {
            return self.err(400, "BadRequest", "A query option was specified more than once.");
        }
        let cal = self.cal;
        // (window, base, round watermark, page number, position)
        let (s, e, base, w, n, pos) = if let Some(t) = one("$skiptoken") {
            let Some(st) = decode_token::<SkipTok>(t).filter(|st| st.c == cal.id) else {
                return self.err(400, "BadRequest", "The skip token is invalid.");
            };
            if st.g != cal.generation {
                return self.expired(st.s, st.e);
            }
            (st.s, st.e, st.b, st.w, st.n, st.p)
        } else if let Some(t) = one("$deltatoken") {
            match decode_token::<DeltaTok>(t) {
                Some(dt) if dt.c == cal.id && dt.g == cal.generation => {
                    stats.endpoints.entry("calendarView.delta (deltaLink)".into()).and_modify(|n| *n += 1).or_insert(1);
                    (dt.s, dt.e, Some(dt.w), self.last, 0, Pos::default())
                }
                Some(dt) if dt.c == cal.id => return self.expired(dt.s, dt.e),
                _ => {
                    return self.err(410, "SyncStateNotFound", "The sync state generation is not found.");
                }
            }
        } else {
            let (Some(a), Some(b)) = (one("startDateTime"), one("endDateTime")) else {
                return self.err(400, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.");
            };
            let (Some(s), Some(e)) = (parse_iso_local(a, &TimeZone::UTC), parse_iso_local(b, &TimeZone::UTC)) else {
                return self.err(
                    400,
                    "ErrorInvalidParameter",
                    "The value of the parameter 'StartDateTime' or 'EndDateTime' is invalid.",
                );
            };
            if e <= s {
                return self.err(
                    400,
                    "ErrorInvalidParameter",
                    "The parameter 'EndDateTime' must be later than 'StartDateTime'.",
                );
            }
            (s, e, None, self.last, 0, Pos::default())
        };
        let win = Window { min: Some(s), max: Some(e) };
        let r = Render { cal, cal_tz: cal.zone(), prefs: self.p, me: self.me };
        let size = self.p.page.unwrap_or(10);
        let limit = self.paging.limit(n, w, size);
        let mut items: Vec<Value> = Vec::new();
        let mut positions: Vec<Pos> = Vec::new();
        let mut more = false;
        let mut take = |it: Item| {
            if items.len() >= limit {
                more = true;
                return false;
            }
            positions.push(it.pos);
            items.push(it.v);
            true
        };
        match base {
            Some(b) => walk_delta(&r, &win, b, w, &pos, &mut take),
            None => walk_initial(&r, &win, &pos, &mut take),
        }
        let mut body = json!({
            "@odata.context": format!("{}/microsoft/graph/v1.0/$metadata#Collection(event)", self.env.base),
        });
        if more {
            // Every third page starts one item early: the previous page's last item again.
            let next = if self.dups && (n + 1) % 3 == 2 && !positions.is_empty() {
                positions.iter().rev().nth(1).cloned().unwrap_or(pos.clone())
            } else {
                positions.last().cloned().unwrap_or(pos.clone())
            };
            let st = SkipTok { c: cal.id.clone(), s, e, w, b: base, g: cal.generation, n: n + 1, p: next };
            body["@odata.nextLink"] = json!(self.link("$skiptoken", &encode_token(&st)));
        } else {
            let dt = DeltaTok { c: cal.id.clone(), s, e, w, g: cal.generation };
            body["@odata.deltaLink"] = json!(self.link("$deltatoken", &encode_token(&dt)));
        }
        body["value"] = json!(items);
        let mut resp = Resp::json(200, &body);
        if !self.p.applied.is_empty() {
            resp = resp.with_header("Preference-Applied", &self.p.applied.join(", "));
        }
        resp
    }
}

#[cfg(test)]
mod request_limit_tests {
    use super::*;

    fn at(now: f64) -> Env {
        Env { now, base: "http://127.0.0.1:1".into() }
    }

    #[test]
    fn throttled_requests_count_and_retry_after_names_when_one_fits_again() {
        let mut g = GraphCal::new(Default::default());
        g.request_limit = 2;
        g.request_window = 10.0;
        assert_eq!(g.over_request_limit(&at(0.0), "u"), None);
        assert_eq!(g.over_request_limit(&at(1.0), "u"), None);
        // Third in the window: refused, and counted, so one fits again when the one at 1.0
        // leaves (at 11), not the one at 0.0.
        assert_eq!(g.over_request_limit(&at(2.0), "u").as_deref(), Some("9"));
        // The refused one counts: at 10.5 the window still holds 1.0 and 2.0.
        assert_eq!(g.over_request_limit(&at(10.5), "u").as_deref(), Some("2"));
        assert_eq!(g.over_request_limit(&at(10.5), "other"), None);
        g.request_limit = 0;
        assert_eq!(g.over_request_limit(&at(10.5), "u"), None);
    }
}
