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
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::model::{self, Client, Connection, Job, JobDetails, LineItem, PageInfo, Visit};
use crate::http::{Http, Response, Verdict};
use crate::providers::api::ApiError;

/// Jobs per page; the cost of one page is about 25 points per job.
pub const JOBS_PAGE: u32 = 100;
pub const CLIENTS_PAGE: u32 = 100;
/// Nested page sizes in the details query.
const LINE_ITEMS_FIRST: u32 = 20;
const VISITS_FIRST: u32 = 10;
const ASSIGNEES_FIRST: u32 = 10;
/// Target requested cost of one details query, as a share of the bucket.
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
    /// How long until `cost` points are available (a little slack for clock skew).
    fn wait_for(&self, cost: f64) -> Duration {
        let short = cost - self.available_now();
        if short <= 0.0 || self.restore_rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(short / self.restore_rate + 0.05)
    }
}

/// Read `extensions.cost` of an answer.
fn cost_of(body: &Value) -> Option<(f64, Bucket)> {
    let cost = body.pointer("/extensions/cost")?;
    let requested = cost.get("requestedQueryCost")?.as_f64()?;
    let ts = cost.get("throttleStatus")?;
    Some((
        requested,
        Bucket {
            max: ts.get("maximumAvailable")?.as_f64()?,
            available: ts.get("currentlyAvailable")?.as_f64()?,
            restore_rate: ts.get("restoreRate")?.as_f64()?,
            at: Instant::now(),
        },
    ))
}

fn is_throttled(body: &Value) -> bool {
    body.get("errors").and_then(|e| e.as_array()).is_some_and(|errs| {
        errs.iter().any(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()) == Some("THROTTLED"))
    })
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

    /// Wait until the modelled bucket can afford `cost`.
    async fn pace(&self, cost: f64) {
        let wait = self.bucket.lock().ok().and_then(|b| b.as_ref().map(|b| b.wait_for(cost))).unwrap_or_default();
        if !wait.is_zero() {
            tracing::debug!(wait_ms = wait.as_millis() as u64, cost, "waiting for the Jobber cost budget");
            self.http.note_wait(wait, true);
            tokio::time::sleep(wait).await;
        }
    }

    fn judge(&self, resp: &Response) -> Verdict {
        if resp.status != 200 {
            return Verdict::Done;
        }
        let Some(body) = resp.json() else {
            // A cut-off or HTML answer with a 200: transient.
            return Verdict::Retry(None);
        };
        if let Some((requested, bucket)) = cost_of(&body) {
            if let Ok(mut b) = self.bucket.lock() {
                *b = Some(bucket);
            }
            if let Ok(mut r) = self.last_requested.lock() {
                *r = Some(requested);
            }
        }
        if is_throttled(&body) {
            let requested = body.pointer("/extensions/cost/requestedQueryCost").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let wait = cost_of(&body)
                .map(|(_, b)| b.wait_for(requested))
                .filter(|w| !w.is_zero())
                .unwrap_or(Duration::from_secs(1));
            tracing::warn!(requested, "Jobber answered THROTTLED; waiting {} ms", wait.as_millis());
            return Verdict::Throttled(wait);
        }
        let has_errors = body.get("errors").and_then(|e| e.as_array()).is_some_and(|a| !a.is_empty());
        let partial = body.get("data").is_some_and(|d| !d.is_null());
        if has_errors && partial {
            // Partial data with errors: the page failed as a whole; worth another try.
            return Verdict::Retry(None);
        }
        Verdict::Done
    }

    /// Send one query; returns `data`. Errors are classified for the caller.
    pub async fn query(
        &self,
        token: &SecretString,
        what: &str,
        query: &str,
        variables: Value,
        estimate: f64,
    ) -> Result<Value, ApiError> {
        if estimate > self.bucket_max() {
            return Err(ApiError::Status {
                status: 0,
                message: format!("{what} would cost {estimate} points, more than Jobber's bucket holds"),
            });
        }
        self.pace(estimate).await;
        let body = json!({ "query": query, "variables": variables });
        let resp = self
            .http
            .execute(
                what,
                || {
                    self.http
                        .client
                        .post(&self.url)
                        .bearer_auth(token.expose_secret())
                        .header("X-JOBBER-GRAPHQL-VERSION", &self.version)
                        .header(reqwest::header::ACCEPT, "application/json")
                        .json(&body)
                },
                |r| self.judge(r),
            )
            .await?;
        let parsed = resp.json();
        if resp.status == 401 {
            return Err(ApiError::Unauthorized);
        }
        if let Some(msg) = parsed.as_ref().and_then(disconnected_message) {
            return Err(ApiError::Disconnected(msg));
        }
        if resp.status != 200 {
            return Err(ApiError::Status {
                status: resp.status,
                message: crate::providers::api::error_message(parsed.as_ref()),
            });
        }
        let body = parsed.ok_or_else(|| ApiError::Malformed(format!("{what}: the answer is not JSON")))?;
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
        if let Some(errors) = body.get("errors").and_then(|e| e.as_array()).filter(|a| !a.is_empty()) {
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
        body.get("data")
            .cloned()
            .filter(|d| !d.is_null())
            .ok_or_else(|| ApiError::Malformed(format!("{what}: no data")))
    }

    /// One page of jobs in the given order.
    pub async fn jobs_page(
        &self,
        token: &SecretString,
        order: JobOrder,
        after: Option<&str>,
        first: u32,
    ) -> Result<(Vec<(Job, Value)>, PageInfo), ApiError> {
        let per_job = self.page_per_job.lock().map(|c| *c).unwrap_or(25.0);
        let estimate = per_job * first as f64 + 3.0;
        let data = self
            .query(token, "Jobber jobs page", &jobs_query(order), json!({ "first": first, "after": after }), estimate)
            .await?;
        self.learn(&self.page_per_job, first);
        parse_connection(&data, "/jobs")
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
        let data = self
            .query(token, "Jobber job details", &details_query(), json!({ "ids": ids, "first": ids.len() }), estimate)
            .await?;
        self.learn(&self.details_per_job, ids.len() as u32);
        let nodes = data.pointer("/jobs/nodes").and_then(|n| n.as_array()).cloned().unwrap_or_default();
        let mut out = Vec::with_capacity(nodes.len());
        for node in nodes {
            let Some(id) = node.get("id").and_then(|v| v.as_str()).map(str::to_string) else {
                continue;
            };
            let mut d = JobDetails::default();
            let li = node.get("lineItems").cloned().unwrap_or(Value::Null);
            let (items, mut li_page) = parse_nested::<LineItem>(&li)?;
            d.line_items = items;
            while li_page.has_next_page {
                let data = self
                    .query(
                        token,
                        "Jobber line items",
                        &more_line_items_query(),
                        json!({ "id": id, "after": li_page.end_cursor }),
                        50.0 * 8.0 + 5.0,
                    )
                    .await?;
                let (more, page) = parse_nested::<LineItem>(data.pointer("/job/lineItems").unwrap_or(&Value::Null))?;
                d.line_items.extend(more);
                li_page = page;
            }
            let vi = node.get("visits").cloned().unwrap_or(Value::Null);
            let (visits, mut vi_page) = parse_nested::<Visit>(&vi)?;
            d.visits = visits;
            while vi_page.has_next_page {
                let data = self
                    .query(
                        token,
                        "Jobber visits",
                        &more_visits_query(),
                        json!({ "id": id, "after": vi_page.end_cursor }),
                        20.0 * (8.0 + ASSIGNEES_FIRST as f64 * 3.0 + 3.0) + 5.0,
                    )
                    .await?;
                let (more, page) = parse_nested::<Visit>(data.pointer("/job/visits").unwrap_or(&Value::Null))?;
                d.visits.extend(more);
                vi_page = page;
            }
            for (v, _) in &d.visits {
                if v.assigned_users.as_ref().and_then(|u| u.page_info.as_ref()).is_some_and(|p| p.has_next_page) {
                    tracing::warn!(visit = %v.id, "a visit has more than {ASSIGNEES_FIRST} assigned users; the rest are not stored");
                }
            }
            out.push((id, d));
        }
        Ok(out)
    }

    /// One page of clients, optionally only those updated after `since`.
    pub async fn clients_page(
        &self,
        token: &SecretString,
        after: Option<&str>,
        since: Option<&str>,
    ) -> Result<(Vec<(Client, Value)>, PageInfo), ApiError> {
        let mut vars = json!({ "first": CLIENTS_PAGE, "after": after });
        if let Some(s) = since {
            vars["since"] = json!(s);
        }
        let data = self
            .query(token, "Jobber clients page", &clients_query(since.is_some()), vars, CLIENTS_PAGE as f64 * 9.0 + 3.0)
            .await?;
        parse_connection(&data, "/clients")
    }
}

