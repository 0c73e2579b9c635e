//! Which conditions deserve a person's attention now, and how they differ from the ones already
//! open: a pure function of the store's health, the settings and the clock, so every rule is
//! unit-tested without a database, a network or a date.
//!
//! Rules, most specific first:
//! - a connection that needs reconnecting is one condition, which covers that account's failing
//!   and stale streams and its expiring token (they all have the same fix);
//! - the secret store that cannot be read is one condition for everything (every account fails
//!   with it, and no stream condition is raised while it lasts);
//! - a stream that failed `after_failures` runs in a row is `failing`; one that has not
//!   succeeded for `stale_hours` (and is not failing) is `stale`;
//! - a refresh token about to die: a Google app in Testing mode from day 5 of its 7, an idle
//!   Microsoft (90 days) or Google (180 days) token from 7 days before its idle limit.

use jiff::Timestamp;

use crate::provider::Provider;
use crate::store::alerts::StreamHistory;
use crate::store::connections::{Connection, State};

/// The kinds of condition, as `alerts.condition` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ReconnectNeeded,
    Failing,
    Stale,
    TokenExpiring,
    SecretStore,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ReconnectNeeded => "reconnect_needed",
            Kind::Failing => "failing",
            Kind::Stale => "stale",
            Kind::TokenExpiring => "token_expiring",
            Kind::SecretStore => "secret_store",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::ReconnectNeeded, Kind::Failing, Kind::Stale, Kind::TokenExpiring, Kind::SecretStore]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The headline of a message about it.
    pub fn title(self) -> &'static str {
        match self {
            Kind::ReconnectNeeded => "needs reconnecting",
            Kind::Failing => "sync keeps failing",
            Kind::Stale => "has not synced",
            Kind::TokenExpiring => "access is about to expire",
            Kind::SecretStore => "the secret store cannot be read",
        }
    }
}

/// What identifies one condition across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// `None` for the secret store (not one account's).
    pub connection_id: Option<i64>,
    /// `""` for a condition of the whole connection.
    pub stream: String,
    pub kind: Kind,
}

/// One condition that holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub key: Key,
    /// "jobber account 'Acme'", or "" for the secret store.
    pub account: String,
    /// What happened, sanitised and bounded.
    pub detail: String,
    /// The one command (or step) that fixes it.
    pub fix: String,
    /// When it began.
    pub since: String,
}

/// The thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub after_failures: u32,
    pub stale_hours: u32,
    pub google_testing: bool,
}

/// Google refresh tokens of an app in Testing mode die this many days after consent.
pub const GOOGLE_TESTING_DAYS: i64 = 7;
/// Warn this many days before a Testing-mode token dies.
pub const GOOGLE_TESTING_WARN_DAYS: i64 = 2;
/// Warn this many days before an idle refresh token dies.
pub const IDLE_WARN_DAYS: i64 = 7;
/// The longest provider text an alert repeats (an error message, never a body).
pub const MAX_DETAIL_CHARS: usize = 300;

/// A refresh token's idle limit in days, for providers whose tokens die unused.
pub fn idle_limit_days(p: Provider) -> Option<i64> {
    match p {
        Provider::Microsoft => Some(90),
        Provider::Google => Some(180),
        Provider::Jobber | Provider::Calendly => None,
    }
}

/// Provider text made safe for a message: controls escaped as for terminals, one line, at most
/// [`MAX_DETAIL_CHARS`] characters.
pub fn sanitise(text: &str) -> String {
    let one_line = crate::ui::clean(text.trim());
    let mut out: String = one_line.chars().take(MAX_DETAIL_CHARS).collect();
    if one_line.chars().count() > MAX_DETAIL_CHARS {
        out.push('…');
    }
    out
}

fn parse(t: &str) -> Option<Timestamp> {
    t.parse().ok()
}

fn hours_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()) / 3600
}

