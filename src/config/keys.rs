//! The table of every setting integ knows, and the rule each value must pass.
//!
//! One row per setting: its dotted key in config.toml, the environment variable that overrides
//! it, its default, whether it is a secret, how it is checked and its help line. Defaults are
//! written here and nowhere else: code that needs a setting reads it through
//! [`Settings`](super::Settings), so a default copied into a caller cannot drift from this one.

use std::net::IpAddr;

/// How a setting's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Text,
    /// An endpoint: https, or plain http only for loopback hosts.
    Url,
    /// A loopback redirect URI with a path.
    RedirectUri,
    OneOf(&'static [&'static str]),
    Date,
    /// A whole number from 1 to the given bound, which fits a u32 (what
    /// [`Settings::count`](super::Settings::count) reads), so every use can widen it and multiply
    /// without overflow.
    Count(u32),
    /// A local time of day, `HH:MM` (24-hour).
    TimeOfDay,
    /// A Slack incoming-webhook URL: `https://hooks.slack.com/...`, or plain http to loopback
    /// (tests). A secret: no message about it repeats the value.
    SlackWebhook,
    /// `smtp://[user@]host[:port]` (STARTTLS required), `smtps://` (TLS from the start), or
    /// `smtp://...?tls=none` to a loopback host only. Never a password.
    SmtpUrl,
    /// One e-mail address.
    Email,
    /// One or more e-mail addresses, separated by commas.
    EmailList,
    /// A request rate, `N/Ss` or `N/Mm` (requests per window): see [`parse_rate`].
    Rate,
}

/// Most requests a rate may allow per window.
pub const MAX_RATE_REQUESTS: u32 = 100_000;
/// Longest window of a rate, in seconds (an hour).
pub const MAX_RATE_WINDOW_SECS: u32 = 3600;

/// A rate such as `500/60s` or `500/1m`: (requests, window in seconds), each from 1 to its
/// bound ([`MAX_RATE_REQUESTS`], [`MAX_RATE_WINDOW_SECS`]).
pub fn parse_rate(value: &str) -> Option<(u32, u32)> {
    let (n, window) = value.trim().split_once('/')?;
    let n: u32 = n.trim().parse().ok().filter(|n| (1..=MAX_RATE_REQUESTS).contains(n))?;
    let window = window.trim();
    let secs = match (window.strip_suffix('s'), window.strip_suffix('m')) {
        (Some(s), _) => s.parse::<u32>().ok()?,
        (_, Some(m)) => m.parse::<u32>().ok()?.checked_mul(60)?,
        _ => return None,
    };
    (1..=MAX_RATE_WINDOW_SECS).contains(&secs).then_some((n, secs))
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    pub key: &'static str,
    pub env: Option<&'static str>,
    pub default: Option<&'static str>,
    pub secret: bool,
    pub check: Check,
    pub help: &'static str,
}

const fn key(
    key: &'static str,
    env: Option<&'static str>,
    default: Option<&'static str>,
    check: Check,
    help: &'static str,
) -> KeyDef {
    KeyDef { key, env, default, secret: false, check, help }
}

const fn secret(key: &'static str, env: &'static str, help: &'static str) -> KeyDef {
    KeyDef { key, env: Some(env), default: None, secret: true, check: Check::Text, help }
}

const fn secret_checked(key: &'static str, env: &'static str, check: Check, help: &'static str) -> KeyDef {
    KeyDef { key, env: Some(env), default: None, secret: true, check, help }
}

/// The Jobber GraphQL API version integ speaks. Jobber serves a version for at least 12 and at
/// most 18 months and silently serves the oldest supported one after that, so this is a recent
/// version named in jobber.md (2026-05-12), not the 2025 example.
pub const JOBBER_GRAPHQL_VERSION: &str = "2026-05-12";

/// Bounds of the count settings: generous, but far from where days × 86,400 or a timestamp
/// window could overflow.
pub const MAX_WINDOW_DAYS: u32 = 36_525;
pub const MAX_SWEEP_DAYS: u32 = 3_650;
pub const MAX_OVERLAP_MINUTES: u32 = 30 * 24 * 60;
/// The most failed runs in a row `alerts.after_failures` may wait for.
pub const MAX_AFTER_FAILURES: u32 = 1_000;
/// The longest `alerts.stale_hours`: a year.
pub const MAX_STALE_HOURS: u32 = 8_784;

