//! Reading a GraphQL answer: the envelope (`data`, `errors`, `extensions`, and the `message` or
//! `error` of a non-GraphQL failure), read once straight into the caller's types, and the shapes
//! shared by the endpoints (raw nodes for the `raw_json` columns, nested connections).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::providers::api::ApiError;
use crate::providers::jobber::model::{self, Connection, PageInfo, Visit};

/// A GraphQL answer, read once while judging it for retries, straight into the types the caller
/// asked for (`D`), so a page is scanned once. Only when `data` is not of that shape (partial
/// data beside errors, or an unexpected answer) is it read a second time, shape-blind, to tell
/// which.
#[derive(Deserialize)]
#[serde(bound = "D: Deserialize<'de>")]
pub(super) struct Envelope<D> {
    #[serde(default)]
    pub(super) data: Option<D>,
    #[serde(default)]
    errors: Option<Vec<Value>>,
    #[serde(default)]
    extensions: Option<Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

/// What `judge` made of a 200 answer, handed to `query`.
pub(super) struct Answer<D> {
    pub(super) env: Envelope<D>,
    /// Why `data` did not have the expected shape (it is then `None`).
    pub(super) shape: Option<String>,
}

impl<D: serde::de::DeserializeOwned> Answer<D> {
    /// `None` when the body is not JSON at all (cut off, or an HTML page).
    pub(super) fn parse(body: &[u8]) -> Option<Answer<D>> {
        // UTF-8 is checked once for the whole body, not string by string.
        let body = std::str::from_utf8(body).ok()?;
        match serde_json::from_str::<Envelope<D>>(body) {
            Ok(env) => Some(Answer { env, shape: None }),
            Err(typed) => {
                let loose: Envelope<serde::de::IgnoredAny> = serde_json::from_str(body).ok()?;
                let shape = loose.data.is_some().then(|| typed.to_string());
                let Envelope { errors, extensions, message, error, .. } = loose;
                Some(Answer { env: Envelope { data: None, errors, extensions, message, error }, shape })
            }
        }
    }
}

impl<D> Answer<D> {
    pub(super) fn has_data(&self) -> bool {
        self.env.data.is_some() || self.shape.is_some()
    }
    pub(super) fn errors(&self) -> &[Value] {
        self.env.errors.as_deref().unwrap_or_default()
    }
    pub(super) fn as_value(&self) -> Value {
        json!({ "extensions": self.env.extensions, "message": self.env.message, "error": self.env.error })
    }
}

pub(super) fn is_throttled(errors: &[Value]) -> bool {
    errors.iter().any(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()) == Some("THROTTLED"))
}

pub(super) fn disconnected_message(body: &Value) -> Option<String> {
    let msg = body
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| body.pointer("/error/message").and_then(|m| m.as_str()))?;
    crate::providers::jobber::auth::is_disconnected(msg).then(|| msg.to_string())
}

/// A connection whose nodes are kept as raw JSON text (for the `raw_json` columns).
#[derive(Deserialize)]
pub(super) struct RawNodes {
    nodes: Vec<Box<RawValue>>,
    #[serde(rename = "pageInfo", default)]
    page_info: Option<PageInfo>,
}

impl RawNodes {
    /// Each node typed, beside its raw text.
    pub(super) fn typed<T: serde::de::DeserializeOwned>(self) -> Result<(Vec<(T, String)>, PageInfo), ApiError> {
        let nodes = self
            .nodes
            .into_iter()
            .map(|n| {
                let t = serde_json::from_str::<T>(n.get())
                    .map_err(|e| ApiError::Malformed(format!("unexpected node shape: {e}")))?;
                Ok((t, Box::<str>::from(n).into_string()))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((nodes, self.page_info.unwrap_or(PageInfo { has_next_page: false, end_cursor: None })))
    }
}

/// `{ job: ... }`, the answer of the nested-page queries.
#[derive(Deserialize)]
pub(super) struct JobData<T> {
    pub(super) job: Option<T>,
}

/// A nested connection's nodes and page info (an absent connection is an empty last page).
pub(super) fn split<T>(conn: Option<Connection<T>>) -> (Vec<T>, PageInfo) {
    match conn {
        Some(c) => (c.nodes, c.page_info.unwrap_or(PageInfo { has_next_page: false, end_cursor: None })),
        None => (Vec::new(), PageInfo { has_next_page: false, end_cursor: None }),
    }
}

/// Users of a visit as (id, full name).
pub fn assignees(v: &Visit) -> Vec<(&str, Option<&str>)> {
    v.assigned_users
        .as_ref()
        .map(|c: &Connection<model::User>| {
            c.nodes.iter().map(|u| (u.id.as_str(), u.name.as_ref().and_then(|n| n.full.as_deref()))).collect()
        })
        .unwrap_or_default()
}
