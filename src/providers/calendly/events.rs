//! Calendly's scheduled events the way Calendly serves them: `GET /users/me` for the one
//! pseudo-calendar, and `GET /scheduled_events` for a user's bookings in a `start_time` window,
//! both statuses, 100 a page, oldest first, following `next_page_token`.
//!
//! Rate limits are per user (500 or 50 a minute) and every answer says how many requests are
//! left (`X-RateLimit-Remaining`) and when the minute resets (`X-RateLimit-Reset`, seconds).
//! A 429 waits that long (or `Retry-After`, if Calendly ever sends it); an answer that says
//! nothing is left pauses before the next request instead of provoking the 429.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::http::{Http, Response, Verdict};
use crate::providers::api::{ApiError, error_message};

/// Events per page: Calendly's maximum (`count` 1-100).
pub const PAGE_SIZE: u32 = 100;

/// The fields of a scheduled event integ reads; the whole JSON is kept as well.
#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledEvent {
    pub uri: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub start_time: String,
    pub end_time: String,
    pub location: Option<Value>,
    pub invitees_counter: Option<InviteesCounter>,
    pub updated_at: Option<String>,
    pub event_memberships: Option<Vec<Membership>>,
    pub meeting_notes_plain: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InviteesCounter {
    pub total: Option<i64>,
}

/// A host of the event.
#[derive(Debug, Clone, Deserialize)]
pub struct Membership {
    pub user: Option<String>,
    pub user_email: Option<String>,
}

/// One scheduled event: the parsed fields and the JSON it came from.
#[derive(Debug, Clone)]
pub struct Event {
    pub event: ScheduledEvent,
    pub raw: Value,
}

/// Where the next page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// `pagination.next_page_token`, sent back as `page_token` with the same query.
    Token(String),
    /// `pagination.next_page` when no token came (a full URL on the API's own host).
    Url(String),
}

/// One page of `/scheduled_events`.
#[derive(Debug)]
pub struct Page {
    pub events: Vec<Event>,
    pub next: Option<Next>,
}

/// Which events to list: the user's, starting in `[min_start, max_start)`.
#[derive(Debug, Clone)]
pub struct Window {
    pub user: String,
    pub min_start: String,
    pub max_start: String,
}

/// One Calendly account's API.
pub struct CalendlyApi<'a> {
    http: &'a Http,
    base: String,
    /// No request before this: the last answer said the minute's budget was spent.
    pause_until: Mutex<Option<Instant>>,
}

/// The wait a 429 asks for: `Retry-After` if present, else `X-RateLimit-Reset` seconds.
pub fn throttle_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(d) = crate::http::retry_after(headers) {
        return Some(d);
    }
    header_secs(headers, "x-ratelimit-reset").and_then(|s| crate::http::bounded_secs(s, crate::http::MAX_WAIT))
}

