//! The OS keyring backend: Secret Service or kernel keyutils on Linux, Keychain on macOS,
//! Credential Manager on Windows.
//!
//! Three things about the `keyring` crate shape this file:
//!
//! - Without an explicitly chosen store it quietly uses an in-memory mock, so tokens would
//!   vanish at exit while every call "succeeds". Entries are therefore always built from the
//!   credential type of the chosen store, never from the crate's process-global default, and
//!   a platform without a real store is an error rather than a mock.
//! - Its calls block with no deadline. A Secret Service whose collection is locked shows an
//!   unlock prompt and waits for it forever, which under cron means forever. Every operation
//!   runs on its own thread and is abandoned after `settings.timeout`. (Plain std threads: the
//!   `async-io` executor behind zbus runs its own reactor, and must not find a tokio context.)
//! - Windows refuses entries over 2,560 bytes and tokens with ID tokens are larger, so long
//!   values are split over several entries (`chunks.rs`).
//!
//! There is no fallback to another backend: a keyring that cannot be reached is an error that
//! names the cause, and the caller decides (the hint points at the encrypted file).

use std::fmt;
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::chunks::{RawEntries, delete_value, read_value, write_value};
use super::{KeyringBackend, SecretError, SecretSettings, SecretStore};

/// A keyring, from which each operation takes its own view on the worker thread that runs it:
/// keyutils resolves "the session keyring" per thread, and its first use changes the answer.
trait Keyring: Send + Sync {
    fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError>;
}

/// Secrets in the OS keyring, one entry (or a few, for long values) per key, under the service
/// name from the settings.
pub struct KeyringStore {
    keyring: Arc<dyn Keyring>,
    description: String,
    timeout: Duration,
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("backend", &self.description)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KeyringStore {
    /// Chooses the keyring implementation named by `settings.keyring_backend`. Touches no
    /// keyring yet; fails only when this platform has no such implementation.
    pub fn open(settings: &SecretSettings) -> Result<Self, SecretError> {
        let kind = OsKind::choose(settings.keyring_backend)?;
        let keyring = OsKeyring { kind, service: settings.service.clone() };
        Ok(Self::with_keyring(Arc::new(keyring), kind.describe(), settings.timeout))
    }

    fn with_keyring(keyring: Arc<dyn Keyring>, description: String, timeout: Duration) -> Self {
        KeyringStore { keyring, description, timeout }
    }

    /// Runs `op` on a fresh thread and waits at most `self.timeout` for it. On timeout the
    /// thread is abandoned: it either finishes on its own or ends with the process.
    fn call<T, F>(&self, op: F) -> Result<T, SecretError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn RawEntries) -> Result<T, SecretError> + Send + 'static,
    {
        let keyring = Arc::clone(&self.keyring);
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("integ-keyring".into())
            .spawn(move || {
                let result = keyring.attach().and_then(|raw| op(raw.as_ref()));
                // The receiver is gone only if the caller already gave up on this call.
                let _ = tx.send(result);
            })
            .map_err(|e| SecretError::Keyring(format!("could not start a thread for the keyring call: {e}")))?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(SecretError::Timeout(self.timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(SecretError::Keyring("the keyring call failed unexpectedly (the worker thread panicked)".into()))
            }
        }
    }
}

impl SecretStore for KeyringStore {
    fn describe(&self) -> String {
        format!("keyring ({})", self.description)
    }

    fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError> {
        check_key(key)?;
        let owned = key.to_owned();
        let Some(bytes) = self.call(move |raw| read_value(raw, &owned))? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| SecretError::BadEntry { key: key.to_owned(), reason: "it is not valid UTF-8 text".into() })?;
        Ok(Some(SecretString::from(text)))
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError> {
        check_key(key)?;
        let owned = key.to_owned();
        let bytes = Zeroizing::new(value.expose_secret().as_bytes().to_vec());
        self.call(move |raw| write_value(raw, &owned, &bytes))
    }

