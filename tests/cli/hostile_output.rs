//! Hostile text from a provider, a hostile environment and a hostile reader: what integ prints
//! can't drive the terminal or a spreadsheet (`--json` stays exact), the programs it starts don't
//! inherit its secrets, schedules survive `%` and `$`, a closed stderr is no crash, and no
//! `RUST_LOG` uncaps the HTTP internals.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::json;

use crate::common::{Fakes, Run, TestEnv, anchor_at, anchor_date, connected, make_executable};

/// Sets the window title, clears the screen, writes the clipboard (OSC 52), then an 8-bit CSI
/// and a right-to-left override that reverses what follows.
const TITLE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07Standup\u{9b}31m \u{202e}txt.exe\u{2066}\r\n\t!";
const LOCATION: &str = "=HYPERLINK(\"http://evil.example/\",\"Room 4\")";
const CALENDAR: &str = "Crew\x1b[8m \u{200f}hidden\u{061c}";
const ACCOUNT: &str = "Mallory\x1b]8;;http://evil.example/\x07";

/// Whether `text` holds anything that a terminal would act on or that reorders text.
fn hostile(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        })
        .collect()
}

#[track_caller]
fn assert_tame(what: &str, text: &str) {
    let found = hostile(text);
    assert!(found.is_empty(), "{what} prints control or bidi characters {found:?}:\n{text}");
}

/// A Google account whose name, calendar and one event are hostile, synced.
fn hostile_google() -> (TestEnv, Fakes) {
    let fakes = Fakes::start(&["--google-seed-events", "0"]);
    fakes.post("/_fake/google/login", json!({"id": "mallory-1", "name": ACCOUNT, "email": ACCOUNT}));
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.curl_browser();
    let connect = env.run(&["connect", "google", "--timeout", "30"]).ok();
    assert_tame("connect", &connect.stderr);
    let cal = fakes.post("/_fake/google/calendars", json!({"name": CALENDAR}));
    let cal_id = cal["id"].as_str().or(cal["calendar"]["id"].as_str()).map(str::to_string);
    let list = env.run(&["calendars", "list"]).ok();
    assert_tame("calendars list", &list.stdout);
    assert_tame("calendars list (stderr)", &list.stderr);
    let listed = env.run(&["calendars", "list", "--json", "--offline"]).ok().json();
    assert!(
        listed.as_array().unwrap().iter().any(|c| c["name"] == CALENDAR),
        "--json keeps the calendar's name exactly: {listed}"
    );
    let primary =
        listed.as_array().unwrap().iter().find(|c| c["primary"] == true).unwrap()["id"].as_str().unwrap().to_string();
    let id = cal_id.unwrap_or_else(|| {
        listed.as_array().unwrap().iter().find(|c| c["name"] == CALENDAR).unwrap()["id"].as_str().unwrap().to_string()
    });
    let select = env.run(&["calendars", "select", &id]).ok();
    assert_tame("calendars select", &select.stderr);
    for calendar in [&primary, &id] {
        fakes.post(
            "/_fake/google/events",
            json!({"calendar": calendar, "title": TITLE, "location": LOCATION, "description": TITLE,
                   "start": anchor_at(2, "10:00"), "end": anchor_at(2, "11:00")}),
        );
    }
    let sync = env.run(&["sync", "events"]).ok();
    assert_tame("sync", &sync.stderr);
    (env, fakes)
}

