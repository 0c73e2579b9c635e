//! The OAuth 2.0 client calls (oauth2 crate): the authorization URL with PKCE S256 and a
//! random state, the code exchange and the refresh, with each provider's client
//! authentication. Token-endpoint failures are classified by HTTP status, because providers
//! document their bodies poorly (Jobber's reused refresh token, Calendly's).

use std::sync::{Arc, Mutex};

use oauth2::basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};

use super::app::{ClientAuth, OAuthApp};
use super::token::RawToken;

type Client = oauth2::Client<
    BasicErrorResponse,
    RawToken,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Why a token request failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The server refused (4xx): `invalid_grant`, a reused rotating refresh token, a bad client.
    #[error("the token endpoint refused the request (HTTP {status}{}{})", .error.as_deref().map(|e| format!(", {e}")).unwrap_or_default(), .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected { status: u16, error: Option<String>, description: Option<String> },
    /// 408, 425, 429, 5xx or an unreadable answer: the grant is fine; worth one retry (after
    /// the server's `Retry-After`, capped), then give up for this run.
    #[error("the token endpoint failed (HTTP {status})")]
    Server { status: u16, retry_after: Option<std::time::Duration> },
    /// Another answer that says nothing about the grant (a 403, a 404): not retried, and not a
    /// reason to ask for a reconnect.
    #[error("the token endpoint answered HTTP {status}{}", .error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Unexpected { status: u16, error: Option<String> },
    #[error("could not reach the token endpoint: {0}")]
    Transport(String),
    #[error("the token endpoint URL is invalid: {0}")]
    Config(String),
    /// An answer far larger than any token set: a provider error, not worth a retry.
    #[error("the token endpoint's answer is too large (over {} KiB)", crate::http::SMALL_BODY >> 10)]
    TooLarge,
}

impl TokenError {
    /// Whether the grant itself is dead (reconnect needed) rather than the network or server.
    pub fn is_rejection(&self) -> bool {
        matches!(self, TokenError::Rejected { .. })
    }
    /// Whether it is worth one more try.
    pub fn is_transient(&self) -> bool {
        matches!(self, TokenError::Server { .. } | TokenError::Transport(_))
    }
    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            TokenError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn build(app: &OAuthApp, redirect_uri: Option<&str>) -> Result<Client, TokenError> {
    let mut client = oauth2::Client::new(ClientId::new(app.client_id.clone()))
        .set_auth_uri(AuthUrl::new(app.auth_url.clone()).map_err(|e| TokenError::Config(e.to_string()))?)
        .set_token_uri(TokenUrl::new(app.token_url.clone()).map_err(|e| TokenError::Config(e.to_string()))?)
        .set_auth_type(match app.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::Body | ClientAuth::Public => AuthType::RequestBody,
        });
    if app.client_auth != ClientAuth::Public
        && let Some(secret) = &app.client_secret
    {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
    }
    if let Some(uri) = redirect_uri {
        client =
            client.set_redirect_uri(RedirectUrl::new(uri.to_string()).map_err(|e| TokenError::Config(e.to_string()))?);
    }
    Ok(client)
}

/// One authorization attempt: the URL to open, and the state and verifier that belong to it.
pub struct Attempt {
    pub url: url::Url,
    pub state: CsrfToken,
    pub verifier: Option<PkceCodeVerifier>,
}

/// A fresh single-use state of 256 random bits.
pub fn new_state() -> CsrfToken {
    CsrfToken::new_random_len(32)
}

/// Build the authorization URL with the given state and, where used, PKCE S256.
pub fn authorize_url(app: &OAuthApp, redirect_uri: &str, state: CsrfToken) -> Result<Attempt, TokenError> {
    let client = build(app, Some(redirect_uri))?;
    let mut req = client.authorize_url(move || state);
    if app.send_scope {
        req = req.add_scopes(app.scopes.iter().map(|s| Scope::new(s.clone())));
    }
    for (k, v) in &app.extra_auth_params {
        req = req.add_extra_param(*k, v.clone());
    }
    let verifier = if app.pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        req = req.set_pkce_challenge(challenge);
        Some(verifier)
    } else {
        None
    };
    let (url, state) = req.url();
    Ok(Attempt { url, state, verifier })
}

