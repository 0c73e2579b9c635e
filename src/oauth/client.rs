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
    /// 5xx or an unreadable answer: worth one retry, then give up for this run.
    #[error("the token endpoint failed (HTTP {status})")]
    Server { status: u16 },
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
    let status = Arc::new(Mutex::new(0u16));
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
    let status = Arc::new(Mutex::new(0u16));
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
    status: Arc<Mutex<u16>>,
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
                *s = code;
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

fn classify(
    result: Result<RawToken, RequestTokenError<HttpError, BasicErrorResponse>>,
    status: &Mutex<u16>,
) -> Result<RawToken, TokenError> {
    let status = status.lock().map(|s| *s).unwrap_or(0);
    match result {
        Ok(t) => Ok(t),
        Err(RequestTokenError::Request(HttpError::TooLarge)) => Err(TokenError::TooLarge),
        Err(RequestTokenError::Request(HttpError::Transport(e))) => Err(TokenError::Transport(e)),
        Err(RequestTokenError::ServerResponse(r)) => {
            let status = if status == 0 { 400 } else { status };
            if status >= 500 {
                return Err(TokenError::Server { status });
            }
            Err(TokenError::Rejected {
                status,
                error: Some(r.error().as_ref().to_string()),
                description: r.error_description().map(|d| truncate(d, 200)),
            })
        }
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) if (400..500).contains(&status) => {
            Err(TokenError::Rejected { status, error: None, description: None })
        }
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) => {
            Err(TokenError::Server { status: if status == 0 { 502 } else { status } })
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
