//! The push plan, pure: the events a rule wants (one per in-window visit of its crew), and the
//! writes that turn what was pushed into that. Nothing here touches the network or the
//! database, so every rule of the ownership policy is a unit test.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

pub use crate::providers::push::When;
use crate::store::push::{Pushed, Rule, VisitRow};

/// Longest title and description integ writes (Graph and Google take more; nobody reads more).
const MAX_TITLE: usize = 1024;
const MAX_DESCRIPTION: usize = 8 * 1024;

/// The event a visit should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub visit_key: String,
    pub title: String,
    pub location: Option<String>,
    pub description: String,
    pub when: When,
    pub hash: String,
}

/// One write of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// No event recorded (or a create whose answer was never recorded: `pending`).
    Create {
        desired: Desired,
        generation: u32,
        pending: bool,
    },
    Update {
        desired: Desired,
        event_id: String,
        generation: u32,
    },
    /// `event_id` None: a create under way that the visit no longer wants; find it first.
    Delete {
        visit_key: String,
        event_id: Option<String>,
        generation: u32,
    },
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Whether a visit belongs to the rule's crew (any assignee named or id'd in it).
fn crew_matches(rule: &Rule, v: &VisitRow) -> bool {
    rule.crew.is_empty()
        || v.crew.iter().any(|(id, name)| {
            rule.crew.iter().any(|c| c == id || name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(c)))
        })
}

/// A visit's times: timed when it has a start and a later end, else the start's day (UTC).
fn when_of(v: &VisitRow) -> Option<When> {
    let start: Timestamp = v.start_at.parse().ok()?;
    match v.end_at.as_deref().and_then(|e| e.parse::<Timestamp>().ok()) {
        Some(end) if end > start => Some(When::Timed { start, end }),
        _ => {
            let day = start.to_zoned(jiff::tz::TimeZone::UTC).date();
            Some(When::AllDay { start: day, end: day.tomorrow().ok()? })
        }
    }
}

fn overlaps(w: &When, from: Timestamp, to: Timestamp) -> bool {
    let (s, e) = match w {
        When::Timed { start, end } => (*start, *end),
        When::AllDay { start, end } => {
            let at = |d: &jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).ok();
            match (at(start), at(end)) {
                (Some(s), Some(e)) => (s, e),
                _ => return false,
            }
        }
    };
    e > from && s < to
}

pub fn visit_key(v: &VisitRow) -> String {
    format!("{}/{}", v.job_id, v.visit_id)
}

/// The event of one visit.
pub fn event_of(v: &VisitRow, when: When) -> Desired {
    let number = v.job_number.map(|n| format!("#{n} ")).unwrap_or_default();
    let job_title = text(&v.job_title).or(text(&v.visit_title)).unwrap_or("Visit");
    let title = match text(&v.client_name) {
        Some(c) => format!("{number}{job_title} · {c}"),
        None => format!("{number}{job_title}"),
    };
    let mut crew: Vec<&str> = v.crew.iter().map(|(id, name)| name.as_deref().unwrap_or(id)).collect();
    crew.sort_by_key(|n| n.to_lowercase());
    let mut lines = Vec::new();
    let head = match v.job_number {
        Some(n) => format!("Job #{n}"),
        None => "Jobber job".to_string(),
    };
    lines.push(if crew.is_empty() {
        format!("{head} · crew: none assigned")
    } else {
        format!("{head} · crew: {}", crew.join(", "))
    });
    if let Some(t) = text(&v.visit_title).filter(|t| Some(*t) != text(&v.job_title)) {
        lines.push(format!("Visit: {t}"));
    }
    if let Some(i) = text(&v.instructions) {
        lines.push(String::new());
        lines.push(i.to_string());
    }
    if let Some(u) = text(&v.web_url) {
        lines.push(String::new());
        lines.push(u.to_string());
    }
    let location = (!v.address.is_empty()).then(|| v.address.join(", "));
    let mut d = Desired {
        visit_key: visit_key(v),
        title: cut(&title, MAX_TITLE),
        location: location.map(|l| cut(&l, MAX_TITLE)),
        description: cut(&lines.join("\n"), MAX_DESCRIPTION),
        when,
        hash: String::new(),
    };
    d.hash = hash(&d);
    d
}

