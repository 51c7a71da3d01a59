//! The index of the active file, built from its lines as the sink writes them and left beside
//! the file when it rotates ([`log_index`](crate::log_index)): the store then reads only the
//! blocks a question's records can be in.

use std::path::Path;

use crate::log_index::{IndexBuilder, LogIndex};

/// The index of a file the sink wrote from its first byte, every line of it in order.
#[derive(Debug, Default)]
pub(super) struct IndexTracker {
    builder: IndexBuilder,
}

impl IndexTracker {
    /// Notes the lines of `bytes` (whole lines, each ending in a line feed) written at `start`
    /// in the file; `ends` are where each line ends in `bytes`, line feed included.
    pub(super) fn note(&mut self, start: u64, bytes: &[u8], ends: impl Iterator<Item = usize>) {
        let mut from = 0;
        for end in ends {
            let line = &bytes[from..end];
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            self.builder
                .add_line(start + from as u64, text, text.len() < line.len());
            from = end;
        }
    }

    /// The index of the file now at `path`, `size` bytes long; none when it cannot be made
    /// (see [`IndexBuilder::finish`]).
    pub(super) fn finish(self, path: &Path, size: u64) -> Option<LogIndex> {
        self.builder.finish(path, size)
    }
}
