//! The slice of RFC 5545 recurrence the fakes support: `RRULE` with `FREQ=DAILY|WEEKLY`,
//! `INTERVAL`, `COUNT` or `UNTIL`, `BYDAY` (plain weekdays), `WKST=MO`; and `EXDATE` lines
//! (`;TZID=Zone:local`, UTC `...Z`, or `;VALUE=DATE:YYYYMMDD`).
//!
//! Expansion happens in the series' own time zone: the wall-clock time of DTSTART is kept on
//! every instance, so the UTC offset changes across a DST switch. `COUNT` counts instances
//! before `EXDATE` removes any (RFC 5545 §3.3.10). A DTSTART that does not match `BYDAY` is not
//! an instance. Series without `COUNT`/`UNTIL` stop after [`MAX_INSTANCES`] instances or in
//! the year 2100.

use jiff::tz::TimeZone;

use super::time::{day_num, instant_to_local, local_to_instant, parse_date, weekday};

/// Expansion limit for open-ended series.
pub const MAX_INSTANCES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
}

/// An instant (Unix seconds) or a floating date (epoch day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Orig {
    At(i64),
    Day(i64),
}

impl Orig {
    /// Sort/position key: seconds, days counted as midnight UTC.
    pub fn key(self) -> i64 {
        match self {
            Orig::At(t) => t,
            Orig::Day(d) => d * 86400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub freq: Freq,
    pub interval: i64,
    pub count: Option<usize>,
    pub until: Option<Orig>,
    /// 0 = Monday ... 6 = Sunday, sorted.
    pub byday: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub rule: Rule,
    pub exdates: Vec<Orig>,
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// `20260316T150000Z`, `20260316T090000` (local in `tz`), or `20260316`.
fn parse_value(v: &str, tz: &TimeZone) -> Result<Orig, String> {
    if v.len() == 8 {
        return parse_date(v).map(Orig::Day).ok_or(format!("bad date '{v}'"));
    }
    let (body, utc) = match v.strip_suffix('Z') {
        Some(b) => (b, true),
        None => (v, false),
    };
    let ok = body.len() == 15
        && body.as_bytes()[8] == b'T'
        && body.bytes().enumerate().all(|(i, b)| i == 8 || b.is_ascii_digit());
    if !ok {
        return Err(format!("bad date-time '{v}'"));
    }
    let day = parse_date(&body[..8]).ok_or(format!("bad date-time '{v}'"))?;
    let n = |a: usize| body[a..a + 2].parse::<i64>().unwrap_or(99);
    let (h, m, s) = (n(9), n(11), n(13));
    if h > 23 || m > 59 || s > 59 {
        return Err(format!("bad time in '{v}'"));
    }
    let secs = h * 3600 + m * 60 + s;
    Ok(Orig::At(if utc { day * 86400 + secs } else { local_to_instant(day, secs, tz) }))
}

fn parse_rrule(body: &str, tz: &TimeZone) -> Result<Rule, String> {
    let mut freq = None;
    let mut interval = 1;
    let mut count = None;
    let mut until = None;
    let mut byday = Vec::new();
    for part in body.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or(format!("bad RRULE part '{part}'"))?;
        match k.to_ascii_uppercase().as_str() {
            "FREQ" => {
                freq = Some(match v.to_ascii_uppercase().as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    other => return Err(format!("FREQ={other} is not supported (DAILY, WEEKLY)")),
                })
            }
            "INTERVAL" => {
                interval = v.parse::<i64>().ok().filter(|n| (1..=1000).contains(n)).ok_or("INTERVAL must be 1..1000")?
            }
            "COUNT" => {
                count = Some(v.parse::<usize>().ok().filter(|n| *n >= 1).ok_or("COUNT must be a positive integer")?)
            }
            "UNTIL" => until = Some(parse_value(v, tz)?),
            "BYDAY" => {
                for d in v.split(',') {
                    let i = DAYS
                        .iter()
                        .position(|x| x.eq_ignore_ascii_case(d))
                        .ok_or(format!("BYDAY '{d}' is not supported (plain MO..SU only)"))?;
                    if !byday.contains(&(i as i64)) {
                        byday.push(i as i64);
                    }
                }
            }
            "WKST" if v.eq_ignore_ascii_case("MO") => {}
            other => return Err(format!("RRULE part {other} is not supported")),
        }
    }
    if count.is_some() && until.is_some() {
        return Err("COUNT and UNTIL cannot both be set".into());
    }
    byday.sort_unstable();
    Ok(Rule { freq: freq.ok_or("RRULE needs FREQ")?, interval, count, until, byday })
}

/// Parse `recurrence` lines (Google's shape: `RRULE:...`, `EXDATE...`). `tz` reads local
/// values without `TZID`.
pub fn parse(lines: &[String], tz: &TimeZone) -> Result<Recurrence, String> {
    let mut rule = None;
    let mut exdates = Vec::new();
    for line in lines {
        let (head, value) = line.split_once(':').ok_or(format!("bad recurrence line '{line}'"))?;
        let mut params = head.split(';');
        let name = params.next().unwrap_or("").to_ascii_uppercase();
        match name.as_str() {
            "RRULE" => {
                if rule.is_some() {
                    return Err("only one RRULE is supported".into());
                }
                rule = Some(parse_rrule(value, tz)?);
            }
            "EXDATE" => {
                let mut ztz = tz.clone();
                for p in params {
                    match p.split_once('=') {
                        Some((k, v)) if k.eq_ignore_ascii_case("TZID") => {
                            ztz = super::time::zone(v).ok_or(format!("unknown TZID '{v}'"))?;
                        }
                        Some((k, _)) if k.eq_ignore_ascii_case("VALUE") => {}
                        _ => return Err(format!("bad EXDATE parameter '{p}'")),
                    }
                }
                for v in value.split(',') {
                    exdates.push(parse_value(v, &ztz)?);
                }
            }
            other => return Err(format!("{other} lines are not supported")),
        }
    }
    Ok(Recurrence { rule: rule.ok_or("a recurrence needs an RRULE line")?, exdates })
}

/// Original starts of every instance of a series starting at `first` (an instant for timed
/// series, a date for all-day ones), in time order, EXDATEs removed.
pub fn expand(rec: &Recurrence, first: Orig, tz: &TimeZone) -> Vec<Orig> {
    let r = &rec.rule;
    let (day0, secs) = match first {
        Orig::At(t) => instant_to_local(t, tz),
        Orig::Day(d) => (d, 0),
    };
    let last_day = day_num(2100, 1, 1);
    let limit = r.count.unwrap_or(MAX_INSTANCES).min(MAX_INSTANCES);
    let mut out = Vec::new();
    let mut produced = 0usize;
    let mut emit = |day: i64, out: &mut Vec<Orig>| -> bool {
        let o = match first {
            Orig::At(_) => Orig::At(local_to_instant(day, secs, tz)),
            Orig::Day(_) => Orig::Day(day),
        };
        let past_until = match (r.until, o) {
            (None, _) => false,
            (Some(Orig::At(u)), Orig::At(t)) => t > u,
            (Some(Orig::Day(u)), _) => day > u,
            (Some(Orig::At(u)), Orig::Day(d)) => local_to_instant(d, 0, tz) > u,
        };
        if past_until || day > last_day || produced >= limit {
            return false;
        }
        produced += 1;
        let excluded = rec.exdates.iter().any(|x| match (*x, o) {
            (Orig::At(a), Orig::At(b)) => a == b,
            (Orig::Day(a), Orig::Day(b)) => a == b,
            (Orig::Day(a), Orig::At(_)) => a == day,
            (Orig::At(a), Orig::Day(b)) => instant_to_local(a, tz).0 == b,
        });
        if !excluded {
            out.push(o);
        }
        true
    };
    match r.freq {
        Freq::Daily => {
            let mut day = day0;
            loop {
                if (r.byday.is_empty() || r.byday.contains(&weekday(day))) && !emit(day, &mut out) {
                    break;
                }
                day += r.interval;
                if day > last_day {
                    break;
                }
            }
        }
        Freq::Weekly => {
            let days = if r.byday.is_empty() { vec![weekday(day0)] } else { r.byday.clone() };
            let mut monday = day0 - weekday(day0);
            'weeks: loop {
                for d in &days {
                    let day = monday + d;
                    if day < day0 {
                        continue;
                    }
                    if !emit(day, &mut out) {
                        break 'weeks;
                    }
                }
                monday += 7 * r.interval;
                if monday > last_day {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::time::{rfc3339_in, utc_compact, zone};
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn timed(tz: &str, rule: &[&str], y: i64, m: i64, d: i64, secs: i64) -> Vec<String> {
        let z = zone(tz).unwrap();
        let rec = parse(&lines(rule), &z).unwrap();
        let first = Orig::At(local_to_instant(day_num(y, m, d), secs, &z));
        expand(&rec, first, &z)
            .into_iter()
            .map(|o| match o {
                Orig::At(t) => rfc3339_in(t, &z),
                Orig::Day(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn denver_weekly_keeps_local_time_across_both_dst_switches() {
        let got = timed("America/Denver", &["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"], 2026, 3, 2, 9 * 3600);
        assert_eq!(got, ["2026-03-02T09:00:00-07:00", "2026-03-09T09:00:00-06:00", "2026-03-16T09:00:00-06:00"]);
        let fall = timed(
            "America/Denver",
            &["RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261105T235959Z"],
            2026,
            10,
            27,
            7 * 3600 + 1800,
        );
        assert_eq!(
            fall,
            [
                "2026-10-27T07:30:00-06:00",
                "2026-10-29T07:30:00-06:00",
                "2026-11-03T07:30:00-07:00",
                "2026-11-05T07:30:00-07:00"
            ]
        );
    }

    #[test]
    fn berlin_daily_with_exdate_across_both_dst_switches() {
        let got = timed(
            "Europe/Berlin",
            &["RRULE:FREQ=DAILY;UNTIL=20260331T160000Z", "EXDATE;TZID=Europe/Berlin:20260330T180000"],
            2026,
            3,
            28,
            18 * 3600,
        );
        assert_eq!(got, ["2026-03-28T18:00:00+01:00", "2026-03-29T18:00:00+02:00", "2026-03-31T18:00:00+02:00"]);
        let z = zone("Europe/Berlin").unwrap();
        let rec = parse(&lines(&["RRULE:FREQ=WEEKLY;COUNT=2"]), &z).unwrap();
        let first = Orig::At(local_to_instant(day_num(2026, 10, 19), 9 * 3600, &z));
        let utc: Vec<String> = expand(&rec, first, &z).into_iter().map(|o| utc_compact(o.key())).collect();
        assert_eq!(utc, ["20261019T070000Z", "20261026T080000Z"]);
    }

    #[test]
    fn count_includes_exdates_and_all_day_series_use_dates() {
        let z = zone("UTC").unwrap();
        let rec = parse(&lines(&["RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=3", "EXDATE;VALUE=DATE:20261111"]), &z).unwrap();
        let got = expand(&rec, Orig::Day(day_num(2026, 11, 4)), &z);
        assert_eq!(got, [Orig::Day(day_num(2026, 11, 4)), Orig::Day(day_num(2026, 11, 18))]);
    }

    #[test]
    fn open_ended_and_unsupported_rules() {
        let z = zone("UTC").unwrap();
        let rec = parse(&lines(&["RRULE:FREQ=DAILY;INTERVAL=2"]), &z).unwrap();
        assert_eq!(expand(&rec, Orig::Day(0), &z).len(), MAX_INSTANCES);
        for bad in [
            "RRULE:FREQ=MONTHLY",
            "RRULE:FREQ=WEEKLY;BYDAY=1MO",
            "RRULE:FREQ=DAILY;COUNT=2;UNTIL=20260101",
            "RDATE:20260101",
            "RRULE:FREQ=DAILY;BYMONTH=1",
        ] {
            assert!(parse(&lines(&[bad]), &z).is_err(), "{bad}");
        }
        // DTSTART on a Tuesday, BYDAY Monday: the first instance is the next Monday.
        let rec = parse(&lines(&["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=1"]), &z).unwrap();
        assert_eq!(expand(&rec, Orig::Day(day_num(2026, 3, 3)), &z), [Orig::Day(day_num(2026, 3, 9))]);
    }
}
