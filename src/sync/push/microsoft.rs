//! One push write to Microsoft Graph: create with a `transactionId` and integ's property
//! (looking the event up by that property first when a create may already have happened: a
//! pending record, a lost answer), patch (re-creating, under a new generation, an event
//! deleted in the calendar), delete.

use secrecy::SecretString;

use super::plan::{Desired, Op, microsoft_key, transaction_id};
use super::{Outcome, write_of};
use crate::http::{Http, HttpError};
use crate::providers::api::ApiError;
use crate::providers::microsoft::push::{Patched, Writer};
use crate::store::push::Rule;

/// Creates sent before a visit's write is given up (each after a look for what the last one
/// may have made).
const CREATE_TRIES: u32 = 4;

/// Create the visit's event; with `look` (a create may already have happened: a crash, a
/// lost answer, a re-creation) adopt the event integ's property finds instead.
async fn create(
    w: &Writer<'_>,
    token: &SecretString,
    rule: &Rule,
    d: &Desired,
    generation: u32,
    mut look: bool,
) -> Result<Outcome, ApiError> {
    let key = microsoft_key(rule.id, &d.visit_key);
    let e = write_of(rule, d);
    let tx = transaction_id(rule.id, &d.visit_key, generation);
    let mut last = None;
    for _ in 0..CREATE_TRIES {
        if look
            && let Some(id) = w.find(token, &key).await?
            && w.patch(token, &id, &e).await? == Patched::Done
        {
            return Ok(Outcome::put(d, id, generation, true));
        }
        match w.create(token, &rule.calendar_id, &e, &key, &tx).await {
            Ok(id) => return Ok(Outcome::put(d, id, generation, true)),
            // The answer is lost, not necessarily the create: look before sending it again.
            Err(ApiError::Http(err @ HttpError::GaveUp { .. })) => {
                last = Some(err);
                look = true;
            }
            Err(other) => return Err(other),
        }
    }
    Err(ApiError::Http(last.unwrap_or(HttpError::GaveUp {
        what: "creating an event".into(),
        detail: "no answer".into(),
        attempts: CREATE_TRIES,
    })))
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
        Op::Create { desired, generation, pending } => create(&w, token, rule, desired, *generation, *pending).await,
        Op::Update { desired, event_id, generation } => {
            match w.patch(token, event_id, &write_of(rule, desired)).await? {
                Patched::Done => Ok(Outcome::put(desired, event_id.clone(), *generation, false)),
                // Deleted in the calendar, and the visit changed since: a new event, with a
                // new transactionId (found first if a crashed run already made it).
                Patched::Gone => create(&w, token, rule, desired, generation + 1, true).await,
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
