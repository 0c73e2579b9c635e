//! The four providers integ connects. Each has its own folder for its OAuth quirks and API
//! calls; this file holds what every layer needs to name them.

use std::fmt;
use std::str::FromStr;

/// A service integ can connect to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Jobber,
    Google,
    Microsoft,
    Calendly,
}

impl Provider {
    pub const ALL: [Provider; 4] = [Provider::Jobber, Provider::Google, Provider::Microsoft, Provider::Calendly];

    /// Lower-case name used in commands, config keys and the database.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Jobber => "jobber",
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::Calendly => "calendly",
        }
    }

    /// Upper-case prefix of its environment variables (`JOBBER_CLIENT_ID`, `INTEG_JOBBER_API_URL`).
    pub fn env_prefix(self) -> &'static str {
        match self {
            Provider::Jobber => "JOBBER",
            Provider::Google => "GOOGLE",
            Provider::Microsoft => "MICROSOFT",
            Provider::Calendly => "CALENDLY",
        }
    }

    /// Name for people: "Jobber", "Google Calendar", ...
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Jobber => "Jobber",
            Provider::Google => "Google Calendar",
            Provider::Microsoft => "Microsoft Outlook",
            Provider::Calendly => "Calendly",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown provider '{s}' (expected jobber, google, microsoft or calendly)"))
    }
}

pub mod api;
pub mod calendly;
pub mod google;
pub mod jobber;
pub mod microsoft;

use secrecy::SecretString;

use crate::config::Settings;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::app::OAuthApp;

/// The OAuth application for a provider, from settings and its client secret.
pub fn app(ctx: &mut Context, provider: Provider) -> Result<OAuthApp> {
    let secret = match provider {
        Provider::Microsoft => None,
        _ => ctx.client_secret(provider)?,
    };
    let settings = ctx.settings()?;
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
