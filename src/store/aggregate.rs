//! Counts grouped by fields and/or by time bucket.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

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
        }
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

    /// Grouped by time buckets this long too (from the Unix epoch: hours, days start at UTC
    /// midnight).
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
#[derive(Debug, Default)]
pub(crate) struct Tally {
    groups: HashMap<(Option<i64>, Vec<Option<String>>), u64>,
}

impl Tally {
    pub(crate) fn add(&mut self, request: &Aggregate, record: &Json<'_>) {
        let bucket = request.every.and_then(|every| {
            let seconds = i64::try_from(every.as_secs()).ok()?;
            let at = timestamp(record)?.timestamp();
            Some(at.div_euclid(seconds) * seconds)
        });
        if request.every.is_some() && bucket.is_none() {
            return;
        }
        let key = request
            .by
            .iter()
            .map(|field| group_value(field, record))
            .collect();
        *self.groups.entry((bucket, key)).or_default() += 1;
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
            .map(|((start, values), count)| Bucket {
                start: start.and_then(|s| DateTime::from_timestamp(s, 0)),
                key: names.iter().cloned().zip(values).collect(),
                count,
            })
            .collect();
        buckets.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then(b.count.cmp(&a.count))
                .then_with(|| a.key.cmp(&b.key))
        });
        buckets
    }
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
fn group_value(field: &Field, record: &Json<'_>) -> Option<String> {
    field.paths().iter().find_map(|path| {
        let mut found = None;
        crate::query::visit(record, path.segments(), &mut |value| {
            found = crate::query::text_of(value).map(|t| t.into_owned());
            found.is_some()
        });
        found
    })
}
