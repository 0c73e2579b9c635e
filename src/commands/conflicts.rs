//! `integ conflicts`: each Jobber visit that overlaps another busy event on the calendars of
//! the crew member it is assigned to, or another visit of the same crew member. A crew
//! member's calendars are the synced (selected) calendars of the accounts their push rules
//! write into (`integ push add --crew NAME`): that is where integ learned whose calendar is
//! whose. Computed from the local database (run `integ sync` first); exit 6 when there are
//! conflicts, so a script can act on it.

use std::collections::{BTreeMap, BTreeSet};

use comfy_table::Table;
use jiff::{SignedDuration, Timestamp};

use crate::cli::ConflictsArgs;
use crate::context::Context;
use crate::error::{Done, Error, Kind, Result};
use crate::provider::Provider;
use crate::store::conflicts::{self, Busy};
use crate::store::connections;
use crate::store::push::{self, VisitRow};
use crate::ui::{Listing, Ui};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    pub crew: String,
    pub crew_id: String,
    pub job_number: Option<i64>,
    pub visit_key: String,
    pub visit: String,
    pub start: String,
    pub end: String,
    /// `event` (a busy calendar event) or `visit` (another visit of the same crew member).
    pub with: &'static str,
    pub other: String,
    pub other_id: String,
    pub other_start: String,
    pub other_end: String,
    pub calendar_id: Option<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Conflicts(Vec<Conflict>);

