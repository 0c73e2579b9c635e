//! Real OS keyrings: a secret written by one `integ` process is read by the next, through
//! Secret Service (gnome-keyring in a D-Bus session) and kernel keyutils. Each test uses its own
//! service name and removes its entries, so a developer's real entries are never touched.
//!
//! CI (`scripts/with-keyring`) sets INTEG_TEST_REQUIRE_KEYRING=1 so a missing keyring fails the
//! run; on a developer machine without one these tests say so and pass.

use crate::common::{TestEnv, rand_hex};

fn require() -> bool {
    std::env::var("INTEG_TEST_REQUIRE_KEYRING").is_ok_and(|v| v == "1")
}

fn keyring_env(backend: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.set("INTEG_SECRET_STORE", "keyring");
    env.set("INTEG_KEYRING_BACKEND", backend);
    env.set("INTEG_KEYRING_SERVICE", format!("integ-test-{}", rand_hex(6)));
    env.unset("INTEG_SECRET_KEY");
    if let Ok(addr) = std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        env.set("DBUS_SESSION_BUS_ADDRESS", addr);
    }
    env
}

fn cross_process(backend: &str, expect_in_doctor: &str) {
    let env = keyring_env(backend);
    let secret = format!("kr-secret-{}", rand_hex(16));
    let written = env.run_stdin(&["config", "set", "google.client_secret"], &format!("{secret}\n")).any();
    if written.code != 0 && !require() {
        eprintln!("skipping: {backend} keyring unavailable here: {}", written.stderr);
        return;
    }
    assert_eq!(written.code, 0, "expected success\nstderr:\n{}", written.stderr);
    // A second process reads it.
    let read = env.run(&["config", "get", "google.client_secret"]).ok();
    assert!(read.stderr.contains("set (secret store)"), "{}", read.stderr);
    assert!(!read.stdout.contains(&secret) && !read.stderr.contains(&secret));
    let doctor = env.run(&["doctor"]).ok();
    assert!(doctor.stdout.contains(expect_in_doctor), "{}", doctor.stdout);
    assert!(doctor.stdout.contains("probe passed"), "{}", doctor.stdout);
    // And a third deletes it; a fourth sees it gone.
    env.run(&["config", "unset", "google.client_secret"]).ok();
    let gone = env.run(&["config", "get", "google.client_secret"]).code(1);
    assert!(gone.stderr.contains("not set"), "{}", gone.stderr);
}

#[test]
fn secret_service_persists_across_processes() {
    if std::env::var("DBUS_SESSION_BUS_ADDRESS").is_err() && !require() {
        eprintln!("skipping: no D-Bus session (CI runs this inside dbus-run-session)");
        return;
    }
    cross_process("secret-service", "Secret Service");
}

#[test]
fn keyutils_persists_across_processes() {
    cross_process("keyutils", "keyutils");
}

#[test]
fn keyring_unavailable_fails_closed_and_points_at_the_file_store() {
    let mut env = keyring_env("secret-service");
    env.unset("DBUS_SESSION_BUS_ADDRESS");
    env.set("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/integ-test-bus");
    let run = env.run_stdin(&["config", "set", "google.client_secret"], "value\n").code(2);
    assert!(run.stderr.contains("keyring"), "{}", run.stderr);
    assert!(run.stderr.contains("INTEG_SECRET_STORE=file"), "{}", run.stderr);
    // Nothing was written anywhere in plain text.
    for f in crate::foundation::walk(&env.home()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!crate::foundation::contains(&bytes, b"value\n"), "{}", f.display());
    }
}

/// A value long enough to be split (real Microsoft token sets are), rewritten by one process and
/// read by the next, in both real keyrings: the parts of each generation replace the last.
fn long_values_across_processes(backend: &str) {
    let env = keyring_env(backend);
    let first = format!("first-{}", "a1b2c3d4".repeat(800));
    let written = env.run_stdin(&["config", "set", "google.client_secret"], &format!("{first}\n")).any();
    if written.code != 0 && !require() {
        eprintln!("skipping: {backend} keyring unavailable here: {}", written.stderr);
        return;
    }
    assert_eq!(written.code, 0, "expected success\nstderr:\n{}", written.stderr);
    let second = format!("second-{}", "e5f6a7b8".repeat(500));
    env.run_stdin(&["config", "set", "google.client_secret"], &format!("{second}\n")).ok();
    let read = env.run(&["config", "get", "google.client_secret"]).ok();
    assert!(read.stderr.contains("set (secret store)"), "{}", read.stderr);
    let doctor = env.run(&["doctor"]).ok();
    assert!(doctor.stdout.contains("probe passed"), "{}", doctor.stdout);
    env.run(&["config", "unset", "google.client_secret"]).ok();
    env.run(&["config", "get", "google.client_secret"]).code(1);
}

#[test]
fn keyring_long_values_in_secret_service() {
    if std::env::var("DBUS_SESSION_BUS_ADDRESS").is_err() && !require() {
        eprintln!("skipping: no D-Bus session (CI runs this inside dbus-run-session)");
        return;
    }
    long_values_across_processes("secret-service");
}

#[test]
fn keyring_long_values_in_keyutils() {
    long_values_across_processes("keyutils");
}
