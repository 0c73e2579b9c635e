//! The calendar-side steps of `integ push add --create` and `integ push remove
//! --delete-events`: making integ's own calendar, and deleting what a rule pushed (only events
//! integ recorded, which carry its marker).

use secrecy::SecretString;

use super::{Outcome, plan::Op, run_batch};
use crate::error::{Error, Result};
use crate::http::{Http, HttpError};
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::providers::api::ApiError;
use crate::store::db::Db;
use crate::store::push::{self, Record, Rule};

/// Looks (and single creates) before `create_calendar` gives up.
const CREATE_TRIES: u32 = 4;

/// What integ writes into the description of a calendar it creates.
pub const CALENDAR_MARKER: &str =
    "Jobber visits pushed by integ (integ push). Edits here last until the visit changes.";

/// Create a calendar named `name` in the session's account; its id. `calendars.insert` and
/// `POST /me/calendars` are not idempotent, so a calendar integ made earlier under that name
/// (one whose answer was lost, say) is looked for first and reused.
pub async fn create_calendar(session: &mut Session, db: &mut Db, http: &Http, name: &str) -> Result<String> {
    let api_url = session.api_url()?;
    let provider = session.connection.provider;
    // The create itself is sent once per look: a failed answer is followed by a new look, never
    // by a blind second create.
    let make = |token: SecretString| {
        let api_url = api_url.clone();
        async move {
            let mut last = None;
            for _ in 0..CREATE_TRIES {
                let found = match provider {
                    Provider::Google => google_calendar_named(http, &api_url, &token, name).await?,
                    Provider::Microsoft => {
                        crate::providers::microsoft::push::Writer::new(http, &api_url)
                            .find_calendar(&token, name)
                            .await?
                    }
                    _ => return Err(ApiError::NotSent(format!("{provider} has no calendars to push into"))),
                };
                if let Some(id) = found {
                    return Ok(id);
                }
                let made = match provider {
                    Provider::Google => {
                        crate::providers::google::push::Writer::new(http, &api_url)
                            .insert_calendar(&token, name, CALENDAR_MARKER)
                            .await
                    }
                    _ => {
                        crate::providers::microsoft::push::Writer::new(http, &api_url)
                            .create_calendar(&token, name)
                            .await
                    }
                };
                match made {
                    Err(ApiError::Http(e @ HttpError::GaveUp { .. })) => last = Some(e),
                    other => return other,
                }
            }
            Err(ApiError::Http(last.unwrap_or(HttpError::GaveUp {
                what: "creating the calendar".into(),
                detail: "no answer".into(),
                attempts: CREATE_TRIES,
            })))
        }
    };
    session.call(db, &format!("could not create the calendar '{name}'"), make).await
}

/// A calendar of the list with this summary and integ's description.
async fn google_calendar_named(
    http: &Http,
    api_url: &str,
    token: &SecretString,
    name: &str,
) -> Result<Option<String>, ApiError> {
    let api = crate::providers::google::calendar::CalendarApi::new(http, api_url);
    let mut pages = crate::http::Pages::new("the Google calendar list");
    let mut page_token: Option<String> = None;
    loop {
        let page = api.calendar_list(token, page_token.as_deref()).await?;
        for crate::providers::api::Raw { value: entry, json: raw } in &page.items {
            let described = raw.get("description").and_then(serde_json::Value::as_str) == Some(CALENDAR_MARKER);
            if entry.summary.as_deref() == Some(name) && described {
                return Ok(Some(entry.id.clone()));
            }
        }
        match page.next_page_token {
            Some(t) => {
                pages.next(&t)?;
                page_token = Some(t);
            }
            None => return Ok(None),
        }
    }
}

/// Delete every event a rule pushed; how many were deleted. What could not be deleted stays
/// recorded (and the caller keeps the rule), so nothing is orphaned.
pub async fn delete_events(session: &mut Session, db: &mut Db, http: &Http, rule: &Rule, now: &str) -> Result<u64> {
    let api_url = session.api_url()?;
    let provider = session.connection.provider;
    let mut ops: Vec<Op> = push::pushed(db, rule.id)?
        .into_iter()
        .map(|(visit_key, p)| Op::Delete { visit_key, event_id: p.event_id, generation: p.generation })
        .collect();
    ops.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    let mut deleted = 0;
    let mut failed = Vec::new();
    for batch in ops.chunks(super::BATCH) {
        let outcomes = session
            .call(db, "deleting pushed events", |token| run_batch(provider, http, &api_url, rule, batch, token))
            .await?;
        let mut records = Vec::new();
        for o in outcomes {
            match o {
                Outcome::Forget { visit_key } => {
                    deleted += 1;
                    records.push(Record::Forget { visit_key });
                }
                Outcome::Failed { error, .. } => failed.push(error),
                Outcome::Put { .. } => {}
            }
        }
        push::record(db, rule.id, &records, now)?;
    }
    match failed.first() {
        None => Ok(deleted),
        Some(first) => Err(Error::failure(format!(
            "{} pushed event(s) could not be deleted (first: {first}); the rule is kept",
            failed.len()
        ))
        .hint(format!("run `integ push remove {} --delete-events` again", rule.id))),
    }
}
