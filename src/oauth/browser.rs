//! Open the authorize page in the user's browser, or say plainly that it could not be done.
//!
//! RFC 8252 §8.12 wants the system browser, never an embedded one, so this only ever hands the
//! URL to another program. The user's `BROWSER` setting wins (the convention from
//! <http://www.catb.org/~esr/BROWSER/>: `:`-separated commands tried in order, `%s` for the
//! URL); otherwise the `open` crate picks the desktop's launcher. A machine without a display
//! gets [`LaunchOutcome::NoDisplay`] instead of a launcher that fails in odd ways. Whatever the
//! outcome, the caller prints the URL to stderr, so the user can always copy it by hand.
//!
//! The URL holds the `state` and the PKCE challenge: it goes to the program as one argument,
//! never through a shell, and never into a failure reason. The program gets integ's
//! environment without its secrets ([`crate::child`]); that is why the default browser is
//! started here from the `open` crate's list of openers rather than by `open` itself, which
//! would pass the whole environment on.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long a launched command has to fail before it counts as launched. Launchers such as
/// `xdg-open` fail fast when they cannot open anything; a browser that stays open is fine.
const EXIT_CHECK: Duration = Duration::from_secs(1);

/// Separates the commands in `BROWSER`; `;` on Windows, where `:` follows drive letters.
const BROWSER_SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

/// What happened when trying to open the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchOutcome {
    /// A browser (or launcher) started and did not fail within about a second.
    Launched,
    /// Every way tried failed; the reason names the programs, never the URL.
    Failed(String),
    /// No graphical session and no `BROWSER`: nothing to open the page with.
    NoDisplay,
}

/// Open `url`. `browser_env` is the value of `BROWSER` (read by the caller, like every other
/// setting); empty counts as unset.
pub fn launch(url: &str, browser_env: Option<&str>) -> LaunchOutcome {
    launch_with(url, browser_env, has_display())
}

/// Whether a graphical browser could show up: always on macOS and Windows; on Linux and the
/// BSDs only with an X11 or Wayland session (or under WSL, where the Windows browser opens).
pub fn has_display() -> bool {
    display_in(|name| std::env::var_os(name))
}

fn display_in(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    if cfg!(any(target_os = "macos", target_os = "ios", windows)) {
        return true;
    }
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    set("DISPLAY") || set("WAYLAND_DISPLAY") || (cfg!(target_os = "linux") && set("WSL_DISTRO_NAME"))
}

fn launch_with(url: &str, browser_env: Option<&str>, display: bool) -> LaunchOutcome {
    if let Some(browser) = browser_env.map(str::trim).filter(|b| !b.is_empty()) {
        // An explicit BROWSER is run even without a display: it may be a remote opener
        // (e.g. one forwarding the URL to the user's desktop over SSH).
        return launch_browser_env(url, browser);
    }
    if !display {
        return LaunchOutcome::NoDisplay;
    }
    launch_default(url)
}

/// The desktop's openers in the `open` crate's order (xdg-open, gio, ... on Linux and the BSDs;
/// `open` on macOS; `cmd /c start` on Windows), tried until one starts, each with a scrubbed
/// environment.
fn launch_default(url: &str) -> LaunchOutcome {
    let mut reasons = Vec::new();
    for mut command in open::commands(url) {
        let program = command.get_program().to_string_lossy().into_owned();
        crate::child::scrub(&mut command);
        match run_checked(command, &program) {
            Ok(()) => return LaunchOutcome::Launched,
            Err(reason) => reasons.push(reason),
        }
    }
    if reasons.is_empty() {
        return LaunchOutcome::Failed("could not open the default browser: no opener is known here".to_owned());
    }
    LaunchOutcome::Failed(format!("could not open the default browser: {}", reasons.join("; ")))
}

