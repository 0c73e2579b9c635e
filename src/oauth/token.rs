//! Token values and their bookkeeping. A [`TokenSet`] is what the secret store holds for one
//! connection (as one JSON entry, so access and refresh token are replaced together); its
//! `Debug` never shows a token.

use std::time::Duration;

use base64::Engine;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::app::ExpiryRule;

/// How the connection authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// Authorization code flow with a refresh token.
    Oauth,
    /// A personal access token pasted by the user (Calendly); cannot be refreshed.
    PersonalAccessToken,
}

/// One connection's tokens, as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub kind: GrantKind,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds when the access token expires.
    pub expires_at: Option<i64>,
    /// Unix seconds when the access token was obtained.
    pub obtained_at: i64,
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("kind", &self.kind)
            .field("access_token", &"(redacted)")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "(redacted)"))
            .field("expires_at", &self.expires_at)
            .field("obtained_at", &self.obtained_at)
            .finish()
    }
}

impl Drop for TokenSet {
    fn drop(&mut self) {
        self.access_token.zeroize();
        if let Some(rt) = &mut self.refresh_token {
            rt.zeroize();
        }
    }
}

impl TokenSet {
    pub fn to_secret(&self) -> Result<SecretString, serde_json::Error> {
        // Sized up front (tokens are printable ASCII: few escapes) and wiped after: a buffer
        // that grew or shrank on the way would leave copies of the tokens in freed memory.
        let tokens = self.access_token.len() + self.refresh_token.as_ref().map_or(0, String::len);
        let mut json = zeroize::Zeroizing::new(Vec::with_capacity(2 * tokens + 1024));
        serde_json::to_writer(&mut *json, self)?;
        Ok(SecretString::from(String::from_utf8_lossy(&json).as_ref()))
    }

    pub fn from_secret(s: &SecretString) -> Result<TokenSet, serde_json::Error> {
        serde_json::from_str(s.expose_secret())
    }

    pub fn access(&self) -> SecretString {
        SecretString::from(self.access_token.clone())
    }

    /// Whether the access token expires within the refresh margin: 60 s, or half its lifetime
    /// when that is shorter (so two processes don't keep refreshing a 30-second token).
    pub fn needs_refresh(&self, now: Timestamp) -> bool {
        let Some(exp) = self.expires_at else {
            return false;
        };
        let lifetime = exp.saturating_sub(self.obtained_at).max(0);
        let margin = REFRESH_MARGIN.as_secs() as i64;
        let margin = margin.min(lifetime / 2);
        now.as_second().saturating_add(margin) >= exp
    }

    pub fn expires_at_rfc3339(&self) -> Option<String> {
        self.expires_at.and_then(|s| Timestamp::from_second(s).ok()).map(crate::time::timestamp)
    }

    /// True when both tokens are the same (constant-time is unnecessary: both sides are ours).
    pub fn same_tokens(&self, other: &TokenSet) -> bool {
        self.access_token == other.access_token && self.refresh_token == other.refresh_token
    }
}

/// Refresh when the access token has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A token endpoint's answer, covering every provider's extra fields. Jobber's code exchange
/// has no `token_type` or `expires_in`; its refresh adds `expires_at` as
/// `YYYY-MM-DD HH:MM:SS UTC`; Google adds `id_token`; Calendly `owner` and `created_at`.
#[derive(Clone, Serialize, Deserialize)]
pub struct RawToken {
    pub access_token: oauth2::AccessToken,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<serde_json::Value>,
    #[serde(default)]
    pub refresh_token: Option<oauth2::RefreshToken>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub warning: Option<String>,
    #[serde(skip, default = "bearer")]
    bearer: oauth2::basic::BasicTokenType,
}

fn bearer() -> oauth2::basic::BasicTokenType {
    oauth2::basic::BasicTokenType::Bearer
}

impl std::fmt::Debug for RawToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawToken")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl oauth2::TokenResponse for RawToken {
    type TokenType = oauth2::basic::BasicTokenType;
    fn access_token(&self) -> &oauth2::AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &Self::TokenType {
        &self.bearer
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in_secs().map(|s| Duration::from_secs(s.unsigned_abs()))
    }
    fn refresh_token(&self) -> Option<&oauth2::RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<oauth2::Scope>> {
        None
    }
}

/// The longest access-token lifetime believed. Real ones last an hour or two; one that claims
/// more than a year is a broken or hostile answer.
pub const MAX_LIFETIME_SECS: i64 = 366 * 86_400;
/// The lifetime assumed when the answer gives none that can be believed.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;

