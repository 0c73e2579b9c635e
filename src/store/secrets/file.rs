//! The encrypted file backend, for servers and cron jobs where no keyring is unlocked.
//!
//! All entries live in one file, encrypted as a whole, so there is nothing to learn from it
//! but its size. The format (version 1):
//!
//! ```text
//! offset  size  field
//!      0     9  magic "INTEGSEC\x01" (the last byte is the format version)
//!      9    16  salt for Argon2id (m = 19 MiB, t = 2, p = 1) -> 32-byte key
//!     25    24  XChaCha20-Poly1305 nonce, fresh on every write
//!     49     n  ciphertext of a JSON object {"key": "value", ...}
//!   49+n    16  Poly1305 tag; magic and salt are authenticated as associated data
//! ```
//!
//! The salt stays the same for the life of the file, so a process derives the key once (the
//! derivation is deliberately slow); the random 192-bit nonce makes reuse across writes safe.
//!
//! Anything wrong with the file (wrong key, a flipped bit, truncation) is an error that leaves
//! the file exactly as it was; a damaged file is never read as empty and overwritten. Writes go
//! to a private temporary file that is renamed over the old one, so a crash leaves the old or
//! the new file, never half of one; set and delete re-read the file under an exclusive lock, so
//! two processes updating different keys both keep their change.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::crypto::{self, Cipher, KeyMaterial, Keys, NONCE_LEN, SALT_LEN, Salt, TAG_LEN};
use super::{SecretError, SecretSettings, SecretStore};

const MAGIC: &[u8; 9] = b"INTEGSEC\x01";
const MAGIC_NAME_LEN: usize = 8;
const AAD_LEN: usize = MAGIC.len() + SALT_LEN;
const HEADER_LEN: usize = AAD_LEN + NONCE_LEN;

/// Secrets in one file encrypted with a key derived from a passphrase.
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    /// The passphrase, and the keys already derived from it in this process, by salt.
    keys: Keys,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("lock_path", &self.lock_path)
            .finish_non_exhaustive()
    }
}

/// The decrypted map. Values are wiped from memory when it is dropped.
#[derive(Default)]
struct Entries(BTreeMap<String, Zeroizing<String>>);

impl FileStore {
    /// Prepares the store; fails with [`SecretError::NoKey`] when there is no passphrase.
    /// Touches no file yet.
    pub fn open(settings: &SecretSettings) -> Result<Self, SecretError> {
        let passphrase = match &settings.key {
            Some(key) if !key.expose_secret().is_empty() => key.clone(),
            _ => return Err(SecretError::NoKey),
        };
        Ok(FileStore {
            path: settings.file_path.clone(),
            lock_path: settings.lock_path.clone(),
            keys: Keys::new(KeyMaterial::Passphrase(passphrase)),
        })
    }

    fn corrupt(&self, reason: impl Into<String>) -> SecretError {
        SecretError::Corrupt { path: self.path.clone(), reason: reason.into() }
    }

    fn cipher(&self, salt: &Salt) -> Result<Cipher, SecretError> {
        self.keys.cipher(salt).map_err(|reason| self.corrupt(reason))
    }