fn launch_browser_env(url: &str, browser: &str) -> LaunchOutcome {
    let mut reasons = Vec::new();
    for command in browser.split(BROWSER_SEPARATOR).map(str::trim).filter(|c| !c.is_empty()) {
        let argv = command_line(command, url);
        match run_detached(&argv) {
            Ok(()) => return LaunchOutcome::Launched,
            Err(reason) => reasons.push(reason),
        }
    }
    if reasons.is_empty() {
        return LaunchOutcome::Failed("BROWSER names no command".to_owned());
    }
    LaunchOutcome::Failed(format!("BROWSER: {}", reasons.join("; ")))
}

/// Split one `BROWSER` command on whitespace, put the URL where `%s` is (`%%` is a literal
/// `%`), or after the last argument when there is no `%s`. The program name itself is taken
/// literally, so the URL can never become the program.
fn command_line(command: &str, url: &str) -> Vec<String> {
    let mut words = command.split_whitespace();
    let mut argv: Vec<String> = words.next().map(str::to_owned).into_iter().collect();
    let mut placed = false;
    for word in words {
        let (arg, used) = expand(word, url);
        placed |= used;
        argv.push(arg);
    }
    if !placed {
        argv.push(url.to_owned());
    }
    argv
}

fn expand(word: &str, url: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let mut used = false;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('%', Some('s')) => {
                chars.next();
                out.push_str(url);
                used = true;
            }
            ('%', Some('%')) => {
                chars.next();
                out.push('%');
            }
            _ => out.push(c),
        }
    }
    (out, used)
}

/// Start `argv` with no terminal I/O and see whether it fails within [`EXIT_CHECK`]. A
/// background thread waits for it either way, so it never lingers as a zombie.
fn run_detached(argv: &[String]) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("an empty command".to_owned());
    };
    let mut command = crate::child::command(program);
    command.args(args);
    run_checked(command, program)
}

/// Start `command` (named `program` in reasons) detached from the terminal, and see whether it
/// fails within [`EXIT_CHECK`].
fn run_checked(mut command: Command, program: &str) -> Result<(), String> {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // Its own process group, so Ctrl-C on integ in the terminal does not close the browser.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| format!("could not run {}: {e}", shown(program)))?;
    let (tx, rx) = mpsc::channel::<std::io::Result<ExitStatus>>();
    let reaper = thread::Builder::new().name("integ-browser-reaper".to_owned()).spawn(move || {
        let _ = tx.send(child.wait());
    });
    if reaper.is_err() {
        // Cannot watch it; it started, which is the best evidence there is.
        return Ok(());
    }
    match rx.recv_timeout(EXIT_CHECK) {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("{} failed ({status})", shown(program))),
        Ok(Err(e)) => Err(format!("could not watch {}: {e}", shown(program))),
        // Still running after the check: a browser staying open. (Disconnected cannot happen
        // unless the reaper died, which again leaves only the successful start to go on.)
        Err(_) => Ok(()),
    }
}