/// Every setting integ knows. `integ config list` prints them in this order.
pub const KEYS: &[KeyDef] = &[
    key(
        "secret_store",
        Some("INTEG_SECRET_STORE"),
        Some("keyring"),
        Check::OneOf(&["keyring", "file", "database"]),
        "where tokens and client secrets are kept: the OS keyring, an encrypted file, or encrypted rows in the PostgreSQL database",
    ),
    key(
        "keyring_backend",
        Some("INTEG_KEYRING_BACKEND"),
        Some("default"),
        Check::OneOf(&["default", "secret-service", "keyutils"]),
        "which OS keyring on Linux: Secret Service (default) or kernel keyutils",
    ),
    key(
        "keyring_service",
        Some("INTEG_KEYRING_SERVICE"),
        Some("integ"),
        Check::Text,
        "service name of integ's keyring entries",
    ),
    key(
        "secret_key_file",
        Some("INTEG_SECRET_KEY_FILE"),
        None,
        Check::Text,
        "file holding the passphrase of the encrypted file or database store (instead of INTEG_SECRET_KEY); for the database store, a file of exactly 32 bytes or 64 hex digits is a raw key",
    ),
    secret("secret_key", "INTEG_SECRET_KEY", "passphrase of the encrypted file or database store (environment only)"),
    key(
        "database_url",
        Some("INTEG_DATABASE_URL"),
        None,
        Check::Text,
        "postgres://user@host[:port]/db[?sslmode=...]: keep the data in PostgreSQL instead of integ.db",
    ),
    secret(
        "database.password",
        "INTEG_DATABASE_PASSWORD",
        "PostgreSQL password when the URL has none (database_url, `integ db copy|migrate`)",
    ),
    key("jobber.client_id", Some("JOBBER_CLIENT_ID"), None, Check::Text, "Jobber app client id"),
    secret("jobber.client_secret", "JOBBER_CLIENT_SECRET", "Jobber app client secret"),
    key(
        "jobber.redirect_uri",
        Some("JOBBER_REDIRECT_URI"),
        Some("http://localhost:47620/callback/jobber"),
        Check::RedirectUri,
        "the OAuth Callback URL registered on the Jobber app (exact match)",
    ),
    key(
        "jobber.auth_url",
        Some("INTEG_JOBBER_AUTH_URL"),
        Some("https://api.getjobber.com/api/oauth/authorize"),
        Check::Url,
        "Jobber authorization endpoint",
    ),
    key(
        "jobber.token_url",
        Some("INTEG_JOBBER_TOKEN_URL"),
        Some("https://api.getjobber.com/api/oauth/token"),
        Check::Url,
        "Jobber token endpoint",
    ),
    key(
        "jobber.revoke_url",
        Some("INTEG_JOBBER_REVOKE_URL"),
        None,
        Check::Url,
        "unused: Jobber disconnects through the appDisconnect mutation",
    ),
    key(
        "jobber.api_url",
        Some("INTEG_JOBBER_API_URL"),
        Some("https://api.getjobber.com/api/graphql"),
        Check::Url,
        "Jobber GraphQL endpoint",
    ),
    key(
        "jobber.graphql_version",
        Some("INTEG_JOBBER_GRAPHQL_VERSION"),
        Some(JOBBER_GRAPHQL_VERSION),
        Check::Date,
        "X-JOBBER-GRAPHQL-VERSION sent with every Jobber request",
    ),
    key(
        "jobber.pkce",
        Some("INTEG_JOBBER_PKCE"),
        Some("on"),
        Check::OneOf(&["on", "off"]),
        "send PKCE S256 to Jobber (undocumented there; servers ignore unknown parameters)",
    ),
    key(
        "jobber.overlap_minutes",
        Some("INTEG_JOBBER_OVERLAP_MINUTES"),
        Some("60"),
        Check::Count(MAX_OVERLAP_MINUTES),
        "how far below the last watermark an incremental jobs scan reaches (at most 30 days)",
    ),
    key(
        "jobber.sweep_days",
        Some("INTEG_JOBBER_SWEEP_DAYS"),
        Some("7"),
        Check::Count(MAX_SWEEP_DAYS),
        "a full jobs sweep (which finds deleted jobs) runs on its own after this many days (at most 3650)",
    ),
    key("google.client_id", Some("GOOGLE_CLIENT_ID"), None, Check::Text, "Google Desktop-app client id"),
    secret("google.client_secret", "GOOGLE_CLIENT_SECRET", "Google Desktop-app client secret"),
    key(
        "events.past_days",
        Some("INTEG_EVENTS_PAST_DAYS"),
        Some("30"),
        Check::Count(MAX_WINDOW_DAYS),
        "the sync window reaches this many days back (at most 36525, a century)",
    ),
    key(
        "events.future_days",
        Some("INTEG_EVENTS_FUTURE_DAYS"),
        Some("365"),
        Check::Count(MAX_WINDOW_DAYS),
        "the sync window reaches this many days ahead (at most 36525, a century)",
    ),
    key(
        "google.app_status",
        Some("INTEG_GOOGLE_APP_STATUS"),
        Some("production"),
        Check::OneOf(&["production", "testing"]),
        "publishing status of the Google app; Testing apps lose refresh tokens after 7 days",
    ),
    key(
        "google.auth_url",
        Some("INTEG_GOOGLE_AUTH_URL"),
        Some("https://accounts.google.com/o/oauth2/v2/auth"),
        Check::Url,
        "Google authorization endpoint",
    ),
    key(
        "google.token_url",
        Some("INTEG_GOOGLE_TOKEN_URL"),
        Some("https://oauth2.googleapis.com/token"),
        Check::Url,
        "Google token endpoint",
    ),
    key(
        "google.revoke_url",
        Some("INTEG_GOOGLE_REVOKE_URL"),
        Some("https://oauth2.googleapis.com/revoke"),
        Check::Url,
        "Google revocation endpoint",
    ),
    key(
        "google.api_url",
        Some("INTEG_GOOGLE_API_URL"),
        Some("https://www.googleapis.com"),
        Check::Url,
        "Google API base (calendar/v3, oauth2/v3/userinfo)",
    ),
    key(
        "google.rate_limit",
        Some("INTEG_GOOGLE_RATE_LIMIT"),
        Some("500/60s"),
        Check::Rate,
        "at most this many Google Calendar requests per account in any such window (Google allows 600 a minute per user)",
    ),
    key(
        "google.scopes",
        Some("INTEG_GOOGLE_SCOPES"),
        Some("openid email https://www.googleapis.com/auth/calendar.readonly"),
        Check::Text,
        "space-separated Google scopes",
    ),
    key(
        "microsoft.client_id",
        Some("MICROSOFT_CLIENT_ID"),
        None,
        Check::Text,
        "Microsoft Entra app (client) id, registered as 'Mobile and desktop applications'",
    ),
    key(
        "microsoft.rate_limit",
        Some("INTEG_MICROSOFT_RATE_LIMIT"),
        Some("9000/10m"),
        Check::Rate,
        "at most this many Microsoft Graph calendar requests per mailbox in any such window (Outlook allows 10,000 per 10 minutes)",
    ),
    key(
        "microsoft.tenant_id",
        Some("MICROSOFT_TENANT_ID"),
        Some("common"),
        Check::Text,
        "Microsoft tenant: common, organizations, consumers or a tenant id",
    ),
    key(
        "microsoft.redirect_uri",
        Some("MICROSOFT_REDIRECT_URI"),
        Some("http://localhost/callback/microsoft"),
        Check::RedirectUri,
        "redirect URI registered on the Entra app (the port is ignored by Microsoft)",
    ),
    key(
        "microsoft.auth_url",
        Some("INTEG_MICROSOFT_AUTH_URL"),
        Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
        Check::Url,
        "Microsoft authorization endpoint ({tenant} is replaced)",
    ),
    key(
        "microsoft.token_url",
        Some("INTEG_MICROSOFT_TOKEN_URL"),
        Some("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
        Check::Url,
        "Microsoft token endpoint ({tenant} is replaced)",
    ),
    key(
        "microsoft.revoke_url",
        Some("INTEG_MICROSOFT_REVOKE_URL"),
        None,
        Check::Url,
        "unused: Microsoft has no revocation endpoint",
    ),
    key(
        "microsoft.api_url",
        Some("INTEG_MICROSOFT_API_URL"),
        Some("https://graph.microsoft.com/v1.0"),
        Check::Url,
        "Microsoft Graph base",
    ),
    key(
        "microsoft.scopes",
        Some("INTEG_MICROSOFT_SCOPES"),
        Some("offline_access openid profile email User.Read Calendars.Read"),
        Check::Text,
        "space-separated Microsoft scopes",
    ),
    key("calendly.client_id", Some("CALENDLY_CLIENT_ID"), None, Check::Text, "Calendly OAuth app client id"),
    secret("calendly.client_secret", "CALENDLY_CLIENT_SECRET", "Calendly OAuth app client secret (web apps)"),
    key(
        "calendly.redirect_uri",
        Some("CALENDLY_REDIRECT_URI"),
        Some("http://localhost:47621/callback/calendly"),
        Check::RedirectUri,
        "redirect URI registered on the Calendly app (exact match; Sandbox apps only)",
    ),
    key(
        "calendly.auth_url",
        Some("INTEG_CALENDLY_AUTH_URL"),
        Some("https://auth.calendly.com/oauth/authorize"),
        Check::Url,
        "Calendly authorization endpoint",
    ),
    key(
        "calendly.token_url",
        Some("INTEG_CALENDLY_TOKEN_URL"),
        Some("https://auth.calendly.com/oauth/token"),
        Check::Url,
        "Calendly token endpoint",
    ),
    key(
        "calendly.revoke_url",
        Some("INTEG_CALENDLY_REVOKE_URL"),
        Some("https://auth.calendly.com/oauth/revoke"),
        Check::Url,
        "Calendly revocation endpoint",
    ),
    key(
        "calendly.api_url",
        Some("INTEG_CALENDLY_API_URL"),
        Some("https://api.calendly.com"),
        Check::Url,
        "Calendly API base",
    ),
    key(
        "calendly.scopes",
        Some("INTEG_CALENDLY_SCOPES"),
        Some("users:read scheduled_events:read"),
        Check::Text,
        "space-separated Calendly scopes",
    ),
    key(
        "alerts.after_failures",
        Some("INTEG_ALERTS_AFTER_FAILURES"),
        Some("3"),
        Check::Count(MAX_AFTER_FAILURES),
        "alert when a stream has failed this many runs in a row",
    ),
    key(
        "alerts.stale_hours",
        Some("INTEG_ALERTS_STALE_HOURS"),
        Some("24"),
        Check::Count(MAX_STALE_HOURS),
        "alert when a stream has not succeeded for this many hours",
    ),
    key(
        "alerts.daily_summary",
        Some("INTEG_ALERTS_DAILY_SUMMARY"),
        None,
        Check::TimeOfDay,
        "send a daily summary with the first sync run after this local time (HH:MM; unset: none)",
    ),
    secret_checked(
        "alerts.slack_webhook",
        "INTEG_ALERTS_SLACK_WEBHOOK",
        Check::SlackWebhook,
        "Slack incoming-webhook URL alerts are posted to (https://hooks.slack.com/...)",
    ),
    secret("alerts.slack_bot_token", "INTEG_ALERTS_SLACK_BOT_TOKEN", "Slack bot token (xoxb-...) for chat.postMessage"),
    key(
        "alerts.slack_channel",
        Some("INTEG_ALERTS_SLACK_CHANNEL"),
        None,
        Check::Text,
        "the channel the bot token posts alerts to (an id such as C0123456789, or #name)",
    ),
    key(
        "alerts.slack_api_url",
        Some("INTEG_ALERTS_SLACK_API_URL"),
        Some("https://slack.com/api"),
        Check::Url,
        "Slack Web API base (chat.postMessage)",
    ),
    key(
        "alerts.smtp_url",
        Some("INTEG_ALERTS_SMTP_URL"),
        None,
        Check::SmtpUrl,
        "mail relay for alert e-mails: smtp://user@host:587 (STARTTLS required) or smtps://user@host:465",
    ),
    secret("alerts.smtp_password", "INTEG_ALERTS_SMTP_PASSWORD", "password of the user in alerts.smtp_url"),
    key(
        "alerts.smtp_ca_file",
        Some("INTEG_ALERTS_SMTP_CA_FILE"),
        None,
        Check::Text,
        "a PEM certificate to trust besides the public roots (a relay with a private CA)",
    ),
    key(
        "alerts.email_to",
        Some("INTEG_ALERTS_EMAIL_TO"),
        None,
        Check::EmailList,
        "who gets alert e-mails (comma-separated)",
    ),
    key("alerts.email_from", Some("INTEG_ALERTS_EMAIL_FROM"), None, Check::Email, "the From address of alert e-mails"),
];

/// Look a key up in [`KEYS`].
pub fn key_def(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.key == name)
}