fn header_secs(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    let v = headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

impl<'a> CalendlyApi<'a> {
    /// The HTTP layer it goes through (for its statistics).
    pub fn http(&self) -> &'a Http {
        self.http
    }

    pub fn new(http: &'a Http, api_url: &str) -> CalendlyApi<'a> {
        CalendlyApi { http, base: api_url.trim_end_matches('/').to_string(), pause_until: Mutex::new(None) }
    }

    fn judge(&self, r: &Response) -> Verdict {
        if r.status == 429 {
            // At least a second: a reset of 0 seconds retried at once would spin.
            let wait = throttle_wait(&r.headers).unwrap_or(Duration::from_secs(1)).max(Duration::from_secs(1));
            tracing::warn!("Calendly rate limit reached; waiting {} s", wait.as_secs_f64());
            return Verdict::Throttled(wait);
        }
        if (200..300).contains(&r.status) {
            if header_secs(&r.headers, "x-ratelimit-remaining") == Some(0.0)
                && let Some(reset) = header_secs(&r.headers, "x-ratelimit-reset")
                && let Ok(mut p) = self.pause_until.lock()
            {
                // Calendly's windows are a minute long; a reset past the wait cap is not believed
                // further than the cap (and the run's deadline cuts it shorter).
                let wait = crate::http::bounded_secs(reset.max(1.0), crate::http::MAX_WAIT).unwrap_or(Duration::ZERO);
                *p = Instant::now().checked_add(wait);
            }
            if r.json().is_none() {
                // A cut-off or HTML answer with a 2xx: transient.
                return Verdict::Retry(None);
            }
        }
        Verdict::Done
    }

    /// Wait out a spent rate-limit minute before asking again (never past the run's deadline).
    async fn pace(&self, what: &str) -> Result<(), ApiError> {
        let until = self.pause_until.lock().ok().and_then(|mut p| p.take());
        if let Some(until) = until {
            let wait = until.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                tracing::info!("Calendly's rate limit is spent for this minute; waiting {} s", wait.as_secs_f64());
                self.http.pace(what, wait).await?;
            }
        }
        Ok(())
    }

    /// GET a URL (with query pairs) and return the JSON of a 2xx answer. `scope` names what a
    /// 403 means.
    async fn get(
        &self,
        what: &str,
        url: &str,
        query: &[(&str, &str)],
        token: &SecretString,
        scope: &str,
    ) -> Result<Value, ApiError> {
        self.pace(what).await?;
        let resp = self
            .http
            .execute(what, || self.http.authorized(reqwest::Method::GET, url, token).query(query), |r| self.judge(r))
            .await?;
        let body = resp.json();
        match resp.status {
            200..=299 => body.ok_or_else(|| ApiError::Malformed(format!("{what}: the answer is not JSON"))),
            401 => Err(ApiError::Unauthorized),
            403 => Err(ApiError::MissingScope(format!(
                "Calendly refused it (HTTP 403: {}); integ needs the {scope} scope: run `integ connect calendly` \
                 again and approve it (or create a personal access token that has {scope})",
                error_message(body.as_ref())
            ))),
            status => Err(ApiError::Status { status, message: detailed_message(body.as_ref()) }),
        }
    }

    /// The connected user (`GET /users/me` → `resource`).
    pub async fn me(&self, token: &SecretString) -> Result<Value, ApiError> {
        let url = format!("{}/users/me", self.base);
        let body = self.get("Calendly /users/me", &url, &[], token, "users:read").await?;
        body.get("resource")
            .filter(|r| r.get("uri").and_then(Value::as_str).is_some())
            .cloned()
            .ok_or_else(|| ApiError::Malformed("/users/me has no resource with a uri".into()))
    }

    /// One page of the user's scheduled events in the window, both statuses, oldest first:
    /// the first page, or the one `next` points at.
    pub async fn events_page(&self, token: &SecretString, w: &Window, next: Option<&Next>) -> Result<Page, ApiError> {
        let what = "Calendly scheduled events page";
        let scope = "scheduled_events:read";
        let count = PAGE_SIZE.to_string();
        let list_url = format!("{}/scheduled_events", self.base);
        let mut query = vec![
            ("user", w.user.as_str()),
            ("min_start_time", w.min_start.as_str()),
            ("max_start_time", w.max_start.as_str()),
            ("count", count.as_str()),
            ("sort", "start_time:asc"),
        ];
        let body = match next {
            None => self.get(what, &list_url, &query, token, scope).await?,
            Some(Next::Token(t)) => {
                query.push(("page_token", t.as_str()));
                self.get(what, &list_url, &query, token, scope).await?
            }
            Some(Next::Url(u)) => {
                // The token goes only to Calendly's own API.
                if !u.starts_with(&format!("{}/", self.base)) {
                    return Err(ApiError::Malformed(format!("{what}: next_page points outside {}", self.base)));
                }
                self.get(what, u, &[], token, scope).await?
            }
        };
        parse_page(&body)
    }
}

/// `message` plus the `details[]` Calendly adds to a 400.
fn detailed_message(body: Option<&Value>) -> String {
    let mut msg = error_message(body);
    if let Some(details) = body.and_then(|b| b.get("details")).and_then(Value::as_array) {
        let parts: Vec<String> = details
            .iter()
            .map(|d| {
                let p = d.get("parameter").and_then(Value::as_str).unwrap_or("?");
                let m = d.get("message").and_then(Value::as_str).unwrap_or("");
                format!("{p} {m}")
            })
            .collect();
        if !parts.is_empty() {
            msg = format!("{msg} ({})", parts.join("; "));
        }
    }
    msg
}

