//! Google Calendar writes for `integ push`: `events.insert` with integ's own id, `get`,
//! `patch`, `delete`, `calendars.insert`, and `freeBusy.query` for `integ availability`
//! (docs: developers.google.com/workspace/calendar/api/v3/reference/events).
//!
//! Every write is safe to send twice, so [`Http`]'s retries (of transport errors, 5xx and
//! rate limits) are too: an insert retried after a lost answer gets 409 and the caller adopts
//! the event; a patch sets the same fields again; a delete of a gone event is done. Rate
//! limits come as 403 or 429 `rateLimitExceeded` without `Retry-After`: exponential backoff.

use std::cell::Cell;

use secrecy::SecretString;
use serde_json::{Map, Value, json};

use super::calendar::path_segment;
use crate::http::{Http, Response};
use crate::providers::api::{ApiError, error_message};
use crate::providers::push::{EventWrite, When};

/// How an insert ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Created,
    /// 409: the id is taken (live or deleted); look at it before doing anything.
    Exists,
}

/// An event found by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Integ's marker for this rule and visit; `cancelled` when deleted in the calendar.
    Ours {
        cancelled: bool,
        hash: Option<String>,
    },
    /// Someone else's event under that id: never touched.
    Foreign,
    Missing,
}

/// How a patch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patched {
    Done,
    /// 404, or a 403 refusing to bring a deleted event back: make a new one.
    Gone,
}

fn reason(body: &Value) -> Option<&str> {
    body.pointer("/error/errors/0/reason").and_then(Value::as_str)
}

/// Google Calendar writes under one API base.
pub struct Writer<'a> {
    http: &'a Http,
    base: String,
}

fn time(w: &When, end: bool) -> Value {
    match w {
        When::Timed { start, end: e } => {
            json!({ "dateTime": crate::time::timestamp(if end { *e } else { *start }), "timeZone": "UTC", "date": null })
        }
        When::AllDay { start, end: e } => {
            json!({ "date": (if end { e } else { start }).to_string(), "dateTime": null })
        }
    }
}

/// The body of an insert (with `id`) or a full patch: every field integ owns, `status`
/// confirmed (a patch brings a deleted event back), no attendees, integ's marker.
pub fn body(e: &EventWrite, id: Option<&str>) -> Value {
    let mut m = Map::new();
    if let Some(id) = id {
        m.insert("id".into(), json!(id));
    }
    m.insert("status".into(), json!("confirmed"));
    m.insert("summary".into(), json!(e.title));
    m.insert("location".into(), e.location.as_ref().map_or(Value::Null, |l| json!(l)));
    m.insert("description".into(), json!(e.description));
    m.insert("transparency".into(), json!("opaque"));
    let (mut start, mut end) = (time(&e.when, false), time(&e.when, true));
    if id.is_some() {
        // An insert has nothing to merge with: leave the nulls out.
        for t in [&mut start, &mut end] {
            if let Some(o) = t.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
        }
    }
    m.insert("start".into(), start);
    m.insert("end".into(), end);
    m.insert(
        "extendedProperties".into(),
        json!({ "private": { "integRule": e.rule.to_string(), "integVisit": e.visit_key, "integHash": e.hash } }),
    );
    Value::Object(m)
}

impl<'a> Writer<'a> {
    pub fn new(http: &'a Http, api_url: &str) -> Writer<'a> {
        Writer { http, base: format!("{}/calendar/v3", api_url.trim_end_matches('/')) }
    }

    fn events_url(&self, cal: &str) -> String {
        format!("{}/calendars/{}/events", self.base, path_segment(cal))
    }

    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        token: &SecretString,
    ) -> Result<Response, ApiError> {
        self.send_as(what, method, url, body, token, false).await
    }

    /// `once`: a failed try is not sent again (see [`Http::execute_once`]).
    async fn send_as(
        &self,
        what: &str,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        token: &SecretString,
        once: bool,
    ) -> Result<Response, ApiError> {
        let throttles = Cell::new(0u32);
        let judge = |r: &Response| super::calendar::judge(r, &throttles, &self.http.policy);
        let make = || {
            let req = self.http.authorized(method.clone(), url, token).query(&[("sendUpdates", "none")]);
            match body {
                Some(b) => req.json(b),
                None => req,
            }
        };
        let resp = if once {
            self.http.execute_once(what, make, judge).await?
        } else {
            self.http.execute(what, make, judge).await?
        };
        match resp.status {
            401 => Err(ApiError::Unauthorized),
            403 if resp.json().as_ref().and_then(reason) == Some("insufficientPermissions") => {
                Err(ApiError::MissingScope(
                    "the token lacks Google Calendar write access (calendar.events, or calendar.app.created for a \
                     calendar integ made)"
                        .into(),
                ))
            }
            _ => Ok(resp),
        }
    }

    fn failed(resp: &Response) -> ApiError {
        ApiError::Status { status: resp.status, message: error_message(resp.json().as_ref()) }
    }

