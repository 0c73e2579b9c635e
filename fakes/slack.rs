//! Slack, as integ's alerts use it: an incoming webhook and the Web API's `chat.postMessage`.
//!
//! Documented behaviour it follows (api.slack.com, "Sending messages using incoming webhooks",
//! "chat.postMessage", "Rate limits"):
//! - a webhook takes `POST` of a JSON body with `text` and/or `blocks`, answers `200` with the
//!   plain-text body `ok`; errors are plain-text codes with a 4xx status: `400 invalid_payload`
//!   (not JSON), `400 no_text` (neither text nor blocks), `400 invalid_blocks` (a header over
//!   150 characters, a section over 3,000, an unknown block type), `404 no_service` (an unknown
//!   or revoked webhook URL);
//! - `chat.postMessage` takes a bearer token and a JSON body with `channel`, and always answers
//!   `200` with `{"ok": true, ...}` or `{"ok": false, "error": "invalid_auth" |
//!   "channel_not_found" | "no_text" | "invalid_blocks"}`;
//! - both are rate-limited (about one message a second per channel) with `429` and a
//!   `Retry-After` header in seconds.
//!
//! Tests steer it through `/_fake/slack/...`: answer the next posts with 429 (and which
//! `Retry-After`), 500, or hang (answer only after a long delay), and read what was posted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::Delivery;
use crate::http::{Req, Resp};

/// The path of the one webhook this fake knows (its last segment is the secret).
pub const WEBHOOK_PATH: &str = "/slack/services/T0FAKE000/B0FAKE000/fakeWebhookSecret0123456789";
/// The bot token `chat.postMessage` accepts.
pub const BOT_TOKEN: &str = "xoxb-fake-0000000000-0000000000000-fakeBotToken0123";
/// Channels that exist for the bot.
const CHANNELS: [&str; 2] = ["C0FAKEALERTS", "#alerts"];
/// How long a hanging answer waits.
const HANG: Duration = Duration::from_secs(30);

/// How the next posts are answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Mode {
    #[default]
    Ok,
    /// 429 with this `Retry-After` (seconds).
    Limited(u64),
    /// 500 with Slack's plain-text `rollup_error`.
    Broken,
    /// Stall: answer only after [`HANG`], and then with 503 (the post is not delivered, as when
    /// Slack's edge times out before the backend takes it).
    Hang,
}

#[derive(Debug, Default)]
pub struct Slack {
    pub mode: Mode,
    /// How many posts `mode` applies to before it returns to `Ok` (`None`: all).
    pub times: Option<u32>,
    /// Every accepted post: `{"via", "channel", "body"}`.
    pub posts: Vec<Value>,
    /// Every request, accepted or not (a test can see retries).
    pub attempts: u32,
}