/// Check one value against its key's rule.
pub fn check(def: &KeyDef, value: &str) -> std::result::Result<(), String> {
    match def.check {
        Check::Text => Ok(()),
        Check::OneOf(options) => {
            if options.contains(&value) {
                Ok(())
            } else {
                Err(format!("'{value}' is not one of {}", options.join(", ")))
            }
        }
        Check::Date => jiff::civil::Date::strptime("%Y-%m-%d", value)
            .map(|_| ())
            .map_err(|_| format!("'{value}' is not a date like 2026-05-12")),
        Check::Rate => parse_rate(value).map(|_| ()).ok_or_else(|| {
            format!(
                "'{value}' is not a rate like 500/60s or 500/1m (1 to {MAX_RATE_REQUESTS} requests per 1 s to {} min)",
                MAX_RATE_WINDOW_SECS / 60
            )
        }),
        Check::Count(max) => match value.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(()),
            _ => Err(format!("'{value}' is not a whole number from 1 to {max}")),
        },
        Check::Url => check_url(value, false),
        Check::RedirectUri => check_url(value, true),
        Check::TimeOfDay => time_of_day(value)
            .map(|_| ())
            .ok_or_else(|| format!("'{value}' is not a time of day like 08:00 (24-hour HH:MM)")),
        Check::SlackWebhook => check_slack_webhook(value),
        Check::SmtpUrl => check_smtp_url(value),
        Check::Email => value
            .trim()
            .parse::<lettre::message::Mailbox>()
            .map(|_| ())
            .map_err(|_| format!("'{value}' is not an e-mail address")),
        Check::EmailList => {
            let parts: Vec<&str> = value.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
            if parts.is_empty() {
                return Err("no e-mail address given".into());
            }
            match parts.iter().find(|p| p.parse::<lettre::message::Mailbox>().is_err()) {
                Some(bad) => Err(format!("'{bad}' is not an e-mail address")),
                None => Ok(()),
            }
        }
    }
}

