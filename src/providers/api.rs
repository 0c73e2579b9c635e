//! Small helpers shared by the providers' API calls: authorized JSON requests and the errors
//! every provider can answer with. Response bodies are parsed, never logged.

use secrecy::SecretString;

use crate::http::{Http, Response, Verdict};

pub use crate::http::ApiError;

/// The retry budget of a one-off call. Identity and revocation go through the same [`Http`] as
/// the sync (5xx and 429 retried, bodies bounded), with a budget of their own.
pub const ONE_OFF_RETRIES: u32 = 10;

/// GET a JSON resource with a Bearer token; returns the parsed body of a 2xx answer.
pub async fn get_json(http: &Http, what: &str, url: &str, token: &SecretString) -> Result<serde_json::Value, ApiError> {
    let resp = http.execute(what, || http.authorized(reqwest::Method::GET, url, token), |_| Verdict::Done).await?;
    json_answer(&resp)
}

/// The parsed body of a 2xx answer, or the error the answer carries (401: the token was refused).
pub fn json_answer(resp: &Response) -> Result<serde_json::Value, ApiError> {
    if resp.status == 401 {
        return Err(ApiError::Unauthorized);
    }
    let body = resp.json();
    if !(200..300).contains(&resp.status) {
        return Err(ApiError::Status { status: resp.status, message: error_message(body.as_ref()) });
    }
    body.ok_or_else(|| ApiError::Malformed(format!("HTTP {} with a body that is not JSON", resp.status)))
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
