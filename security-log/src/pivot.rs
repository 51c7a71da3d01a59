//! `stats --by K --every P` on a terminal: one row per period, one column per value of K (the
//! most frequent ones, the rest summed as "other"), instead of a long row per period and value.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::time::Duration;

use tracing_security_events::store::Bucket;

use crate::show::{clip, terminal_safe};

/// Columns of values shown; the others are summed in one "other" column.
const MAX_COLUMNS: usize = 8;
/// A value's column is at most this wide.
const MAX_WIDTH: usize = 24;

/// Prints the counts as periods by values.
pub(crate) fn print(
    out: &mut impl Write,
    buckets: &[Bucket],
    every: Option<Duration>,
) -> io::Result<()> {
    let value = |bucket: &Bucket| {
        bucket
            .key
            .first()
            .and_then(|(_, value)| value.clone())
            .unwrap_or_else(|| "-".to_owned())
    };
    let mut totals: HashMap<String, u64> = HashMap::new();
    for bucket in buckets {
        *totals.entry(value(bucket)).or_default() += bucket.count;
    }
    let mut columns: Vec<(String, u64)> = totals.into_iter().collect();
    columns.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other = columns.len() > MAX_COLUMNS;
    columns.truncate(if other { MAX_COLUMNS - 1 } else { MAX_COLUMNS });
    let index: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(n, (name, _))| (name.as_str(), n))
        .collect();
    let width = columns.len() + usize::from(other);

    let mut rows: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for bucket in buckets {
        let start = bucket.start.map_or(i64::MIN, |s| s.timestamp());
        let row = rows.entry(start).or_insert_with(|| vec![0; width]);
        let column = index
            .get(value(bucket).as_str())
            .copied()
            .unwrap_or(width - 1);
        row[column] += bucket.count;
    }

    let names: Vec<String> = columns
        .iter()
        .map(|(name, _)| clip(&terminal_safe(name), MAX_WIDTH))
        .chain(other.then(|| "other".to_owned()))
        .collect();
    let widths: Vec<usize> = names.iter().map(|n| n.chars().count().max(6)).collect();
    let daily = every.is_some_and(|e| e.as_secs() % 86_400 == 0);
    let period = if daily { 10 } else { 16 };
    write!(out, "{:<period$}", "PERIOD")?;
    for (name, width) in names.iter().zip(&widths) {
        write!(out, " {name:>width$}")?;
    }
    writeln!(out, " {:>8}", "TOTAL")?;
    for (start, counts) in rows {
        let label = chrono::DateTime::from_timestamp(start, 0)
            .map(|t| {
                if daily {
                    t.format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M").to_string()
                }
            })
            .unwrap_or_default();
        write!(out, "{label:<period$}")?;
        for (count, width) in counts.iter().zip(&widths) {
            write!(out, " {count:>width$}")?;
        }
        writeln!(out, " {:>8}", counts.iter().sum::<u64>())?;
    }
    Ok(())
}
