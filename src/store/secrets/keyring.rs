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
//!   values are split over several entries (see the chunk format below) on every platform, so
//!   that the same data behaves the same everywhere.
//!
//! There is no fallback to another backend: a keyring that cannot be reached is an error that
//! names the cause, and the caller decides (the hint points at the encrypted file).

use std::fmt::{self, Write as _};
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{KeyringBackend, SecretError, SecretSettings, SecretStore};

/// The most bytes one keyring entry may hold. Windows allows 2,560; a little is left spare.
const MAX_ENTRY_BYTES: usize = 2500;

/// Every value integ stores that starts with this prefix is escaped, so the prefix space is
/// ours for format markers and future versions can add new ones.
const RESERVED_PREFIX: &str = "integ-";

/// First entry of a value split over several entries:
/// `integ-chunked:v1:<entries>:<sha256 hex of the whole value>:<first part>`, followed by the
/// parts under `key#1` .. `key#<entries - 1>`.
const CHUNK_PREFIX: &str = "integ-chunked:v1:";

/// A value that is empty (keyutils cannot store empty entries) or starts with
/// [`RESERVED_PREFIX`] is stored as this prefix followed by the value.
const ESCAPE_PREFIX: &str = "integ-escaped:";

/// Room kept in the first entry for the chunk header: prefix, a count of up to 20 digits, a
/// separator, 64 hex digits and a separator.
const CHUNK_HEADER_MAX: usize = CHUNK_PREFIX.len() + 20 + 1 + 64 + 1;

/// A header claiming more entries than this is damaged, not large: secrets are kilobytes.
const MAX_CHUNKS: usize = 1000;

/// A keyring, from which each operation takes its own view on the worker thread that runs it:
/// keyutils resolves "the session keyring" per thread, and its first use changes the answer.
trait Keyring: Send + Sync {
    fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError>;
}

/// One keyring entry per name, holding raw bytes. The chunking on top of it is plain logic, so
/// tests run it against an in-memory map instead of a real keyring.
trait RawEntries {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError>;
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError>;
    /// Returns whether there was an entry.
    fn delete(&self, name: &str) -> Result<bool, SecretError>;
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
        let keyring = OsKeyring {
            kind,
            service: settings.service.clone(),
        };
        Ok(Self::with_keyring(
            Arc::new(keyring),
            kind.describe(),
            settings.timeout,
        ))
    }

    fn with_keyring(keyring: Arc<dyn Keyring>, description: String, timeout: Duration) -> Self {
        KeyringStore {
            keyring,
            description,
            timeout,
        }
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
            .map_err(|e| {
                SecretError::Keyring(format!(
                    "could not start a thread for the keyring call: {e}"
                ))
            })?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(SecretError::Timeout(self.timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(SecretError::Keyring(
                "the keyring call failed unexpectedly (the worker thread panicked)".into(),
            )),
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
        let text = std::str::from_utf8(&bytes).map_err(|_| SecretError::BadEntry {
            key: key.to_owned(),
            reason: "it is not valid UTF-8 text".into(),
        })?;
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
// Chunk format
// ---------------------------------------------------------------------------------------------

fn chunk_name(key: &str, index: usize) -> String {
    format!("{key}#{index}")
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A parsed first entry of a chunked value.
struct ChunkHeader<'a> {
    entries: usize,
    digest: &'a str,
    first: &'a [u8],
}

/// Parses `head` if it is a chunk header. `Ok(None)` means it is not one at all.
fn parse_header<'a>(key: &str, head: &'a [u8]) -> Result<Option<ChunkHeader<'a>>, SecretError> {
    let Some(rest) = head.strip_prefix(CHUNK_PREFIX.as_bytes()) else {
        return Ok(None);
    };
    let bad = |reason: &str| SecretError::BadEntry {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let mut fields = rest.splitn(3, |&b| b == b':');
    let (Some(count), Some(digest), Some(first)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(bad("its chunk header is incomplete"));
    };
    let entries = std::str::from_utf8(count)
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|n| (2..=MAX_CHUNKS).contains(n))
        .ok_or_else(|| bad("its chunk header has an invalid entry count"))?;
    let digest = std::str::from_utf8(digest)
        .ok()
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad("its chunk header has an invalid checksum"))?;
    Ok(Some(ChunkHeader {
        entries,
        digest,
        first,
    }))
}

