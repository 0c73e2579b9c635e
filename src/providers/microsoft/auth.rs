//! Microsoft's OAuth application and identity (`GET /me`). There is no revocation endpoint.

use secrecy::SecretString;

use crate::config::Settings;
use crate::error::Result;
use crate::http::Http;
use crate::oauth::app::{ClientAuth, OAuthApp, RedirectRule};
use crate::provider::Provider;
use crate::providers::api::{self, ApiError, Identity};
use crate::providers::{required, scopes, url_setting};

/// Where a user removes integ's access, since Microsoft has no revocation endpoint.
pub const CONSENT_PAGE: &str =
    "https://myapps.microsoft.com (work or school) or https://account.live.com/consent/Manage (personal)";

pub fn app(settings: &Settings) -> Result<OAuthApp> {
    let p = Provider::Microsoft;
    let tenant = settings.provider(p, "tenant_id").unwrap_or("common").to_string();
    let redirect = crate::providers::parse_redirect(settings, p)?;
    Ok(OAuthApp {
        provider: p,
        client_id: required(settings, p, "client_id")?,
        client_secret: None,
        client_auth: ClientAuth::Public,
        auth_url: url_setting(settings, p, "auth_url")?.replace("%7Btenant%7D", &tenant).replace("{tenant}", &tenant),
        token_url: url_setting(settings, p, "token_url")?.replace("%7Btenant%7D", &tenant).replace("{tenant}", &tenant),
        revoke_url: None,
        api_url: url_setting(settings, p, "api_url")?,
        scopes: scopes(settings, p),
        send_scope: true,
        pkce: true,
        redirect: RedirectRule::AnyPort {
            host: redirect.host_str().unwrap_or("localhost").to_string(),
            path: redirect.path().to_string(),
            setting: "--port",
        },
        bare_callback_is_denial: false,
        extra_auth_params: vec![("response_mode", "query".into())],
        refresh_sends_scope: true,
        expiry: crate::oauth::app::ExpiryRule::ExpiresIn,
    })
}

pub async fn identity(http: &Http, app: &OAuthApp, token: &SecretString) -> Result<Identity, ApiError> {
    let url = format!("{}/me", app.api_url.trim_end_matches('/'));
    let body = api::get_json(http, "Graph /me", &url, token).await?;
    let id = body.get("id").and_then(|v| v.as_str()).ok_or_else(|| ApiError::Malformed("/me has no id".into()))?;
    let name = ["mail", "userPrincipalName", "displayName"]
        .iter()
        .find_map(|k| body.get(*k).and_then(|v| v.as_str()))
        .unwrap_or(id);
    Ok(Identity { id: id.to_string(), name: name.to_string() })
}
