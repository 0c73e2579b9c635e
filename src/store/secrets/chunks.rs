//! How a secret of any length becomes keyring entries of at most 2,500 bytes.
//!
//! Windows refuses entries over 2,560 bytes, and OAuth tokens with ID tokens are larger. Long
//! values are therefore split over several entries, on every platform so that the same data
//! behaves the same everywhere, with a checksum so that a half-written or partly overwritten
//! value is reported as damaged instead of being returned. The logic works on any
//! [`RawEntries`], so it is tested against a map rather than a real keyring.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::SecretError;

/// The most bytes one keyring entry may hold. Windows allows 2,560; a little is left spare.
pub(super) const MAX_ENTRY_BYTES: usize = 2500;

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

/// One keyring entry per name, holding raw bytes. The chunking on top of it is plain logic, so
/// tests run it against an in-memory map instead of a real keyring.
pub(super) trait RawEntries {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError>;
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError>;
    /// Returns whether there was an entry.
    fn delete(&self, name: &str) -> Result<bool, SecretError>;
}

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
    let bad = |reason: &str| SecretError::BadEntry { key: key.to_owned(), reason: reason.to_owned() };
    let mut fields = rest.splitn(3, |&b| b == b':');
    let (Some(count), Some(digest), Some(first)) = (fields.next(), fields.next(), fields.next()) else {
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
    Ok(Some(ChunkHeader { entries, digest, first }))
}

/// How many entries `key` currently occupies, as far as its first entry tells. Damaged or
/// missing first entries count as one, and the sweep in [`remove_chunks_from`] finds the rest.
fn entry_count(raw: &dyn RawEntries, key: &str) -> Result<usize, SecretError> {
    let Some(head) = raw.get(key)? else {
        return Ok(1);
    };
    Ok(parse_header(key, &head).ok().flatten().map_or(1, |h| h.entries))
}

/// Removes the chunks `key#from` and up: first those the old header knew about (`known_end`
/// exclusive), from the top down so an interrupted removal leaves no gap, then any further
/// consecutive ones a crash may have left.
fn remove_chunks_from(raw: &dyn RawEntries, key: &str, from: usize, known_end: usize) -> Result<(), SecretError> {
    for index in (from..known_end).rev() {
        raw.delete(&chunk_name(key, index))?;
    }
    let mut index = from.max(known_end);
    while raw.delete(&chunk_name(key, index))? {
        index += 1;
    }
    Ok(())
}

