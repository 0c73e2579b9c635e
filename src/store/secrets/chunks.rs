//! How a secret of any length becomes keyring entries of at most 2,500 bytes.
//!
//! Windows refuses entries over 2,560 bytes, and OAuth tokens with ID tokens are larger (real
//! Microsoft token sets are). Long values are therefore split over several entries, on every
//! platform so that the same data behaves the same everywhere. The logic works on any
//! [`RawEntries`], so it is tested against a map rather than a real keyring.
//!
//! A keyring has no transactions, only single entries, so a long value is replaced the way a
//! file is replaced by a rename: its parts are written under a new, random generation, then
//! the first entry (the header, naming the generation, the number of entries and a checksum
//! of the whole value) is switched in one write, and only then are the old generation's parts
//! deleted. Stopped at any point, a write leaves the old value or the new one readable, plus at
//! worst some unreferenced parts; never a broken value. A reader that loses the race against a
//! writer (the parts it wanted were deleted, or it read a header and parts of different
//! values) reads once more before reporting the value damaged. Each write uses its own
//! generation, so even two writers of one key cannot mix their parts.
//!
//! Formats of the first entry:
//! - anything not starting with `integ-`: the value itself;
//! - `integ-escaped:<value>`: an empty value, or one that starts with `integ-`;
//! - `integ-chunked:v2:<generation>:<previous>:<entries>:<sha256>:<first part>`, with the parts
//!   under `key#<generation>.1` .. `key#<generation>.<entries - 1>`; `<previous>` names the
//!   generation it replaced (`-` for none, `v1` for the format below), so that parts a stop
//!   left behind after the switch are deleted by the next write;
//! - `integ-chunked:v1:<entries>:<sha256>:<first part>`, with the parts under `key#1` ..: what
//!   integ 0.1 wrote, rewritten in place; still read, never written.

use std::fmt::Write as _;

use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::SecretError;

/// The most bytes one keyring entry may hold. Windows allows 2,560; a little is left spare.
pub(super) const MAX_ENTRY_BYTES: usize = 2500;

/// Every value integ stores that starts with this prefix is escaped, so the prefix space is
/// ours for format markers and future versions can add new ones.
const RESERVED_PREFIX: &str = "integ-";

/// First entry of a value split over several entries (see the module's comment).
const CHUNK_PREFIX: &str = "integ-chunked:v2:";

/// The format integ 0.1 wrote.
const CHUNK_PREFIX_V1: &str = "integ-chunked:v1:";

/// A generation is 64 random bits in lower-case hex.
const GENERATION_HEX: usize = 16;

/// What `<previous>` says when no earlier generation needs sweeping, or when it was v1.
const NO_PREVIOUS: &str = "-";
const PREVIOUS_V1: &str = "v1";

/// A value that is empty (keyutils cannot store empty entries) or starts with
/// [`RESERVED_PREFIX`] is stored as this prefix followed by the value.
const ESCAPE_PREFIX: &str = "integ-escaped:";

/// Room kept in the first entry for the chunk header: prefix, generation, previous generation,
/// a count of up to 20 digits and 64 hex digits, each followed by a separator.
const CHUNK_HEADER_MAX: usize = CHUNK_PREFIX.len() + 2 * (GENERATION_HEX + 1) + 20 + 1 + 64 + 1;

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

fn sha256_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Where the parts of a value live: `key#<index>` (v1) or `key#<generation>.<index>`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Generation {
    V1,
    V2(String),
}

impl Generation {
    fn part_name(&self, key: &str, index: usize) -> String {
        match self {
            Generation::V1 => format!("{key}#{index}"),
            Generation::V2(generation) => format!("{key}#{generation}.{index}"),
        }
    }

    fn parse(text: &[u8]) -> Option<Generation> {
        (text.len() == GENERATION_HEX && text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Generation::V2(String::from_utf8_lossy(text).into_owned()))
    }
}

/// A parsed first entry of a chunked value.
struct ChunkHeader<'a> {
    generation: Generation,
    /// The generation this one replaced, whose parts may still be around.
    previous: Option<Generation>,
    entries: usize,
    digest: &'a str,
    first: &'a [u8],
}

impl ChunkHeader<'_> {
    fn part_name(&self, key: &str, index: usize) -> String {
        self.generation.part_name(key, index)
    }
}

