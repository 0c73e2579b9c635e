//! Deterministic seed data: the same `(count, seed, anchor)` always gives the same events.
//!
//! The first events are fixed fixtures covering the hard cases (series across the 2026 and
//! 2027 DST switches of America/Denver and Europe/Berlin, cancelled and moved instances,
//! EXDATEs, single- and multi-day all-day events, all-day series, events far outside any sync
//! window, several zones); the rest are pseudo-random over 2026-2027 with a few outliers.
//!
//! The dates are written for the reference anchor [`REFERENCE_ANCHOR`] (2026-11-21T12:00:00Z),
//! the instant the test suite pins integ's and the fake's clocks to. A fake whose clock starts
//! elsewhere (the demo, on the machine's clock) moves every event by the whole number of weeks
//! between the two ([`anchor_shift`]), so each fixture keeps its place relative to "now" and its
//! weekday; only the DST cases stop falling on a switch when the anchor is not the reference.

use super::time::day_num;

/// splitmix64: tiny, stable across Rust and crate versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }

    /// `n` characters from `alphabet`.
    pub fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect::<String>()
    }
}

/// Hash a string into a seed (FNV-1a), so each user gets different ids.
pub fn mix(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Local wall-clock start (epoch day, seconds after midnight) and length in seconds.
    Local { day: i64, secs: i64, len: i64 },
    /// First day and number of days.
    AllDay { day: i64, days: i64 },
}

/// A provider-neutral event to seed.
#[derive(Debug, Clone)]
pub struct SeedEv {
    /// 0 = the primary/default calendar, 1 = a second own calendar, 2 = a read-only one.
    pub cal: usize,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub tentative: bool,
    pub tz: &'static str,
    pub start: Start,
    pub recurrence: Vec<String>,
    /// Indexes (in the expanded series) of instances cancelled one by one.
    pub cancel: Vec<usize>,
    /// (instance index, seconds to move it by).
    pub moves: Vec<(usize, i64)>,
    pub attendees: usize,
    /// Organised by someone else (the user is an attendee).
    pub external: bool,
}

const ZONES: &[&str] = &[
    "America/Denver",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];
const TITLES: &[&str] = &[
    "Site visit",
    "Quote walkthrough",
    "Crew briefing",
    "Supplier call",
    "Estimate review",
    "Invoice follow-up",
    "Equipment pickup",
    "Safety training",
    "Client check-in",
    "Planning session",
];
const PLACES: &[&str] = &["12 Elm St, Boulder, CO", "Depot", "Zoom", "Kaiserstraße 5, Frankfurt", "Office"];

#[allow(clippy::too_many_arguments)]
fn fixture(
    cal: usize,
    title: &str,
    tz: &'static str,
    start: Start,
    recurrence: &[&str],
    cancel: &[usize],
    moves: &[(usize, i64)],
    tentative: bool,
) -> SeedEv {
    SeedEv {
        cal,
        title: title.into(),
        description: Some(format!("Fixture: {title}")),
        location: None,
        tentative,
        tz,
        start,
        recurrence: recurrence.iter().map(|s| s.to_string()).collect(),
        cancel: cancel.to_vec(),
        moves: moves.to_vec(),
        attendees: 0,
        external: false,
    }
}

fn local(y: i64, m: i64, d: i64, h: i64, min: i64, len_min: i64) -> Start {
    Start::Local { day: day_num(y, m, d), secs: h * 3600 + min * 60, len: len_min * 60 }
}

fn all_day(y: i64, m: i64, d: i64, days: i64) -> Start {
    Start::AllDay { day: day_num(y, m, d), days }
}

