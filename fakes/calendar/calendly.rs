//! Calendly scheduled events under the fake's API base (`/calendly/api/...`):
//! `GET scheduled_events` (needs `user` = the caller's URI or `organization` = its
//! organization; `status`, `sort=start_time:asc|desc`, `min_start_time` inclusive,
//! `max_start_time` exclusive, `count` 1-100, `invitee_email`, `page_token`),
//! `GET scheduled_events/{uuid}` and `GET scheduled_events/{uuid}/invitees`.
//!
//! There is no change feed: events are cancelled (and stay listed with `cancellation`),
//! rescheduled (a cancellation plus a new event) or hard-deleted (gone without a trace).

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::control::{bad, missing, s};
use super::seed::{Rng, bookings, mix};
use super::time::utc_frac;
use super::{Query, SeedCfg, decode_token, encode_token};
use crate::core::{Env, Grant, Stats, User};
use crate::http::{Req, Resp};

/// (name, minutes, location) of the seeded event types.
pub const KINDS: [(&str, i64, &str); 3] = [
    ("Estimate call", 30, "outbound_call"),
    ("Site consultation", 60, "physical"),
    ("Video review", 45, "google_conference"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub uuid: String,
    pub name: String,
    pub kind: usize,
    pub canceled: bool,
    /// Microseconds.
    pub start: i64,
    pub end: i64,
    pub location: Value,
    pub invitees: Vec<String>,
    pub guests: Vec<String>,
    pub limit: u32,
    pub notes: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub cancellation: Option<Value>,
}

/// One user's bookings, indexed by start time.
#[derive(Debug, Clone, Default)]
pub struct Bookings {
    pub by_uuid: HashMap<String, Booking>,
    pub by_start: BTreeSet<(i64, String)>,
    last_stamp: i64,
}

impl Bookings {
    pub fn put(&mut self, b: Booking) {
        if let Some(old) = self.by_uuid.get(&b.uuid) {
            self.by_start.remove(&(old.start, old.uuid.clone()));
        }
        self.by_start.insert((b.start, b.uuid.clone()));
        self.by_uuid.insert(b.uuid.clone(), b);
    }

    pub fn remove(&mut self, uuid: &str) -> Option<Booking> {
        let b = self.by_uuid.remove(uuid)?;
        self.by_start.remove(&(b.start, b.uuid.clone()));
        Some(b)
    }

    pub fn stamp(&mut self, now_micros: i64) -> i64 {
        self.last_stamp = now_micros.max(self.last_stamp + 1);
        self.last_stamp
    }
}

pub struct CalendlyCal {
    pub seed: SeedCfg,
    pub users: HashMap<String, Bookings>,
    /// The next N scheduled-events requests get 429...
    pub throttle_next: u32,
    /// ...saying `X-RateLimit-Reset: throttle_reset` (60, a full window, unless the test asks).
    pub throttle_reset: u64,
}

pub fn new_uuid() -> String {
    crate::core::rand_bytes(16)
        .iter()
        .map(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(*b % 32) as usize] as char)
        .collect()
}

pub fn location_for(kind: usize) -> Value {
    match KINDS[kind % KINDS.len()].2 {
        "outbound_call" => json!({ "type": "outbound_call", "location": "+1 303-555-0142" }),
        "physical" => {
            json!({ "type": "physical", "location": "12 Elm St, Boulder, CO", "additional_info": "" })
        }
        _ => {
            json!({ "type": "google_conference", "status": "pushed", "join_url": "https://meet.google.com/fak-efak-efa" })
        }
    }
}

