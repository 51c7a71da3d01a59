//! The times of the records the file sink writes to its active file, kept as it writes them,
//! and left beside the file when it rotates ([`TimeBounds`]): the store
//! then skips the file for a question whose time range its records cannot be in.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::record::SecurityRecord;
use crate::time_bounds::TimeBounds;

/// The records of a file the sink wrote from its first byte: their count, first and last id,
/// smallest and largest time.
#[derive(Debug, Default)]
pub(super) struct BoundsTracker {
    records: u64,
    /// Kept as they are (copied, not formatted, per record).
    ids: Option<(uuid::Uuid, uuid::Uuid)>,
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl BoundsTracker {
    /// Notes records just written to the file.
    pub(super) fn note(&mut self, records: &[SecurityRecord]) {
        for record in records {
            let at = record.timestamp;
            self.range = Some(match self.range {
                None => (at, at),
                Some((min, max)) => (min.min(at), max.max(at)),
            });
            match &mut self.ids {
                None => self.ids = Some((record.id, record.id)),
                Some((_, last)) => *last = record.id,
            }
        }
        self.records += records.len() as u64;
    }

    /// The bounds of the file now at `path`, `size` bytes long; none for a file without
    /// records.
    pub(super) fn finish(self, path: &Path, size: u64) -> Option<TimeBounds> {
        let (first, last) = self.ids?;
        Some(TimeBounds::new(
            path,
            size,
            self.records,
            (first.to_string(), last.to_string()),
            self.range?,
        ))
    }
}
