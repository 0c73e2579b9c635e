//! Jobber's GraphQL API the way Jobber wants it: JSON POST, the pinned
//! `X-JOBBER-GRAPHQL-VERSION`, lean selections with an explicit `first` on every connection, no
//! `totalCount`, and pacing to the query-cost bucket so a steady sync never sees THROTTLED.
//!
//! The bucket (10,000 points restoring 500/s by default) is modelled from the
//! `extensions.cost.throttleStatus` of every answer; before each query integ waits until the
//! model says the bucket can afford the query's requested cost. THROTTLED (an HTTP 200 with
//! `errors[].extensions.code`) is still handled by waiting `(requested − available) /
//! restoreRate`. Line items and visits come from a separate, batched query for only the jobs
//! that changed, sized so its requested cost stays well inside the bucket.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::model::{self, Client, Connection, Job, JobDetails, LineItem, PageInfo, Visit};
use crate::http::{Http, Pages, Response, Verdict};
use crate::providers::api::ApiError;

/// Jobs per page; the cost of one page is about 25 points per job.
pub const JOBS_PAGE: u32 = 100;
pub const CLIENTS_PAGE: u32 = 100;
/// Pages of one job's line items or visits read in one run (50,000 line items, 20,000 visits).
const NESTED_PAGES: u32 = 1_000;
/// Nested page sizes in the details query.
const LINE_ITEMS_FIRST: u32 = 30;
const VISITS_FIRST: u32 = 12;
const ASSIGNEES_FIRST: u32 = 10;
/// Target requested cost of one details query, as a share of the bucket. Larger shares mean
/// fewer requests but worse pacing: waiting until the bucket holds 80% of its size wastes the
/// restore rate near the cap (measured: wall/minimum 1.17 at 0.8 against 1.006 at 0.5).
const DETAILS_SHARE: f64 = 0.5;

const JOB_FIELDS: &str = "id jobNumber title jobStatus jobType instructions total startAt endAt completedAt \
     createdAt updatedAt jobberWebUri client { id name } \
     property { id address { street1 street2 city province postalCode country } }";

const LINE_ITEM_FIELDS: &str = "id name description quantity unitPrice totalPrice taxable";
const VISIT_FIELDS: &str = "id title startAt endAt completedAt isComplete visitStatus";
const CLIENT_FIELDS: &str = "id name companyName isCompany isArchived createdAt updatedAt jobberWebUri";

/// The order a scan pages jobs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrder {
    /// Newest change first: the only incremental handle Jobber has (no `updatedAt` filter).
    Changed,
    /// By job number: edits don't move a job, so a full sweep sees every job that lives
    /// through it exactly once, and can tell which ones vanished.
    Number,
}