/// Read a `/scheduled_events` answer; any event without its key fields fails the whole page.
pub fn parse_page(body: &Value) -> Result<Page, ApiError> {
    let items = body
        .get("collection")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::Malformed("the scheduled events page has no collection".into()))?;
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        let event = ScheduledEvent::deserialize(item)
            .map_err(|e| ApiError::Malformed(format!("a scheduled event could not be read: {e}")))?;
        events.push(Event { event, raw: item.clone() });
    }
    let pagination = body.get("pagination");
    let text = |k: &str| {
        pagination.and_then(|p| p.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
    };
    let next = text("next_page_token").map(Next::Token).or_else(|| text("next_page").map(Next::Url));
    Ok(Page { events, next })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    #[test]
    fn a_page_reads_events_and_the_next_token() {
        let body = json!({
            "collection": [{ "uri": "https://api.calendly.com/scheduled_events/A", "name": "Estimate call",
                "status": "canceled", "start_time": "2026-03-04T15:00:00.000000Z",
                "end_time": "2026-03-04T15:30:00.000000Z", "location": { "type": "outbound_call" },
                "invitees_counter": { "total": 1, "active": 0, "limit": 1 },
                "updated_at": "2026-02-20T10:00:00.000000Z",
                "event_memberships": [{ "user": "https://api.calendly.com/users/U", "user_email": "a@b.example" }],
                "cancellation": { "canceled_by": "Dana" } }],
            "pagination": { "count": 1, "next_page": "https://api.calendly.com/scheduled_events?page_token=x",
                            "next_page_token": "x" } });
        let page = parse_page(&body).unwrap();
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.events[0].event.invitees_counter.as_ref().unwrap().total, Some(1));
        assert_eq!(page.events[0].raw["cancellation"]["canceled_by"], "Dana");
        assert_eq!(page.next, Some(Next::Token("x".into())));
        let last = json!({ "collection": [], "pagination": { "next_page": null, "next_page_token": null } });
        assert_eq!(parse_page(&last).unwrap().next, None);
        let url_only = json!({ "collection": [], "pagination": { "next_page": "https://h/scheduled_events?p=1" } });
        assert_eq!(parse_page(&url_only).unwrap().next, Some(Next::Url("https://h/scheduled_events?p=1".into())));
    }

    #[test]
    fn a_page_with_a_broken_event_fails_whole() {
        let body = json!({ "collection": [{ "uri": "u", "start_time": "2026-03-04T15:00:00Z" }], "pagination": {} });
        assert!(matches!(parse_page(&body), Err(ApiError::Malformed(_))));
        assert!(matches!(parse_page(&json!({ "data": [] })), Err(ApiError::Malformed(_))));
    }

    #[test]
    fn throttling_waits_for_the_reset() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("37"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_secs(37)));
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2.5"));
        assert_eq!(throttle_wait(&h), Some(Duration::from_millis(2500)));
        assert_eq!(throttle_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn absurd_resets_are_capped_not_panics() {
        let mut h = HeaderMap::new();
        for v in ["1e300", "18446744073709551616", "1.7976931348623157e308"] {
            h.insert("x-ratelimit-reset", HeaderValue::from_str(v).unwrap());
            assert_eq!(throttle_wait(&h), Some(crate::http::MAX_WAIT), "{v}");
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

            #[test]
            fn rate_limit_headers_never_panic(reset in "[ -~]{0,30}", f in any::<f64>(), retry in "[ -~]{0,30}") {
                let mut h = HeaderMap::new();
                for (name, v) in [("x-ratelimit-reset", reset.clone()), ("x-ratelimit-remaining", f.to_string()),
                                  ("retry-after", retry.clone())] {
                    if let Ok(v) = HeaderValue::from_str(&v) {
                        h.insert(name, v);
                    }
                }
                if let Some(d) = throttle_wait(&h) {
                    prop_assert!(d <= crate::http::MAX_WAIT);
                }
                h.insert("x-ratelimit-reset", HeaderValue::from_str(&f.to_string()).unwrap());
                if let Some(d) = throttle_wait(&h) {
                    prop_assert!(d <= crate::http::MAX_WAIT);
                }
            }

            #[test]
            fn pages_never_panic(token in proptest::option::of("[ -~]{0,20}"), url in proptest::option::of("[ -~]{0,40}"),
                                 n in 0usize..3, junk in any::<i64>()) {
                let items: Vec<Value> = (0..n).map(|i| json!({"uri": format!("u{i}"), "start_time": junk,
                    "end_time": "2026-03-04T15:30:00Z", "status": junk})).collect();
                let body = json!({"collection": items, "pagination": {"next_page_token": token, "next_page": url}});
                let _ = parse_page(&body);
            }
        }
    }
}
