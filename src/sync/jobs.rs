//! The Jobber streams: `clients` (incremental on Jobber's `updatedAt` filter) and `jobs`.
//!
//! Jobs have no `updatedAt` filter, so an incremental round pages newest-change-first and stops
//! once past the saved watermark minus an overlap. A full round (`--full`, or on its own every
//! few days) pages by job number instead, so edits during the round don't move jobs past the
//! cursor, records which sweep saw each job, and in the transaction that completes it marks the
//! jobs it did not see as deleted. A round that did not finish marks nothing. The round's
//! position travels in the cursor, committed in the same transaction as the pages it covers (a
//! few pages at a time, see [`Pending`]), so a killed run resumes it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Counts, Finish, JobberOptions, StreamCx, out_of_time};
use crate::error::Result;
use crate::http::Pages;
use crate::oauth::session::Session;
use crate::providers::jobber::api::{self, JobOrder, JobberApi};
use crate::providers::jobber::model::{Client, Job, JobDetails};
use crate::store::db::{Db, DbError};
use crate::store::jobs::{self as rows, ClientRow, JobRow, LineItemRow, StoredJob, VisitRow, Written};
use crate::store::runs;
use crate::time::{latest, timestamp};

pub const JOBS: &str = "jobs";
pub const CLIENTS: &str = "clients";

/// The saved state of the jobs stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct JobsCursor {
    /// Everything changed at or before this was seen by a completed round.
    watermark: Option<String>,
    /// The last completed full sweep.
    sweep: i64,
    last_sweep_at: Option<String>,
    /// A round in progress.
    round: Option<Round>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Round {
    full: bool,
    /// The sweep number a full round stamps on the jobs it sees.
    sweep: i64,
    started_at: String,
    after: Option<String>,
    max_seen: Option<String>,
    /// An incremental round stops at the first job changed before this.
    stop_before: Option<String>,
}

/// The saved state of the clients stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ClientsCursor {
    watermark: Option<String>,
    round: Option<ClientsRound>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ClientsRound {
    since: Option<String>,
    after: Option<String>,
    max_seen: Option<String>,
}

fn minus(ts: &str, d: Duration) -> Option<String> {
    let t: Timestamp = ts.parse().ok()?;
    let span = jiff::SignedDuration::try_from(d).ok()?;
    t.checked_sub(span).ok().map(timestamp)
}

fn load<T: Default + for<'de> Deserialize<'de>>(db: &Db, cid: i64, stream: &str) -> Result<T> {
    match runs::cursor(db, cid, stream)? {
        None => Ok(T::default()),
        // An unreadable cursor (from an older integ) means starting over, not failing forever.
        Some(text) => Ok(serde_json::from_str(&text).unwrap_or_default()),
    }
}

/// Sync the clients of one Jobber account.
pub async fn sync_clients(cx: &mut StreamCx<'_>, api: &JobberApi<'_>, opts: &JobberOptions) -> Result<Finish> {
    let StreamCx { session, db, observer, counts, .. } = cx;
    let cid = session.connection.id;
    let mut cur: ClientsCursor = load(db, cid, CLIENTS)?;
    if opts.full {
        cur.round = None;
        cur.watermark = None;
    }
    let mut round = cur.round.take().unwrap_or_else(|| ClientsRound {
        since: cur.watermark.as_deref().and_then(|w| minus(w, opts.overlap)),
        after: None,
        max_seen: None,
    });
    let mut pages = Pages::new("Jobber clients");
    loop {
        let (after, since) = (round.after.clone(), round.since.clone());
        let (clients, page) = session
            .call(db, "could not read Jobber clients", |t| {
                let (after, since) = (after.clone(), since.clone());
                async move { api.clients_page(&t, after.as_deref(), since.as_deref()).await }
            })
            .await?;
        let complete = !page.has_next_page;
        if !complete {
            pages.next(page.end_cursor.as_deref().unwrap_or_default())?;
        }
        let stamp = session.clock().stamp();
        let rows: Vec<ClientRow> = clients.iter().map(|(c, raw)| client_row(c, raw)).collect();
        round.after = page.end_cursor.clone();
        for (c, _) in &clients {
            round.max_seen = latest(round.max_seen.take(), c.updated_at.as_deref());
        }
        let mut next = cur.clone();
        if complete {
            next.watermark = latest(next.watermark.take(), round.max_seen.as_deref());
            next.round = None;
        } else {
            next.round = Some(round.clone());
        }
        let cursor = serde_json::to_string(&next)?;
        let written = db.write(|tx| -> Result<Vec<Written>, DbError> {
            let w = rows.iter().map(|r| rows::upsert_client(tx, cid, r, &stamp)).collect::<Result<Vec<_>, _>>()?;
            runs::save_cursor(tx, cid, CLIENTS, Some(&cursor), &stamp, complete)?;
            Ok(w)
        })?;
        counts.page(&written);
        cur = next;
        observer.page(counts.fetched, Duration::ZERO);
        if complete {
            return Ok(Finish::Complete);
        }
        if out_of_time(opts.deadline) {
            return Ok(Finish::Paused);
        }
    }
}