/// How many entries `key` currently occupies, as far as its first entry tells. Damaged or
/// missing first entries count as one, and the sweep in [`remove_chunks_from`] finds the rest.
fn entry_count(raw: &dyn RawEntries, key: &str) -> Result<usize, SecretError> {
    let Some(head) = raw.get(key)? else {
        return Ok(1);
    };
    Ok(parse_header(key, &head)
        .ok()
        .flatten()
        .map_or(1, |h| h.entries))
}

/// Removes the chunks `key#from` and up: first those the old header knew about (`known_end`
/// exclusive), from the top down so an interrupted removal leaves no gap, then any further
/// consecutive ones a crash may have left.
fn remove_chunks_from(
    raw: &dyn RawEntries,
    key: &str,
    from: usize,
    known_end: usize,
) -> Result<(), SecretError> {
    for index in (from..known_end).rev() {
        raw.delete(&chunk_name(key, index))?;
    }
    let mut index = from.max(known_end);
    while raw.delete(&chunk_name(key, index))? {
        index += 1;
    }
    Ok(())
}

fn write_value(raw: &dyn RawEntries, key: &str, value: &[u8]) -> Result<(), SecretError> {
    let old_entries = entry_count(raw, key)?;
    let escape = value.is_empty() || value.starts_with(RESERVED_PREFIX.as_bytes());
    let single_len = value.len() + if escape { ESCAPE_PREFIX.len() } else { 0 };
    let new_entries = if single_len <= MAX_ENTRY_BYTES {
        let mut entry = Zeroizing::new(Vec::with_capacity(single_len));
        if escape {
            entry.extend_from_slice(ESCAPE_PREFIX.as_bytes());
        }
        entry.extend_from_slice(value);
        raw.set(key, &entry)?;
        1
    } else {
        // The parts carry raw bytes and are never interpreted, so they need no escaping.
        let (first, rest) = value.split_at(MAX_ENTRY_BYTES - CHUNK_HEADER_MAX);
        let parts: Vec<&[u8]> = rest.chunks(MAX_ENTRY_BYTES).collect();
        let entries = parts.len() + 1;
        // The parts go first and the header last: until the header is replaced, readers see
        // the old header, whose checksum no longer matches, never a silent mix of old and new.
        for (i, part) in parts.iter().enumerate() {
            raw.set(&chunk_name(key, i + 1), part)?;
        }
        let header = format!("{CHUNK_PREFIX}{entries}:{}:", sha256_hex(value));
        let mut head = Zeroizing::new(Vec::with_capacity(header.len() + first.len()));
        head.extend_from_slice(header.as_bytes());
        head.extend_from_slice(first);
        raw.set(key, &head)?;
        entries
    };
    remove_chunks_from(raw, key, new_entries, old_entries)
}

fn read_value(raw: &dyn RawEntries, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
    let Some(head) = raw.get(key)? else {
        return Ok(None);
    };
    let bad = |reason: String| SecretError::BadEntry {
        key: key.to_owned(),
        reason,
    };
    if let Some(header) = parse_header(key, &head)? {
        let mut value = Zeroizing::new(Vec::with_capacity(header.entries * MAX_ENTRY_BYTES));
        value.extend_from_slice(header.first);
        for index in 1..header.entries {
            let name = chunk_name(key, index);
            let part = raw
                .get(&name)?
                .ok_or_else(|| bad(format!("its part {name} is missing")))?;
            value.extend_from_slice(&part);
        }
        if sha256_hex(&value) != header.digest {
            return Err(bad(
                "its parts do not match its checksum (a write was interrupted, or another \
                            program changed them)"
                    .into(),
            ));
        }
        return Ok(Some(value));
    }
    if let Some(rest) = head.strip_prefix(ESCAPE_PREFIX.as_bytes()) {
        return Ok(Some(Zeroizing::new(rest.to_vec())));
    }
    if head.starts_with(RESERVED_PREFIX.as_bytes()) {
        return Err(bad(
            "it is in a format this integ does not know (written by a newer version?)".into(),
        ));
    }
    Ok(Some(head))
}

