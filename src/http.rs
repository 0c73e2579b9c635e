//! The one HTTP client and its retry discipline, shared by every provider.
//!
//! Timeouts on connect and on each request; no redirects (an OAuth or API endpoint that
//! redirects is a misconfiguration, and following it could carry a token elsewhere).
//! Connection errors, resets, 5xx and 429 are retried with capped exponential backoff and full
//! jitter, honouring `Retry-After` (seconds, decimals, or an HTTP date) up to a cap; a provider
//! can also ask for a retry after reading a 200 (Jobber's THROTTLED). Every retry spends from a
//! per-run budget, so a sick provider ends the run instead of stretching it past the next cron
//! tick. Bodies are never logged: they carry tokens.
//!
//! Every number a provider sends that becomes a wait (`Retry-After`, a rate-limit reset, a cost
//! budget's restore time) goes through [`bounded_secs`]: no value, however large, negative or
//! malformed, panics or asks for more than [`MAX_WAIT`], and no wait runs past the run's
//! deadline (`--max-duration`, [`Http::with_deadline`]): a retry or a pacing wait that would end
//! after it stops the stream there instead. Every body is read against a cap
//! ([`SMALL_BODY`] for token calls, [`PAGE_BODY`] for API pages), refused early on
//! its `Content-Length`; a too-large answer is an error that is not retried. [`Pages`] bounds
//! every pagination loop.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest body of a token, identity or revocation answer: a token set is a few KB, a
/// Microsoft one with its id token under 10 KB.
pub const SMALL_BODY: usize = 1 << 20;
/// The largest body of an API page. Google's 2,500-event pages run to a few MB; 32 MiB leaves
/// room for events with long descriptions without letting a broken or hostile server take the
/// machine's memory.
pub const PAGE_BODY: usize = 32 << 20;
/// The longest any one wait asked for by a provider's numbers may last, whatever the number (the
/// retry policy's `retry_after_cap` is lower still for retries).
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Pages one pagination loop may read in one run. A loop that reaches it is broken (a server
/// that never ends its pages): at the page sizes integ asks for, 10,000 pages are 25 million
/// Google events, or a million Jobber jobs or Calendly events.
pub const MAX_PAGES: u32 = 10_000;

/// Seconds from a provider (a header or a JSON number) as a wait: `None` for NaN or a negative
/// number, `cap` for anything at or above it (infinity included). Never panics, unlike
/// `Duration::from_secs_f64`, which does past `u64::MAX` seconds.
pub fn bounded_secs(secs: f64, cap: Duration) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    if secs >= cap.as_secs_f64() {
        return Some(cap);
    }
    Some(Duration::try_from_secs_f64(secs).map_or(cap, |d| d.min(cap)))
}

/// Read a body, refusing one over `cap` bytes: at once when `Content-Length` says so, otherwise
/// as soon as the bytes read pass it (the connection is then dropped, not drained).
pub async fn read_body(mut resp: reqwest::Response, cap: usize) -> Result<bytes::Bytes, BodyError> {
    if let Some(declared) = resp.content_length()
        && declared > cap as u64
    {
        return Err(BodyError::TooLarge { cap });
    }
    let mut buf = bytes::BytesMut::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(|e| BodyError::Transport(describe(&e)))? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is too large (over {} MiB); a provider never sends that much here", cap >> 20)]
    TooLarge { cap: usize },
    #[error("{0}")]
    Transport(String),
}

pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("integ/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::failure("cannot build the HTTP client").cause(e))
}

/// Describe a transport error without its URL (URLs may carry tokens, e.g. Google's revoke).
pub fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read"
    } else {
        "the request failed"
    };
    let host = e.url().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    match (host.is_empty(), detail.is_empty()) {
        (true, true) => what.to_string(),
        (false, true) => format!("{what} ({host})"),
        (true, false) => format!("{what}: {detail}"),
        (false, false) => format!("{what} ({host}): {detail}"),
    }
}

/// How hard to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The longest `Retry-After` honoured; longer ones are cut to this.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a random wait between 0 and min(cap, base × 2^attempt).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let ceiling = exp.min(self.cap);
        let ms = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms))
    }
}

