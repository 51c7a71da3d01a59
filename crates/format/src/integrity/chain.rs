//! Sealing records into a hash chain, and taking a sealed line apart again.
//!
//! A sealed line is the record's JSON with one last member appended:
//! `"integrity":{"prev":"<64 hex>","hash":"<64 hex>"}`, at the top level for the native and ECS
//! forms and inside `unmapped` (the object that closes the line) for OCSF. `hash` is SHA-256 (or
//! HMAC-SHA256 under a key) of `prev`, a line feed, and the record's JSON exactly as written
//! *without* that member. Hashing the written bytes, not a re-serialisation, makes verification
//! independent of any JSON library's key order or number formatting.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The `prev` of the very first record of a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const PREFIX: &[u8] = br#""integrity":{"prev":""#;
const MIDDLE: &[u8] = br#"","hash":""#;
const END: &[u8] = br#""}"#;
const HEX_LEN: usize = 64;
/// The seal member, without the comma before it.
const SEAL_LEN: usize = PREFIX.len() + HEX_LEN + MIDDLE.len() + HEX_LEN + END.len();
/// The deepest object a seal goes in (OCSF's `unmapped`).
const MAX_DEPTH: usize = 2;

/// A hash as the chain writes it, 64 lowercase hex digits, kept by value: the file sink seals
/// every record after the previous one's hash without allocating for either.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ChainHash([u8; HEX_LEN]);

impl ChainHash {
    /// The `prev` of the very first record of a log ([`GENESIS`]).
    pub const GENESIS: ChainHash = ChainHash([b'0'; HEX_LEN]);

    /// `text`, if it is a hash as the chain writes it.
    pub fn parse(text: &str) -> Option<Self> {
        is_hex(text.as_bytes()).then(|| {
            let mut digits = [0; HEX_LEN];
            digits.copy_from_slice(text.as_bytes());
            ChainHash(digits)
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

impl std::fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How hashes are computed: plain SHA-256, or HMAC-SHA256 under a key so that someone who can
/// write the file still cannot rebuild the chain.
#[derive(Clone)]
pub enum ChainHasher {
    Sha256,
    Keyed(Hmac<Sha256>),
}

impl std::fmt::Debug for ChainHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChainHasher::Sha256 => "Sha256",
            ChainHasher::Keyed(_) => "HmacSha256(key)",
        })
    }
}

impl ChainHasher {
    pub fn new(key: Option<&[u8]>) -> Self {
        match key {
            Some(key) => ChainHasher::Keyed(
                Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size"),
            ),
            None => ChainHasher::Sha256,
        }
    }

    /// The hash of a record whose unsealed JSON is `record`, following `prev`.
    pub fn hash(&self, prev: &str, record: &[u8]) -> ChainHash {
        self.hash_after(prev.as_bytes(), record)
    }

    /// [`hash`](Self::hash), with `prev` as bytes (the file sink's tip, never re-checked).
    fn hash_after(&self, prev: &[u8], record: &[u8]) -> ChainHash {
        let digest = match self {
            ChainHasher::Sha256 => {
                let mut hasher = Sha256::new();
                hasher.update(prev);
                hasher.update(b"\n");
                hasher.update(record);
                hasher.finalize()
            }
            ChainHasher::Keyed(mac) => {
                let mut mac = mac.clone();
                mac.update(prev);
                mac.update(b"\n");
                mac.update(record);
                mac.finalize().into_bytes()
            }
        };
        let mut hash = ChainHash([0; HEX_LEN]);
        crate::hex::encode_into(&digest, &mut hash.0);
        hash
    }

    /// Appends `record` (one unsealed JSON object, no line feed) sealed after `prev`, and a line
    /// feed, to `out`; returns the record's hash. The seal is a member of the top-level object.
    pub fn seal(&self, prev: &ChainHash, record: &[u8], out: &mut Vec<u8>) -> ChainHash {
        self.seal_at(prev, record, 1, out)
    }

    /// [`seal`](Self::seal), with the seal a member of the object `depth` closing braces from
    /// the end (1: the top level; 2: OCSF's `unmapped`, the last member of the top level).
    pub fn seal_at(
        &self,
        prev: &ChainHash,
        record: &[u8],
        depth: usize,
        out: &mut Vec<u8>,
    ) -> ChainHash {
        let hash = self.hash_after(&prev.0, record);
        let depth = depth.clamp(1, MAX_DEPTH);
        let closing = record.iter().rev().take_while(|&&b| b == b'}').count();
        let depth = depth.min(closing.max(1));
        let body = &record[..record.len().saturating_sub(depth)];
        out.extend_from_slice(body);
        if !body.ends_with(b"{") {
            out.push(b',');
        }
        out.extend_from_slice(PREFIX);
        out.extend_from_slice(&prev.0);
        out.extend_from_slice(MIDDLE);
        out.extend_from_slice(&hash.0);
        out.extend_from_slice(END);
        out.extend(std::iter::repeat_n(b'}', depth));
        out.push(b'\n');
        hash
    }
}

/// A sealed line taken apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Sealed<'a> {
    /// The record as it was hashed.
    pub record: Vec<u8>,
    pub prev: &'a str,
    pub hash: &'a str,
}

