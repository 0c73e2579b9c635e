//! Google's OAuth application, identity (`id_token` claims, else userinfo) and revocation.

use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::error::Result;
use crate::http::{Http, Verdict};
use crate::oauth::app::{ClientAuth, OAuthApp, RedirectRule};
use crate::oauth::token::jwt_claims;
use crate::provider::Provider;
use crate::providers::api::{self, ApiError, Identity};
use crate::providers::{required, scopes, url_setting};

pub fn app(settings: &Settings, secret: Option<SecretString>) -> Result<OAuthApp> {
    let p = Provider::Google;
    Ok(OAuthApp {
        provider: p,
        client_id: required(settings, p, "client_id")?,
        client_secret: Some(crate::providers::required_secret(p, secret)?),
        client_auth: ClientAuth::Body,
        auth_url: url_setting(settings, p, "auth_url")?,
        token_url: url_setting(settings, p, "token_url")?,
        revoke_url: Some(url_setting(settings, p, "revoke_url")?),
        api_url: url_setting(settings, p, "api_url")?,
        scopes: scopes(settings, p),
        send_scope: true,
        pkce: true,
        redirect: RedirectRule::AnyPort {
            host: "127.0.0.1".into(),
            path: "/callback/google".into(),
            setting: "--port",
        },
        bare_callback_is_denial: false,
        // Ask for a refresh token even when the user consented before.
        extra_auth_params: vec![("access_type", "offline".into()), ("prompt", "consent".into())],
        refresh_sends_scope: false,
        expiry: crate::oauth::app::ExpiryRule::ExpiresIn,
    })
}

/// `sub` and `email` from the id_token when present, else from userinfo.
pub async fn identity(
    http: &Http,
    app: &OAuthApp,
    id_token: Option<&str>,
    token: &SecretString,
) -> Result<Identity, ApiError> {
    if let Some(claims) = id_token.and_then(jwt_claims)
        && let Some(sub) = claims.get("sub").and_then(|v| v.as_str())
    {
        let name = claims.get("email").and_then(|v| v.as_str()).unwrap_or(sub);
        return Ok(Identity { id: sub.to_string(), name: name.to_string() });
    }
    let url = format!("{}/oauth2/v3/userinfo", app.api_url.trim_end_matches('/'));
    let body = api::get_json(http, "Google userinfo", &url, token).await?;
    let sub =
        body.get("sub").and_then(|v| v.as_str()).ok_or_else(|| ApiError::Malformed("userinfo has no sub".into()))?;
    let name = body.get("email").and_then(|v| v.as_str()).unwrap_or(sub);
    Ok(Identity { id: sub.to_string(), name: name.to_string() })
}

/// Revoke a token (the refresh token kills the whole grant). A 400 `invalid_token` means it
/// was already dead, which counts as done.
pub async fn revoke(http: &Http, app: &OAuthApp, token: &SecretString) -> Result<(), ApiError> {
    let url = app.revoke_url.as_deref().unwrap_or_default();
    let form = [("token", token.expose_secret())];
    let resp = http.execute("Google revoke", || http.client.post(url).form(&form), |_| Verdict::Done).await?;
    let (status, body) = (resp.status, resp.json());
    match status {
        200..=299 => Ok(()),
        400 if body.as_ref().and_then(|b| b.get("error")).and_then(|e| e.as_str()) == Some("invalid_token") => Ok(()),
        _ => Err(ApiError::Status { status, message: api::error_message(body.as_ref()) }),
    }
}
