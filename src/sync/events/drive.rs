//! The one concurrency driver of the calendar rounds: every selected calendar of an account is a
//! [`Round`], and [`drive`] keeps at most N of their requests in flight on the one thread, with
//! one access token taken from the session before each request.
//!
//! Answers are handed back to their round one at a time, between awaits, so a round writes to
//! the database without locks and without `RefCell`s. A round that wants another request goes
//! to the front of the queue (a calendar's pages follow each other). A 401 is the session's
//! business: that request is made again through [`Session::call`], which refreshes once. A
//! round that fails does not stop the others, unless the failure is the account's (a grant that
//! needs reconnecting, settings that are wrong); the first failure is the run's error and the
//! others are noted.
//!
//! `--max-duration` is checked before each request, after the first: every run makes progress,
//! and a stop lands between pages, where every page read so far is committed with its cursor.

use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use secrecy::SecretString;

use super::super::{Counts, Finish, Observer, StreamCx, out_of_time};
use crate::error::{Error, Kind, Result};
use crate::http::Http;
use crate::providers::api::ApiError;
use crate::store::db::Db;
use crate::time::Clock;

/// What a round does after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask again (the next page, a restarted round, a catch-up round).
    More,
    /// The calendar is done for this run.
    Done,
}

/// What a round may touch while it takes an answer.
pub struct Cx<'a> {
    pub db: &'a mut Db,
    pub counts: &'a mut Counts,
    pub observer: &'a dyn Observer,
    pub clock: Clock,
}

/// One calendar's round, as the driver sees it.
pub trait Round {
    /// What one request needs; cloned into the request's future.
    type Ask: Clone;
    /// A provider's answer the round acts on.
    type Answer;
    /// The calendar, for messages.
    fn name(&self) -> &str;
    /// What an error of this calendar's requests begins with.
    fn what(&self) -> String;
    /// The request to make next.
    fn ask(&self) -> Self::Ask;
    /// Take in an answer (or the provider's refusal, a 401 excepted): write what it carries and
    /// say what comes next.
    fn take(&mut self, answer: std::result::Result<Self::Answer, ApiError>, cx: &mut Cx<'_>) -> Result<Step>;
    /// Pages were read that only the round's end would commit.
    fn unfinished(&self) -> bool {
        false
    }
}

/// How the driver runs: requests in flight, the time budget, the run's clock.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub in_flight: usize,
    pub deadline: Option<Instant>,
    pub clock: Clock,
}

/// Run every round to its end, the deadline, or a failure (see the module docs).
pub async fn drive<R, F, Fut>(cx: &mut StreamCx<'_>, rounds: &mut [R], limits: Limits, fetch: F) -> Result<Finish>
where
    R: Round,
    F: Fn(SecretString, R::Ask) -> Fut,
    Fut: Future<Output = std::result::Result<R::Answer, ApiError>>,
{
    let StreamCx { session, db, http, observer, counts } = cx;
    let (http, observer) = (*http, *observer);
    let fetch = &fetch;
    let mut waiting: VecDeque<usize> = (0..rounds.len()).collect();
    let mut inflight = FuturesUnordered::new();
    let (mut asked, mut paused) = (false, false);
    let mut failure: Option<Error> = None;
    loop {
        while inflight.len() < limits.in_flight.max(1)
            && let Some(i) = waiting.pop_front()
        {
            if asked && out_of_time(limits.deadline) {
                paused = true;
                waiting.clear();
                break;
            }
            asked = true;
            let token = session.access_token(db).await?;
            let ask = rounds[i].ask();
            inflight.push(async move { (i, fetch(token, ask).await) });
        }
        let Some((i, answer)) = inflight.next().await else { break };
        let round = &mut rounds[i];
        let step = match answer {
            // A refused token: the session refreshes once and this request is made again. A
            // failure there is the account's (its grant), not the calendar's.
            Err(ApiError::Unauthorized) => {
                let ask = round.ask();
                let answer = session.call(db, &round.what(), |t| fetch(t, ask.clone())).await?;
                take(round, Ok(answer), db, counts, observer, limits.clock)
            }
            answer => take(round, answer, db, counts, observer, limits.clock),
        };
        if step.is_ok() {
            observer.page(counts.fetched, waited(http));
        }
        match step {
            Ok(Step::More) => waiting.push_front(i),
            Ok(Step::Done) => {}
            // The account's failure ends every round.
            Err(e) if matches!(e.kind, Kind::Reconnect | Kind::Config) => return Err(e),
            Err(e) => match &failure {
                Some(_) => observer.note(&format!("calendar '{}' failed too: {}", round.name(), e.message)),
                None => failure = Some(e),
            },
        }
    }
    drop(inflight);
    if paused {
        for r in rounds.iter().filter(|r| r.unfinished()) {
            observer.note(&format!("'{}': out of time before the round ended; the next run reads it again", r.name()));
        }
    }
    match failure {
        Some(e) => Err(e),
        None if paused => Ok(Finish::Paused),
        None => Ok(Finish::Complete),
    }
}

fn take<R: Round>(
    round: &mut R,
    answer: std::result::Result<R::Answer, ApiError>,
    db: &mut Db,
    counts: &mut Counts,
    observer: &dyn Observer,
    clock: Clock,
) -> Result<Step> {
    round.take(answer, &mut Cx { db, counts, observer, clock })
}

/// Time spent waiting on the provider so far (for the progress line).
pub fn waited(http: &Http) -> Duration {
    Duration::from_secs_f64(http.stats().waited_secs.max(0.0))
}