fn seed_store(u: &User, cfg: SeedCfg) -> Bookings {
    let mut rng = Rng::new(mix(cfg.seed, &u.id));
    let mut s = Bookings::default();
    let created0 = 1_764_547_200_000_000i64;
    for (i, b) in super::seed::shifted_bookings(bookings(cfg.events, cfg.seed), cfg.shift_days).into_iter().enumerate()
    {
        let uuid = rng.chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        let created = created0 + i as i64 * 600_000_000;
        let updated = created + rng.below(10 * 86400) as i64 * 1_000_000;
        let k = KINDS[b.kind % KINDS.len()];
        let mut bk = Booking {
            uuid: uuid.clone(),
            name: k.0.into(),
            kind: b.kind,
            canceled: b.canceled || b.rescheduled_to.is_some(),
            start: b.start * 1_000_000,
            end: (b.start + b.len) * 1_000_000,
            location: location_for(b.kind),
            invitees: vec![format!("invitee{}@example.com", i + 1)],
            guests: (0..b.guests).map(|g| format!("guest{}@example.com", g + 1)).collect(),
            limit: 1,
            notes: None,
            created,
            updated,
            cancellation: None,
        };
        if bk.canceled {
            let (by, reason) = if b.rescheduled_to.is_some() {
                ("Invitee One", "Rescheduled")
            } else {
                ("Invitee One", "Conflict came up")
            };
            bk.cancellation = Some(json!({ "canceled_by": by, "reason": reason, "canceler_type": "invitee",
                                            "created_at": utc_frac(updated, 6) }));
        }
        s.put(bk.clone());
        if let Some(to) = b.rescheduled_to {
            let mut nb = bk;
            nb.uuid = rng.chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
            nb.canceled = false;
            nb.cancellation = None;
            nb.start = to * 1_000_000;
            nb.end = (to + b.len) * 1_000_000;
            nb.created = updated;
            nb.updated = updated;
            s.put(nb);
        }
    }
    s
}

pub fn api_base(env: &Env) -> String {
    format!("{}/calendly/api", env.base)
}

pub fn user_uri(env: &Env, u: &User) -> String {
    format!("{}/users/{}", api_base(env), u.id)
}

fn org_uri(env: &Env, u: &User) -> String {
    let org = u.extra_str("organization").unwrap_or("FDFHA3EDQ2HHJVBM");
    format!("{}/organizations/{org}", api_base(env))
}

pub fn event_type_uri(env: &Env, kind: usize) -> String {
    let ids = ["FFGHDCAADAEDCRZ7", "GAHEEDBBFBGEDSA4", "HBIFFECCGCHFETB5"];
    format!("{}/event_types/{}", api_base(env), ids[kind % ids.len()])
}

/// The JSON of one scheduled event.
pub fn booking_json(env: &Env, u: &User, b: &Booking) -> Value {
    let mut v = json!({
        "uri": format!("{}/scheduled_events/{}", api_base(env), b.uuid),
        "name": b.name,
        "meeting_notes_plain": b.notes,
        "meeting_notes_html": b.notes.as_ref().map(|n| format!("<p>{}</p>", crate::http::html_escape(n))),
        "status": if b.canceled { "canceled" } else { "active" },
        "start_time": utc_frac(b.start, 6),
        "end_time": utc_frac(b.end, 6),
        "event_type": event_type_uri(env, b.kind),
        "location": b.location,
        "invitees_counter": { "total": b.invitees.len(), "active": if b.canceled { 0 } else { b.invitees.len() }, "limit": b.limit },
        "created_at": utc_frac(b.created, 6),
        "updated_at": utc_frac(b.updated, 6),
        "event_memberships": [{ "user": user_uri(env, u), "user_email": u.email, "user_name": u.name }],
        "event_guests": b.guests.iter().map(|g| json!({ "email": g, "created_at": utc_frac(b.created, 6), "updated_at": utc_frac(b.created, 6) })).collect::<Vec<_>>(),
        "calendar_event": null,
    });
    if let Some(c) = &b.cancellation {
        v["cancellation"] = c.clone();
    }
    v
}

fn invalid(details: &[(&str, &str)]) -> Resp {
    let d: Vec<Value> = details.iter().map(|(p, m)| json!({ "parameter": p, "message": m })).collect();
    Resp::json(
        400,
        &json!({ "title": "Invalid Argument", "message": "The supplied parameters are invalid.", "details": d }),
    )
}

fn forbidden() -> Resp {
    Resp::json(
        403,
        &json!({ "title": "Permission Denied", "message": "You do not have permission to access this resource." }),
    )
}