/// Counters of one run, shown in the summary and kept in `sync_runs`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Stats {
    pub requests: u64,
    pub retries: u64,
    pub throttle_waits: u64,
    /// Seconds spent waiting: backoff, `Retry-After`, and pacing for a cost budget.
    pub waited_secs: f64,
}

/// An answer read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

impl Response {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// What the provider makes of an answer.
#[derive(Debug)]
pub enum Verdict {
    /// Hand it to the caller (success or a failure that retrying will not fix).
    Done,
    /// Retry after this long (or the policy's backoff); counts against the retry budget.
    Retry(Option<Duration>),
    /// A rate or cost limit: wait this long and try again (counted as a throttle wait).
    Throttled(Duration),
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{what}: {detail} (gave up after {attempts} tries)")]
    GaveUp { what: String, detail: String, attempts: u32 },
    #[error("{what}: the retry budget of this run is spent ({detail})")]
    BudgetSpent { what: String, detail: String },
    /// Not retried: a provider that sends this much once will again.
    #[error("{what}: {detail}")]
    TooLarge { what: String, detail: String },
    /// A wait would end after the run's deadline (`--max-duration`).
    #[error("{what}: --max-duration reached ({detail})")]
    OutOfTime { what: String, detail: String },
    /// A pagination loop that repeats itself or never ends.
    #[error("{what}: the provider's pages never end ({detail}); stopped")]
    Pages { what: String, detail: String },
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        let hint = match &e {
            HttpError::GaveUp { .. } => {
                "the provider or the network is having trouble; run again later (progress so far is kept)"
            }
            HttpError::BudgetSpent { .. } => "too many failures in one run; run again later (progress so far is kept)",
            HttpError::TooLarge { .. } => {
                "the provider (or something between it and integ) sent far more than an answer holds; check the \
                 API URL in `integ config list`, and run again later"
            }
            HttpError::OutOfTime { .. } => "the next run continues from here (progress so far is kept)",
            HttpError::Pages { .. } => {
                "the provider keeps sending page after page; run again later, and report it if it persists \
                 (progress so far is kept)"
            }
        };
        Error::failure(e.to_string()).hint(hint)
    }
}

/// At most `requests` tries in any `window` (sliding): a provider's per-user quota kept on
/// this side, so the requests are spread instead of refused (Google: 600 a minute per user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// The send times of the tries still inside a [`RateLimit`]'s window (tokio's clock, which is
/// the monotonic clock outside tests).
#[derive(Debug)]
struct Pacer {
    limit: RateLimit,
    sent: Mutex<VecDeque<tokio::time::Instant>>,
}

impl Pacer {
    /// Take a slot now (`None`), or say how long until the oldest try leaves the window.
    fn take(&self, now: tokio::time::Instant) -> Option<Duration> {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        while sent.front().is_some_and(|t| now.saturating_duration_since(*t) >= self.limit.window) {
            sent.pop_front();
        }
        if sent.len() < self.limit.requests as usize {
            sent.push_back(now);
            return None;
        }
        let oldest = *sent.front()?;
        Some(self.limit.window.saturating_sub(now.saturating_duration_since(oldest)).max(Duration::from_millis(1)))
    }
}

/// The client plus the retry policy, budget and counters of one run.
#[derive(Debug)]
pub struct Http {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    budget: AtomicU32,
    stats: Mutex<Stats>,
    /// The run's deadline: no wait goes past it.
    deadline: Option<Instant>,
    /// Set when the deadline cut a wait short.
    out_of_time: AtomicBool,
    /// Every try waits for a slot of this (one account's provider quota), when set.
    pacer: Option<Pacer>,
}

impl Http {
    pub fn new(client: reqwest::Client, policy: RetryPolicy, retry_budget: u32) -> Http {
        Http {
            client,
            policy,
            budget: AtomicU32::new(retry_budget),
            stats: Mutex::new(Stats::default()),
            deadline: None,
            out_of_time: AtomicBool::new(false),
            pacer: None,
        }
    }

