//! One push write to Microsoft Graph: create with a `transactionId` and integ's property
//! (looking a pending create up by that property first), patch (re-creating, under a new
//! generation, an event deleted in the calendar), delete.

use secrecy::SecretString;

use super::plan::{Desired, Op, microsoft_key, transaction_id};
use super::{Outcome, write_of};
use crate::http::Http;
use crate::providers::api::ApiError;
use crate::providers::microsoft::push::{Patched, Writer};
use crate::store::push::{Pushed, Rule};

fn put(d: &Desired, id: String, generation: u32, created: bool) -> Outcome {
    Outcome::Put {
        visit_key: d.visit_key.clone(),
        pushed: Pushed { event_id: Some(id), generation, content_hash: d.hash.clone() },
        created,
    }
}

/// Adopt the event integ's property finds, or create one.
async fn find_or_create(
    w: &Writer<'_>,
    token: &SecretString,
    rule: &Rule,
    d: &Desired,
    generation: u32,
) -> Result<Outcome, ApiError> {
    let key = microsoft_key(rule.id, &d.visit_key);
    let e = write_of(rule, d);
    if let Some(id) = w.find(token, &key).await?
        && w.patch(token, &id, &e).await? == Patched::Done
    {
        return Ok(put(d, id, generation, true));
    }
    let id = w.create(token, &rule.calendar_id, &e, &key, &transaction_id(rule.id, &d.visit_key, generation)).await?;
    Ok(put(d, id, generation, true))
}

pub(super) async fn apply(
    http: &Http,
    api_url: &str,
    token: &SecretString,
    rule: &Rule,
    op: &Op,
) -> Result<Outcome, ApiError> {
    let w = Writer::new(http, api_url);
    match op {
        Op::Create { desired, generation, pending: true } => {
            find_or_create(&w, token, rule, desired, *generation).await
        }
        Op::Create { desired, generation, pending: false } => {
            let key = microsoft_key(rule.id, &desired.visit_key);
            let tx = transaction_id(rule.id, &desired.visit_key, *generation);
            let id = w.create(token, &rule.calendar_id, &write_of(rule, desired), &key, &tx).await?;
            Ok(put(desired, id, *generation, true))
        }
        Op::Update { desired, event_id, generation } => {
            match w.patch(token, event_id, &write_of(rule, desired)).await? {
                Patched::Done => Ok(put(desired, event_id.clone(), *generation, false)),
                // Deleted in the calendar, and the visit changed since: a new event, with a
                // new transactionId (found first if a crashed run already made it).
                Patched::Gone => find_or_create(&w, token, rule, desired, generation + 1).await,
            }
        }
        Op::Delete { visit_key, event_id, .. } => {
            let id = match event_id {
                Some(id) => Some(id.clone()),
                None => w.find(token, &microsoft_key(rule.id, visit_key)).await?,
            };
            if let Some(id) = id {
                w.delete(token, &id).await?;
            }
            Ok(Outcome::Forget { visit_key: visit_key.clone() })
        }
    }
}
