//! What alert messages say, written once for every channel: a subject and a plain-text body
//! (the e-mail, and Slack's notification text), and Slack's short Block Kit layout made from
//! them. They name what happened, which account, since when and the one command that fixes it;
//! never a token, a secret, a provider's body or data beyond account and calendar names. The
//! provider text in them (error messages, account names) was sanitised where it was read, and
//! is cleaned again here, so nothing reaches a person's screen as a control sequence.

use crate::store::alerts::AlertRow;

use super::conditions::{Condition, Kind, sanitise};

/// One message, before it is fitted to a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

fn who(account: &str) -> String {
    if account.is_empty() { "integ".to_string() } else { sanitise(account) }
}

/// A condition has started.
pub fn opened(c: &Condition) -> Message {
    let subject = match c.key.kind {
        Kind::SecretStore => format!("integ: {}", c.key.kind.title()),
        kind => format!("integ: {} {}", who(&c.account), kind.title()),
    };
    let mut body = format!("What happened: {}\n", sanitise(&c.detail));
    if !c.account.is_empty() {
        body.push_str(&format!("Account: {}\n", sanitise(&c.account)));
    }
    if !c.key.stream.is_empty() {
        body.push_str(&format!("Stream: {}\n", sanitise(&c.key.stream)));
    }
    body.push_str(&format!("Since: {}\n", sanitise(&c.since)));
    body.push_str(&format!("Fix: {}\n", sanitise(&c.fix)));
    Message { subject, body }
}

/// A condition that was announced has cleared; `disconnected`: because its account was
/// disconnected (it is not healthy, it is no longer watched).
pub fn cleared(a: &AlertRow, now: &str, disconnected: bool) -> Message {
    let title = Kind::parse(&a.condition).map(Kind::title).unwrap_or("had a problem");
    let subject = if a.account.is_empty() {
        "integ: back to healthy (the secret store can be read again)".to_string()
    } else if disconnected {
        format!("integ: {} was disconnected and is no longer synced", who(&a.account))
    } else {
        format!("integ: {} is back to healthy", who(&a.account))
    };
    let mut body = format!("Resolved: {} {title}", who(&a.account));
    if !a.stream.is_empty() {
        body.push_str(&format!(" ({} stream)", sanitise(&a.stream)));
    }
    body.push_str(&format!("\nSince: {}\nCleared: {now}\nNothing to do.\n", sanitise(&a.since)));
    Message { subject, body }
}

/// The message of `integ alerts test`.
pub fn test(now: &str) -> Message {
    Message {
        subject: "integ: test alert".into(),
        body: format!(
            "This is a test from `integ alerts test` at {now}. Alerts from integ will arrive here.\nNothing to do.\n"
        ),
    }
}

/// Slack's `text` is mrkdwn: `&`, `<` and `>` must be escaped, or `<!channel>` in an account
/// name would ping everyone.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Slack's header blocks hold at most 150 characters, sections 3,000.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// The JSON body of a webhook post or `chat.postMessage` (`channel` for the latter): the
/// notification text, and a header plus one plain-text section (plain text: nothing in it is
/// read as a link or a mention).
pub fn slack_payload(m: &Message, channel: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "text": slack_escape(&format!("{}\n{}", m.subject, m.body)),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": cut(&m.subject, 150) } },
            { "type": "section", "text": { "type": "plain_text", "text": cut(m.body.trim_end(), 3000) } },
        ],
        "unfurl_links": false,
        "unfurl_media": false,
    });
    if let Some(c) = channel {
        v["channel"] = serde_json::Value::String(c.to_string());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::conditions::Key;

    fn condition() -> Condition {
        Condition {
            key: Key { connection_id: Some(1), stream: String::new(), kind: Kind::ReconnectNeeded },
            account: "jobber account '<!channel> Acme\u{1b}[2J'".into(),
            detail: "integ can no longer use this account: invalid_grant".into(),
            fix: "run `integ connect jobber --account 'Acme'`".into(),
            since: "2026-11-20T08:00:00Z".into(),
        }
    }

    #[test]
    fn an_opening_says_what_who_since_and_the_fix() {
        let m = opened(&condition());
        assert!(m.subject.ends_with("needs reconnecting"), "{}", m.subject);
        for part in [
            "What happened: integ can no longer use",
            "Since: 2026-11-20T08:00:00Z",
            "Fix: run `integ connect jobber --account 'Acme'`",
        ] {
            assert!(m.body.contains(part), "{part}: {}", m.body);
        }
        assert!(!m.subject.contains('\u{1b}') && !m.body.contains('\u{1b}'));
        let p = slack_payload(&m, None);
        let text = p["text"].as_str().unwrap();
        assert!(!text.contains("<!channel>") && text.contains("&lt;!channel&gt;"), "{text}");
        assert_eq!(p["blocks"][0]["text"]["type"], "plain_text");
        assert!(p.get("channel").is_none());
        assert_eq!(slack_payload(&m, Some("C1"))["channel"], "C1");
    }

    #[test]
    fn a_recovery_names_the_condition_it_ends() {
        let row = AlertRow {
            id: 1,
            connection_id: Some(1),
            stream: "jobs".into(),
            condition: "failing".into(),
            account: "jobber account 'Acme'".into(),
            detail: "d".into(),
            fix: "f".into(),
            since: "2026-11-20T08:00:00Z".into(),
            first_seen_at: "2026-11-20T08:00:00Z".into(),
            last_sent_at: None,
            cleared_at: None,
        };
        let m = cleared(&row, "2026-11-21T12:00:00Z", false);
        assert_eq!(m.subject, "integ: jobber account 'Acme' is back to healthy");
        assert!(m.body.contains("sync keeps failing (jobs stream)"), "{}", m.body);
        let gone = cleared(&row, "2026-11-21T12:00:00Z", true);
        assert_eq!(gone.subject, "integ: jobber account 'Acme' was disconnected and is no longer synced");
    }

    #[test]
    fn long_subjects_fit_slacks_header() {
        let m = Message { subject: "s".repeat(400), body: "b".repeat(5000) };
        let p = slack_payload(&m, None);
        assert_eq!(p["blocks"][0]["text"]["text"].as_str().unwrap().chars().count(), 150);
        assert_eq!(p["blocks"][1]["text"]["text"].as_str().unwrap().chars().count(), 3000);
    }
}