    fn delete(&self, key: &str) -> Result<bool, SecretError> {
        check_key(key)?;
        let owned = key.to_owned();
        self.call(move |raw| delete_value(raw, &owned))
    }
}

/// `#` separates a key from its chunk number, so a key containing it could collide with another
/// key's chunks.
fn check_key(key: &str) -> Result<(), SecretError> {
    if key.is_empty() || key.contains('#') {
        return Err(SecretError::Keyring(format!(
            "invalid secret key {key:?}: keys must be non-empty and must not contain '#'"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The real keyrings
// ---------------------------------------------------------------------------------------------

/// The keyring implementations this build can reach on this platform.
#[derive(Debug, Clone, Copy)]
enum OsKind {
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    SecretService,
    #[cfg(target_os = "linux")]
    Keyutils,
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
    Native,
}

impl OsKind {
    fn choose(backend: KeyringBackend) -> Result<Self, SecretError> {
        match backend {
            #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
            KeyringBackend::Default | KeyringBackend::SecretService => Ok(OsKind::SecretService),
            #[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")))]
            KeyringBackend::SecretService => Err(unavailable("the Secret Service keyring backend")),
            #[cfg(target_os = "linux")]
            KeyringBackend::Keyutils => Ok(OsKind::Keyutils),
            #[cfg(not(target_os = "linux"))]
            KeyringBackend::Keyutils => Err(unavailable("the keyutils keyring backend (Linux only)")),
            #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
            KeyringBackend::Default => Ok(OsKind::Native),
            #[cfg(not(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "openbsd",
                target_os = "macos",
                target_os = "ios",
                target_os = "windows"
            )))]
            KeyringBackend::Default => Err(unavailable("an OS keyring")),
        }
    }

    fn describe(self) -> String {
        match self {
            #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
            OsKind::SecretService => "Secret Service".into(),
            #[cfg(target_os = "linux")]
            OsKind::Keyutils => "kernel keyutils".into(),
            #[cfg(target_os = "macos")]
            OsKind::Native => "macOS Keychain".into(),
            #[cfg(target_os = "ios")]
            OsKind::Native => "iOS Keychain".into(),
            #[cfg(target_os = "windows")]
            OsKind::Native => "Windows Credential Manager".into(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn unavailable(what: &str) -> SecretError {
    SecretError::KeyringUnavailable { reason: format!("{what} is not available on this operating system") }
}

/// One service in one real keyring.
struct OsKeyring {
    kind: OsKind,
    service: String,
}

impl Keyring for OsKeyring {
    fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError> {
        let home = match self.kind {
            #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
            OsKind::SecretService => Home::SecretService,
            #[cfg(target_os = "linux")]
            OsKind::Keyutils => Home::Keyutils(keyutils_home(&self.service)?),
            #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
            OsKind::Native => Home::Native,
        };
        Ok(Box::new(OsEntries { kind: self.kind, service: self.service.clone(), home }))
    }
}

/// The keyutils credential every entry of this operation is built from, so that all of them
/// use the same keyrings.
///
/// keyring's own choice, the session keyring, breaks for processes without one (cron jobs,
/// services, containers): the first lookup answers with the per-user session keyring, but
/// linking the persistent keyring creates an anonymous session keyring for the thread, which
/// later lookups return and which vanishes with the thread, taking newly added keys along. So
/// the home is the per-user persistent keyring when the kernel has one: it is shared by every
/// session of the user, cron included, survives logout and expires only after
/// /proc/sys/kernel/keys/persistent_keyring_expiry (3 days by default) without use. Without
/// it, the session keyring as first resolved, before anything could change it.
#[cfg(target_os = "linux")]
fn keyutils_home(service: &str) -> Result<::keyring::keyutils::KeyutilsCredential, SecretError> {
    let mut base = ::keyring::keyutils::KeyutilsCredential::new_with_target(None, service, "")
        .map_err(|e| map_error(OsKind::Keyutils, e))?;
    if let Some(persistent) = base.persistent {
        base.session = persistent;
    }
    Ok(base)
}

/// Entries of one service in one real keyring, for one operation.
struct OsEntries {
    kind: OsKind,
    service: String,
    home: Home,
}

/// What an operation has resolved about its keyring before building entries.
enum Home {
    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    SecretService,
    #[cfg(target_os = "linux")]
    Keyutils(::keyring::keyutils::KeyutilsCredential),
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
    Native,
}

impl OsEntries {
    fn entry(&self, name: &str) -> Result<::keyring::Entry, SecretError> {
        let built: Result<::keyring::Entry, ::keyring::Error> = match &self.home {
            #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
            Home::SecretService => ::keyring::secret_service::SsCredential::new_with_target(None, &self.service, name)
                .map(|c| ::keyring::Entry::new_with_credential(Box::new(c))),
            #[cfg(target_os = "linux")]
            Home::Keyutils(base) => {
                let mut credential = base.clone();
                // keyring's own naming, so `keyctl` users recognise the entries.
                credential.description = format!("keyring-rs:{name}@{}", self.service);
                Ok(::keyring::Entry::new_with_credential(Box::new(credential)))
            }
            // Named explicitly, like the others, so nothing that changes the crate's default
            // builder can redirect us to its mock.
            #[cfg(target_os = "macos")]
            Home::Native => ::keyring::macos::MacCredential::new_with_target(None, &self.service, name)
                .map(|c| ::keyring::Entry::new_with_credential(Box::new(c))),
            #[cfg(target_os = "ios")]
            Home::Native => ::keyring::ios::IosCredential::new_with_target(None, &self.service, name)
                .map(|c| ::keyring::Entry::new_with_credential(Box::new(c))),
            #[cfg(target_os = "windows")]
            Home::Native => ::keyring::windows::WinCredential::new_with_target(None, &self.service, name)
                .map(|c| ::keyring::Entry::new_with_credential(Box::new(c))),
        };
        built.map_err(|e| map_error(self.kind, e))
    }
}

impl RawEntries for OsEntries {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        match self.entry(name)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(::keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(self.kind, e)),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        // Bytes rather than a password string: Windows would store a string as UTF-16, doubling
        // its size against the entry limit.
        self.entry(name)?.set_secret(value).map_err(|e| map_error(self.kind, e))
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(::keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(self.kind, e)),
        }
    }
}

/// Turns a keyring error into one that says what is wrong with this machine. The crate's own
/// messages ("Platform secure storage failure: ...") name neither the cause nor the fix.
fn map_error(kind: OsKind, error: ::keyring::Error) -> SecretError {
    use ::keyring::Error as K;
    match error {
        K::PlatformFailure(inner) | K::NoStorageAccess(inner) => classify(kind, inner.as_ref()),
        K::NoEntry => SecretError::Keyring("the entry does not exist".into()),
        K::BadEncoding(_) => SecretError::Keyring("the entry is not valid UTF-8".into()),
        K::TooLong(attribute, limit) => {
            SecretError::Keyring(format!("the {attribute} is longer than the keyring's limit of {limit}"))
        }
        K::Invalid(attribute, reason) => SecretError::Keyring(format!("invalid {attribute}: {reason}")),
        K::Ambiguous(matches) => SecretError::Keyring(format!(
            "{} keyring entries match one key; remove the duplicates (e.g. with seahorse or secret-tool)",
            matches.len()
        )),
        other => SecretError::Keyring(other.to_string()),
    }
}

/// The whole chain of an error as text, for matching and for the message.
fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        // zbus and secret-service repeat their cause in their own message.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// The first I/O error in the chain. zbus keeps it in an `Arc`, so both forms are tried.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        if let Some(io) = e.downcast_ref::<Arc<std::io::Error>>() {
            return Some(io.kind());
        }
        current = e.source();
    }
    None
}

