//! [`JobberApi`]: one Jobber account's endpoints (pages of jobs and clients, job details with
//! their nested pages, the existence check) over one GraphQL client that paces to the cost
//! bucket, judges each answer for retries and classifies what went wrong.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use super::cost::{
    Bucket, cost_of, details_batch, estimate_details_per_job, estimate_jobs_page, jobs_page_size, refusal_wait,
    throttled_wait,
};
use super::envelope::{Answer, JobData, RawNodes, is_throttled, read_answer, split};
use super::query::{
    ASSIGNEES_FIRST, CLIENTS_PAGE, JobOrder, clients_query, details_query, jobs_query, more_line_items_query,
    more_visits_query,
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
        details_batch(self.bucket_max(), self.details_per_job.lock().map(|c| *c).unwrap_or(500.0))
    }

    /// Jobs per page, so one page's requested cost fits comfortably in the bucket.
    pub fn jobs_page_size(&self) -> u32 {
        jobs_page_size(self.bucket_max(), self.page_per_job.lock().map(|c| *c).unwrap_or(25.0))
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

    /// What `Http` should do with an answer: an HTTP 429 and a THROTTLED answer wait (without
    /// spending the retry budget), a 200 that is not JSON or carries partial data is retried,
    /// anything else goes back to `query` (and `Http`'s own policy, which retries 5xx). A 200's
    /// cost figures update the bucket, and its parsed envelope is left in `answer`.
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
            let (requested, wait) = throttled_wait(&body);
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
        let wait = crate::http::retry_after(&resp.headers).unwrap_or_else(|| refusal_wait(n));
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
            return Err(ApiError::NotSent(format!(
                "{what} would cost {estimate} points, more than Jobber's bucket holds"
            )));
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
        read_answer(what, &self.version, &resp, answer.into_inner().ok().flatten())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RetryPolicy;
    use crate::providers::jobber::api::JOBS_PAGE;

    #[derive(Debug, Deserialize)]
    struct Data {
        account: Value,
    }

    fn http() -> Http {
        Http::new(reqwest::Client::new(), RetryPolicy::default(), 10)
    }

    fn response(status: u16, body: &str, retry_after: Option<&str>) -> Response {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert(reqwest::header::RETRY_AFTER, v.parse().expect("header value"));
        }
        Response { status, headers, body: bytes::Bytes::from(body.to_owned()) }
    }

    /// The verdict on one answer, and whether `judge` kept a parsed envelope for `query`.
    fn judge(api: &JobberApi<'_>, status: u16, body: &str) -> (Verdict, bool) {
        let (verdict, kept) = judge_keeping(api, status, body);
        (verdict, kept.is_some())
    }

    fn judge_keeping(api: &JobberApi<'_>, status: u16, body: &str) -> (Verdict, Option<Answer<Data>>) {
        let slot = Mutex::new(None);
        let verdict = api.judge(&response(status, body, None), &slot);
        (verdict, slot.into_inner().expect("slot"))
    }

    fn throttled(v: &Verdict) -> Option<Duration> {
        match v {
            Verdict::Throttled(d) => Some(*d),
            _ => None,
        }
    }

    fn cost(requested: f64, max: f64, available: f64) -> String {
        json!({"extensions": {"cost": {"requestedQueryCost": requested, "throttleStatus":
            {"maximumAvailable": max, "currentlyAvailable": available, "restoreRate": 500}}}})
        .to_string()
    }

    #[test]
    fn a_good_answer_is_done_and_teaches_the_bucket() {
        let http = http();
        let api = JobberApi::new(&http, "http://127.0.0.1:9/graphql", "2026-05-12");
        assert_eq!(api.jobs_page_size(), JOBS_PAGE);
        let body = json!({"data": {"account": {"id": "A1"}}, "extensions":
            serde_json::from_str::<Value>(&cost(40.0, 1_000.0, 960.0)).expect("json")["extensions"]});
        let (verdict, kept) = judge_keeping(&api, 200, &body.to_string());
        assert!(matches!(verdict, Verdict::Done), "{verdict:?}");
        let data = kept.and_then(|a| a.env.data).expect("the data, read once");
        assert_eq!(data.account["id"], "A1");
        // The reported bucket of 1,000 points now sizes the pages: half of it at 25 a job.
        assert_eq!(api.bucket_max(), 1_000.0);
        assert_eq!(api.last_requested(), Some(40.0));
        assert_eq!(api.jobs_page_size(), 20);
    }

    #[test]
    fn throttled_answers_wait_for_the_bucket_and_spend_no_retry() {
        let http = http();
        let api = JobberApi::new(&http, "http://127.0.0.1:9/graphql", "2026-05-12");
        let mut body: Value = serde_json::from_str(&cost(1_200.0, 10_000.0, 200.0)).expect("json");
        body["errors"] = json!([{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]);
        let (verdict, _) = judge(&api, 200, &body.to_string());
        let wait = throttled(&verdict).expect("a throttle wait");
        assert!(wait > Duration::from_secs(2) && wait <= Duration::from_millis(2_050), "{wait:?}");
        // THROTTLED without figures: a second.
        let bare = r#"{"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}"#;
        assert_eq!(throttled(&judge(&api, 200, bare).0), Some(Duration::from_secs(1)));
    }

    #[test]
    fn http_429s_wait_longer_each_time_until_an_answer_comes_through() {
        let http = http();
        let api = JobberApi::new(&http, "http://127.0.0.1:9/graphql", "2026-05-12");
        let slot = Mutex::new(None::<Answer<Data>>);
        let refuse = |retry_after| throttled(&api.judge(&response(429, "", retry_after), &slot));
        assert_eq!(refuse(None), Some(Duration::from_secs(1)));
        assert_eq!(refuse(None), Some(Duration::from_secs(2)));
        // Retry-After, when Jobber sends one, is what counts.
        assert_eq!(refuse(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(refuse(None), Some(Duration::from_secs(8)));
        // Any 200 ends the run of refusals.
        assert!(matches!(judge(&api, 200, r#"{"data": {"account": {}}}"#).0, Verdict::Done));
        assert_eq!(throttled(&api.judge(&response(429, "", None), &slot)), Some(Duration::from_secs(1)));
    }

    #[test]
    fn cut_off_and_partial_answers_are_retried() {
        let http = http();
        let api = JobberApi::new(&http, "http://127.0.0.1:9/graphql", "2026-05-12");
        for body in ["<html>upstream timeout</html>", r#"{"data": {"acc"#, ""] {
            let (verdict, kept) = judge(&api, 200, body);
            assert!(matches!(verdict, Verdict::Retry(None)) && !kept, "{body}: {verdict:?}");
        }
        // Data beside errors (of the expected shape or not): the page failed as a whole.
        for body in [
            r#"{"data": {"account": {"id": "A1"}}, "errors": [{"message": "a resolver failed"}]}"#,
            r#"{"data": {"jobs": null}, "errors": [{"message": "a resolver failed"}]}"#,
        ] {
            let (verdict, kept) = judge(&api, 200, body);
            assert!(matches!(verdict, Verdict::Retry(None)) && kept, "{body}: {verdict:?}");
        }
    }

    #[test]
    fn other_answers_go_back_to_the_query_to_be_classified() {
        let http = http();
        let api = JobberApi::new(&http, "http://127.0.0.1:9/graphql", "2026-05-12");
        // Errors without data (a refused token, a missing scope, a bad query) are final.
        let errors = r#"{"data": null, "errors": [{"message": "no", "extensions": {"code": "UNAUTHENTICATED"}}]}"#;
        let (verdict, kept) = judge(&api, 200, errors);
        assert!(matches!(verdict, Verdict::Done) && kept, "{verdict:?}");
        // Statuses other than 200 and 429: `Http`'s own policy retries 5xx, the rest are final.
        for status in [400, 401, 403, 500, 502, 503] {
            let (verdict, kept) = judge(&api, status, r#"{"message": "x"}"#);
            assert!(matches!(verdict, Verdict::Done) && !kept, "{status}: {verdict:?}");
        }
    }
}