fn is_hex(bytes: &[u8]) -> bool {
    bytes.len() == HEX_LEN && bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The `seq` of a record's JSON, sealed or not (the seal is one more member to skip), in any
/// form: `seq` (native), `event.sequence` (ECS), `metadata.sequence` (OCSF).
pub fn seq_of(record: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Sequence {
        sequence: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: Option<u64>,
        event: Option<Sequence>,
        metadata: Option<Sequence>,
    }
    let read = serde_json::from_slice::<Seq>(record).ok()?;
    read.seq
        .or(read.event.and_then(|event| event.sequence))
        .or(read.metadata.and_then(|metadata| metadata.sequence))
}

/// Splits a sealed line (without its line feed); `None` when it carries no seal.
pub fn unseal(line: &[u8]) -> Option<Sealed<'_>> {
    // The seal's own closing brace, then one per object it is nested in.
    let braces = line.iter().rev().take_while(|&&b| b == b'}').count();
    let depth = braces
        .checked_sub(1)
        .filter(|d| (1..=MAX_DEPTH).contains(d))?;
    let end = line.len() - depth;
    let at = end.checked_sub(SEAL_LEN)?;
    let seal = &line[at..end];
    let (prefix, rest) = seal.split_at(PREFIX.len());
    let (prev, rest) = rest.split_at(HEX_LEN);
    let (middle, rest) = rest.split_at(MIDDLE.len());
    let (hash, end_of_seal) = rest.split_at(HEX_LEN);
    if prefix != PREFIX || middle != MIDDLE || end_of_seal != END || !is_hex(prev) || !is_hex(hash)
    {
        return None;
    }
    let body = match line[..at].last() {
        Some(b',') => &line[..at - 1],
        Some(b'{') => &line[..at],
        _ => return None,
    };
    let mut record = Vec::with_capacity(body.len() + depth);
    record.extend_from_slice(body);
    record.extend(std::iter::repeat_n(b'}', depth));
    Some(Sealed {
        record,
        // Checked to be ASCII hex just above.
        prev: std::str::from_utf8(prev).ok()?,
        hash: std::str::from_utf8(hash).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_line_unseals_to_what_was_hashed() {
        let hasher = ChainHasher::new(None);
        let record = br#"{"schema":1,"seq":1}"#;
        let mut out = Vec::new();
        let hash = hasher.seal(&ChainHash::GENESIS, record, &mut out);
        assert!(out.ends_with(b"\"}}\n"));
        let line = &out[..out.len() - 1];
        let value: serde_json::Value = serde_json::from_slice(line).unwrap();
        assert_eq!(value["integrity"]["prev"], GENESIS);
        assert_eq!(value["integrity"]["hash"], hash.as_str());
        let sealed = unseal(line).unwrap();
        assert_eq!(sealed.record, record);
        assert_eq!(sealed.hash, hash.as_str());
        assert_eq!(hasher.hash(sealed.prev, &sealed.record), hash);
        assert_eq!(ChainHash::parse(sealed.hash), Some(hash));
        assert_eq!(ChainHash::GENESIS.as_str(), GENESIS);
    }

    #[test]
    fn a_seal_inside_the_last_object_unseals_to_what_was_hashed() {
        let hasher = ChainHasher::new(None);
        for record in [
            &br#"{"class_uid":1,"unmapped":{"a":1}}"#[..],
            br#"{"unmapped":{}}"#,
        ] {
            let mut out = Vec::new();
            let hash = hasher.seal_at(&ChainHash::GENESIS, record, 2, &mut out);
            let line = &out[..out.len() - 1];
            let value: serde_json::Value = serde_json::from_slice(line).unwrap();
            assert_eq!(value["unmapped"]["integrity"]["hash"], hash.as_str());
            let sealed = unseal(line).unwrap();
            assert_eq!(sealed.record, record);
            assert_eq!(hasher.hash(sealed.prev, &sealed.record), hash);
        }
        assert_eq!(seq_of(br#"{"metadata":{"sequence":7}}"#), Some(7));
        assert_eq!(
            seq_of(br#"{"@timestamp":"x","event":{"sequence":8}}"#),
            Some(8)
        );
        assert_eq!(
            seq_of(br#"{"schema":1,"seq":9,"event":{"name":"a"}}"#),
            Some(9)
        );
    }

    #[test]
    fn keyed_hashes_differ_from_plain_ones_and_depend_on_the_key() {
        let plain = ChainHasher::new(None).hash(GENESIS, b"{}");
        let keyed = ChainHasher::new(Some(b"key one")).hash(GENESIS, b"{}");
        let other = ChainHasher::new(Some(b"key two")).hash(GENESIS, b"{}");
        assert_ne!(plain, keyed);
        assert_ne!(keyed, other);
    }

    #[test]
    fn unsealed_or_damaged_lines_are_not_taken_for_sealed() {
        assert!(unseal(br#"{"schema":1}"#).is_none());
        let mut out = Vec::new();
        ChainHasher::new(None).seal(&ChainHash::GENESIS, b"{}", &mut out);
        let mut damaged = out[..out.len() - 1].to_vec();
        let at = damaged.len() - 5;
        damaged[at] = b'X';
        assert!(unseal(&damaged).is_none());
    }
}
