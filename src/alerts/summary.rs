//! The daily summary (`alerts.daily_summary = "08:00"`, local time, off by default): per
//! account, the rows fetched and changed since the last summary, the failed runs, and what
//! needs doing. The first `integ sync` after that time each day makes it; the `alert_summaries`
//! row of the local day makes sure only one does, and it is queued like any alert, so a channel
//! that is down gets it on a later run.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::message::Message;
use crate::store::alerts::{self as store, NewMessage};
use crate::store::connections::{self, State};
use crate::store::db::{Db, DbError};

/// The local day a summary is due for now, if the time of day has come.
pub fn due(at: (i8, i8), now: Timestamp, tz: &TimeZone) -> Option<jiff::civil::Date> {
    let local = now.to_zoned(tz.clone());
    let time = jiff::civil::Time::new(at.0, at.1, 0, 0).ok()?;
    (local.time() >= time).then(|| local.date())
}

/// Make today's summary if it is due and not made yet; returns whether it was made.
pub fn make(db: &mut Db, at: (i8, i8), tz: &TimeZone, channels: &[&str], now: Timestamp) -> Result<bool, DbError> {
    let Some(day) = due(at, now, tz) else { return Ok(false) };
    let day = day.to_string();
    if store::summary_made(db, &day)? {
        return Ok(false);
    }
    let to = crate::time::timestamp(now);
    let from = match store::last_summary_end(db)? {
        Some(t) => t,
        None => crate::time::timestamp(now.checked_sub(jiff::SignedDuration::from_hours(24)).unwrap_or(now)),
    };
    let m = compose(db, &day, &from, &to)?;
    let msgs: Vec<NewMessage<'_>> =
        channels.iter().map(|ch| NewMessage { channel: ch, subject: &m.subject, body: &m.body }).collect();
    store::record_summary(db, &day, &to, &msgs, &to)
}

/// The summary's text, for runs started in `[from, to)`.
pub fn compose(db: &Db, day: &str, from: &str, to: &str) -> Result<Message, DbError> {
    let activity = store::activity(db, from, to)?;
    let open = store::open(db)?;
    let mut body = format!("Sync activity from {from} to {to}:\n");
    let conns: Vec<_> = connections::list(db, None)?.into_iter().filter(|c| c.state != State::Disconnected).collect();
    if conns.is_empty() {
        body.push_str("- no connected accounts\n");
    }
    for c in &conns {
        let a = activity.iter().find(|a| a.connection_id == c.id).cloned().unwrap_or_default();
        body.push_str(&format!(
            "- {}: {} runs, {} rows fetched, {} changed, {} failed runs\n",
            super::conditions::sanitise(&c.describe()),
            a.runs,
            a.fetched,
            a.changed,
            a.failed
        ));
    }
    if open.is_empty() {
        body.push_str("\nNothing needs doing.\n");
    } else {
        body.push_str("\nNeeds doing:\n");
        for a in &open {
            let who = if a.account.is_empty() { "integ".to_string() } else { super::conditions::sanitise(&a.account) };
            let clean = super::conditions::sanitise;
            body.push_str(&format!(
                "- {who}: {} (since {}). Fix: {}\n",
                clean(&a.detail),
                clean(&a.since),
                clean(&a.fix)
            ));
        }
    }
    let needs = if open.is_empty() { "all healthy".to_string() } else { format!("{} need attention", open.len()) };
    Ok(Message { subject: format!("integ daily summary {day}: {needs}"), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_due_from_its_local_time_on() {
        let tz = TimeZone::get("America/Denver").unwrap();
        // 14:59 UTC is 07:59 in Denver (MST, UTC-7).
        let before: Timestamp = "2026-11-21T14:59:00Z".parse().unwrap();
        let after: Timestamp = "2026-11-21T15:00:00Z".parse().unwrap();
        assert_eq!(due((8, 0), before, &tz), None);
        assert_eq!(due((8, 0), after, &tz).unwrap().to_string(), "2026-11-21");
        // Early in the UTC day it is still the day before in Denver.
        let late: Timestamp = "2026-11-22T03:00:00Z".parse().unwrap();
        assert_eq!(due((8, 0), late, &tz).unwrap().to_string(), "2026-11-21");
    }

    #[test]
    fn one_summary_per_local_day_covering_since_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("integ.db")).unwrap();
        let tz = TimeZone::UTC;
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(!make(&mut db, (8, 0), &tz, &["slack"], t("2026-11-21T07:59:59Z")).unwrap());
        assert!(make(&mut db, (8, 0), &tz, &["slack"], t("2026-11-21T08:05:00Z")).unwrap());
        assert!(!make(&mut db, (8, 0), &tz, &["slack"], t("2026-11-21T23:00:00Z")).unwrap());
        let q = store::unsent(&db, "slack", 10).unwrap();
        assert_eq!(q.len(), 1);
        assert!(q[0].subject.contains("2026-11-21") && q[0].body.contains("from 2026-11-20T08:05:00Z"), "{q:?}");
        assert!(make(&mut db, (8, 0), &tz, &["slack"], t("2026-11-22T09:00:00Z")).unwrap());
        let q = store::unsent(&db, "slack", 10).unwrap();
        assert!(q[1].body.contains("from 2026-11-21T08:05:00Z to 2026-11-22T09:00:00Z"), "{}", q[1].body);
    }
}
