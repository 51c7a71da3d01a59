//! Making the index of a rotated file ([`crate::log_index`], in the format crate, says what it
//! is), checking one still belongs to its file, and what a question asks of it.

use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::lines;
use crate::log_index::{address_key, name_of, IndexBuilder, IndexedField};
pub use crate::log_index::{index_path, LogIndex};
use crate::query::{Comparison, Expr, Operand, Operator, Query, Test};

/// Reads every line of `file` and writes its index beside it (to a new file, renamed into
/// place); `None` (and nothing written) when its first or last line has no record id.
pub fn write_index(file: &Path) -> io::Result<Option<LogIndex>> {
    let opened = File::open(file)?;
    let size = opened.metadata()?.len();
    let mut builder = IndexBuilder::new();
    lines::forward(&opened, 0, size, &mut |line| {
        builder.add_line(line.start, line.bytes, line.whole);
        ControlFlow::Continue(())
    })?;
    let Some(index) = builder.finish(file, size) else {
        return Ok(None);
    };
    index.save(file)?;
    Ok(Some(index))
}

/// The ranges of `path` (open as `file`, `len` bytes read) that may hold records in the time
/// range with one of the keys of each of `wanted`, when an index is kept beside it and is still its own: the same name and size,
/// and the same first and last record.
pub(crate) fn indexed_ranges(
    path: &Path,
    file: &File,
    len: u64,
    range: (Option<i64>, Option<i64>),
    wanted: &[Vec<u128>],
) -> Option<Vec<(u64, u64)>> {
    let (header, ranges) = LogIndex::select(path, len, range, wanted)?;
    if header.file != name_of(path) {
        return None;
    }
    let (first, last) = end_ids(file, len)?;
    (first == header.first_id && last == header.last_id).then_some(ranges)
}

/// The ids of the first and last lines of `file`.
fn end_ids(file: &File, len: u64) -> Option<(String, String)> {
    let mut first = None;
    lines::forward(file, 0, len, &mut |line| {
        first = record_id(line.bytes);
        ControlFlow::Break(())
    })
    .ok()?;
    let mut last = None;
    lines::backward(file, 0, len, &mut |line| {
        last = record_id(line.bytes);
        ControlFlow::Break(())
    })
    .ok()?;
    first.zip(last)
}

/// The `id` of the record on `line`, when it reads as one.
pub(crate) fn record_id(line: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_slice::<Id>(line)
        .ok()
        .map(|record| record.id)
}

/// What a question asks that an index can answer: a time range (microseconds, both ends
/// included) and keys a matching record holds (one of each list).
#[derive(Debug, Default)]
pub(crate) struct IndexQuestion {
    pub(crate) range: (Option<i64>, Option<i64>),
    pub(crate) wanted: Vec<Vec<u128>>,
}

impl IndexQuestion {
    /// What `query`, run at `now`, asks of an index.
    pub(crate) fn of(query: &Query, now: DateTime<Utc>) -> IndexQuestion {
        // A record at `t` matches `time >= since` only if `t >= since`: in whole microseconds,
        // rounded up; and `time <= until` rounded down.
        let since = query
            .earliest(now)
            .map(|at| at.timestamp_micros() + i64::from(at.timestamp_subsec_nanos() % 1000 != 0));
        let until = query.latest(now).map(|at| at.timestamp_micros());
        IndexQuestion {
            range: (since, until),
            wanted: wanted(&query.expr),
        }
    }

    /// Whether an index can spare any reading for this question.
    pub(crate) fn asks(&self) -> bool {
        self.range != (None, None) || !self.wanted.is_empty()
    }
}

/// The keys `expr` requires of a matching record: every list holds one it has.
fn wanted(expr: &Expr) -> Vec<Vec<u128>> {
    match expr {
        Expr::And(items) => items.iter().flat_map(wanted).collect(),
        Expr::Or(items) => {
            let mut any = Vec::new();
            for item in items {
                match wanted(item).into_iter().next() {
                    Some(keys) => any.extend(keys),
                    None => return Vec::new(),
                }
            }
            vec![any]
        }
        Expr::Compare(comparison) => keys_of(comparison).into_iter().collect(),
        Expr::All | Expr::Not(_) => Vec::new(),
    }
}

/// The keys one of which a record matching `comparison` holds, when it is an equality on
/// indexed fields.
fn keys_of(Comparison { field, test }: &Comparison) -> Option<Vec<u128>> {
    let fields: Vec<IndexedField> = field
        .paths()
        .iter()
        .map(|path| IndexedField::at(path.segments()))
        .collect::<Option<_>>()?;
    let values: &[Operand] = match test {
        Test::Compare(Operator::Eq, operand) => std::slice::from_ref(operand),
        Test::In {
            negated: false,
            values,
        } => values,
        _ => return None,
    };
    let mut keys = Vec::new();
    for value in values {
        for &field in &fields {
            keys.push(match (value, field) {
                // Compared as addresses: the key of the address, whatever the text's form.
                (Operand::Address(ip), IndexedField::ClientAddress) => address_key(*ip),
                // Compared as text: the text's key (for the address field, only when the text
                // reads as an address, which every line holding that text then has a key of).
                (Operand::Text(text), field) => field.key_of_text(text)?,
                _ => return None,
            });
        }
    }
    Some(keys)
}
