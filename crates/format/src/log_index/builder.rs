//! [`IndexBuilder`]: the index of a file, built from its lines in order.

use std::path::Path;

use chrono::{DateTime, SecondsFormat};

use super::keys::{read_line, LineFacts};
use super::{bloom, name_of, Block, IndexHeader, LogIndex};

/// A block is closed at the first line end past this many bytes.
const BLOCK_BYTES: u64 = 1 << 20;

/// The index of a file being read or written, line by line from its first byte.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    facts: LineFacts,
    blocks: Vec<Block>,
    /// The block being filled: where it starts and ends, its lines and times (its keys are
    /// in `facts.keys`).
    open: (u64, u64, u32, Option<(i64, i64)>),
    records: u64,
    /// The first line's id (set when the first line is added).
    first_id: Option<String>,
    last_id: Option<String>,
    time: Option<(i64, i64)>,
}

impl IndexBuilder {
    /// An index of no line yet.
    pub fn new() -> Self {
        IndexBuilder::default()
    }

    /// Adds the line that starts at byte `start` (`line` without its line feed; `whole` when
    /// it has one).
    pub fn add_line(&mut self, start: u64, line: &[u8], whole: bool) {
        if self.open.2 == 0 {
            self.open.0 = start;
        }
        read_line(line, &mut self.facts);
        let time = self.facts.time;
        let widen = |range: &mut Option<(i64, i64)>| {
            if let Some((low, high)) = time {
                *range = Some(range.map_or((low, high), |(a, b)| (a.min(low), b.max(high))));
            }
        };
        widen(&mut self.open.3);
        widen(&mut self.time);
        self.open.1 = start + line.len() as u64 + u64::from(whole);
        self.open.2 += 1;
        self.records += 1;
        let id = self.facts.has_id.then_some(&self.facts.id);
        if self.records == 1 {
            self.first_id = id.cloned();
        }
        match (id, &mut self.last_id) {
            (Some(id), Some(last)) => last.clone_from(id),
            (id, last) => *last = id.cloned(),
        }
        if self.open.1 - self.open.0 >= BLOCK_BYTES {
            self.close_block();
        }
    }

    fn close_block(&mut self) {
        let (start, end, records, time) = std::mem::take(&mut self.open);
        if records == 0 {
            return;
        }
        let filter = bloom::build(&mut self.facts.keys);
        self.facts.keys.clear();
        self.blocks.push(Block {
            start,
            end,
            records,
            time,
            filter,
        });
    }

    /// The index of `file` (`size` bytes, every line of which was added); none when its first
    /// or last line has no record id, by which a reader tells the index is its file's.
    pub fn finish(mut self, file: &Path, size: u64) -> Option<LogIndex> {
        self.close_block();
        let first_id = self.first_id?;
        let last_id = self.last_id?;
        if self.blocks.last().map(|b| b.end) != Some(size) {
            return None;
        }
        let text = |micros: i64| {
            DateTime::from_timestamp_micros(micros)
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true))
        };
        Some(LogIndex {
            header: IndexHeader {
                file: name_of(file),
                size,
                records: self.records,
                first_id,
                last_id,
                min_time: self.time.and_then(|(min, _)| text(min)),
                max_time: self.time.and_then(|(_, max)| text(max)),
            },
            blocks: self.blocks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_file_and_survive_encoding() {
        let mut text = String::new();
        for n in 0..6_000 {
            text.push_str(&format!(
                "{{\"schema\":1,\"id\":\"r{n}\",\"timestamp\":\"2026-11-{:02}T10:00:00.000000Z\",\"actor\":{{\"id\":\"user-{n}\"}},\"message\":\"{}\"}}\n",
                1 + n / 1000,
                "x".repeat(400)
            ));
        }
        let mut builder = IndexBuilder::new();
        let mut start = 0;
        for line in text.split_terminator('\n') {
            builder.add_line(start, line.as_bytes(), true);
            start += line.len() as u64 + 1;
        }
        let index = builder
            .finish(Path::new("/x/log.jsonl"), text.len() as u64)
            .unwrap();
        assert_eq!(index.header.records, 6_000);
        assert_eq!(
            (
                index.header.first_id.as_str(),
                index.header.last_id.as_str()
            ),
            ("r0", "r5999")
        );
        assert!(index.blocks.len() >= 2);
        assert_eq!(
            index
                .blocks
                .iter()
                .map(|b| u64::from(b.records))
                .sum::<u64>(),
            6_000
        );
        let decoded = LogIndex::decode(&index.encode()).unwrap();
        assert_eq!(decoded, index);
        let key = super::super::IndexedField::ActorId
            .key_of_text("user-4321")
            .unwrap();
        let ranges = index.ranges((None, None), &[vec![key]]);
        let holding: Vec<_> = ranges
            .iter()
            .filter(|(from, to)| text[*from as usize..*to as usize].contains("\"user-4321\""))
            .collect();
        assert_eq!(holding.len(), 1);
        assert!(ranges.len() <= 2, "{ranges:?}");
        // A damaged byte anywhere: not an index.
        let mut bytes = index.encode();
        for at in [0, 20, bytes.len() / 2, bytes.len() - 1] {
            bytes[at] ^= 1;
            assert!(LogIndex::decode(&bytes).is_none());
            bytes[at] ^= 1;
        }
        assert!(LogIndex::decode(&bytes[..bytes.len() - 9]).is_none());
        // A filter claiming 32 GiB: refused before any is read or kept.
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let first_filter_len = 8 + 4 + header_len + 4 + 8 + 8 + 4 + 8 + 8;
        bytes[first_filter_len..first_filter_len + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LogIndex::decode(&bytes).is_none());
    }
}
