//! `integ schedule [--every 15m] [--cron|--systemd|--launchd] [--install]`: print (and with
//! `--install`, install for the current user) a crontab line, a systemd user service and timer,
//! or a launchd agent that runs `integ sync` with this home, this secret store and a log file.
//!
//! The secret key itself is never written into a schedule: cron tables and unit files are not
//! secret stores. A file store must use a key file (`secret_key_file`); a keyring needs a D-Bus
//! session, which cron does not have. The tools run here get no secrets in their environment.
//!
//! Every value is quoted for what reads it: cron turns an unescaped `%` into a line break before
//! the shell sees the line, systemd expands `%` specifiers in unit files and `$` variables in
//! `ExecStart=`. A value with a control character (a line break would start a new cron entry or
//! unit directive) is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::Duration;

use crate::cli::{ScheduleArgs, ScheduleKind};
use crate::context::Context;
use crate::error::{Done, Error, Result};
use crate::store::secrets::StoreKind;

/// Marks the crontab line integ manages, so reinstalling replaces it.
const CRON_MARK: &str = "# integ sync (managed by `integ schedule`)";
const UNIT: &str = "integ-sync";
const LAUNCHD_LABEL: &str = "dev.integ.sync";

/// Everything a scheduled run needs.
struct Job {
    exe: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    every: Duration,
    log: PathBuf,
}

pub fn run(ctx: &mut Context, a: ScheduleArgs) -> Result<Done> {
    let kind = a.kind();
    let job = job(ctx, a.every)?;
    let text = match kind {
        ScheduleKind::Cron => cron_line(&job)?,
        ScheduleKind::Systemd => format!(
            "# ~/.config/systemd/user/{UNIT}.service\n{}\n# ~/.config/systemd/user/{UNIT}.timer\n{}",
            systemd_service(&job),
            systemd_timer(&job)
        ),
        ScheduleKind::Launchd => launchd_plist(&job),
    };
    if !a.install {
        ctx.ui.line(text.trim_end())?;
        ctx.ui.info(match kind {
            ScheduleKind::Cron => "Add this line with `crontab -e`, or run `integ schedule --cron --install`.",
            ScheduleKind::Systemd => {
                "Save these two files, then `systemctl --user enable --now integ-sync.timer`; or use --install."
            }
            ScheduleKind::Launchd => {
                "Save this as ~/Library/LaunchAgents/dev.integ.sync.plist and `launchctl load -w` it; or use --install."
            }
        });
        return Ok(Done::Ok);
    }
    match kind {
        ScheduleKind::Cron => install_cron(&job)?,
        ScheduleKind::Systemd => install_systemd(ctx, &job)?,
        ScheduleKind::Launchd => install_launchd(ctx, &job)?,
    }
    ctx.ui.success(format!("integ sync is scheduled every {}; its log is {}", human(job.every), job.log.display()));
    Ok(Done::Ok)
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn job(ctx: &mut Context, every: Duration) -> Result<Job> {
    if every < Duration::from_secs(60) {
        return Err(Error::config("--every must be at least 1m").hint("for example --every 15m"));
    }
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Error::failure("cannot find the integ executable").cause(e))?;
    let settings = ctx.settings()?.clone();
    let mut env = Vec::new();
    if let Some(home) = &ctx.paths.home {
        env.push(("INTEG_HOME".to_string(), home.display().to_string()));
    }
    for var in ["INTEG_SECRET_STORE", "INTEG_KEYRING_BACKEND", "INTEG_KEYRING_SERVICE", "INTEG_SECRET_KEY_FILE"] {
        if let Some(v) = ctx.env.get(var) {
            env.push((var.to_string(), v.to_string()));
        }
    }
    // The database the runs write to; its password never goes into a schedule.
    if let Some(url) = ctx.database_url()? {
        if url.password.is_some() {
            return Err(Error::config("INTEG_DATABASE_URL holds a password, which a schedule must not contain").hint(
                "remove it from the URL and keep it in the secret store (`integ config set database.password`) \
                 or in ~/.pgpass (host:port:database:user:password, chmod 600)",
            ));
        }
        for var in ["INTEG_DATABASE_URL", "PGPASSFILE"] {
            if let Some(v) = ctx.env.get(var) {
                env.push((var.to_string(), v.to_string()));
            }
        }
        if ctx.env.get("INTEG_DATABASE_PASSWORD").is_some() {
            let where_ = if settings.secret_store() == StoreKind::Database {
                "in ~/.pgpass (host:port:database:user:password, chmod 600)"
            } else {
                "in the secret store (`integ config set database.password`) or in ~/.pgpass (chmod 600)"
            };
            ctx.ui.warn(format!(
                "INTEG_DATABASE_PASSWORD is not passed to the schedule: keep the database password {where_}, where scheduled runs find it"
            ));
        }
    }
    match settings.secret_store() {
        StoreKind::File | StoreKind::Database => {
            if settings.get("secret_key_file").is_none() {
                return Err(Error::config("the secret store's key comes from INTEG_SECRET_KEY, which a schedule must not contain")
                    .hint("write the passphrase to a file only you can read (chmod 600) and run `integ config set secret_key_file PATH`"));
            }
        }
        StoreKind::Keyring => {
            ctx.ui.warn(
                "the keyring needs a D-Bus session: cron has none (use the file store: INTEG_SECRET_STORE=file with \
                 secret_key_file), and a systemd user timer has one only while you are logged in or lingering \
                 (`loginctl enable-linger`)",
            );
        }
    }
    // Each run stops a minute before the next is due, so runs never pile up.
    let budget = every.saturating_sub(Duration::from_secs(60)).max(Duration::from_secs(30));
    let log = log_path(ctx);
    let args = vec![
        "sync".to_string(),
        "--quiet".to_string(),
        "--max-duration".to_string(),
        format!("{}s", budget.as_secs()),
        "--log-file".to_string(),
        log.display().to_string(),
    ];
    let job = Job { exe, args, env, every, log };
    check_printable(&job)?;
    Ok(job)
}