/// The fixed cases, in order.
pub fn fixtures() -> Vec<SeedEv> {
    let mut v = vec![
        fixture(
            0,
            "Standup (Denver spring DST)",
            "America/Denver",
            local(2026, 3, 2, 9, 0, 15),
            &["RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=9"],
            &[4],
            &[(5, 7200)],
            false,
        ),
        fixture(
            1,
            "Crew briefing (Berlin spring DST)",
            "Europe/Berlin",
            local(2026, 3, 26, 18, 0, 30),
            &["RRULE:FREQ=DAILY;UNTIL=20260401T160000Z", "EXDATE;TZID=Europe/Berlin:20260330T180000"],
            &[],
            &[],
            false,
        ),
        fixture(0, "Site visit", "America/Denver", local(2026, 11, 3, 9, 30, 45), &[], &[], &[], false),
        fixture(0, "Closed (Thanksgiving)", "America/Denver", all_day(2026, 11, 26, 1), &[], &[], &[], false),
        fixture(0, "Trade show", "America/Denver", all_day(2026, 12, 8, 3), &[], &[], &[], false),
        fixture(
            0,
            "Weekly sync (Denver fall DST)",
            "America/Denver",
            local(2026, 10, 20, 7, 30, 30),
            &["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8"],
            &[5],
            &[(6, -3600)],
            false,
        ),
        fixture(
            1,
            "Jour fixe (Berlin fall DST)",
            "Europe/Berlin",
            local(2026, 10, 9, 9, 0, 60),
            &["RRULE:FREQ=WEEKLY;BYDAY=FR;UNTIL=20261113T080000Z"],
            &[],
            &[],
            false,
        ),
        fixture(0, "Archive review (2020)", "UTC", local(2020, 6, 1, 10, 0, 60), &[], &[], &[], false),
        fixture(0, "Long-range planning (2031)", "Asia/Tokyo", local(2031, 1, 15, 10, 0, 60), &[], &[], &[], false),
        fixture(0, "Tokyo supplier call", "Asia/Tokyo", local(2026, 12, 1, 17, 0, 45), &[], &[], &[], true),
        fixture(
            0,
            "Bin day",
            "America/Denver",
            all_day(2026, 11, 4, 1),
            &["RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=10"],
            &[3],
            &[],
            false,
        ),
        fixture(
            0,
            "Morning check (Denver spring 2027)",
            "America/Denver",
            local(2027, 3, 12, 8, 0, 30),
            &["RRULE:FREQ=DAILY;COUNT=5"],
            &[],
            &[],
            false,
        ),
        fixture(
            1,
            "Sunday service (Berlin spring 2027)",
            "Europe/Berlin",
            local(2027, 3, 21, 10, 0, 90),
            &["RRULE:FREQ=WEEKLY;BYDAY=SU;COUNT=3"],
            &[],
            &[],
            false,
        ),
        fixture(0, "Sydney call", "Australia/Sydney", local(2027, 1, 11, 9, 0, 30), &[], &[], &[], false),
        fixture(0, "Lunch", "UTC", local(2026, 11, 24, 12, 0, 60), &[], &[], &[], false),
        fixture(0, "Overnight shift", "America/New_York", local(2026, 12, 5, 22, 0, 480), &[], &[], &[], false),
        fixture(2, "Christmas Day", "America/Denver", all_day(2026, 12, 25, 1), &[], &[], &[], false),
    ];
    v[2].attendees = 2;
    v[2].location = Some("12 Elm St, Boulder, CO".into());
    v[9].attendees = 3;
    v[9].external = true;
    v
}

/// `n` events from `seed`: the fixtures first, then pseudo-random ones.
pub fn generate(n: usize, seed: u64) -> Vec<SeedEv> {
    let mut out: Vec<SeedEv> = fixtures().into_iter().take(n).collect();
    let mut r = Rng::new(seed);
    let first = day_num(2026, 1, 1);
    let span = day_num(2028, 1, 1) - first;
    while out.len() < n {
        let i = out.len();
        let roll = r.below(100);
        let tz = *r.pick(ZONES);
        let mut day = first + r.below(span as u64) as i64;
        if roll < 4 {
            // Far outside any sync window.
            day = if r.below(2) == 0 {
                day_num(2019, 1, 1) + r.below(700) as i64
            } else {
                day_num(2031, 1, 1) + r.below(700) as i64
            };
        }
        let cal = match r.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        let secs = (6 + r.below(14) as i64) * 3600 + 900 * r.below(4) as i64;
        let len = *r.pick(&[15i64, 30, 45, 60, 90, 120, 180]) * 60;
        let all_day_kind = cal == 2 || (4..14).contains(&roll);
        let start = if all_day_kind {
            Start::AllDay { day, days: if r.below(4) == 0 { 2 + r.below(3) as i64 } else { 1 } }
        } else {
            Start::Local { day, secs, len }
        };
        let mut recurrence = Vec::new();
        let mut cancel = Vec::new();
        let mut moves = Vec::new();
        if (14..22).contains(&roll) {
            let days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
            let wd = days[super::time::weekday(day) as usize];
            let rule = match r.below(3) {
                0 => format!("RRULE:FREQ=DAILY;COUNT={}", 2 + r.below(10)),
                1 => format!("RRULE:FREQ=WEEKLY;BYDAY={wd};COUNT={}", 2 + r.below(12)),
                _ => {
                    let (y, m, d) = super::time::ymd(day + 7 * (1 + r.below(10) as i64));
                    format!("RRULE:FREQ=WEEKLY;UNTIL={y:04}{m:02}{d:02}T235959Z")
                }
            };
            recurrence.push(rule);
            if r.below(3) == 0 {
                cancel.push(1);
            }
            if r.below(4) == 0 && !all_day_kind {
                moves.push((0, 3600));
            }
        }
        out.push(SeedEv {
            cal,
            title: format!("{} #{i}", r.pick(TITLES)),
            description: (r.below(2) == 0).then(|| format!("Seeded event {i}.")),
            location: (r.below(3) == 0).then(|| r.pick(PLACES).to_string()),
            tentative: r.below(10) == 0,
            tz: if all_day_kind { "America/Denver" } else { tz },
            start,
            recurrence,
            cancel,
            moves,
            attendees: r.below(4) as usize,
            external: r.below(8) == 0,
        });
    }
    out
}

