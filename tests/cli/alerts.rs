//! Alerts: a condition reaches Slack and e-mail once when it starts and once when it clears,
//! whatever cron does in between; a broken channel never changes a sync's exit code; no message
//! carries a secret; the daily summary goes out once a day. Slack is the fakes' webhook, e-mail
//! a real SMTP conversation (STARTTLS, AUTH) with the fakes' relay.

use serde_json::{Value, json};

use crate::common::{Fakes, TestEnv};
use crate::sync::jobber;

/// Point `env` at the fake Slack webhook (stored through `config set`, from stdin) and at the
/// fake mail relay (its password stored the same way, its test CA trusted).
fn with_channels(env: &mut TestEnv, fakes: &Fakes) {
    let hook = fakes.banner["slack"]["webhook"].as_str().unwrap().to_string();
    env.run_stdin(&["config", "set", "alerts.slack_webhook"], &format!("{hook}\n")).ok();
    let smtp = &fakes.banner["smtp"];
    let ca = env.dir.path().join("smtp-ca.pem");
    std::fs::write(&ca, smtp["ca_pem"].as_str().unwrap()).unwrap();
    env.run_stdin(&["config", "set", "alerts.smtp_password"], &format!("{}\n", smtp["password"].as_str().unwrap()))
        .ok();
    env.set("INTEG_ALERTS_SMTP_URL", smtp["url"].as_str().unwrap());
    env.set("INTEG_ALERTS_SMTP_CA_FILE", ca.display().to_string());
    env.set("INTEG_ALERTS_EMAIL_FROM", "integ <integ@example.com>");
    env.set("INTEG_ALERTS_EMAIL_TO", "ops@example.com, owner@example.com");
}

fn posts(fakes: &Fakes) -> Vec<Value> {
    fakes.get("/_fake/slack/posts")["posts"].as_array().unwrap().clone()
}

fn mails(fakes: &Fakes) -> Vec<Value> {
    fakes.get("/_fake/smtp/messages")["messages"].as_array().unwrap().clone()
}

fn text_of(post: &Value) -> String {
    post["body"]["text"].as_str().unwrap_or_default().to_string()
}

