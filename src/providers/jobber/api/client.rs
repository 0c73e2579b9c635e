//! [`JobberApi`]: one Jobber account's endpoints (pages of jobs and clients, job details with
//! their nested pages, the existence check) over one GraphQL client that paces to the cost
//! bucket, judges each answer for retries and classifies what went wrong.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::cost::{Bucket, DETAILS_SHARE, cost_of, estimate_details_per_job, estimate_jobs_page, points};
use super::envelope::{Answer, JobData, RawNodes, disconnected_message, is_throttled, split};
use super::query::{
    ASSIGNEES_FIRST, CLIENTS_PAGE, JOBS_PAGE, JobOrder, clients_query, details_query, jobs_query,
    more_line_items_query, more_visits_query,
};
use crate::http::{Http, Pages, Response, Verdict};
use crate::providers::api::ApiError;
use crate::providers::jobber::model::{Client, Connection, Job, JobDetails, LineItem, PageInfo, Visit};

/// Pages of one job's line items or visits read in one run (50,000 line items, 20,000 visits).
const NESTED_PAGES: u32 = 1_000;

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