/// A digest of every field integ writes: equal hashes mean nothing to send.
fn hash(d: &Desired) -> String {
    let when = match &d.when {
        When::Timed { start, end } => format!("t|{start}|{end}"),
        When::AllDay { start, end } => format!("d|{start}|{end}"),
    };
    let mut h = Sha256::new();
    for part in [d.title.as_str(), d.location.as_deref().unwrap_or("\u{0}"), d.description.as_str(), when.as_str()] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The events a rule wants now, by visit key.
pub fn desired(rule: &Rule, visits: &[VisitRow], now: Timestamp) -> BTreeMap<String, Desired> {
    let from = now - SignedDuration::from_hours(24 * i64::from(rule.past_days));
    let to = now + SignedDuration::from_hours(24 * i64::from(rule.future_days));
    visits
        .iter()
        .filter(|v| crew_matches(rule, v))
        .filter_map(|v| when_of(v).filter(|w| overlaps(w, from, to)).map(|w| event_of(v, w)))
        .map(|d| (d.visit_key.clone(), d))
        .collect()
}

/// The writes from what was pushed to what is wanted, creates and updates in visit order, then
/// deletes. A visit whose hash is unchanged costs nothing, whatever happened to its event in
/// the calendar (the ownership policy: a user's edit or deletion lasts until the visit
/// changes).
pub fn plan(want: &BTreeMap<String, Desired>, pushed: &HashMap<String, Pushed>) -> Vec<Op> {
    let mut ops = Vec::new();
    for (key, d) in want {
        match pushed.get(key) {
            None => ops.push(Op::Create { desired: d.clone(), generation: 0, pending: false }),
            Some(p) => match &p.event_id {
                None => ops.push(Op::Create { desired: d.clone(), generation: p.generation, pending: true }),
                Some(_) if p.content_hash == d.hash => {}
                Some(id) => ops.push(Op::Update { desired: d.clone(), event_id: id.clone(), generation: p.generation }),
            },
        }
    }
    let mut gone: Vec<(&String, &Pushed)> = pushed.iter().filter(|(k, _)| !want.contains_key(*k)).collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    for (key, p) in gone {
        ops.push(Op::Delete { visit_key: key.clone(), event_id: p.event_id.clone(), generation: p.generation });
    }
    ops
}

/// Google's event id for (rule, visit, generation): base32hex of SHA-256, lowercase and
/// unpadded (52 characters of `0-9a-v`), so a retried insert names the same event.
pub fn google_id(rule: i64, visit_key: &str, generation: u32) -> String {
    let digest = Sha256::digest(format!("integ:v1:{rule}:{visit_key}:{generation}").as_bytes());
    base32hex(&digest)
}

fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Integ's key for a visit on Microsoft (the extended property's value and the
/// `transactionId`'s seed): lowercase, because Graph matches property values ignoring case.
pub fn microsoft_key(rule: i64, visit_key: &str) -> String {
    let digest = Sha256::digest(format!("integ:v1:{rule}:{visit_key}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("r{rule}:{hex}")
}

/// The `transactionId` of one create generation.
pub fn transaction_id(rule: i64, visit_key: &str, generation: u32) -> String {
    let digest = Sha256::digest(format!("integ:v1:tx:{rule}:{visit_key}:{generation}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(crew: &[&str]) -> Rule {
        Rule {
            id: 7,
            target_connection_id: 2,
            calendar_id: "c".into(),
            calendar_name: None,
            source_connection_id: 1,
            crew: crew.iter().map(|s| s.to_string()).collect(),
            past_days: 7,
            future_days: 90,
            created_at: String::new(),
            last_push_at: None,
        }
    }

    fn visit(id: &str, start: &str, end: Option<&str>, crew: &[(&str, &str)]) -> VisitRow {
        VisitRow {
            job_id: "J1".into(),
            visit_id: id.into(),
            job_number: Some(1042),
            job_title: Some("Spring cleanup".into()),
            visit_title: Some("Spring cleanup".into()),
            client_name: Some("Acme Lawn".into()),
            address: vec!["12 Elm St".into(), "Boulder".into()],
            instructions: Some("Gate code 1234".into()),
            web_url: Some("https://secure.getjobber.com/work_orders/1".into()),
            start_at: start.into(),
            end_at: end.map(String::from),
            crew: crew.iter().map(|(i, n)| (i.to_string(), Some(n.to_string()))).collect(),
        }
    }

    const NOW: &str = "2026-11-21T12:00:00Z";

    #[test]
    fn an_event_carries_the_documented_fields() {
        let v = visit("V1", "2026-11-23T15:00:00Z", Some("2026-11-23T17:30:00Z"), &[("U1", "Ana"), ("U2", "Lee")]);
        let want = desired(&rule(&[]), &[v], NOW.parse().unwrap());
        let d = &want["J1/V1"];
        assert_eq!(d.title, "#1042 Spring cleanup · Acme Lawn");
        assert_eq!(d.location.as_deref(), Some("12 Elm St, Boulder"));
        assert_eq!(
            d.description,
            "Job #1042 · crew: Ana, Lee\n\nGate code 1234\n\nhttps://secure.getjobber.com/work_orders/1"
        );
        assert!(matches!(d.when, When::Timed { .. }));
        assert_eq!(d.hash.len(), 32);
    }

    #[test]
    fn the_window_and_the_crew_choose_the_visits() {
        let now: Timestamp = NOW.parse().unwrap();
        let visits = [
            visit("old", "2026-11-01T15:00:00Z", Some("2026-11-01T16:00:00Z"), &[("U1", "Ana")]),
            visit("in", "2026-11-20T15:00:00Z", Some("2026-11-20T16:00:00Z"), &[("U1", "Ana")]),
            visit("far", "2027-06-01T15:00:00Z", Some("2027-06-01T16:00:00Z"), &[("U1", "Ana")]),
            visit("lee", "2026-11-22T15:00:00Z", None, &[("U2", "Lee")]),
        ];
        let all = desired(&rule(&[]), &visits, now);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["J1/in", "J1/lee"]);
        assert!(matches!(all["J1/lee"].when, When::AllDay { .. }), "no end: the start's day");
        let ana = desired(&rule(&["ana"]), &visits, now);
        assert_eq!(ana.keys().collect::<Vec<_>>(), ["J1/in"], "names match ignoring case");
        let by_id = desired(&rule(&["U2"]), &visits, now);
        assert_eq!(by_id.keys().collect::<Vec<_>>(), ["J1/lee"]);
    }

    #[test]
    fn only_differences_are_planned() {
        let now: Timestamp = NOW.parse().unwrap();
        let a = visit("A", "2026-11-22T15:00:00Z", Some("2026-11-22T16:00:00Z"), &[]);
        let b = visit("B", "2026-11-23T15:00:00Z", Some("2026-11-23T16:00:00Z"), &[]);
        let want = desired(&rule(&[]), &[a.clone(), b.clone()], now);
        let mut pushed = HashMap::new();
        assert_eq!(plan(&want, &pushed).len(), 2, "first push: two creates");
        for d in want.values() {
            let p =
                Pushed { event_id: Some(format!("e-{}", d.visit_key)), generation: 0, content_hash: d.hash.clone() };
            pushed.insert(d.visit_key.clone(), p);
        }
        assert!(plan(&want, &pushed).is_empty(), "nothing changed, nothing to send");
        let mut moved = a.clone();
        moved.start_at = "2026-11-22T14:00:00Z".into();
        let want2 = desired(&rule(&[]), &[moved], now);
        let ops = plan(&want2, &pushed);
        assert!(matches!(&ops[0], Op::Update { event_id, .. } if event_id == "e-J1/A"));
        assert!(matches!(&ops[1], Op::Delete { visit_key, .. } if visit_key == "J1/B"));
        // A create whose answer was lost is recovered, not repeated blindly.
        pushed.insert("J1/A".into(), Pushed { event_id: None, generation: 1, content_hash: String::new() });
        let ops = plan(&want, &pushed);
        assert!(matches!(&ops[0], Op::Create { pending: true, generation: 1, .. }));
    }

    #[test]
    fn google_ids_are_base32hex_and_stable() {
        let id = google_id(7, "J1/V1", 0);
        assert_eq!(id.len(), 52);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)));
        assert_eq!(id, google_id(7, "J1/V1", 0));
        assert_ne!(id, google_id(7, "J1/V1", 1));
        assert_ne!(id, google_id(8, "J1/V1", 0));
        assert_eq!(base32hex(b"f"), "co");
        assert_eq!(base32hex(b"foobar"), "cpnmuoj1e8");
        let key = microsoft_key(7, "J1/V1");
        assert_eq!(key, key.to_lowercase());
    }
}
