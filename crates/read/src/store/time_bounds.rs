//! Reading and making the time bounds of rotated files ([`crate::time_bounds`], in the
//! format crate, says what they are).

use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::lines;
use crate::time_bounds::name_of;
pub use crate::time_bounds::{bounds_path, TimeBounds};

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
    let mut ids: Option<(String, String)> = None;
    let mut records = 0_u64;
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
        records += 1;
        match &mut ids {
            None => ids = Some((id.clone(), id)),
            Some((_, last)) => *last = id,
        }
        ControlFlow::Continue(())
    })?;
    let (Some(ids), Some(range), false) = (ids, range, unreadable) else {
        return Ok(None);
    };
    let bounds = TimeBounds::new(file, size, records, ids, range);
    bounds.save(file)?;
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
