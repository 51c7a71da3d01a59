//! Counts grouped by fields and/or by time bucket.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::deadline::Deadline;
use super::request::Scope;
use crate::json_view::Json;
use crate::query::{Field, Query};

/// What to count: the records matching a query, grouped by fields and/or time buckets.
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub(crate) query: Query,
    pub(crate) scope: Scope,
    pub(crate) by: Vec<Field>,
    pub(crate) every: Option<Duration>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) deadline: Deadline,
}

impl Aggregate {
    /// Counts of the records matching `query`, in one group until fields or buckets are added.
    pub fn new(query: Query) -> Self {
        Aggregate {
            query,
            scope: Scope::All,
            by: Vec::new(),
            every: None,
            now: Utc::now(),
            deadline: Deadline::none(),
        }
    }

    /// Stop when `deadline` passes or is cancelled.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// Only what this reader may see.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Grouped by this field too (`event.name`; `user` groups by the actor's id, or name, or
    /// email).
    #[must_use]
    pub fn by(mut self, field: Field) -> Self {
        self.by.push(field);
        self
    }

    /// Grouped by time buckets this long too, counted from [`BUCKET_ORIGIN`]: hours and days
    /// start at UTC midnight, weeks on Monday (ISO weeks).
    #[must_use]
    pub fn every(mut self, bucket: Duration) -> Self {
        self.every = Some(bucket).filter(|b| b.as_secs() > 0);
        self
    }

    /// Count relative times from `now` instead of the current time.
    #[must_use]
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }
}

/// Where time buckets are counted from, in seconds of Unix time: Monday 1970-01-05 00:00 UTC,
/// so that weeks start on Monday as ISO weeks do (the epoch itself was a Thursday). Four whole
/// days after the epoch, it starts hours and days where the epoch would.
pub const BUCKET_ORIGIN: i64 = 4 * 86_400;

/// Reads a bucket length: `15m`, `1h`, `1d`, `1w` (or seconds, `30s`).
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::store::bucket_length;
///
/// assert_eq!(bucket_length("1h"), Ok(Duration::from_secs(3600)));
/// assert!(bucket_length("1y").is_err());
/// ```
pub fn bucket_length(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a bucket length (15m, 1h, 1d, 1w)");
    let (count, unit) = text.split_at(text.len().saturating_sub(1));
    let count: u64 = count.parse().ok().filter(|&c| c > 0).ok_or_else(bad)?;
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    count
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// One group's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The start of the time bucket, when grouped by time.
    pub start: Option<DateTime<Utc>>,
    /// The value of each grouping field, in the order asked (`None`: the record lacks it).
    pub key: Vec<(String, Option<String>)>,
    /// Records in the group.
    pub count: u64,
}

/// The counts, with the lines skipped while counting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregation {
    /// By time bucket (oldest first), then largest count first.
    pub buckets: Vec<Bucket>,
    /// Lines read that are not whole records, skipped.
    pub skipped_lines: u64,
}

/// Counts as they are gathered, one table per scanning thread, merged at the end.
///
/// A group is keyed by one string (the bucket, then each value length-prefixed), built in a
/// reused buffer and looked up by reference: a record of a group already seen allocates
/// nothing.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    groups: HashMap<String, u64>,
    key: String,
    /// What the raw path looks up in each line, worked out once: `schema`, `id`, `timestamp`,
    /// then the paths of each grouping field in turn.
    paths: Vec<Vec<String>>,
    /// How many of `paths` each grouping field has.
    field_paths: Vec<usize>,
}

/// The most paths the raw path looks up in one walk over a line (more: the line is parsed).
const RAW_PATHS: usize = 16;

impl Tally {
    pub(crate) fn add(&mut self, request: &Aggregate, record: &Json<'_>) {
        let at = if request.every.is_some() {
            match timestamp(record) {
                Some(at) => Some(at.timestamp()),
                None => return,
            }
        } else {
            None
        };
        let values: Vec<_> = request.by.iter().map(|f| group_value(f, record)).collect();
        self.count(request, at, values.into_iter());
    }

