//! Reading a GraphQL answer: the envelope (`data`, `errors`, `extensions`, and the `message` or
//! `error` of a non-GraphQL failure), read once straight into the caller's types, and the shapes
//! shared by the endpoints (raw nodes for the `raw_json` columns, nested connections).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::http::Response;
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

/// What the caller gets from an answer `Http` has stopped retrying: `data` as `D`, or the
/// error that says what went wrong (a refused token, a disconnected app, a missing scope, an
/// unserved API version, a GraphQL error, an answer of the wrong shape). `judged` is what
/// `JobberApi::judge` parsed of a 200.
pub(super) fn read_answer<D: serde::de::DeserializeOwned>(
    what: &str,
    version: &str,
    resp: &Response,
    judged: Option<Answer<D>>,
) -> Result<D, ApiError> {
    if resp.status == 401 {
        return Err(ApiError::Unauthorized);
    }
    // A 200 was parsed by `judge` already; other statuses are parsed here (small bodies).
    let env: Option<Answer<D>> = match resp.status {
        200 => judged,
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
            && v != version
        {
            return Err(ApiError::Unsupported(format!(
                "Jobber answered with API version {v} instead of {}; the pinned version is no longer served \
                 (set jobber.graphql_version to a supported version)",
                version
            )));
        }
    }
    let errors = env.errors();
    if !errors.is_empty() {
        let msg =
            errors.iter().filter_map(|e| e.get("message").and_then(|m| m.as_str())).collect::<Vec<_>>().join("; ");
        if errors.iter().any(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()) == Some("UNAUTHENTICATED")) {
            return Err(ApiError::Unauthorized);
        }
        if msg.contains("hidden due to permissions") {
            return Err(ApiError::MissingScope(format!(
                "{msg}: the Jobber app lacks a scope (read_jobs and read_clients are needed); add it in the \
                 Developer Center and run `integ connect jobber` again"
            )));
        }
        return Err(ApiError::GraphQl(msg));
    }
    if let Some(shape) = env.shape {
        return Err(ApiError::Malformed(format!("{what}: unexpected answer: {shape}")));
    }
    env.env.data.ok_or_else(|| ApiError::Malformed(format!("{what}: no data")))
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

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: &str = "2026-05-12";

    #[derive(Debug, PartialEq, Deserialize)]
    struct Data {
        account: Account,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Account {
        id: String,
    }

    fn response(status: u16, body: &str) -> Response {
        Response { status, headers: reqwest::header::HeaderMap::new(), body: bytes::Bytes::from(body.to_owned()) }
    }

    /// What a query returns for an answer `Http` handed back, a 200 parsed as `judge` does.
    fn read(status: u16, body: &str) -> Result<Data, ApiError> {
        let resp = response(status, body);
        let judged = if status == 200 { Answer::parse(&resp.body) } else { None };
        read_answer("Jobber test", VERSION, &resp, judged)
    }

    fn status_of(result: Result<Data, ApiError>) -> (u16, String) {
        match result {
            Err(ApiError::Status { status, message }) => (status, message),
            other => panic!("expected a status error, got {other:?}"),
        }
    }

    #[test]
    fn data_of_the_expected_shape_is_the_answer() {
        let ok = read(
            200,
            r#"{"data": {"account": {"id": "A1"}}, "extensions": {"versioning": {"version": "2026-05-12",
            "warning": "this version is deprecated"}, "cost": {"requestedQueryCost": 3}}}"#,
        );
        assert_eq!(ok.expect("data"), Data { account: Account { id: "A1".into() } });
    }

    #[test]
    fn a_refused_token_is_unauthorized_whichever_way_jobber_says_it() {
        assert!(matches!(read(401, r#"{"message": "Unauthorized"}"#), Err(ApiError::Unauthorized)));
        assert!(matches!(read(401, ""), Err(ApiError::Unauthorized)));
        let unauthenticated = r#"{"data": null, "errors": [{"message": "token expired",
            "extensions": {"code": "UNAUTHENTICATED"}}, {"message": "other"}]}"#;
        assert!(matches!(read(200, unauthenticated), Err(ApiError::Unauthorized)));
    }

    #[test]
    fn a_disconnected_app_asks_for_a_reconnect() {
        for (status, body) in [
            (403, r#"{"message": "The account holder disconnected this app"}"#),
            (200, r#"{"error": {"message": "This account is not active"}}"#),
        ] {
            match read(status, body) {
                Err(ApiError::Disconnected(msg)) => assert!(msg.contains("this app") || msg.contains("not active")),
                other => panic!("{status} {body}: {other:?}"),
            }
        }
    }

    #[test]
    fn fields_hidden_by_permissions_name_the_missing_scope() {
        let body = r#"{"data": null, "errors": [{"message": "jobs are hidden due to permissions"}]}"#;
        match read(200, body) {
            Err(ApiError::MissingScope(msg)) => {
                assert!(msg.contains("read_jobs") && msg.contains("integ connect jobber"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_graphql_errors_fail_the_query_with_their_messages() {
        let graphql = |r: Result<Data, ApiError>| match r {
            Err(e @ ApiError::GraphQl(_)) => e.to_string(),
            other => panic!("expected a GraphQL error, got {other:?}"),
        };
        assert_eq!(
            graphql(read(200, r#"{"errors": [{"message": "boom"}, {"message": "bang"}]}"#)),
            "GraphQL error: boom; bang"
        );
        // Errors beside data of the right shape: the errors win.
        let partial = r#"{"data": {"account": {"id": "A1"}}, "errors": [{"message": "partly failed"}]}"#;
        assert_eq!(graphql(read(200, partial)), "GraphQL error: partly failed");
    }

    #[test]
    fn an_answer_in_another_api_version_is_refused() {
        let body = r#"{"data": {"account": {"id": "A1"}}, "extensions": {"versioning": {"version": "2025-01-20"}}}"#;
        let message = match read(200, body) {
            Err(ApiError::Unsupported(m)) => m,
            other => panic!("expected Unsupported, got {other:?}"),
        };
        assert!(message.contains("2025-01-20") && message.contains(VERSION), "{message}");
        assert!(message.contains("jobber.graphql_version"), "{message}");
    }

    #[test]
    fn other_http_failures_carry_the_status_and_a_readable_message() {
        assert_eq!(status_of(read(400, r#"{"error": {"message": "bad query"}}"#)), (400, "bad query".into()));
        assert_eq!(status_of(read(502, "<html>Bad gateway</html>")), (502, "no readable error message".into()));
    }

    #[test]
    fn answers_that_are_not_the_expected_json_are_malformed() {
        for (body, says) in [
            ("<html>maintenance</html>", "not JSON"),
            ("", "not JSON"),
            (r#"{"data": {"account": {"id": 5}}}"#, "unexpected answer"),
            (r#"{"data": {"jobs": []}}"#, "unexpected answer"),
            ("{}", "no data"),
            (r#"{"data": null}"#, "no data"),
        ] {
            match read(200, body) {
                Err(ApiError::Malformed(msg)) => assert!(msg.contains(says), "{body}: {msg}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn throttled_is_told_by_the_error_code() {
        let errors = |code: &str| vec![json!({"message": "x", "extensions": {"code": code}})];
        assert!(is_throttled(&errors("THROTTLED")));
        assert!(!is_throttled(&errors("UNAUTHENTICATED")));
        assert!(!is_throttled(&[json!({"message": "THROTTLED"})]));
        assert!(!is_throttled(&[]));
    }
}
