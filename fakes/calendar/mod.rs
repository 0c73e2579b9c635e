//! Calendar data behind the fakes' Bearer auth: Google Calendar v3 (`google`), Microsoft
//! Graph calendars and `calendarView/delta` (`graph`), Calendly scheduled events
//! (`calendly`), with deterministic seed data (`seed`), the recurrence engine (`rrule`),
//! time-zone helpers (`time`), the shared record store (`model`), the ground truth tests
//! compare against (`truth`) and the `/_fake/{google|microsoft|calendly}/...` control
//! endpoints (`control`).
//!
//! Each provider keeps one [`model::Store`] per user id, created (and seeded) the first time
//! the API or the control API touches that user.

#[cfg(test)]
mod api_tests;
pub mod calendly;
pub mod control;
pub mod google;
pub mod graph;
pub mod model;
pub mod rrule;
pub mod seed;
pub mod time;
pub mod truth;
#[cfg(test)]
mod write_tests;

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use model::{Attendee, Ev, Person, Status, Store, When};
use rrule::Orig;
use seed::{Rng, SeedEv, Start};
use time::{local_to_instant, zone_or_utc};

/// How many events to seed per provider, from which seed, and how far the fixtures move to
/// stay anchored to the fake's clock (whole weeks, see [`seed::anchor_shift`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SeedCfg {
    pub events: usize,
    pub seed: u64,
    pub shift_days: i64,
}

/// First `created` stamp of seeded events (microseconds): 2025-12-01T00:00:00Z.
const SEED_EPOCH: i64 = 1_764_547_200_000_000;

/// Decoded query parameters, repeats kept in order.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Query {
        Query(url::form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The single value of `k`; `Err(k)` when it is repeated. Empty counts as absent.
    pub fn one(&self, k: &str) -> Result<Option<&str>, String> {
        let mut it = self.0.iter().filter(|(n, _)| n == k);
        let first = it.next().map(|(_, v)| v.as_str());
        if it.next().is_some() {
            return Err(k.to_string());
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    pub fn has(&self, k: &str) -> bool {
        self.0.iter().any(|(n, _)| n == k)
    }

    /// First value, ignoring repeats (control API).
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// Percent-decode one path segment (`+` stays a plus). `None` for bad escapes or UTF-8.
pub fn pct_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encode for a path segment or query value.
pub fn pct_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Standard base64 without padding (Google's `eid`).
pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(s.as_bytes())
}

/// An opaque token: base64url of JSON.
pub fn encode_token<T: Serialize>(t: &T) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(t).unwrap_or_default())
}

pub fn decode_token<T: DeserializeOwned>(s: &str) -> Option<T> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Where a listing stopped: a record key (full rounds) or a change number (incremental
/// rounds), plus the original start of the last instance emitted inside that record.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Pos {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub i: Option<i64>,
}

/// What a page of a listing looks like: the real services send short and empty pages
/// (with a next link) now and then; the fakes do it deterministically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paging {
    /// Page `n` of a round is empty when `(n + salt) % 4 == 1` and half-size when it is 2.
    Mixed,
    /// Every page full.
    Plain,
    /// The first page of every round is empty, the rest full.
    EmptyFirst,
}

impl Paging {
    /// How many items page `n` of a round may hold.
    pub fn limit(self, n: u32, salt: u64, size: usize) -> usize {
        match self {
            Paging::Plain => size,
            Paging::EmptyFirst if n == 0 => 0,
            Paging::EmptyFirst => size,
            Paging::Mixed => match (n as u64 + salt) % 4 {
                1 => 0,
                2 => size.div_ceil(2),
                _ => size,
            },
        }
    }
}

/// Names of the three calendars every seeded account has, and how a provider writes zones.
pub struct Layout<'a> {
    pub cals: &'a [String],
    pub owner: Person,
    /// Rewrite a zone name for this provider (Outlook stores Windows names).
    pub zone_name: &'a dyn Fn(&str, usize) -> String,
    pub new_id: &'a mut dyn FnMut() -> String,
}

