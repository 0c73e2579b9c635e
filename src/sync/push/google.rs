//! One push write to Google: create under integ's id (adopting on 409 what carries integ's
//! marker, moving to the next id generation otherwise), patch (making the event anew when it
//! is gone for good), delete.

use secrecy::SecretString;

use super::plan::{Desired, Op, google_id};
use super::{Outcome, write_of};
use crate::http::Http;
use crate::providers::api::ApiError;
use crate::providers::google::push::{Found, Inserted, Patched, Writer};
use crate::store::push::Rule;

/// Generations tried before giving up on a visit (each one means an id was taken by an event
/// integ must not touch, or a deleted event Google would not bring back).
const MAX_GENERATIONS: u32 = 8;

async fn create(
    w: &Writer<'_>,
    token: &SecretString,
    rule: &Rule,
    d: &Desired,
    first: u32,
) -> Result<Outcome, ApiError> {
    let e = write_of(rule, d);
    let cal = rule.calendar_id.as_str();
    for generation in first..first + MAX_GENERATIONS {
        let id = google_id(rule.id, &d.visit_key, generation);
        if w.insert(token, cal, &id, &e).await? == Inserted::Created {
            return Ok(Outcome::put(d, id, generation, true));
        }
        match w.get(token, cal, &id, rule.id, &d.visit_key).await? {
            // Integ's own event (an earlier answer was lost, or a crash came before the
            // record): adopt it, rewritten and brought back if needed.
            Found::Ours { cancelled: false, hash } if hash.as_deref() == Some(d.hash.as_str()) => {
                return Ok(Outcome::put(d, id, generation, true));
            }
            Found::Ours { .. } => {
                if w.patch(token, cal, &id, &e).await? == Patched::Done {
                    return Ok(Outcome::put(d, id, generation, true));
                }
            }
            Found::Foreign | Found::Missing => {}
        }
    }
    Err(ApiError::Malformed(format!(
        "no usable event id for visit {} after {MAX_GENERATIONS} generations",
        d.visit_key
    )))
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
        Op::Create { desired, generation, .. } => create(&w, token, rule, desired, *generation).await,
        Op::Update { desired, event_id, generation } => {
            match w.patch(token, &rule.calendar_id, event_id, &write_of(rule, desired)).await? {
                Patched::Done => Ok(Outcome::put(desired, event_id.clone(), *generation, false)),
                Patched::Gone => create(&w, token, rule, desired, generation + 1).await,
            }
        }
        Op::Delete { visit_key, event_id, generation } => {
            let id = event_id.clone().unwrap_or_else(|| google_id(rule.id, visit_key, *generation));
            w.delete(token, &rule.calendar_id, &id).await?;
            Ok(Outcome::Forget { visit_key: visit_key.clone() })
        }
    }
}
