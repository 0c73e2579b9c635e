//! The one HTTP client and its retry discipline, shared by every provider.
//!
//! Timeouts on connect and on each request; no redirects (an OAuth or API endpoint that
//! redirects is a misconfiguration, and following it could carry a token elsewhere).
//! Connection errors, resets, 5xx and 429 are retried with capped exponential backoff and full
//! jitter, honouring `Retry-After` (seconds, decimals, or an HTTP date) up to a cap; a provider
//! can also ask for a retry after reading a 200 (Jobber's THROTTLED). Every retry spends from a
//! per-run budget, so a sick provider ends the run instead of stretching it past the next cron
//! tick. Bodies are never logged: they carry tokens.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

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
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        let hint = match &e {
            HttpError::GaveUp { .. } => {
                "the provider or the network is having trouble; run again later (progress so far is kept)"
            }
            HttpError::BudgetSpent { .. } => "too many failures in one run; run again later (progress so far is kept)",
        };
        Error::failure(e.to_string()).hint(hint)
    }
}

/// The client plus the retry policy, budget and counters of one run.
#[derive(Debug)]
pub struct Http {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    budget: AtomicU32,
    stats: Mutex<Stats>,
}

impl Http {
    pub fn new(client: reqwest::Client, policy: RetryPolicy, retry_budget: u32) -> Http {
        Http { client, policy, budget: AtomicU32::new(retry_budget), stats: Mutex::new(Stats::default()) }
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
        let mut attempt = 0u32;
        let mut throttles = 0u32;
        loop {
            if let Ok(mut s) = self.stats.lock() {
                s.requests += 1;
            }
            let started = Instant::now();
            let outcome = match make().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(body) => Ok(Response { status, headers, body }),
                        Err(e) => Err(describe(&e)),
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
                if attempt >= self.policy.max_attempts {
                    return Err(HttpError::GaveUp { what: what.into(), detail, attempts: attempt });
                }
                if !self.spend() {
                    return Err(HttpError::BudgetSpent { what: what.into(), detail });
                }
            }
            let wait = wait.map(|w| w.min(self.policy.retry_after_cap)).unwrap_or_else(|| self.policy.backoff(attempt));
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
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let http_date = |v: &str| jiff::fmt::rfc2822::parse(v.trim()).ok().map(|z| z.timestamp());
    let when = http_date(v)?;
    let sent = http_date(headers.get(reqwest::header::DATE)?.to_str().ok()?)?;
    let secs = (when.as_second() - sent.as_second()).max(0) as u64;
    Some(Duration::from_secs(secs))
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
        h.insert(RETRY_AFTER, HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT"));
        h.insert(reqwest::header::DATE, HeaderValue::from_static("Wed, 21 Oct 2015 07:27:30 GMT"));
        assert!(retry_after(&h).is_some_and(|d| d <= Duration::from_secs(15 * 60)));
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
}