    /// Counts a record read without parsing it (see `raw`), its values found in one walk over
    /// its members: `false` when only parsing it can tell whether it is a record and its
    /// group.
    pub(crate) fn add_raw(&mut self, request: &Aggregate, line: &[u8]) -> bool {
        use super::raw::{found_text, lookup_each, Lookup};
        if self.paths.is_empty() {
            self.paths = ["schema", "id", "timestamp"]
                .iter()
                .map(|name| vec![(*name).to_owned()])
                .collect();
            for field in &request.by {
                let paths = field.paths();
                self.field_paths.push(paths.len());
                self.paths
                    .extend(paths.iter().map(|path| path.segments().to_vec()));
            }
        }
        let n = self.paths.len();
        if n > RAW_PATHS {
            return false;
        }
        let mut slices: [&[String]; RAW_PATHS] = [&[]; RAW_PATHS];
        for (slot, path) in slices.iter_mut().zip(&self.paths) {
            *slot = path;
        }
        let mut found = [Lookup::Absent; RAW_PATHS];
        lookup_each(line, &slices[..n], &mut found[..n]);
        // A record: one object (by its first and last characters) with a `schema` and a text
        // `id`.
        let trimmed = line.trim_ascii();
        if trimmed.first() != Some(&b'{')
            || trimmed.last() != Some(&b'}')
            || !matches!(found[0], Lookup::Found(_))
            || !matches!(found[1], Lookup::Found([b'"', ..]))
        {
            return false;
        }
        let at = if request.every.is_some() {
            match found_text(found[2]) {
                Ok(Some(text)) => match unix_seconds(&text) {
                    Some(at) => Some(at),
                    None => return false,
                },
                _ => return false,
            }
        } else {
            None
        };
        let mut values = Vec::with_capacity(request.by.len());
        let mut next = 3;
        for &count in &self.field_paths {
            let mut value = None;
            for &each in &found[next..next + count] {
                match found_text(each) {
                    Ok(Some(text)) => {
                        value = Some(text);
                        break;
                    }
                    Ok(None) => {}
                    Err(()) => return false,
                }
            }
            values.push(value);
            next += count;
        }
        self.count(request, at, values.into_iter());
        true
    }

    /// Adds one to the group of these values (and time).
    fn count<'v>(
        &mut self,
        request: &Aggregate,
        at: Option<i64>,
        values: impl Iterator<Item = Option<Cow<'v, str>>>,
    ) {
        use std::fmt::Write;
        self.key.clear();
        if let (Some(every), Some(at)) = (request.every, at) {
            let seconds = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
            let since_origin = at - BUCKET_ORIGIN;
            let _ = write!(
                self.key,
                "{};",
                since_origin.div_euclid(seconds) * seconds + BUCKET_ORIGIN
            );
        }
        for value in values {
            match value {
                Some(value) => {
                    let _ = write!(self.key, "{}:{value}", value.len());
                }
                None => self.key.push('-'),
            }
        }
        match self.groups.get_mut(self.key.as_str()) {
            Some(count) => *count += 1,
            None => {
                self.groups.insert(self.key.clone(), 1);
            }
        }
    }

    /// Whether `add_raw` can count for this request: every record, every tenant, groups by
    /// fields outside `fields` and `changes` (where keys may hold dots).
    pub(crate) fn can_count_raw(request: &Aggregate) -> bool {
        request.query.is_everything()
            && request.scope == Scope::All
            && request.by.iter().all(|field| {
                field
                    .paths()
                    .iter()
                    .all(|p| !matches!(p.segments()[0].as_str(), "fields" | "changes"))
            })
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (key, count) in other.groups {
            *self.groups.entry(key).or_default() += count;
        }
    }

    pub(crate) fn into_buckets(self, request: &Aggregate) -> Vec<Bucket> {
        let names: Vec<String> = request.by.iter().map(ToString::to_string).collect();
        let mut buckets: Vec<Bucket> = self
            .groups
            .into_iter()
            .map(|(key, count)| {
                let (start, values) = decode_key(&key, request.every.is_some(), names.len());
                Bucket {
                    start: start.and_then(|s| DateTime::from_timestamp(s, 0)),
                    key: names.iter().cloned().zip(values).collect(),
                    count,
                }
            })
            .collect();
        sort_buckets(&mut buckets);
        buckets
    }
}