    /// Reads and decrypts the file. `Ok(None)` when there is no file yet.
    fn load(&self) -> Result<Option<(Salt, Entries)>, SecretError> {
        let data = match fs::read(&self.path) {
            Ok(data) => data,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&self.path)(e)),
        };
        if data.is_empty() {
            return Err(self.corrupt("it is empty"));
        }
        if data.len() < MAGIC_NAME_LEN && MAGIC.starts_with(&data) {
            return Err(self.corrupt(format!("it is cut short ({} bytes)", data.len())));
        }
        if data.len() < MAGIC_NAME_LEN || data[..MAGIC_NAME_LEN] != MAGIC[..MAGIC_NAME_LEN] {
            return Err(self.corrupt("it is not an integ secret file (its first bytes are wrong)"));
        }
        if data.len() < HEADER_LEN + TAG_LEN {
            return Err(self.corrupt(format!("it is cut short ({} bytes)", data.len())));
        }
        let version = data[MAGIC_NAME_LEN];
        if version != MAGIC[MAGIC_NAME_LEN] {
            return Err(self.corrupt(format!(
                "it has format version {version}, which this integ cannot read (written by another version?)"
            )));
        }
        let (header, body) = data.split_at(HEADER_LEN);
        let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
        let mut salt: Salt = [0; SALT_LEN];
        salt.copy_from_slice(&header[MAGIC.len()..AAD_LEN]);
        let nonce = &header[AAD_LEN..HEADER_LEN];

        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher(&salt)?
            .open(nonce, &header[..AAD_LEN], &mut plaintext, tag)
            .map_err(|()| SecretError::Decrypt { path: self.path.clone() })?;
        let map: BTreeMap<String, String> = serde_json::from_slice(&plaintext)
            .map_err(|_| self.corrupt("its decrypted contents are not a JSON object of strings"))?;
        let entries = Entries(map.into_iter().map(|(k, v)| (k, Zeroizing::new(v))).collect());
        Ok(Some((salt, entries)))
    }

    /// Encrypts `entries` with a fresh nonce and replaces the file atomically.
    fn save(&self, salt: &Salt, entries: &Entries) -> Result<(), SecretError> {
        let cipher = self.cipher(salt)?;
        // Sized up front so serialising never reallocates and leaves plaintext copies behind.
        let estimate: usize = entries.0.iter().map(|(k, v)| 2 * (k.len() + v.len()) + 8).sum::<usize>() + 16;
        let mut buffer = Zeroizing::new(Vec::with_capacity(estimate));
        let map: BTreeMap<&str, &str> = entries.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        serde_json::to_writer(&mut *buffer, &map).map_err(|e| self.corrupt(format!("could not encode it: {e}")))?;

        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(salt);
        // After this the buffer holds ciphertext.
        let (nonce, tag) = cipher
            .seal(&header, &mut buffer)
            .map_err(|()| self.corrupt("encryption failed (the file would be too large)"))?;
        header.extend_from_slice(&nonce);

        let mut file = Vec::with_capacity(HEADER_LEN + buffer.len() + TAG_LEN);
        file.extend_from_slice(&header);
        file.extend_from_slice(&buffer);
        file.extend_from_slice(&tag);
        write_atomically(&self.path, &file)
    }

    /// Takes the exclusive lock that serialises read-modify-write across processes. It is
    /// released when the returned file is dropped.
    fn lock(&self) -> Result<File, SecretError> {
        let file = self.open_lock_file()?;
        file.lock().map_err(io_error(&self.lock_path))?;
        Ok(file)
    }

    /// The lock file, opened (created 0600) but not locked.
    fn open_lock_file(&self) -> Result<File, SecretError> {
        if let Some(dir) = parent_dir(&self.lock_path) {
            create_private_dir(dir).map_err(io_error(dir))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // Never through a link planted in its place, which would create or lock a file elsewhere.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        options.open(&self.lock_path).map_err(io_error(&self.lock_path))
    }

    /// The lock, if it can be had within `wait`.
    fn try_lock_for(&self, wait: std::time::Duration) -> Result<Option<File>, SecretError> {
        let deadline = std::time::Instant::now() + wait;
        let to_error = io_error(&self.lock_path);
        let file = self.open_lock_file()?;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(to_error(e)),
            }
        }
    }

    /// Applies `change` to the current contents under the lock; writes only if it reports a
    /// change.
    fn update<T>(&self, change: impl FnOnce(&mut Entries) -> (T, bool)) -> Result<T, SecretError> {
        let _lock = self.lock()?;
        self.update_locked(change)
    }

    /// `update`, by a caller that holds the lock.
    fn update_locked<T>(&self, change: impl FnOnce(&mut Entries) -> (T, bool)) -> Result<T, SecretError> {
        // Read after locking: another process may have written since we last looked.
        let (salt, mut entries) = match self.load()? {
            Some(current) => current,
            None => (crypto::fresh_salt(), Entries::default()),
        };
        let (result, changed) = change(&mut entries);
        if changed {
            self.save(&salt, &entries)?;
        }
        Ok(result)
    }
}

