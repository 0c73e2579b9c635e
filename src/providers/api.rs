//! Small helpers shared by the providers' API calls: authorized JSON requests and the errors
//! every provider can answer with. Response bodies are parsed, never logged.

use secrecy::SecretString;

use crate::error::Error;

/// An API call that failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: the access token was refused; refresh once and retry.
    #[error("the access token was refused (HTTP 401)")]
    Unauthorized,
    #[error("{0}")]
    Transport(String),
    #[error("HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the response was not the JSON expected: {0}")]
    Malformed(String),
    /// The account is gone or the app was disconnected at the provider: reconnect.
    #[error("{0}")]
    Disconnected(String),
    /// A permission the token lacks: names the scope and the fix.
    #[error("{0}")]
    MissingScope(String),
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
}

impl ApiError {
    pub fn into_error(self, what: &str) -> Error {
        match self {
            ApiError::Disconnected(msg) => Error::reconnect(format!("{what}: {msg}")),
            ApiError::MissingScope(msg) => Error::failure(format!("{what}: {msg}")),
            ApiError::Http(e) => Error::from(e).context(what.to_string()),
            other => Error::failure(format!("{what}: {other}")),
        }
    }
}

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

/// Who a token belongs to: the provider's stable id and a name for people.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: String,
    pub name: String,
}