fn classify(kind: OsKind, inner: &(dyn std::error::Error + Send + Sync + 'static)) -> SecretError {
    let text = chain_text(inner);
    match kind {
        #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
        OsKind::SecretService => classify_secret_service(&text, io_kind(inner)),
        #[cfg(target_os = "linux")]
        OsKind::Keyutils => classify_keyutils(&text),
        #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
        OsKind::Native => SecretError::Keyring(text),
    }
}

/// The secret-service crate's errors are matched by their text and by any `io::Error` in their
/// chain: naming its types would need it (and zbus) as direct dependencies, for a few messages.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn classify_secret_service(text: &str, io: Option<std::io::ErrorKind>) -> SecretError {
    use std::io::ErrorKind;
    let unavailable = |reason: String| SecretError::KeyringUnavailable { reason };
    if text.contains("object locked") || text.contains("IsLocked") || text.contains("prompt dismissed") {
        return SecretError::KeyringLocked;
    }
    if text.contains("ServiceUnknown") || text.contains("org.freedesktop.secrets") {
        return unavailable(
            "no Secret Service provider is running on the D-Bus session bus (install and start \
             gnome-keyring, KWallet or KeePassXC)"
                .into(),
        );
    }
    // secret-service's name for its NoResult, which keyring only gets when asking for the
    // default collection.
    if text.contains("result not returned from SS API") {
        return unavailable(
            "the Secret Service has no default keyring to store into (create one with seahorse, \
             or start gnome-keyring-daemon with --unlock, which creates \"login\")"
                .into(),
        );
    }
    let refused = io == Some(ErrorKind::ConnectionRefused) || text.contains("Connection refused");
    let unreachable = text.contains("no secret service provider or dbus session found");
    if refused || unreachable || matches!(io, Some(ErrorKind::NotFound | ErrorKind::PermissionDenied)) {
        return unavailable(session_bus_problem(refused));
    }
    SecretError::Keyring(format!("Secret Service: {text}"))
}