/// Parses `head` if it is a chunk header. `Ok(None)` means it is not one at all.
fn parse_header<'a>(key: &str, head: &'a [u8]) -> Result<Option<ChunkHeader<'a>>, SecretError> {
    let bad = |reason: &str| SecretError::BadEntry { key: key.to_owned(), reason: reason.to_owned() };
    let incomplete = || bad("its chunk header is incomplete");
    let (generation, previous, rest) = if let Some(rest) = head.strip_prefix(CHUNK_PREFIX.as_bytes()) {
        let mut fields = rest.splitn(3, |&b| b == b':');
        let (Some(generation), Some(previous), Some(rest)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(incomplete());
        };
        let generation =
            Generation::parse(generation).ok_or_else(|| bad("its chunk header has an invalid generation"))?;
        let previous = match previous {
            p if p == NO_PREVIOUS.as_bytes() => None,
            p if p == PREVIOUS_V1.as_bytes() => Some(Generation::V1),
            p => Some(Generation::parse(p).ok_or_else(|| bad("its chunk header has an invalid previous generation"))?),
        };
        (generation, previous, rest)
    } else if let Some(rest) = head.strip_prefix(CHUNK_PREFIX_V1.as_bytes()) {
        (Generation::V1, None, rest)
    } else {
        return Ok(None);
    };
    let mut fields = rest.splitn(3, |&b| b == b':');
    let (Some(count), Some(digest), Some(first)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(incomplete());
    };
    let entries = std::str::from_utf8(count)
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|n| (1..=MAX_CHUNKS).contains(n))
        .ok_or_else(|| bad("its chunk header has an invalid entry count"))?;
    let digest = std::str::from_utf8(digest)
        .ok()
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad("its chunk header has an invalid checksum"))?;
    Ok(Some(ChunkHeader { generation, previous, entries, digest, first }))
}

/// The parts a key's first entry refers to, and those it knows may be left over.
struct Layout {
    /// The current value's parts, and how many entries it has (1 for an unchunked value).
    current: (Generation, usize),
    previous: Option<Generation>,
}

/// What `key` currently occupies, as far as its first entry tells. Missing, unchunked or
/// damaged first entries count as one entry with v1 naming, whose leftover parts the sweep in
/// [`remove_parts`] finds.
fn layout(raw: &dyn RawEntries, key: &str) -> Result<Layout, SecretError> {
    let unchunked = Layout { current: (Generation::V1, 1), previous: None };
    let Some(head) = raw.get(key)? else {
        return Ok(unchunked);
    };
    Ok(match parse_header(key, &head) {
        Ok(Some(h)) => Layout { current: (h.generation, h.entries), previous: h.previous },
        _ => unchunked,
    })
}

/// Deletes the parts `1 .. entries` of a generation from the top down (so an interrupted removal
/// leaves no gap), then any further consecutive ones a stopped write may have left.
fn remove_parts(raw: &dyn RawEntries, key: &str, generation: &Generation, entries: usize) -> Result<(), SecretError> {
    for index in (1..entries).rev() {
        raw.delete(&generation.part_name(key, index))?;
    }
    let mut index = entries.max(1);
    while raw.delete(&generation.part_name(key, index))? {
        index += 1;
    }
    Ok(())
}

/// Deletes every part `layout` knows about (the entry itself stays).
fn remove_layout(raw: &dyn RawEntries, key: &str, layout: &Layout) -> Result<(), SecretError> {
    let (generation, entries) = &layout.current;
    remove_parts(raw, key, generation, *entries)?;
    match &layout.previous {
        Some(previous) if previous != generation => remove_parts(raw, key, previous, 1),
        _ => Ok(()),
    }
}

pub(super) fn write_value(raw: &dyn RawEntries, key: &str, value: &[u8]) -> Result<(), SecretError> {
    let old = layout(raw, key)?;
    let escape = value.is_empty() || value.starts_with(RESERVED_PREFIX.as_bytes());
    let single_len = value.len() + if escape { ESCAPE_PREFIX.len() } else { 0 };
    // A short value replacing a chunked one still gets a header (of one entry) when it fits,
    // so that the old parts are named as `<previous>` until they are gone.
    let fits_header = value.len() <= MAX_ENTRY_BYTES - CHUNK_HEADER_MAX;
    if single_len <= MAX_ENTRY_BYTES && (old.current.1 <= 1 || !fits_header) {
        let mut entry = Zeroizing::new(Vec::with_capacity(single_len));
        if escape {
            entry.extend_from_slice(ESCAPE_PREFIX.as_bytes());
        }
        entry.extend_from_slice(value);
        raw.set(key, &entry)?;
    } else {
        write_chunked(raw, key, value, &old)?;
    }
    // The new value is in place, so the write succeeded: what the old one used is garbage
    // now. What a failure here leaves is named in the new header, for the next write to sweep
    // (unless the new value is a plain entry too long for a header: then it stays, unused).
    let _ = remove_layout(raw, key, &old);
    Ok(())
}

