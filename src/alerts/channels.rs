//! The channels an alert goes out on: Slack (an incoming webhook, or a bot token and a channel
//! through `chat.postMessage`) and e-mail over SMTP (lettre, on the same rustls as every other
//! connection integ makes).
//!
//! A channel is a guest in the sync's run, so every send has a deadline ([`CHANNEL_DEADLINE`]
//! for all of a channel's messages in one run), a Slack 429 is waited out only when its
//! `Retry-After` fits in what is left of it, and a failure is a short sanitised string (never
//! the webhook URL, a token, a password or a whole answer) that the caller records and retries
//! next run. Nothing here can change the exit code of the command that sends.

use std::time::{Duration, Instant};

use lettre::AsyncTransport;
use secrecy::{ExposeSecret, SecretString};

use super::conditions::sanitise;
use super::message::{Message, slack_payload};

/// The most time one channel may take in one run, all its messages together.
pub const CHANNEL_DEADLINE: Duration = Duration::from_secs(10);

/// The largest answer read from Slack (its answers are a few hundred bytes).
const SLACK_BODY: usize = 64 << 10;

/// Slack, by webhook or by bot.
pub struct Slack {
    /// The incoming-webhook URL (the URL is the credential).
    pub webhook: Option<SecretString>,
    /// A bot token and the channel it posts to.
    pub bot: Option<(SecretString, String)>,
    /// The Web API base (`https://slack.com/api`).
    pub api_url: String,
}

/// E-mail through one relay.
pub struct Email {
    /// `smtp://user@host:587`, `smtps://...`, or `smtp://...?tls=none` to loopback (checked).
    pub url: url::Url,
    pub password: Option<SecretString>,
    pub from: lettre::message::Mailbox,
    pub to: Vec<lettre::message::Mailbox>,
    /// An extra root certificate (PEM) for a relay with a private CA.
    pub ca_pem: Option<Vec<u8>>,
}

/// The configured channels.
#[derive(Default)]
pub struct Channels {
    pub slack: Option<Slack>,
    pub email: Option<Email>,
}

impl Channels {
    /// The names of the configured channels, as `alert_outbox.channel` has them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.slack.is_some() {
            v.push("slack");
        }
        if self.email.is_some() {
            v.push("email");
        }
        v
    }

    /// Send one message on `channel`, giving up at `deadline`.
    pub async fn send(
        &self,
        channel: &str,
        m: &Message,
        http: &reqwest::Client,
        date: jiff::Timestamp,
        deadline: Instant,
    ) -> Result<(), String> {
        let work = async {
            match channel {
                "slack" => match &self.slack {
                    Some(s) => s.send(m, http, deadline).await,
                    None => Err("Slack is not configured".into()),
                },
                "email" => match &self.email {
                    Some(e) => e.send(m, date).await,
                    None => Err("e-mail is not configured".into()),
                },
                other => Err(format!("unknown channel '{other}'")),
            }
        };
        match tokio::time::timeout_at(deadline.into(), work).await {
            Ok(result) => result,
            Err(_) => {
                Err(format!("no answer within {} s; the message is kept for the next run", CHANNEL_DEADLINE.as_secs()))
            }
        }
    }
}

impl Slack {
    async fn send(&self, m: &Message, http: &reqwest::Client, deadline: Instant) -> Result<(), String> {
        let (url, token, channel) = match (&self.webhook, &self.bot) {
            (Some(hook), _) => (hook.expose_secret().to_string(), None, None),
            (None, Some((token, channel))) => (
                format!("{}/chat.postMessage", self.api_url.trim_end_matches('/')),
                Some(token),
                Some(channel.as_str()),
            ),
            (None, None) => return Err("Slack has neither a webhook nor a bot token".into()),
        };
        let body = slack_payload(m, channel);
        loop {
            let mut req = http.post(&url).json(&body);
            if let Some(t) = token {
                req = crate::http::bearer(req, t);
            }
            let resp = req.send().await.map_err(|e| format!("Slack: {}", crate::http::describe(&e)))?;
            let status = resp.status();
            if status.as_u16() == 429 {
                let wait = crate::http::retry_after(resp.headers()).unwrap_or(Duration::from_secs(1));
                if Instant::now() + wait >= deadline {
                    return Err(format!(
                        "Slack is rate-limiting (Retry-After {} s, past this run's deadline); the message is kept for the next run",
                        wait.as_secs()
                    ));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            let text = crate::http::read_body(resp, SLACK_BODY)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            if !status.is_success() {
                return Err(format!("Slack answered HTTP {}: {}", status.as_u16(), short(&text)));
            }
            if token.is_some() {
                // chat.postMessage answers 200 with {"ok": false, "error": "..."} on failure.
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if v["ok"] != serde_json::Value::Bool(true) {
                    return Err(format!(
                        "Slack refused the post: {}",
                        short(v["error"].as_str().unwrap_or("no reason given"))
                    ));
                }
            }
            return Ok(());
        }
    }
}

/// A provider's answer cut to a few words: enough to name the error, never a whole body.
fn short(text: &str) -> String {
    let s = sanitise(text);
    s.chars().take(100).collect()
}

impl Email {
    async fn send(&self, m: &Message, date: jiff::Timestamp) -> Result<(), String> {
        use lettre::transport::smtp::authentication::{Credentials, Mechanism};
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        use lettre::{AsyncSmtpTransport, Tokio1Executor};
        let host = self.url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
        let plain = self.url.query_pairs().any(|(k, v)| k == "tls" && v == "none");
        let tls = || {
            let mut b = TlsParameters::builder(host.clone());
            if let Some(pem) = &self.ca_pem {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| format!("alerts.smtp_ca_file is not a PEM certificate: {e}"))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| format!("cannot set up TLS for {host}: {e}"))
        };
        let (port, tls) = match (self.url.scheme(), plain) {
            ("smtps", _) => (465, Tls::Wrapper(tls()?)),
            (_, true) => (25, Tls::None),
            _ => (587, Tls::Required(tls()?)),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(self.url.port().unwrap_or(port))
            .tls(tls)
            .timeout(Some(CHANNEL_DEADLINE));
        let user = percent_decode(self.url.username());
        if !user.is_empty() {
            let password = self.password.as_ref().map(|p| p.expose_secret().to_string()).unwrap_or_default();
            builder = builder
                .credentials(Credentials::new(user, password))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        let transport = builder.build();
        let mut msg = lettre::Message::builder()
            .from(self.from.clone())
            .subject(m.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .message_id(None)
            .date(std::time::UNIX_EPOCH + Duration::from_secs(date.as_second().max(0) as u64));
        for to in &self.to {
            msg = msg.to(to.clone());
        }
        let msg = msg.body(m.body.clone()).map_err(|e| format!("cannot build the e-mail: {e}"))?;
        transport.send(msg).await.map(|_| ()).map_err(|e| format!("SMTP {host}: {}", short(&e.to_string())))
    }
}

/// A URL's user name as written before percent-encoding (`alerts%40example.com`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_are_cut_short_and_neutralised() {
        let s = super::short(&format!("invalid_payload\u{1b}]52;c;x\u{7}{}", "z".repeat(1000)));
        assert!(s.chars().count() <= 100 && !s.contains('\u{1b}'), "{s}");
        assert_eq!(super::percent_decode("alerts%40example.com"), "alerts@example.com");
        assert_eq!(super::percent_decode("a+b%2"), "a+b%2");
    }
}
