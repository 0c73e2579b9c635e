//! Civil-time helpers for the calendar fakes: epoch-day arithmetic, time zones (IANA names and
//! the Windows names Outlook uses), and the exact string shapes each provider prints.
//!
//! Instants are whole Unix seconds (`i64`) for event times and microseconds for `updated`
//! stamps; dates are epoch-day numbers. Local wall-clock times become instants through jiff
//! with its "compatible" rule: a time in a spring-forward gap moves forward, a time in a
//! fall-back fold takes the earlier (daylight) offset, as Google and Outlook do.

use std::cell::RefCell;
use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn day_num(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of an epoch-day number.
pub fn ymd(days: i64) -> (i64, i64, i64) {
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// 0 = Monday ... 6 = Sunday.
pub fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// `YYYY-MM-DD`.
pub fn date_str(days: i64) -> String {
    let (y, m, d) = ymd(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYYMMDD` (instance-id suffix of all-day series).
pub fn date_compact(days: i64) -> String {
    date_str(days).replace('-', "")
}

/// Parse `YYYY-MM-DD` or `YYYYMMDD`.
pub fn parse_date(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() == 10 && (s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-') {
        return None;
    }
    let y: i64 = digits[0..4].parse().ok()?;
    let m: i64 = digits[4..6].parse().ok()?;
    let d: i64 = digits[6..8].parse().ok()?;
    jiff::civil::Date::new(y as i16, m as i8, d as i8).ok()?;
    Some(day_num(y, m, d))
}

/// Windows time-zone names (as Outlook stores them) and their IANA equivalents.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("Coordinated Universal Time", "UTC"),
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Eastern Standard Time", "America/New_York"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("India Standard Time", "Asia/Kolkata"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

/// The IANA name for a Windows name, if it is one.
pub fn windows_to_iana(name: &str) -> Option<&'static str> {
    WINDOWS_ZONES.iter().find(|(w, _)| w.eq_ignore_ascii_case(name)).map(|(_, i)| *i)
}

/// The Windows name Outlook would store for an IANA zone (first match), if any.
pub fn iana_to_windows(name: &str) -> Option<&'static str> {
    WINDOWS_ZONES.iter().skip(2).find(|(_, i)| *i == name).map(|(w, _)| *w)
}

thread_local! {
    static ZONES: RefCell<HashMap<String, Option<TimeZone>>> = RefCell::new(HashMap::new());
}

/// A time zone by IANA or Windows name (cached). `None` when unknown.
pub fn zone(name: &str) -> Option<TimeZone> {
    ZONES.with(|z| {
        if let Some(tz) = z.borrow().get(name) {
            return tz.clone();
        }
        let iana = windows_to_iana(name).unwrap_or(name);
        let tz = if iana.eq_ignore_ascii_case("utc") { Some(TimeZone::UTC) } else { TimeZone::get(iana).ok() };
        z.borrow_mut().insert(name.to_string(), tz.clone());
        tz
    })
}

/// A zone that must exist (names are validated when events are created); UTC otherwise.
pub fn zone_or_utc(name: &str) -> TimeZone {
    zone(name).unwrap_or(TimeZone::UTC)
}

/// Local wall-clock time (epoch day + seconds after midnight) in `tz` to an instant.
pub fn local_to_instant(days: i64, secs: i64, tz: &TimeZone) -> i64 {
    let (y, m, d) = ymd(days);
    let dt =
        DateTime::new(y as i16, m as i8, d as i8, (secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0);
    match dt.map(|dt| tz.to_timestamp(dt)) {
        Ok(Ok(ts)) => ts.as_second(),
        _ => days * 86400 + secs,
    }
}

/// An instant as local (epoch day, seconds after midnight) in `tz`.
pub fn instant_to_local(t: i64, tz: &TimeZone) -> (i64, i64) {
    let Ok(ts) = Timestamp::from_second(t) else {
        return (t.div_euclid(86400), t.rem_euclid(86400));
    };
    let dt = tz.to_datetime(ts);
    let days = day_num(dt.year() as i64, dt.month() as i64, dt.day() as i64);
    let secs = dt.hour() as i64 * 3600 + dt.minute() as i64 * 60 + dt.second() as i64;
    (days, secs)
}

/// UTC offset in seconds of `tz` at instant `t`.
pub fn offset_at(t: i64, tz: &TimeZone) -> i64 {
    Timestamp::from_second(t).map(|ts| tz.to_offset(ts).seconds() as i64).unwrap_or(0)
}

fn hms(secs: i64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// RFC 3339 with the zone's offset: `2026-03-09T09:00:00-06:00` (`Z` when the zone is UTC).
pub fn rfc3339_in(t: i64, tz: &TimeZone) -> String {
    let (d, s) = instant_to_local(t, tz);
    let off = offset_at(t, tz);
    if off == 0 && tz.iana_name().is_none_or(|n| n == "UTC" || n == "Etc/UTC") {
        return format!("{}T{}Z", date_str(d), hms(s));
    }
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    format!("{}T{}{sign}{:02}:{:02}", date_str(d), hms(s), a / 3600, a / 60 % 60)
}

/// `2026-03-09T15:00:00Z`.
pub fn utc_secs(t: i64) -> String {
    let (d, s) = (t.div_euclid(86400), t.rem_euclid(86400));
    format!("{}T{}Z", date_str(d), hms(s))
}

/// `20260309T150000Z` (instance-id suffix of timed series).
pub fn utc_compact(t: i64) -> String {
    utc_secs(t).replace(['-', ':'], "")
}

/// UTC with `digits` fractional digits (3 for Google, 6 for Calendly, 7 for Graph).
pub fn utc_frac(micros: i64, digits: usize) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = format!("{:06}", micros.rem_euclid(1_000_000));
    let mut f = frac;
    while f.len() < digits {
        f.push('0');
    }
    f.truncate(digits);
    let base = utc_secs(secs);
    format!("{}.{f}Z", base.trim_end_matches('Z'))
}

/// Graph's offset-free form in `tz`: `2026-03-03T16:30:00.0000000`.
pub fn graph_local(t: i64, tz: &TimeZone) -> String {
    let (d, s) = instant_to_local(t, tz);
    format!("{}T{}.0000000", date_str(d), hms(s))
}

/// Parse an RFC 3339 instant with a mandatory offset (`Z` or `±HH:MM`) to Unix seconds.
/// Fractional seconds are truncated.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let has_offset =
        s.ends_with('Z') || s.ends_with('z') || s.len() > 6 && matches!(s.as_bytes()[s.len() - 6], b'+' | b'-');
    if !has_offset || !s.contains('T') && !s.contains('t') {
        return None;
    }
    s.parse::<Timestamp>().ok().map(|t| t.as_second())
}

/// Parse an ISO 8601 date-time that may lack an offset (then read in `tz_if_none`).
pub fn parse_iso_local(s: &str, tz_if_none: &TimeZone) -> Option<i64> {
    if let Some(t) = parse_rfc3339(s) {
        return Some(t);
    }
    let dt: DateTime = s.parse().ok()?;
    tz_if_none.to_timestamp(dt).ok().map(|t| t.as_second())
}

/// Parse a local `YYYY-MM-DDTHH:MM[:SS]` into (epoch day, seconds after midnight).
pub fn parse_local(s: &str) -> Option<(i64, i64)> {
    let dt: DateTime = s.parse().ok()?;
    let days = day_num(dt.year() as i64, dt.month() as i64, dt.day() as i64);
    Some((days, dt.hour() as i64 * 3600 + dt.minute() as i64 * 60 + dt.second() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_round_trip() {
        for d in [-800_000, -1, 0, 1, 20_000, 20_515, 60_000] {
            let (y, m, dd) = ymd(d);
            assert_eq!(day_num(y, m, dd), d);
        }
        assert_eq!(date_str(day_num(2026, 3, 8)), "2026-03-08");
        assert_eq!(weekday(day_num(2026, 3, 9)), 0, "2026-03-09 is a Monday");
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("20260301"), Some(day_num(2026, 3, 1)));
    }

    #[test]
    fn zones_by_iana_and_windows_name() {
        let den = zone("Mountain Standard Time").unwrap();
        let t = local_to_instant(day_num(2026, 3, 9), 9 * 3600, &den);
        assert_eq!(rfc3339_in(t, &den), "2026-03-09T09:00:00-06:00");
        assert_eq!(utc_secs(t), "2026-03-09T15:00:00Z");
        assert_eq!(utc_compact(t), "20260309T150000Z");
        assert!(zone("Mars/Olympus").is_none());
        assert_eq!(rfc3339_in(t, &zone("UTC").unwrap()), "2026-03-09T15:00:00Z");
        // A time in the spring-forward gap moves forward.
        let gap = local_to_instant(day_num(2026, 3, 8), 2 * 3600 + 1800, &den);
        assert_eq!(rfc3339_in(gap, &den), "2026-03-08T03:30:00-06:00");
    }

    #[test]
    fn string_shapes() {
        assert_eq!(utc_frac(1_500_000, 3), "1970-01-01T00:00:01.500Z");
        assert_eq!(utc_frac(1_000_001, 6), "1970-01-01T00:00:01.000001Z");
        assert_eq!(utc_frac(0, 7), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(graph_local(0, &TimeZone::UTC), "1970-01-01T00:00:00.0000000");
        assert_eq!(parse_rfc3339("2026-03-03T09:30:00-07:00"), Some(1_772_555_400));
        assert_eq!(parse_rfc3339("2026-03-03T09:30:00"), None);
        assert_eq!(parse_iso_local("2026-03-03T16:30:00.0000000", &TimeZone::UTC), Some(1_772_555_400));
    }
}