    /// `events.insert` with integ's id.
    pub async fn insert(
        &self,
        token: &SecretString,
        cal: &str,
        id: &str,
        e: &EventWrite,
    ) -> Result<Inserted, ApiError> {
        let resp = self
            .send("Google events.insert", reqwest::Method::POST, &self.events_url(cal), Some(&body(e, Some(id))), token)
            .await?;
        match resp.status {
            200..=299 => Ok(Inserted::Created),
            409 => Ok(Inserted::Exists),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// `events.get`, read for integ's marker.
    pub async fn get(
        &self,
        token: &SecretString,
        cal: &str,
        id: &str,
        rule: i64,
        visit_key: &str,
    ) -> Result<Found, ApiError> {
        let url = format!("{}/{}", self.events_url(cal), path_segment(id));
        let resp = self.send("Google events.get", reqwest::Method::GET, &url, None, token).await?;
        match resp.status {
            200..=299 => {}
            404 | 410 => return Ok(Found::Missing),
            _ => return Err(Self::failed(&resp)),
        }
        let v = resp.json().ok_or_else(|| ApiError::Malformed("an event is not JSON".into()))?;
        let private = v.pointer("/extendedProperties/private");
        let prop = |k: &str| private.and_then(|p| p.get(k)).and_then(Value::as_str);
        if prop("integRule") != Some(rule.to_string().as_str()) || prop("integVisit") != Some(visit_key) {
            return Ok(Found::Foreign);
        }
        Ok(Found::Ours {
            cancelled: v.get("status").and_then(Value::as_str) == Some("cancelled"),
            hash: prop("integHash").map(String::from),
        })
    }

    /// `events.patch` with every field integ owns.
    pub async fn patch(&self, token: &SecretString, cal: &str, id: &str, e: &EventWrite) -> Result<Patched, ApiError> {
        let url = format!("{}/{}", self.events_url(cal), path_segment(id));
        let resp = self.send("Google events.patch", reqwest::Method::PATCH, &url, Some(&body(e, None)), token).await?;
        match resp.status {
            200..=299 => Ok(Patched::Done),
            404 | 410 => Ok(Patched::Gone),
            403 if resp.json().as_ref().and_then(reason) == Some("forbidden") => Ok(Patched::Gone),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// `events.delete`: 204, 404 and 410 all mean the event is gone.
    pub async fn delete(&self, token: &SecretString, cal: &str, id: &str) -> Result<(), ApiError> {
        let url = format!("{}/{}", self.events_url(cal), path_segment(id));
        let resp = self.send("Google events.delete", reqwest::Method::DELETE, &url, None, token).await?;
        match resp.status {
            200..=299 | 404 | 410 => Ok(()),
            _ => Err(Self::failed(&resp)),
        }
    }

    /// `calendars.insert`, sent once (not idempotent: the caller looks for the calendar before
    /// trying again, and stores the id at once). Returns its id.
    pub async fn insert_calendar(&self, token: &SecretString, name: &str, marker: &str) -> Result<String, ApiError> {
        let url = format!("{}/calendars", self.base);
        let body = json!({ "summary": name, "description": marker, "timeZone": "UTC" });
        let resp =
            self.send_as("Google calendars.insert", reqwest::Method::POST, &url, Some(&body), token, true).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        resp.json()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(String::from))
            .ok_or_else(|| ApiError::Malformed("calendars.insert answered without an id".into()))
    }
}

/// One calendar's answer in `freeBusy.query`: busy blocks (RFC 3339), or why it is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusy {
    pub calendar: String,
    pub busy: Vec<(String, String)>,
    /// A per-calendar error (`notFound`, ...): unknown, not free.
    pub error: Option<String>,
}

impl Writer<'_> {
    /// `freeBusy.query` over `[from, to)` (at most 90 days: the caller splits) for `calendars`.
    pub async fn free_busy(
        &self,
        token: &SecretString,
        from: &str,
        to: &str,
        calendars: &[String],
    ) -> Result<Vec<FreeBusy>, ApiError> {
        let url = format!("{}/freeBusy", self.base);
        let items: Vec<Value> = calendars.iter().map(|c| json!({ "id": c })).collect();
        let body = json!({ "timeMin": from, "timeMax": to, "timeZone": "UTC", "items": items });
        let resp = self.send("Google freeBusy.query", reqwest::Method::POST, &url, Some(&body), token).await?;
        if !(200..300).contains(&resp.status) {
            return Err(Self::failed(&resp));
        }
        let v = resp.json().ok_or_else(|| ApiError::Malformed("a freeBusy answer is not JSON".into()))?;
        let mut out = Vec::new();
        for c in calendars {
            let entry = v.pointer(&format!("/calendars/{}", c.replace('~', "~0").replace('/', "~1")));
            let error = entry
                .and_then(|e| e.pointer("/errors/0/reason"))
                .and_then(Value::as_str)
                .map(String::from)
                .or_else(|| entry.is_none().then(|| "missing from the answer".to_string()));
            let busy = entry
                .and_then(|e| e.get("busy"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|b| {
                            Some((b.get("start")?.as_str()?.to_string(), b.get("end")?.as_str()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(FreeBusy { calendar: c.clone(), busy, error });
        }
        Ok(out)
    }
}
