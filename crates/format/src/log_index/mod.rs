//! The index of a rotated log file, kept beside it (`<file>.index`): the file's size, first
//! and last record and time bounds, and for each block of about 1 MiB of whole lines its byte
//! range, its records' smallest and largest times and a filter of the values of its indexed
//! fields ([`IndexedField`]: the actor's id, name and email, the tenant, the client's address,
//! the event's name and the request id). A question with a time range or a needle (`user =`,
//! `ip =`, `request.id =`, in a conjunction) reads only the blocks that can hold its records.
//!
//! Written by the file sink at rotation (`FileConfig::with_index`) and by `security-log index`
//! for files rotated before; both build it with [`IndexBuilder`] from the lines as written, so
//! they write the same bytes. Never trusted blindly: the index names its file, its size and its
//! first and last record ids, ends with a checksum of itself, and a reader that finds any of
//! them wrong reads the whole file.
//!
//! A file's rotation time does not bound its records' times (a record stamped before a
//! rotation can be written after it; a clock stepped back puts later times in an earlier
//! file); the records' own smallest and largest times do, in a file and in a block.

mod bloom;
mod builder;
mod keys;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use builder::IndexBuilder;
pub use keys::{address_key, read_line, time_of, IndexedField, LineFacts};

/// The first bytes of an index file; the last one is the format's version.
const MAGIC: &[u8; 8] = b"TSEIDX\0\x02";

/// What an index says of its file as a whole (JSON inside the index file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexHeader {
    /// The log file's name.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its lines.
    pub records: u64,
    /// Its first line's record id.
    pub first_id: String,
    /// Its last line's.
    pub last_id: String,
    /// The smallest time of its records (RFC 3339, microseconds), if any has one.
    pub min_time: Option<String>,
    /// The largest.
    pub max_time: Option<String>,
}

/// One block: whole lines from `start` to `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Where its first line starts.
    pub start: u64,
    /// Where the line after its last starts (or the file ends).
    pub end: u64,
    /// Its lines.
    pub records: u32,
    /// The smallest and largest time a time comparison can find in its lines, in microseconds
    /// since 1970; `None` when no line has one (no time range holds any of them).
    pub time: Option<(i64, i64)>,
    filter: Vec<u64>,
}

impl Block {
    /// Whether a line of the block may hold the key (see [`IndexedField::key_of_text`]).
    pub fn may_hold(&self, key: u128) -> bool {
        bloom::may_contain(&self.filter, key)
    }

    /// Whether the block may hold a record of the time range (microseconds, both ends
    /// included) and one of the keys of each of `wanted`.
    pub fn may_match(&self, range: (Option<i64>, Option<i64>), wanted: &[Vec<u128>]) -> bool {
        let in_range = match (range, self.time) {
            ((None, None), _) => true,
            (_, None) => false,
            ((since, until), Some((min, max))) => {
                since.is_none_or(|since| max >= since) && until.is_none_or(|until| min <= until)
            }
        };
        in_range
            && wanted
                .iter()
                .all(|keys| keys.iter().any(|&key| self.may_hold(key)))
    }
}

/// A rotated file's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogIndex {
    /// The file as a whole.
    pub header: IndexHeader,
    /// Its blocks, in order, covering the whole file.
    pub blocks: Vec<Block>,
}