fn delete_value(raw: &dyn RawEntries, key: &str) -> Result<bool, SecretError> {
    let entries = entry_count(raw, key)?;
    // The first entry goes first, so the value disappears at once for readers; leftover parts
    // are invisible and the next write or delete sweeps them.
    let existed = raw.delete(key)?;
    remove_chunks_from(raw, key, 1, entries)?;
    Ok(existed)
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
            KeyringBackend::Keyutils => {
                Err(unavailable("the keyutils keyring backend (Linux only)"))
            }
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
            #[cfg(any(target_os = "macos", target_os = "ios"))]
            OsKind::Native => "macOS Keychain".into(),
            #[cfg(target_os = "windows")]
            OsKind::Native => "Windows Credential Manager".into(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn unavailable(what: &str) -> SecretError {
    SecretError::KeyringUnavailable {
        reason: format!("{what} is not available on this operating system"),
    }
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
        Ok(Box::new(OsEntries {
            kind: self.kind,
            service: self.service.clone(),
            home,
        }))
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
            Home::SecretService => {
                ::keyring::secret_service::SsCredential::new_with_target(None, &self.service, name)
                    .map(|c| ::keyring::Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(target_os = "linux")]
            Home::Keyutils(base) => {
                let mut credential = base.clone();
                // keyring's own naming, so `keyctl` users recognise the entries.
                credential.description = format!("keyring-rs:{name}@{}", self.service);
                Ok(::keyring::Entry::new_with_credential(Box::new(credential)))
            }
            // With the apple-native / windows-native features the platform default is the real
            // store, never the mock.
            #[cfg(any(target_os = "macos", target_os = "ios", target_os = "windows"))]
            Home::Native => ::keyring::Entry::new(&self.service, name),
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
        self.entry(name)?
            .set_secret(value)
            .map_err(|e| map_error(self.kind, e))
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
        K::TooLong(attribute, limit) => SecretError::Keyring(format!(
            "the {attribute} is longer than the keyring's limit of {limit}"
        )),
        K::Invalid(attribute, reason) => {
            SecretError::Keyring(format!("invalid {attribute}: {reason}"))
        }
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
    if text.contains("object locked")
        || text.contains("IsLocked")
        || text.contains("prompt dismissed")
    {
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
    if refused
        || unreachable
        || matches!(io, Some(ErrorKind::NotFound | ErrorKind::PermissionDenied))
    {
        return unavailable(session_bus_problem(refused));
    }
    SecretError::Keyring(format!("Secret Service: {text}"))
}

/// Why the session bus cannot be reached, as far as the environment tells. secret-service
/// reduces a missing socket and an unparsable address to one error, so look for ourselves.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn session_bus_problem(refused: bool) -> String {
    let fix = "under cron, ssh or in a container, run integ inside `dbus-run-session`";
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty());
    // zbus's fallback when the variable is unset.
    let socket = match &address {
        Some(address) => address
            .split(';')
            .find_map(|part| part.strip_prefix("unix:"))
            .and_then(|params| params.split(',').find_map(|kv| kv.strip_prefix("path=")))
            .map(str::to_owned),
        None => {
            let dir = std::env::var("XDG_RUNTIME_DIR")
                .ok()
                .filter(|d| !d.is_empty());
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
        (None, true) => "the bus refused the connection (it is not running)".to_owned(),
        (None, false) => "the address cannot be used".to_owned(),
    };
    match address {
        None => format!(
            "there is no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and {what} ({fix})"
        ),
        Some(address) => {
            format!("cannot connect to the D-Bus session bus at {address}: {what} ({fix})")
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn current_uid() -> String {
    use std::os::unix::fs::MetadataExt;
    // The owner of our own /proc entry is our uid; no libc call needed for a message.
    std::fs::metadata("/proc/self").map_or_else(|_| "<uid>".to_owned(), |m| m.uid().to_string())
}

/// linux-keyutils prints its error variants by name, e.g. `PermissionDenied` or `Unknown(38)`.
#[cfg(target_os = "linux")]
fn classify_keyutils(text: &str) -> SecretError {
    let unavailable = |reason: &str| SecretError::KeyringUnavailable {
        reason: reason.to_owned(),
    };
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
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    use super::super::StoreKind;
    use super::*;

    /// A keyring as a map, holding exactly what a real one would.
    #[derive(Default, Clone)]
    struct MemEntries(Arc<Mutex<BTreeMap<String, Vec<u8>>>>);

    impl Keyring for MemEntries {
        fn attach(&self) -> Result<Box<dyn RawEntries>, SecretError> {
            Ok(Box::new(self.clone()))
        }
    }

    impl MemEntries {
        fn names(&self) -> Vec<String> {
            self.0.lock().unwrap().keys().cloned().collect()
        }
        fn raw_set(&self, name: &str, value: &[u8]) {
            self.0
                .lock()
                .unwrap()
                .insert(name.to_owned(), value.to_vec());
        }
        fn raw_get(&self, name: &str) -> Vec<u8> {
            self.0.lock().unwrap()[name].clone()
        }
    }

    impl RawEntries for MemEntries {
        fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get(name)
                .cloned()
                .map(Zeroizing::new))
        }
        fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
            assert!(
                value.len() <= MAX_ENTRY_BYTES,
                "entry {name} has {} bytes",
                value.len()
            );
            assert!(!value.is_empty(), "keyutils cannot store empty entries");
            self.raw_set(name, value);
            Ok(())
        }
        fn delete(&self, name: &str) -> Result<bool, SecretError> {
            Ok(self.0.lock().unwrap().remove(name).is_some())
        }
    }

    fn mem_store() -> (MemEntries, KeyringStore) {
        let mem = MemEntries::default();
        let store = KeyringStore::with_keyring(
            Arc::new(mem.clone()),
            "memory".into(),
            Duration::from_secs(10),
        );
        (mem, store)
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    fn get(store: &KeyringStore, key: &str) -> Option<String> {
        store
            .get(key)
            .unwrap()
            .map(|s| s.expose_secret().to_owned())
    }

    /// 9,000 bytes that differ from position to position, so a misplaced chunk shows.
    fn long_value(len: usize) -> String {
        (0..len)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect()
    }

    #[test]
    fn short_value_is_one_plain_entry() {
        let (mem, store) = mem_store();
        store
            .set("jobber/1/tokens", &secret("{\"access\":\"x\"}"))
            .unwrap();
        assert_eq!(mem.names(), ["jobber/1/tokens"]);
        assert_eq!(mem.raw_get("jobber/1/tokens"), b"{\"access\":\"x\"}");
        assert_eq!(
            get(&store, "jobber/1/tokens").as_deref(),
            Some("{\"access\":\"x\"}")
        );
        assert_eq!(get(&store, "other"), None);
    }

    #[test]
    fn long_value_round_trips_in_chunks_and_shrinks() {
        let (mem, store) = mem_store();
        let value = long_value(9000);
        store.set("k", &secret(&value)).unwrap();
        assert_eq!(mem.names(), ["k", "k#1", "k#2", "k#3"]);
        assert!(mem.raw_get("k").starts_with(CHUNK_PREFIX.as_bytes()));
        assert_eq!(get(&store, "k").as_deref(), Some(value.as_str()));

        let shorter = long_value(3000);
        store.set("k", &secret(&shorter)).unwrap();
        assert_eq!(mem.names(), ["k", "k#1"]);
        assert_eq!(get(&store, "k").as_deref(), Some(shorter.as_str()));

        store.set("k", &secret("small")).unwrap();
        assert_eq!(mem.names(), ["k"]);
        assert_eq!(get(&store, "k").as_deref(), Some("small"));

        store.set("k", &secret(&value)).unwrap();
        assert!(store.delete("k").unwrap());
        assert!(mem.names().is_empty());
        assert!(!store.delete("k").unwrap());
        assert_eq!(get(&store, "k"), None);
    }

    #[test]
    fn multibyte_text_split_mid_character_round_trips() {
        let (_, store) = mem_store();
        let value: String = "é€😀x".repeat(1000);
        store.set("k", &secret(&value)).unwrap();
        assert_eq!(get(&store, "k").as_deref(), Some(value.as_str()));
    }

    #[test]
    fn values_that_look_like_our_markers_round_trip() {
        let (mem, store) = mem_store();
        let header_like = format!("{CHUNK_PREFIX}3:{}:", "0".repeat(64));
        let long_header_like = format!("{header_like}{}", long_value(5000));
        for value in [
            "",
            "integ-",
            "integ-escaped:",
            "integ-escaped:integ-escaped:x",
            "integ-chunked:v1:2:zz:",
            header_like.as_str(),
            long_header_like.as_str(),
            "integ-future-format",
        ] {
            store.set("k", &secret(value)).unwrap();
            assert_eq!(get(&store, "k").as_deref(), Some(value), "value {value:?}");
        }
        // An escaped value exactly at the limit still fits in one entry.
        let at_limit = format!(
            "integ-{}",
            "x".repeat(MAX_ENTRY_BYTES - ESCAPE_PREFIX.len() - 6)
        );
        store.set("k", &secret(&at_limit)).unwrap();
        assert_eq!(mem.names(), ["k"]);
        assert_eq!(get(&store, "k").as_deref(), Some(at_limit.as_str()));
        let over = format!("{at_limit}y");
        store.set("k", &secret(&over)).unwrap();
        assert_eq!(mem.names(), ["k", "k#1"]);
        assert_eq!(get(&store, "k").as_deref(), Some(over.as_str()));
    }

    #[test]
    fn damaged_chunks_are_reported_not_returned() {
        let (mem, store) = mem_store();
        store.set("k", &secret(&long_value(6000))).unwrap();

        let mut part = mem.raw_get("k#1");
        part[10] ^= 1;
        mem.raw_set("k#1", &part);
        let err = store.get("k").unwrap_err();
        assert!(
            matches!(&err, SecretError::BadEntry { key, .. } if key == "k"),
            "{err}"
        );
        assert!(err.to_string().contains("checksum"), "{err}");

        mem.0.lock().unwrap().remove("k#2");
        let err = store.get("k").unwrap_err();
        assert!(err.to_string().contains("k#2 is missing"), "{err}");

        mem.raw_set("k", b"integ-chunked:v1:99999:abc:");
        assert!(matches!(store.get("k"), Err(SecretError::BadEntry { .. })));
        mem.raw_set("k", b"integ-unknown:x");
        assert!(matches!(store.get("k"), Err(SecretError::BadEntry { .. })));

        // Writing and deleting still work over the damage, and sweep the leftovers.
        store.set("k", &secret("fresh")).unwrap();
        assert_eq!(mem.names(), ["k"]);
    }

    #[test]
    fn leftover_chunks_from_an_interrupted_write_are_swept() {
        let (mem, store) = mem_store();
        mem.raw_set("k", b"plain");
        mem.raw_set("k#1", b"orphan");
        mem.raw_set("k#2", b"orphan");
        assert!(store.delete("k").unwrap());
        assert!(mem.names().is_empty());
    }

    #[test]
    fn keys_with_the_chunk_separator_are_refused() {
        let (_, store) = mem_store();
        assert!(matches!(
            store.set("a#1", &secret("x")),
            Err(SecretError::Keyring(_))
        ));
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
        let store =
            KeyringStore::with_keyring(Arc::new(Stuck), "stuck".into(), Duration::from_millis(100));
        let started = std::time::Instant::now();
        let err = store.get("k").unwrap_err();
        assert!(
            matches!(err, SecretError::Timeout(d) if d == Duration::from_millis(100)),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            store.set("k", &secret("x")),
            Err(SecretError::Timeout(_))
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn keyutils_errors_name_the_cause() {
        let err = classify_keyutils("PermissionDenied");
        assert!(
            matches!(&err, SecretError::KeyringUnavailable { reason } if reason.contains("EPERM")),
            "{err}"
        );
        let err = classify_keyutils("Unknown(38)");
        assert!(
            matches!(&err, SecretError::KeyringUnavailable { reason } if reason.contains("ENOSYS")),
            "{err}"
        );
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
        let refused = classify_secret_service(
            "zbus error: I/O error",
            Some(std::io::ErrorKind::ConnectionRefused),
        );
        assert!(
            matches!(&refused, SecretError::KeyringUnavailable { reason } if reason.contains("refused")),
            "{refused}"
        );
    }

    // -----------------------------------------------------------------------------------------
    // Real keyrings. Run by hand, see the commands in the report / README:
    //   dbus-run-session -- sh -c 'echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
    //     cargo test --lib store::secrets -- --ignored'
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
        eprintln!(
            "testing {} with service {}",
            store.describe(),
            settings.service
        );
        let _cleanup = Cleanup(store.as_ref(), &["small", "big"]);

        assert_eq!(
            store
                .get("small")
                .unwrap()
                .map(|s| s.expose_secret().to_owned()),
            None
        );
        store.set("small", &secret("token-1")).unwrap();
        assert_eq!(
            store.get("small").unwrap().unwrap().expose_secret(),
            "token-1"
        );
        store.set("small", &secret("token-2")).unwrap();
        assert_eq!(
            store.get("small").unwrap().unwrap().expose_secret(),
            "token-2"
        );

        // A second store is what the next process sees.
        let other = super::super::open(&settings).unwrap();
        assert_eq!(
            other.get("small").unwrap().unwrap().expose_secret(),
            "token-2"
        );

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