/// A line break in a path would end a cron entry or a unit-file directive early, and what
/// follows would be read as one of its own: refuse any control character.
fn check_printable(job: &Job) -> Result<()> {
    let exe = job.exe.display().to_string();
    let values = job.env.iter().map(|(_, v)| v.as_str()).chain(job.args.iter().map(String::as_str));
    for value in values.chain([exe.as_str()]) {
        if value.chars().any(char::is_control) {
            return Err(Error::config(format!(
                "cannot write a schedule for a path with a control character: {}",
                crate::ui::clean(value)
            ))
            .hint("use an INTEG_HOME and log path without line breaks or other control characters"));
        }
    }
    Ok(())
}

fn log_path(ctx: &Context) -> PathBuf {
    match &ctx.paths.home {
        Some(h) => h.join("sync.log"),
        None => ctx.paths.lock_dir.parent().unwrap_or(Path::new(".")).join("sync.log"),
    }
}

/// Quote for a POSIX shell (cron runs its lines with /bin/sh).
fn sh(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn cron_line(job: &Job) -> Result<String> {
    let secs = job.every.as_secs();
    let when = if secs.is_multiple_of(3600) && 24 % (secs / 3600) == 0 {
        format!("0 */{} * * *", secs / 3600)
    } else if secs.is_multiple_of(60) && 60 % (secs / 60) == 0 {
        format!("*/{} * * * *", secs / 60)
    } else {
        return Err(Error::config(format!("cron cannot run something every {}", human(job.every)))
            .hint("use a number of minutes that divides 60 (5m, 10m, 15m, 30m) or hours that divide 24"));
    };
    let env: Vec<String> = job.env.iter().map(|(k, v)| format!("{k}={}", cron_word(v))).collect();
    let args: Vec<String> = job.args.iter().map(|a| cron_word(a)).collect();
    Ok(format!(
        "{when} {}{}{} {} >/dev/null 2>&1 {CRON_MARK}",
        env.join(" "),
        if env.is_empty() { "" } else { " " },
        cron_word(&job.exe.display().to_string()),
        args.join(" ")
    ))
}

/// One shell word in a crontab line. cron turns a `%` into a line break unless a backslash
/// escapes it (and drops that backslash), so each `%` is written `\%` outside the shell's
/// quotes: after cron it is a bare `%`, which the shell leaves alone. A cron that does not
/// treat `%` specially hands `\%` to the shell, which reads it as `%` too. The piece before a
/// `%` never ends in a backslash of the value's own (`sh` quotes a backslash), so no `\\%`
/// can appear.
fn cron_word(s: &str) -> String {
    if !s.contains('%') {
        return sh(s);
    }
    s.split('%').map(|piece| if piece.is_empty() { String::new() } else { sh(piece) }).collect::<Vec<_>>().join("\\%")
}

/// systemd quoting for `Environment=`: a word in double quotes when it needs any, with C-style
/// backslash escapes, and `%` doubled because systemd expands `%` specifiers everywhere.
fn sd(s: &str) -> String {
    let specifiers = s.replace('%', "%%");
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || "\"'\\;".contains(c)) {
        format!("\"{}\"", specifiers.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        specifiers
    }
}

/// systemd quoting for `ExecStart=`, which also expands `$VAR` and `${VAR}`: `$` is `$$`.
fn sd_exec(s: &str) -> String {
    sd(s).replace('$', "$$")
}

fn systemd_service(job: &Job) -> String {
    let env: String = job.env.iter().map(|(k, v)| format!("Environment={}\n", sd(&format!("{k}={v}")))).collect();
    let args: Vec<String> = job.args.iter().map(|a| sd_exec(a)).collect();
    format!(
        "[Unit]\nDescription=integ sync (Jobber jobs and calendars into SQLite)\nAfter=network-online.target\n\n\
         [Service]\nType=oneshot\n{env}ExecStart={} {}\n# Exit codes: 3 partial, 4 reconnect needed, 5 another run held the lock.\nSuccessExitStatus=5\n",
        sd_exec(&job.exe.display().to_string()),
        args.join(" ")
    )
}

fn systemd_timer(job: &Job) -> String {
    format!(
        "[Unit]\nDescription=Run integ sync every {}\n\n[Timer]\nOnBootSec=2min\nOnUnitActiveSec={}s\nRandomizedDelaySec=30\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
        human(job.every),
        job.every.as_secs()
    )
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn launchd_plist(job: &Job) -> String {
    let mut args = format!("    <string>{}</string>\n", xml(&job.exe.display().to_string()));
    for a in &job.args {
        args.push_str(&format!("    <string>{}</string>\n", xml(a)));
    }
    let mut env = String::new();
    for (k, v) in &job.env {
        env.push_str(&format!("    <key>{}</key><string>{}</string>\n", xml(k), xml(v)));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  <key>Label</key><string>{LAUNCHD_LABEL}</string>\n  \
         <key>ProgramArguments</key>\n  <array>\n{args}  </array>\n  <key>EnvironmentVariables</key>\n  <dict>\n{env}  </dict>\n  \
         <key>StartInterval</key><integer>{}</integer>\n  <key>RunAtLoad</key><true/>\n</dict>\n</plist>\n",
        job.every.as_secs()
    )
}

fn run_tool(cmd: &mut Command, what: &str, hint: &str) -> Result<String> {
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Error::failure(format!("cannot run {what}")).cause(e).hint(hint.to_string()))?;
    if !out.status.success() {
        return Err(Error::failure(format!("{what} failed"))
            .cause(String::from_utf8_lossy(&out.stderr).trim().to_string())
            .hint(hint.to_string()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn install_cron(job: &Job) -> Result<()> {
    let line = cron_line(job)?;
    // No crontab yet is not an error.
    let current =
        crate::child::command("crontab").arg("-l").stderr(Stdio::null()).output().map_err(|e| {
            Error::failure("cannot run crontab").cause(e).hint("install cron (Debian: apt install cron)")
        })?;
    let mut table: Vec<String> = String::from_utf8_lossy(&current.stdout)
        .lines()
        .filter(|l| !l.contains(CRON_MARK))
        .map(str::to_string)
        .collect();
    table.push(line);
    let mut child = crate::child::command("crontab")
        .arg("-")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::failure("cannot run crontab").cause(e))?;
    if let Some(stdin) = child.stdin.as_mut() {
        use std::io::Write;
        stdin.write_all(format!("{}\n", table.join("\n")).as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(Error::failure("crontab refused the new table")
            .cause(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(())
}

fn user_config_dir(ctx: &Context) -> PathBuf {
    ctx.env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| ctx.env.get("HOME").map(|h| Path::new(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"))
}

fn install_systemd(ctx: &Context, job: &Job) -> Result<()> {
    let dir = user_config_dir(ctx).join("systemd/user");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("{UNIT}.service")), systemd_service(job))?;
    std::fs::write(dir.join(format!("{UNIT}.timer")), systemd_timer(job))?;
    let hint = "is a systemd user instance running? (`systemctl --user status`; on a server, `loginctl enable-linger`)";
    run_tool(
        crate::child::command("systemctl").args(["--user", "daemon-reload"]),
        "systemctl --user daemon-reload",
        hint,
    )?;
    run_tool(
        crate::child::command("systemctl").args(["--user", "enable", "--now", &format!("{UNIT}.timer")]),
        "systemctl --user enable",
        hint,
    )?;
    Ok(())
}

fn install_launchd(ctx: &Context, job: &Job) -> Result<()> {
    let home = ctx.env.get("HOME").ok_or_else(|| Error::config("HOME is not set"))?;
    let path = Path::new(home).join("Library/LaunchAgents").join(format!("{LAUNCHD_LABEL}.plist"));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, launchd_plist(job))?;
    let _ = crate::child::command("launchctl").arg("unload").arg(&path).stderr(Stdio::null()).status();
    run_tool(
        crate::child::command("launchctl").arg("load").arg("-w").arg(&path),
        "launchctl load",
        "check the plist with `plutil -lint`",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(every: u64) -> Job {
        Job {
            exe: PathBuf::from("/opt/my tools/integ"),
            args: vec!["sync".into(), "--log-file".into(), "/home/a b/sync.log".into()],
            env: vec![("INTEG_HOME".into(), "/home/a b/.integ".into())],
            every: Duration::from_secs(every),
            log: PathBuf::from("/home/a b/sync.log"),
        }
    }

    #[test]
    fn cron_lines_quote_and_pick_the_schedule() {
        let line = cron_line(&job(900)).unwrap();
        assert!(line.starts_with("*/15 * * * * INTEG_HOME='/home/a b/.integ' '/opt/my tools/integ' sync"), "{line}");
        assert!(line.ends_with(CRON_MARK));
        assert!(cron_line(&job(7200)).unwrap().starts_with("0 */2 * * *"));
        assert!(cron_line(&job(7 * 60)).is_err());
    }

    #[test]
    fn systemd_and_launchd_carry_the_command() {
        let svc = systemd_service(&job(900));
        assert!(svc.contains("Environment=\"INTEG_HOME=/home/a b/.integ\""), "{svc}");
        assert!(svc.contains("ExecStart=\"/opt/my tools/integ\" sync"), "{svc}");
        assert!(systemd_timer(&job(900)).contains("OnUnitActiveSec=900s"));
        let plist = launchd_plist(&job(900));
        assert!(plist.contains("<string>/opt/my tools/integ</string>") && plist.contains("<integer>900</integer>"));
    }

    /// What cron (Vixie, cronie) does to a command before the shell sees it: up to the first
    /// `%` not escaped by a backslash; `\%` becomes `%`, other backslashes stay.
    fn cron(command: &str) -> String {
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

    /// POSIX shell word splitting for what `sh` and `cron_word` write: single quotes, backslash
    /// escapes and plain characters.
    fn shell(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                ' ' => words.extend(word.take()),
                '\'' => {
                    let w = word.get_or_insert_with(String::new);
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                        w.push(c);
                    }
                }
                '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        words
    }

    /// systemd's reading of an `ExecStart=` line: specifiers (`%%`), then words with double
    /// quotes and C escapes, then `$$` in each word.
    fn systemd_exec(line: &str) -> Vec<String> {
        systemd_words(&line.replace("%%", "%")).into_iter().map(|w| w.replace("$$", "$")).collect()
    }

    fn systemd_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut quote: Option<char> = None;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (None, ' ') => words.extend(word.take()),
                (None, '"' | '\'') => {
                    quote = Some(c);
                    word.get_or_insert_with(String::new);
                }
                (Some(q), c) if c == q => quote = None,
                (_, '\\') => word.get_or_insert_with(String::new).extend(chars.next()),
                (_, c) => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        words
    }

    #[test]
    fn percent_survives_cron_and_dollar_survives_systemd() {
        let mut j = job(900);
        j.exe = PathBuf::from("/opt/100%/$HOME/integ");
        j.env = vec![("INTEG_HOME".into(), "/home/%a\\%b%%/$x '".into())];
        j.args = vec!["--log-file".into(), "/home/%d/${USER}/sync.log".into()];
        let line = cron_line(&j).unwrap();
        let command = cron(line.splitn(6, ' ').nth(5).unwrap());
        assert!(command.ends_with(CRON_MARK), "{line}");
        let words = shell(&command);
        assert_eq!(words[0], "INTEG_HOME=/home/%a\\%b%%/$x '", "{line}");
        assert_eq!(words[1..4], ["/opt/100%/$HOME/integ", "--log-file", "/home/%d/${USER}/sync.log"], "{line}");

        let svc = systemd_service(&j);
        let exec = svc.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
        assert_eq!(systemd_exec(exec), ["/opt/100%/$HOME/integ", "--log-file", "/home/%d/${USER}/sync.log"], "{exec}");
        let env = svc.lines().find_map(|l| l.strip_prefix("Environment=")).unwrap();
        assert_eq!(systemd_words(&env.replace("%%", "%")), ["INTEG_HOME=/home/%a\\%b%%/$x '"], "{env}");
    }

    #[test]
    fn cron_words_mean_the_same_to_a_real_shell() {
        for value in ["/a b/100%", "%", "%%x%", "it's 50%", "\\%", "a\\", "$HOME `x` \"q\"", "", "-x"] {
            let command = cron(&format!("printf '%s\\0' {}", cron_word(value)).replace("'%s", "'\\%s"));
            let out = std::process::Command::new("sh").arg("-c").arg(&command).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{value}\0"), "{command}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let mut j = job(900);
        j.env = vec![("INTEG_HOME".into(), "/home/a\n* * * * * evil".into())];
        let err = check_printable(&j).unwrap_err();
        assert_eq!(err.kind, crate::error::Kind::Config);
        assert!(!err.message.contains('\n'), "{}", err.message);
        assert!(check_printable(&job(900)).is_ok());
    }

    /// Paths as people (and attackers) name them: no control characters, anything else.
    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let interesting = prop_oneof![
            Just('%'),
            Just('$'),
            Just('\\'),
            Just('\''),
            Just('"'),
            Just(' '),
            Just(';'),
            Just('{'),
            Just('a'),
            Just('/'),
            any::<char>().prop_filter("no control characters", |c| !c.is_control()),
        ];
        proptest::collection::vec(interesting, 0..20).prop_map(|cs| cs.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn any_printable_value_round_trips(home in value(), exe in value(), log in value()) {
            let j = Job {
                exe: PathBuf::from(format!("/{exe}")),
                args: vec!["sync".into(), "--log-file".into(), log.clone()],
                env: vec![("INTEG_HOME".into(), home.clone())],
                every: Duration::from_secs(900),
                log: PathBuf::from(&log),
            };
            let line = cron_line(&j).unwrap();
            let command = cron(line.splitn(6, ' ').nth(5).unwrap());
            proptest::prop_assert!(command.ends_with(CRON_MARK), "{}", line);
            let words = shell(&command);
            proptest::prop_assert_eq!(&words[0], &format!("INTEG_HOME={home}"));
            proptest::prop_assert_eq!(&words[1..5], &[format!("/{exe}"), "sync".into(), "--log-file".into(), log.clone()]);

            let svc = systemd_service(&j);
            let exec = svc.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
            proptest::prop_assert_eq!(systemd_exec(exec), vec![format!("/{exe}"), "sync".into(), "--log-file".into(), log]);
            let env = svc.lines().find_map(|l| l.strip_prefix("Environment=")).unwrap();
            proptest::prop_assert_eq!(systemd_words(&env.replace("%%", "%")), vec![format!("INTEG_HOME={home}")]);
        }
    }
}
