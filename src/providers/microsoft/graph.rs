//! Microsoft Graph calendars the way Graph wants them read: `GET /me/calendars` and the
//! per-calendar `calendarView/delta`, each followed by `@odata.nextLink` until the round ends
//! in an `@odata.deltaLink`.
//!
//! Every request prefers immutable ids (`IdType="ImmutableId"`: without it an event's id
//! changes when it moves), a page size (`odata.maxpagesize`), and plain-text bodies. Delta
//! requests carry no `$select`/`$filter`/`$orderby`/`$top`: change tracking refuses them. The
//! links Graph hands out are followed verbatim (the window and options live in the tokens),
//! but only on the API's own origin, since they receive the bearer token.
//!
//! Answers are classified for the sync engine: a 410, or any 4xx whose code is
//! `syncStateNotFound`/`resyncRequired` in any casing, means "start the delta again"; 404
//! means the calendar is gone; 429 (and a 503 with `Retry-After`) waits the decimal seconds
//! Graph asks for.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::http::{Http, Response, Verdict, retry_after};
use crate::providers::api::{ApiError, Raw, error_message};

/// Items per page asked with `Prefer: odata.maxpagesize` (Graph documents no maximum).
pub const PAGE_SIZE: u32 = 100;
/// Outlook throttles an app with more than 4 concurrent requests per mailbox.
pub const MAX_IN_FLIGHT: usize = 4;

/// A calendar as `GET /me/calendars` lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    pub id: String,
    pub name: Option<String>,
    pub is_default_calendar: Option<bool>,
    pub can_edit: Option<bool>,
    pub can_share: Option<bool>,
}

impl Calendar {
    /// Graph has no access role; its permissions read as Google's words.
    pub fn access_role(&self) -> &'static str {
        match (self.can_share, self.can_edit) {
            (Some(true), _) => "owner",
            (_, Some(true)) => "writer",
            _ => "reader",
        }
    }
}

/// `{dateTime, timeZone}`: a civil time without offset and the zone to read it in.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateTimeTz {
    pub date_time: String,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    pub content_type: Option<String>,
    pub content: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailAddress {
    pub address: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: Option<EmailAddress>,
}

/// The fields of a Graph event integ keeps in columns (the whole JSON is kept too).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    /// `singleInstance`, `occurrence`, `exception` (delta sends no series masters).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub body_preview: Option<String>,
    pub body: Option<Body>,
    pub location: Option<Location>,
    pub is_all_day: Option<bool>,
    pub is_cancelled: Option<bool>,
    pub show_as: Option<String>,
    pub start: Option<DateTimeTz>,
    pub end: Option<DateTimeTz>,
    pub original_start: Option<String>,
    pub original_start_time_zone: Option<String>,
    pub series_master_id: Option<String>,
    pub organizer: Option<Recipient>,
    pub attendees: Option<Vec<Value>>,
    pub last_modified_date_time: Option<String>,
}

impl Event {
    /// The description as text: the body (plain text when Graph honoured the preference,
    /// otherwise HTML reduced to text), else the preview.
    pub fn description(&self) -> Option<String> {
        let from_body = self.body.as_ref().and_then(|b| {
            let content = b.content.as_deref()?;
            Some(match b.content_type.as_deref() {
                Some(t) if t.eq_ignore_ascii_case("html") => html_to_text(content),
                _ => content.to_string(),
            })
        });
        from_body.or_else(|| self.body_preview.clone()).filter(|s| !s.trim().is_empty())
    }

    pub fn organizer_address(&self) -> Option<&str> {
        self.organizer.as_ref()?.email_address.as_ref()?.address.as_deref()
    }
}

/// One item of a delta page.
#[derive(Debug, Clone)]
pub enum Item {
    /// An event in the window, in full.
    Event(Box<Raw<Event>>),
    /// Deleted, or changed outside the window (ids never seen included).
    Removed(String),
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

/// What a delta request came back with.
#[derive(Debug, Clone)]
pub enum Delta {
    Page(Page),
    /// The delta (or skip) token is dead: run a new initial round.
    Resync(String),
    /// The calendar no longer exists.
    Gone,
}

/// Calendars of one page and the link to the next.
#[derive(Debug, Clone, Default)]
pub struct CalendarPage {
    pub calendars: Vec<Raw<Calendar>>,
    pub next_link: Option<String>,
}

/// One mailbox's Graph API.
pub struct Graph<'a> {
    http: &'a Http,
    base: String,
    page_size: u32,
}

impl<'a> Graph<'a> {
    pub fn new(http: &'a Http, api_url: &str) -> Graph<'a> {
        Graph { http, base: api_url.trim_end_matches('/').to_string(), page_size: PAGE_SIZE }
    }

    pub fn http(&self) -> &'a Http {
        self.http
    }

    /// The first page of the calendar list.
    pub fn calendars_url(&self) -> String {
        format!("{}/me/calendars", self.base)
    }

