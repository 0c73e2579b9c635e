//! `integ push add|list|remove`: the rules that put Jobber visits into Google and Outlook
//! calendars. The pushing itself is a sync stream (`integ sync`, `integ sync push`).

use comfy_table::Table;

use crate::cli::{PushAddArgs, PushCommand, PushRemoveArgs};
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::http::{Http, RetryPolicy};
use crate::provider::Provider;
use crate::providers::push::{can_create_calendar, can_write, write_hint};
use crate::store::connections;
use crate::store::push::{self, NewRule, Rule};
use crate::ui::{Listing, Ui};

pub async fn run(ctx: &mut Context, cmd: PushCommand) -> Result<Done> {
    match cmd {
        PushCommand::Add(a) => add(ctx, a).await,
        PushCommand::List => list(ctx),
        PushCommand::Remove(a) => remove(ctx, a).await,
    }
}

/// A rule as `push list` shows it.
#[derive(Debug, serde::Serialize)]
struct RuleView {
    id: i64,
    to: Provider,
    account: String,
    calendar_id: String,
    created_calendar: Option<String>,
    from: String,
    crew: Vec<String>,
    past_days: u32,
    future_days: u32,
    events: usize,
    last_push_at: Option<String>,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct Rules(Vec<RuleView>);

impl Listing for Rules {
    fn table(&self) -> Table {
        let mut t = Ui::table(&["ID", "TO", "CALENDAR", "FROM", "CREW", "WINDOW", "EVENTS", "LAST PUSH"]);
        for r in &self.0 {
            let cal = match &r.created_calendar {
                Some(name) => format!("{name} ({})", r.calendar_id),
                None => r.calendar_id.clone(),
            };
            t.add_row(vec![
                r.id.to_string(),
                format!("{} '{}'", r.to, r.account),
                cal,
                r.from.clone(),
                if r.crew.is_empty() { "everyone".into() } else { r.crew.join(", ") },
                format!("-{} d … +{} d", r.past_days, r.future_days),
                r.events.to_string(),
                r.last_push_at.clone().unwrap_or_else(|| "never".into()),
            ]);
        }
        t
    }

    fn empty_message(&self) -> Option<String> {
        self.0
            .is_empty()
            .then(|| "No push rules. Add one with `integ push add --to google --create 'Jobber visits'`.".to_string())
    }
}

/// The client for writes to `provider`'s calendars, paced to its per-user quota.
fn http(ctx: &mut Context, provider: Provider) -> Result<Http> {
    let rate = ctx.settings()?.rate_limit(provider)?;
    Ok(Http::new(ctx.http_client()?, RetryPolicy::default(), 50).with_rate_limit(rate))
}

async fn add(ctx: &mut Context, a: PushAddArgs) -> Result<Done> {
    let to = a.to.provider();
    let db = ctx.db()?;
    let target = super::select::one(db, to, a.account.as_deref())?;
    let source = super::select::one(db, Provider::Jobber, a.from.as_deref())?;
    let allowed = match &a.create {
        Some(_) => can_create_calendar(to, &target.scopes),
        None => can_write(to, &target.scopes),
    };
    if !allowed {
        return Err(Error::config(format!(
            "the {} was connected read-only: integ cannot write its calendars",
            target.describe()
        ))
        .hint(write_hint(to, &target.label)));
    }
    let crew: Vec<String> = a.crew.iter().map(|c| c.trim().to_string()).collect();
    if crew.iter().any(|c| c.is_empty() || c.chars().count() > 255) {
        return Err(Error::config("--crew needs a Jobber user's name or id (1 to 255 characters)")
            .hint("leave --crew out to push every visit"));
    }
    for c in &crew {
        if !push::crew_known(ctx.db()?, source.id, c)? {
            ctx.ui.warn(format!(
                "no synced visit of the {} is assigned to '{c}' (yet); check the name with `integ jobs show`",
                source.describe()
            ));
        }
    }
    let (calendar_id, created_name) = match (&a.calendar, &a.create) {
        (Some(id), _) => {
            let id = id.trim().to_string();
            check_calendar(ctx, &target, &id)?;
            (id, None)
        }
        (None, Some(name)) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 255 {
                return Err(Error::config("--create needs a calendar name of 1 to 255 characters"));
            }
            match push::created_calendar(ctx.db()?, target.id, name)? {
                Some(id) => {
                    ctx.ui.info(format!("reusing the calendar '{name}' integ created before ({id})"));
                    (id, Some(name.to_string()))
                }
                None => {
                    let http = http(ctx, target.provider)?;
                    let mut session = ctx.session(target.clone())?;
                    let id = crate::sync::push::create_calendar(&mut session, ctx.db()?, &http, name).await?;
                    ctx.ui.info(format!("created the calendar '{name}' ({id}) in the {}", target.describe()));
                    (id, Some(name.to_string()))
                }
            }
        }
        (None, None) => return Err(Error::config("give --calendar ID or --create NAME")),
    };
    if calendar_id.is_empty() {
        return Err(Error::config("--calendar needs an id").hint("`integ calendars list` shows them"));
    }
    let rule = NewRule {
        target_connection_id: target.id,
        calendar_id: &calendar_id,
        calendar_name: created_name.as_deref(),
        source_connection_id: source.id,
        crew: &crew,
        past_days: a.past_days,
        future_days: a.future_days,
    };
    let now = ctx.clock.stamp();
    let (id, existed) = push::add(ctx.db()?, &rule, &now)?;
    if ctx.ui.json {
        ctx.ui.json_value(&serde_json::json!({ "id": id, "existing": existed, "calendar_id": calendar_id }))?;
    } else {
        ctx.ui.line(&id.to_string())?;
    }
    ctx.ui.success(if existed {
        format!("push rule {id} already existed; its window is now -{} … +{} days", a.past_days, a.future_days)
    } else {
        format!("added push rule {id}; `integ sync` (or `integ sync push`) pushes the visits")
    });
    Ok(Done::Ok)
}

