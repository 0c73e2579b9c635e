//! The one piece of cryptography the encrypted stores share: Argon2id to turn a passphrase
//! into a key, and XChaCha20-Poly1305 with a fresh random nonce to seal each value, bound to
//! associated data the caller chooses (the file's header, a database row's key name).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;
pub const KEY_LEN: usize = 32;

/// Argon2id cost, per the OWASP minimum: 19 MiB, 2 passes, 1 lane. Part of the file format
/// (version 1) and of the database store.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;

pub type Salt = [u8; SALT_LEN];
pub type Nonce = [u8; NONCE_LEN];
pub type RawKey = Zeroizing<[u8; KEY_LEN]>;

/// Where the encryption key comes from.
pub enum KeyMaterial {
    /// A passphrase, stretched with Argon2id and a salt stored next to the ciphertext.
    Passphrase(SecretString),
    /// A 32-byte key used as it is (no salt is needed).
    Raw(RawKey),
}

/// A salt from the operating system's generator.
pub fn fresh_salt() -> Salt {
    let mut salt = [0; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

/// Turns key material into ciphers, deriving each salt's key once per process (the derivation
/// is deliberately slow).
pub struct Keys {
    material: KeyMaterial,
    derived: Mutex<HashMap<Salt, RawKey>>,
}

impl Keys {
    pub fn new(material: KeyMaterial) -> Keys {
        Keys { material, derived: Mutex::new(HashMap::new()) }
    }

    /// The cipher for `salt` (ignored for a raw key). An error is a description of why the
    /// derivation failed, which does not happen with the fixed parameters.
    pub fn cipher(&self, salt: &Salt) -> Result<Cipher, String> {
        let passphrase = match &self.material {
            KeyMaterial::Raw(key) => return Ok(Cipher::new(key)),
            KeyMaterial::Passphrase(p) => p,
        };
        // A poisoned lock only means another thread panicked while deriving; the map itself
        // holds nothing half-written.
        let mut derived = self.derived.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(key) = derived.get(salt) {
            return Ok(Cipher::new(key));
        }
        let key = derive(passphrase, salt)?;
        let cipher = Cipher::new(&key);
        derived.insert(*salt, key);
        Ok(cipher)
    }

    /// How many keys were derived (for tests: once per salt).
    #[cfg(test)]
    pub fn derived_count(&self) -> usize {
        self.derived.lock().unwrap().len()
    }
}

/// Argon2id of `passphrase` with `salt`.
fn derive(passphrase: &SecretString, salt: &Salt) -> Result<RawKey, String> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, Some(KEY_LEN))
        .map_err(|e| format!("invalid key derivation parameters: {e}"))?;
    let mut key: RawKey = Zeroizing::new([0; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, key.as_mut_slice())
        .map_err(|e| format!("key derivation failed: {e}"))?;
    Ok(key)
}

/// XChaCha20-Poly1305 under one key.
pub struct Cipher(XChaCha20Poly1305);

impl Cipher {
    fn new(key: &RawKey) -> Cipher {
        Cipher(XChaCha20Poly1305::new(Key::from_slice(key.as_slice())))
    }

    /// Encrypts `buffer` in place with a fresh random nonce; returns the nonce and the tag.
    /// Fails only for inputs too large for the cipher.
    pub fn seal(&self, aad: &[u8], buffer: &mut [u8]) -> Result<(Nonce, [u8; TAG_LEN]), ()> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let tag = self.0.encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, buffer).map_err(|_| ())?;
        Ok((nonce, tag.into()))
    }

    /// Decrypts `buffer` in place; an error means a wrong key or changed bytes (nonce,
    /// associated data, ciphertext or tag), and nothing else can be told apart.
    pub fn open(&self, nonce: &[u8], aad: &[u8], buffer: &mut [u8], tag: &[u8]) -> Result<(), ()> {
        if nonce.len() != NONCE_LEN || tag.len() != TAG_LEN {
            return Err(());
        }
        self.0.decrypt_in_place_detached(XNonce::from_slice(nonce), aad, buffer, Tag::from_slice(tag)).map_err(|_| ())
    }

    /// `seal` for a value: returns nonce and `ciphertext || tag`.
    pub fn seal_value(&self, aad: &[u8], plaintext: &[u8]) -> Result<(Nonce, Vec<u8>), ()> {
        let mut buffer = plaintext.to_vec();
        let (nonce, tag) = self.seal(aad, &mut buffer)?;
        buffer.extend_from_slice(&tag);
        Ok((nonce, buffer))
    }

    /// The inverse of `seal_value`; the plaintext is wiped when dropped.
    pub fn open_value(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()> {
        if sealed.len() < TAG_LEN {
            return Err(());
        }
        let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        self.open(nonce, aad, &mut buffer, tag)?;
        Ok(buffer)
    }
}