/// Sync the jobs of one Jobber account (see the module docs for rounds).
pub async fn sync_jobs(cx: &mut StreamCx<'_>, api: &JobberApi<'_>, opts: &JobberOptions) -> Result<Finish> {
    let StreamCx { session, db, http, observer, counts } = cx;
    let cid = session.connection.id;
    let mut cur: JobsCursor = load(db, cid, JOBS)?;
    let clock = session.clock();
    let mut round = begin_round(&mut cur, opts, clock.now());
    if round.full {
        observer.note("full sweep: every job is read and jobs that no longer exist are marked deleted");
    }
    let order = if round.full { JobOrder::Number } else { JobOrder::Changed };
    let mut pending = Pending::default();
    let mut pages = Pages::new("Jobber jobs");
    loop {
        let mut found = Vec::new();
        let read = async {
            let complete = read_page(session, db, api, order, &mut round, &mut pending, &mut pages).await?;
            if complete && round.full {
                found = off_the_pages(session, db, api, &round, &pending).await?;
            }
            Ok::<_, crate::error::Error>(complete)
        };
        let complete = match read.await {
            Ok(complete) => complete,
            Err(e) => {
                // What was read before the failure is written, so the next run goes on from there.
                if !pending.jobs.is_empty() {
                    match write_pending(db, cid, &mut cur, &round, &mut pending, None, &clock.stamp()) {
                        Ok(done) => done.count(counts),
                        Err(w) => tracing::warn!("could not write the pages read before the failure: {w}"),
                    }
                }
                return Err(e);
            }
        };
        let pause = !complete && out_of_time(opts.deadline);
        if !(complete || pause || pending.due()) {
            continue;
        }
        let ending = complete.then_some(found.as_slice());
        let done = write_pending(db, cid, &mut cur, &round, &mut pending, ending, &clock.stamp())?;
        let deleted = done.deleted;
        done.count(counts);
        let stats = http.stats();
        observer.page(counts.fetched, Duration::from_secs_f64(stats.waited_secs));
        if complete {
            if deleted > 0 {
                observer.note(&format!("{deleted} job(s) no longer exist in Jobber and were marked deleted"));
            }
            return Ok(Finish::Complete);
        }
        if pause {
            return Ok(Finish::Paused);
        }
    }
}