/// The jobs page query.
pub fn jobs_query(order: JobOrder) -> String {
    let sort = match order {
        JobOrder::Changed => "{key: UPDATED_AT, direction: DESCENDING}",
        JobOrder::Number => "{key: JOB_NUMBER, direction: ASCENDING}",
    };
    format!(
        "query JobsPage($first: Int!, $after: String) {{ jobs(first: $first, after: $after, sort: [{sort}]) \
         {{ nodes {{ {JOB_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

fn visits_selection(first: u32, after: bool) -> String {
    let after = if after { ", after: $after" } else { "" };
    format!(
        "visits(first: {first}{after}) {{ nodes {{ {VISIT_FIELDS} assignedUsers(first: {ASSIGNEES_FIRST}) \
         {{ nodes {{ id name {{ full }} }} pageInfo {{ hasNextPage endCursor }} }} }} pageInfo {{ hasNextPage endCursor }} }}"
    )
}

fn line_items_selection(first: u32, after: bool) -> String {
    let after = if after { ", after: $after" } else { "" };
    format!(
        "lineItems(first: {first}{after}) {{ nodes {{ {LINE_ITEM_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}"
    )
}

/// Line items and visits of a batch of jobs.
pub fn details_query() -> String {
    format!(
        "query JobDetails($ids: [EncodedId!], $first: Int!) {{ jobs(first: $first, filter: {{ids: $ids}}) \
         {{ nodes {{ id {} {} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        line_items_selection(LINE_ITEMS_FIRST, false),
        visits_selection(VISITS_FIRST, false)
    )
}

fn more_line_items_query() -> String {
    format!(
        "query MoreLineItems($id: EncodedId!, $after: String) {{ job(id: $id) {{ id {} }} }}",
        line_items_selection(50, true)
    )
}

fn more_visits_query() -> String {
    format!(
        "query MoreVisits($id: EncodedId!, $after: String) {{ job(id: $id) {{ id {} }} }}",
        visits_selection(20, true)
    )
}

pub fn clients_query(filtered: bool) -> String {
    let (vars, filter) =
        if filtered { (", $since: ISO8601DateTime", ", filter: {updatedAt: {after: $since}}") } else { ("", "") };
    format!(
        "query ClientsPage($first: Int!, $after: String{vars}) {{ clients(first: $first, after: $after{filter}) \
         {{ nodes {{ {CLIENT_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
}

/// Cost estimates before the first answer tells the real figure: one point per field, objects
/// included, connections multiplied by `first`.
fn estimate_jobs_page(first: u32) -> f64 {
    first as f64 * 25.0 + 3.0
}

fn estimate_details_per_job() -> f64 {
    let line_items = LINE_ITEMS_FIRST as f64 * 8.0 + 3.0;
    let assignees = ASSIGNEES_FIRST as f64 * 3.0 + 3.0;
    let visits = VISITS_FIRST as f64 * (8.0 + assignees) + 3.0;
    1.0 + line_items + visits
}

/// The model of Jobber's leaky bucket.
#[derive(Debug, Clone)]
struct Bucket {
    max: f64,
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn available_now(&self) -> f64 {
        (self.available + self.restore_rate * self.at.elapsed().as_secs_f64()).min(self.max)
    }
    /// How long until `cost` points are available (a little slack for clock skew), at most
    /// [`crate::http::MAX_WAIT`] whatever the figures say.
    fn wait_for(&self, cost: f64) -> Duration {
        let short = cost - self.available_now();
        // Written so that NaN (from a figure no clamp caught) means no wait, never a panic.
        let positive = |x: f64| x > 0.0;
        if !positive(short) || !positive(self.restore_rate) {
            return Duration::ZERO;
        }
        crate::http::bounded_secs(short / self.restore_rate + 0.05, crate::http::MAX_WAIT).unwrap_or(Duration::ZERO)
    }
}

/// Jobber's bucket holds 10,000 points restoring 500 a second; a figure far outside what any
/// account has (negative, NaN, infinite, a bucket of 10^300 points) is not trusted.
const MAX_POINTS: f64 = 1e9;
/// The slowest restore rate believed, in points a second; slower ones are read as this, which
/// with the wait cap keeps any pacing wait within minutes.
const MIN_RESTORE_RATE: f64 = 1.0;

/// A number from a cost envelope, if it is one integ can compute with.
fn points(v: Option<&Value>) -> Option<f64> {
    v?.as_f64().filter(|f| f.is_finite()).map(|f| f.clamp(0.0, MAX_POINTS))
}

/// A GraphQL answer, read once while judging it for retries, straight into the types the caller
/// asked for (`D`), so a page is scanned once. Only when `data` is not of that shape (partial
/// data beside errors, or an unexpected answer) is it read a second time, shape-blind, to tell
/// which.
#[derive(Deserialize)]
#[serde(bound = "D: Deserialize<'de>")]
struct Envelope<D> {
    #[serde(default)]
    data: Option<D>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
    #[serde(default)]
    extensions: Option<Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

/// What `judge` made of a 200 answer, handed to `query`.
struct Answer<D> {
    env: Envelope<D>,
    /// Why `data` did not have the expected shape (it is then `None`).
    shape: Option<String>,
}

impl<D: serde::de::DeserializeOwned> Answer<D> {
    /// `None` when the body is not JSON at all (cut off, or an HTML page).
    fn parse(body: &[u8]) -> Option<Answer<D>> {
        // UTF-8 is checked once for the whole body, not string by string.
        let body = std::str::from_utf8(body).ok()?;
        match serde_json::from_str::<Envelope<D>>(body) {
            Ok(env) => Some(Answer { env, shape: None }),
            Err(typed) => {
                let loose: Envelope<serde::de::IgnoredAny> = serde_json::from_str(body).ok()?;
                let shape = loose.data.is_some().then(|| typed.to_string());
                let Envelope { errors, extensions, message, error, .. } = loose;
                Some(Answer { env: Envelope { data: None, errors, extensions, message, error }, shape })
            }
        }
    }
}

impl<D> Answer<D> {
    fn has_data(&self) -> bool {
        self.env.data.is_some() || self.shape.is_some()
    }
    fn errors(&self) -> &[Value] {
        self.env.errors.as_deref().unwrap_or_default()
    }
    fn as_value(&self) -> Value {
        json!({ "extensions": self.env.extensions, "message": self.env.message, "error": self.env.error })
    }
}

/// Read `extensions.cost` of an answer, each figure clamped to what a real account can have.
fn cost_of(body: &Value) -> Option<(f64, Bucket)> {
    let cost = body.pointer("/extensions/cost")?;
    let requested = points(cost.get("requestedQueryCost"))?;
    let ts = cost.get("throttleStatus")?;
    let max = points(ts.get("maximumAvailable"))?.max(1.0);
    Some((
        requested,
        Bucket {
            max,
            available: points(ts.get("currentlyAvailable"))?.min(max),
            restore_rate: points(ts.get("restoreRate"))?.max(MIN_RESTORE_RATE),
            at: Instant::now(),
        },
    ))
}

fn is_throttled(errors: &[Value]) -> bool {
    errors.iter().any(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()) == Some("THROTTLED"))
}

/// One Jobber account's API, with its cost model.
pub struct JobberApi<'a> {
    http: &'a Http,
    url: String,
    version: String,
    bucket: Mutex<Option<Bucket>>,
    /// Learned requested cost per job of the details query.
    details_per_job: Mutex<f64>,
    /// Learned requested cost per job of the page query.
    page_per_job: Mutex<f64>,
    /// `requestedQueryCost` of the last answer.
    last_requested: Mutex<Option<f64>>,
    /// HTTP 429s in a row (the request-rate limit), for the growing wait.
    refusals: AtomicU32,
}

impl<'a> JobberApi<'a> {
    pub fn new(http: &'a Http, url: &str, version: &str) -> JobberApi<'a> {
        JobberApi {
            http,
            url: url.to_string(),
            version: version.to_string(),
            bucket: Mutex::new(None),
            details_per_job: Mutex::new(estimate_details_per_job()),
            page_per_job: Mutex::new(estimate_jobs_page(1) - 3.0),
            last_requested: Mutex::new(None),
            refusals: AtomicU32::new(0),
        }
    }

    fn bucket_max(&self) -> f64 {
        self.bucket.lock().ok().and_then(|b| b.as_ref().map(|b| b.max)).unwrap_or(10_000.0)
    }

    /// Jobs per details query so its requested cost stays within a share of the bucket.
    pub fn details_batch(&self) -> usize {
        let per_job = self.details_per_job.lock().map(|c| *c).unwrap_or(500.0).max(1.0);
        ((self.bucket_max() * DETAILS_SHARE) / per_job).floor().clamp(1.0, 50.0) as usize
    }

    /// Jobs per page, so one page's requested cost fits comfortably in the bucket.
    pub fn jobs_page_size(&self) -> u32 {
        let per_job = self.page_per_job.lock().map(|c| *c).unwrap_or(25.0).max(1.0);
        (((self.bucket_max() * 0.5) / per_job).floor() as u32).clamp(1, JOBS_PAGE)
    }

    /// Wait until the modelled bucket can afford `cost` (never past the run's deadline).
    async fn pace(&self, what: &str, cost: f64) -> Result<(), ApiError> {
        let wait = self.bucket.lock().ok().and_then(|b| b.as_ref().map(|b| b.wait_for(cost))).unwrap_or_default();
        if !wait.is_zero() {
            tracing::debug!(wait_ms = wait.as_millis() as u64, cost, "waiting for the Jobber cost budget");
            self.http.pace(what, wait).await?;
        }
        Ok(())
    }

    fn judge<D: serde::de::DeserializeOwned>(&self, resp: &Response, answer: &Mutex<Option<Answer<D>>>) -> Verdict {
        if resp.status == 429 {
            return Verdict::Throttled(self.refused(resp));
        }
        if resp.status != 200 {
            return Verdict::Done;
        }
        self.refusals.store(0, Ordering::Relaxed);
        let Some(parsed) = Answer::<D>::parse(&resp.body) else {
            // A cut-off or HTML answer with a 200: transient.
            return Verdict::Retry(None);
        };
        let body = parsed.as_value();
        let throttled = is_throttled(parsed.errors());
        let partial = !parsed.errors().is_empty() && parsed.has_data();
        if let Ok(mut slot) = answer.lock() {
            *slot = Some(parsed);
        }
        if let Some((requested, bucket)) = cost_of(&body) {
            if let Ok(mut b) = self.bucket.lock() {
                *b = Some(bucket);
            }
            if let Ok(mut r) = self.last_requested.lock() {
                *r = Some(requested);
            }
        }
        if throttled {
            let requested = points(body.pointer("/extensions/cost/requestedQueryCost")).unwrap_or(0.0);
            let wait = cost_of(&body)
                .map(|(_, b)| b.wait_for(requested))
                .filter(|w| !w.is_zero())
                .unwrap_or(Duration::from_secs(1));
            tracing::warn!(requested, "Jobber answered THROTTLED; waiting {} ms", wait.as_millis());
            return Verdict::Throttled(wait);
        }
        if partial {
            // Partial data with errors: the page failed as a whole; worth another try.
            return Verdict::Retry(None);
        }
        Verdict::Done
    }

    /// The wait after an HTTP 429: Jobber allows 2,500 requests per account in 300 s and
    /// documents no `Retry-After`. Without one, the waits grow 1, 2, 4 ... 32 s, then 60 s; as
    /// throttle waits they do not spend the run's retry budget, and the 20 allowed in a row
    /// (about 15 minutes) outlast the window.
    fn refused(&self, resp: &Response) -> Duration {
        let n = self.refusals.fetch_add(1, Ordering::Relaxed);
        let wait =
            crate::http::retry_after(&resp.headers).unwrap_or_else(|| Duration::from_secs((1u64 << n.min(6)).min(60)));
        tracing::warn!(
            "Jobber refused a request with HTTP 429 (over 2,500 requests in 5 minutes for this account); waiting {} s",
            wait.as_secs_f64()
        );
        wait
    }

    /// Send one query; returns `data` read as `D`. Errors are classified for the caller.
    pub async fn query<D: serde::de::DeserializeOwned>(
        &self,
        token: &SecretString,
        what: &str,
        query: &str,
        variables: Value,
        estimate: f64,
    ) -> Result<D, ApiError> {
        if estimate.is_nan() || estimate > self.bucket_max() {
            return Err(ApiError::Status {
                status: 0,
                message: format!("{what} would cost {estimate} points, more than Jobber's bucket holds"),
            });
        }
        self.pace(what, estimate).await?;
        let body = json!({ "query": query, "variables": variables });
        let answer = Mutex::new(None);
        let resp = self
            .http
            .execute(
                what,
                || {
                    self.http
                        .authorized(reqwest::Method::POST, &self.url, token)
                        .header("X-JOBBER-GRAPHQL-VERSION", &self.version)
                        .json(&body)
                },
                |r| self.judge::<D>(r, &answer),
            )
            .await?;
        if resp.status == 401 {
            return Err(ApiError::Unauthorized);
        }
        // A 200 was parsed by `judge` already; other statuses are parsed here (small bodies).
        let env: Option<Answer<D>> = match resp.status {
            200 => answer.into_inner().ok().flatten(),
            _ => Answer::parse(&resp.body),
        };
        let small = env.as_ref().map(Answer::as_value);
        if let Some(msg) = small.as_ref().and_then(disconnected_message) {
            return Err(ApiError::Disconnected(msg));
        }
        if resp.status != 200 {
            return Err(ApiError::Status {
                status: resp.status,
                message: crate::providers::api::error_message(resp.json().as_ref()),
            });
        }
        let (Some(env), Some(body)) = (env, small) else {
            return Err(ApiError::Malformed(format!("{what}: the answer is not JSON")));
        };
        if let Some(versioning) = body.pointer("/extensions/versioning") {
            if let Some(w) = versioning.get("warning").and_then(|w| w.as_str()) {
                tracing::warn!("Jobber API version warning: {w}");
            }
            if let Some(v) = versioning.get("version").and_then(|v| v.as_str())
                && v != self.version
            {
                return Err(ApiError::Status {
                    status: 200,
                    message: format!(
                        "Jobber answered with API version {v} instead of {}; the pinned version is no longer served \
                         (set jobber.graphql_version to a supported version)",
                        self.version
                    ),
                });
            }
        }
        let errors = env.errors();
        if !errors.is_empty() {
            let msg =
                errors.iter().filter_map(|e| e.get("message").and_then(|m| m.as_str())).collect::<Vec<_>>().join("; ");
            if errors.iter().any(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()) == Some("UNAUTHENTICATED"))
            {
                return Err(ApiError::Unauthorized);
            }
            if msg.contains("hidden due to permissions") {
                return Err(ApiError::MissingScope(format!(
                    "{msg}: the Jobber app lacks a scope (read_jobs and read_clients are needed); add it in the \
                     Developer Center and run `integ connect jobber` again"
                )));
            }
            return Err(ApiError::Status { status: 200, message: format!("GraphQL error: {msg}") });
        }
        if let Some(shape) = env.shape {
            return Err(ApiError::Malformed(format!("{what}: unexpected answer: {shape}")));
        }
        env.env.data.ok_or_else(|| ApiError::Malformed(format!("{what}: no data")))
    }

    /// One page of jobs in the given order, each job with its raw JSON.
    pub async fn jobs_page(
        &self,
        token: &SecretString,
        order: JobOrder,
        after: Option<&str>,
        first: u32,
    ) -> Result<(Vec<(Job, String)>, PageInfo), ApiError> {
        let per_job = self.page_per_job.lock().map(|c| *c).unwrap_or(25.0);
        let estimate = per_job * first as f64 + 3.0;
        #[derive(Deserialize)]
        struct Data {
            jobs: RawNodes,
        }
        let data: Data = self
            .query(token, "Jobber jobs page", &jobs_query(order), json!({ "first": first, "after": after }), estimate)
            .await?;
        self.learn(&self.page_per_job, first);
        data.jobs.typed()
    }

    /// Remember the real requested cost per job of the last query of a kind.
    fn learn(&self, slot: &Mutex<f64>, jobs: u32) {
        let requested = self.last_requested();
        if let (Some(r), Ok(mut s)) = (requested, slot.lock())
            && jobs > 0
            && r > 0.0
        {
            *s = (r / jobs as f64).max(1.0);
        }
    }

    fn last_requested(&self) -> Option<f64> {
        self.last_requested.lock().ok().and_then(|r| *r)
    }

    /// Line items and visits of `ids`, following nested pages where a job has more.
    pub async fn details(&self, token: &SecretString, ids: &[String]) -> Result<Vec<(String, JobDetails)>, ApiError> {
        let per_job = self.details_per_job.lock().map(|c| *c).unwrap_or(500.0);
        let estimate = per_job * ids.len() as f64 + 3.0;
        #[derive(Deserialize)]
        struct Node {
            id: String,
            #[serde(rename = "lineItems", default)]
            line_items: Option<Connection<LineItem>>,
            #[serde(default)]
            visits: Option<Connection<Visit>>,
        }
        #[derive(Deserialize)]
        struct Data {
            jobs: Connection<Node>,
        }
        let data: Data = self
            .query(token, "Jobber job details", &details_query(), json!({ "ids": ids, "first": ids.len() }), estimate)
            .await?;
        self.learn(&self.details_per_job, ids.len() as u32);
        let mut out = Vec::with_capacity(data.jobs.nodes.len());
        for node in data.jobs.nodes {
            let (line_items, mut page) = split(node.line_items);
            let mut details = JobDetails { line_items, visits: Vec::new() };
            let mut pages = Pages::with_max("Jobber line items of a job", NESTED_PAGES);
            while page.has_next_page {
                pages.next(page.end_cursor.as_deref().unwrap_or_default())?;
                #[derive(Deserialize)]
                struct Items {
                    #[serde(rename = "lineItems")]
                    line_items: Option<Connection<LineItem>>,
                }
                let vars = json!({ "id": node.id, "after": page.end_cursor });
                let data: JobData<Items> =
                    self.query(token, "Jobber line items", &more_line_items_query(), vars, 50.0 * 8.0 + 5.0).await?;
                // The job vanished meanwhile: nothing more to read.
                let (more, next) = split(data.job.and_then(|j| j.line_items));
                details.line_items.extend(more);
                page = next;
            }
            let (visits, mut page) = split(node.visits);
            details.visits = visits;
            let mut pages = Pages::with_max("Jobber visits of a job", NESTED_PAGES);
            while page.has_next_page {
                pages.next(page.end_cursor.as_deref().unwrap_or_default())?;
                #[derive(Deserialize)]
                struct Visits {
                    visits: Option<Connection<Visit>>,
                }
                let vars = json!({ "id": node.id, "after": page.end_cursor });
                let estimate = 20.0 * (8.0 + ASSIGNEES_FIRST as f64 * 3.0 + 3.0) + 5.0;
                let data: JobData<Visits> =
                    self.query(token, "Jobber visits", &more_visits_query(), vars, estimate).await?;
                let (more, next) = split(data.job.and_then(|j| j.visits));
                details.visits.extend(more);
                page = next;
            }
            for v in &details.visits {
                if v.assigned_users.as_ref().and_then(|u| u.page_info.as_ref()).is_some_and(|p| p.has_next_page) {
                    tracing::warn!(visit = %v.id, "a visit has more than {ASSIGNEES_FIRST} assigned users; the rest are not stored");
                }
            }
            out.push((node.id, details));
        }
        Ok(out)
    }

    /// Which of `ids` (at most 100) still exist: a query for ids only, one point per job.
    pub async fn existing(&self, token: &SecretString, ids: &[String]) -> Result<Vec<String>, ApiError> {
        #[derive(Deserialize)]
        struct Node {
            id: String,
        }
        #[derive(Deserialize)]
        struct Data {
            jobs: Connection<Node>,
        }
        let query = "query JobsExist($ids: [EncodedId!], $first: Int!) { jobs(first: $first, filter: {ids: $ids}) \
                     { nodes { id } } }";
        let vars = json!({ "ids": ids, "first": ids.len() });
        let data: Data = self.query(token, "Jobber jobs check", query, vars, ids.len() as f64 + 3.0).await?;
        Ok(data.jobs.nodes.into_iter().map(|n| n.id).collect())
    }

    /// One page of clients, optionally only those updated after `since`.
    pub async fn clients_page(
        &self,
        token: &SecretString,
        after: Option<&str>,
        since: Option<&str>,
    ) -> Result<(Vec<(Client, String)>, PageInfo), ApiError> {
        let mut vars = json!({ "first": CLIENTS_PAGE, "after": after });
        if let Some(s) = since {
            vars["since"] = json!(s);
        }
        #[derive(Deserialize)]
        struct Data {
            clients: RawNodes,
        }
        let data: Data = self
            .query(token, "Jobber clients page", &clients_query(since.is_some()), vars, CLIENTS_PAGE as f64 * 9.0 + 3.0)
            .await?;
        data.clients.typed()
    }
}

fn disconnected_message(body: &Value) -> Option<String> {
    let msg = body
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| body.pointer("/error/message").and_then(|m| m.as_str()))?;
    super::auth::is_disconnected(msg).then(|| msg.to_string())
}

/// A connection whose nodes are kept as raw JSON text (for the `raw_json` columns).
#[derive(Deserialize)]
struct RawNodes {
    nodes: Vec<Box<RawValue>>,
    #[serde(rename = "pageInfo", default)]
    page_info: Option<PageInfo>,
}

impl RawNodes {
    /// Each node typed, beside its raw text.
    fn typed<T: serde::de::DeserializeOwned>(self) -> Result<(Vec<(T, String)>, PageInfo), ApiError> {
        let nodes = self
            .nodes
            .into_iter()
            .map(|n| {
                let t = serde_json::from_str::<T>(n.get())
                    .map_err(|e| ApiError::Malformed(format!("unexpected node shape: {e}")))?;
                Ok((t, Box::<str>::from(n).into_string()))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((nodes, self.page_info.unwrap_or(PageInfo { has_next_page: false, end_cursor: None })))
    }
}

/// `{ job: ... }`, the answer of the nested-page queries.
#[derive(Deserialize)]
struct JobData<T> {
    job: Option<T>,
}

/// A nested connection's nodes and page info (an absent connection is an empty last page).
fn split<T>(conn: Option<Connection<T>>) -> (Vec<T>, PageInfo) {
    match conn {
        Some(c) => (c.nodes, c.page_info.unwrap_or(PageInfo { has_next_page: false, end_cursor: None })),
        None => (Vec::new(), PageInfo { has_next_page: false, end_cursor: None }),
    }
}

/// Users of a visit as (id, full name).
pub fn assignees(v: &Visit) -> Vec<(&str, Option<&str>)> {
    v.assigned_users
        .as_ref()
        .map(|c: &Connection<model::User>| {
            c.nodes.iter().map(|u| (u.id.as_str(), u.name.as_ref().and_then(|n| n.full.as_deref()))).collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod number_tests {
    use super::*;

    fn bucket(available: f64, restore_rate: f64) -> Bucket {
        Bucket { max: 10_000.0, available, restore_rate, at: Instant::now() }
    }

    #[test]
    fn absurd_costs_and_rates_neither_panic_nor_ask_for_long_waits() {
        let ceiling = Duration::from_secs(15 * 60);
        // A huge requested cost (THROTTLED's wait is computed from it).
        assert!(bucket(0.0, 500.0).wait_for(1e300) <= ceiling);
        assert!(bucket(0.0, 500.0).wait_for(f64::INFINITY) <= ceiling);
        assert!(bucket(0.0, 500.0).wait_for(f64::NAN) <= ceiling);
        // A tiny restore rate: (903 − 0) / 1e-6 s is about 29 years.
        assert!(bucket(0.0, 1e-6).wait_for(903.0) <= ceiling);
        assert!(bucket(f64::NEG_INFINITY, 500.0).wait_for(903.0) <= ceiling);
        assert!(bucket(-1e308, 1e-300).wait_for(1e308) <= ceiling);
        // cost_of keeps what it reads usable.
        let body = json!({"extensions": {"cost": {"requestedQueryCost": 1e300, "throttleStatus":
            {"maximumAvailable": -5, "currentlyAvailable": 1e300, "restoreRate": 0}}}});
        if let Some((requested, b)) = cost_of(&body) {
            assert!(requested.is_finite() && b.max.is_finite() && b.max > 0.0, "{requested} {b:?}");
            assert!(b.wait_for(requested) <= ceiling);
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn figure() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<f64>().prop_map(|f| json!(f)),
                any::<i64>().prop_map(|i| json!(i)),
                any::<u64>().prop_map(|i| json!(i)),
                Just(Value::Null),
                "[ -~]{0,10}".prop_map(Value::String),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any cost envelope: no panic, and every wait it leads to stays within the cap.
            #[test]
            fn cost_envelopes_never_panic_nor_ask_for_long_waits(
                requested in figure(), max in figure(), available in figure(), rate in figure(),
                throttled in any::<bool>(), cost in any::<f64>(),
            ) {
                let body = json!({"data": null, "errors": if throttled { json!([{"extensions": {"code": "THROTTLED"}}]) } else { json!([]) },
                    "extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus":
                        {"maximumAvailable": max, "currentlyAvailable": available, "restoreRate": rate}}}});
                let ceiling = crate::http::MAX_WAIT;
                if let Some((requested, b)) = cost_of(&body) {
                    prop_assert!(requested.is_finite() && b.max.is_finite() && b.available.is_finite());
                    prop_assert!(b.wait_for(requested) <= ceiling);
                    prop_assert!(b.wait_for(cost) <= ceiling);
                }
                let text = body.to_string();
                let parsed = Answer::<serde::de::IgnoredAny>::parse(text.as_bytes());
                prop_assert!(parsed.is_some());
            }
        }
    }
}