/// Every secret this test's integ knows: issued tokens, client secrets, the webhook, the SMTP
/// password, the secret store's key.
fn secrets(env: &TestEnv, fakes: &Fakes) -> Vec<String> {
    let mut all: Vec<String> = fakes.get("/_fake/issued")["all"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let hook = fakes.banner["slack"]["webhook"].as_str().unwrap();
    all.push(hook.rsplit('/').next().unwrap().to_string());
    all.push(fakes.banner["slack"]["bot_token"].as_str().unwrap().to_string());
    all.push(fakes.banner["smtp"]["password"].as_str().unwrap().to_string());
    all.push(env.vars["INTEG_SECRET_KEY"].clone());
    all.retain(|s| s.len() >= 8);
    all
}

fn assert_no_secret(env: &TestEnv, fakes: &Fakes) {
    let everything = format!("{:?}{:?}", posts(fakes), mails(fakes));
    for s in secrets(env, fakes) {
        assert!(!everything.contains(&s), "a secret reached a message: {s}");
    }
}

#[test]
fn a_dead_grant_alerts_once_on_each_channel_and_once_when_healthy_again() {
    let (mut env, fakes) = jobber(5, &[]);
    with_channels(&mut env, &fakes);
    env.run(&["sync"]).ok();
    assert!(posts(&fakes).is_empty() && mails(&fakes).is_empty(), "a healthy sync says nothing");

    fakes.post("/_fake/jobber/disconnect", json!({}));
    for _ in 0..5 {
        env.run(&["sync"]).code(4);
    }
    let p = posts(&fakes);
    let m = mails(&fakes);
    assert_eq!(p.len(), 1, "one Slack message across five runs: {p:?}");
    assert_eq!(m.len(), 1, "one e-mail across five runs: {m:?}");
    let slack = text_of(&p[0]);
    assert!(slack.contains("needs reconnecting") && slack.contains("integ connect jobber --account"), "{slack}");
    assert_eq!(p[0]["body"]["blocks"][0]["type"], "header");
    let mail = m[0]["data"].as_str().unwrap();
    assert!(mail.contains("Subject: integ: jobber account") && mail.contains("needs reconnecting"), "{mail}");
    assert!(mail.contains("Fix: run `integ connect jobber --account"), "{mail}");
    assert!(mail.contains("Message-ID: <"), "{mail}");
    assert!(mail.contains("Date: Sat, 21 Nov 2026"), "the date is integ's clock: {mail}");
    assert_eq!(m[0]["tls"], true, "STARTTLS was used");
    assert_eq!(m[0]["auth"], true);
    assert_eq!(m[0]["to"], json!(["ops@example.com", "owner@example.com"]));

    let list = env.run(&["--json", "alerts", "list"]).ok().json();
    assert_eq!(list["alerts"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["alerts"][0]["condition"], "reconnect_needed");
    assert!(list["alerts"][0]["cleared_at"].is_null());

    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    env.run(&["sync"]).ok();
    env.run(&["sync"]).ok();
    let p = posts(&fakes);
    let m = mails(&fakes);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(text_of(&p[1]).contains("back to healthy"), "{}", text_of(&p[1]));
    assert!(m[1]["data"].as_str().unwrap().contains("back to healthy"));
    let list = env.run(&["--json", "alerts", "list"]).ok().json();
    assert!(list["alerts"][0]["cleared_at"].is_string(), "{list}");
    assert_no_secret(&env, &fakes);
    // The secrets went to the secret store, not to config.toml.
    let config = std::fs::read_to_string(env.home().join("config.toml")).unwrap_or_default();
    assert!(!config.contains("fakeWebhookSecret") && !config.contains("fake-smtp-password"), "{config}");
}

#[test]
fn three_failing_runs_alert_once() {
    let (mut env, fakes) = jobber(5, &[]);
    with_channels(&mut env, &fakes);
    env.run(&["sync", "jobs"]).ok();
    // A wrong API address: every run fails at once (404, not retried).
    let good = env.vars["INTEG_JOBBER_API_URL"].clone();
    env.set("INTEG_JOBBER_API_URL", format!("{}/jobber/api/wrong", fakes.base_url));
    env.run(&["sync", "jobs"]).code(1);
    env.run(&["sync", "jobs"]).code(1);
    assert!(posts(&fakes).is_empty(), "two failures are not yet an alert");
    for _ in 0..3 {
        env.run(&["sync", "jobs"]).code(1);
    }
    let p = posts(&fakes);
    assert_eq!(p.len(), 1, "{p:?}");
    let t = text_of(&p[0]);
    assert!(t.contains("sync keeps failing") && t.contains("failed 3 runs in a row"), "{t}");
    assert_eq!(mails(&fakes).len(), 1);
    env.set("INTEG_JOBBER_API_URL", good);
    env.run(&["sync", "jobs"]).ok();
    let p = posts(&fakes);
    assert_eq!(p.len(), 2);
    assert!(text_of(&p[1]).contains("back to healthy"), "{}", text_of(&p[1]));
    assert_no_secret(&env, &fakes);
}

#[test]
fn a_hanging_or_broken_channel_changes_no_exit_code_and_its_message_waits() {
    let (mut env, fakes) = jobber(5, &[]);
    with_channels(&mut env, &fakes);
    env.run(&["sync"]).ok();
    fakes.post("/_fake/slack/mode", json!({"mode": "hang"}));
    fakes.post("/_fake/smtp/mode", json!({"mode": "hang"}));
    fakes.post("/_fake/jobber/disconnect", json!({}));
    let run = env.run(&["sync"]).code(4);
    assert!(run.stderr.contains("alerts: slack not sent"), "{}", run.stderr);
    assert!(run.stderr.contains("alerts: email not sent"), "{}", run.stderr);
    let list = env.run(&["--json", "alerts", "list"]).ok().json();
    let waiting = list["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 2, "{list}");
    assert!(waiting.iter().all(|w| w["attempts"] == 1 && w["last_error"].is_string()), "{list}");

    fakes.post("/_fake/slack/mode", json!({"mode": "500"}));
    fakes.post("/_fake/smtp/mode", json!({"mode": "reject"}));
    let run = env.run(&["sync"]).code(4);
    assert!(run.stderr.contains("HTTP 500"), "{}", run.stderr);
    let status = env.run(&["status"]).code(4);
    assert!(status.stderr.contains("the last send to slack failed"), "{}", status.stderr);

    fakes.post("/_fake/slack/mode", json!({"mode": "ok"}));
    fakes.post("/_fake/smtp/mode", json!({"mode": "ok"}));
    env.run(&["sync"]).code(4);
    assert_eq!(posts(&fakes).len(), 1, "the kept message went out once");
    assert_eq!(mails(&fakes).len(), 1);
    assert!(env.run(&["--json", "alerts", "list"]).ok().json()["waiting"].as_array().unwrap().is_empty());

    // Healthy again, with Slack broken: the sync still exits 0.
    fakes.post("/_fake/slack/mode", json!({"mode": "500"}));
    env.run(&["connect", "jobber", "--timeout", "30"]).ok();
    env.run(&["sync"]).ok();
    assert_eq!(mails(&fakes).len(), 2, "e-mail is not held up by Slack");
}

#[test]
fn slack_rate_limits_are_waited_out_within_the_deadline() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", fakes.banner["slack"]["webhook"].as_str().unwrap());
    fakes.post("/_fake/slack/mode", json!({"mode": "429", "retry_after": 1, "times": 1}));
    let run = env.run(&["alerts", "test", "--channel", "slack"]).ok();
    assert!(run.stderr.contains("slack: test message sent"), "{}", run.stderr);
    let seen = fakes.get("/_fake/slack/posts");
    assert_eq!(seen["attempts"], 2, "{seen}");
    // A Retry-After past the deadline is not waited for.
    fakes.post("/_fake/slack/mode", json!({"mode": "429", "retry_after": 3600}));
    let run = env.run(&["alerts", "test"]).code(1);
    assert!(run.stderr.contains("rate-limiting"), "{}", run.stderr);
}

#[test]
fn a_bot_token_posts_to_its_channel() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.set("INTEG_ALERTS_SLACK_API_URL", fakes.banner["slack"]["api_url"].as_str().unwrap());
    env.run_stdin(&["config", "set", "alerts.slack_bot_token"], fakes.banner["slack"]["bot_token"].as_str().unwrap())
        .ok();
    let run = env.run(&["alerts", "test"]).code(2);
    assert!(run.stderr.contains("alerts.slack_channel"), "{}", run.stderr);
    env.set("INTEG_ALERTS_SLACK_CHANNEL", "C0FAKEALERTS");
    env.run(&["alerts", "test"]).ok();
    let p = posts(&fakes);
    assert_eq!(p[0]["via"], "bot");
    assert_eq!(p[0]["channel"], "C0FAKEALERTS");
    env.set("INTEG_ALERTS_SLACK_CHANNEL", "C0NOSUCH");
    let run = env.run(&["alerts", "test"]).code(1);
    assert!(run.stderr.contains("channel_not_found"), "{}", run.stderr);
}

#[test]
fn only_slack_webhooks_are_stored_and_none_is_ever_echoed() {
    let env = TestEnv::new();
    let run =
        env.run_stdin(&["config", "set", "alerts.slack_webhook"], "https://evil.example/hook/SECRETPART\n").code(2);
    assert!(run.stderr.contains("hooks.slack.com") && !run.stderr.contains("SECRETPART"), "{}", run.stderr);
    let run =
        env.run(&["config", "set", "alerts.slack_webhook", "https://hooks.slack.com/services/A/B/SECRETPART"]).code(2);
    assert!(!run.stderr.contains("SECRETPART"), "{}", run.stderr);
    env.run_stdin(&["config", "set", "alerts.slack_webhook"], "https://hooks.slack.com/services/A/B/SECRETPART\n").ok();
    let listed = env.run(&["config", "list"]).ok();
    assert!(!listed.stdout.contains("SECRETPART"), "{}", listed.stdout);
    let got = env.run(&["config", "get", "alerts.slack_webhook"]).ok();
    assert!(got.stderr.contains("never printed") && !got.stderr.contains("SECRETPART"), "{}", got.stderr);
    env.run(&["config", "set", "alerts.smtp_url", "smtp://relay.example?tls=none"]).code(2);
    env.run(&["config", "set", "alerts.smtp_url", "smtp://alerts@relay.example:587"]).ok();
    env.run(&["config", "set", "alerts.daily_summary", "8am"]).code(2);
}

#[test]
fn doctor_checks_each_channel_and_sends_with_send() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    with_channels(&mut env, &fakes);
    let report = env.run(&["doctor"]).any();
    assert!(report.stdout.contains("alerts slack") && report.stdout.contains("alerts email"), "{}", report.stdout);
    assert!(report.stdout.contains("STARTTLS required"), "{}", report.stdout);
    assert!(!report.stdout.contains("fakeWebhookSecret"), "{}", report.stdout);
    assert!(posts(&fakes).is_empty());
    let sent = env.run(&["doctor", "--send"]).any();
    assert!(sent.stdout.contains("alerts slack send") && sent.stdout.contains("test message sent"), "{}", sent.stdout);
    assert_eq!(posts(&fakes).len(), 1);
    assert_eq!(mails(&fakes).len(), 1);
    // Half a configuration is a failed check, and status says what is configured.
    env.unset("INTEG_ALERTS_EMAIL_FROM");
    let report = env.run(&["doctor"]).code(1);
    assert!(report.stdout.contains("alerts.email_from"), "{}", report.stdout);
    let status = env.run(&["status"]).ok();
    assert!(status.stderr.contains("alerts: sent to slack"), "{}", status.stderr);
}