/// `HH:MM` as (hour, minute).
pub fn time_of_day(value: &str) -> Option<(i8, i8)> {
    let (h, m) = value.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some((h, m))
}

fn is_loopback(url: &url::Url) -> bool {
    url.host().is_some_and(|h| match h {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    })
}

/// The webhook URL is the secret itself (whoever has it can post), so no message repeats it.
fn check_slack_webhook(value: &str) -> std::result::Result<(), String> {
    let Ok(url) = url::Url::parse(value.trim()) else {
        return Err("the value is not a URL; copy the webhook URL from the Slack app's Incoming Webhooks page".into());
    };
    let slack = url.scheme() == "https" && url.host_str() == Some("hooks.slack.com") && url.port().is_none();
    if slack || (url.scheme() == "http" && is_loopback(&url)) {
        Ok(())
    } else {
        Err("only https://hooks.slack.com/ URLs (or plain http to a loopback test server) are accepted".into())
    }
}

fn check_smtp_url(value: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(value).map_err(|e| format!("'{value}' is not a URL ({e})"))?;
    if url.password().is_some() {
        return Err("the URL must not hold a password; store it with `integ config set alerts.smtp_password`".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{url}' names no mail server"));
    }
    let plain = match url.query_pairs().find(|(k, _)| k == "tls").map(|(_, v)| v.into_owned()) {
        None => false,
        Some(v) if v == "none" => true,
        Some(v) => return Err(format!("tls={v} is not understood; the only choice is tls=none (loopback only)")),
    };
    match url.scheme() {
        "smtp" if plain && !is_loopback(&url) => Err(format!(
            "'{url}' would send mail and the password in plain text; only a loopback relay may use tls=none"
        )),
        "smtp" => Ok(()),
        "smtps" if plain => Err("smtps:// is always TLS; drop tls=none".into()),
        "smtps" => Ok(()),
        other => Err(format!("'{url}' has scheme '{other}'; use smtp:// (STARTTLS) or smtps://")),
    }
}

/// https anywhere; plain http only for loopback hosts (RFC 8252 §7.3, RFC 9700 §4.1).
fn check_url(value: &str, redirect: bool) -> std::result::Result<(), String> {
    // `{tenant}` in the Microsoft defaults is replaced later; braces are fine in a path.
    let url = url::Url::parse(value).map_err(|e| format!("'{value}' is not a URL ({e})"))?;
    let loopback = url.host().is_some_and(|h| match h {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    });
    if redirect {
        if url.scheme() != "http" || !loopback {
            return Err(format!(
                "'{value}' must be a plain-http loopback address such as http://localhost:47620/callback, \
                 where integ's listener can receive the redirect"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("'{value}' must not have a query or fragment"));
        }
        return Ok(());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!("'{value}' uses plain http to a non-loopback host; use https")),
        other => Err(format!("'{value}' has scheme '{other}'; use https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_take_seconds_or_minutes_within_bounds() {
        assert_eq!(parse_rate("500/60s"), Some((500, 60)));
        assert_eq!(parse_rate(" 500 / 1m "), Some((500, 60)));
        assert_eq!(parse_rate("1/3600s"), Some((1, 3600)));
        for bad in ["", "500", "500/60", "0/60s", "500/0s", "500/61m", "100001/1s", "-1/1s", "1/1h", "1/99999999999m"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_of_any_key_is_checked_without_panicking(index in 0..KEYS.len(), value in "\\PC{0,60}") {
            let _ = check(&KEYS[index], &value);
        }
    }
}
