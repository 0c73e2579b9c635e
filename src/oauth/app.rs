//! An OAuth application as integ sees it: endpoints, credentials, scopes and the quirks that
//! differ per provider (client authentication, PKCE, redirect matching, denial shape). Built by
//! each provider's `auth.rs` from the settings.

use secrecy::SecretString;

use crate::provider::Provider;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (Jobber, Google).
    Body,
    /// HTTP Basic with id and secret (Calendly web apps).
    Basic,
    /// Public client: `client_id` only, never a secret (Microsoft, Calendly native apps).
    Public,
}

/// Where the provider sends the browser back.
#[derive(Debug, Clone)]
pub enum RedirectRule {
    /// The registered URI is matched exactly, port included (Jobber, Calendly): listen on
    /// its host, port and path. `setting` names what to change.
    Exact { uri: url::Url, setting: &'static str },
    /// Any loopback port is accepted (Google desktop apps; Microsoft ignores the port).
    AnyPort { host: String, path: String, setting: &'static str },
}

#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub client_auth: ClientAuth,
    pub auth_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub api_url: String,
    pub scopes: Vec<String>,
    /// Whether the authorize request carries `scope` (Jobber has none: scopes live on the app).
    pub send_scope: bool,
    pub pkce: bool,
    pub redirect: RedirectRule,
    /// Jobber answers a refusal with a bare callback: no query string at all.
    pub bare_callback_is_denial: bool,
    pub extra_auth_params: Vec<(&'static str, String)>,
    /// Microsoft wants `scope` on the code exchange and every refresh.
    pub refresh_sends_scope: bool,
    /// Where the access token's expiry is read from.
    pub expiry: ExpiryRule,
}

/// Where a token answer says when its access token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryRule {
    /// `expires_in` (RFC 6749), else an hour.
    ExpiresIn,
    /// Jobber: the access token is a JWT whose `exp` is the truth; then `expires_in`, then
    /// Jobber's own `expires_at` string (`2024-04-09 21:04:31 UTC`), else an hour.
    JwtExpFirst,
}

impl OAuthApp {
    /// The scopes that were asked for but not granted (Google's granular consent lets people
    /// untick boxes). Identity scopes are not required for syncing.
    pub fn missing_scopes(&self, granted: Option<&str>) -> Vec<String> {
        let Some(granted) = granted else {
            return Vec::new();
        };
        let granted: Vec<&str> = granted.split_whitespace().collect();
        self.scopes
            .iter()
            .filter(|s| !matches!(s.as_str(), "openid" | "email" | "profile" | "offline_access"))
            .filter(|s| {
                !granted.iter().any(|g| g == s || g.ends_with(&format!("/{s}")) || s.ends_with(&format!("/{g}")))
            })
            .cloned()
            .collect()
    }
}