impl SecretStore for FileStore {
    fn describe(&self) -> String {
        format!("encrypted file {}", self.path.display())
    }

    fn get(&self, key: &str) -> Result<Option<SecretString>, SecretError> {
        // No lock: the file is only ever replaced whole, so a reader sees one version or the other.
        let Some((_, entries)) = self.load()? else {
            return Ok(None);
        };
        Ok(entries.0.get(key).map(|value| SecretString::from(value.as_str())))
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<(), SecretError> {
        let value = Zeroizing::new(value.expose_secret().to_owned());
        self.update(|entries| {
            entries.0.insert(key.to_owned(), value);
            ((), true)
        })
    }

    fn delete(&self, key: &str) -> Result<bool, SecretError> {
        self.update(|entries| {
            let existed = entries.0.remove(key).is_some();
            (existed, existed)
        })
    }

    fn count(&self) -> Result<Option<u64>, SecretError> {
        Ok(Some(self.load()?.map_or(0, |(_, entries)| entries.0.len() as u64)))
    }

    /// Checked empty and written once, under the lock: the file has all of them or none.
    fn fill(&self, _names: &[String], new: &[(String, SecretString)]) -> Result<(), SecretError> {
        let held = self.update(|entries| {
            if !entries.0.is_empty() {
                return (entries.0.len(), false);
            }
            for (key, value) in new {
                entries.0.insert(key.clone(), Zeroizing::new(value.expose_secret().to_owned()));
            }
            (0, !new.is_empty())
        })?;
        if held > 0 {
            return Err(SecretError::NotEmpty { store: self.describe(), held: format!("{held} secrets") });
        }
        Ok(())
    }

    fn reserve(&self, _key: &str, wait: std::time::Duration) -> Result<super::Reservation, SecretError> {
        match self.try_lock_for(wait)? {
            Some(lock) => Ok(super::Reservation::file(lock)),
            None => Err(SecretError::Io {
                path: self.lock_path.clone(),
                source: io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("another process has held the lock for over {} s", wait.as_secs()),
                ),
            }),
        }
    }