/// A Calendly booking to seed (always timed, UTC).
#[derive(Debug, Clone)]
pub struct SeedBooking {
    pub start: i64,
    pub len: i64,
    pub kind: usize,
    pub canceled: bool,
    /// Rescheduled: a cancelled booking plus a new one a few days later.
    pub rescheduled_to: Option<i64>,
    pub guests: usize,
}

/// `n` Calendly bookings from `seed` (fixtures first: active, canceled, rescheduled, far past).
pub fn bookings(n: usize, seed: u64) -> Vec<SeedBooking> {
    let at = |y: i64, m: i64, d: i64, h: i64| day_num(y, m, d) * 86400 + h * 3600;
    let fixed = [
        SeedBooking {
            start: at(2026, 11, 24, 16),
            len: 1800,
            kind: 0,
            canceled: false,
            rescheduled_to: None,
            guests: 0,
        },
        SeedBooking {
            start: at(2026, 11, 25, 17),
            len: 1800,
            kind: 0,
            canceled: true,
            rescheduled_to: None,
            guests: 0,
        },
        SeedBooking {
            start: at(2026, 12, 2, 15),
            len: 3600,
            kind: 1,
            canceled: false,
            rescheduled_to: Some(at(2026, 12, 4, 15)),
            guests: 1,
        },
        SeedBooking { start: at(2020, 2, 3, 15), len: 1800, kind: 2, canceled: false, rescheduled_to: None, guests: 0 },
        SeedBooking {
            start: at(2027, 3, 15, 14),
            len: 2700,
            kind: 2,
            canceled: false,
            rescheduled_to: None,
            guests: 2,
        },
    ];
    let mut out: Vec<SeedBooking> = fixed.into_iter().take(n).collect();
    let mut r = Rng::new(seed ^ 0xCA1E_4D1F);
    let first = day_num(2026, 1, 1);
    let span = day_num(2028, 1, 1) - first;
    while out.len() < n {
        let roll = r.below(100);
        let mut day = first + r.below(span as u64) as i64;
        if roll < 3 {
            day = day_num(2020, 1, 1) + r.below(365) as i64;
        }
        let start = day * 86400 + (14 + r.below(10) as i64) * 3600 + 1800 * r.below(2) as i64;
        out.push(SeedBooking {
            start,
            len: *r.pick(&[1800i64, 2700, 3600]),
            kind: r.below(3) as usize,
            canceled: (3..15).contains(&roll),
            rescheduled_to: (15..18).contains(&roll).then(|| start + 86400 * 2),
            guests: r.below(3) as usize,
        });
    }
    out
}

/// The instant the fixtures' dates are written for (epoch seconds): 2026-11-21T12:00:00Z.
pub const REFERENCE_ANCHOR: i64 = 1_795_262_400;

/// Days (a multiple of 7) that move the fixtures from [`REFERENCE_ANCHOR`] to `anchor`.
pub fn anchor_shift(anchor: i64) -> i64 {
    let days = (anchor - REFERENCE_ANCHOR).div_euclid(86_400);
    // Round to the nearest whole week, so weekdays (and BYDAY rules) stay true.
    (days + 3).div_euclid(7) * 7
}