impl RawToken {
    /// `expires_in` as seconds, when it is a lifetime that can be believed (1 s to
    /// [`MAX_LIFETIME_SECS`]); some servers send it as a string, a few as a decimal.
    ///
    /// An absurd value (zero, negative, huge, not a number) is read as "unknown", not as an
    /// error: by then a rotating provider (Jobber, Calendly) has already spent the old refresh
    /// token, so refusing the answer would lose the grant. Unknown means the one-hour default;
    /// a token that dies sooner is refreshed on its first 401, one that lives longer is merely
    /// refreshed early. Trusting the value instead would wrap the expiry (a refresh before
    /// every call) or push it past any refresh.
    pub fn expires_in_secs(&self) -> Option<i64> {
        let secs = match &self.expires_in {
            Some(serde_json::Value::Number(n)) => {
                n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f as i64))
            }
            Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        }?;
        (1..=MAX_LIFETIME_SECS).contains(&secs).then_some(secs)
    }

    /// When the access token expires, read as the app's [`ExpiryRule`] says. An absolute expiry
    /// outside (now, now + [`MAX_LIFETIME_SECS`]] is not believed (see [`Self::expires_in_secs`]).
    pub fn expiry(&self, rule: ExpiryRule, now: Timestamp) -> i64 {
        let now = now.as_second();
        let believable = |at: i64| at > now && at - now <= MAX_LIFETIME_SECS;
        let from_in = self.expires_in_secs().map(|s| now.saturating_add(s));
        let found = match rule {
            ExpiryRule::JwtExpFirst => jwt_exp(self.access_token.secret())
                .filter(|at| believable(*at))
                .or(from_in)
                .or_else(|| self.expires_at.as_deref().and_then(parse_jobber_expires_at).filter(|at| believable(*at))),
            ExpiryRule::ExpiresIn => from_in,
        };
        found.unwrap_or(now.saturating_add(DEFAULT_LIFETIME_SECS))
    }

    /// Build what is stored: keep the old refresh token when the response carries none
    /// (Google never rotates).
    pub fn into_token_set(self, rule: ExpiryRule, now: Timestamp, previous: Option<&TokenSet>) -> TokenSet {
        let expires_at = Some(self.expiry(rule, now));
        let refresh_token = self
            .refresh_token
            .as_ref()
            .map(|r| r.secret().clone())
            .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
        let scope = self.scope.clone().or_else(|| previous.and_then(|p| p.scope.clone()));
        TokenSet {
            kind: GrantKind::Oauth,
            access_token: self.access_token.secret().clone(),
            refresh_token,
            expires_at,
            obtained_at: now.as_second(),
            scope,
        }
    }
}

/// The `exp` claim of a JWT, without checking its signature (only used for scheduling).
pub fn jwt_exp(token: &str) -> Option<i64> {
    jwt_claims(token)?.get("exp")?.as_i64()
}