    fn set_reserved(
        &self,
        reservation: &super::Reservation,
        key: &str,
        value: &SecretString,
    ) -> Result<(), SecretError> {
        if !reservation.holds_file_lock() {
            return self.set(key, value);
        }
        let value = Zeroizing::new(value.expose_secret().to_owned());
        self.update_locked(|entries| {
            entries.0.insert(key.to_owned(), value);
            ((), true)
        })
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SecretError {
    let path = path.to_owned();
    move |source| SecretError::Io { path, source }
}

fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// Creates `dir` and any missing parents, readable by the owner only.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file: write a
/// private temporary file next to it, flush it to disk, rename it over, flush the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SecretError> {
    let dir = parent_dir(path).unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(io_error(dir))?;
    let name = path.file_name().map_or_else(|| "secrets".into(), |n| n.to_string_lossy());
    let temp = dir.join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), OsRng.next_u64()));

    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        // Best effort: the temporary file holds only ciphertext.
        let _ = fs::remove_file(&temp);
        return Err(io_error(path)(e));
    }
    // Make the rename itself durable. Windows cannot open directories this way and does not
    // need it.
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{KeyringBackend, StoreKind};
    use super::*;

    fn settings(dir: &Path, key: Option<&str>) -> SecretSettings {
        SecretSettings {
            kind: StoreKind::File,
            keyring_backend: KeyringBackend::Default,
            service: "integ-test".into(),
            file_path: dir.join("state").join("secrets.enc"),
            lock_path: dir.join("state").join("secrets.lock"),
            key: key.map(SecretString::from),
            key_source: "INTEG_SECRET_KEY".into(),
            timeout: Duration::from_secs(10),
            database: None,
        }
    }

    fn store(dir: &Path, key: &str) -> FileStore {
        FileStore::open(&settings(dir, Some(key))).unwrap()
    }

    fn get(store: &FileStore, key: &str) -> Option<String> {
        store.get(key).unwrap().map(|s| s.expose_secret().to_owned())
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn fill_writes_everything_into_an_empty_file_and_nothing_into_a_full_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "a long passphrase for the test");
        let new = vec![("a".to_string(), secret("1")), ("b".to_string(), secret("2"))];
        s.fill(&[], &new).unwrap();
        assert_eq!((get(&s, "a").as_deref(), get(&s, "b").as_deref()), (Some("1"), Some("2")));
        let before = std::fs::read(dir.path().join("state").join("secrets.enc")).unwrap();
        let again = vec![("a".to_string(), secret("older")), ("c".to_string(), secret("3"))];
        assert!(matches!(s.fill(&[], &again), Err(SecretError::NotEmpty { .. })));
        assert_eq!(std::fs::read(dir.path().join("state").join("secrets.enc")).unwrap(), before);
    }

    #[test]
    fn round_trip_and_persistence_across_instances() {
        let dir = tempfile::tempdir().unwrap();
        let first = store(dir.path(), "correct horse");
        assert_eq!(get(&first, "a"), None);
        assert!(!first.delete("a").unwrap());
        assert!(!first.path.exists(), "reading or deleting nothing must not create the file");

        first.set("jobber/1/tokens", &secret("{\"access_token\":\"tok-1\"}")).unwrap();
        first.set("google/client_secret", &secret("cs")).unwrap();
        first.set("google/client_secret", &secret("cs-2")).unwrap();
        assert_eq!(get(&first, "jobber/1/tokens").as_deref(), Some("{\"access_token\":\"tok-1\"}"));

        // A new instance is what the next process sees.
        let second = store(dir.path(), "correct horse");
        assert_eq!(get(&second, "google/client_secret").as_deref(), Some("cs-2"));
        assert!(second.delete("google/client_secret").unwrap());
        assert_eq!(get(&first, "google/client_secret"), None);
        assert_eq!(get(&first, "jobber/1/tokens").as_deref(), Some("{\"access_token\":\"tok-1\"}"));

        let on_disk = fs::read(&first.path).unwrap();
        assert!(on_disk.starts_with(MAGIC));
        for needle in [&b"tok-1"[..], b"jobber", b"access_token", b"correct horse"] {
            assert!(!on_disk.windows(needle.len()).any(|w| w == needle), "plaintext on disk");
        }
        let leftovers: Vec<_> = fs::read_dir(first.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn every_write_uses_a_fresh_nonce_and_keeps_the_salt() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "k");
        s.set("a", &secret("1")).unwrap();
        let one = fs::read(&s.path).unwrap();
        s.set("a", &secret("1")).unwrap();
        let two = fs::read(&s.path).unwrap();
        assert_eq!(one[..AAD_LEN], two[..AAD_LEN]);
        assert_ne!(one[AAD_LEN..HEADER_LEN], two[AAD_LEN..HEADER_LEN]);
        assert_eq!(s.keys.derived_count(), 1, "the key is derived once per salt");
    }

    #[test]
    fn no_key_is_refused_before_touching_anything() {
        let dir = tempfile::tempdir().unwrap();
        for key in [None, Some("")] {
            let err = FileStore::open(&settings(dir.path(), key)).unwrap_err();
            assert!(matches!(err, SecretError::NoKey), "{err}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let err = super::super::open(&settings(dir.path(), None)).err().unwrap();
        assert!(matches!(err, SecretError::NoKey));
    }

    #[test]
    fn wrong_key_is_a_decrypt_error_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), "right").set("a", &secret("value")).unwrap();
        let path = dir.path().join("state/secrets.enc");
        let before = fs::read(&path).unwrap();

        let wrong = store(dir.path(), "wrong");
        assert!(matches!(wrong.get("a"), Err(SecretError::Decrypt { .. })));
        assert!(matches!(wrong.set("b", &secret("x")), Err(SecretError::Decrypt { .. })));
        assert!(matches!(wrong.delete("a"), Err(SecretError::Decrypt { .. })));
        assert_eq!(fs::read(&path).unwrap(), before);

        let message = wrong.get("a").unwrap_err().to_string();
        assert!(!message.contains("wrong\"") && !message.contains("value"), "{message}");
    }

    #[test]
    fn tampering_and_truncation_are_detected_and_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let original = store(dir.path(), "k");
        original.set("a", &secret("some token value")).unwrap();
        let path = original.path.clone();
        let good = fs::read(&path).unwrap();
        let len = good.len();

        let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
        for (what, at) in [
            ("magic", 0),
            ("version", MAGIC_NAME_LEN),
            ("salt", MAGIC.len() + 3),
            ("nonce", AAD_LEN + 5),
            ("ciphertext", HEADER_LEN + 2),
            ("tag", len - 1),
        ] {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            cases.push((format!("flipped {what} byte"), bad));
        }
        for cut in [0, 5, HEADER_LEN, HEADER_LEN + TAG_LEN - 1, len - 1] {
            cases.push((format!("truncated to {cut}"), good[..cut].to_vec()));
        }
        let mut longer = good.clone();
        longer.push(0);
        cases.push(("extra byte".into(), longer));

        for (what, bad) in cases {
            fs::write(&path, &bad).unwrap();
            // A fresh instance, as a new process would be, and the one that wrote the file.
            for s in [&store(dir.path(), "k"), &original] {
                let err = s.get("a").unwrap_err();
                assert!(matches!(err, SecretError::Decrypt { .. } | SecretError::Corrupt { .. }), "{what}: {err}");
                assert!(s.set("b", &secret("x")).is_err(), "{what}: set must fail");
                assert!(s.delete("a").is_err(), "{what}: delete must fail");
                assert_eq!(fs::read(&path).unwrap(), bad, "{what}: file changed");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn files_and_new_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "k");
        s.set("a", &secret("1")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&s.path), 0o600);
        assert_eq!(mode(&s.lock_path), 0o600);
        assert_eq!(mode(s.path.parent().unwrap()), 0o700);

        // A file someone loosened is replaced by a private one on the next write.
        fs::set_permissions(&s.path, fs::Permissions::from_mode(0o644)).unwrap();
        s.set("a", &secret("2")).unwrap();
        assert_eq!(mode(&s.path), 0o600);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads = 4;
        let per_thread = 8;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let root = dir.path();
                scope.spawn(move || {
                    // Each thread its own instance, like separate processes.
                    let s = store(root, "shared");
                    for i in 0..per_thread {
                        s.set(&format!("t{t}/k{i}"), &secret(&format!("v{t}-{i}"))).unwrap();
                    }
                    s.delete(&format!("t{t}/k0")).unwrap();
                });
            }
        });
        let s = store(dir.path(), "shared");
        for t in 0..threads {
            assert_eq!(get(&s, &format!("t{t}/k0")), None);
            for i in 1..per_thread {
                assert_eq!(get(&s, &format!("t{t}/k{i}")), Some(format!("v{t}-{i}")), "t{t}/k{i}");
            }
        }
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), "passphrase-xyz");
        s.set("a", &secret("token-xyz")).unwrap();
        let debug = format!("{s:?} {:?}", settings(dir.path(), Some("passphrase-xyz")));
        assert!(!debug.contains("passphrase-xyz") && !debug.contains("token-xyz"), "{debug}");
    }
}