    /// The first request of an initial delta round over `[start, end)` (RFC 3339 instants).
    pub fn delta_url(&self, calendar_id: &str, start: &str, end: &str) -> Result<String, ApiError> {
        let mut url = url::Url::parse(&self.base).map_err(|e| ApiError::Malformed(format!("API URL: {e}")))?;
        url.path_segments_mut().map_err(|_| ApiError::Malformed("the API URL cannot take a path".into()))?.extend([
            "me",
            "calendars",
            calendar_id,
            "calendarView",
            "delta",
        ]);
        url.query_pairs_mut().append_pair("startDateTime", start).append_pair("endDateTime", end);
        Ok(url.to_string())
    }

    /// Links from Graph get the bearer token: only follow those on the API's own origin.
    fn check_origin(&self, link: &str) -> Result<(), ApiError> {
        let origin = |s: &str| url::Url::parse(s).ok().map(|u| u.origin());
        match (origin(link), origin(&self.base)) {
            (Some(a), Some(b)) if a == b => Ok(()),
            _ => Err(ApiError::Malformed("Graph sent a paging link to another host; not following it".into())),
        }
    }

    async fn get(&self, token: &SecretString, what: &str, url: &str) -> Result<Response, ApiError> {
        self.check_origin(url)?;
        let page = format!("odata.maxpagesize={}", self.page_size);
        let resp = self
            .http
            .execute(
                what,
                || {
                    self.http
                        .authorized(reqwest::Method::GET, url, token)
                        .header("Prefer", "IdType=\"ImmutableId\"")
                        .header("Prefer", &page)
                        .header("Prefer", "outlook.body-content-type=\"text\"")
                },
                |r| judge(r, &self.http.policy),
            )
            .await?;
        if resp.status == 401 {
            return Err(ApiError::Unauthorized);
        }
        Ok(resp)
    }

    /// One page of the calendar list (`url`: the first page or a `nextLink`).
    pub async fn calendars_page(&self, token: &SecretString, url: &str) -> Result<CalendarPage, ApiError> {
        let resp = self.get(token, "Graph calendar list", url).await?;
        let body = success(&resp)?;
        let mut page = CalendarPage { next_link: link(&body, "@odata.nextLink"), ..Default::default() };
        for raw in values(&body)? {
            page.calendars.push(Raw::parse(raw.clone(), "a calendar")?);
        }
        Ok(page)
    }

    /// One page of a delta round (`url`: the initial request, a `nextLink` or a `deltaLink`).
    pub async fn delta_page(&self, token: &SecretString, url: &str) -> Result<Delta, ApiError> {
        let resp = self.get(token, "Graph calendarView delta", url).await?;
        if let Some(why) = resync_signal(&resp) {
            return Ok(Delta::Resync(why));
        }
        if resp.status == 404 {
            return Ok(Delta::Gone);
        }
        let body = success(&resp)?;
        parse_delta_page(&body).map(Delta::Page)
    }
}

/// A calendarView delta page's body (pure, so it can be tested on any input).
pub fn parse_delta_page(body: &Value) -> Result<Page, ApiError> {
    let mut page = Page {
        items: Vec::new(),
        next_link: link(body, "@odata.nextLink"),
        delta_link: link(body, "@odata.deltaLink"),
    };
    if page.next_link.is_none() && page.delta_link.is_none() {
        return Err(ApiError::Malformed("a delta page with neither a nextLink nor a deltaLink".into()));
    }
    for raw in values(body)? {
        if raw.get("@removed").is_some() {
            let id = raw
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::Malformed("a removed item without an id".into()))?;
            page.items.push(Item::Removed(id.to_string()));
            continue;
        }
        page.items.push(Item::Event(Box::new(Raw::parse(raw.clone(), "an event")?)));
    }
    Ok(page)
}

/// Throttling and truncated answers are retried inside `Http::execute` (reads and writes).
pub(crate) fn judge(r: &Response, policy: &crate::http::RetryPolicy) -> Verdict {
    match r.status {
        // Any 429 is a throttle (`TooManyRequests`, `ApplicationThrottled`, ...): wait what
        // Graph asks (decimals allowed), or back off.
        429 => Verdict::Throttled(retry_after(&r.headers).unwrap_or_else(|| policy.backoff(3))),
        503 => match retry_after(&r.headers) {
            Some(wait) => Verdict::Throttled(wait),
            None => Verdict::Retry(None),
        },
        // A 200 whose body is cut off or is a proxy's HTML page: transient.
        200 if serde_json::from_slice::<serde::de::IgnoredAny>(&r.body).is_err() => Verdict::Retry(None),
        _ => Verdict::Done,
    }
}

/// A 410, or a 4xx whose error code asks for a new initial round.
fn resync_signal(r: &Response) -> Option<String> {
    if !(400..500).contains(&r.status) {
        return None;
    }
    let body = r.json();
    let codes: Vec<String> = ["/error/code", "/error/innerError/code", "/error/innererror/code"]
        .iter()
        .filter_map(|p| body.as_ref()?.pointer(p)?.as_str().map(str::to_string))
        .collect();
    let named =
        codes.iter().find(|c| c.eq_ignore_ascii_case("syncStateNotFound") || c.eq_ignore_ascii_case("resyncRequired"));
    match (r.status, named) {
        (_, Some(code)) => Some(format!("HTTP {} {code}", r.status)),
        (410, None) => Some("HTTP 410 Gone".into()),
        _ => None,
    }
}