/// The claims of a JWT, decoded without checking the signature.
pub fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Jobber's `expires_at`: `2024-04-09 21:04:31 UTC`.
pub fn parse_jobber_expires_at(s: &str) -> Option<i64> {
    let s = s.trim().strip_suffix("UTC")?.trim();
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: serde_json::Value) -> RawToken {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn jobber_expiry_prefers_jwt_exp() {
        // An hour before the JWT's exp (expiries more than a year ahead are not believed).
        let now = Timestamp::from_second(1_774_558_000).unwrap();
        // header {"alg":"HS256"}, payload {"exp":1774561600}
        let t = raw(serde_json::json!({
            "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NzQ1NjE2MDB9.c2ln",
            "refresh_token": "r", "expires_at": "2026-03-26 21:46:40 UTC"}));
        assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), 1_774_561_600);
        let now = Timestamp::from_second(1_712_693_071).unwrap();
        let t = raw(serde_json::json!({"access_token": "opaque", "expires_at": "2024-04-09 21:04:31 UTC"}));
        assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), 1_712_696_671);
        let t = raw(serde_json::json!({"access_token": "opaque"}));
        assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), now.as_second() + 3600);
    }

    #[test]
    fn others_use_expires_in_even_as_string() {
        let now = Timestamp::from_second(1000).unwrap();
        let t = raw(serde_json::json!({"access_token": "a", "token_type": "Bearer", "expires_in": 3599}));
        assert_eq!(t.expiry(ExpiryRule::ExpiresIn, now), 4599);
        let t = raw(serde_json::json!({"access_token": "a", "expires_in": "7200"}));
        assert_eq!(t.expiry(ExpiryRule::ExpiresIn, now), 8200);
    }

    #[test]
    fn absurd_expires_in_values_are_not_trusted() {
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let hour = now.as_second() + 3600;
        // Huge, negative, zero or non-finite: "unknown", so the one-hour default (and a refresh on
        // a 401) applies; none may wrap into a past expiry (a refresh before every call) or panic.
        for v in [
            serde_json::json!(1e300),
            serde_json::json!(-1),
            serde_json::json!(0),
            serde_json::json!(i64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(u64::MAX),
            serde_json::json!("9223372036854775807"),
            serde_json::json!("-3600"),
            serde_json::json!(100_000_000),
        ] {
            let t = raw(serde_json::json!({"access_token": "a", "expires_in": v.clone()}));
            assert_eq!(t.expiry(ExpiryRule::ExpiresIn, now), hour, "{v}");
            assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), hour, "{v}");
            let set = t.into_token_set(ExpiryRule::ExpiresIn, now, None);
            assert!(!set.needs_refresh(now), "{v}");
        }
        // A JWT exp far in the future or in the past is not trusted either.
        for exp in [i64::MAX, 0, -1] {
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp}}}"));
            let t = raw(serde_json::json!({"access_token": format!("e30.{payload}.c2ln")}));
            assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), hour, "exp {exp}");
        }
        // Jobber's expires_at string likewise.
        let t = raw(serde_json::json!({"access_token": "opaque", "expires_at": "9999-12-31 23:59:59 UTC"}));
        assert_eq!(t.expiry(ExpiryRule::JwtExpFirst, now), hour);
    }

    #[test]
    fn refresh_keeps_old_refresh_token_when_none_returned() {
        let now = Timestamp::from_second(1000).unwrap();
        let old = raw(serde_json::json!({"access_token": "a1", "refresh_token": "r1", "expires_in": 10}))
            .into_token_set(ExpiryRule::ExpiresIn, now, None);
        let new = raw(serde_json::json!({"access_token": "a2", "expires_in": 3600})).into_token_set(
            ExpiryRule::ExpiresIn,
            now,
            Some(&old),
        );
        assert_eq!(new.refresh_token.as_deref(), Some("r1"));
        assert_eq!(new.access_token, "a2");
    }

    #[test]
    fn refresh_margin_scales_with_short_lifetimes() {
        let t = |obtained: i64, exp: i64| TokenSet {
            kind: GrantKind::Oauth,
            access_token: "a".into(),
            refresh_token: None,
            expires_at: Some(exp),
            obtained_at: obtained,
            scope: None,
        };
        let at = |s| Timestamp::from_second(s).unwrap();
        assert!(!t(0, 3600).needs_refresh(at(3500)));
        assert!(t(0, 3600).needs_refresh(at(3541)));
        // a 30-second token is refreshed in its last 15 seconds, not always
        assert!(!t(0, 30).needs_refresh(at(10)));
        assert!(t(0, 30).needs_refresh(at(16)));
    }

    #[test]
    fn debug_never_shows_tokens() {
        let t = TokenSet {
            kind: GrantKind::Oauth,
            access_token: "SECRET-ACCESS".into(),
            refresh_token: Some("SECRET-REFRESH".into()),
            expires_at: None,
            obtained_at: 0,
            scope: None,
        };
        let d = format!("{t:?}");
        assert!(!d.contains("SECRET"), "{d}");
        let r = raw(serde_json::json!({"access_token": "SECRET-A", "refresh_token": "SECRET-R"}));
        assert!(!format!("{r:?}").contains("SECRET"));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn number() -> impl Strategy<Value = serde_json::Value> {
            prop_oneof![
                any::<i64>().prop_map(|i| serde_json::json!(i)),
                any::<u64>().prop_map(|i| serde_json::json!(i)),
                any::<f64>().prop_map(|f| serde_json::json!(f)),
                "[ -~]{0,24}".prop_map(serde_json::Value::String),
                any::<i64>().prop_map(|i| serde_json::Value::String(i.to_string())),
                Just(serde_json::Value::Null),
                Just(serde_json::json!([1])),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Whatever a token endpoint says about lifetimes, the expiry is believable: after now
            /// and at most a year ahead, so a token is neither refreshed on every call nor never.
            #[test]
            fn token_numbers_never_panic_and_give_a_sane_expiry(
                expires_in in number(),
                expires_at in proptest::option::of("[ -~]{0,30}"),
                exp in proptest::option::of(any::<i64>()),
                now in 0i64..4_000_000_000,
            ) {
                let now = Timestamp::from_second(now).unwrap();
                let access = match exp {
                    Some(exp) => {
                        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp}}}"));
                        format!("e30.{payload}.c2ln")
                    }
                    None => "opaque".into(),
                };
                let t = raw(serde_json::json!({"access_token": access, "expires_in": expires_in, "expires_at": expires_at}));
                let _ = oauth2::TokenResponse::expires_in(&t);
                for p in [ExpiryRule::JwtExpFirst, ExpiryRule::ExpiresIn] {
                    let at = t.expiry(p, now);
                    prop_assert!(at > now.as_second() && at - now.as_second() <= MAX_LIFETIME_SECS, "{p:?} {at}");
                    let set = t.clone().into_token_set(p, now, None);
                    let _ = set.needs_refresh(now);
                    let _ = set.expires_at_rfc3339();
                }
            }
        }
    }
}
