//! Jobber's OAuth application, identity (`account { id name }`) and disconnect
//! (`appDisconnect`; Jobber has no revocation endpoint).

use secrecy::SecretString;

use crate::config::Settings;
use crate::error::Result;
use crate::oauth::app::{ClientAuth, OAuthApp, RedirectRule};
use crate::provider::Provider;
use serde_json::{Value, json};

use super::api::JobberApi;
use crate::providers::api::{ApiError, Identity};
use crate::providers::{required, url_setting};

pub fn app(settings: &Settings, secret: Option<SecretString>) -> Result<OAuthApp> {
    let p = Provider::Jobber;
    Ok(OAuthApp {
        provider: p,
        client_id: required(settings, p, "client_id")?,
        client_secret: Some(crate::providers::required_secret(p, secret)?),
        client_auth: ClientAuth::Body,
        auth_url: url_setting(settings, p, "auth_url")?,
        token_url: url_setting(settings, p, "token_url")?,
        revoke_url: None,
        api_url: url_setting(settings, p, "api_url")?,
        scopes: Vec::new(),
        send_scope: false,
        pkce: settings.provider(p, "pkce") != Some("off"),
        redirect: RedirectRule::Exact {
            uri: crate::providers::parse_redirect(settings, p)?,
            setting: "JOBBER_REDIRECT_URI (or jobber.redirect_uri)",
        },
        bare_callback_is_denial: true,
        extra_auth_params: Vec::new(),
        refresh_sends_scope: false,
        expiry: crate::oauth::app::ExpiryRule::JwtExpFirst,
    })
}

/// Jobber's words for an app the user disconnected or an account that is no longer active:
/// either means the connection must be made again.
pub(crate) fn is_disconnected(message: &str) -> bool {
    message.contains("disconnected this app") || message.contains("account is not active")
}

/// The account the token belongs to, through Jobber's one GraphQL client (the same `Http`
/// layer, judge and error classification as the sync).
pub async fn identity(api: &JobberApi<'_>, token: &SecretString) -> Result<Identity, ApiError> {
    let data: Value =
        api.query(token, "Jobber account", "query Account { account { id name } }", json!({}), 1.0).await?;
    let id = data.pointer("/account/id").and_then(|v| v.as_str());
    let name = data.pointer("/account/name").and_then(|v| v.as_str());
    match (id, name) {
        (Some(id), name) => Ok(Identity { id: id.to_string(), name: name.unwrap_or(id).to_string() }),
        _ => Err(ApiError::Malformed("account { id name } missing from the answer".into())),
    }
}

/// Disconnect the app from the account: kills both tokens at Jobber. A retry after a lost
/// answer finds the app disconnected, which the caller takes as done.
pub async fn disconnect(api: &JobberApi<'_>, token: &SecretString) -> Result<(), ApiError> {
    let query = "mutation Disconnect { appDisconnect { app { name } userErrors { message } } }";
    let data: Value = api.query(token, "Jobber appDisconnect", query, json!({}), 1.0).await?;
    let errors = data.pointer("/appDisconnect/userErrors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
    if errors.is_empty() {
        Ok(())
    } else {
        let msg =
            errors.iter().filter_map(|e| e.get("message").and_then(|m| m.as_str())).collect::<Vec<_>>().join("; ");
        Err(ApiError::GraphQl(format!("appDisconnect refused: {msg}")))
    }
}