/// The parsed body of a 2xx answer, or the error it carries.
fn success(r: &Response) -> Result<Value, ApiError> {
    let body = r.json();
    if !(200..300).contains(&r.status) {
        let code = body.as_ref().and_then(|b| b.pointer("/error/code")).and_then(Value::as_str).unwrap_or("");
        let message = error_message(body.as_ref());
        let message = if code.is_empty() { message } else { format!("{code}: {message}") };
        if r.status == 403 {
            return Err(ApiError::MissingScope(format!(
                "{message} (integ needs Calendars.Read; run `integ connect microsoft` again to grant it)"
            )));
        }
        return Err(ApiError::Status { status: r.status, message });
    }
    body.ok_or_else(|| ApiError::Malformed(format!("HTTP {} with a body that is not JSON", r.status)))
}

fn values(body: &Value) -> Result<&Vec<Value>, ApiError> {
    body.get("value").and_then(Value::as_array).ok_or_else(|| ApiError::Malformed("no \"value\" list".into()))
}

fn link(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Outlook's HTML body reduced to its text: the inside of `<body>`, line breaks for `<br>`
/// and block ends, tags dropped, entities decoded, the framing whitespace trimmed.
pub fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let inner = match lower.find("<body") {
        Some(open) => {
            let start = lower[open..].find('>').map_or(html.len(), |i| open + i + 1);
            let end = lower[start..].find("</body").map_or(html.len(), |i| start + i);
            &html[start..end]
        }
        None => html,
    };
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            out.push_str(&rest[lt..]);
            rest = "";
            break;
        };
        let tag = rest[lt + 1..lt + gt].trim().to_ascii_lowercase();
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let closing = tag.starts_with('/');
        if name == "br" || (closing && matches!(name.as_str(), "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3")) {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(rest);
    decode_entities(&out).trim().to_string()
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let semi = after.find(';').filter(|i| *i <= 10);
        let decoded = semi.and_then(|i| {
            let name = &after[1..i];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, i))
        });
        match decoded {
            Some((c, i)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::Duration;

    fn resp(status: u16, body: &str, retry: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(r) = retry {
            headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_str(r).unwrap());
        }
        Response { status, headers, body: bytes::Bytes::from(body.to_string()) }
    }

    #[test]
    fn resync_signals_in_any_casing() {
        let e = |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"x"}}}}"#);
        assert!(resync_signal(&resp(410, &e("SyncStateNotFound"), None)).is_some());
        assert!(resync_signal(&resp(410, "", None)).is_some());
        assert!(resync_signal(&resp(400, &e("resyncRequired"), None)).is_some());
        assert!(resync_signal(&resp(400, &e("RESYNCREQUIRED"), None)).is_some());
        assert!(resync_signal(&resp(404, &e("syncStateNotFound"), None)).is_some());
        assert!(resync_signal(&resp(400, &e("BadRequest"), None)).is_none());
        assert!(resync_signal(&resp(200, &e("syncStateNotFound"), None)).is_none());
        let inner = r#"{"error":{"code":"BadRequest","innerError":{"code":"syncStateNotFound"}}}"#;
        assert!(resync_signal(&resp(400, inner, None)).is_some());
    }

    #[test]
    fn throttles_wait_what_graph_asks() {
        let p = crate::http::RetryPolicy::default();
        match judge(&resp(429, "{}", Some("2.128")), &p) {
            Verdict::Throttled(d) => assert_eq!(d, Duration::from_millis(2128)),
            v => panic!("{v:?}"),
        }
        assert!(matches!(judge(&resp(503, "{}", Some("1.5")), &p), Verdict::Throttled(_)));
        assert!(matches!(judge(&resp(503, "{}", None), &p), Verdict::Retry(None)));
        assert!(matches!(judge(&resp(200, "{\"value\":[", None), &p), Verdict::Retry(None)));
        assert!(matches!(judge(&resp(200, "{\"value\":[]}", None), &p), Verdict::Done));
    }

    #[test]
    fn html_bodies_become_text() {
        let html = "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\nBring &lt;tools&gt; &amp; &quot;gloves&quot; &#39;now&#39;\r\n</body>\r\n</html>\r\n";
        assert_eq!(html_to_text(html), "Bring <tools> & \"gloves\" 'now'");
        assert_eq!(html_to_text("<div>one</div><div>two<br>three</div>"), "one\ntwo\nthree");
        assert_eq!(html_to_text("a &unknown; b & c &#x41;"), "a &unknown; b & c A");
        assert_eq!(html_to_text(""), "");
    }

    #[test]
    fn access_roles() {
        let c = |share, edit| Calendar {
            id: "x".into(),
            name: None,
            is_default_calendar: None,
            can_edit: Some(edit),
            can_share: Some(share),
        };
        assert_eq!(c(true, true).access_role(), "owner");
        assert_eq!(c(false, true).access_role(), "writer");
        assert_eq!(c(false, false).access_role(), "reader");
    }
}