fn text(status: u16, body: &str) -> Resp {
    Resp {
        status,
        headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// Why a message's blocks are refused, if they are.
fn block_problem(v: &Value) -> Option<&'static str> {
    let blocks = v.get("blocks")?;
    let Some(blocks) = blocks.as_array() else { return Some("invalid_blocks") };
    for b in blocks {
        let t = b["text"]["text"].as_str().unwrap_or("");
        let ok = match b["type"].as_str() {
            Some("header") => b["text"]["type"] == "plain_text" && (1..=150).contains(&t.chars().count()),
            Some("section") => {
                matches!(b["text"]["type"].as_str(), Some("plain_text" | "mrkdwn"))
                    && (1..=3000).contains(&t.chars().count())
            }
            Some("divider" | "context") => true,
            _ => false,
        };
        if !ok {
            return Some("invalid_blocks");
        }
    }
    None
}

impl Slack {
    /// The mode for this post (and count it down).
    fn take_mode(&mut self) -> Mode {
        let mode = self.mode.clone();
        if let Some(n) = self.times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.mode = Mode::Ok;
                self.times = None;
            }
        }
        mode
    }

    pub fn serve(&mut self, req: &Req) -> (Resp, Delivery) {
        self.attempts += 1;
        let bot = req.path == "/slack/api/chat.postMessage";
        if req.method != "POST" || !(bot || req.path == WEBHOOK_PATH) {
            return (text(404, "no_service"), Delivery::default());
        }
        let mut d = Delivery::default();
        match self.take_mode() {
            Mode::Ok => {}
            Mode::Limited(secs) => {
                let r = if bot {
                    Resp::json(429, &json!({"ok": false, "error": "ratelimited"}))
                } else {
                    text(429, "rate_limited")
                };
                return (r.with_header("Retry-After", &secs.to_string()), d);
            }
            Mode::Broken => return (text(500, "rollup_error"), d),
            Mode::Hang => {
                d.delay = HANG;
                return (text(503, "service_unavailable"), d);
            }
        }
        let body: Option<Value> = serde_json::from_slice(&req.body).ok().filter(Value::is_object);
        if bot {
            let error = match (&body, req.bearer()) {
                (_, t) if t != Some(BOT_TOKEN) => Some("invalid_auth"),
                (None, _) => Some("invalid_json"),
                (Some(v), _) if !v["channel"].as_str().is_some_and(|c| CHANNELS.contains(&c)) => {
                    Some("channel_not_found")
                }
                (Some(v), _) if v.get("text").is_none() && v.get("blocks").is_none() => Some("no_text"),
                (Some(v), _) => block_problem(v),
            };
            if let Some(e) = error {
                return (Resp::json(200, &json!({"ok": false, "error": e})), d);
            }
            let v = body.unwrap_or_default();
            self.posts.push(json!({"via": "bot", "channel": v["channel"], "body": v}));
            return (
                Resp::json(
                    200,
                    &json!({"ok": true, "channel": v["channel"], "ts": format!("{}.000100", 1_700_000_000 + self.posts.len())}),
                ),
                d,
            );
        }
        let Some(v) = body else { return (text(400, "invalid_payload"), d) };
        if v.get("text").is_none() && v.get("blocks").is_none() {
            return (text(400, "no_text"), d);
        }
        if let Some(e) = block_problem(&v) {
            return (text(400, e), d);
        }
        self.posts.push(json!({"via": "webhook", "channel": null, "body": v}));
        (text(200, "ok"), d)
    }

    /// `/_fake/slack/...`: `GET posts`, `POST mode {"mode": "ok"|"429"|"500"|"hang",
    /// "retry_after": secs, "times": n}`, `POST reset`.
    pub fn control(&mut self, method: &str, rest: &[&str], body: &Value) -> Resp {
        match (method, rest) {
            ("GET", ["posts"]) => Resp::json(200, &json!({"posts": self.posts, "attempts": self.attempts})),
            ("POST", ["reset"]) => {
                *self = Slack::default();
                Resp::json(200, &json!({"ok": true}))
            }
            ("POST", ["mode"]) => {
                let mode = match body["mode"].as_str() {
                    Some("ok") => Mode::Ok,
                    Some("429") => Mode::Limited(body["retry_after"].as_u64().unwrap_or(1).min(3600)),
                    Some("500") => Mode::Broken,
                    Some("hang") => Mode::Hang,
                    _ => return Resp::json(400, &json!({"error": "mode must be ok, 429, 500 or hang"})),
                };
                self.mode = mode;
                self.times = body["times"].as_u64().map(|n| n.clamp(1, 1_000_000) as u32);
                Resp::json(200, &json!({"ok": true}))
            }
            _ => Resp::json(404, &json!({"error": "unknown control endpoint"})),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(s: &mut Slack, path: &str, body: &str, bearer: Option<&str>) -> (u16, String, Delivery) {
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(t) = bearer {
            headers.push(("Authorization".into(), format!("Bearer {t}")));
        }
        let req = Req {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers,
            body: body.as_bytes().to_vec(),
        };
        let (r, d) = s.serve(&req);
        (r.status, String::from_utf8_lossy(&r.body).into_owned(), d)
    }

    #[test]
    fn the_webhook_answers_like_slack() {
        let mut s = Slack::default();
        assert_eq!(post(&mut s, WEBHOOK_PATH, r#"{"text":"hi"}"#, None).1, "ok");
        assert_eq!(post(&mut s, "/slack/services/T/B/wrong", r#"{"text":"hi"}"#, None).0, 404);
        assert_eq!(post(&mut s, WEBHOOK_PATH, "not json", None).1, "invalid_payload");
        assert_eq!(post(&mut s, WEBHOOK_PATH, "{}", None).1, "no_text");
        let long = format!(
            r#"{{"blocks":[{{"type":"header","text":{{"type":"plain_text","text":"{}"}}}}]}}"#,
            "x".repeat(151)
        );
        assert_eq!(post(&mut s, WEBHOOK_PATH, &long, None).1, "invalid_blocks");
        assert_eq!(s.posts.len(), 1);
        s.control("POST", &["mode"], &json!({"mode": "429", "retry_after": 2, "times": 1}));
        let (status, _, _) = post(&mut s, WEBHOOK_PATH, r#"{"text":"hi"}"#, None);
        assert_eq!(status, 429);
        assert_eq!(post(&mut s, WEBHOOK_PATH, r#"{"text":"hi"}"#, None).0, 200, "429 only once");
        s.control("POST", &["mode"], &json!({"mode": "hang"}));
        assert_eq!(post(&mut s, WEBHOOK_PATH, r#"{"text":"hi"}"#, None).2.delay, HANG);
    }

    #[test]
    fn the_bot_needs_its_token_and_a_channel() {
        let mut s = Slack::default();
        let path = "/slack/api/chat.postMessage";
        assert!(
            post(&mut s, path, r#"{"channel":"C0FAKEALERTS","text":"x"}"#, Some("xoxb-wrong"))
                .1
                .contains("invalid_auth")
        );
        assert!(post(&mut s, path, r#"{"channel":"C9","text":"x"}"#, Some(BOT_TOKEN)).1.contains("channel_not_found"));
        assert!(
            post(&mut s, path, r#"{"channel":"C0FAKEALERTS","text":"x"}"#, Some(BOT_TOKEN)).1.contains(r#""ok":true"#)
        );
        assert_eq!(s.posts[0]["via"], "bot");
    }
}