/// Read one page of jobs, and the details of those that need them, into `pending`; advances
/// `round` past it. Returns whether the round is complete.
async fn read_page(
    session: &mut Session,
    db: &mut Db,
    api: &JobberApi<'_>,
    order: JobOrder,
    round: &mut Round,
    pending: &mut Pending,
    pages: &mut Pages,
) -> Result<bool> {
    let cid = session.connection.id;
    let after = round.after.clone();
    let size = api.jobs_page_size();
    let (jobs, page) = session
        .call(db, "could not read Jobber jobs", |t| {
            let after = after.clone();
            async move { api.jobs_page(&t, order, after.as_deref(), size).await }
        })
        .await?;
    // Details only for jobs that are new or changed (all of them in a full sweep). A job
    // already pending from an earlier page (pages shift when jobs are added meanwhile) is read
    // again in full.
    let unseen: Vec<&str> =
        jobs.iter().map(|(j, _)| j.id.as_str()).filter(|id| !pending.at.contains_key(*id)).collect();
    pending.stored.extend(rows::stored_jobs(db, cid, &unseen)?);
    // A job marked deleted that shows up again needs everything fetched anew.
    let need: Vec<String> = jobs
        .iter()
        .filter(|(j, _)| {
            round.full
                || pending.at.contains_key(&j.id)
                || pending
                    .stored
                    .get(&j.id)
                    .is_none_or(|s| s.deleted || s.updated_at.as_deref() != j.updated_at.as_deref())
        })
        .map(|(j, _)| j.id.clone())
        .collect();
    let mut details = HashMap::with_capacity(need.len());
    let batch = api.details_batch();
    for chunk in need.chunks(batch) {
        let chunk = chunk.to_vec();
        let got = session
            .call(db, "could not read Jobber job details", |t| {
                let chunk = chunk.clone();
                async move { api.details(&t, &chunk).await }
            })
            .await?;
        details.extend(got);
    }
    // The page counts only once all of it is read: `pending` and `round` move together.
    pending.details.extend(details);
    let reached_old = !round.full
        && round
            .stop_before
            .as_deref()
            .is_some_and(|stop| jobs.last().is_some_and(|(j, _)| j.updated_at.as_deref().is_none_or(|u| u < stop)));
    round.after = page.end_cursor.clone();
    for (j, _) in &jobs {
        round.max_seen = latest(round.max_seen.take(), j.updated_at.as_deref());
    }
    pending.add(jobs);
    let complete = !page.has_next_page || reached_old;
    if !complete {
        // After the page is taken in, so a failure here still writes it.
        pages.next(page.end_cursor.as_deref().unwrap_or_default())?;
    }
    Ok(complete)
}

/// The jobs a completing sweep did not see on its pages but that still exist. Jobber's cursors
/// are offsets: a job deleted (or moved) ahead of the cursor shifts later jobs back, and the one
/// that would have opened the next page is on no page at all. Before anything is marked
/// deleted, each such job is looked up by id; only those Jobber no longer has are marked.
async fn off_the_pages(
    session: &mut Session,
    db: &mut Db,
    api: &JobberApi<'_>,
    round: &Round,
    pending: &Pending,
) -> Result<Vec<String>> {
    let cid = session.connection.id;
    let unseen: Vec<String> =
        rows::unswept(db, cid, round.sweep)?.into_iter().filter(|id| !pending.at.contains_key(id)).collect();
    let mut found = Vec::new();
    for chunk in unseen.chunks(100) {
        let chunk = chunk.to_vec();
        let got = session
            .call(db, "could not check which Jobber jobs still exist", |t| {
                let chunk = chunk.clone();
                async move { api.existing(&t, &chunk).await }
            })
            .await?;
        found.extend(got);
    }
    if !found.is_empty() {
        tracing::info!(
            "{} job(s) were on no page of the sweep (jobs changed while it read) but still exist; kept",
            found.len()
        );
    }
    Ok(found)
}

/// The round this run works on (pure): the one in progress, unless `--full` asks for a sweep
/// and it isn't one; else a full sweep when asked, when there is no watermark yet or when the
/// last sweep is older than `sweep_every`; else an incremental round that stops `overlap` below
/// the watermark.
fn begin_round(cur: &mut JobsCursor, opts: &JobberOptions, now: Timestamp) -> Round {
    let sweep_due = match cur.last_sweep_at.as_deref().and_then(|s| s.parse::<Timestamp>().ok()) {
        None => true,
        Some(t) => now.as_second() - t.as_second() >= opts.sweep_every.as_secs() as i64,
    };
    let want_full = opts.full || cur.watermark.is_none() || sweep_due;
    match cur.round.take() {
        Some(r) if r.full || !opts.full => r,
        _ => Round {
            full: want_full,
            sweep: if want_full { cur.sweep + 1 } else { 0 },
            started_at: timestamp(now),
            after: None,
            max_seen: None,
            stop_before: if want_full { None } else { cur.watermark.as_deref().and_then(|w| minus(w, opts.overlap)) },
        },
    }
}