#[test]
fn provider_text_cannot_drive_the_terminal_or_the_spreadsheet() {
    let (env, _fakes) = hostile_google();
    let (from, to) = (anchor_date(0), anchor_date(9));
    let range = ["--from", from.as_str(), "--to", to.as_str(), "--tz", "UTC"];
    let args = |extra: &[&'static str]| -> Vec<&str> {
        let mut a = vec!["events", "list"];
        a.extend_from_slice(&range);
        a.extend_from_slice(extra);
        a
    };

    let table = env.run(&args(&[])).ok();
    assert_tame("events list", &table.stdout);
    assert!(table.stdout.contains(r"\u{1b}]0;pwned\u{7}"), "escapes are shown, not acted on:\n{}", table.stdout);
    assert!(table.stdout.contains(r"\u{202e}txt.exe"), "{}", table.stdout);

    let status = env.run(&["status"]).ok();
    assert_tame("status", &status.stdout);
    assert!(status.stdout.contains(r"Mallory\u{1b}]8;;"), "{}", status.stdout);

    // CSV: the formula is text, the controls are shown, quoting still holds.
    let csv = env.run(&args(&["--csv"])).ok();
    assert_tame("events list --csv", &csv.stdout);
    let rows: Vec<&str> = csv.stdout.lines().filter(|l| l.contains("HYPERLINK")).collect();
    assert_eq!(rows.len(), 2, "{}", csv.stdout);
    for row in rows {
        assert!(row.contains(r#","'=HYPERLINK(""http://evil.example/"",""Room 4"")","#), "{row}");
    }

    // JSON: byte for byte what the provider sent.
    let json = env.run(&args(&["--json"])).ok().json();
    let events = json.as_array().unwrap();
    assert_eq!(events.len(), 2, "{json}");
    for e in events {
        assert_eq!(e["title"], TITLE);
        assert_eq!(e["location"], LOCATION);
    }
}

/// A program that writes its environment to `dump` and, given a URL, finishes the sign-in the
/// way a browser would.
fn env_dumper(dir: &Path, name: &str, dump: &Path) -> PathBuf {
    let script = dir.join(name);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv >> '{}'\ncase \"$1\" in http*) exec curl -sS -L --max-redirs 10 -o /dev/null \"$1\";; esac\n\
             [ \"$1\" = -l ] && exit 1\ncat >/dev/null\nexit 0\n",
            dump.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    script
}

/// The secret values in `env`'s variables (the fakes give each provider's client secret).
fn secrets(env: &TestEnv) -> Vec<(String, String)> {
    let secrets: Vec<(String, String)> = env
        .vars
        .iter()
        .filter(|(k, _)| k.as_str() == "INTEG_SECRET_KEY" || k.ends_with("_CLIENT_SECRET"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(secrets.len() >= 3, "the test environment has secrets to leak: {secrets:?}");
    secrets
}

#[track_caller]
fn assert_no_secrets(dump: &Path, secrets: &[(String, String)]) {
    let text = std::fs::read_to_string(dump).unwrap_or_else(|e| panic!("{} was not written: {e}", dump.display()));
    assert!(text.contains("PATH="), "the dump is an environment:\n{text}");
    for (name, value) in secrets {
        assert!(!text.contains(value.as_str()), "{name}'s value reached a child process:\n{text}");
        assert!(!text.contains(&format!("{name}=")), "{name} reached a child process:\n{text}");
    }
}

#[test]
fn the_browser_does_not_inherit_secrets() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    env.set("MICROSOFT_CLIENT_SECRET", "ms-secret-not-for-children");
    env.set("SLACK_BOT_TOKEN", "xoxb-not-for-children");
    let secrets = secrets(&env);
    let dump = env.dir.path().join("browser-env");
    let script = env_dumper(env.dir.path(), "browser.sh", &dump);
    env.set("BROWSER", script.display().to_string());
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    assert_no_secrets(&dump, &secrets);
    let text = std::fs::read_to_string(&dump).unwrap();
    assert!(!text.contains("xoxb-not-for-children"), "{text}");
    assert!(text.contains("INTEG_HOME="), "what is not secret still passes:\n{text}");
}

#[test]
fn the_default_browser_does_not_inherit_secrets() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    let secrets = secrets(&env);
    let bin = env.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let dump = env.dir.path().join("opener-env");
    env_dumper(&bin, "xdg-open", &dump);
    let path = format!("{}:{}", bin.display(), env.vars["PATH"]);
    env.set("PATH", path).set("DISPLAY", ":99").unset("BROWSER").unset("WSL_DISTRO_NAME");
    env.run(&["connect", "google", "--timeout", "30"]).ok();
    assert_no_secrets(&dump, &secrets);
}

/// `crontab`, `systemctl` and `launchctl` stand-ins that record their environment and input.
fn fake_tools(env: &mut TestEnv) -> PathBuf {
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dump = env.dir.path().join("tools-env");
    let installed = env.dir.path().join("crontab.txt");
    for tool in ["systemctl", "launchctl"] {
        env_dumper(&bin, tool, &dump);
    }
    let crontab = bin.join("crontab");
    std::fs::write(
        &crontab,
        format!("#!/bin/sh\nenv >> '{}'\n[ \"$1\" = -l ] && exit 1\ncat > '{}'\n", dump.display(), installed.display()),
    )
    .unwrap();
    make_executable(&crontab);
    let path = format!("{}:{}", bin.display(), env.vars["PATH"]);
    env.set("PATH", path);
    dump
}

/// What cron hands to `/bin/sh` for a crontab line (crontab(5)): the command after the five
/// time fields, up to the first `%` not escaped by a backslash; `\%` becomes `%`.
fn cron_command(line: &str) -> String {
    let command = line.splitn(6, ' ').nth(5).unwrap();
    let mut out = String::new();
    let mut escaped = false;
    for c in command.chars() {
        if escaped {
            if c == '%' {
                out.pop();
            }
            out.push(c);
            escaped = false;
            continue;
        }
        if c == '%' {
            break;
        }
        escaped = c == '\\';
        out.push(c);
    }
    out
}

#[test]
fn schedules_escape_percent_and_dollar_and_their_tools_get_no_secrets() {
    let mut env = TestEnv::new();
    env.set("JOBBER_CLIENT_SECRET", "jobber-secret-not-for-children");
    env.set("GOOGLE_CLIENT_SECRET", "google-secret-not-for-children");
    let home = env.dir.path().join("h%o$me 100%");
    env.set("INTEG_HOME", home.display().to_string());
    let key_file = env.dir.path().join("key");
    std::fs::write(&key_file, "a passphrase of some length\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    env.set("INTEG_SECRET_KEY_FILE", key_file.display().to_string());
    env.set("XDG_CONFIG_HOME", env.dir.path().join("config").display().to_string());
    let secrets = secrets(&env);
    let dump = fake_tools(&mut env);

    env.run(&["schedule", "--cron", "--install", "--every", "15m"]).ok();
    let table = std::fs::read_to_string(env.dir.path().join("crontab.txt")).unwrap();
    let line = table.lines().find(|l| l.contains("integ sync")).unwrap();
    let command = cron_command(line);
    assert!(command.ends_with("# integ sync (managed by `integ schedule`)"), "a % cut the line short:\n{line}");
    // Run the line as cron would: the scheduled run must find its home and its log file whole.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env_clear()
        .env("PATH", &env.vars["PATH"])
        .env("HOME", env.dir.path())
        .current_dir(env.dir.path())
        .status()
        .unwrap();
    assert!(status.code().is_some(), "{line}");
    assert!(
        home.join("sync.log").exists(),
        "the scheduled run did not write {}:\n{line}",
        home.join("sync.log").display()
    );

    env.run(&["schedule", "--systemd", "--install", "--every", "15m"]).ok();
    let unit = std::fs::read_to_string(env.dir.path().join("config/systemd/user/integ-sync.service")).unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let log = home.join("sync.log").display().to_string().replace('%', "%%").replace('$', "$$");
    assert!(exec.contains(&format!("\"{log}\"")), "ExecStart escapes % and $:\n{exec}");
    let environment = unit.lines().find(|l| l.starts_with("Environment=\"INTEG_HOME=")).unwrap();
    assert!(environment.contains("h%%o$me 100%%"), "Environment= escapes % only:\n{environment}");

    env.run(&["schedule", "--launchd", "--install", "--every", "15m"]).ok();
    assert_no_secrets(&dump, &secrets);
}

/// Run integ with its stderr on a pipe nobody reads any more.
fn with_closed_stderr(env: &TestEnv, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Run::from(env.cmd(args).stdout(Stdio::piped()).stderr(writer).output().unwrap())
}

#[test]
fn a_closed_stderr_is_no_crash() {
    let mut env = TestEnv::new();
    // A success message, a warning, an error, a log line and a log file that can't be opened.
    with_closed_stderr(&env, &["config", "set", "events.past_days", "10"]).code(0);
    env.set("INTEG_EVENTS_PAST_DAYS", "20");
    with_closed_stderr(&env, &["config", "set", "events.past_days", "12"]).code(0);
    with_closed_stderr(&env, &["events", "list", "--from", "yesterday"]).code(2);
    env.set("RUST_LOG", "debug");
    with_closed_stderr(&env, &["events", "list", "--from", "yesterday"]).code(2);
    env.unset("RUST_LOG");
    with_closed_stderr(&env, &["--log-file", "/proc/integ-no/such.log", "events", "list", "--from", "x"]).code(2);
}

#[test]
fn no_rust_log_filter_uncaps_the_http_internals() {
    let (mut env, _fakes) = connected("jobber", &["--jobber-seed-jobs", "3"], |_| {});
    for filter in [
        "hyper_util::client::legacy::pool=trace",
        "trace,hyper_util::client::legacy=trace,hyper::proto=trace,reqwest::connect=debug,h2=trace",
    ] {
        env.set("RUST_LOG", filter);
        let run = env.run(&["sync", "jobs"]).ok();
        let leaked: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| {
                (l.contains("TRACE") || l.contains("DEBUG"))
                    && ["hyper", "hyper_util", "h2", "rustls", "reqwest", "tiny_http", "zbus"]
                        .iter()
                        .any(|t| l.contains(&format!(" {t}:")))
            })
            .collect();
        assert!(leaked.is_empty(), "RUST_LOG={filter} uncapped HTTP internals:\n{}", leaked.join("\n"));
        assert!(!run.stderr.to_ascii_lowercase().contains("bearer"), "{}", run.stderr);
    }
}
