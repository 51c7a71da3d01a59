//! The exact times of a rotated file's records, kept beside it (`<file>.bounds`): the first
//! part of the index of issue 29. A file's name says when it was rotated, which does not bound
//! its records' times (a record stamped before a rotation can be written after it, and a clock
//! stepped back puts older times in newer files); its records' own smallest and largest times
//! do. A store skips a file whose bounds lie outside a question's time range.
//!
//! Never trusted blindly: the bounds name the file, its size and its first and last record's
//! ids, and are used only when the file still has them; otherwise the file is read.

use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lines;

/// What `<file>.bounds` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBounds {
    /// The format's version: 1.
    pub version: u32,
    /// The log file's name.
    pub file: String,
    /// Its size in bytes when the bounds were made.
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
    /// The smallest and largest times, when both read.
    pub fn range(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let read = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        read(&self.min_time).zip(read(&self.max_time))
    }
}

/// Where the bounds of `file` are kept.
pub fn bounds_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".bounds");
    PathBuf::from(name)
}

#[derive(Deserialize)]
struct Stamp {
    id: String,
    timestamp: String,
}

/// Reads every record of `file` and writes its bounds beside it (to a new file, renamed into
/// place); `None` when it holds no record whose time can be read.
pub fn write_bounds(file: &Path) -> io::Result<Option<TimeBounds>> {
    let opened = File::open(file)?;
    let size = opened.metadata()?.len();
    let mut bounds: Option<TimeBounds> = None;
    let mut range: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    let mut unreadable = false;
    lines::forward(&opened, 0, size, &mut |line| {
        if !line.whole {
            return ControlFlow::Break(());
        }
        let stamp = serde_json::from_slice::<Stamp>(line.bytes)
            .ok()
            .and_then(|stamp| {
                let at = DateTime::parse_from_rfc3339(&stamp.timestamp).ok()?;
                Some((stamp.id, at.with_timezone(&Utc)))
            });
        let Some((id, at)) = stamp else {
            // A line without a readable time: no bounds can be promised for this file.
            unreadable = true;
            return ControlFlow::Break(());
        };
        range = Some(match range {
            None => (at, at),
            Some((min, max)) => (min.min(at), max.max(at)),
        });
        match &mut bounds {
            None => {
                bounds = Some(TimeBounds {
                    version: 1,
                    file: name_of(file),
                    size,
                    records: 1,
                    first_id: id.clone(),
                    last_id: id,
                    min_time: String::new(),
                    max_time: String::new(),
                })
            }
            Some(bounds) => {
                bounds.records += 1;
                bounds.last_id = id;
            }
        }
        ControlFlow::Continue(())
    })?;
    let (Some(mut bounds), Some((min, max)), false) = (bounds, range, unreadable) else {
        return Ok(None);
    };
    let text = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    bounds.min_time = text(min);
    bounds.max_time = text(max);
    let target = bounds_path(file);
    let temporary = target.with_extension("bounds.tmp");
    std::fs::write(&temporary, serde_json::to_vec(&bounds)?)?;
    std::fs::rename(&temporary, &target)?;
    Ok(Some(bounds))
}

/// The bounds kept beside `path`, open as `file` (`len` bytes read), if they are still its own:
/// the same name and size, and the same first and last record.
pub(crate) fn valid_bounds(path: &Path, file: &File, len: u64) -> Option<TimeBounds> {
    let text = std::fs::read(bounds_path(path)).ok()?;
    let bounds: TimeBounds = serde_json::from_slice(&text).ok()?;
    if bounds.version != 1 || bounds.file != name_of(path) || bounds.size != len {
        return None;
    }
    bounds.range()?;
    let (first, last) = end_ids(file, len)?;
    (first == bounds.first_id && last == bounds.last_id).then_some(bounds)
}

/// The ids of the first and last lines of `file`.
fn end_ids(file: &File, len: u64) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let id_of = |bytes: &[u8]| serde_json::from_slice::<Id>(bytes).ok().map(|r| r.id);
    let mut first = None;
    lines::forward(file, 0, len, &mut |line| {
        first = id_of(line.bytes);
        ControlFlow::Break(())
    })
    .ok()?;
    let mut last = None;
    lines::backward(file, len, &mut |line| {
        last = id_of(line.bytes);
        ControlFlow::Break(())
    })
    .ok()?;
    first.zip(last)
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