/// The cursor to commit with a batch (pure). Mid-round it records the round; at the end of a
/// round it raises the watermark: to the highest `updatedAt` seen, or after a sweep to when the
/// sweep started (so edits made during it are read again), and a sweep records its number and
/// time.
fn next_cursor(cur: &JobsCursor, round: &Round, complete: bool, stamp: &str) -> JobsCursor {
    let mut next = cur.clone();
    if complete {
        let mark = if round.full { Some(round.started_at.as_str()) } else { round.max_seen.as_deref() };
        next.watermark = latest(next.watermark.take(), mark);
        if round.full {
            next.sweep = round.sweep;
            next.last_sweep_at = Some(stamp.to_string());
        }
        next.round = None;
    } else {
        next.round = Some(round.clone());
    }
    next
}

/// What one written batch did, for the run's counts.
struct Wrote {
    written: Vec<Written>,
    repeats: u64,
    deleted: u64,
}

impl Wrote {
    fn count(&self, counts: &mut Counts) {
        counts.page(&self.written);
        // A job read twice was fetched twice.
        counts.fetched += self.repeats;
        counts.deleted += self.deleted;
    }
}

/// Write the pending pages and the cursor after them in one transaction. `ending` is `Some`
/// when the round completes, with the jobs a completing sweep found off its pages (see
/// [`off_the_pages`]).
fn write_pending(
    db: &mut Db,
    cid: i64,
    cur: &mut JobsCursor,
    round: &Round,
    pending: &mut Pending,
    ending: Option<&[String]>,
    stamp: &str,
) -> Result<Wrote> {
    let complete = ending.is_some();
    let found = ending.unwrap_or_default();
    let next = next_cursor(cur, round, complete, stamp);
    let cursor = serde_json::to_string(&next)?;
    let sweep = if round.full { round.sweep } else { 0 };
    let (written, deleted) = db.write(|tx| -> Result<(Vec<Written>, u64), DbError> {
        let mut w = Vec::with_capacity(pending.jobs.len());
        let mut writer = rows::JobWriter::new(tx, cid, stamp, sweep)?;
        let mut items = Vec::new();
        let mut visits = Vec::new();
        for (j, raw) in &pending.jobs {
            let (written, key) = writer.job(&job_row(j, raw), pending.stored.get(&j.id))?;
            if let Some(d) = pending.details.get(&j.id) {
                detail_rows(d, &mut items, &mut visits);
                writer.details(key, written == Written::Inserted, &items, &visits)?;
            }
            w.push(written);
        }
        writer.finish()?;
        let deleted = if complete && round.full {
            rows::mark_swept(tx, cid, found, round.sweep)?;
            rows::mark_unswept_deleted(tx, cid, round.sweep, stamp)?
        } else {
            0
        };
        runs::save_cursor(tx, cid, JOBS, Some(&cursor), stamp, complete)?;
        Ok((w, deleted))
    })?;
    let wrote = Wrote { written, repeats: pending.repeats, deleted };
    *pending = Pending::default();
    *cur = next;
    Ok(wrote)
}

/// Pages read but not yet written. Several pages go into one transaction, with the cursor after
/// the last of them: each commit rewrites the b-tree pages it touches, so fewer, larger commits
/// write less (measured in BENCHMARKS.md). A kill loses at most these pages, which the next run
/// reads again from the committed cursor.
#[derive(Default)]
struct Pending {
    jobs: Vec<(Job, String)>,
    /// Index in `jobs` by job id.
    at: HashMap<String, usize>,
    stored: HashMap<String, StoredJob>,
    details: HashMap<String, JobDetails>,
    /// Jobs read a second time (the later read replaces the earlier one).
    repeats: u64,
    since: Option<Instant>,
}