/// Refuse a calendar integ knows to be read-only; warn about one it does not know (it may be
/// new since the last `integ calendars list`).
fn check_calendar(ctx: &mut Context, target: &connections::Connection, id: &str) -> Result<()> {
    let known = crate::store::events::calendars(ctx.db()?, Some(target.id), None)?;
    match known.iter().find(|c| c.id == id) {
        Some(c) if matches!(c.access_role.as_deref(), Some("reader" | "freeBusyReader")) => {
            Err(Error::config(format!("the calendar '{id}' is read-only for the {}", target.describe()))
                .hint("choose a calendar you own or can edit (`integ calendars list`), or use --create NAME"))
        }
        Some(_) => Ok(()),
        None => {
            ctx.ui.warn(format!(
                "integ does not know a calendar '{id}' of the {}; `integ calendars list` shows them",
                target.describe()
            ));
            Ok(())
        }
    }
}

fn views(ctx: &mut Context) -> Result<Vec<RuleView>> {
    let db = ctx.db()?;
    let conns = connections::list(db, None)?;
    let label = |id: i64| conns.iter().find(|c| c.id == id).map(|c| c.label.clone()).unwrap_or_else(|| "?".into());
    let provider = |id: i64| conns.iter().find(|c| c.id == id).map(|c| c.provider).unwrap_or(Provider::Google);
    let mut out = Vec::new();
    for r in push::list(db, None)? {
        let events = push::pushed(db, r.id)?.values().filter(|p| p.event_id.is_some()).count();
        out.push(view(
            &r,
            provider(r.target_connection_id),
            label(r.target_connection_id),
            label(r.source_connection_id),
            events,
        ));
    }
    Ok(out)
}

fn view(r: &Rule, to: Provider, account: String, from: String, events: usize) -> RuleView {
    RuleView {
        id: r.id,
        to,
        account,
        calendar_id: r.calendar_id.clone(),
        created_calendar: r.calendar_name.clone(),
        from,
        crew: r.crew.clone(),
        past_days: r.past_days,
        future_days: r.future_days,
        events,
        last_push_at: r.last_push_at.clone(),
    }
}

fn list(ctx: &mut Context) -> Result<Done> {
    let rules = Rules(views(ctx)?);
    ctx.ui.data(&rules)?;
    Ok(Done::Ok)
}

async fn remove(ctx: &mut Context, a: PushRemoveArgs) -> Result<Done> {
    let Some(rule) = push::get(ctx.db()?, a.id)? else {
        return Err(Error::config(format!("there is no push rule {}", a.id)).hint("`integ push list` shows the rules"));
    };
    if a.delete_events {
        let target = connections::list(ctx.db()?, None)?
            .into_iter()
            .find(|c| c.id == rule.target_connection_id)
            .ok_or_else(|| Error::failure("the rule's calendar account is gone"))?;
        if !can_write(target.provider, &target.scopes) && !can_create_calendar(target.provider, &target.scopes) {
            return Err(Error::config(format!(
                "the {} was connected read-only: integ cannot delete its events",
                target.describe()
            ))
            .hint(write_hint(target.provider, &target.label)));
        }
        let http = http(ctx, target.provider)?;
        let now = ctx.clock.stamp();
        let mut session = ctx.session(target)?;
        let n = crate::sync::push::delete_events(&mut session, ctx.db()?, &http, &rule, &now).await?;
        ctx.ui.info(format!("deleted {n} pushed event(s)"));
    }
    push::remove(ctx.db()?, rule.id)?;
    ctx.ui.success(format!("removed push rule {}", rule.id));
    Ok(Done::Ok)
}
