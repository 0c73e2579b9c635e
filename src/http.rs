//! The one HTTP client: timeouts, no redirects (an OAuth or API endpoint that redirects is a
//! misconfiguration, and following it could carry a token elsewhere), a clear user agent.
//! Request and response bodies are never logged: they carry tokens.

use std::time::Duration;

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("integ/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::failure("cannot build the HTTP client").cause(e))
}

/// Describe a transport error without its URL (URLs may carry tokens, e.g. Google's revoke).
pub fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read"
    } else {
        "the request failed"
    };
    let host = e
        .url()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    match (host.is_empty(), detail.is_empty()) {
        (true, true) => what.to_string(),
        (false, true) => format!("{what} ({host})"),
        (true, false) => format!("{what}: {detail}"),
        (false, false) => format!("{what} ({host}): {detail}"),
    }
}
