//! `integ calendars list|select|deselect`: which calendars of the connected accounts integ
//! syncs. `list` asks the providers for the current list first (unless `--offline`).

use comfy_table::Table;

use crate::cli::{CalendarSelectArgs, CalendarsCommand, CalendarsListArgs};
use crate::context::Context;
use crate::error::{Done, Error, Outcomes, Result};
use crate::http::{Http, RetryPolicy};
use crate::provider::Provider;
use crate::store::connections::{self, State};
use crate::store::events::{self, CalendarView};
use crate::ui::{Listing, Ui};

pub async fn run(ctx: &mut Context, cmd: CalendarsCommand) -> Result<Done> {
    match cmd {
        CalendarsCommand::List(a) => list(ctx, a).await,
        CalendarsCommand::Select(a) => select(ctx, a, true),
        CalendarsCommand::Deselect(a) => select(ctx, a, false),
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Calendars(Vec<CalendarView>);

impl Listing for Calendars {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["PROVIDER", "ACCOUNT", "ID", "NAME", "PRIMARY", "ACCESS", "SELECTED"]);
        for c in &self.0 {
            t.add_row(vec![
                c.provider.clone(),
                c.account.clone(),
                c.id.clone(),
                c.name.clone().unwrap_or_default(),
                if c.primary { "yes" } else { "" }.to_string(),
                c.access_role.clone().unwrap_or_default(),
                if c.selected { "yes" } else { "no" }.to_string(),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0
            .is_empty()
            .then(|| "No calendars. Connect one with `integ connect google` (or microsoft, calendly).".into())
    }
}

fn calendar_providers(p: Option<Provider>) -> Vec<Provider> {
    [Provider::Google, Provider::Microsoft, Provider::Calendly]
        .into_iter()
        .filter(|x| p.is_none_or(|p| p == *x))
        .collect()
}

async fn list(ctx: &mut Context, a: CalendarsListArgs) -> Result<Done> {
    let mut outcomes = Outcomes::default();
    let mut targets = Vec::new();
    for p in calendar_providers(a.provider) {
        for c in connections::list(ctx.db()?, Some(p))? {
            if c.state == State::Connected && a.account.as_deref().is_none_or(|n| c.answers_to(n)) {
                targets.push(c);
            }
        }
    }
    if !a.offline {
        for c in &targets {
            let http = Http::new(ctx.http_client()?, RetryPolicy::default(), 20);
            let outcome = async {
                let mut session = ctx.session(c.clone())?;
                crate::sync::events::refresh_calendars(&mut session, ctx.db()?, &http).await
            }
            .await;
            if let Err(e) = outcome {
                let e = e.context(format!("could not list the calendars of the {}", c.describe()));
                ctx.ui.error(&e);
                outcomes.failed(e.kind);
            }
        }
    }
    let mut shown = Vec::new();
    for c in &targets {
        shown.extend(events::calendars(ctx.db()?, Some(c.id), None)?);
    }
    ctx.ui.data(&Calendars(shown))?;
    // What is stored was shown: a listing that failed makes it partial, unless a connection
    // needs reconnecting, which the one rule puts first.
    outcomes.ok();
    Ok(outcomes.done())
}

fn select(ctx: &mut Context, a: CalendarSelectArgs, on: bool) -> Result<Done> {
    let all = events::calendars(ctx.db()?, None, a.provider.map(Provider::name))?;
    let matching: Vec<&CalendarView> = all
        .iter()
        .filter(|c| c.id == a.id)
        .filter(|c| a.account.as_deref().is_none_or(|n| c.account.eq_ignore_ascii_case(n)))
        .collect();
    let cal = match matching.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::config(format!("no calendar '{}' is known", a.id))
                .hint("`integ calendars list` shows the calendars and their ids"));
        }
        _ => {
            return Err(Error::config(format!("several accounts have a calendar '{}'", a.id))
                .hint("choose one with --provider and --account"));
        }
    };
    let (cid, name) = (cal.connection_id, cal.name.clone().unwrap_or_else(|| cal.id.clone()));
    events::set_selected(ctx.db()?, cid, &a.id, on)?;
    ctx.ui.success(if on {
        format!("'{name}' will be synced by `integ sync events`")
    } else {
        format!("'{name}' will no longer be synced (its stored events stay)")
    });
    Ok(Done::Ok)
}