#[test]
fn the_daily_summary_is_sent_once_a_day() {
    let (mut env, mut fakes) = jobber(5, &[]);
    let hook = fakes.banner["slack"]["webhook"].as_str().unwrap().to_string();
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", hook);
    env.set("INTEG_ALERTS_DAILY_SUMMARY", "08:00");
    env.set("TZ", "UTC");
    // The suite's clock starts at 12:00 UTC: past 08:00, so the first run sends it.
    env.run(&["sync"]).ok();
    env.run(&["sync"]).ok();
    let p = posts(&fakes);
    assert_eq!(p.len(), 1, "{p:?}");
    let t = text_of(&p[0]);
    assert!(t.contains("daily summary") && t.contains("rows fetched") && t.contains("Nothing needs doing"), "{t}");
    // `status --alert` and `refresh` never make it.
    env.run(&["status", "--alert"]).ok();
    assert_eq!(posts(&fakes).len(), 1);
    fakes.advance(24.0 * 3600.0, &mut [&mut env]);
    env.run(&["sync"]).ok();
    env.run(&["sync"]).ok();
    let p = posts(&fakes);
    assert_eq!(p.len(), 2, "one more the next day: {p:?}");
    assert_ne!(text_of(&p[0]), text_of(&p[1]));
}

#[test]
fn status_alert_announces_what_is_open_to_a_channel_added_later() {
    let (mut env, fakes) = crate::common::connected("jobber", &[], |_| {});
    env.run(&["sync"]).ok();
    fakes.post("/_fake/jobber/disconnect", json!({}));
    // No channel yet: the condition is recorded, nothing is sent.
    env.run(&["sync"]).code(4);
    assert_eq!(env.run(&["--json", "alerts", "list"]).ok().json()["alerts"].as_array().unwrap().len(), 1);
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", fakes.banner["slack"]["webhook"].as_str().unwrap());
    env.run(&["status"]).code(4);
    assert!(posts(&fakes).is_empty(), "plain status sends nothing");
    env.run(&["status", "--alert"]).code(4);
    env.run(&["status", "--alert"]).code(4);
    let p = posts(&fakes);
    assert_eq!(p.len(), 1, "announced once: {p:?}");
    assert!(text_of(&p[0]).contains("needs reconnecting"));
}