impl LogIndex {
    /// The byte ranges of the blocks that may hold a record in the time range (microseconds,
    /// both ends included) with one of the keys of each of `wanted`, adjacent ones joined.
    pub fn ranges(
        &self,
        range: (Option<i64>, Option<i64>),
        wanted: &[Vec<u128>],
    ) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for block in self.blocks.iter().filter(|b| b.may_match(range, wanted)) {
            match ranges.last_mut() {
                Some((_, end)) if *end == block.start => *end = block.end,
                _ => ranges.push((block.start, block.end)),
            }
        }
        ranges
    }

    /// The index as it is kept: the magic, the header's JSON, the blocks, a CRC-32 of all
    /// before it (little-endian numbers).
    pub fn encode(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("plain data");
        let mut out = Vec::with_capacity(64 + header.len() + self.blocks.len() * 64);
        out.extend_from_slice(MAGIC);
        put_len(&mut out, header.len());
        out.extend_from_slice(&header);
        put_len(&mut out, self.blocks.len());
        for block in &self.blocks {
            out.extend_from_slice(&block.start.to_le_bytes());
            out.extend_from_slice(&block.end.to_le_bytes());
            out.extend_from_slice(&block.records.to_le_bytes());
            let (min, max) = block.time.unwrap_or((i64::MAX, i64::MIN));
            out.extend_from_slice(&min.to_le_bytes());
            out.extend_from_slice(&max.to_le_bytes());
            put_len(&mut out, block.filter.len());
            for word in &block.filter {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// The index in `bytes`, if they are one, whole and undamaged.
    pub fn decode(bytes: &[u8]) -> Option<LogIndex> {
        let mut blocks = Vec::new();
        let header = read_index(bytes, None, &mut |block| blocks.push(block))?;
        Some(LogIndex { header, blocks })
    }

    /// What the index kept beside `file` (`size` bytes long) says, read as it streams past:
    /// its header and the byte ranges of the blocks that may hold a record in the time range
    /// with one of the keys of each of `wanted` (as [`ranges`](Self::ranges) gives them).
    /// `None` when there is no index, or it is not whole and undamaged, or not of a file of
    /// that size. Whether it is still that file's is for the reader to check against the file
    /// (the header says).
    ///
    /// Memory: one block's filter at a time, no larger than its block's lines could need (a
    /// planted index of gigabytes is refused, not read into memory).
    pub fn select(
        file: &Path,
        size: u64,
        range: (Option<i64>, Option<i64>),
        wanted: &[Vec<u128>],
    ) -> Option<(IndexHeader, Vec<(u64, u64)>)> {
        let opened = std::fs::File::open(index_path(file)).ok()?;
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        let reader = std::io::BufReader::with_capacity(64 << 10, opened);
        let header = read_index(reader, Some(size), &mut |block| {
            if block.may_match(range, wanted) {
                match ranges.last_mut() {
                    Some((_, end)) if *end == block.start => *end = block.end,
                    _ => ranges.push((block.start, block.end)),
                }
            }
        })?;
        Some((header, ranges))
    }

    /// Writes the index beside its file: to a new file, readable by its owner only as the
    /// log is (the filters tell which values a block holds), renamed into place.
    pub fn save(&self, file: &Path) -> io::Result<()> {
        crate::log_files::replace_private(&index_path(file), &self.encode())
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

/// Reads an index from `input`, handing each block to `each` as it comes; its header when the
/// index is whole and undamaged (and of a file of `size` bytes, when given). What `each` was
/// handed before a damage is found is for the caller to drop.
fn read_index(
    input: impl std::io::Read,
    size: Option<u64>,
    each: &mut dyn FnMut(Block),
) -> Option<IndexHeader> {
    let mut input = Checked {
        inner: input,
        crc: crc32fast::Hasher::new(),
    };
    let mut magic = [0; 8];
    input.take(&mut magic)?;
    if &magic != MAGIC {
        return None;
    }
    let header_len = input.u32()? as usize;
    if header_len > 1 << 20 {
        return None;
    }
    let mut header = vec![0; header_len];
    input.take(&mut header)?;
    let header: IndexHeader = serde_json::from_slice(&header).ok()?;
    if size.is_some_and(|size| size != header.size) {
        return None;
    }
    let count = input.u32()?;
    let mut words: Vec<u8> = Vec::new();
    let mut at = 0;
    for _ in 0..count {
        let (start, end) = (input.u64()?, input.u64()?);
        let records = input.u32()?;
        #[allow(clippy::cast_possible_wrap, reason = "written from an i64")]
        let (min, max) = (input.u64()? as i64, input.u64()? as i64);
        let length = u64::from(input.u32()?);
        // Blocks cover the file from its start, in order, without gaps; a filter is no larger
        // than a key for every two bytes of its block needs.
        if start != at || end <= start || end > header.size || length > (end - start) * 12 / 128 + 1
        {
            return None;
        }
        at = end;
        words.resize(usize::try_from(length * 8).ok()?, 0);
        input.take(&mut words)?;
        each(Block {
            start,
            end,
            records,
            time: (min <= max).then_some((min, max)),
            filter: words
                .chunks_exact(8)
                .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
                .collect(),
        });
    }
    let computed = input.crc.clone().finalize();
    let mut crc = [0; 4];
    input.inner.read_exact(&mut crc).ok()?;
    let ended = matches!(input.inner.read(&mut [0; 1]), Ok(0));
    (ended && at == header.size && computed == u32::from_le_bytes(crc)).then_some(header)
}

/// An index being read, and the CRC-32 of what was read of it.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: std::io::Read> Checked<R> {
    fn take(&mut self, buf: &mut [u8]) -> Option<()> {
        self.inner.read_exact(buf).ok()?;
        self.crc.update(buf);
        Some(())
    }

    fn u64(&mut self) -> Option<u64> {
        let mut bytes = [0; 8];
        self.take(&mut bytes)?;
        Some(u64::from_le_bytes(bytes))
    }

    fn u32(&mut self) -> Option<u32> {
        let mut bytes = [0; 4];
        self.take(&mut bytes)?;
        Some(u32::from_le_bytes(bytes))
    }
}

/// Where the index of `file` is kept.
pub fn index_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".index");
    PathBuf::from(name)
}

/// The file name of `path`.
pub fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
