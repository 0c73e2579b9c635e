//! Google Calendar API v3: `calendarList.list` and `events.list`, the way the sync guide wants
//! them (docs: developers.google.com/workspace/calendar/api/guides/sync).
//!
//! Google's rate limits come as 403 or 429 `rateLimitExceeded` without `Retry-After`, so the
//! judge turns them into capped exponential backoff with jitter; 5xx (`backendError`) is retried
//! by [`Http`] itself. A 410 on `events.list` (with or without a `reason`) and a 404 on a
//! calendar are answers the sync engine acts on, not errors, so they come back as
//! [`EventsOutcome`] variants. Response bodies are parsed, never logged.

use std::cell::Cell;

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::http::{Http, Response, Verdict, retry_after};
use crate::providers::api::{ApiError, Raw, error_message};

/// `calendarList.list` allows at most 250 per page.
pub const CALENDARS_PAGE: u32 = 250;
/// `events.list` allows at most 2500 per page; fewer, bigger pages mean fewer requests.
pub const EVENTS_PAGE: u32 = 2500;

/// One entry of the user's calendar list.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarEntry {
    pub id: String,
    pub summary: Option<String>,
    pub summary_override: Option<String>,
    pub time_zone: Option<String>,
    #[serde(default)]
    pub primary: bool,
    pub access_role: Option<String>,
}

/// A page of the calendar list.
#[derive(Debug)]
pub struct CalendarPage {
    pub items: Vec<Raw<CalendarEntry>>,
    pub next_page_token: Option<String>,
}

/// What one `events.list` request asks for. Full rounds carry the window, incremental rounds
/// the sync token, never both (Google answers 400 `syncTokenWithRequestRestrictions`).
#[derive(Debug, Clone, Default)]
pub struct EventsQuery {
    pub single_events: bool,
    pub max_results: u32,
    pub time_min: Option<String>,
    pub time_max: Option<String>,
    pub sync_token: Option<String>,
    pub page_token: Option<String>,
}

impl EventsQuery {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p =
            vec![("singleEvents", self.single_events.to_string()), ("maxResults", self.max_results.to_string())];
        match &self.sync_token {
            Some(t) => p.push(("syncToken", t.clone())),
            None => {
                if let Some(t) = &self.time_min {
                    p.push(("timeMin", t.clone()));
                }
                if let Some(t) = &self.time_max {
                    p.push(("timeMax", t.clone()));
                }
            }
        }
        if let Some(t) = &self.page_token {
            p.push(("pageToken", t.clone()));
        }
        p
    }
}

/// A page of events. Only the last page of a round has `next_sync_token`.
#[derive(Debug)]
pub struct EventsPage {
    pub items: Vec<Raw<Event>>,
    /// The calendar's time zone (all-day dates are read in it).
    pub time_zone: Option<String>,
    pub next_page_token: Option<String>,
    pub next_sync_token: Option<String>,
}

/// How an `events.list` request ended, when the answer is one the sync engine acts on.
#[derive(Debug)]
pub enum EventsOutcome {
    Page(EventsPage),
    /// 410: the sync token (or the round it began) is no longer valid; a full sync is needed.
    FullSyncRequired,
    /// 404: the calendar is gone or no longer shared with the user.
    NotFound,
}

/// `start`, `end` or `originalStartTime` of an event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTime {
    pub date_time: Option<String>,
    pub date: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Organizer {
    pub email: Option<String>,
}

/// The fields of an event integ stores in columns (the rest stays in the raw JSON). A
/// cancelled event is only guaranteed to have `id`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub status: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    pub recurring_event_id: Option<String>,
    pub original_start_time: Option<EventTime>,
    pub organizer: Option<Organizer>,
    pub attendees: Option<Vec<IgnoredAny>>,
    pub updated: Option<String>,
}

impl Event {
    pub fn is_cancelled(&self) -> bool {
        self.status.as_deref() == Some("cancelled")
    }
}

/// Percent-encode a calendar id for a path segment (ids hold `@` and `#`).
pub fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len() * 3);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `reason` of Google's error envelope.
fn reason(body: &Value) -> Option<&str> {
    body.pointer("/error/errors/0/reason").and_then(Value::as_str)
}

/// Google's rate limits, for reads and writes alike: 429, or 403 `rateLimitExceeded`,
/// `userRateLimitExceeded` or `quotaExceeded`, come without `Retry-After`, so they wait a capped
/// exponential backoff with jitter (`throttles` counts them within one request); 5xx is left to
/// [`Http`]'s own policy.
pub(crate) fn judge(r: &Response, throttles: &Cell<u32>, policy: &crate::http::RetryPolicy) -> Verdict {
    let limited = match r.status {
        429 => true,
        403 => r
            .json()
            .as_ref()
            .and_then(reason)
            .is_some_and(|x| matches!(x, "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded")),
        _ => false,
    };
    if !limited {
        return Verdict::Done;
    }
    let n = throttles.get();
    throttles.set(n + 1);
    // Google sends no Retry-After; a proxy in between might.
    let wait = retry_after(&r.headers).unwrap_or_else(|| policy.backoff(n));
    Verdict::Throttled(wait.min(policy.retry_after_cap))
}

/// Google Calendar under one API base URL.
pub struct CalendarApi<'a> {
    http: &'a Http,
    base: String,
}

