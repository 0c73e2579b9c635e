//! What a callback's query string means for this run: a code, a denial, a bare "declined?"
//! callback, or something to refuse.
//!
//! The same judge serves the loopback callback and a pasted address, so both keep the same
//! rules: the `state` must be exactly this run's (compared in constant time), no parameter may
//! repeat, and the provider's words are made safe for a terminal before anyone prints them.

use secrecy::{ExposeSecret, SecretString};

/// Provider text kept in [`ListenerError::Denied`](super::ListenerError::Denied), which ends up in a terminal.
const MAX_PROVIDER_TEXT_CHARS: usize = 500;

/// What a callback's query string amounts to.
#[derive(Debug)]
pub(super) enum Verdict {
    Code(SecretString),
    Denied {
        error: String,
        description: Option<String>,
    },
    /// A bare callback where the provider sends one to say "declined" (Jobber): unauthenticated,
    /// so it shows the page but does not end the flow.
    MaybeDeclined,
    /// Not an answer to this run's request; the reason is safe to show.
    Rejected(&'static str),
}

pub(super) fn is_bare(query: Option<&str>) -> bool {
    query.is_none_or(str::is_empty)
}

/// Decide what a callback's query string means for this run.
pub(super) fn judge(query: Option<&str>, expected_state: &SecretString, bare_is_denial: bool) -> Verdict {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return if bare_is_denial { Verdict::MaybeDeclined } else { Verdict::Rejected("it carries no state") };
    };
    let (mut state, mut code, mut error, mut description) = (None, None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        // RFC 6749 §3.1: parameters must not repeat; a repeated one is someone's trick.
        if slot.is_some() {
            return Verdict::Rejected("a parameter appears twice");
        }
        *slot = Some(SecretString::from(value.into_owned()));
    }
    let Some(state) = state else {
        return Verdict::Rejected("it carries no state");
    };
    if !constant_time_eq(state.expose_secret().as_bytes(), expected_state.expose_secret().as_bytes()) {
        return Verdict::Rejected("its state does not match this sign-in");
    }
    if let Some(error) = error {
        return Verdict::Denied {
            error: printable(error.expose_secret()),
            description: description.map(|d| printable(d.expose_secret())),
        };
    }
    match code {
        Some(code) if !code.expose_secret().is_empty() => Verdict::Code(code),
        _ => Verdict::Rejected("it carries no code"),
    }
}

/// Compare without stopping at the first difference, so timing does not reveal how much of a
/// guessed state was right. Lengths are not secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the compiler from turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}

/// Provider text ends up in a terminal: drop control characters (escape sequences) and cap it.
fn printable(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_PROVIDER_TEXT_CHARS).collect();
    if text.chars().nth(MAX_PROVIDER_TEXT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "s7Yq0u9Jm2kQxW4eR6tZ1aB3cD5fG8hK";

    #[test]
    fn judging_a_query() {
        let state = SecretString::from(STATE);
        let judged = |q: &str| judge(Some(q), &state, false);
        assert!(matches!(judged(&format!("code=a%2Bb&state={STATE}")), Verdict::Code(c) if c.expose_secret() == "a+b"));
        assert!(matches!(judged(&format!("state={STATE}&code=x&extra=1")), Verdict::Code(_)));
        assert!(matches!(judged(&format!("code=x&state={STATE}&state={STATE}")), Verdict::Rejected(_)));
        assert!(matches!(judged(&format!("state={STATE}")), Verdict::Rejected(_)));
        assert!(matches!(judged(&format!("code=x&state={STATE}x")), Verdict::Rejected(_)));
        assert!(matches!(judged("code=x&state="), Verdict::Rejected(_)));
        // An error beats a code: RFC 6749 §4.1.2.1 responses carry one or the other.
        assert!(matches!(judged(&format!("code=x&error=server_error&state={STATE}")), Verdict::Denied { .. }));
        assert!(matches!(judge(None, &state, false), Verdict::Rejected(_)));
        assert!(matches!(judge(None, &state, true), Verdict::MaybeDeclined));
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Any callback query is judged; only the exact state with a code yields a code.
            #[test]
            fn any_callback_query_is_judged(query in "[ -~]{0,120}", bare in any::<bool>()) {
                let state = SecretString::from(STATE.to_string());
                let verdict = judge(Some(&query), &state, bare);
                if let Verdict::Code(_) = verdict {
                    prop_assert!(query.contains(STATE));
                }
            }
        }
    }
}