#[test]
fn an_unreadable_secret_store_alerts_through_a_channel_given_in_the_environment() {
    let (mut env, fakes) = jobber(5, &[]);
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", fakes.banner["slack"]["webhook"].as_str().unwrap());
    env.run(&["sync"]).ok();
    let key = env.vars["INTEG_SECRET_KEY"].clone();
    // The wrong passphrase: the encrypted store cannot be read.
    env.set("INTEG_SECRET_KEY", "a different passphrase entirely");
    let first = env.run(&["sync"]).any();
    assert_ne!(first.code, 0, "{}", first.stderr);
    let code = first.code;
    env.run(&["sync"]).code(code);
    let p = posts(&fakes);
    assert_eq!(p.len(), 1, "{p:?}");
    let t = text_of(&p[0]);
    assert!(t.contains("the secret store cannot be read") && t.contains("integ doctor"), "{t}");
    assert!(!t.contains("a different passphrase"), "{t}");
    env.set("INTEG_SECRET_KEY", key);
    env.run(&["sync"]).ok();
    let p = posts(&fakes);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(text_of(&p[1]).contains("back to healthy"), "{}", text_of(&p[1]));
}

#[test]
fn refresh_alerts_too() {
    let (mut env, fakes) = jobber(5, &[]);
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", fakes.banner["slack"]["webhook"].as_str().unwrap());
    env.run(&["refresh", "--force"]).ok();
    assert!(posts(&fakes).is_empty());
    fakes.post("/_fake/jobber/disconnect", json!({}));
    env.run(&["refresh", "--force"]).code(4);
    env.run(&["refresh", "--force"]).code(4);
    let p = posts(&fakes);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(text_of(&p[0]).contains("integ connect jobber --account"), "{}", text_of(&p[0]));
}

#[test]
fn one_run_at_a_time_alerts_and_a_run_that_finds_it_busy_leaves_it_to_the_next() {
    let (mut env, fakes) = jobber(5, &[]);
    env.set("INTEG_ALERTS_SLACK_WEBHOOK", fakes.banner["slack"]["webhook"].as_str().unwrap());
    env.run(&["sync"]).ok();
    fakes.post("/_fake/jobber/disconnect", json!({}));
    let mut holder = crate::common::hold_lock(&env.home().join("locks").join("alerts.lock"));
    env.run(&["sync"]).code(4);
    assert!(posts(&fakes).is_empty(), "another process holds the alert step");
    holder.kill().unwrap();
    holder.wait().unwrap();
    env.run(&["sync"]).code(4);
    assert_eq!(posts(&fakes).len(), 1);
}