/// Write once this many jobs are pending...
const WRITE_JOBS: usize = 500;
/// ...or once the oldest pending page is this old (when the cost budget paces the reads).
const WRITE_AFTER: Duration = Duration::from_secs(2);

impl Pending {
    fn add(&mut self, jobs: Vec<(Job, String)>) {
        self.since.get_or_insert_with(Instant::now);
        for job in jobs {
            match self.at.get(&job.0.id) {
                Some(&i) => {
                    self.jobs[i] = job;
                    self.repeats += 1;
                }
                None => {
                    self.at.insert(job.0.id.clone(), self.jobs.len());
                    self.jobs.push(job);
                }
            }
        }
    }

    fn due(&self) -> bool {
        self.jobs.len() >= WRITE_JOBS || self.since.is_some_and(|t| t.elapsed() >= WRITE_AFTER)
    }
}

fn job_row<'a>(j: &'a Job, raw: &'a str) -> JobRow<'a> {
    let address = j.property.as_ref().and_then(|p| p.address.as_ref());
    JobRow {
        id: &j.id,
        job_number: j.job_number,
        title: j.title.as_deref(),
        status: j.job_status.as_deref(),
        job_type: j.job_type.as_deref(),
        instructions: j.instructions.as_deref(),
        total: j.total,
        start_at: j.start_at.as_deref(),
        end_at: j.end_at.as_deref(),
        completed_at: j.completed_at.as_deref(),
        created_at: j.created_at.as_deref(),
        updated_at: j.updated_at.as_deref(),
        client_id: j.client.as_ref().map(|c| c.id.as_str()),
        client_name: j.client.as_ref().and_then(|c| c.name.as_deref()),
        property_id: j.property.as_ref().map(|p| p.id.as_str()),
        street1: address.and_then(|a| a.street1.as_deref()),
        street2: address.and_then(|a| a.street2.as_deref()),
        city: address.and_then(|a| a.city.as_deref()),
        province: address.and_then(|a| a.province.as_deref()),
        postal_code: address.and_then(|a| a.postal_code.as_deref()),
        country: address.and_then(|a| a.country.as_deref()),
        web_url: j.jobber_web_uri.as_deref(),
        raw_json: raw,
    }
}

/// A job's line items and visits as rows, into buffers reused from job to job.
fn detail_rows<'a>(d: &'a JobDetails, items: &mut Vec<LineItemRow<'a>>, visits: &mut Vec<VisitRow<'a>>) {
    items.clear();
    items.extend(d.line_items.iter().map(|i| LineItemRow {
        id: &i.id,
        name: i.name.as_deref(),
        description: i.description.as_deref(),
        quantity: i.quantity,
        unit_price: i.unit_price,
        total_price: i.total_price,
        taxable: i.taxable,
    }));
    visits.clear();
    visits.extend(d.visits.iter().map(|v| VisitRow {
        id: &v.id,
        title: v.title.as_deref(),
        start_at: v.start_at.as_deref(),
        end_at: v.end_at.as_deref(),
        completed_at: v.completed_at.as_deref(),
        is_complete: v.is_complete,
        status: v.visit_status.as_deref(),
        assignees: api::assignees(v),
    }));
}