pub(super) fn write_value(raw: &dyn RawEntries, key: &str, value: &[u8]) -> Result<(), SecretError> {
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
        // The parts go first and the header last. Until the header is replaced, readers see the
        // old value, or, if it was chunked too, a checksum mismatch: never a mix of old and new.
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

pub(super) fn read_value(raw: &dyn RawEntries, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
    let Some(head) = raw.get(key)? else {
        return Ok(None);
    };
    let bad = |reason: String| SecretError::BadEntry { key: key.to_owned(), reason };
    if let Some(header) = parse_header(key, &head)? {
        let mut value = Zeroizing::new(Vec::with_capacity(header.entries * MAX_ENTRY_BYTES));
        value.extend_from_slice(header.first);
        for index in 1..header.entries {
            let name = chunk_name(key, index);
            let part = raw.get(&name)?.ok_or_else(|| bad(format!("its part {name} is missing")))?;
            value.extend_from_slice(&part);
        }
        if sha256_hex(&value) != header.digest {
            return Err(bad("its parts do not match its checksum (a write was interrupted, or another \
                            program changed them)"
                .into()));
        }
        return Ok(Some(value));
    }
    if let Some(rest) = head.strip_prefix(ESCAPE_PREFIX.as_bytes()) {
        return Ok(Some(Zeroizing::new(rest.to_vec())));
    }
    if head.starts_with(RESERVED_PREFIX.as_bytes()) {
        return Err(bad("it is in a format this integ does not know (written by a newer version?)".into()));
    }
    Ok(Some(head))
}

pub(super) fn delete_value(raw: &dyn RawEntries, key: &str) -> Result<bool, SecretError> {
    let entries = entry_count(raw, key)?;
    // The first entry goes first, so the value disappears at once for readers; leftover parts
    // are invisible and the next write or delete sweeps them.
    let existed = raw.delete(key)?;
    remove_chunks_from(raw, key, 1, entries)?;
    Ok(existed)
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A keyring as a map, holding exactly what a real one would.
    #[derive(Default, Clone)]
    pub(in super::super) struct MemEntries(Arc<Mutex<BTreeMap<String, Vec<u8>>>>);

    impl MemEntries {
        pub(in super::super) fn names(&self) -> Vec<String> {
            self.0.lock().unwrap().keys().cloned().collect()
        }
        pub(in super::super) fn raw_set(&self, name: &str, value: &[u8]) {
            self.0.lock().unwrap().insert(name.to_owned(), value.to_vec());
        }
        pub(in super::super) fn raw_get(&self, name: &str) -> Vec<u8> {
            self.0.lock().unwrap()[name].clone()
        }
    }

    impl RawEntries for MemEntries {
        fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
            Ok(self.0.lock().unwrap().get(name).cloned().map(Zeroizing::new))
        }
        fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
            assert!(value.len() <= MAX_ENTRY_BYTES, "entry {name} has {} bytes", value.len());
            assert!(!value.is_empty(), "keyutils cannot store empty entries");
            self.raw_set(name, value);
            Ok(())
        }
        fn delete(&self, name: &str) -> Result<bool, SecretError> {
            Ok(self.0.lock().unwrap().remove(name).is_some())
        }
    }

    fn set(mem: &MemEntries, key: &str, value: &str) {
        write_value(mem, key, value.as_bytes()).unwrap();
    }

    fn get(mem: &MemEntries, key: &str) -> Option<String> {
        read_value(mem, key).unwrap().map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    /// Values that differ from position to position, so a misplaced chunk shows.
    pub(in super::super) fn long_value(len: usize) -> String {
        (0..len).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect()
    }

    #[test]
    fn short_value_is_one_plain_entry() {
        let mem = MemEntries::default();
        set(&mem, "jobber/1/tokens", "{\"access\":\"x\"}");
        assert_eq!(mem.names(), ["jobber/1/tokens"]);
        assert_eq!(mem.raw_get("jobber/1/tokens"), b"{\"access\":\"x\"}");
        assert_eq!(get(&mem, "jobber/1/tokens").as_deref(), Some("{\"access\":\"x\"}"));
        assert_eq!(get(&mem, "other"), None);
    }

    #[test]
    fn long_value_round_trips_in_chunks_and_shrinks() {
        let mem = MemEntries::default();
        let value = long_value(9000);
        set(&mem, "k", &value);
        assert_eq!(mem.names(), ["k", "k#1", "k#2", "k#3"]);
        assert!(mem.raw_get("k").starts_with(CHUNK_PREFIX.as_bytes()));
        assert_eq!(get(&mem, "k").as_deref(), Some(value.as_str()));

        let shorter = long_value(3000);
        set(&mem, "k", &shorter);
        assert_eq!(mem.names(), ["k", "k#1"]);
        assert_eq!(get(&mem, "k").as_deref(), Some(shorter.as_str()));

        set(&mem, "k", "small");
        assert_eq!(mem.names(), ["k"]);
        assert_eq!(get(&mem, "k").as_deref(), Some("small"));

        set(&mem, "k", &value);
        assert!(delete_value(&mem, "k").unwrap());
        assert!(mem.names().is_empty());
        assert!(!delete_value(&mem, "k").unwrap());
        assert_eq!(get(&mem, "k"), None);
    }

    #[test]
    fn multibyte_text_split_mid_character_round_trips() {
        let mem = MemEntries::default();
        let value: String = "é€😀x".repeat(1000);
        set(&mem, "k", &value);
        assert_eq!(get(&mem, "k").as_deref(), Some(value.as_str()));
    }

    #[test]
    fn values_that_look_like_our_markers_round_trip() {
        let mem = MemEntries::default();
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
            set(&mem, "k", value);
            assert_eq!(get(&mem, "k").as_deref(), Some(value), "value {value:?}");
        }
        // An escaped value exactly at the limit still fits in one entry.
        let at_limit = format!("integ-{}", "x".repeat(MAX_ENTRY_BYTES - ESCAPE_PREFIX.len() - 6));
        set(&mem, "k", &at_limit);
        assert_eq!(mem.names(), ["k"]);
        assert_eq!(get(&mem, "k").as_deref(), Some(at_limit.as_str()));
        let over = format!("{at_limit}y");
        set(&mem, "k", &over);
        assert_eq!(mem.names(), ["k", "k#1"]);
        assert_eq!(get(&mem, "k").as_deref(), Some(over.as_str()));
    }

    #[test]
    fn damaged_chunks_are_reported_not_returned() {
        let mem = MemEntries::default();
        set(&mem, "k", &long_value(6000));

        let mut part = mem.raw_get("k#1");
        part[10] ^= 1;
        mem.raw_set("k#1", &part);
        let err = read_value(&mem, "k").unwrap_err();
        assert!(matches!(&err, SecretError::BadEntry { key, .. } if key == "k"), "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");

        mem.0.lock().unwrap().remove("k#2");
        let err = read_value(&mem, "k").unwrap_err();
        assert!(err.to_string().contains("k#2 is missing"), "{err}");

        mem.raw_set("k", b"integ-chunked:v1:99999:abc:");
        assert!(matches!(read_value(&mem, "k"), Err(SecretError::BadEntry { .. })));
        mem.raw_set("k", b"integ-unknown:x");
        assert!(matches!(read_value(&mem, "k"), Err(SecretError::BadEntry { .. })));

        // Writing and deleting still work over the damage, and sweep the leftovers.
        set(&mem, "k", "fresh");
        assert_eq!(mem.names(), ["k"]);
    }

    #[test]
    fn leftover_chunks_from_an_interrupted_write_are_swept() {
        let mem = MemEntries::default();
        mem.raw_set("k", b"plain");
        mem.raw_set("k#1", b"orphan");
        mem.raw_set("k#2", b"orphan");
        assert!(delete_value(&mem, "k").unwrap());
        assert!(mem.names().is_empty());
    }
}
