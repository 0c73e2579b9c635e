//! `integ events list`: synced calendar events from the local database, shown in the local
//! time zone (or `--tz`). All-day events are dates, shown as such, never shifted by a zone.

use comfy_table::Table;
use jiff::tz::TimeZone;

use crate::cli::{EventsCommand, EventsListArgs};
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::store::events::{self, EventFilter, EventView};
use crate::ui::{Listing, Ui};

pub fn run(ctx: &mut Context, cmd: EventsCommand) -> Result<Done> {
    match cmd {
        EventsCommand::List(a) => list(ctx, a),
    }
}

struct Shown {
    events: Vec<EventView>,
    tz: TimeZone,
}

impl serde::Serialize for Shown {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.events.serialize(s)
    }
}

/// "2026-03-03 09:30" in `tz`, or the date of an all-day event.
fn when(e: &EventView, tz: &TimeZone) -> (String, String) {
    if e.all_day {
        let end = e
            .end_date
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| d.yesterday().ok())
            .map(|d| d.to_string())
            .unwrap_or_default();
        return (e.start_date.clone().unwrap_or_default(), end);
    }
    let local = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    (local(&e.start_at), local(&e.end_at))
}

impl Listing for Shown {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["START", "END", "TITLE", "PROVIDER", "CALENDAR", "STATUS"]);
        for e in &self.events {
            let (start, end) = when(e, &self.tz);
            let (start, end) = if e.all_day { (format!("{start} (all day)"), end) } else { (start, end) };
            t.add_row(vec![
                start,
                end,
                e.title.clone().unwrap_or_default(),
                e.provider.clone(),
                e.calendar_id.clone(),
                e.status.clone().unwrap_or_default(),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.events
            .is_empty()
            .then(|| "No events in this range. Run `integ sync events` to fetch them, or widen --from/--to.".into())
    }
}

fn date(s: &str, flag: &str) -> Result<jiff::civil::Date> {
    s.parse().map_err(|_| Error::config(format!("{flag} '{s}' is not a date")).hint("use the form 2026-05-01"))
}

/// A local date's start as (UTC instant, date) bounds.
fn bound(d: jiff::civil::Date, tz: &TimeZone) -> Result<(String, String)> {
    let z = d.to_zoned(tz.clone()).map_err(|e| Error::config(format!("cannot place {d} in the time zone")).cause(e))?;
    Ok((crate::time::timestamp(z.timestamp()), d.to_string()))
}

fn list(ctx: &mut Context, a: EventsListArgs) -> Result<Done> {
    let tz = match &a.tz {
        Some(name) => TimeZone::get(name).map_err(|_| {
            Error::config(format!("unknown time zone '{name}'"))
                .hint("use an IANA name such as America/Denver or Europe/Berlin")
        })?,
        None => TimeZone::system(),
    };
    let today = ctx.now().to_zoned(tz.clone()).date();
    let from = match &a.from {
        Some(s) => date(s, "--from")?,
        None => today,
    };
    let to = match &a.to {
        Some(s) => date(s, "--to")?.tomorrow().map_err(|e| Error::config("--to is out of range").cause(e))?,
        None => {
            today.checked_add(jiff::Span::new().days(30)).map_err(|e| Error::config("date out of range").cause(e))?
        }
    };
    let filter = EventFilter {
        from: Some(bound(from, &tz)?),
        to: Some(bound(to, &tz)?),
        provider: a.provider.map(|p| p.name().to_string()),
        calendar: a.calendar.clone(),
        connection: None,
    };
    let found = match ctx.existing_db()? {
        Some(db) => events::list_events(db, &filter)?,
        None => Vec::new(),
    };
    if a.csv {
        let mut out = String::from(
            "provider,account,calendar_id,id,title,all_day,start,end,time_zone,status,location,series_id\n",
        );
        for e in &found {
            let (start, end) = if e.all_day {
                (e.start_date.clone().unwrap_or_default(), e.end_date.clone().unwrap_or_default())
            } else {
                (e.start_at.clone().unwrap_or_default(), e.end_at.clone().unwrap_or_default())
            };
            let fields = [
                e.provider.clone(),
                e.account.clone(),
                e.calendar_id.clone(),
                e.id.clone(),
                e.title.clone().unwrap_or_default(),
                e.all_day.to_string(),
                start,
                end,
                e.time_zone.clone().unwrap_or_default(),
                e.status.clone().unwrap_or_default(),
                e.location.clone().unwrap_or_default(),
                e.series_id.clone().unwrap_or_default(),
            ];
            out.push_str(&crate::ui::csv_row(&fields));
            out.push('\n');
        }
        ctx.ui.line(out.trim_end())?;
        return Ok(Done::Ok);
    }
    ctx.ui.data(&Shown { events: found, tz })?;
    Ok(Done::Ok)
}