impl Listing for Conflicts {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["CREW", "VISIT", "START", "END", "OVERLAPS", "FROM", "TO"]);
        for c in &self.0 {
            let job = c.job_number.map(|n| format!("#{n} ")).unwrap_or_default();
            t.add_row(vec![
                c.crew.clone(),
                format!("{job}{}", c.visit),
                c.start.clone(),
                c.end.clone(),
                format!("{}: {}", c.with, c.other),
                c.other_start.clone(),
                c.other_end.clone(),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0.is_empty().then(|| "No conflicts.".to_string())
    }
}

/// A crew member: (Jobber user id, name).
type Member = (String, Option<String>);

fn day_start(d: &str) -> Option<Timestamp> {
    jiff::civil::Date::strptime("%Y-%m-%d", d).ok()?.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

/// A visit's span: its times, or its start's whole day (UTC) without an end.
fn visit_span(v: &VisitRow) -> Option<(Timestamp, Timestamp)> {
    let s: Timestamp = v.start_at.parse().ok()?;
    match v.end_at.as_deref().and_then(|e| e.parse::<Timestamp>().ok()) {
        Some(e) if e > s => Some((s, e)),
        _ => {
            let d = day_start(&s.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())?;
            Some((d, d + SignedDuration::from_hours(24)))
        }
    }
}

/// An event's span: instants, or all-day dates read at UTC midnight.
fn busy_span(b: &Busy) -> Option<(Timestamp, Timestamp)> {
    if b.all_day {
        Some((day_start(&b.start)?, day_start(&b.end)?))
    } else {
        Some((b.start.parse().ok()?, b.end.parse().ok()?))
    }
}

fn title(v: &VisitRow) -> String {
    let t = v.job_title.as_deref().or(v.visit_title.as_deref()).unwrap_or("Visit");
    match v.client_name.as_deref() {
        Some(c) => format!("{t} · {c}"),
        None => t.to_string(),
    }
}

/// Whether crew member (id, name) is `want` (an id, or a name ignoring case).
fn is(member: &Member, want: &str) -> bool {
    member.0 == want || member.1.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(want))
}

/// Every conflict, pure: visits with their crews, the connections each crew member's rules
/// write into, and each connection's busy events.
pub fn find(
    visits: &[VisitRow],
    calendars_of: &dyn Fn(&Member) -> Vec<i64>,
    busy: &BTreeMap<i64, Vec<Busy>>,
    crew: Option<&str>,
    from: Timestamp,
    to: Timestamp,
) -> Vec<Conflict> {
    let spans: Vec<(&VisitRow, (Timestamp, Timestamp))> = visits
        .iter()
        .filter_map(|v| visit_span(v).map(|s| (v, s)))
        .filter(|(_, (s, e))| *e > from && *s < to)
        .collect();
    let mut out = Vec::new();
    for (v, (s, e)) in &spans {
        for member in v.crew.iter().filter(|m| crew.is_none_or(|c| is(m, c))) {
            let base = |with, other: String, id: String, os: Timestamp, oe: Timestamp, cal: Option<String>| Conflict {
                crew: member.1.clone().unwrap_or_else(|| member.0.clone()),
                crew_id: member.0.clone(),
                job_number: v.job_number,
                visit_key: format!("{}/{}", v.job_id, v.visit_id),
                visit: title(v),
                start: s.to_string(),
                end: e.to_string(),
                with,
                other,
                other_id: id,
                other_start: os.to_string(),
                other_end: oe.to_string(),
                calendar_id: cal,
            };
            let conns: BTreeSet<i64> = calendars_of(member).into_iter().collect();
            for b in conns.iter().filter_map(|c| busy.get(c)).flatten() {
                if let Some((bs, be)) = busy_span(b)
                    && bs < *e
                    && be > *s
                {
                    let t = b.title.clone().unwrap_or_else(|| "(busy)".into());
                    out.push(base("event", t, b.id.clone(), bs, be, Some(b.calendar_id.clone())));
                }
            }
            for (o, (os, oe)) in &spans {
                let same = o.job_id == v.job_id && o.visit_id == v.visit_id;
                if !same && *os < *e && *oe > *s && o.crew.iter().any(|m| m.0 == member.0) {
                    let id = format!("{}/{}", o.job_id, o.visit_id);
                    out.push(base("visit", title(o), id, *os, *oe, None));
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.start, &a.crew, &a.visit_key, &a.other_start, &a.other_id).cmp(&(
            &b.start,
            &b.crew,
            &b.visit_key,
            &b.other_start,
            &b.other_id,
        ))
    });
    out
}

pub fn run(ctx: &mut Context, a: ConflictsArgs) -> Result<Done> {
    let now = ctx.now();
    let from = match &a.from {
        Some(v) => super::availability::instant("--from", v)?,
        None => now,
    };
    let to = match &a.to {
        Some(v) => super::availability::instant("--to", v)?,
        None => from + SignedDuration::from_hours(24 * 14),
    };
    if to <= from {
        return Err(Error::config("--to must come after --from"));
    }
    if to.as_second() - from.as_second() > 366 * 86_400 {
        return Err(Error::config("check at most 366 days at once"));
    }
    let db = ctx.db()?;
    let rules = push::list(db, None)?;
    let mut visits = Vec::new();
    for c in connections::list(db, Some(Provider::Jobber))? {
        visits.extend(push::visits(db, c.id)?);
    }
    let (f, t) = (crate::time::timestamp(from), crate::time::timestamp(to));
    let mut busy = BTreeMap::new();
    for conn in rules.iter().filter(|r| !r.crew.is_empty()).map(|r| r.target_connection_id).collect::<BTreeSet<_>>() {
        busy.insert(conn, conflicts::busy(db, conn, &f, &t)?);
    }
    let calendars_of = |m: &(String, Option<String>)| -> Vec<i64> {
        rules.iter().filter(|r| r.crew.iter().any(|c| is(m, c))).map(|r| r.target_connection_id).collect()
    };
    let found = find(&visits, &calendars_of, &busy, a.crew.as_deref(), from, to);
    if a.csv {
        let mut out = String::from(
            "crew,crew_id,job_number,visit_key,visit,start,end,with,other,other_id,other_start,other_end,calendar_id\n",
        );
        for c in &found {
            let fields = [
                c.crew.clone(),
                c.crew_id.clone(),
                c.job_number.map(|n| n.to_string()).unwrap_or_default(),
                c.visit_key.clone(),
                c.visit.clone(),
                c.start.clone(),
                c.end.clone(),
                c.with.to_string(),
                c.other.clone(),
                c.other_id.clone(),
                c.other_start.clone(),
                c.other_end.clone(),
                c.calendar_id.clone().unwrap_or_default(),
            ];
            out.push_str(&crate::ui::csv_row(&fields));
            out.push('\n');
        }
        ctx.ui.line(out.trim_end())?;
    } else {
        let n = found.len();
        ctx.ui.data(&Conflicts(found.clone()))?;
        if n > 0 {
            ctx.ui.info(format!("{n} conflict(s)"));
        }
    }
    Ok(if found.is_empty() { Done::Ok } else { Done::With(Kind::Conflicts) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(id: &str, start: &str, end: &str, crew: &[&str]) -> VisitRow {
        VisitRow {
            job_id: "J".into(),
            visit_id: id.into(),
            job_number: Some(1),
            job_title: Some("Mow".into()),
            visit_title: None,
            client_name: None,
            address: vec![],
            instructions: None,
            web_url: None,
            start_at: start.into(),
            end_at: Some(end.into()),
            crew: crew.iter().map(|c| (c.to_string(), Some(c.to_uppercase()))).collect(),
        }
    }

    #[test]
    fn overlaps_with_events_and_other_visits_are_found_and_touching_ones_are_not() {
        let visits = [
            visit("a", "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z", &["u1"]),
            visit("b", "2026-11-23T10:30:00Z", "2026-11-23T12:00:00Z", &["u1", "u2"]),
            visit("c", "2026-11-23T12:00:00Z", "2026-11-23T13:00:00Z", &["u1"]),
        ];
        let busy = BTreeMap::from([(
            5,
            vec![Busy {
                calendar_id: "cal".into(),
                id: "e1".into(),
                title: Some("Dentist".into()),
                all_day: false,
                start: "2026-11-23T12:30:00Z".into(),
                end: "2026-11-23T12:45:00Z".into(),
            }],
        )]);
        let of = |m: &(String, Option<String>)| if m.0 == "u1" { vec![5] } else { vec![] };
        let (from, to) = ("2026-11-23T00:00:00Z".parse().unwrap(), "2026-11-24T00:00:00Z".parse().unwrap());
        let found = find(&visits, &of, &busy, None, from, to);
        let pairs: Vec<(String, &str, String)> =
            found.iter().map(|c| (format!("{}:{}", c.crew_id, c.visit_key), c.with, c.other_id.clone())).collect();
        assert_eq!(
            pairs,
            [
                ("u1:J/a".to_string(), "visit", "J/b".to_string()),
                ("u1:J/b".to_string(), "visit", "J/a".to_string()),
                ("u1:J/c".to_string(), "event", "e1".to_string()),
            ]
        );
        assert!(find(&visits, &of, &busy, Some("U2"), from, to).is_empty(), "u2 has one visit and no calendars");
    }
}
