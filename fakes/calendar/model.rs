//! The calendar data every fake provider keeps per user: calendars holding event records
//! (single events, series masters, exceptions of one instance, and tombstones), a change
//! counter, and per-calendar indexes for "changed since" queries.
//!
//! One record per provider id. Exceptions and instance tombstones are stored under the
//! instance id `{master}_{suffix}` so a master's exceptions are one ordered range. Every write
//! takes the next value of the store's change counter (`seq`); `Calendar::changes` maps
//! `seq -> key` for the latest write of each key, so an incremental query is a range scan.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;

use super::rrule::{self, Orig, Recurrence};
use super::time::{date_compact, local_to_instant, utc_compact, zone_or_utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Confirmed,
    Tentative,
    /// Google's `cancelled`; on an exception, the instance is gone.
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Tentative => "tentative",
            Status::Cancelled => "cancelled",
        }
    }
}

/// Timed (Unix seconds, end exclusive) or all-day (epoch days, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Timed { start: i64, end: i64 },
    AllDay { start: i64, end: i64 },
}

impl When {
    pub fn orig(self) -> Orig {
        match self {
            When::Timed { start, .. } => Orig::At(start),
            When::AllDay { start, .. } => Orig::Day(start),
        }
    }

    pub fn is_all_day(self) -> bool {
        matches!(self, When::AllDay { .. })
    }

    /// The same length, starting at `o`.
    pub fn shifted_to(self, o: Orig) -> When {
        match (self, o) {
            (When::Timed { start, end }, Orig::At(t)) => When::Timed { start: t, end: t + (end - start) },
            (When::AllDay { start, end }, Orig::Day(d)) => When::AllDay { start: d, end: d + (end - start) },
            (w, _) => w,
        }
    }

    /// Instants bounding the event; all-day dates are read in `tz` (the calendar's zone).
    pub fn span(self, tz: &TimeZone) -> (i64, i64) {
        match self {
            When::Timed { start, end } => (start, end),
            When::AllDay { start, end } => (local_to_instant(start, 0, tz), local_to_instant(end, 0, tz)),
        }
    }
}

/// `[min, max)` bounds: an event overlaps when it ends after `min` and starts before `max`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Window {
    pub fn overlaps(&self, w: When, tz: &TimeZone) -> bool {
        let (s, e) = w.span(tz);
        self.min.is_none_or(|m| e > m) && self.max.is_none_or(|m| s < m)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub email: String,
    pub name: Option<String>,
    /// Google's responseStatus: needsAction, accepted, declined, tentative.
    pub response: String,
}

#[derive(Debug, Clone)]
pub struct Ev {
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub status: Status,
    /// The whole event is gone (Google tombstone, Graph deletion).
    pub deleted: bool,
    /// An instance tombstone left behind when its series' times changed.
    pub ghost: bool,
    /// Graph `isCancelled`: cancelled by the organizer but still in the calendar.
    pub is_cancelled: bool,
    pub when: When,
    /// Zone as given (IANA or Windows); series expand in it.
    pub tz: String,
    pub recurrence: Vec<String>,
    pub rec: Option<Recurrence>,
    pub series: Option<String>,
    pub original: Option<Orig>,
    pub organizer: Person,
    pub attendees: Vec<Attendee>,
    /// Microseconds since the epoch.
    pub created: i64,
    pub updated: i64,
    pub sequence: u32,
    pub seq: u64,
    /// Bumped when an item moves: Graph's non-immutable ids change with it.
    pub id_version: u32,
    /// Google `extendedProperties.private`; Graph single-value extended properties by id.
    pub props: BTreeMap<String, String>,
    /// Graph `transactionId`, fixed at creation.
    pub transaction_id: Option<String>,
}

impl Ev {
    /// A confirmed single event in UTC, created (and last updated) at `stamp`: what every
    /// create starts from before its body is applied.
    pub fn new(key: String, when: When, organizer: Person, stamp: i64) -> Ev {
        Ev {
            key,
            title: String::new(),
            description: None,
            location: None,
            status: Status::Confirmed,
            deleted: false,
            ghost: false,
            is_cancelled: false,
            when,
            tz: "UTC".into(),
            recurrence: Vec::new(),
            rec: None,
            series: None,
            original: None,
            organizer,
            attendees: Vec::new(),
            created: stamp,
            updated: stamp,
            sequence: 0,
            seq: 0,
            id_version: 0,
            props: BTreeMap::new(),
            transaction_id: None,
        }
    }

    pub fn is_master(&self) -> bool {
        self.rec.is_some() && self.series.is_none()
    }

    /// Present in the calendar (not deleted, not a cancelled/ghost instance).
    pub fn live(&self) -> bool {
        !self.deleted && !self.ghost && self.status != Status::Cancelled
    }

    pub fn zone(&self) -> TimeZone {
        zone_or_utc(&self.tz)
    }
}