    /// Keep every try (retries included: the provider counts them) within `limit`.
    pub fn with_rate_limit(mut self, limit: Option<RateLimit>) -> Http {
        self.pacer = limit.map(|limit| Pacer { limit, sent: Mutex::new(VecDeque::new()) });
        self
    }

    /// Wait for a slot of the rate limit, if there is one: never past the deadline.
    async fn slot(&self, what: &str) -> Result<(), HttpError> {
        let Some(pacer) = &self.pacer else { return Ok(()) };
        while let Some(wait) = pacer.take(tokio::time::Instant::now()) {
            if self.remaining().is_some_and(|left| wait >= left) {
                return Err(self.out_of_time(
                    what,
                    format!(
                        "{} requests per {} s are spent; the next would wait {} s",
                        pacer.limit.requests,
                        pacer.limit.window.as_secs(),
                        wait.as_secs()
                    ),
                ));
            }
            self.note_wait(wait, false);
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Stop waiting and asking at `deadline` (`--max-duration`).
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Http {
        self.deadline = deadline;
        self
    }

    /// Whether the deadline cut a wait short: the stream stopped for want of time, not because
    /// the provider failed.
    pub fn ran_out_of_time(&self) -> bool {
        self.out_of_time.load(Ordering::Relaxed)
    }

    /// The time left before the deadline, `None` without one.
    fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    fn out_of_time(&self, what: &str, detail: String) -> HttpError {
        self.out_of_time.store(true, Ordering::Relaxed);
        HttpError::OutOfTime { what: what.into(), detail }
    }

    /// Wait for a budget (pacing), outside any retry: at most [`MAX_WAIT`], and never past the
    /// deadline (an error then, so the caller stops where it is).
    pub async fn pace(&self, what: &str, wait: Duration) -> Result<(), HttpError> {
        let wait = wait.min(MAX_WAIT);
        if wait.is_zero() {
            return Ok(());
        }
        if self.remaining().is_some_and(|left| wait >= left) {
            return Err(
                self.out_of_time(what, format!("the provider's budget asked for a wait of {} s", wait.as_secs()))
            );
        }
        self.note_wait(wait, true);
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// A request with the Bearer token that asks for JSON: how every provider API call starts.
    pub fn authorized(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &secrecy::SecretString,
    ) -> reqwest::RequestBuilder {
        bearer(self.client.request(method, url), token)
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Record time spent waiting for a budget (pacing), outside any retry.
    pub fn note_wait(&self, d: Duration, throttle: bool) {
        if let Ok(mut s) = self.stats.lock() {
            s.waited_secs += d.as_secs_f64();
            if throttle {
                s.throttle_waits += 1;
            }
        }
    }

    fn spend(&self) -> bool {
        self.budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1)).is_ok()
    }

    /// Send a request built by `make` (called again for each try), retrying transport errors,
    /// 5xx and 429 by default and whatever `judge` asks for.
    pub async fn execute(
        &self,
        what: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
        judge: impl Fn(&Response) -> Verdict,
    ) -> Result<Response, HttpError> {
        self.send_with(what, make, judge, self.policy.max_attempts).await
    }

    /// Like [`Http::execute`], but a failed try (a transport error, a 5xx) is not sent again:
    /// for a write that is not idempotent, whose caller looks for what a lost answer may have
    /// done before it sends the write again. Throttling is still waited out (the provider did
    /// nothing).
    pub async fn execute_once(
        &self,
        what: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
        judge: impl Fn(&Response) -> Verdict,
    ) -> Result<Response, HttpError> {
        self.send_with(what, make, judge, 1).await
    }

    async fn send_with(
        &self,
        what: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
        judge: impl Fn(&Response) -> Verdict,
        max_attempts: u32,
    ) -> Result<Response, HttpError> {
        let mut attempt = 0u32;
        let mut throttles = 0u32;
        loop {
            self.slot(what).await?;
            if let Ok(mut s) = self.stats.lock() {
                s.requests += 1;
            }
            let started = Instant::now();
            // A request under way at the deadline is let finish (within REQUEST_TIMEOUT), so the
            // page it brings is committed; only waits, and retries after them, are cut short.
            let outcome = match make().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match read_body(resp, PAGE_BODY).await {
                        Ok(body) => Ok(Response { status, headers, body }),
                        Err(e @ BodyError::TooLarge { .. }) => {
                            return Err(HttpError::TooLarge { what: what.into(), detail: e.to_string() });
                        }
                        Err(BodyError::Transport(e)) => Err(e),
                    }
                }
                Err(e) => Err(describe(&e)),
            };
            tracing::debug!(
                what,
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                ok = outcome.is_ok(),
                "http"
            );
            let (wait, detail, throttle) = match outcome {
                Ok(resp) => match judge(&resp) {
                    Verdict::Done => match default_verdict(&resp, &self.policy) {
                        Some((wait, detail)) => (wait, detail, false),
                        None => return Ok(resp),
                    },
                    Verdict::Retry(wait) => (wait, format!("HTTP {}", resp.status), false),
                    Verdict::Throttled(wait) => (Some(wait), "throttled".to_string(), true),
                },
                Err(detail) => (None, detail, false),
            };
            if throttle {
                throttles += 1;
                if throttles > 20 {
                    return Err(HttpError::GaveUp { what: what.into(), detail, attempts: attempt + throttles });
                }
            } else {
                attempt += 1;
                if attempt >= max_attempts {
                    return Err(HttpError::GaveUp { what: what.into(), detail, attempts: attempt });
                }
                if !self.spend() {
                    return Err(HttpError::BudgetSpent { what: what.into(), detail });
                }
            }
            let wait = wait.map(|w| w.min(self.policy.retry_after_cap)).unwrap_or_else(|| self.policy.backoff(attempt));
            if self.remaining().is_some_and(|left| wait >= left) {
                return Err(self.out_of_time(what, format!("{detail}; the retry would wait {} s", wait.as_secs())));
            }
            tracing::info!(what, %detail, wait_ms = wait.as_millis() as u64, "retrying");
            if let Ok(mut s) = self.stats.lock() {
                if throttle {
                    s.throttle_waits += 1;
                } else {
                    s.retries += 1;
                }
                s.waited_secs += wait.as_secs_f64();
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// Add the Bearer token and ask for JSON.
pub fn bearer(req: reqwest::RequestBuilder, token: &secrecy::SecretString) -> reqwest::RequestBuilder {
    use secrecy::ExposeSecret;
    req.bearer_auth(token.expose_secret()).header(reqwest::header::ACCEPT, "application/json")
}

/// 5xx and 429 are retried unless the provider judged otherwise; returns the wait and why.
fn default_verdict(resp: &Response, policy: &RetryPolicy) -> Option<(Option<Duration>, String)> {
    match resp.status {
        429 | 500..=599 => {
            let wait = retry_after(&resp.headers).map(|d| d.min(policy.retry_after_cap));
            Some((wait, format!("HTTP {}", resp.status)))
        }
        _ => None,
    }
}

/// `Retry-After` as seconds (decimals allowed: Graph sends "1.5") or an HTTP date. A date is
/// measured against the same response's `Date` header, the server's own clock, so neither clock
/// skew nor integ's clock matters; without a `Date` it is not understood (the caller's backoff
/// applies).
/// Whatever the header says, the answer is at most [`MAX_WAIT`] (callers cap it further).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return bounded_secs(secs, MAX_WAIT);
    }
    let http_date = |v: &str| jiff::fmt::rfc2822::parse(v.trim()).ok().map(|z| z.timestamp());
    let when = http_date(v)?;
    let sent = http_date(headers.get(reqwest::header::DATE)?.to_str().ok()?)?;
    let secs = when.as_second().saturating_sub(sent.as_second()).max(0);
    bounded_secs(secs as f64, MAX_WAIT)
}

/// Bounds one pagination loop of one run: a page token (or link, or cursor) seen before means
/// the server is going round in circles, and [`MAX_PAGES`] pages mean it never ends.
#[derive(Debug)]
pub struct Pages {
    what: String,
    seen: HashSet<u64>,
    count: u32,
    max: u32,
}

impl Pages {
    pub fn new(what: impl Into<String>) -> Pages {
        Pages::with_max(what, MAX_PAGES)
    }

    pub fn with_max(what: impl Into<String>, max: u32) -> Pages {
        Pages { what: what.into(), seen: HashSet::new(), count: 0, max }
    }

    /// Note the token of the next page before asking for it.
    pub fn next(&mut self, token: &str) -> Result<(), HttpError> {
        self.count = self.count.saturating_add(1);
        if self.count >= self.max {
            return Err(HttpError::Pages {
                what: self.what.clone(),
                detail: format!("more than {} pages in one run", self.max),
            });
        }
        // A hash, not the token: tokens can be long, and only equality matters.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        token.hash(&mut h);
        if !self.seen.insert(h.finish()) {
            return Err(HttpError::Pages { what: self.what.clone(), detail: "a page token repeated".into() });
        }
        Ok(())
    }

    /// Forget the tokens seen (a round that starts over legitimately may see them again); the
    /// page count goes on.
    pub fn restart(&mut self) {
        self.seen.clear();
    }
}

/// An API call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the access token was refused; refresh once and retry.
    #[error("the access token was refused (HTTP 401)")]
    Unauthorized,
    #[error("{0}")]
    Transport(String),
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the response was not the JSON expected: {0}")]
    Malformed(String),
    /// The account is gone or the app was disconnected at the provider: reconnect.
    #[error("{0}")]
    Disconnected(String),
    /// A permission the token lacks: names the scope and the fix.
    #[error("{0}")]
    MissingScope(String),
    /// The answer (an HTTP 200) carried GraphQL errors, or a mutation's user errors.
    #[error("GraphQL error: {0}")]
    GraphQl(String),
    /// The provider answered in another API version than the one integ pins.
    #[error("{0}")]
    Unsupported(String),
    /// A request integ would not send (it costs more than the provider allows, or a credential
    /// it needs is not configured); nothing reached the provider.
    #[error("{0}")]
    NotSent(String),
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl ApiError {
    pub fn into_error(self, what: &str) -> Error {
        match self {
            ApiError::Disconnected(msg) => Error::reconnect(format!("{what}: {msg}")),
            ApiError::MissingScope(msg) => Error::failure(format!("{what}: {msg}")),
            ApiError::Http(e) => Error::from(e).context(what.to_string()),
            other => Error::failure(format!("{what}: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_accepts_decimals_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None, "a date without the server's Date header is not understood");
        h.insert(reqwest::header::DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:27:30 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(reqwest::header::DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:29:00 GMT"));
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn absurd_retry_after_values_neither_panic_nor_ask_for_long_waits() {
        let mut h = HeaderMap::new();
        for v in ["1e300", "99999999999999999999999", "inf", "18446744073709551616", "1.8e19"] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(v));
            let got = retry_after(&h);
            assert!(got.is_some_and(|d| d <= Duration::from_secs(15 * 60)), "{v}: {got:?}");
        }
        for v in ["-1", "NaN", "-inf", "-0.5"] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(v));
            assert_eq!(retry_after(&h), None, "{v}");
        }
        // A date far in the future, measured against the server's own Date.
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 01 Jan 3000 00:00:00 GMT"));
        h.insert(reqwest::header::DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:27:30 GMT"));
        assert!(retry_after(&h).is_some_and(|d| d <= Duration::from_secs(15 * 60)));
    }

    #[test]
    fn the_pacer_keeps_a_sliding_window() {
        let p = Pacer { limit: RateLimit { requests: 3, window: Duration::from_secs(10) }, sent: Mutex::default() };
        let t0 = tokio::time::Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!((p.take(at(0)), p.take(at(1)), p.take(at(2))), (None, None, None));
        // Full: the wait is until the oldest try is 10 s old.
        assert_eq!(p.take(at(4)), Some(Duration::from_secs(6)));
        assert_eq!(p.take(at(10)), None);
        assert_eq!(p.take(at(10)), Some(Duration::from_secs(1)));
        assert_eq!(p.take(at(11)), None);
    }

    #[tokio::test(start_paused = true)]
    async fn paced_tries_wait_for_a_slot_and_never_past_the_deadline() {
        let limit = RateLimit { requests: 2, window: Duration::from_secs(60) };
        let http = Http::new(reqwest::Client::new(), RetryPolicy::default(), 0).with_rate_limit(Some(limit));
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            http.slot("a page").await.unwrap();
        }
        assert!(start.elapsed() >= Duration::from_secs(60), "{:?}", start.elapsed());
        assert!(http.stats().waited_secs >= 59.0);
        let http = Http::new(reqwest::Client::new(), RetryPolicy::default(), 0)
            .with_rate_limit(Some(limit))
            .with_deadline(Some(Instant::now() + Duration::from_secs(30)));
        http.slot("a page").await.unwrap();
        http.slot("a page").await.unwrap();
        let e = http.slot("a page").await.unwrap_err();
        assert!(matches!(e, HttpError::OutOfTime { .. }), "{e}");
        assert!(e.to_string().contains("2 requests per 60 s"), "{e}");
        assert!(http.ran_out_of_time());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy { base: Duration::from_millis(100), cap: Duration::from_secs(2), ..Default::default() };
        for _ in 0..50 {
            let first = p.backoff(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            assert!(p.backoff(10) <= Duration::from_secs(2));
        }
    }

    #[test]
    fn pages_stop_on_a_repeated_token_and_at_the_bound() {
        let mut p = Pages::new("a list");
        p.next("a").unwrap();
        p.next("b").unwrap();
        let e = p.next("a").unwrap_err();
        assert!(e.to_string().contains("a page token repeated"), "{e}");
        p.restart();
        p.next("a").unwrap();
        let mut p = Pages::with_max("a list", 3);
        p.next("1").unwrap();
        p.next("2").unwrap();
        assert!(p.next("3").unwrap_err().to_string().contains("more than 3 pages"));
    }

    #[test]
    fn bounded_secs_clamps() {
        let cap = Duration::from_secs(60);
        assert_eq!(bounded_secs(1.5, cap), Some(Duration::from_millis(1500)));
        assert_eq!(bounded_secs(1e300, cap), Some(cap));
        assert_eq!(bounded_secs(f64::INFINITY, cap), Some(cap));
        assert_eq!(bounded_secs(f64::NAN, cap), None);
        assert_eq!(bounded_secs(-0.1, cap), None);
        assert_eq!(bounded_secs(f64::MIN_POSITIVE, cap), Some(Duration::ZERO));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn bounded_secs_never_panics_and_stays_under_its_cap(secs in any::<f64>(), cap in 0u64..100_000) {
                let cap = Duration::from_secs(cap);
                if let Some(d) = bounded_secs(secs, cap) {
                    prop_assert!(d <= cap);
                }
            }

            #[test]
            fn retry_after_never_panics_and_stays_under_the_ceiling(
                value in prop_oneof![
                    any::<f64>().prop_map(|f| f.to_string()),
                    any::<i64>().prop_map(|i| i.to_string()),
                    any::<u128>().prop_map(|i| i.to_string()),
                    "[ -~]{0,40}",
                    (any::<i64>(), any::<i64>()).prop_map(|(a, b)| format!("{a}.{b}")),
                ],
                date in proptest::option::of(-62_000_000_000i64..253_000_000_000i64),
                sent in -62_000_000_000i64..253_000_000_000i64,
            ) {
                let mut h = HeaderMap::new();
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.insert(RETRY_AFTER, v);
                }
                let rfc = |s: i64| {
                    jiff::Timestamp::from_second(s).ok().map(|t| jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&t))
                };
                if let Some(Some(Ok(d))) = date.map(rfc) {
                    h.insert(RETRY_AFTER, HeaderValue::from_str(&d).unwrap());
                }
                if let Some(Ok(s)) = rfc(sent) {
                    h.insert(reqwest::header::DATE, HeaderValue::from_str(&s).unwrap());
                }
                if let Some(d) = retry_after(&h) {
                    prop_assert!(d <= MAX_WAIT);
                }
            }
        }
    }
}
