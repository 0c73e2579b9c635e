//! The provider-neutral shape of an event integ writes (`integ push`), and the write scopes
//! each calendar provider needs. The Google and Microsoft write clients turn an
//! [`EventWrite`] into their own JSON; the push stream builds it from a Jobber visit.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::provider::Provider;

/// When an event happens: instants, or whole days with an exclusive end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Timed { start: Timestamp, end: Timestamp },
    AllDay { start: Date, end: Date },
}

/// One event as integ writes it, with integ's marker (rule id, visit key, content hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventWrite {
    pub title: String,
    pub location: Option<String>,
    pub description: String,
    pub when: When,
    pub rule: i64,
    pub visit_key: String,
    pub hash: String,
}

const GOOGLE: &str = "https://www.googleapis.com/auth/";

/// The scopes `connect --write` adds to the read set.
pub fn write_scopes(provider: Provider) -> &'static [&'static str] {
    match provider {
        // calendar.events: events of existing calendars; calendar.app.created: the calendars
        // `push add --create` makes (calendars.insert refuses calendar.events).
        Provider::Google => {
            &["https://www.googleapis.com/auth/calendar.events", "https://www.googleapis.com/auth/calendar.app.created"]
        }
        Provider::Microsoft => &["Calendars.ReadWrite"],
        Provider::Jobber | Provider::Calendly => &[],
    }
}

fn granted<'a>(scopes: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    scopes.split_whitespace().map(|s| s.trim_start_matches("https://graph.microsoft.com/"))
}

/// Whether a grant (space-separated, as recorded) may write events into existing calendars.
pub fn can_write(provider: Provider, scopes: &str) -> bool {
    match provider {
        Provider::Google => {
            granted(scopes).any(|s| s == format!("{GOOGLE}calendar.events") || s == format!("{GOOGLE}calendar"))
        }
        Provider::Microsoft => granted(scopes).any(|s| s.eq_ignore_ascii_case("Calendars.ReadWrite")),
        Provider::Jobber | Provider::Calendly => false,
    }
}

/// Whether a grant may create a calendar (and write the events of calendars it created).
pub fn can_create_calendar(provider: Provider, scopes: &str) -> bool {
    match provider {
        Provider::Google => granted(scopes).any(|s| {
            ["calendar", "calendar.app.created", "calendar.calendars"].iter().any(|x| s == format!("{GOOGLE}{x}"))
        }),
        other => can_write(other, scopes),
    }
}

/// Ask for the read scopes and the write scopes together: an account connected again with
/// `--write` gets one grant covering both (the calendar list and freeBusy still need the read
/// scope). Google is also asked to keep earlier grants (`include_granted_scopes`; sent, not
/// relied on: the returned scopes are checked).
pub fn with_write_scopes(app: &mut crate::oauth::app::OAuthApp) {
    for s in write_scopes(app.provider) {
        if !app.scopes.iter().any(|x| x == s) {
            app.scopes.push(s.to_string());
        }
    }
    if app.provider == Provider::Google && !app.extra_auth_params.iter().any(|(k, _)| *k == "include_granted_scopes") {
        app.extra_auth_params.push(("include_granted_scopes", "true".into()));
    }
}

/// The one command that gives an account write access.
pub fn write_hint(provider: Provider, label: &str) -> String {
    format!("run `integ connect {provider} --account '{label}' --write` to grant integ write access to its calendars")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_access_is_read_from_the_granted_scopes() {
        let read = "openid https://www.googleapis.com/auth/calendar.readonly";
        assert!(!can_write(Provider::Google, read));
        let write = format!("{read} https://www.googleapis.com/auth/calendar.events");
        assert!(can_write(Provider::Google, &write));
        assert!(!can_create_calendar(Provider::Google, &write));
        assert!(can_create_calendar(Provider::Google, "https://www.googleapis.com/auth/calendar.app.created"));
        assert!(can_write(Provider::Microsoft, "https://graph.microsoft.com/Calendars.ReadWrite openid"));
        assert!(!can_write(Provider::Microsoft, "https://graph.microsoft.com/Calendars.Read"));
        assert!(!can_write(Provider::Jobber, "anything"));
    }
}