fn disconnected_message(body: &Value) -> Option<String> {
    let msg = body
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| body.pointer("/error/message").and_then(|m| m.as_str()))?;
    (msg.contains("disconnected this app") || msg.contains("account is not active")).then(|| msg.to_string())
}

fn parse_connection<T: serde::de::DeserializeOwned>(
    data: &Value,
    at: &str,
) -> Result<(Vec<(T, Value)>, PageInfo), ApiError> {
    let conn = data.pointer(at).ok_or_else(|| ApiError::Malformed(format!("{at} missing from the answer")))?;
    let nodes = model::nodes_with_raw::<T>(conn.get("nodes").unwrap_or(&Value::Null)).map_err(ApiError::Malformed)?;
    let page: PageInfo = serde_json::from_value(conn.get("pageInfo").cloned().unwrap_or(Value::Null))
        .map_err(|e| ApiError::Malformed(format!("pageInfo: {e}")))?;
    Ok((nodes, page))
}

fn parse_nested<T: serde::de::DeserializeOwned>(conn: &Value) -> Result<(Vec<(T, Value)>, PageInfo), ApiError> {
    if conn.is_null() {
        return Ok((Vec::new(), PageInfo { has_next_page: false, end_cursor: None }));
    }
    let nodes = model::nodes_with_raw::<T>(conn.get("nodes").unwrap_or(&Value::Null)).map_err(ApiError::Malformed)?;
    let page = serde_json::from_value::<PageInfo>(conn.get("pageInfo").cloned().unwrap_or(Value::Null))
        .unwrap_or(PageInfo { has_next_page: false, end_cursor: None });
    Ok((nodes, page))
}

/// Users of a visit as (id, full name).
pub fn assignees(v: &Visit) -> Vec<(String, Option<String>)> {
    v.assigned_users
        .as_ref()
        .map(|c: &Connection<model::User>| {
            c.nodes.iter().map(|u| (u.id.clone(), u.name.as_ref().and_then(|n| n.full.clone()))).collect()
        })
        .unwrap_or_default()
}
