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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{SecretError, SecretSettings, SecretStore};

const MAGIC: &[u8; 9] = b"INTEGSEC\x01";
const MAGIC_NAME_LEN: usize = 8;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const AAD_LEN: usize = MAGIC.len() + SALT_LEN;
const HEADER_LEN: usize = AAD_LEN + NONCE_LEN;

/// Argon2id cost, per the OWASP minimum: 19 MiB, 2 passes, 1 lane. Part of format version 1.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;

type Salt = [u8; SALT_LEN];
type DerivedKey = Zeroizing<[u8; 32]>;

/// Secrets in one file encrypted with a key derived from a passphrase.
pub struct FileStore {
    path: PathBuf,
    lock_path: PathBuf,
    passphrase: SecretString,
    /// Keys already derived in this process, by salt.
    keys: Mutex<HashMap<Salt, DerivedKey>>,
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
            passphrase,
            keys: Mutex::new(HashMap::new()),
        })
    }

    fn io_error(&self, path: &Path) -> impl FnOnce(io::Error) -> SecretError {
        let path = path.to_owned();
        move |source| SecretError::Io { path, source }
    }

    fn corrupt(&self, reason: impl Into<String>) -> SecretError {
        SecretError::Corrupt { path: self.path.clone(), reason: reason.into() }
    }

    fn cipher(&self, salt: &Salt) -> Result<XChaCha20Poly1305, SecretError> {
        // A poisoned lock only means another thread panicked while deriving; the map itself
        // holds nothing half-written.
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(key) = keys.get(salt) {
            return Ok(XChaCha20Poly1305::new(Key::from_slice(key.as_slice())));
        }
        let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, Some(32))
            .map_err(|e| self.corrupt(format!("invalid key derivation parameters: {e}")))?;
        let mut key: DerivedKey = Zeroizing::new([0; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(self.passphrase.expose_secret().as_bytes(), salt, key.as_mut_slice())
            .map_err(|e| self.corrupt(format!("key derivation failed: {e}")))?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
        keys.insert(*salt, key);
        Ok(cipher)
    }

    /// Reads and decrypts the file. `Ok(None)` when there is no file yet.
    fn load(&self) -> Result<Option<(Salt, Entries)>, SecretError> {
        let data = match fs::read(&self.path) {
            Ok(data) => data,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_error(&self.path)(e)),
        };
        if data.is_empty() {
            return Err(self.corrupt("it is empty"));
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
                "it has format version {version}, which this integ cannot read (written by a newer version?)"
            )));
        }
        let (header, body) = data.split_at(HEADER_LEN);
        let (ciphertext, tag) = body.split_at(body.len() - TAG_LEN);
        let mut salt: Salt = [0; SALT_LEN];
        salt.copy_from_slice(&header[MAGIC.len()..AAD_LEN]);
        let nonce = XNonce::from_slice(&header[AAD_LEN..HEADER_LEN]);

        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher(&salt)?
            .decrypt_in_place_detached(nonce, &header[..AAD_LEN], &mut plaintext, Tag::from_slice(tag))
            .map_err(|_| SecretError::Decrypt { path: self.path.clone() })?;
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

        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(salt);
        header.extend_from_slice(&nonce);
        // After this the buffer holds ciphertext.
        let tag = cipher
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &header[..AAD_LEN], &mut buffer)
            .map_err(|_| self.corrupt("encryption failed (the file would be too large)"))?;

        let mut file = Vec::with_capacity(HEADER_LEN + buffer.len() + TAG_LEN);
        file.extend_from_slice(&header);
        file.extend_from_slice(&buffer);
        file.extend_from_slice(&tag);
        write_atomically(&self.path, &file)
    }

    /// Takes the exclusive lock that serialises read-modify-write across processes. It is
    /// released when the returned file is dropped.
    fn lock(&self) -> Result<File, SecretError> {
        let to_error = self.io_error(&self.lock_path);
        if let Some(dir) = parent_dir(&self.lock_path) {
            create_private_dir(dir).map_err(self.io_error(dir))?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&self.lock_path).map_err(self.io_error(&self.lock_path))?;
        file.lock().map_err(to_error)?;
        Ok(file)
    }

    /// Applies `change` to the current contents under the lock; writes only if it reports a
    /// change.
    fn update<T>(&self, change: impl FnOnce(&mut Entries) -> (T, bool)) -> Result<T, SecretError> {
        let _lock = self.lock()?;
        // Read after locking: another process may have written since we last looked.
        let (salt, mut entries) = match self.load()? {
            Some(current) => current,
            None => {
                let mut salt: Salt = [0; SALT_LEN];
                OsRng.fill_bytes(&mut salt);
                (salt, Entries::default())
            }
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
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| SecretError::Io { path, source }
    };
    let dir = parent_dir(path).unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(io_error(dir))?;
    let name = path.file_name().map_or_else(|| "secrets".into(), |n| n.to_string_lossy());
    let temp = dir.join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), OsRng.next_u64()));

    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
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