/// `evs` moved by `days` (0 leaves them as written), rule dates included.
pub fn shifted(mut evs: Vec<SeedEv>, days: i64) -> Vec<SeedEv> {
    if days == 0 {
        return evs;
    }
    for e in &mut evs {
        e.start = match e.start {
            Start::Local { day, secs, len } => Start::Local { day: day + days, secs, len },
            Start::AllDay { day, days: n } => Start::AllDay { day: day + days, days: n },
        };
        for rule in &mut e.recurrence {
            *rule = shift_rule_dates(rule, days);
        }
    }
    evs
}

/// Bookings moved by `days`.
pub fn shifted_bookings(mut bs: Vec<SeedBooking>, days: i64) -> Vec<SeedBooking> {
    for b in &mut bs {
        b.start += days * 86_400;
        b.rescheduled_to = b.rescheduled_to.map(|t| t + days * 86_400);
    }
    bs
}

/// Move every `YYYYMMDD` date in an RRULE/EXDATE line (`UNTIL=20260401T160000Z`,
/// `EXDATE;TZID=..:20260330T180000,20260331T180000`, `RDATE;VALUE=DATE:20261104`) by `days`.
fn shift_rule_dates(rule: &str, days: i64) -> String {
    let b = rule.as_bytes();
    let mut out = String::with_capacity(rule.len());
    let mut i = 0;
    while i < b.len() {
        let starts_date = (i == 0 || !b[i - 1].is_ascii_digit())
            && i + 8 <= b.len()
            && b[i..i + 8].iter().all(u8::is_ascii_digit)
            && b.get(i + 8).is_none_or(|c| matches!(c, b'T' | b',' | b';'));
        if starts_date {
            let n = |r: std::ops::Range<usize>| rule[r].parse::<i64>().unwrap_or(0);
            let (y, m, d) = super::time::ymd(day_num(n(i..i + 4), n(i + 4..i + 6), n(i + 6..i + 8)) + days);
            out.push_str(&format!("{y:04}{m:02}{d:02}"));
            i += 8;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_starts_with_fixtures() {
        let a = generate(200, 7);
        let b = generate(200, 7);
        assert_eq!(a.len(), 200);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.title, y.title);
            assert_eq!(x.start, y.start);
            assert_eq!(x.recurrence, y.recurrence);
        }
        assert_ne!(generate(200, 8)[150].title, a[150].title);
        assert_eq!(a[0].title, "Standup (Denver spring DST)");
        assert_eq!(generate(3, 1).len(), 3);
        assert_eq!(bookings(50, 1).len(), 50);
    }

    #[test]
    fn fixtures_follow_the_anchor_by_whole_weeks() {
        assert_eq!(anchor_shift(REFERENCE_ANCHOR), 0);
        assert_eq!(anchor_shift(REFERENCE_ANCHOR + 86_400), 0);
        assert_eq!(anchor_shift(REFERENCE_ANCHOR + 5 * 86_400), 7);
        assert_eq!(anchor_shift(REFERENCE_ANCHOR + 400 * 86_400), 399);
        assert_eq!(anchor_shift(REFERENCE_ANCHOR - 10 * 86_400), -7);
        let a = generate(20, 3);
        let b = shifted(generate(20, 3), 399);
        for (x, y) in a.iter().zip(&b) {
            let day = |s: &Start| match *s {
                Start::Local { day, .. } | Start::AllDay { day, .. } => day,
            };
            assert_eq!(day(&y.start) - day(&x.start), 399);
            assert_eq!(super::super::time::weekday(day(&y.start)), super::super::time::weekday(day(&x.start)));
        }
        assert_eq!(b[1].recurrence[0], "RRULE:FREQ=DAILY;UNTIL=20270505T160000Z");
        assert_eq!(b[1].recurrence[1], "EXDATE;TZID=Europe/Berlin:20270503T180000");
        assert_eq!(shift_rule_dates("RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=12", 399), "RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=12");
        assert_eq!(
            shift_rule_dates("EXDATE:20261231T100000Z,20270101T100000Z", 1),
            "EXDATE:20270101T100000Z,20270102T100000Z"
        );
    }
}
