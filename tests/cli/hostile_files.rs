//! A file system others can write to, and an environment that points integ elsewhere: folders
//! and files others could change are refused, planted symbolic links are never followed, a key
//! file others can read is refused, and moved endpoints are pointed out. Also: the process that
//! holds secrets cannot be dumped.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use crate::common::{Fakes, INTEG, TestEnv};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn private_home(env: &TestEnv) {
    std::fs::create_dir_all(env.home()).unwrap();
    chmod(&env.home(), 0o700);
}

#[test]
fn a_home_others_can_write_is_refused_with_the_fix() {
    let env = TestEnv::new();
    private_home(&env);
    for mode in [0o777, 0o770, 0o707] {
        chmod(&env.home(), mode);
        let run = env.run(&["status"]).code(2);
        assert!(run.stderr.contains(&env.home().display().to_string()), "{}", run.stderr);
        assert!(run.stderr.contains("others"), "{mode:o}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("chmod 700 {}", env.home().display())), "{}", run.stderr);
        let run = env.run(&["config", "set", "jobber.client_id", "x"]).code(2);
        assert!(run.stderr.contains("chmod 700"), "{}", run.stderr);
        assert!(!env.home().join("config.toml").exists());
    }
    // doctor says so instead of stopping.
    let run = env.run(&["doctor"]).code(1);
    assert!(run.stdout.contains("FAIL") && run.stdout.contains("chmod 700"), "{}", run.stdout);
    chmod(&env.home(), 0o755);
    env.run(&["status"]).ok();
}

#[test]
fn a_config_file_others_can_write_is_refused() {
    let env = TestEnv::new();
    private_home(&env);
    let config = env.home().join("config.toml");
    std::fs::write(&config, "[jobber]\nclient_id = \"x\"\n").unwrap();
    chmod(&config, 0o666);
    let run = env.run(&["config", "get", "jobber.client_id"]).code(2);
    assert!(run.stderr.contains(&format!("chmod 600 {}", config.display())), "{}", run.stderr);
    chmod(&config, 0o644);
    env.run(&["config", "get", "jobber.client_id"]).ok();
}

#[test]
fn a_home_owned_by_someone_else_is_refused() {
    // Only root can give a folder away; as anyone else, there is nothing to set up.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: needs root to chown a folder to another user");
        return;
    }
    let env = TestEnv::new();
    private_home(&env);
    std::os::unix::fs::chown(env.home(), Some(65534), Some(65534)).unwrap();
    let run = env.run(&["status"]).code(2);
    assert!(run.stderr.contains("owned by"), "{}", run.stderr);
    assert!(run.stderr.contains("chown"), "{}", run.stderr);
}

#[test]
fn a_planted_database_link_is_not_followed() {
    let env = TestEnv::new();
    private_home(&env);
    let victim = env.dir.path().join("victim");
    std::fs::write(&victim, b"").unwrap();
    symlink(&victim, env.home().join("integ.db")).unwrap();
    let run = env.run(&["status"]).code(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read(&victim).unwrap(), b"", "the link's target was written");
}

#[test]
fn a_planted_log_file_link_is_not_followed() {
    let env = TestEnv::new();
    private_home(&env);
    let victim = env.dir.path().join("victim.log");
    let link = env.dir.path().join("integ.log");
    symlink(&victim, &link).unwrap();
    let run = env.run(&["--log-file", link.to_str().unwrap(), "status"]).ok();
    assert!(run.stderr.contains("cannot open the log file"), "{}", run.stderr);
    assert!(!victim.exists(), "the log file's link was followed");
}

#[test]
fn a_planted_lock_file_link_is_not_followed() {
    let env = TestEnv::new();
    private_home(&env);
    std::fs::create_dir(env.home().join("locks")).unwrap();
    chmod(&env.home().join("locks"), 0o700);
    let victim = env.dir.path().join("victim.lock");
    symlink(&victim, env.home().join("locks/secrets.lock")).unwrap();
    let run = env.run_stdin(&["config", "set", "jobber.client_secret"], "s3cr3t-value\n").code(2);
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    assert!(run.stderr.contains("rm "), "{}", run.stderr);
    assert!(!victim.exists(), "the lock file's link was followed");
}