/// Every condition that holds now, in a stable order.
pub fn evaluate(
    connections: &[Connection],
    streams: &[StreamHistory],
    secret_store_error: Option<&str>,
    rules: &Rules,
    now: Timestamp,
) -> Vec<Condition> {
    let stamp = crate::time::timestamp(now);
    let mut out = Vec::new();
    if let Some(e) = secret_store_error {
        out.push(Condition {
            key: Key { connection_id: None, stream: String::new(), kind: Kind::SecretStore },
            account: String::new(),
            detail: format!("integ could not read its tokens: {}", sanitise(e)),
            fix: "run `integ doctor` on the machine that runs the sync and follow its fix".into(),
            since: stamp.clone(),
        });
    }
    for c in connections {
        let fix_reconnect = crate::oauth::session::reconnect_hint(c);
        let account = c.describe();
        let key = |stream: &str, kind| Key { connection_id: Some(c.id), stream: stream.to_string(), kind };
        match c.state {
            State::Disconnected => continue,
            State::ReconnectNeeded => {
                out.push(Condition {
                    key: key("", Kind::ReconnectNeeded),
                    account,
                    detail: match c.last_error.as_deref() {
                        Some(e) => format!("integ can no longer use this account: {}", sanitise(e)),
                        None => "integ can no longer use this account".into(),
                    },
                    fix: fix_reconnect,
                    since: c.updated_at.clone(),
                });
                continue;
            }
            State::Connected => {}
        }
        if let Some(t) = token_expiring(c, rules, now) {
            out.push(t);
        }
        if secret_store_error.is_some() {
            continue;
        }
        for s in streams.iter().filter(|s| s.connection_id == c.id) {
            if s.failures_in_a_row >= rules.after_failures.max(1) {
                out.push(Condition {
                    key: key(&s.stream, Kind::Failing),
                    account: account.clone(),
                    detail: format!(
                        "the {} sync failed {} runs in a row; last error: {}",
                        s.stream,
                        s.failures_in_a_row,
                        sanitise(s.last_error.as_deref().unwrap_or("(none recorded)"))
                    ),
                    fix: format!(
                        "run `integ sync --account '{}' -v` to see the failure; `integ status` shows each stream",
                        c.label
                    ),
                    since: s.failing_since.clone().unwrap_or_else(|| stamp.clone()),
                });
                continue;
            }
            let since = s.last_success_at.as_deref().or(s.first_run_at.as_deref());
            let Some(since_t) = since.and_then(parse) else { continue };
            let hours = hours_between(since_t, now);
            if hours >= i64::from(rules.stale_hours) {
                let what = match s.last_success_at {
                    Some(_) => format!("the {} sync has not succeeded for {hours} hours", s.stream),
                    None => format!("the {} sync has never succeeded ({hours} hours since its first run)", s.stream),
                };
                let last =
                    s.last_error.as_deref().map(|e| format!("; last error: {}", sanitise(e))).unwrap_or_default();
                out.push(Condition {
                    key: key(&s.stream, Kind::Stale),
                    account: account.clone(),
                    detail: format!("{what}{last}"),
                    fix: "check that `integ sync` still runs on schedule (`integ schedule`), then `integ status`"
                        .into(),
                    since: since.unwrap_or_default().to_string(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// A refresh token about to die, if this connection's is.
fn token_expiring(c: &Connection, rules: &Rules, now: Timestamp) -> Option<Condition> {
    let days_since = |t: &str| parse(t).map(|t| (now.as_second() - t.as_second()) / 86_400);
    let key = Key { connection_id: Some(c.id), stream: String::new(), kind: Kind::TokenExpiring };
    if c.provider == Provider::Google && rules.google_testing {
        let age = days_since(&c.created_at)?;
        if age >= GOOGLE_TESTING_DAYS - GOOGLE_TESTING_WARN_DAYS {
            let left = (GOOGLE_TESTING_DAYS - age).max(0);
            return Some(Condition {
                key,
                account: c.describe(),
                detail: format!(
                    "the Google app is in Testing mode, so its access ends {GOOGLE_TESTING_DAYS} days after consent: {left} day(s) left"
                ),
                fix: format!(
                    "publish the app in the Google Cloud console (then it lasts), and {}",
                    crate::oauth::session::reconnect_hint(c)
                ),
                since: c.created_at.clone(),
            });
        }
    }
    let limit = idle_limit_days(c.provider)?;
    let idle_from = c.last_refresh_at.as_deref().unwrap_or(c.created_at.as_str());
    let idle = days_since(idle_from)?;
    (idle >= limit - IDLE_WARN_DAYS).then(|| Condition {
        key,
        account: c.describe(),
        detail: format!(
            "the refresh token dies after {limit} idle days; it has been idle {idle} days ({} left)",
            (limit - idle).max(0)
        ),
        fix: format!(
            "run `integ refresh {} --account '{}'`, and schedule `integ sync` to keep it alive",
            c.provider, c.label
        ),
        since: idle_from.to_string(),
    })
}

/// An episode already open in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub id: i64,
    pub key: Key,
}

/// What changed since the last evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Conditions with no open episode: each starts one and is announced.
    pub opened: Vec<Condition>,
    /// Open episodes whose condition is gone: each is closed with a recovery message.
    pub cleared: Vec<i64>,
    /// Open episodes that still hold, with their current text (no message).
    pub ongoing: Vec<(i64, Condition)>,
}

/// Compare the conditions that hold now with the open episodes.
pub fn plan(open: &[Open], now: Vec<Condition>) -> Plan {
    let mut p = Plan::default();
    for c in now {
        match open.iter().find(|o| o.key == c.key) {
            Some(o) => p.ongoing.push((o.id, c)),
            None if p.opened.iter().any(|x| x.key == c.key) => {}
            None => p.opened.push(c),
        }
    }
    p.cleared = open.iter().filter(|o| !p.ongoing.iter().any(|(id, _)| *id == o.id)).map(|o| o.id).collect();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-21T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn conn(id: i64, provider: Provider, state: State) -> Connection {
        Connection {
            id,
            provider,
            account_id: format!("acct-{id}"),
            account_name: "Acme".into(),
            label: "Acme".into(),
            scopes: String::new(),
            token_expires_at: None,
            state,
            created_at: "2026-11-01T00:00:00Z".into(),
            updated_at: "2026-11-20T08:00:00Z".into(),
            last_refresh_at: Some("2026-11-21T11:00:00Z".into()),
            last_error: Some("invalid_grant: the grant was revoked\u{1b}]0;owned\u{7}".into()),
        }
    }

    fn stream(c: i64, name: &str, failures: u32, last_success: Option<&str>) -> StreamHistory {
        StreamHistory {
            connection_id: c,
            stream: name.into(),
            failures_in_a_row: failures,
            failing_since: (failures > 0).then(|| "2026-11-21T09:00:00Z".into()),
            last_error: (failures > 0).then(|| "HTTP 500 from Jobber".into()),
            last_success_at: last_success.map(str::to_string),
            first_run_at: Some("2026-11-01T00:00:00Z".into()),
        }
    }

    const RULES: Rules = Rules { after_failures: 3, stale_hours: 24, google_testing: false };

    fn kinds(cs: &[Condition]) -> Vec<(Option<i64>, &str, Kind)> {
        cs.iter().map(|c| (c.key.connection_id, c.key.stream.as_str(), c.key.kind)).collect()
    }

    #[test]
    fn a_healthy_store_raises_nothing() {
        let cs = evaluate(
            &[conn(1, Provider::Jobber, State::Connected)],
            &[stream(1, "jobs", 0, Some("2026-11-21T11:45:00Z"))],
            None,
            &RULES,
            now(),
        );
        assert!(cs.is_empty(), "{cs:?}");
    }

    #[test]
    fn reconnect_needed_covers_the_accounts_failing_streams_and_names_the_command() {
        let cs = evaluate(
            &[conn(1, Provider::Jobber, State::ReconnectNeeded)],
            &[stream(1, "jobs", 9, Some("2026-11-10T00:00:00Z")), stream(1, "clients", 9, None)],
            None,
            &RULES,
            now(),
        );
        assert_eq!(kinds(&cs), [(Some(1), "", Kind::ReconnectNeeded)]);
        assert_eq!(cs[0].fix, "run `integ connect jobber --account 'Acme'`");
        assert_eq!(cs[0].since, "2026-11-20T08:00:00Z");
        assert!(cs[0].detail.contains("invalid_grant") && !cs[0].detail.contains('\u{1b}'), "{}", cs[0].detail);
    }

    #[test]
    fn failing_starts_at_the_threshold_and_stale_only_when_not_failing() {
        let c = [conn(1, Provider::Jobber, State::Connected)];
        let at = |failures, success| evaluate(&c, &[stream(1, "jobs", failures, success)], None, &RULES, now());
        assert!(at(2, Some("2026-11-21T08:00:00Z")).is_empty());
        let cs = at(3, Some("2026-11-21T08:00:00Z"));
        assert_eq!(kinds(&cs), [(Some(1), "jobs", Kind::Failing)]);
        assert!(cs[0].detail.contains("3 runs in a row") && cs[0].detail.contains("HTTP 500"), "{}", cs[0].detail);
        assert_eq!(cs[0].since, "2026-11-21T09:00:00Z");
        // Stale: 24 hours without success, counted from the last success.
        assert_eq!(kinds(&at(1, Some("2026-11-20T12:00:00Z"))), [(Some(1), "jobs", Kind::Stale)]);
        assert!(at(1, Some("2026-11-20T12:00:01Z")).is_empty());
        // Failing wins over stale for the same stream.
        assert_eq!(kinds(&at(5, Some("2026-11-01T00:00:00Z"))), [(Some(1), "jobs", Kind::Failing)]);
        // Never succeeded: counted from the first run.
        let never = at(1, None);
        assert_eq!(kinds(&never), [(Some(1), "jobs", Kind::Stale)]);
        assert!(never[0].detail.contains("never succeeded"), "{}", never[0].detail);
        // The thresholds are settings.
        let lax = Rules { after_failures: 10, stale_hours: 1000, ..RULES };
        assert!(evaluate(&c, &[stream(1, "jobs", 9, Some("2026-11-01T00:00:00Z"))], None, &lax, now()).is_empty());
    }

    #[test]
    fn tokens_about_to_die_are_named_before_they_do() {
        let mut g = conn(1, Provider::Google, State::Connected);
        let testing = Rules { google_testing: true, ..RULES };
        // Testing mode: day 5 of 7 warns, day 4 does not.
        g.created_at = "2026-11-16T12:00:00Z".into();
        assert_eq!(
            kinds(&evaluate(std::slice::from_ref(&g), &[], None, &testing, now())),
            [(Some(1), "", Kind::TokenExpiring)]
        );
        g.created_at = "2026-11-17T12:00:01Z".into();
        assert!(evaluate(std::slice::from_ref(&g), &[], None, &testing, now()).is_empty());
        // Idle Microsoft: from 83 days without a refresh.
        let mut m = conn(2, Provider::Microsoft, State::Connected);
        m.last_refresh_at = Some("2026-08-30T12:00:00Z".into()); // 83 days
        let cs = evaluate(std::slice::from_ref(&m), &[], None, &RULES, now());
        assert_eq!(kinds(&cs), [(Some(2), "", Kind::TokenExpiring)]);
        assert!(cs[0].detail.contains("7 left"), "{}", cs[0].detail);
        assert!(cs[0].fix.contains("integ refresh microsoft --account 'Acme'"), "{}", cs[0].fix);
        m.last_refresh_at = Some("2026-08-31T12:00:01Z".into());
        assert!(evaluate(std::slice::from_ref(&m), &[], None, &RULES, now()).is_empty());
        // Jobber and Calendly tokens do not die idle.
        let mut j = conn(3, Provider::Jobber, State::Connected);
        j.last_refresh_at = Some("2020-01-01T00:00:00Z".into());
        assert!(evaluate(&[j], &[], None, &RULES, now()).is_empty());
    }

    #[test]
    fn an_unreadable_secret_store_is_one_condition_for_everything() {
        let cs = evaluate(
            &[conn(1, Provider::Jobber, State::Connected), conn(2, Provider::Jobber, State::ReconnectNeeded)],
            &[stream(1, "jobs", 7, None)],
            Some("the keyring is locked"),
            &RULES,
            now(),
        );
        assert_eq!(kinds(&cs), [(None, "", Kind::SecretStore), (Some(2), "", Kind::ReconnectNeeded)]);
        assert!(cs[0].detail.contains("keyring is locked"));
    }

    #[test]
    fn disconnected_accounts_and_unreadable_stamps_raise_nothing() {
        let mut c = conn(1, Provider::Microsoft, State::Disconnected);
        assert!(evaluate(std::slice::from_ref(&c), &[stream(1, "events", 9, None)], None, &RULES, now()).is_empty());
        c.state = State::Connected;
        c.created_at = "garbage".into();
        c.last_refresh_at = None;
        let mut s = stream(1, "events", 0, None);
        s.first_run_at = Some("garbage".into());
        assert!(evaluate(&[c], &[s], None, &RULES, now()).is_empty());
    }

    #[test]
    fn long_or_hostile_provider_text_is_cut_and_neutralised() {
        let long = format!("{}\u{202e}\n{}", "x".repeat(10), "y".repeat(1000));
        let s = sanitise(&long);
        assert!(s.chars().count() <= MAX_DETAIL_CHARS + 1);
        assert!(!s.contains('\u{202e}') && !s.contains('\n'), "{s}");
        assert!(s.ends_with('…'));
    }

    #[test]
    fn the_plan_opens_new_conditions_once_and_clears_gone_ones() {
        let c = |id, kind| Condition {
            key: Key { connection_id: Some(id), stream: String::new(), kind },
            account: "a".into(),
            detail: "d".into(),
            fix: "f".into(),
            since: NOW.into(),
        };
        let open = [
            Open { id: 10, key: c(1, Kind::ReconnectNeeded).key },
            Open { id: 11, key: c(2, Kind::TokenExpiring).key },
        ];
        let p = plan(&open, vec![c(1, Kind::ReconnectNeeded), c(3, Kind::SecretStore), c(3, Kind::SecretStore)]);
        assert_eq!(p.opened, [c(3, Kind::SecretStore)], "a duplicate opens once");
        assert_eq!(p.cleared, [11]);
        assert_eq!(p.ongoing.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [10]);
        // Nothing changes: nothing to send.
        let again = plan(&open, vec![c(1, Kind::ReconnectNeeded), c(2, Kind::TokenExpiring)]);
        assert!(again.opened.is_empty() && again.cleared.is_empty());
        // Everything healthy: every open episode clears.
        assert_eq!(plan(&open, vec![]).cleared, [10, 11]);
    }
}
