//! Small helpers shared by the providers' API calls: authorized JSON requests and the errors
//! every provider can answer with. Response bodies are parsed, never logged.

use secrecy::SecretString;

pub use crate::http::ApiError;

/// A JSON request with a Bearer token; returns the parsed body of a 2xx answer.
pub async fn json(req: reqwest::RequestBuilder, token: &SecretString) -> Result<serde_json::Value, ApiError> {
    let resp =
        crate::http::bearer(req, token).send().await.map_err(|e| ApiError::Transport(crate::http::describe(&e)))?;
    let status = resp.status().as_u16();
    // Identity and small API answers: a few KB.
    let bytes = read_small(resp).await?;
    if status == 401 {
        return Err(ApiError::Unauthorized);
    }
    let body: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    if !(200..300).contains(&status) {
        return Err(ApiError::Status { status, message: error_message(body.as_ref()) });
    }
    body.ok_or_else(|| ApiError::Malformed(format!("HTTP {status} with a body that is not JSON")))
}

/// Read a small answer (identity, revocation, a single object) against [`crate::http::SMALL_BODY`];
/// a larger one is a provider error, not retried.
pub async fn read_small(resp: reqwest::Response) -> Result<bytes::Bytes, ApiError> {
    crate::http::read_body(resp, crate::http::SMALL_BODY).await.map_err(|e| match e {
        crate::http::BodyError::TooLarge { .. } => ApiError::Malformed(e.to_string()),
        crate::http::BodyError::Transport(e) => ApiError::Transport(e),
    })
}

/// The human message inside the error shapes the four providers use.
pub fn error_message(body: Option<&serde_json::Value>) -> String {
    let Some(b) = body else {
        return "no readable error message".into();
    };
    let pick = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    pick(b.pointer("/error/message"))
        .or_else(|| pick(b.get("message")))
        .or_else(|| pick(b.get("error_description")))
        .or_else(|| pick(b.get("title")))
        .or_else(|| pick(b.get("error")))
        .map(|m| m.chars().take(300).collect())
        .unwrap_or_else(|| "no readable error message".into())
}

pub use crate::provider::Identity;

/// A provider record: the fields integ reads into columns, and the JSON it came from (stored
/// whole as `raw_json`, so nothing the provider sent is lost to integ's choice of fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Raw<T> {
    pub value: T,
    pub json: serde_json::Value,
}

impl<T: serde::de::DeserializeOwned> Raw<T> {
    /// Read `json` as a `T`, keeping the JSON; `what` names the record in the error.
    pub fn parse(json: serde_json::Value, what: &str) -> Result<Raw<T>, ApiError> {
        match T::deserialize(&json) {
            Ok(value) => Ok(Raw { value, json }),
            Err(e) => Err(ApiError::Malformed(format!("{what}: {e}"))),
        }
    }
}

/// Generated provider answers for property tests: any JSON, and objects built from the field
/// names a parser looks at, with values that fit, nearly fit, or are of the wrong type.
#[cfg(test)]
pub mod arb {
    use proptest::prelude::*;
    use serde_json::Value;

    /// Field names that appear inside the objects the parsers read (start/end, people, bodies).
    const INNER: &[&str] = &[
        "date",
        "dateTime",
        "timeZone",
        "email",
        "name",
        "address",
        "displayName",
        "emailAddress",
        "content",
        "contentType",
        "type",
        "location",
        "join_url",
        "responseStatus",
        "self",
        "organizer",
    ];

    /// Strings like the ones providers send, and ones they should not.
    pub fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,24}",
            "[ -~]{0,12}",
            Just(String::new()),
            "(19|20|99)[0-9]{2}-[0-1][0-9]-[0-3][0-9]",
            "20[0-9]{2}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?(Z|[+-][0-1][0-9]:[0-5][0-9])?",
            Just("\u{1b}]52;c;aGk=\u{7}\u{202e}".to_string()),
            prop::sample::select(vec![
                "UTC",
                "America/Denver",
                "Europe/Berlin",
                "Nowhere/Else",
                "W. Europe Standard Time",
                "tentative",
                "confirmed",
                "cancelled",
                "canceled",
                "active",
                "seriesMaster",
                "occurrence",
                "exception",
                "html",
                "text",
            ])
            .prop_map(String::from),
        ]
    }

    /// Any JSON value, a few levels deep.
    pub fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
            text().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(prop::sample::select(INNER).prop_map(String::from), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// An object with some of `keys`, each holding any value.
    pub fn object(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(keys), json()), 0..keys.len() + 2)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    }
}
