//! Microsoft Graph writes for `integ push`: create (with a `transactionId` and integ's
//! single-value extended property), find by that property, `PATCH`, `DELETE`,
//! `POST /me/calendars`, and `getSchedule` for `integ availability`
//! (docs: learn.microsoft.com/en-us/graph/api/user-post-events, extended-properties-overview).
//!
//! Graph has no client-chosen ids. A create retried after a lost answer carries the same
//! `transactionId` (Graph answers 201 without a second event, observed); after a crash the
//! caller looks the event up by the extended property before creating one. Every request asks
//! for immutable ids, so the id stored stays the id `calendarView/delta` reports.

use secrecy::SecretString;
use serde_json::{Value, json};

use crate::http::{Http, Response};
use crate::providers::api::{ApiError, error_message};
use crate::providers::push::{EventWrite, When};

/// Integ's extended property: one GUID and one name, forever (a named MAPI property; the
/// mailbox's space of them is finite).
pub const PROPERTY_ID: &str = "String {7f3b2a64-1c9e-4d35-8b0a-5e2f6c1d9a47} Name integKey";

/// How a patch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patched {
    Done,
    /// 404: deleted in the calendar.
    Gone,
}

pub struct Writer<'a> {
    http: &'a Http,
    base: String,
    /// Send each request once (see [`Http::execute_once`]): for the creates.
    once: bool,
}

