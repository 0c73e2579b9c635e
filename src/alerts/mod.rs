//! Telling a person when an unattended sync needs one: what deserves attention
//! ([`conditions`]), what the messages say ([`message`]), the channels ([`channels`]), and the
//! daily summary ([`summary`]).
//!
//! integ runs from cron for months; an exit code and a log line nobody reads are not enough
//! when a grant dies. After a command's work is committed, [`record`] judges the store's health
//! (a pure function of it, the settings and the clock), opens an episode for each new condition
//! and closes the ones that cleared, queueing one message per configured channel for each, all
//! in one transaction; [`deliver`] then sends what is queued, each channel within its deadline.
//! The state is in SQLite, so each condition is announced once when it starts and once when it
//! clears however often cron runs, and a message a channel refused waits for the next run.
//! Nothing here prints, and nothing here can change a command's exit code.

pub mod channels;
pub mod conditions;
pub mod message;
pub mod summary;

use std::time::Instant;

use crate::store::alerts::{self as store, NewAlert, NewMessage};
use crate::store::connections;
use crate::store::db::{Db, DbError};

pub use channels::{CHANNEL_DEADLINE, Channels};
pub use conditions::Rules;

/// Failed sends of one message before it is given up (a day and more of 15-minute cron runs).
pub const MAX_ATTEMPTS: u32 = 200;
/// Messages one channel sends in one run at most (the rest wait, in order).
pub const MAX_PER_RUN: u32 = 50;

/// What [`record`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub opened: usize,
    pub cleared: usize,
    pub open: usize,
}

/// Judge the store's health now and record what changed, queueing messages for `channels`.
pub fn record(
    db: &mut Db,
    rules: &Rules,
    secret_store_error: Option<&str>,
    channels: &[&str],
    now: jiff::Timestamp,
) -> Result<Recorded, DbError> {
    let conns = connections::list(db, None)?;
    let histories = store::histories(db, rules.after_failures.max(1))?;
    let found = conditions::evaluate(&conns, &histories, secret_store_error, rules, now);
    let open_rows = store::open(db)?;
    let open: Vec<conditions::Open> = open_rows
        .iter()
        .filter_map(|a| {
            let kind = conditions::Kind::parse(&a.condition)?;
            let key = conditions::Key { connection_id: a.connection_id, stream: a.stream.clone(), kind };
            Some(conditions::Open { id: a.id, key })
        })
        .collect();
    let plan = conditions::plan(&open, found);
    let stamp = crate::time::timestamp(now);
    let result = Recorded {
        opened: plan.opened.len(),
        cleared: plan.cleared.len(),
        open: plan.opened.len() + plan.ongoing.len(),
    };
    db.write(|tx| -> Result<(), DbError> {
        for c in &plan.opened {
            let m = message::opened(c);
            let msgs: Vec<NewMessage<'_>> =
                channels.iter().map(|ch| NewMessage { channel: ch, subject: &m.subject, body: &m.body }).collect();
            let new = NewAlert {
                connection_id: c.key.connection_id,
                stream: &c.key.stream,
                condition: c.key.kind.as_str(),
                account: &c.account,
                detail: &c.detail,
                fix: &c.fix,
                since: &c.since,
            };
            store::insert(tx, &new, &msgs, &stamp)?;
        }
        for id in &plan.cleared {
            let Some(row) = open_rows.iter().find(|r| r.id == *id) else { continue };
            // Only the channels that heard about it hear that it is over.
            let told = store::told(tx, *id)?;
            let disconnected = conns
                .iter()
                .find(|c| Some(c.id) == row.connection_id)
                .is_some_and(|c| c.state == connections::State::Disconnected);
            let m = message::cleared(row, &stamp, disconnected);
            let msgs: Vec<NewMessage<'_>> = channels
                .iter()
                .filter(|ch| told.iter().any(|t| t == *ch))
                .map(|ch| NewMessage { channel: ch, subject: &m.subject, body: &m.body })
                .collect();
            store::clear(tx, *id, &msgs, &stamp)?;
        }
        for (id, c) in &plan.ongoing {
            store::refresh(tx, *id, &c.detail, &c.fix)?;
            // A channel configured after the episode opened hears about it once, too.
            let announced = store::announced_on(tx, *id)?;
            let m = message::opened(c);
            let msgs: Vec<NewMessage<'_>> = channels
                .iter()
                .filter(|ch| !announced.iter().any(|a| a == *ch))
                .map(|ch| NewMessage { channel: ch, subject: &m.subject, body: &m.body })
                .collect();
            store::queue(tx, Some(*id), "opened", &msgs, &stamp)?;
        }
        Ok(())
    })?;
    Ok(result)
}

/// How one channel's sends went in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub channel: String,
    pub sent: usize,
    pub failed: usize,
    /// Messages left queued for the next run.
    pub waiting: usize,
    pub error: Option<String>,
}

/// Send what is queued for each configured channel, oldest first, each channel within
/// [`CHANNEL_DEADLINE`]. A channel stops at its first failure (later messages keep their order).
pub async fn deliver(
    db: &mut Db,
    channels: &Channels,
    http: &reqwest::Client,
    clock: crate::time::Clock,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    for name in channels.names() {
        let mut d = Delivery { channel: name.to_string(), ..Delivery::default() };
        let queued = match store::unsent(db, name, MAX_PER_RUN) {
            Ok(q) => q,
            Err(e) => {
                d.error = Some(format!("cannot read the queued alerts: {e}"));
                out.push(d);
                continue;
            }
        };
        let deadline = Instant::now() + CHANNEL_DEADLINE;
        let total = queued.len();
        for row in queued {
            let m = message::Message { subject: row.subject.clone(), body: row.body.clone() };
            let result = channels.send(name, &m, http, clock.now(), deadline).await;
            let now = clock.stamp();
            let saved = match &result {
                Ok(()) => store::mark_sent(db, row.id, &now),
                Err(e) => store::mark_failed(db, row.id, e, MAX_ATTEMPTS, &now),
            };
            if let Err(e) = saved {
                tracing::warn!("could not record an alert send: {e}");
            }
            match result {
                Ok(()) => d.sent += 1,
                Err(e) => {
                    d.failed += 1;
                    d.error = Some(e);
                    break;
                }
            }
        }
        d.waiting = total - d.sent;
        out.push(d);
    }
    out
}