fn write_chunked(raw: &dyn RawEntries, key: &str, value: &[u8], old: &Layout) -> Result<(), SecretError> {
    // The parts carry raw bytes and are never interpreted, so they need no escaping.
    let (first, rest) = value.split_at(value.len().min(MAX_ENTRY_BYTES - CHUNK_HEADER_MAX));
    let parts: Vec<&[u8]> = rest.chunks(MAX_ENTRY_BYTES).collect();
    let entries = parts.len() + 1;
    let hex = loop {
        let hex = format!("{:016x}", rand::rngs::OsRng.next_u64());
        if !matches!(&old.current.0, Generation::V2(g) if *g == hex) {
            break hex;
        }
    };
    let generation = Generation::V2(hex.clone());
    // New parts first, under names nothing refers to yet; the header last, in one write.
    for (i, part) in parts.iter().enumerate() {
        raw.set(&generation.part_name(key, i + 1), part)?;
    }
    let previous = match &old.current {
        (Generation::V2(g), _) => g.as_str(),
        (Generation::V1, 1) => NO_PREVIOUS,
        (Generation::V1, _) => PREVIOUS_V1,
    };
    let header = format!("{CHUNK_PREFIX}{hex}:{previous}:{entries}:{}:", sha256_hex(value));
    let mut head = Zeroizing::new(Vec::with_capacity(header.len() + first.len()));
    head.extend_from_slice(header.as_bytes());
    head.extend_from_slice(first);
    raw.set(key, &head)
}

/// One attempt at reading a value.
enum Read {
    Done(Option<Zeroizing<Vec<u8>>>),
    /// Parts missing or not matching the header: a writer may have been busy.
    Torn(SecretError),
}

fn read_once(raw: &dyn RawEntries, key: &str) -> Result<Read, SecretError> {
    let Some(head) = raw.get(key)? else {
        return Ok(Read::Done(None));
    };
    let bad = |reason: String| SecretError::BadEntry { key: key.to_owned(), reason };
    if let Some(header) = parse_header(key, &head)? {
        let mut value = Zeroizing::new(Vec::with_capacity(header.entries * MAX_ENTRY_BYTES));
        value.extend_from_slice(header.first);
        for index in 1..header.entries {
            let name = header.part_name(key, index);
            let Some(part) = raw.get(&name)? else {
                return Ok(Read::Torn(bad(format!("its part {name} is missing"))));
            };
            value.extend_from_slice(&part);
        }
        if sha256_hex(&value) != header.digest {
            return Ok(Read::Torn(bad("its parts do not match its checksum (another program changed them)".into())));
        }
        return Ok(Read::Done(Some(value)));
    }
    if let Some(rest) = head.strip_prefix(ESCAPE_PREFIX.as_bytes()) {
        return Ok(Read::Done(Some(Zeroizing::new(rest.to_vec()))));
    }
    if head.starts_with(RESERVED_PREFIX.as_bytes()) {
        return Err(bad("it is in a format this integ does not know (written by a newer version?)".into()));
    }
    Ok(Read::Done(Some(head)))
}

pub(super) fn read_value(raw: &dyn RawEntries, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
    match read_once(raw, key)? {
        Read::Done(value) => Ok(value),
        // A writer switches the header and then deletes the old parts: a second look sees the
        // new header and its complete parts.
        Read::Torn(_) => match read_once(raw, key)? {
            Read::Done(value) => Ok(value),
            Read::Torn(damage) => Err(damage),
        },
    }
}