fn not_found() -> Resp {
    Resp::json(
        404,
        &json!({ "title": "Resource Not Found", "message": "The server could not find the requested resource." }),
    )
}

/// Parse an ISO 8601 instant with offset to microseconds.
pub fn parse_micros(s: &str) -> Option<i64> {
    super::time::parse_rfc3339(s)?;
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_microsecond())
}

#[derive(Debug, Serialize, Deserialize)]
struct PageTok {
    /// "n": items after the anchor; "p": items before it.
    d: String,
    s: i64,
    u: String,
}

impl CalendlyCal {
    pub fn new(seed: SeedCfg) -> CalendlyCal {
        CalendlyCal { seed, users: HashMap::new(), throttle_next: 0, throttle_reset: 60 }
    }

    pub fn store(&mut self, u: &User) -> &mut Bookings {
        let cfg = self.seed;
        self.users.entry(u.id.clone()).or_insert_with(|| seed_store(u, cfg))
    }

    /// Whether the API path belongs to this module.
    pub fn serves(path: &str) -> bool {
        path == "scheduled_events" || path.starts_with("scheduled_events/")
    }

    /// Take one forced 429 if the control API asked for it: the seconds its reset header says.
    pub fn take_throttle(&mut self) -> Option<u64> {
        if self.throttle_next > 0 {
            self.throttle_next -= 1;
            return Some(self.throttle_reset);
        }
        None
    }

    pub fn handle(&mut self, stats: &mut Stats, env: &Env, req: &Req, path: &str, g: &Grant) -> Resp {
        if !g.scope.iter().any(|s| s == "scheduled_events:read" || s == "scheduled_events:write") {
            return Resp::json(403, &json!({ "title": "Permission Denied", "message": "Insufficient scope" }));
        }
        if req.method != "GET" {
            return not_found();
        }
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let u = g.user.clone();
        let store = self.store(&u);
        match parts.as_slice() {
            ["scheduled_events"] => {
                *stats.endpoints.entry("scheduled_events.list".into()).or_default() += 1;
                list(store, env, req, &u)
            }
            ["scheduled_events", uuid] => {
                *stats.endpoints.entry("scheduled_events.get".into()).or_default() += 1;
                match store.by_uuid.get(*uuid) {
                    Some(b) => Resp::json(200, &json!({ "resource": booking_json(env, &u, b) })),
                    None => not_found(),
                }
            }
            ["scheduled_events", uuid, "invitees"] => {
                *stats.endpoints.entry("scheduled_events.invitees".into()).or_default() += 1;
                let Some(b) = store.by_uuid.get(*uuid) else {
                    return not_found();
                };
                let base = api_base(env);
                let items: Vec<Value> = b
                    .invitees
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        json!({ "uri": format!("{base}/scheduled_events/{}/invitees/{}{i}", b.uuid, &b.uuid[..8]),
                                "email": e, "name": format!("Invitee {}", i + 1),
                                "status": if b.canceled { "canceled" } else { "active" },
                                "event": format!("{base}/scheduled_events/{}", b.uuid),
                                "created_at": utc_frac(b.created, 6), "updated_at": utc_frac(b.updated, 6),
                                "timezone": "America/Denver", "rescheduled": false })
                    })
                    .collect();
                let n = items.len();
                Resp::json(
                    200,
                    &json!({ "collection": items, "pagination": { "count": n, "next_page": null,
                             "previous_page": null, "next_page_token": null, "previous_page_token": null } }),
                )
            }
            _ => not_found(),
        }
    }
}