/// `{master}_{20260309T150000Z}` or `{master}_{20260309}`.
pub fn instance_key(master: &str, o: Orig) -> String {
    match o {
        Orig::At(t) => format!("{master}_{}", utc_compact(t)),
        Orig::Day(d) => format!("{master}_{}", date_compact(d)),
    }
}

/// One instance of a series, generated or overridden by an exception record.
#[derive(Debug, Clone)]
pub struct Inst<'a> {
    pub key: String,
    pub orig: Orig,
    pub when: When,
    /// The exception record when there is one, else the master.
    pub src: &'a Ev,
    pub cancelled: bool,
    pub exception: bool,
}

#[derive(Debug, Clone)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    pub tz: String,
    /// Google accessRole: owner, writer, reader, freeBusyReader.
    pub role: String,
    pub primary: bool,
    pub hidden: bool,
    pub selected: bool,
    pub deleted: bool,
    pub color: String,
    /// Last change of the calendar entry itself.
    pub seq: u64,
    pub events: BTreeMap<String, Ev>,
    pub changes: BTreeMap<u64, String>,
    /// Tokens issued under an older generation are dead.
    pub generation: u64,
    /// How dead tokens fail (provider-specific word, set by the control API).
    pub invalid_mode: String,
    /// Latest `updated` of any record (microseconds).
    pub updated: i64,
    /// Made through the API (Google `calendars.insert`, Graph `POST /me/calendars`): Google's
    /// `calendar.app.created` scope covers only these.
    pub app_created: bool,
    pub description: Option<String>,
    /// Graph single-value extended properties set on the calendar, by id.
    pub props: BTreeMap<String, String>,
}

impl Calendar {
    pub fn new(id: &str, name: &str, tz: &str, role: &str) -> Calendar {
        Calendar {
            id: id.into(),
            name: name.into(),
            tz: tz.into(),
            role: role.into(),
            primary: false,
            hidden: false,
            selected: true,
            deleted: false,
            color: "#9fe1e7".into(),
            seq: 0,
            events: BTreeMap::new(),
            changes: BTreeMap::new(),
            generation: 0,
            invalid_mode: String::new(),
            updated: 0,
            app_created: false,
            description: None,
            props: BTreeMap::new(),
        }
    }

    pub fn zone(&self) -> TimeZone {
        zone_or_utc(&self.tz)
    }

    /// Store a record under the change number `seq`.
    pub fn put(&mut self, mut ev: Ev, seq: u64) {
        if let Some(old) = self.events.get(&ev.key) {
            self.changes.remove(&old.seq);
        }
        ev.seq = seq;
        self.updated = self.updated.max(ev.updated);
        self.changes.insert(seq, ev.key.clone());
        self.events.insert(ev.key.clone(), ev);
    }

    /// Forget a record entirely (no tombstone).
    pub fn drop_record(&mut self, key: &str) {
        if let Some(old) = self.events.remove(key) {
            self.changes.remove(&old.seq);
        }
    }

    /// Exception and instance-tombstone records of a master.
    pub fn exceptions<'a>(&'a self, master: &str) -> impl Iterator<Item = &'a Ev> + 'a {
        let prefix = format!("{master}_");
        self.events
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, e)| e)
            .filter(|e| e.series.is_some())
    }

    /// Every instance of a master (whether or not the master is deleted), in time order.
    pub fn instances<'a>(&'a self, master: &'a Ev) -> Vec<Inst<'a>> {
        let Some(rec) = &master.rec else {
            return Vec::new();
        };
        let tz = master.zone();
        let mut overrides: HashMap<String, &Ev> = HashMap::new();
        for e in self.exceptions(&master.key).filter(|e| !e.ghost) {
            overrides.insert(e.key.clone(), e);
        }
        rrule::expand(rec, master.when.orig(), &tz)
            .into_iter()
            .map(|o| {
                let key = instance_key(&master.key, o);
                let generated = master.when.shifted_to(o);
                match overrides.get(&key) {
                    Some(x) if x.status == Status::Cancelled || x.deleted => {
                        Inst { key, orig: o, when: generated, src: x, cancelled: true, exception: true }
                    }
                    Some(x) => Inst { key, orig: o, when: x.when, src: x, cancelled: false, exception: true },
                    None => Inst { key, orig: o, when: generated, src: master, cancelled: false, exception: false },
                }
            })
            .collect()
    }
}

/// One user's calendars at one provider.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub cals: Vec<Calendar>,
    pub seq: u64,
    last_stamp: i64,
}

impl Store {
    pub fn cal(&self, id: &str) -> Option<&Calendar> {
        self.cals.iter().find(|c| c.id == id)
    }

