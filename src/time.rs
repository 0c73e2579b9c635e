//! The one clock, and the one way integ writes a time.
//!
//! Every decision that depends on the date (sync windows, token expiry, keep-alive and sweep
//! schedules, run timestamps, status warnings) asks a [`Clock`] that the run's context owns and
//! hands down; nothing else in `src/` reads the wall clock. That makes time an input: the test
//! suite pins it with `INTEG_TEST_NOW` and gives the same instant to the provider fakes, so no
//! test depends on the day it runs. Deadlines and backoff are durations, not dates, and use the
//! monotonic clock (`std::time::Instant`) directly.

use std::time::Instant;

use jiff::Timestamp;

/// The environment variable that pins the clock (tests only; see README "Testing").
pub const TEST_NOW_VAR: &str = "INTEG_TEST_NOW";

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// The machine's wall clock.
    System,
    /// Starts at an instant and runs forward at the rate of the monotonic clock, so a run's
    /// start and finish still differ and a token issued early in a run can expire in it.
    From { at: Timestamp, since: Instant },
    /// Never moves (unit tests).
    Fixed(Timestamp),
}

impl Clock {
    /// The machine's wall clock.
    pub fn system() -> Clock {
        Clock { kind: Kind::System }
    }

    /// A clock that reads `at` now and runs forward from there.
    pub fn starting_at(at: Timestamp) -> Clock {
        Clock { kind: Kind::From { at, since: Instant::now() } }
    }

    /// A clock that always reads `at`.
    pub fn fixed(at: Timestamp) -> Clock {
        Clock { kind: Kind::Fixed(at) }
    }

    /// The clock a run uses: `INTEG_TEST_NOW` (an RFC 3339 instant) pins where it starts;
    /// otherwise the wall clock. `value` is that variable's value, if set.
    pub fn from_setting(value: Option<&str>) -> Result<Clock, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(Clock::system()),
            Some(v) => v.parse::<Timestamp>().map(Clock::starting_at).map_err(|e| {
                format!("{TEST_NOW_VAR}={v:?} is not an RFC 3339 instant such as 2026-11-21T12:00:00Z ({e})")
            }),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self.kind {
            Kind::System => Timestamp::now(),
            Kind::From { at, since } => {
                let elapsed = jiff::SignedDuration::try_from(since.elapsed()).unwrap_or(jiff::SignedDuration::ZERO);
                at.checked_add(elapsed).unwrap_or(at)
            }
            Kind::Fixed(at) => at,
        }
    }

    /// The current time as the database writes it.
    pub fn stamp(&self) -> String {
        timestamp(self.now())
    }

    /// Whether the clock is pinned (not the machine's).
    pub fn is_pinned(&self) -> bool {
        !matches!(self.kind, Kind::System)
    }
}

/// RFC 3339 UTC with whole seconds, the form every time integ stamps takes.
pub fn timestamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 UTC keeping what a provider's instant carries: whole seconds when there is no
/// fraction, else microseconds, else nanoseconds (so stored text sorts and compares as time).
pub fn rfc3339(t: Timestamp) -> String {
    let nanos = t.subsec_nanosecond();
    let whole = t.strftime("%Y-%m-%dT%H:%M:%S");
    if nanos == 0 {
        format!("{whole}Z")
    } else if nanos % 1000 == 0 {
        format!("{whole}.{:06}Z", nanos / 1000)
    } else {
        format!("{whole}.{nanos:09}Z")
    }
}

/// The later of two stamps in the form [`timestamp`] writes (text order is time order).
pub fn latest(a: Option<String>, b: Option<&str>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) if b > a.as_str() => Some(b.to_string()),
        (a, b) => a.or(b.map(str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_clock_starts_at_its_instant_and_moves_forward() {
        let at: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let c = Clock::from_setting(Some("2026-11-21T12:00:00Z")).unwrap();
        assert!(c.is_pinned());
        let first = c.now();
        assert!(first >= at && first.as_second() - at.as_second() < 5, "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now() > first);
        assert_eq!(Clock::fixed(at).now(), at);
        assert_eq!(Clock::fixed(at).stamp(), "2026-11-21T12:00:00Z");
    }

    #[test]
    fn an_unset_or_empty_setting_is_the_wall_clock_and_garbage_is_refused() {
        assert!(!Clock::from_setting(None).unwrap().is_pinned());
        assert!(!Clock::from_setting(Some("")).unwrap().is_pinned());
        let e = Clock::from_setting(Some("next tuesday")).unwrap_err();
        assert!(e.contains("INTEG_TEST_NOW") && e.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn timestamps_have_whole_seconds() {
        let t: Timestamp = "2026-03-26T22:46:40.123Z".parse().unwrap();
        assert_eq!(timestamp(t), "2026-03-26T22:46:40Z");
    }

    #[test]
    fn provider_instants_keep_their_fraction_and_the_later_stamp_wins() {
        let t = |s: &str| rfc3339(s.parse().unwrap());
        assert_eq!(t("2026-03-26T22:46:40Z"), "2026-03-26T22:46:40Z");
        assert_eq!(t("2026-03-26T22:46:40.1234Z"), "2026-03-26T22:46:40.123400Z");
        assert_eq!(t("2026-03-26T22:46:40.123456789+01:00"), "2026-03-26T21:46:40.123456789Z");
        let (a, b) = ("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z");
        assert_eq!(latest(Some(a.into()), Some(b)).as_deref(), Some(b));
        assert_eq!(latest(Some(b.into()), Some(a)).as_deref(), Some(b));
        assert_eq!(latest(None, Some(a)).as_deref(), Some(a));
        assert_eq!(latest(Some(a.into()), None).as_deref(), Some(a));
        assert_eq!(latest(None, None), None);
    }
}