fn list(store: &Bookings, env: &Env, req: &Req, u: &User) -> Resp {
    let q = Query::parse(&req.query);
    let one = |k: &str| q.one(k).ok().flatten();
    let mut errs: Vec<(&str, &str)> = Vec::new();
    for k in [
        "user",
        "organization",
        "group",
        "status",
        "sort",
        "count",
        "page_token",
        "min_start_time",
        "max_start_time",
        "invitee_email",
    ] {
        if q.one(k).is_err() {
            errs.push((k, "must not be repeated"));
        }
    }
    let (user, org) = (one("user"), one("organization"));
    if user.is_none() && org.is_none() && one("group").is_none() {
        errs.push(("organization", "is required when user is not provided"));
    }
    let status = match one("status") {
        None => None,
        Some(s @ ("active" | "canceled")) => Some(s == "canceled"),
        Some(_) => {
            errs.push(("status", "must be one of active, canceled"));
            None
        }
    };
    let desc = match one("sort") {
        None | Some("start_time:asc") => false,
        Some("start_time:desc") => true,
        Some(_) => {
            errs.push(("sort", "must be one of start_time:asc, start_time:desc"));
            false
        }
    };
    let count = match one("count").map(|c| c.parse::<i64>()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n as usize,
        Some(Ok(n)) if n > 100 => {
            errs.push(("count", "must be less than or equal to 100"));
            20
        }
        Some(_) => {
            errs.push(("count", "must be an integer greater than or equal to 1"));
            20
        }
    };
    let mut time = |k: &'static str| match one(k) {
        None => None,
        Some(v) => {
            let t = parse_micros(v);
            if t.is_none() {
                errs.push((k, "must be a valid ISO 8601 date-time"));
            }
            t
        }
    };
    let min = time("min_start_time");
    let max = time("max_start_time");
    let tok = match one("page_token") {
        None => None,
        Some(t) => {
            let p = decode_token::<PageTok>(t);
            if p.is_none() {
                errs.push(("page_token", "is invalid"));
            }
            p
        }
    };
    if !errs.is_empty() {
        return invalid(&errs);
    }
    if user.is_some_and(|x| x != user_uri(env, u)) || org.is_some_and(|x| x != org_uri(env, u)) {
        return forbidden();
    }
    if org.is_some() && u.extra_str("role").is_some_and(|r| r == "user") {
        return forbidden();
    }
    if user.is_none() && org.is_none() {
        return forbidden();
    }
    let invitee = one("invitee_email");
    let keep = |b: &Booking| {
        status.is_none_or(|c| b.canceled == c)
            && invitee.is_none_or(|e| b.invitees.iter().any(|x| x.eq_ignore_ascii_case(e)))
    };
    let lo = min.map_or(Bound::Unbounded, |m| Bound::Included((m, String::new())));
    let hi = max.map_or(Bound::Unbounded, |m| Bound::Excluded((m, String::new())));
    if let (Some(a), Some(b)) = (min, max)
        && a >= b
    {
        return Resp::json(
            200,
            &json!({ "collection": [], "pagination": { "count": 0, "next_page": null,
                     "previous_page": null, "next_page_token": null, "previous_page_token": null } }),
        );
    }
    type K = (i64, String);
    type Keys<'k> = Box<dyn Iterator<Item = &'k K> + 'k>;
    let (lo_key, hi_key) = (min.map(|m| (m, String::new())), max.map(|m| (m, String::new())));
    // Keys in the window strictly above / below an anchor (ranges, not scans).
    let above = |a: Option<K>| -> Keys<'_> {
        let l = match a {
            Some(a) if hi_key.as_ref().is_some_and(|h| a >= *h) => {
                return Box::new(std::iter::empty());
            }
            Some(a) if lo_key.as_ref().is_none_or(|l| a >= *l) => Bound::Excluded(a),
            _ => lo.clone(),
        };
        Box::new(store.by_start.range((l, hi.clone())))
    };
    let below = |a: Option<K>| -> Keys<'_> {
        let h = match a {
            Some(a) if lo_key.as_ref().is_some_and(|l| a <= *l) => {
                return Box::new(std::iter::empty());
            }
            Some(a) if hi_key.as_ref().is_none_or(|h| a < *h) => Bound::Excluded(a),
            _ => hi.clone(),
        };
        Box::new(store.by_start.range((lo.clone(), h)).rev())
    };
    // Keys in listing order after / before an anchor.
    let after = |anchor: Option<K>| if desc { below(anchor) } else { above(anchor) };
    let before =
        |anchor: &K| -> Keys<'_> { if desc { above(Some(anchor.clone())) } else { below(Some(anchor.clone())) } };
    let get = |k: &(i64, String)| store.by_uuid.get(&k.1).filter(|b| keep(b));
    let page: Vec<&Booking> = match &tok {
        Some(t) if t.d == "p" => {
            let a = (t.s, t.u.clone());
            let mut v: Vec<&Booking> = before(&a).filter_map(get).take(count).collect();
            v.reverse();
            v
        }
        Some(t) => after(Some((t.s, t.u.clone()))).filter_map(get).take(count).collect(),
        None => after(None).filter_map(get).take(count).collect(),
    };
    let first = page.first().map(|b| (b.start, b.uuid.clone()));
    let last = page.last().map(|b| (b.start, b.uuid.clone()));
    let has_next = last.as_ref().is_some_and(|l| after(Some(l.clone())).filter_map(get).next().is_some());
    let has_prev = first.as_ref().is_some_and(|f| before(f).filter_map(get).next().is_some());
    let mk = |d: &str, k: &(i64, String)| encode_token(&PageTok { d: d.into(), s: k.0, u: k.1.clone() });
    let next_tok = last.as_ref().filter(|_| has_next).map(|k| mk("n", k));
    let prev_tok = first.as_ref().filter(|_| has_prev).map(|k| mk("p", k));
    let link = |t: &Option<String>| {
        t.as_ref().map(|t| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in q.0.iter().filter(|(k, _)| k != "page_token") {
                ser.append_pair(k, v);
            }
            ser.append_pair("page_token", t);
            format!("{}/scheduled_events?{}", api_base(env), ser.finish())
        })
    };
    let items: Vec<Value> = page.iter().map(|b| booking_json(env, u, b)).collect();
    Resp::json(
        200,
        &json!({ "collection": items, "pagination": {
            "count": page.len(), "next_page": link(&next_tok), "previous_page": link(&prev_tok),
            "next_page_token": next_tok, "previous_page_token": prev_tok } }),
    )
}