/// Put seeded events into `store`.
pub fn materialize(store: &mut Store, layout: &mut Layout, evs: &[SeedEv], rng: &mut Rng) {
    for (i, s) in evs.iter().enumerate() {
        let cal = &layout.cals[s.cal.min(layout.cals.len() - 1)];
        let tz_name = (layout.zone_name)(s.tz, i);
        let tz = zone_or_utc(&tz_name);
        let when = match s.start {
            Start::Local { day, secs, len } => {
                let start = local_to_instant(day, secs, &tz);
                When::Timed { start, end: start + len }
            }
            Start::AllDay { day, days } => When::AllDay { start: day, end: day + days },
        };
        let created = SEED_EPOCH + i as i64 * 300_000_000;
        let updated = created + rng.below(30 * 86400) as i64 * 1_000_000;
        let organizer = if s.external {
            Person { email: "alex.organizer@example.org".into(), name: Some("Alex Organizer".into()) }
        } else {
            layout.owner.clone()
        };
        let responses = ["accepted", "needsAction", "tentative", "declined"];
        let mut attendees: Vec<Attendee> = (0..s.attendees)
            .map(|j| Attendee {
                email: format!("guest{}@example.com", j + 1),
                name: Some(format!("Guest {}", j + 1)),
                response: responses[(i + j) % responses.len()].into(),
            })
            .collect();
        if s.external {
            attendees.push(Attendee {
                email: layout.owner.email.clone(),
                name: layout.owner.name.clone(),
                response: "accepted".into(),
            });
        }
        let rec = if s.recurrence.is_empty() { None } else { rrule::parse(&s.recurrence, &tz).ok() };
        let ev = Ev {
            key: (layout.new_id)(),
            title: s.title.clone(),
            description: s.description.clone(),
            location: s.location.clone(),
            status: if s.tentative { Status::Tentative } else { Status::Confirmed },
            deleted: false,
            ghost: false,
            is_cancelled: false,
            when,
            tz: tz_name,
            recurrence: if rec.is_some() { s.recurrence.clone() } else { Vec::new() },
            rec,
            series: None,
            original: None,
            organizer,
            attendees,
            created,
            updated,
            sequence: 0,
            seq: 0,
            id_version: 0,
            props: Default::default(),
            transaction_id: None,
        };
        store.put(cal, ev.clone());
        if ev.rec.is_none() {
            continue;
        }
        let Some(c) = store.cal(cal) else { continue };
        let insts: Vec<(String, Orig, When)> = c.instances(&ev).into_iter().map(|x| (x.key, x.orig, x.when)).collect();
        let mut extra = Vec::new();
        for &n in &s.cancel {
            if let Some((k, o, w)) = insts.get(n) {
                extra.push(exception(&ev, k, *o, *w, Status::Cancelled, updated));
            }
        }
        for &(n, by) in &s.moves {
            if let Some((k, o, w)) = insts.get(n)
                && let When::Timed { start, end } = *w
            {
                let moved = When::Timed { start: start + by, end: end + by };
                extra.push(exception(&ev, k, *o, moved, ev.status, updated));
            }
        }
        for x in extra {
            store.put(cal, x);
        }
    }
}

/// An exception record of `master` for the instance `key`.
pub fn exception(master: &Ev, key: &str, orig: Orig, when: When, status: Status, now: i64) -> Ev {
    let mut x = master.clone();
    x.key = key.to_string();
    x.series = Some(master.key.clone());
    x.original = Some(orig);
    x.when = when;
    x.rec = None;
    x.recurrence = Vec::new();
    x.status = status;
    x.ghost = false;
    x.deleted = false;
    x.updated = now + 1_000_000;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_path_helpers() {
        let q = Query::parse("a=1&b=x%20y&a=2&c=");
        assert_eq!(q.one("a"), Err("a".into()));
        assert_eq!(q.one("b"), Ok(Some("x y")));
        assert_eq!(q.one("c"), Ok(None));
        assert!(q.has("c"));
        assert_eq!(
            pct_decode("en.usa%23holiday%40group.v.calendar.google.com").as_deref(),
            Some("en.usa#holiday@group.v.calendar.google.com")
        );
        assert_eq!(pct_decode("%zz"), None);
        assert_eq!(pct_encode("a#b c"), "a%23b%20c");
        let t = encode_token(&(1u64, "x"));
        assert_eq!(decode_token::<(u64, String)>(&t), Some((1, "x".into())));
        assert_eq!(decode_token::<(u64, String)>("!!"), None);
    }

    #[test]
    fn paging_shapes() {
        let sizes: Vec<usize> = (0..4).map(|n| Paging::Mixed.limit(n, 0, 10)).collect();
        assert_eq!(sizes, [10, 0, 5, 10]);
        assert_eq!(Paging::EmptyFirst.limit(0, 3, 10), 0);
        assert_eq!(Paging::Plain.limit(1, 0, 10), 10);
    }
}
