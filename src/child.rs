//! Programs integ starts (the browser or the desktop's opener, `crontab`, `systemctl`,
//! `launchctl`) get integ's environment without its secrets. A child inherits every variable
//! by default, so the file store's passphrase and the apps' client secrets would reach a
//! browser, its extensions and crash reporters, and whatever else those start.
//!
//! Every child is built here ([`command`]) or passed through [`scrub`] (the desktop openers
//! that the `open` crate describes). The process's own environment is never changed: the
//! variables are removed from the child's copy only.

use std::ffi::OsStr;
use std::process::Command;

/// Whether a variable of this name carries a secret that no child may inherit:
/// `INTEG_SECRET_KEY`, every `*_CLIENT_SECRET`, and by convention anything named like a
/// secret (`*_SECRET`, `*_SECRET_KEY`, `*_PASSWORD`, `*_PASSPHRASE`, `*_TOKEN`, and `*_WEBHOOK`:
/// a Slack webhook URL is the credential itself). Paths to
/// secrets (`INTEG_SECRET_KEY_FILE`) and addresses (`*_TOKEN_URL`) are not secrets.
pub fn is_secret_var(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name == "INTEG_SECRET_KEY"
        || ["_SECRET", "_SECRET_KEY", "_PASSWORD", "_PASSPHRASE", "_TOKEN", "_WEBHOOK"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// A command for `program` that will not pass on integ's secrets.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    scrub(&mut c);
    c
}

/// Remove every secret variable from what `cmd` passes on, whether inherited or set on it.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    let set: Vec<_> = cmd.get_envs().map(|(k, _)| k.to_os_string()).collect();
    // Only the names are read: the child would inherit these values, it must not.
    for name in std::env::vars_os().map(|(k, _)| k).chain(set) {
        if is_secret_var(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_and_the_rest_pass() {
        for secret in [
            "INTEG_SECRET_KEY",
            "JOBBER_CLIENT_SECRET",
            "GOOGLE_CLIENT_SECRET",
            "MICROSOFT_CLIENT_SECRET",
            "calendly_client_secret",
            "SMTP_PASSWORD",
            "SLACK_BOT_TOKEN",
            "INTEG_ALERTS_SLACK_WEBHOOK",
        ] {
            assert!(is_secret_var(secret), "{secret}");
        }
        for plain in [
            "INTEG_SECRET_KEY_FILE",
            "INTEG_SECRET_STORE",
            "INTEG_JOBBER_TOKEN_URL",
            "JOBBER_CLIENT_ID",
            "PATH",
            "HOME",
            "DISPLAY",
            "DBUS_SESSION_BUS_ADDRESS",
            "XDG_RUNTIME_DIR",
        ] {
            assert!(!is_secret_var(plain), "{plain}");
        }
    }

    #[test]
    fn every_secret_in_the_key_table_is_scrubbed() {
        for def in crate::config::KEYS.iter().filter(|d| d.secret) {
            if let Some(env) = def.env {
                assert!(is_secret_var(env), "{} ({env}) would reach child processes", def.key);
            }
        }
    }

    #[test]
    fn variables_set_on_the_command_are_scrubbed_too() {
        let mut c = command("true");
        c.env("INTEG_SECRET_KEY", "k").env("INTEG_HOME", "/h");
        scrub(&mut c);
        let envs: Vec<_> = c.get_envs().map(|(k, v)| (k.to_string_lossy().into_owned(), v.is_some())).collect();
        assert!(envs.contains(&("INTEG_SECRET_KEY".to_string(), false)), "{envs:?}");
        assert!(envs.contains(&("INTEG_HOME".to_string(), true)), "{envs:?}");
    }
}