fn shown(program: &str) -> String {
    format!("`{}`", OsStr::new(program).to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    const URL: &str =
        "https://auth.example/authorize?client_id=a&state=xyz&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb";

    /// A script that writes its arguments, one per line, to `out`. Run through `sh` rather
    /// than executed directly, which avoids "text file busy" when another test thread forks
    /// while the file is still open for writing.
    fn recorder(dir: &Path, name: &str, out: &Path) -> PathBuf {
        let script = dir.join(name);
        std::fs::write(&script, format!("printf '%s\\n' \"$@\" > '{}'\n", out.display())).expect("write script");
        script
    }

    fn recorded(out: &Path) -> Vec<String> {
        // The command runs detached; give it a moment to write when it outlived the check.
        let until = Instant::now() + Duration::from_secs(5);
        while !out.exists() && Instant::now() < until {
            thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(out).expect("the browser command ran").lines().map(str::to_owned).collect()
    }

    #[test]
    fn percent_s_is_replaced_by_the_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let script = recorder(dir.path(), "b.sh", &out);
        let env = format!("sh {} --new-tab=%s --literal=%%s", script.display());
        assert_eq!(launch_with(URL, Some(&env), false), LaunchOutcome::Launched);
        assert_eq!(recorded(&out), [format!("--new-tab={URL}"), "--literal=%s".to_owned()]);
    }

    #[test]
    fn without_percent_s_the_url_comes_last() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let script = recorder(dir.path(), "b.sh", &out);
        let env = format!("  sh {}   --private-window  ", script.display());
        assert_eq!(launch_with(URL, Some(&env), false), LaunchOutcome::Launched);
        assert_eq!(recorded(&out), ["--private-window".to_owned(), URL.to_owned()]);
    }

    #[test]
    fn the_url_is_never_seen_by_a_shell() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let canary = dir.path().join("canary");
        let script = recorder(dir.path(), "b.sh", &out);
        let url = format!("https://x.example/?a=1&b=$(touch {0});`touch {0}`", canary.display());
        let env = format!("sh {}", script.display());
        assert_eq!(launch_with(&url, Some(&env), false), LaunchOutcome::Launched);
        assert_eq!(recorded(&out), [url]);
        assert!(!canary.exists());
    }

    #[test]
    fn a_failing_command_is_failed_without_the_url() {
        match launch_with(URL, Some("/bin/false"), true) {
            LaunchOutcome::Failed(reason) => {
                assert!(reason.contains("/bin/false"), "{reason}");
                assert!(!reason.contains("state=xyz"), "{reason}");
            }
            other => panic!("expected Failed, got {other:?}"),
        }
        match launch_with(URL, Some("/nonexistent/browser --flag"), true) {
            LaunchOutcome::Failed(reason) => assert!(reason.contains("could not run"), "{reason}"),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn commands_are_tried_in_order_until_one_works() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let script = recorder(dir.path(), "b.sh", &out);
        let env = format!("/nonexistent/browser:/bin/false: :sh {} %s", script.display());
        assert_eq!(launch_with(URL, Some(&env), false), LaunchOutcome::Launched);
        assert_eq!(recorded(&out), [URL.to_owned()]);

        match launch_with(URL, Some("/bin/false:/nonexistent/browser"), false) {
            LaunchOutcome::Failed(reason) => {
                assert!(reason.contains("/bin/false") && reason.contains("/nonexistent/browser"));
            }
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(launch_with(URL, Some("/bin/true"), false), LaunchOutcome::Launched);
    }

    #[test]
    fn a_command_still_running_after_the_check_counts_as_launched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("slow.sh");
        std::fs::write(&script, "sleep 3\nexit 1\n").expect("write script");
        let started = Instant::now();
        let env = format!("sh {}", script.display());
        assert_eq!(launch_with(URL, Some(&env), false), LaunchOutcome::Launched);
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn no_display_and_no_browser_is_no_display() {
        assert_eq!(launch_with(URL, None, false), LaunchOutcome::NoDisplay);
        assert_eq!(launch_with(URL, Some("  "), false), LaunchOutcome::NoDisplay);
        assert_eq!(launch_with(URL, Some(":"), false), LaunchOutcome::Failed("BROWSER names no command".to_owned()));
    }

    #[test]
    fn display_comes_from_x11_or_wayland() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
        };
        let desktop_only = cfg!(any(target_os = "macos", target_os = "ios", windows));
        assert_eq!(display_in(env(&[])), desktop_only);
        assert_eq!(display_in(env(&[("DISPLAY", "")])), desktop_only);
        assert!(display_in(env(&[("DISPLAY", ":0")])));
        assert!(display_in(env(&[("WAYLAND_DISPLAY", "wayland-0")])));
    }

    #[test]
    fn command_line_splitting() {
        assert_eq!(command_line("firefox", "U"), ["firefox", "U"]);
        assert_eq!(command_line("%s -x", "U"), ["%s", "-x", "U"]);
        assert_eq!(command_line("b a%sb %s", "U"), ["b", "aUb", "U"]);
        assert_eq!(command_line("b 100%", "U"), ["b", "100%", "U"]);
    }
}