/// Reads a key file's bytes as key material for the database store: exactly 32 bytes, or 64
/// hexadecimal digits (a trailing newline allowed), are a raw key; anything else is a
/// passphrase (a trailing newline removed). `None` when the bytes are neither (not UTF-8).
pub fn key_file_material(bytes: &[u8]) -> Option<KeyMaterial> {
    if bytes.len() == KEY_LEN {
        let mut key: RawKey = Zeroizing::new([0; KEY_LEN]);
        key.copy_from_slice(bytes);
        return Some(KeyMaterial::Raw(key));
    }
    let text = std::str::from_utf8(bytes).ok()?.trim_end_matches(['\n', '\r']);
    if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut key: RawKey = Zeroizing::new([0; KEY_LEN]);
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        return Some(KeyMaterial::Raw(key));
    }
    Some(KeyMaterial::Passphrase(SecretString::from(text.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_associated_data() {
        let keys = Keys::new(KeyMaterial::Passphrase(SecretString::from("correct horse")));
        let salt = fresh_salt();
        let cipher = keys.cipher(&salt).unwrap();
        let (nonce, sealed) = cipher.seal_value(b"jobber/1/tokens", b"secret value").unwrap();
        assert_eq!(&cipher.open_value(&nonce, b"jobber/1/tokens", &sealed).unwrap()[..], b"secret value");
        assert!(cipher.open_value(&nonce, b"jobber/2/tokens", &sealed).is_err(), "bound to its name");
        let other = Keys::new(KeyMaterial::Passphrase(SecretString::from("wrong"))).cipher(&salt).unwrap();
        assert!(other.open_value(&nonce, b"jobber/1/tokens", &sealed).is_err());
        let other_salt = keys.cipher(&fresh_salt()).unwrap();
        assert!(other_salt.open_value(&nonce, b"jobber/1/tokens", &sealed).is_err());
        assert_eq!(keys.derived_count(), 2);
        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        assert!(cipher.open_value(&nonce, b"jobber/1/tokens", &flipped).is_err());
        assert!(cipher.open_value(&nonce, b"jobber/1/tokens", &sealed[..3]).is_err());
    }

    #[test]
    fn key_files_are_raw_keys_or_passphrases() {
        let raw = |m: Option<KeyMaterial>| match m {
            Some(KeyMaterial::Raw(k)) => Some(*k),
            _ => None,
        };
        let bytes: Vec<u8> = (0u8..32).collect();
        assert_eq!(raw(key_file_material(&bytes)).unwrap().to_vec(), bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(raw(key_file_material(format!("{hex}\n").as_bytes())).unwrap().to_vec(), bytes);
        assert_eq!(raw(key_file_material(hex.to_uppercase().as_bytes())).unwrap().to_vec(), bytes);
        match key_file_material(b"a long passphrase of words\n") {
            Some(KeyMaterial::Passphrase(p)) => assert_eq!(p.expose_secret(), "a long passphrase of words"),
            _ => panic!("a passphrase"),
        }
        // 63 hex digits and a 33-byte file are passphrases.
        assert!(matches!(key_file_material(&hex.as_bytes()[..63]), Some(KeyMaterial::Passphrase(_))));
        assert!(matches!(key_file_material(&[b'a'; 33]), Some(KeyMaterial::Passphrase(_))));
        assert!(key_file_material(&[0xff; 40]).is_none());
    }
}