/// By time bucket (oldest first), then largest count first, then by key: the order every store
/// gives.
pub(crate) fn sort_buckets(buckets: &mut [Bucket]) {
    buckets.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// The bucket and the values of a group's key.
fn decode_key(key: &str, timed: bool, fields: usize) -> (Option<i64>, Vec<Option<String>>) {
    let mut rest = key;
    let mut start = None;
    if timed {
        if let Some((bucket, after)) = rest.split_once(';') {
            start = bucket.parse().ok();
            rest = after;
        }
    }
    let mut values = Vec::with_capacity(fields);
    for _ in 0..fields {
        if let Some(after) = rest.strip_prefix('-') {
            values.push(None);
            rest = after;
        } else if let Some((len, after)) = rest.split_once(':') {
            let len: usize = len.parse().unwrap_or(0).min(after.len());
            values.push(Some(after[..len].to_owned()));
            rest = &after[len..];
        }
    }
    (start, values)
}

/// The Unix seconds of a timestamp as the log writes it (`2026-11-22T10:15:30.123456Z`), read
/// digit by digit (a time bucket per line, over a whole log, spent most of its time in the
/// general RFC 3339 parser); any other form goes to that parser.
fn unix_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        b.get(range)?.iter().try_fold(0_i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let shaped = b.len() == 27
        && (b[4], b[7], b[10], b[13], b[16], b[19], b[26])
            == (b'-', b'-', b'T', b':', b':', b'.', b'Z');
    if shaped {
        if let (Some(y), Some(m), Some(d), Some(h), Some(min), Some(s), Some(_)) = (
            digits(0..4),
            digits(5..7),
            digits(8..10),
            digits(11..13),
            digits(14..16),
            digits(17..19),
            digits(20..26),
        ) {
            // Checked by chrono, which also refuses 2026-02-30; the numbers fit their types.
            let at = chrono::NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
                .and_then(|date| date.and_hms_opt(h as u32, min as u32, s as u32));
            if let Some(at) = at {
                return Some(at.and_utc().timestamp());
            }
        }
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp())
}

fn timestamp(record: &Json<'_>) -> Option<DateTime<Utc>> {
    let Json::Object(object) = record else {
        return None;
    };
    match object.get("timestamp")? {
        Json::Str(text) => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

/// The value a record has for a grouping field: the first value found, as text.
#[doc(hidden)]
pub fn group_value<'r>(field: &Field, record: &'r Json<'_>) -> Option<Cow<'r, str>> {
    field.paths().iter().find_map(|path| {
        let mut found = None;
        crate::query::visit(record, path.segments(), &mut |value| {
            found = crate::query::text_of(value);
            found.is_some()
        });
        found
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_digit_by_digit_equal_the_rfc3339_parser() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut texts: Vec<String> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let seconds = (state % 8_000_000_000) as i64 - 1_000_000_000;
                let at =
                    DateTime::<Utc>::from_timestamp(seconds, (state % 1_000_000) as u32 * 1000)
                        .unwrap();
                at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            })
            .collect();
        texts.extend(
            [
                "2024-02-29T23:59:59.999999Z",
                "2026-02-30T00:00:00.000000Z",
                "2026-13-01T00:00:00.000000Z",
                "2026-01-01T24:00:00.000000Z",
                "2026-01-01T00:00:60.000000Z",
                "2026-01-01T00:00:00.00000xZ",
                "2026-01-01T00:00:00+02:00",
                "2026-01-01T00:00:00.1Z",
            ]
            .map(str::to_owned),
        );
        for text in &texts {
            let expected = DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp());
            assert_eq!(unix_seconds(text), expected, "{text}");
        }
    }
}