/// `/_fake/calendly/...`: `truth`, `events` (add), `events/{id}` (change),
/// `events/{id}/delete` (cancel, or `hard`), `events/{id}/reschedule`.
#[allow(clippy::too_many_arguments)]
pub fn control(
    env: &Env,
    u: &User,
    store: &mut Bookings,
    method: &str,
    rest: &[&str],
    q: &Query,
    body: &Value,
    now: i64,
) -> Resp {
    let uuid_of = |id: &str| id.rsplit('/').next().unwrap_or(id).to_string();
    match (method, rest) {
        ("GET", ["truth"]) => {
            let get = |keys: &[&str]| keys.iter().find_map(|k| q.get(k)).map(|v| parse_micros(v).ok_or(()));
            let (min, max) = match (get(&["time_min", "min_start_time"]), get(&["time_max", "max_start_time"])) {
                (Some(Err(())), _) | (_, Some(Err(()))) => {
                    return bad("window bounds must be ISO 8601 instants with an offset");
                }
                (a, b) => (a.and_then(Result::ok), b.and_then(Result::ok)),
            };
            let rows = super::truth::calendly(env, u, store, min, max);
            Resp::json(200, &json!({ "user": u.id, "count": rows.len(), "events": rows }))
        }
        ("POST", ["events"]) => {
            let kind = body.get("kind").and_then(Value::as_u64).unwrap_or(0) as usize % KINDS.len();
            let Some(start) = s(body, "start").and_then(parse_micros) else {
                return bad("\"start\" must be an ISO 8601 instant with an offset");
            };
            let end = match s(body, "end") {
                None => start + KINDS[kind].1 * 60_000_000,
                Some(e) => match parse_micros(e).filter(|e| *e >= start) {
                    Some(e) => e,
                    None => return bad("\"end\" must be an instant not before \"start\""),
                },
            };
            let stamp = store.stamp(now);
            let b = Booking {
                uuid: new_uuid(),
                name: s(body, "name").unwrap_or(KINDS[kind].0).into(),
                kind,
                canceled: s(body, "status") == Some("canceled"),
                start,
                end,
                location: body.get("location").cloned().unwrap_or_else(|| location_for(kind)),
                invitees: vec![s(body, "invitee_email").unwrap_or("invitee@example.com").into()],
                guests: body
                    .get("guests")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
                    .unwrap_or_default(),
                limit: 1,
                notes: s(body, "notes").map(String::from),
                created: stamp,
                updated: stamp,
                cancellation: None,
            };
            let uri = format!("{}/scheduled_events/{}", api_base(env), b.uuid);
            let uuid = b.uuid.clone();
            store.put(b);
            Resp::json(200, &json!({ "id": uri, "uuid": uuid }))
        }
        ("POST", ["events", id]) => {
            let uuid = uuid_of(id);
            let stamp = store.stamp(now);
            let Some(mut b) = store.by_uuid.get(&uuid).cloned() else {
                return missing("event");
            };
            if let Some(n) = s(body, "name") {
                b.name = n.into();
            }
            if let Some(n) = body.get("notes") {
                b.notes = n.as_str().map(String::from);
            }
            if let Some(l) = body.get("location") {
                b.location = l.clone();
            }
            if let Some(t) = s(body, "start") {
                let Some(t) = parse_micros(t) else {
                    return bad("bad \"start\"");
                };
                b.end = t + (b.end - b.start);
                b.start = t;
            }
            if let Some(t) = s(body, "end") {
                match parse_micros(t).filter(|t| *t >= b.start) {
                    Some(t) => b.end = t,
                    None => return bad("bad \"end\""),
                }
            }
            b.updated = stamp;
            store.put(b);
            Resp::json(200, &json!({ "uuid": uuid }))
        }
        ("POST", ["events", id, "delete"]) => {
            let uuid = uuid_of(id);
            if body.get("hard").and_then(Value::as_bool).unwrap_or(false) {
                return match store.remove(&uuid) {
                    Some(_) => Resp::json(200, &json!({ "uuid": uuid, "deleted": true })),
                    None => missing("event"),
                };
            }
            let stamp = store.stamp(now);
            let Some(mut b) = store.by_uuid.get(&uuid).cloned() else {
                return missing("event");
            };
            cancel(&mut b, body, stamp);
            store.put(b);
            Resp::json(200, &json!({ "uuid": uuid, "canceled": true }))
        }
        ("POST", ["events", id, "reschedule"]) => {
            let uuid = uuid_of(id);
            let stamp = store.stamp(now);
            let Some(mut old) = store.by_uuid.get(&uuid).cloned() else {
                return missing("event");
            };
            let Some(start) = s(body, "start").and_then(parse_micros) else {
                return bad("\"start\" must be an ISO 8601 instant with an offset");
            };
            let mut new = old.clone();
            new.uuid = new_uuid();
            new.end = start + (old.end - old.start);
            new.start = start;
            new.created = stamp;
            new.updated = stamp;
            new.canceled = false;
            new.cancellation = None;
            let mut reason = body.clone();
            if reason.get("reason").is_none() {
                reason["reason"] = json!("Rescheduled");
            }
            cancel(&mut old, &reason, stamp);
            let base = api_base(env);
            let ids = json!({ "canceled": format!("{base}/scheduled_events/{}", old.uuid),
                              "new": format!("{base}/scheduled_events/{}", new.uuid) });
            store.put(old);
            store.put(new);
            Resp::json(200, &ids)
        }
        _ => missing("calendly control endpoint"),
    }
}

fn cancel(b: &mut Booking, body: &Value, stamp: i64) {
    b.canceled = true;
    b.updated = stamp;
    b.cancellation = Some(json!({
        "canceled_by": s(body, "canceled_by").unwrap_or("Invitee One"),
        "reason": s(body, "reason"),
        "canceler_type": s(body, "canceler_type").unwrap_or("invitee"),
        "created_at": utc_frac(stamp, 6),
    }));
}
