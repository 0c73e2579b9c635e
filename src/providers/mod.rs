//! The four providers integ connects. Each has its own folder for its OAuth quirks and API
//! calls, and knows nothing about the database; this file builds each one's OAuth application
//! from settings. The names every layer needs (`Provider`, `Identity`) live in the leaf module
//! [`crate::provider`] and are re-exported here.

pub use crate::provider::{Identity, Provider};

pub mod api;
pub mod calendly;
pub mod google;
pub mod jobber;
pub mod microsoft;
pub mod push;

use secrecy::SecretString;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::oauth::app::OAuthApp;

/// Whether the provider's OAuth application has a client secret (Microsoft's public client has
/// none), so callers only read the secret store when one is needed.
pub fn uses_client_secret(provider: Provider) -> bool {
    provider != Provider::Microsoft
}

/// The OAuth application for a provider, from settings and its client secret.
pub fn app(settings: &Settings, provider: Provider, secret: Option<SecretString>) -> Result<OAuthApp> {
    match provider {
        Provider::Jobber => jobber::auth::app(settings, secret),
        Provider::Google => google::auth::app(settings, secret),
        Provider::Microsoft => microsoft::auth::app(settings),
        Provider::Calendly => calendly::auth::app(settings, secret),
    }
}

/// A required non-secret setting, or a configuration error naming how to set it.
pub(crate) fn required(settings: &Settings, p: Provider, name: &str) -> Result<String> {
    settings.provider(p, name).map(str::to_string).ok_or_else(|| {
        let env = format!("{}_{}", p.env_prefix(), name.to_ascii_uppercase());
        Error::config(format!("no {} {} is configured", p.display_name(), name.replace('_', " ")))
            .hint(format!("set {env}, or run `integ config set {p}.{name} VALUE`"))
    })
}

pub(crate) fn required_secret(p: Provider, secret: Option<SecretString>) -> Result<SecretString> {
    secret.ok_or_else(|| {
        Error::config(format!("no {} client secret is configured", p.display_name()))
            .hint(format!("set {}_CLIENT_SECRET, or pipe it into `integ config set {p}.client_secret`", p.env_prefix()))
    })
}

pub(crate) fn url_setting(settings: &Settings, p: Provider, name: &str) -> Result<String> {
    required(settings, p, name)
}

pub(crate) fn scopes(settings: &Settings, p: Provider) -> Vec<String> {
    settings.provider(p, "scopes").unwrap_or_default().split_whitespace().map(str::to_string).collect()
}

pub(crate) fn parse_redirect(settings: &Settings, p: Provider) -> Result<url::Url> {
    let raw = required(settings, p, "redirect_uri")?;
    url::Url::parse(&raw).map_err(|e| Error::config(format!("{p}.redirect_uri '{raw}' is not a URL")).cause(e))
}