#[test]
fn moved_endpoints_are_pointed_out_by_status_and_doctor() {
    let mut env = TestEnv::new();
    env.run(&["status"]).ok();
    let quiet = env.run(&["doctor", "--json"]).ok().json();
    assert!(quiet.as_array().unwrap().iter().all(|c| c["check"] != "endpoints" || c["level"] == "OK"), "{quiet}");

    env.set("INTEG_GOOGLE_TOKEN_URL", "https://tokens.example.net/token");
    env.run(&["config", "set", "calendly.api_url", "https://calendly.example.org"]).ok();
    let run = env.run(&["status"]).ok();
    assert!(run.stderr.contains("google.token_url"), "{}", run.stderr);
    assert!(run.stderr.contains("https://tokens.example.net/token"), "{}", run.stderr);
    assert!(run.stderr.contains("INTEG_GOOGLE_TOKEN_URL"), "{}", run.stderr);
    assert!(run.stderr.contains("calendly.api_url"), "{}", run.stderr);
    let json = env.run(&["doctor", "--json"]).ok().json();
    let check = json.as_array().unwrap().iter().find(|c| c["check"] == "endpoints").cloned().expect("endpoints");
    assert_eq!(check["level"], "WARN", "{check}");
    let detail = check["detail"].as_str().unwrap();
    assert!(detail.contains("google.token_url") && detail.contains("calendly.api_url"), "{detail}");
    assert!(!detail.contains("jobber"), "{detail}");
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let mut env = TestEnv::new();
    let key = env.dir.path().join("integ.key");
    std::fs::write(&key, "a-long-enough-passphrase\n").unwrap();
    chmod(&key, 0o644);
    env.unset("INTEG_SECRET_KEY");
    env.set("INTEG_SECRET_KEY_FILE", key.display().to_string());
    let run = env.run_stdin(&["config", "set", "jobber.client_secret"], "s3cr3t-value\n").code(2);
    assert!(run.stderr.contains(&format!("chmod 600 {}", key.display())), "{}", run.stderr);
    assert!(!env.home().join("secrets.enc").exists());
    chmod(&key, 0o600);
    let run = env.run_stdin(&["config", "set", "jobber.client_secret"], "s3cr3t-value\n").ok();
    assert!(!run.stderr.contains("12 characters"), "{}", run.stderr);
}

#[test]
fn a_short_passphrase_is_warned_about() {
    let mut env = TestEnv::new();
    env.set("INTEG_SECRET_KEY", "hunter2");
    let run = env.run_stdin(&["config", "set", "jobber.client_secret"], "s3cr3t-value\n").ok();
    assert!(run.stderr.contains("12 characters"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

/// The browser integ starts reads its parent's limits and owner; a process that cannot be dumped
/// has core size 0 and (seen by anyone but root) a /proc entry owned by root.
#[test]
fn the_process_holding_secrets_cannot_be_dumped() {
    let fakes = Fakes::start(&[]);
    let mut env = TestEnv::new();
    fakes.apply(&mut env);
    let seen = env.dir.path().join("parent.txt");
    let page = env.dir.path().join("page.html");
    let script = env.dir.path().join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ngrep 'Max core file size' /proc/$PPID/limits > '{seen}'\nstat -c 'owner %u' /proc/$PPID >> '{seen}'\n\
             exec curl -sS -L --max-redirs 10 -o '{page}' \"$1\"\n",
            seen = seen.display(),
            page = page.display()
        ),
    )
    .unwrap();
    crate::common::make_executable(&script);
    env.set("BROWSER", script.display().to_string());
    // Start integ with a core limit it must lower.
    let out = Command::new("sh")
        .args(["-c", "ulimit -c 4096 && exec \"$@\"", "sh", INTEG, "connect", "jobber", "--timeout", "30"])
        .env_clear()
        .envs(&env.vars)
        .env("INTEG_TEST_NOW", env.now().to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = std::fs::read_to_string(&seen).unwrap();
    let limits: Vec<&str> = seen.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(&limits[4..6], ["0", "0"], "{seen}");
    if unsafe { libc::geteuid() } != 0 {
        assert!(seen.contains("owner 0"), "{seen}");
    }
}
