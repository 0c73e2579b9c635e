//! The push stream: Jobber visits from the local database into Google and Outlook calendars,
//! one rule at a time. Plan ([`plan`]) then apply: the writes of a batch go out at most
//! [`IN_FLIGHT`] at a time, and what they did is recorded in `pushed_events` with the rule's
//! cursor in one transaction.
//!
//! Crash safety, per provider. Google: integ chooses the event id from (rule, visit,
//! generation), so a create whose answer was lost (or that a killed run never recorded) gets
//! 409 the next time and the event is adopted when it carries integ's marker for that visit
//! (someone else's event under that id is never touched: the next generation is used).
//! Microsoft: a create is first recorded as pending (no event id); each carries a
//! `transactionId` from (rule, visit, generation) and integ's extended property, and a pending
//! create is looked up by that property before it is sent again.

mod google;
mod manage;
mod microsoft;
pub mod plan;

pub use manage::{CALENDAR_MARKER, create_calendar, delete_events};

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use secrecy::SecretString;

use super::{Finish, StreamCx};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::provider::Provider;
use crate::providers::api::ApiError;
use crate::providers::push::{EventWrite, can_write, write_hint};
use crate::store::db::Db;
use crate::store::push::{self, Pushed, Record, Rule};
use crate::time::Clock;
use plan::{Desired, Op};

/// The stream's name in `sync_runs`.
pub const PUSH: &str = "push";

/// Writes in flight per calendar (Graph allows 4 concurrent requests per mailbox).
pub const IN_FLIGHT: usize = 4;

/// Writes recorded per transaction.
const BATCH: usize = 50;

#[derive(Debug, Clone)]
pub struct PushOptions {
    pub deadline: Option<Instant>,
    pub clock: Clock,
}

/// What one write did.
#[derive(Debug)]
enum Outcome {
    Put { visit_key: String, pushed: Pushed, created: bool },
    Forget { visit_key: String },
    Failed { visit_key: String, error: String },
}

impl Outcome {
    /// `d` is now event `id` of that generation, written with `d`'s content.
    fn put(d: &Desired, id: String, generation: u32, created: bool) -> Outcome {
        Outcome::Put {
            visit_key: d.visit_key.clone(),
            pushed: Pushed { event_id: Some(id), generation, content_hash: d.hash.clone() },
            created,
        }
    }
}

/// Whether a connection has push rules (the stream is skipped without).
pub fn has_rules(db: &Db, connection_id: i64) -> Result<bool> {
    Ok(!push::list(db, Some(connection_id))?.is_empty())
}

/// The event a desired visit writes.
fn write_of(rule: &Rule, d: &Desired) -> EventWrite {
    EventWrite {
        title: d.title.clone(),
        location: d.location.clone(),
        description: d.description.clone(),
        when: d.when.clone(),
        rule: rule.id,
        visit_key: d.visit_key.clone(),
        hash: d.hash.clone(),
    }
}

fn visit_of(op: &Op) -> &str {
    match op {
        Op::Create { desired, .. } | Op::Update { desired, .. } => &desired.visit_key,
        Op::Delete { visit_key, .. } => visit_key,
    }
}

/// Errors that stop the batch (and the stream) rather than one write: a refused token is
/// refreshed and the batch sent again (every write is idempotent); a missing scope, a spent
/// retry budget or the deadline end the run.
fn stops_batch(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Unauthorized
            | ApiError::MissingScope(_)
            | ApiError::Disconnected(_)
            | ApiError::Http(crate::http::HttpError::BudgetSpent { .. } | crate::http::HttpError::OutOfTime { .. })
    )
}