impl<'a> CalendarApi<'a> {
    /// `api_url` is the OAuth app's (`https://www.googleapis.com`, or the fake's).
    pub fn new(http: &'a Http, api_url: &str) -> CalendarApi<'a> {
        CalendarApi { http, base: format!("{}/calendar/v3", api_url.trim_end_matches('/')) }
    }

    /// GET with retries: 403/429 rate limits back off exponentially (no `Retry-After` comes),
    /// a 2xx whose body is not JSON (a cut-off answer, a proxy's page) is tried again.
    async fn get(
        &self,
        what: &str,
        url: &str,
        params: &[(&'static str, String)],
        token: &SecretString,
    ) -> Result<Response, ApiError> {
        let throttles = Cell::new(0u32);
        let judge = |r: &Response| -> Verdict {
            match judge(r, &throttles, &self.http.policy) {
                // A 2xx whose body is not JSON (a cut-off answer, a proxy's page): transient.
                Verdict::Done
                    if (200..300).contains(&r.status) && serde_json::from_slice::<IgnoredAny>(&r.body).is_err() =>
                {
                    Verdict::Retry(None)
                }
                v => v,
            }
        };
        let resp = self
            .http
            .execute(what, || self.http.authorized(reqwest::Method::GET, url, token).query(params), judge)
            .await?;
        if resp.status == 401 {
            return Err(ApiError::Unauthorized);
        }
        Ok(resp)
    }

    fn failed(resp: &Response) -> ApiError {
        let body = resp.json();
        if resp.status == 403 && body.as_ref().and_then(reason) == Some("insufficientPermissions") {
            return ApiError::MissingScope(
                "the token lacks the Google Calendar read scope (calendar.readonly); connect the account again \
                 and leave the calendar box ticked"
                    .into(),
            );
        }
        ApiError::Status { status: resp.status, message: error_message(body.as_ref()) }
    }

    /// One page of the user's calendar list.
    pub async fn calendar_list(
        &self,
        token: &SecretString,
        page_token: Option<&str>,
    ) -> Result<CalendarPage, ApiError> {
        let url = format!("{}/users/me/calendarList", self.base);
        let mut params = vec![("maxResults", CALENDARS_PAGE.to_string())];
        if let Some(t) = page_token {
            params.push(("pageToken", t.to_string()));
        }
        let resp = self.get("Google calendar list", &url, &params, token).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        let body = resp.json().ok_or_else(|| ApiError::Malformed("the calendar list is not JSON".into()))?;
        let items = match body.get("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                a.iter().map(|v| Raw::parse(v.clone(), "a calendar list entry")).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(ApiError::Malformed("calendar list items are not a list".into())),
        };
        let next_page_token = body.get("nextPageToken").and_then(Value::as_str).map(str::to_string);
        Ok(CalendarPage { items, next_page_token })
    }

    /// One page of a calendar's events.
    pub async fn events(
        &self,
        token: &SecretString,
        calendar_id: &str,
        q: &EventsQuery,
    ) -> Result<EventsOutcome, ApiError> {
        let url = format!("{}/calendars/{}/events", self.base, path_segment(calendar_id));
        let resp = self.get("Google Calendar events", &url, &q.params(), token).await?;
        match resp.status {
            200..=299 => {}
            // Key on the status: some 410s come without a reason.
            410 => return Ok(EventsOutcome::FullSyncRequired),
            404 => return Ok(EventsOutcome::NotFound),
            _ => return Err(Self::failed(&resp)),
        }
        let mut body: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| ApiError::Malformed(format!("an events page is not JSON: {e}")))?;
        let items = match body.get_mut("items").map(Value::take) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.into_iter().map(|v| Raw::parse(v, "an event")).collect::<Result<_, _>>()?,
            Some(_) => return Err(ApiError::Malformed("events page items are not a list".into())),
        };
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let page = EventsPage {
            items,
            time_zone: text("timeZone"),
            next_page_token: text("nextPageToken"),
            next_sync_token: text("nextSyncToken"),
        };
        if page.next_page_token.is_none() && page.next_sync_token.is_none() {
            return Err(ApiError::Malformed("an events page has neither nextPageToken nor nextSyncToken".into()));
        }
        Ok(EventsOutcome::Page(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_ids_are_encoded_for_the_path() {
        assert_eq!(
            path_segment("en.usa#holiday@group.v.calendar.google.com"),
            "en.usa%23holiday%40group.v.calendar.google.com"
        );
        assert_eq!(path_segment("a b/c?"), "a%20b%2Fc%3F");
    }

    #[test]
    fn incremental_queries_never_carry_the_window() {
        let q = EventsQuery {
            single_events: true,
            max_results: 2500,
            time_min: Some("2026-01-01T00:00:00Z".into()),
            time_max: Some("2027-01-01T00:00:00Z".into()),
            sync_token: Some("tok".into()),
            page_token: Some("p2".into()),
        };
        let names: Vec<&str> = q.params().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["singleEvents", "maxResults", "syncToken", "pageToken"]);
        let full = EventsQuery { sync_token: None, page_token: None, ..q };
        let names: Vec<&str> = full.params().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["singleEvents", "maxResults", "timeMin", "timeMax"]);
    }

    #[test]
    fn events_read_from_json() {
        let v = serde_json::json!({"id": "x", "status": "cancelled", "recurringEventId": "m",
            "originalStartTime": {"dateTime": "2026-03-08T09:00:00-06:00", "timeZone": "America/Denver"},
            "attendees": [{"email": "a"}, {"email": "b"}], "extra": 1});
        let e = Raw::<Event>::parse(v, "an event").unwrap().value;
        assert!(e.is_cancelled());
        assert_eq!(e.attendees.map(|a| a.len()), Some(2));
        assert_eq!(e.original_start_time.unwrap().time_zone.as_deref(), Some("America/Denver"));
        assert!(Raw::<Event>::parse(serde_json::json!({"status": "confirmed"}), "an event").is_err());
    }
}
