//! The exact times of a rotated file's records, kept beside it (`<file>.bounds`): written by
//! the file sink when it rotates a file it wrote from the start, and by `security-log index`
//! for any rotated file; read by the store, which skips a file whose records cannot be in a
//! question's time range. A file's rotation time does not bound its records' times (a record
//! stamped before a rotation can be written after it; a clock stepped back puts later times in
//! an earlier file); its records' own smallest and largest times do.
//!
//! Never trusted blindly: the bounds name the file, its size and its first and last record's
//! ids, and a reader uses them only while the file still has them.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// What `<file>.bounds` holds (one JSON object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBounds {
    /// The format's version: 1.
    pub version: u32,
    /// The log file's name.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its records.
    pub records: u64,
    /// Its first record's id.
    pub first_id: String,
    /// Its last record's id.
    pub last_id: String,
    /// The smallest `timestamp` of its records (RFC 3339, microseconds).
    pub min_time: String,
    /// The largest.
    pub max_time: String,
}

impl TimeBounds {
    /// Bounds of the file `path` of `size` bytes, holding `records` from `first_id` to
    /// `last_id` with times from `min` to `max`.
    pub fn new(
        path: &Path,
        size: u64,
        records: u64,
        (first_id, last_id): (String, String),
        (min, max): (DateTime<Utc>, DateTime<Utc>),
    ) -> Self {
        let text = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Micros, true);
        TimeBounds {
            version: 1,
            file: name_of(path),
            size,
            records,
            first_id,
            last_id,
            min_time: text(min),
            max_time: text(max),
        }
    }

    /// The smallest and largest times, when both read.
    pub fn range(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let read = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        read(&self.min_time).zip(read(&self.max_time))
    }

    /// Writes the bounds beside their file: to a new file, renamed into place.
    pub fn save(&self, file: &Path) -> io::Result<()> {
        let target = bounds_path(file);
        let temporary = target.with_extension("bounds.tmp");
        std::fs::write(&temporary, serde_json::to_vec(self)?)?;
        std::fs::rename(&temporary, &target)
    }
}

/// Where the bounds of `file` are kept.
pub fn bounds_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".bounds");
    PathBuf::from(name)
}

/// The file name of `path`.
pub fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