fn client_row<'a>(c: &'a Client, raw: &'a str) -> ClientRow<'a> {
    ClientRow {
        id: &c.id,
        name: c.name.as_deref(),
        company_name: c.company_name.as_deref(),
        is_company: c.is_company,
        is_archived: c.is_archived,
        created_at: c.created_at.as_deref(),
        updated_at: c.updated_at.as_deref(),
        web_url: c.jobber_web_uri.as_deref(),
        raw_json: raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(full: bool) -> JobberOptions {
        JobberOptions {
            full,
            sweep_every: Duration::from_secs(7 * 86_400),
            overlap: Duration::from_secs(3600),
            graphql_version: "2026-05-12".into(),
            deadline: None,
        }
    }

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().unwrap()
    }

    fn swept(watermark: &str, last_sweep_at: &str) -> JobsCursor {
        JobsCursor {
            watermark: Some(watermark.into()),
            sweep: 3,
            last_sweep_at: Some(last_sweep_at.into()),
            round: None,
        }
    }

    #[test]
    fn the_first_run_and_a_stale_sweep_start_a_full_round() {
        let r = begin_round(&mut JobsCursor::default(), &opts(false), now());
        assert!(r.full && r.sweep == 1 && r.stop_before.is_none());
        assert_eq!(r.started_at, "2026-11-21T12:00:00Z");
        let mut cur = swept("2026-11-21T11:00:00Z", "2026-11-14T12:00:00Z");
        let r = begin_round(&mut cur, &opts(false), now());
        assert!(r.full && r.sweep == 4, "a week since the last sweep: {r:?}");
    }

    #[test]
    fn otherwise_an_incremental_round_reaches_overlap_below_the_watermark() {
        let mut cur = swept("2026-11-21T11:00:00Z", "2026-11-14T12:00:01Z");
        let r = begin_round(&mut cur, &opts(false), now());
        assert!(!r.full && r.sweep == 0, "{r:?}");
        assert_eq!(r.stop_before.as_deref(), Some("2026-11-21T10:00:00Z"));
        let r = begin_round(&mut cur, &opts(true), now());
        assert!(r.full && r.sweep == 4, "--full sweeps: {r:?}");
    }

    #[test]
    fn a_round_in_progress_is_resumed_unless_full_asks_for_a_sweep() {
        let mut cur = swept("2026-11-21T11:00:00Z", "2026-11-20T00:00:00Z");
        let mut inc = begin_round(&mut cur.clone(), &opts(false), now());
        inc.after = Some("cursor-7".into());
        cur.round = Some(inc.clone());
        let r = begin_round(&mut cur.clone(), &opts(false), now());
        assert_eq!(r.after.as_deref(), Some("cursor-7"), "resumed where it stopped");
        cur.round = Some(inc);
        let r = begin_round(&mut cur, &opts(true), now());
        assert!(r.full && r.after.is_none(), "--full replaces an incremental round: {r:?}");
        assert!(cur.round.is_none(), "the round was taken out of the cursor");
    }

    #[test]
    fn the_cursor_keeps_a_round_mid_way_and_raises_the_watermark_at_its_end() {
        let cur = swept("2026-11-21T11:00:00Z", "2026-11-20T00:00:00Z");
        let mut inc = begin_round(&mut cur.clone(), &opts(false), now());
        inc.max_seen = Some("2026-11-21T11:59:00Z".into());
        let mid = next_cursor(&cur, &inc, false, "2026-11-21T12:00:05Z");
        assert_eq!(mid.watermark, cur.watermark, "the watermark moves only when a round ends");
        assert!(mid.round.is_some());
        let end = next_cursor(&cur, &inc, true, "2026-11-21T12:00:05Z");
        assert_eq!(end.watermark.as_deref(), Some("2026-11-21T11:59:00Z"));
        assert!(end.round.is_none() && end.sweep == 3);
        // A sweep ends at the time it started (edits during it are read again), and counts.
        let mut sweep = begin_round(&mut cur.clone(), &opts(true), now());
        sweep.max_seen = Some("2026-11-21T11:59:30Z".into());
        let end = next_cursor(&cur, &sweep, true, "2026-11-21T12:10:00Z");
        assert_eq!(end.watermark.as_deref(), Some("2026-11-21T12:00:00Z"));
        assert_eq!((end.sweep, end.last_sweep_at.as_deref()), (4, Some("2026-11-21T12:10:00Z")));
        // Never backwards.
        let old = Round { max_seen: Some("2026-01-01T00:00:00Z".into()), ..inc };
        assert_eq!(next_cursor(&cur, &old, true, "x").watermark, cur.watermark);
    }
}
