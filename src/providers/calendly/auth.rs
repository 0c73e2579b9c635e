//! Calendly's OAuth application, identity (`GET /users/me`) and revocation (which needs the
//! client secret).

use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::error::Result;
use crate::http::{Http, Verdict};
use crate::oauth::app::{ClientAuth, OAuthApp, RedirectRule};
use crate::provider::Provider;
use crate::providers::api::{self, ApiError, Identity};
use crate::providers::{required, scopes, url_setting};

pub fn app(settings: &Settings, secret: Option<SecretString>) -> Result<OAuthApp> {
    let p = Provider::Calendly;
    Ok(OAuthApp {
        provider: p,
        client_id: required(settings, p, "client_id")?,
        // A web app authenticates with HTTP Basic; a native app (no secret) sends client_id.
        client_auth: if secret.is_some() { ClientAuth::Basic } else { ClientAuth::Public },
        client_secret: secret,
        auth_url: url_setting(settings, p, "auth_url")?,
        token_url: url_setting(settings, p, "token_url")?,
        revoke_url: Some(url_setting(settings, p, "revoke_url")?),
        api_url: url_setting(settings, p, "api_url")?,
        scopes: scopes(settings, p),
        send_scope: true,
        pkce: true,
        redirect: RedirectRule::Exact {
            uri: crate::providers::parse_redirect(settings, p)?,
            setting: "CALENDLY_REDIRECT_URI (or calendly.redirect_uri)",
        },
        // Undocumented: treat a bare callback as a refusal too.
        bare_callback_is_denial: true,
        extra_auth_params: Vec::new(),
        refresh_sends_scope: false,
        expiry: crate::oauth::app::ExpiryRule::ExpiresIn,
    })
}

/// The API base for identity calls even without a client id (Personal Access Tokens).
pub fn api_url(settings: &Settings) -> Result<String> {
    url_setting(settings, Provider::Calendly, "api_url")
}

pub async fn identity(http: &Http, api_url: &str, token: &SecretString) -> Result<Identity, ApiError> {
    let url = format!("{}/users/me", api_url.trim_end_matches('/'));
    let body = api::get_json(http, "Calendly /users/me", &url, token).await?;
    let r = body.get("resource").ok_or_else(|| ApiError::Malformed("/users/me has no resource".into()))?;
    let uri =
        r.get("uri").and_then(|v| v.as_str()).ok_or_else(|| ApiError::Malformed("/users/me has no uri".into()))?;
    let name = r.get("email").or_else(|| r.get("name")).and_then(|v| v.as_str()).unwrap_or(uri);
    Ok(Identity { id: uri.to_string(), name: name.to_string() })
}

/// Revoke a token; Calendly demands id and secret for this.
pub async fn revoke(http: &Http, app: &OAuthApp, token: &SecretString) -> Result<(), ApiError> {
    let Some(secret) = &app.client_secret else {
        return Err(ApiError::NotSent(
            "Calendly's revoke endpoint needs the client secret, and none is configured".into(),
        ));
    };
    let url = app.revoke_url.as_deref().unwrap_or_default();
    let form = [
        ("client_id", app.client_id.as_str()),
        ("client_secret", secret.expose_secret()),
        ("token", token.expose_secret()),
    ];
    let resp = http.execute("Calendly revoke", || http.client.post(url).form(&form), |_| Verdict::Done).await?;
    let (status, body) = (resp.status, resp.json());
    match status {
        200..=299 => Ok(()),
        _ => Err(ApiError::Status { status, message: api::error_message(body.as_ref()) }),
    }
}