fn time(w: &When, end: bool) -> Value {
    match w {
        When::Timed { start, end: e } => {
            let t = if end { *e } else { *start };
            json!({ "dateTime": t.strftime("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC" })
        }
        When::AllDay { start, end: e } => {
            json!({ "dateTime": format!("{}T00:00:00", if end { e } else { start }), "timeZone": "UTC" })
        }
    }
}

/// Every field integ owns: no attendees (Graph mails them), busy, no reminder.
pub fn body(e: &EventWrite) -> Value {
    json!({
        "subject": e.title,
        "body": { "contentType": "text", "content": e.description },
        "location": { "displayName": e.location.clone().unwrap_or_default() },
        "start": time(&e.when, false),
        "end": time(&e.when, true),
        "isAllDay": matches!(e.when, When::AllDay { .. }),
        "showAs": "busy",
        "isReminderOn": false,
    })
}

/// Integ's property value on a calendar it created (lower case: Graph compares values ignoring
/// case).
fn calendar_key(name: &str) -> String {
    format!("integ-push-calendar:{}", name.to_lowercase())
}

/// `value` quoted for an OData string literal.
fn literal(s: &str) -> String {
    s.replace('\'', "''")
}

impl<'a> Writer<'a> {
    pub fn new(http: &'a Http, api_url: &str) -> Writer<'a> {
        Writer { http, base: api_url.trim_end_matches('/').to_string(), once: false }
    }

    /// The same writer, sending each request once.
    fn once(&self) -> Writer<'a> {
        Writer { http: self.http, base: self.base.clone(), once: true }
    }

    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        token: &SecretString,
    ) -> Result<Response, ApiError> {
        let policy = &self.http.policy;
        let make = || {
            let req = self
                .http
                .authorized(method.clone(), url, token)
                .query(query)
                .header("Prefer", "IdType=\"ImmutableId\", outlook.timezone=\"UTC\"");
            match body {
                Some(b) => req.json(b),
                None => req,
            }
        };
        let resp = if self.once {
            self.http.execute_once(what, make, |r| super::graph::judge(r, policy)).await?
        } else {
            self.http.execute(what, make, |r| super::graph::judge(r, policy)).await?
        };
        match resp.status {
            401 => Err(ApiError::Unauthorized),
            403 => Err(ApiError::MissingScope(format!(
                "Microsoft refused the write ({}); it needs Calendars.ReadWrite and access to that calendar",
                error_message(resp.json().as_ref())
            ))),
            _ => Ok(resp),
        }
    }

    fn failed(resp: &Response) -> ApiError {
        ApiError::Status { status: resp.status, message: error_message(resp.json().as_ref()) }
    }

    fn id_of(resp: &Response) -> Result<String, ApiError> {
        resp.json()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(String::from))
            .ok_or_else(|| ApiError::Malformed("Graph answered a create without an id".into()))
    }

    /// The event carrying integ's `key`, if any (anywhere in the mailbox).
    pub async fn find(&self, token: &SecretString, key: &str) -> Result<Option<String>, ApiError> {
        let url = format!("{}/me/events", self.base);
        let filter = format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq '{}')",
            literal(PROPERTY_ID),
            literal(key)
        );
        let q = [("$filter", filter), ("$select", "id".to_string()), ("$top", "2".to_string())];
        let resp = self.send("Graph events (by integ's key)", reqwest::Method::GET, &url, &q, None, token).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        let v = resp.json().ok_or_else(|| ApiError::Malformed("an event list is not JSON".into()))?;
        Ok(v.pointer("/value/0/id").and_then(Value::as_str).map(String::from))
    }

    /// Create an event in `cal` with the `transactionId` and integ's property; its id. Sent
    /// once: after a failed try the caller looks the event up before sending it again (a
    /// repeated `transactionId` is deduplicated only by observation, not by documentation).
    pub async fn create(
        &self,
        token: &SecretString,
        cal: &str,
        e: &EventWrite,
        key: &str,
        transaction_id: &str,
    ) -> Result<String, ApiError> {
        let url =
            format!("{}/me/calendars/{}/events", self.base, crate::providers::google::calendar::path_segment(cal));
        let mut b = body(e);
        b["transactionId"] = json!(transaction_id);
        b["singleValueExtendedProperties"] = json!([{ "id": PROPERTY_ID, "value": key }]);
        let resp = self.once().send("Graph create event", reqwest::Method::POST, &url, &[], Some(&b), token).await?;
        match resp.status {
            200..=299 => Self::id_of(&resp),
            404 => Err(ApiError::Status { status: 404, message: "the push calendar is gone".into() }),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// `PATCH` every field integ owns.
    pub async fn patch(&self, token: &SecretString, id: &str, e: &EventWrite) -> Result<Patched, ApiError> {
        let url = format!("{}/me/events/{}", self.base, crate::providers::google::calendar::path_segment(id));
        let resp = self.send("Graph update event", reqwest::Method::PATCH, &url, &[], Some(&body(e)), token).await?;
        match resp.status {
            200..=299 => Ok(Patched::Done),
            404 => Ok(Patched::Gone),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// `DELETE`: 204 and 404 both mean gone.
    pub async fn delete(&self, token: &SecretString, id: &str) -> Result<(), ApiError> {
        let url = format!("{}/me/events/{}", self.base, crate::providers::google::calendar::path_segment(id));
        let resp = self.send("Graph delete event", reqwest::Method::DELETE, &url, &[], None, token).await?;
        match resp.status {
            200..=299 | 404 => Ok(()),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// The calendar an earlier `create_calendar(name)` made, found by integ's property (a
    /// create whose answer was lost made one).
    pub async fn find_calendar(&self, token: &SecretString, name: &str) -> Result<Option<String>, ApiError> {
        let url = format!("{}/me/calendars", self.base);
        let filter = format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq '{}')",
            literal(PROPERTY_ID),
            literal(&calendar_key(name))
        );
        let resp = self
            .send("Graph calendars (by integ's key)", reqwest::Method::GET, &url, &[("$filter", filter)], None, token)
            .await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        let v = resp.json().ok_or_else(|| ApiError::Malformed("a calendar list is not JSON".into()))?;
        Ok(v.pointer("/value/0/id").and_then(Value::as_str).map(String::from))
    }

    /// `POST /me/calendars` with integ's property on it; the new calendar's id. Sent once (not
    /// idempotent): the caller looks with [`Writer::find_calendar`] before trying again.
    pub async fn create_calendar(&self, token: &SecretString, name: &str) -> Result<String, ApiError> {
        let url = format!("{}/me/calendars", self.base);
        let b = json!({ "name": name, "singleValueExtendedProperties": [{ "id": PROPERTY_ID, "value": calendar_key(name) }] });
        let resp = self.once().send("Graph create calendar", reqwest::Method::POST, &url, &[], Some(&b), token).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        Self::id_of(&resp)
    }
}

/// One busy item of `getSchedule`: status (`busy`, `tentative`, `oof`, ...), start and end
/// (UTC, offset-free as Graph sends them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleItem {
    pub status: String,
    pub start: String,
    pub end: String,
}

impl Writer<'_> {
    /// `POST /me/calendar/getSchedule` for one address over `[from, to)` (under 62 days: the
    /// caller splits). A per-schedule error comes back as `Err` with its message.
    pub async fn schedule(
        &self,
        token: &SecretString,
        who: &str,
        from: &str,
        to: &str,
    ) -> Result<Result<Vec<ScheduleItem>, String>, ApiError> {
        let url = format!("{}/me/calendar/getSchedule", self.base);
        let b = json!({ "schedules": [who], "startTime": { "dateTime": from, "timeZone": "UTC" },
                        "endTime": { "dateTime": to, "timeZone": "UTC" }, "availabilityViewInterval": 30 });
        let resp = self.send("Graph getSchedule", reqwest::Method::POST, &url, &[], Some(&b), token).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        let v = resp.json().ok_or_else(|| ApiError::Malformed("a getSchedule answer is not JSON".into()))?;
        let Some(s) = v.pointer("/value/0") else {
            return Err(ApiError::Malformed("getSchedule answered no schedule".into()));
        };
        if let Some(msg) = s.pointer("/error/message").and_then(Value::as_str) {
            return Ok(Err(msg.to_string()));
        }
        let items = s
            .get("scheduleItems")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| {
                        Some(ScheduleItem {
                            status: i.get("status")?.as_str()?.to_string(),
                            start: i.pointer("/start/dateTime")?.as_str()?.to_string(),
                            end: i.pointer("/end/dateTime")?.as_str()?.to_string(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Ok(items))
    }
}