/// Why the session bus cannot be reached, as far as the environment tells. secret-service
/// reduces a missing socket and an unparsable address to one error, so look for ourselves.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn session_bus_problem(refused: bool) -> String {
    let fix = "under cron, ssh or in a container, run integ inside `dbus-run-session`";
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().filter(|a| !a.is_empty());
    let socket = match &address {
        Some(address) => address
            .split(';')
            .find_map(|part| part.strip_prefix("unix:"))
            .and_then(|params| params.split(',').find_map(|kv| kv.strip_prefix("path=")))
            .map(str::to_owned),
        // zbus's fallback when the variable is unset.
        None => {
            let dir = std::env::var("XDG_RUNTIME_DIR").ok().filter(|d| !d.is_empty());
            Some(dir.unwrap_or_else(|| format!("/run/user/{}", current_uid())) + "/bus")
        }
    };
    let what = match (&socket, refused) {
        (Some(path), true) => {
            format!("the bus socket {path} refused the connection, so the bus is not running")
        }
        (Some(path), false) if !Path::new(path).exists() => {
            format!("the bus socket {path} does not exist")
        }
        (Some(path), false) => format!("the bus socket {path} cannot be used"),
        (None, true) => "the bus refused the connection, so it is not running".to_owned(),
        (None, false) => "the address cannot be used".to_owned(),
    };
    match address {
        None => format!("there is no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and {what} ({fix})"),
        Some(address) => {
            format!("cannot connect to the D-Bus session bus at {address}: {what} ({fix})")
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn current_uid() -> String {
    // Not the owner of /proc/self: in a process that is not dumpable, that is root.
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }.to_string()
}

/// linux-keyutils prints its error variants by name, e.g. `PermissionDenied` or `Unknown(38)`.
#[cfg(target_os = "linux")]
fn classify_keyutils(text: &str) -> SecretError {
    let unavailable = |reason: &str| SecretError::KeyringUnavailable { reason: reason.to_owned() };
    if text.contains("PermissionDenied") {
        unavailable(
            "the kernel refused the keyutils call (EPERM); containers often block the keyctl \
             system calls (seccomp)",
        )
    } else if text.contains("Unknown(38)") {
        unavailable("this kernel has no keyutils support (ENOSYS)")
    } else if text.contains("OperationNotSupported") {
        unavailable("the kernel does not support this keyutils operation (ENOTSUP)")
    } else if text.contains("QuotaExceeded") {
        SecretError::Keyring(
            "the kernel key quota for this user is used up (EDQUOT); see \
             /proc/sys/kernel/keys/maxkeys and maxbytes"
                .into(),
        )
    } else {
        SecretError::Keyring(format!("kernel keyutils: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::StoreKind;
    use super::super::chunks::tests::{MemEntries, long_value};
    use super::*;

    impl Keyring for MemEntries {
        fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError> {
            Ok(Box::new(self.clone()))
        }
    }

    fn mem_store() -> (MemEntries, KeyringStore) {
        let mem = MemEntries::default();
        let store = KeyringStore::with_keyring(Arc::new(mem.clone()), "memory".into(), Duration::from_secs(10));
        (mem, store)
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn get(store: &KeyringStore, key: &str) -> Option<String> {
        store.get(key).unwrap().map(|s| s.expose_secret().to_owned())
    }

    #[test]
    fn values_go_through_the_chunk_format() {
        let (mem, store) = mem_store();
        let value = long_value(9000);
        store.set("k", &secret(&value)).unwrap();
        assert_eq!(mem.names().len(), 4);
        assert!(mem.names().iter().skip(1).all(|n| n.starts_with("k#")), "{:?}", mem.names());
        assert_eq!(get(&store, "k").as_deref(), Some(value.as_str()));
        assert!(store.delete("k").unwrap());
        assert!(mem.names().is_empty());
        store.set("k", &secret("short")).unwrap();
        mem.raw_set("k", b"\xff\xfe");
        assert!(matches!(store.get("k"), Err(SecretError::BadEntry { .. })));
        assert!(store.delete("k").unwrap());
        assert!(mem.names().is_empty());
    }

    #[test]
    fn keys_with_the_chunk_separator_are_refused() {
        let (_, store) = mem_store();
        assert!(matches!(store.set("a#1", &secret("x")), Err(SecretError::Keyring(_))));
        assert!(matches!(store.get(""), Err(SecretError::Keyring(_))));
    }

    struct Stuck;
    impl Keyring for Stuck {
        fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError> {
            Ok(Box::new(Stuck))
        }
    }
    impl RawEntries for Stuck {
        fn get(&self, _: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
            std::thread::sleep(Duration::from_secs(5));
            Ok(None)
        }
        fn set(&self, _: &str, _: &[u8]) -> Result<(), SecretError> {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        }
        fn delete(&self, _: &str) -> Result<bool, SecretError> {
            std::thread::sleep(Duration::from_secs(5));
            Ok(false)
        }
    }

    #[test]
    fn a_keyring_that_does_not_answer_times_out() {
        let store = KeyringStore::with_keyring(Arc::new(Stuck), "stuck".into(), Duration::from_millis(100));
        let started = std::time::Instant::now();
        let err = store.get("k").unwrap_err();
        assert!(matches!(err, SecretError::Timeout(d) if d == Duration::from_millis(100)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(store.set("k", &secret("x")), Err(SecretError::Timeout(_))));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn keyutils_errors_name_the_cause() {
        let err = classify_keyutils("PermissionDenied");
        assert!(matches!(&err, SecretError::KeyringUnavailable { reason } if reason.contains("EPERM")), "{err}");
        let err = classify_keyutils("Unknown(38)");
        assert!(matches!(&err, SecretError::KeyringUnavailable { reason } if reason.contains("ENOSYS")), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn secret_service_errors_name_the_cause() {
        let locked = classify_secret_service("SS Error: object locked", None);
        assert!(matches!(locked, SecretError::KeyringLocked));
        let no_provider = classify_secret_service(
            "zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided",
            None,
        );
        assert!(
            matches!(&no_provider, SecretError::KeyringUnavailable { reason } if reason.contains("no Secret Service provider")),
            "{no_provider}"
        );
        let refused = classify_secret_service("zbus error: I/O error", Some(std::io::ErrorKind::ConnectionRefused));
        assert!(
            matches!(&refused, SecretError::KeyringUnavailable { reason } if reason.contains("refused")),
            "{refused}"
        );
    }

    // -----------------------------------------------------------------------------------------
    // Real keyrings, run by hand (Debian/Ubuntu: apt-get install gnome-keyring dbus dbus-x11).
    // Both, in a private D-Bus session with an unlocked gnome-keyring:
    //   dbus-run-session -- sh -c 'echo -n test | gnome-keyring-daemon --unlock \
    //     --components=secrets >/dev/null; cargo test --lib store::secrets -- --ignored'
    // keyutils alone needs no bus:
    //   cargo test --lib store::secrets::keyring::tests::real_keyutils_roundtrip -- --ignored
    // Each test uses a fresh service name `integ-test-<random>` and deletes its entries.
    // -----------------------------------------------------------------------------------------

    fn real_settings(backend: KeyringBackend) -> SecretSettings {
        let mut tag = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut tag);
        let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        SecretSettings {
            kind: StoreKind::Keyring,
            keyring_backend: backend,
            service: format!("integ-test-{tag}"),
            file_path: PathBuf::new(),
            lock_path: PathBuf::new(),
            key: None,
            key_source: String::new(),
            timeout: Duration::from_secs(10),
            database: None,
        }
    }

    /// Removes the test's entries even when an assertion fails half-way.
    struct Cleanup<'a>(&'a dyn SecretStore, &'a [&'a str]);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            for key in self.1 {
                let _ = self.0.delete(key);
            }
        }
    }

    fn exercise_real_keyring(backend: KeyringBackend) {
        let settings = real_settings(backend);
        let store = super::super::open(&settings).unwrap();
        eprintln!("testing {} with service {}", store.describe(), settings.service);
        let _cleanup = Cleanup(store.as_ref(), &["small", "big"]);

        assert_eq!(store.get("small").unwrap().map(|s| s.expose_secret().to_owned()), None);
        store.set("small", &secret("token-1")).unwrap();
        assert_eq!(store.get("small").unwrap().unwrap().expose_secret(), "token-1");
        store.set("small", &secret("token-2")).unwrap();
        assert_eq!(store.get("small").unwrap().unwrap().expose_secret(), "token-2");

        // A second store is what the next process sees.
        let other = super::super::open(&settings).unwrap();
        assert_eq!(other.get("small").unwrap().unwrap().expose_secret(), "token-2");

        let big = long_value(9000);
        store.set("big", &secret(&big)).unwrap();
        assert_eq!(other.get("big").unwrap().unwrap().expose_secret(), big);
        let shorter = long_value(3000);
        store.set("big", &secret(&shorter)).unwrap();
        assert_eq!(other.get("big").unwrap().unwrap().expose_secret(), shorter);

        assert!(store.delete("small").unwrap());
        assert!(store.delete("big").unwrap());
        assert!(store.get("small").unwrap().is_none());
        assert!(store.get("big").unwrap().is_none());
        assert!(!store.delete("big").unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "needs a running, unlocked Secret Service; see the comment above"]
    fn real_secret_service_roundtrip() {
        exercise_real_keyring(KeyringBackend::SecretService);
    }

    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "needs the kernel keyutils syscalls (blocked in many containers)"]
    fn real_keyutils_roundtrip() {
        exercise_real_keyring(KeyringBackend::Keyutils);
    }
}