/// Exchange an authorization code; `redirect_uri` must be byte-identical to the one sent.
pub async fn exchange_code(
    app: &OAuthApp,
    http: &reqwest::Client,
    code: &SecretString,
    redirect_uri: &str,
    verifier: Option<PkceCodeVerifier>,
) -> Result<RawToken, TokenError> {
    let client = build(app, Some(redirect_uri))?;
    let mut req = client.exchange_code(AuthorizationCode::new(code.expose_secret().to_string()));
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(v);
    }
    if app.refresh_sends_scope {
        req = req.add_extra_param("scope", app.scopes.join(" "));
    }
    let status = Arc::new(Mutex::new(Seen::default()));
    let result = req.request_async(&adapter(http, status.clone())).await;
    classify(result, &status)
}

/// Redeem a refresh token.
pub async fn refresh(app: &OAuthApp, http: &reqwest::Client, refresh_token: &str) -> Result<RawToken, TokenError> {
    let client = build(app, None)?;
    let rt = RefreshToken::new(refresh_token.to_string());
    let mut req = client.exchange_refresh_token(&rt);
    if app.refresh_sends_scope {
        req = req.add_scopes(app.scopes.iter().map(|s| Scope::new(s.clone())));
    }
    let status = Arc::new(Mutex::new(Seen::default()));
    let result = req.request_async(&adapter(http, status.clone())).await;
    classify(result, &status)
}

#[derive(Debug, thiserror::Error)]
enum HttpError {
    #[error("{0}")]
    Transport(String),
    #[error("the answer is too large")]
    TooLarge,
}

/// oauth2's async HTTP client, over our reqwest client, recording the status it saw.
fn adapter(
    http: &reqwest::Client,
    status: Arc<Mutex<Seen>>,
) -> impl Fn(oauth2::HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send>>
+ '_ {
    move |req: oauth2::HttpRequest| {
        let http = http.clone();
        let status = status.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            let mut builder = http.request(parts.method, url).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let resp = builder.send().await.map_err(|e| HttpError::Transport(crate::http::describe(&e)))?;
            let code = resp.status().as_u16();
            if let Ok(mut s) = status.lock() {
                *s = Seen { status: code, retry_after: crate::http::retry_after(resp.headers()) };
            }
            let mut out = oauth2::http::Response::builder().status(code);
            for (name, value) in resp.headers() {
                out = out.header(name, value);
            }
            // A token set is a few KB: a larger answer is refused before it fills memory.
            let bytes = crate::http::read_body(resp, crate::http::SMALL_BODY).await.map_err(|e| match e {
                crate::http::BodyError::TooLarge { .. } => HttpError::TooLarge,
                crate::http::BodyError::Transport(e) => HttpError::Transport(e),
            })?;
            out.body(bytes.to_vec()).map_err(|e| HttpError::Transport(e.to_string()))
        })
    }
}

/// What the adapter saw of the answer.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    status: u16,
    retry_after: Option<std::time::Duration>,
}

/// Statuses that say "not now" about the server, never anything about the grant.
fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

/// Sort a token-endpoint failure. Only an OAuth `invalid_grant`, or a 400/401 (RFC 6749
/// 5.2's refusal statuses: Jobber's and Calendly's refusal bodies are undocumented, so the
/// status decides there), means the grant is dead. A throttle or an outage is transient
/// whatever its body says; anything else is a plain failure.
fn classify(
    result: Result<RawToken, RequestTokenError<HttpError, BasicErrorResponse>>,
    seen: &Mutex<Seen>,
) -> Result<RawToken, TokenError> {
    let Seen { status, retry_after } = seen.lock().map(|s| *s).unwrap_or_default();
    let error = match result {
        Ok(t) => return Ok(t),
        Err(RequestTokenError::Request(HttpError::TooLarge)) => return Err(TokenError::TooLarge),
        Err(RequestTokenError::Request(HttpError::Transport(e))) => return Err(TokenError::Transport(e)),
        Err(RequestTokenError::ServerResponse(r)) => {
            Some((r.error().as_ref().to_string(), r.error_description().map(|d| truncate(d, 200))))
        }
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) => None,
    };
    let status = if status == 0 && error.is_some() { 400 } else { status };
    let invalid_grant = error.as_ref().is_some_and(|(e, _)| e == "invalid_grant");
    if is_transient_status(status) || status == 0 {
        return Err(TokenError::Server { status: if status == 0 { 502 } else { status }, retry_after });
    }
    if invalid_grant || matches!(status, 400 | 401) {
        let (error, description) = error.map_or((None, None), |(e, d)| (Some(e), d));
        return Err(TokenError::Rejected { status, error, description });
    }
    if (200..300).contains(&status) {
        // A success status with a body that is not a token answer: the server is broken.
        return Err(TokenError::Server { status: 502, retry_after: None });
    }
    Err(TokenError::Unexpected { status, error: error.map(|(e, _)| e) })
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