/// One batch of writes, [`IN_FLIGHT`] at a time.
async fn run_batch(
    provider: Provider,
    http: &Http,
    api_url: &str,
    rule: &Rule,
    ops: &[Op],
    token: SecretString,
) -> Result<Vec<Outcome>, ApiError> {
    let token = &token;
    let results: Vec<(String, Result<Outcome, ApiError>)> = futures_util::stream::iter(ops)
        .map(|op| async move {
            let r = match provider {
                Provider::Microsoft => microsoft::apply(http, api_url, token, rule, op).await,
                _ => google::apply(http, api_url, token, rule, op).await,
            };
            (visit_of(op).to_string(), r)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut out = Vec::with_capacity(results.len());
    for (visit_key, r) in results {
        match r {
            Ok(o) => out.push(o),
            Err(e) if stops_batch(&e) => return Err(e),
            Err(e) => out.push(Outcome::Failed { visit_key, error: e.to_string() }),
        }
    }
    Ok(out)
}

/// Push every rule whose target is this session's connection.
pub async fn sync_push(cx: &mut StreamCx<'_>, opts: &PushOptions) -> Result<Finish> {
    let StreamCx { session, db, http, observer, counts } = cx;
    let c = session.connection.clone();
    let rules = push::list(db, Some(c.id))?;
    if rules.is_empty() {
        return Ok(Finish::Complete);
    }
    if !can_write(c.provider, &c.scopes) {
        return Err(Error::config(format!(
            "the {} has push rules but was connected read-only, so integ cannot write its calendars",
            c.describe()
        ))
        .hint(write_hint(c.provider, &c.label)));
    }
    let api_url = session.api_url()?;
    let mut failures: Vec<String> = Vec::new();
    for rule in rules {
        let visits = push::visits(db, rule.source_connection_id)?;
        let want = plan::desired(&rule, &visits, opts.clock.now());
        let pushed = push::pushed(db, rule.id)?;
        let ops = plan::plan(&want, &pushed);
        counts.fetched += want.len() as u64;
        if ops.is_empty() {
            push::record(db, rule.id, &[], &opts.clock.stamp())?;
            continue;
        }
        tracing::info!(rule = rule.id, writes = ops.len(), "push plan");
        for batch in ops.chunks(BATCH) {
            if super::out_of_time(opts.deadline) {
                return Ok(Finish::Paused);
            }
            if c.provider == Provider::Microsoft {
                // Record the creates as under way first: after a crash they are looked up by
                // integ's property before anything is created again.
                let pending: Vec<Record> = batch
                    .iter()
                    .filter_map(|op| match op {
                        Op::Create { desired, generation, pending: false } => Some(Record::Put {
                            visit_key: desired.visit_key.clone(),
                            pushed: Pushed { event_id: None, generation: *generation, content_hash: String::new() },
                        }),
                        _ => None,
                    })
                    .collect();
                if !pending.is_empty() {
                    push::record(db, rule.id, &pending, &opts.clock.stamp())?;
                }
            }
            let (provider, api_url, rule_ref) = (c.provider, api_url.as_str(), &rule);
            let outcomes = session
                .call(db, "pushing visits", |token| run_batch(provider, http, api_url, rule_ref, batch, token))
                .await?;
            let mut records = Vec::with_capacity(outcomes.len());
            for o in outcomes {
                match o {
                    Outcome::Put { visit_key, pushed, created } => {
                        if created {
                            counts.inserted += 1;
                        } else {
                            counts.updated += 1;
                        }
                        records.push(Record::Put { visit_key, pushed });
                    }
                    Outcome::Forget { visit_key } => {
                        counts.deleted += 1;
                        records.push(Record::Forget { visit_key });
                    }
                    Outcome::Failed { visit_key, error } => {
                        tracing::warn!(rule = rule.id, visit = %visit_key, "push write failed: {error}");
                        failures.push(error);
                    }
                }
            }
            push::record(db, rule.id, &records, &opts.clock.stamp())?;
            observer.page(batch.len() as u64, Duration::ZERO);
        }
    }
    match failures.first() {
        None => Ok(Finish::Complete),
        Some(first) => Err(Error::failure(format!(
            "{} calendar write(s) failed (first: {first}); everything else is pushed and recorded",
            failures.len()
        ))
        .hint("run `integ sync push` again; it retries only what is still missing")),
    }
}
