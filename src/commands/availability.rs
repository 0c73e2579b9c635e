//! `integ availability <google|microsoft> --from T --to T`: the busy blocks of an account's
//! calendars, asked live (Google `freeBusy.query`, Graph `getSchedule`), so a dispatcher can
//! see a crew member's day before booking a visit. Long ranges are split into the pieces the
//! providers accept (Google about 90 days, Graph under 62).

use comfy_table::Table;
use jiff::{SignedDuration, Timestamp};

use crate::cli::AvailabilityArgs;
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::http::{Http, RetryPolicy};
use crate::provider::Provider;
use crate::ui::{Listing, Ui};

/// The longest range integ asks for at once (both providers accept it).
const PIECE_DAYS: i64 = 60;
/// The longest range integ asks for at all.
const MAX_DAYS: i64 = 366;

#[derive(Debug, serde::Serialize)]
struct Block {
    calendar: String,
    status: String,
    start: String,
    end: String,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Blocks(Vec<Block>);

impl Listing for Blocks {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["CALENDAR", "STATUS", "START", "END"]);
        for b in &self.0 {
            t.add_row(vec![b.calendar.clone(), b.status.clone(), b.start.clone(), b.end.clone()]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0.is_empty().then(|| "Free: no busy time in that range.".to_string())
    }
}

/// An instant, or a date read as UTC midnight.
pub fn instant(flag: &str, v: &str) -> Result<Timestamp> {
    if let Ok(t) = v.parse::<Timestamp>() {
        return Ok(t);
    }
    jiff::civil::Date::strptime("%Y-%m-%d", v)
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            Error::config(format!("{flag} '{v}' is not a date or an instant"))
                .hint("use 2026-05-01 (UTC midnight) or 2026-05-01T08:00:00Z")
        })
}

/// Normalise Graph's offset-free UTC times (`2026-04-06T15:00:00.0000000`) to RFC 3339.
fn graph_utc(s: &str) -> String {
    format!("{}Z", s.split('.').next().unwrap_or(s).trim_end_matches('Z'))
}

pub async fn run(ctx: &mut Context, a: AvailabilityArgs) -> Result<Done> {
    let (from, to) = (instant("--from", &a.from)?, instant("--to", &a.to)?);
    if to <= from {
        return Err(Error::config("--to must come after --from"));
    }
    if to.as_second() - from.as_second() > MAX_DAYS * 86_400 {
        return Err(Error::config(format!("ask for at most {MAX_DAYS} days at once")));
    }
    let provider = a.provider.provider();
    if provider == Provider::Microsoft && !a.calendar.is_empty() {
        return Err(Error::config("Microsoft answers availability per person, not per calendar")
            .hint("leave out --calendar: integ asks for the account's own schedule"));
    }
    let c = super::select::one(ctx.db()?, provider, a.account.as_deref())?;
    let http = Http::new(ctx.http_client()?, RetryPolicy::default(), 50);
    let mut session = ctx.session(c.clone())?;
    let api_url = session.api_url()?;
    let calendars = if a.calendar.is_empty() { vec!["primary".to_string()] } else { a.calendar.clone() };
    let mut blocks = Vec::new();
    let mut unknown = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + SignedDuration::from_hours(24 * PIECE_DAYS)).min(to);
        let (s, e) = (crate::time::timestamp(start), crate::time::timestamp(end));
        match provider {
            Provider::Microsoft => {
                let who = c.account_name.clone();
                let (s, e) = (s.trim_end_matches('Z').to_string(), e.trim_end_matches('Z').to_string());
                let items = session
                    .call(ctx.db()?, "could not read the Microsoft schedule", |token| {
                        let (api_url, who, s, e, http) = (api_url.clone(), who.clone(), s.clone(), e.clone(), &http);
                        async move {
                            crate::providers::microsoft::push::Writer::new(http, &api_url)
                                .schedule(&token, &who, &s, &e)
                                .await
                        }
                    })
                    .await?;
                match items {
                    Ok(items) => blocks.extend(items.into_iter().map(|i| Block {
                        calendar: who.clone(),
                        status: i.status,
                        start: graph_utc(&i.start),
                        end: graph_utc(&i.end),
                    })),
                    Err(msg) => unknown.push(format!("{who}: {msg}")),
                }
            }
            _ => {
                let answer = session
                    .call(ctx.db()?, "could not read Google free/busy", |token| {
                        let (api_url, s, e, http, cals) = (api_url.clone(), s.clone(), e.clone(), &http, &calendars);
                        async move {
                            crate::providers::google::push::Writer::new(http, &api_url)
                                .free_busy(&token, &s, &e, cals)
                                .await
                        }
                    })
                    .await?;
                for fb in answer {
                    if let Some(err) = fb.error {
                        unknown.push(format!("{}: {err}", fb.calendar));
                    }
                    blocks.extend(fb.busy.into_iter().map(|(s, e)| Block {
                        calendar: fb.calendar.clone(),
                        status: "busy".into(),
                        start: s,
                        end: e,
                    }));
                }
            }
        }
        start = end;
    }
    unknown.dedup();
    for u in &unknown {
        ctx.ui.warn(format!("unknown, not free: {u}"));
    }
    ctx.ui.data(&Blocks(blocks))?;
    Ok(if unknown.is_empty() { Done::Ok } else { Done::With(crate::error::Kind::Partial) })
}