pub(super) fn delete_value(raw: &dyn RawEntries, key: &str) -> Result<bool, SecretError> {
    let old = layout(raw, key)?;
    // The first entry goes first, so the value disappears at once for readers; leftover parts
    // are invisible and the next write or delete sweeps them.
    let existed = raw.delete(key)?;
    remove_layout(raw, key, &old)?;
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

    /// The names of the parts `key`'s header refers to, in order.
    fn part_names(mem: &MemEntries, key: &str) -> Vec<String> {
        let head = mem.raw_get(key);
        let header = parse_header(key, &head).unwrap().expect("a chunk header");
        (1..header.entries).map(|i| header.part_name(key, i)).collect()
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
        let parts = part_names(&mem, "k");
        assert_eq!(parts.len(), 3);
        assert_eq!(mem.names(), [vec!["k".to_owned()], parts.clone()].concat());
        assert!(mem.raw_get("k").starts_with(CHUNK_PREFIX.as_bytes()));
        assert_eq!(get(&mem, "k").as_deref(), Some(value.as_str()));

        let shorter = long_value(3000);
        set(&mem, "k", &shorter);
        let new_parts = part_names(&mem, "k");
        assert_eq!(new_parts.len(), 1);
        assert_ne!(new_parts[0], parts[0], "a new generation");
        assert_eq!(mem.names(), ["k", new_parts[0].as_str()]);
        assert_eq!(get(&mem, "k").as_deref(), Some(shorter.as_str()));

        // Replacing a chunked value, even a short one names the parts it replaces; the next
        // write is a plain entry again.
        set(&mem, "k", "small");
        assert_eq!(mem.names(), ["k"]);
        assert_eq!(get(&mem, "k").as_deref(), Some("small"));
        set(&mem, "k", "small");
        assert_eq!(mem.raw_get("k"), b"small");

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
        assert_eq!(mem.names().len(), 2);
        assert_eq!(get(&mem, "k").as_deref(), Some(over.as_str()));
    }

    #[test]
    fn damaged_chunks_are_reported_not_returned() {
        let mem = MemEntries::default();
        set(&mem, "k", &long_value(6000));
        let parts = part_names(&mem, "k");

        let mut part = mem.raw_get(&parts[0]);
        part[10] ^= 1;
        mem.raw_set(&parts[0], &part);
        let err = read_value(&mem, "k").unwrap_err();
        assert!(matches!(&err, SecretError::BadEntry { key, .. } if key == "k"), "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");

        mem.0.lock().unwrap().remove(&parts[1]);
        let err = read_value(&mem, "k").unwrap_err();
        assert!(err.to_string().contains(&format!("{} is missing", parts[1])), "{err}");

        mem.raw_set("k", b"integ-chunked:v1:99999:abc:");
        assert!(matches!(read_value(&mem, "k"), Err(SecretError::BadEntry { .. })));
        mem.raw_set("k", b"integ-unknown:x");
        assert!(matches!(read_value(&mem, "k"), Err(SecretError::BadEntry { .. })));

        // Writing and deleting still work over the damage. The parts of the overwritten header
        // are unreferenced now (their generation was only in it), and stay unused.
        set(&mem, "k", "fresh");
        assert_eq!(get(&mem, "k").as_deref(), Some("fresh"));
        assert!(delete_value(&mem, "k").unwrap());
        assert_eq!(get(&mem, "k"), None);
    }

    /// Entries over a map that fail every `set` and `delete` from the `n`th on, like a process
    /// stopped in the middle of a write.
    struct StopsAfter {
        mem: MemEntries,
        left: Mutex<usize>,
    }

    impl StopsAfter {
        fn step(&self) -> Result<(), SecretError> {
            let mut left = self.left.lock().unwrap();
            if *left == 0 {
                return Err(SecretError::Keyring("stopped".into()));
            }
            *left -= 1;
            Ok(())
        }
    }

    impl RawEntries for StopsAfter {
        fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
            self.mem.get(name)
        }
        fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
            self.step()?;
            self.mem.set(name, value)
        }
        fn delete(&self, name: &str) -> Result<bool, SecretError> {
            self.step()?;
            self.mem.delete(name)
        }
    }

    #[test]
    fn a_write_stopped_at_any_step_leaves_the_old_or_the_new_value() {
        let lengths = [10, 3000, 6000, 9000];
        for &old_len in &lengths {
            for &new_len in &lengths {
                let old = format!("old-{}", long_value(old_len));
                let new = format!("new-{}", long_value(new_len));
                for steps in 0..20 {
                    let mem = MemEntries::default();
                    set(&mem, "k", &old);
                    let stopping = StopsAfter { mem: mem.clone(), left: Mutex::new(steps) };
                    let finished = write_value(&stopping, "k", new.as_bytes()).is_ok();
                    let now = get(&mem, "k").unwrap_or_else(|| panic!("{old_len}->{new_len} after {steps}: gone"));
                    assert!(now == old || now == new, "{old_len}->{new_len} stopped after {steps}: a mix");
                    if finished {
                        assert_eq!(now, new);
                    }
                    // The next write cleans up what the stopped one replaced; only parts it wrote
                    // before switching the header can be left, unreferenced.
                    set(&mem, "k", "small");
                    set(&mem, "k", "small");
                    assert_eq!(get(&mem, "k").as_deref(), Some("small"));
                    let new_parts = (new.len() + CHUNK_HEADER_MAX).div_ceil(MAX_ENTRY_BYTES) - 1;
                    let left = mem.names().len() - 1;
                    assert!(left <= new_parts, "{old_len}->{new_len} after {steps}: {:?}", mem.names());
                }
            }
        }
    }

    /// A reader that reads the header, then (before it reads the parts) sees a whole write of
    /// another value go through.
    struct WriterInBetween {
        mem: MemEntries,
        next: Vec<u8>,
        done: Mutex<bool>,
    }

    impl RawEntries for WriterInBetween {
        fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
            let value = self.mem.get(name)?;
            let mut done = self.done.lock().unwrap();
            if !*done {
                *done = true;
                write_value(&self.mem, "k", &self.next)?;
            }
            Ok(value)
        }
        fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
            self.mem.set(name, value)
        }
        fn delete(&self, name: &str) -> Result<bool, SecretError> {
            self.mem.delete(name)
        }
    }

    #[test]
    fn a_reader_that_races_a_writer_reads_again() {
        for (old_len, new_len) in [(6000, 9000), (9000, 6000), (6000, 6000), (6000, 10)] {
            let mem = MemEntries::default();
            let old = format!("old-{}", long_value(old_len));
            let new = format!("new-{}", long_value(new_len));
            set(&mem, "k", &old);
            let racing = WriterInBetween { mem: mem.clone(), next: new.clone().into_bytes(), done: Mutex::new(false) };
            let read = read_value(&racing, "k").unwrap_or_else(|e| panic!("{old_len}->{new_len}: {e}")).unwrap();
            let read = String::from_utf8(read.to_vec()).unwrap();
            assert!(read == old || read == new, "{old_len}->{new_len}: a mix");
        }
    }

    #[test]
    fn values_written_by_the_previous_format_still_read() {
        // integ 0.1 wrote `integ-chunked:v1:<entries>:<sha256>:<first part>` and `key#1`, `key#2`...
        let value = long_value(6000);
        let (first, rest) = value.as_bytes().split_at(MAX_ENTRY_BYTES - CHUNK_HEADER_MAX);
        let mem = MemEntries::default();
        mem.raw_set("k", &[format!("integ-chunked:v1:3:{}:", sha256_hex(value.as_bytes())).as_bytes(), first].concat());
        mem.raw_set("k#1", &rest[..MAX_ENTRY_BYTES]);
        mem.raw_set("k#2", &rest[MAX_ENTRY_BYTES..]);
        assert_eq!(get(&mem, "k").as_deref(), Some(value.as_str()));
        // Rewriting it leaves none of the old parts behind.
        let next = long_value(5000);
        set(&mem, "k", &next);
        assert_eq!(get(&mem, "k").as_deref(), Some(next.as_str()));
        assert!(!mem.names().iter().any(|n| n == "k#1" || n == "k#2"), "{:?}", mem.names());
        assert!(delete_value(&mem, "k").unwrap());
        assert!(mem.names().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_first_entry_parses_without_panicking(head in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_header("k", &head);
            let mut prefixed = CHUNK_PREFIX.as_bytes().to_vec();
            prefixed.extend_from_slice(&head);
            let _ = parse_header("k", &prefixed);
        }

        #[test]
        fn any_entries_read_without_panicking(
            head in "integ-(chunked:v[12]:)?[0-9a-f:]{0,90}.{0,20}",
            parts in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 1..50), 0..4),
        ) {
            let mem = MemEntries::default();
            mem.raw_set("k", head.as_bytes());
            if let Ok(Some(h)) = parse_header("k", head.as_bytes()) {
                for (i, part) in parts.iter().enumerate() {
                    mem.raw_set(&h.part_name("k", i + 1), part);
                }
            }
            let _ = read_value(&mem, "k");
            let _ = delete_value(&mem, "k");
        }

        #[test]
        fn any_value_round_trips(value in proptest::collection::vec(proptest::num::u8::ANY, 0..8000)) {
            let mem = MemEntries::default();
            write_value(&mem, "k", &value).unwrap();
            proptest::prop_assert_eq!(read_value(&mem, "k").unwrap().unwrap().to_vec(), value);
            proptest::prop_assert!(delete_value(&mem, "k").unwrap());
            proptest::prop_assert!(mem.names().is_empty());
        }
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
