//! The calendar-side steps of `integ push add --create` and `integ push remove
//! --delete-events`: making integ's own calendar, and deleting what a rule pushed (only events
//! integ recorded, which carry its marker).

use secrecy::SecretString;

use super::{Outcome, plan::Op, run_batch};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::oauth::session::Session;
use crate::provider::Provider;
use crate::providers::api::ApiError;
use crate::store::db::Db;
use crate::store::push::{self, Record, Rule};

/// What integ writes into the description of a calendar it creates.
pub const CALENDAR_MARKER: &str =
    "Jobber visits pushed by integ (integ push). Edits here last until the visit changes.";

/// Create a calendar named `name` in the session's account; its id.
pub async fn create_calendar(session: &mut Session, db: &mut Db, http: &Http, name: &str) -> Result<String> {
    let api_url = session.api_url()?;
    let provider = session.connection.provider;
    let make = |token: SecretString| {
        let api_url = api_url.clone();
        async move {
            match provider {
                Provider::Google => {
                    crate::providers::google::push::Writer::new(http, &api_url)
                        .insert_calendar(&token, name, CALENDAR_MARKER)
                        .await
                }
                Provider::Microsoft => {
                    crate::providers::microsoft::push::Writer::new(http, &api_url).create_calendar(&token, name).await
                }
                _ => Err(ApiError::NotSent(format!("{provider} has no calendars to push into"))),
            }
        }
    };
    session.call(db, &format!("could not create the calendar '{name}'"), make).await
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