    pub fn cal_mut(&mut self, id: &str) -> Option<&mut Calendar> {
        self.cals.iter_mut().find(|c| c.id == id)
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A modification time: `now` (microseconds), strictly after the previous one.
    pub fn stamp(&mut self, now_micros: i64) -> i64 {
        self.last_stamp = now_micros.max(self.last_stamp + 1000);
        self.last_stamp
    }

    pub fn add_calendar(&mut self, mut c: Calendar) {
        c.seq = self.next_seq();
        self.cals.push(c);
    }

    pub fn put(&mut self, cal: &str, ev: Ev) -> bool {
        let seq = self.next_seq();
        match self.cal_mut(cal) {
            Some(c) => {
                c.put(ev, seq);
                true
            }
            None => false,
        }
    }

    /// Replace a master after a change and reconcile its instance records: when the set of
    /// instance ids changed, exceptions are reset (Google's "all events" edit), instances that
    /// no longer exist leave ghost tombstones, and tombstones of ids that exist again go away.
    pub fn replace_master(&mut self, cal: &str, new: Ev, now: i64) {
        let seq = self.next_seq();
        let Some(c) = self.cal_mut(cal) else {
            return;
        };
        let Some(old) = c.events.get(&new.key).cloned() else {
            c.put(new, seq);
            return;
        };
        let reshaped = old.when != new.when || old.recurrence != new.recurrence || old.tz != new.tz;
        let old_keys: Vec<(String, Orig)> = c.instances(&old).into_iter().map(|i| (i.key, i.orig)).collect();
        c.put(new.clone(), seq);
        if !reshaped {
            return;
        }
        let new_keys: std::collections::HashSet<String> = c.instances(&new).into_iter().map(|i| i.key).collect();
        let records: Vec<Ev> = c.exceptions(&new.key).cloned().collect();
        for r in &records {
            if new_keys.contains(&r.key) || !r.ghost {
                c.drop_record(&r.key);
            }
        }
        let ghosts: Vec<Ev> = old_keys
            .into_iter()
            .filter(|(k, _)| !new_keys.contains(k))
            .map(|(k, o)| {
                let mut g = new.clone();
                g.key = k;
                g.series = Some(new.key.clone());
                g.original = Some(o);
                g.when = old.when.shifted_to(o);
                g.rec = None;
                g.recurrence = Vec::new();
                g.ghost = true;
                g.status = Status::Cancelled;
                g.updated = now;
                g
            })
            .collect();
        for g in ghosts {
            self.put(cal, g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::time::day_num;
    use super::*;

    pub fn ev(key: &str, when: When) -> Ev {
        Ev {
            title: "t".into(),
            tz: "America/Denver".into(),
            ..Ev::new(key.into(), when, Person { email: "o@example.com".into(), name: None }, 0)
        }
    }

    #[test]
    fn all_day_windows_use_the_calendar_zone_and_exclusive_ends() {
        let tz = super::super::time::zone("America/Denver").unwrap();
        let d = day_num(2026, 4, 6);
        let w = When::AllDay { start: d, end: d + 1 };
        // Midnight Denver = 06:00Z; the event ends at 2026-04-07T06:00Z.
        let end = local_to_instant(d + 1, 0, &tz);
        assert!(!Window { min: Some(end), max: None }.overlaps(w, &tz));
        assert!(Window { min: Some(end - 1), max: None }.overlaps(w, &tz));
        assert!(!Window { min: None, max: Some(local_to_instant(d, 0, &tz)) }.overlaps(w, &tz));
    }

    #[test]
    fn master_reshape_leaves_ghosts_and_resets_exceptions() {
        let tz = super::super::time::zone("America/Denver").unwrap();
        let start = local_to_instant(day_num(2026, 3, 2), 9 * 3600, &tz);
        let mut m = ev("m", When::Timed { start, end: start + 3600 });
        m.recurrence = vec!["RRULE:FREQ=WEEKLY;COUNT=3".into()];
        m.rec = Some(rrule::parse(&m.recurrence, &tz).unwrap());
        let mut s = Store::default();
        s.add_calendar(Calendar::new("c", "C", "America/Denver", "owner"));
        s.put("c", m.clone());
        let c = s.cal("c").unwrap();
        let keys: Vec<String> = c.instances(&m).into_iter().map(|i| i.key).collect();
        assert_eq!(keys[1], "m_20260309T150000Z");
        // Cancel the second instance.
        let mut x = ev("m_20260309T150000Z", m.when.shifted_to(Orig::At(start)));
        x.series = Some("m".into());
        x.status = Status::Cancelled;
        s.put("c", x);
        let c = s.cal("c").unwrap();
        assert!(c.instances(&m)[1].cancelled);
        // Shorten the series to two instances: the third leaves a ghost, the cancelled
        // exception is reset.
        let mut m2 = m.clone();
        m2.recurrence = vec!["RRULE:FREQ=WEEKLY;COUNT=2".into()];
        m2.rec = Some(rrule::parse(&m2.recurrence, &tz).unwrap());
        s.replace_master("c", m2.clone(), 5);
        let c = s.cal("c").unwrap();
        let inst = c.instances(&m2);
        assert_eq!(inst.len(), 2);
        assert!(!inst[1].cancelled);
        let ghosts: Vec<&Ev> = c.exceptions("m").collect();
        assert_eq!(ghosts.len(), 1);
        assert!(ghosts[0].ghost);
        assert_eq!(ghosts[0].key, "m_20260316T150000Z");
        assert_eq!(c.changes.len(), 2);
    }
}
