//! A query ready to run over records as they are written (notification rules, detections,
//! retention rules): the texts a matching line must hold (so most lines are passed over
//! unparsed), the matcher, and the members of a record it reads.

use chrono::{DateTime, Utc};

use crate::json_view::Json;
use crate::query::{Matcher, Query};
use crate::store::{Members, Prefilter};

#[derive(Debug)]
pub(crate) struct Condition {
    query: Query,
    prefilter: Prefilter,
    matcher: Matcher,
}

impl Condition {
    /// `query`, its relative times counted from `now`.
    pub(crate) fn new(query: Query, now: DateTime<Utc>) -> Self {
        Condition {
            prefilter: Prefilter::of(&query),
            matcher: query.matcher(now),
            query,
        }
    }

    /// Whether a record written as `line` may match (and must be parsed to know).
    pub(crate) fn may_match(&self, line: &[u8]) -> bool {
        self.prefilter.may_match(line)
    }

    pub(crate) fn matches(&self, record: &Json<'_>) -> bool {
        self.matcher.matches(record)
    }

    /// Adds the top-level members of a record it reads.
    pub(crate) fn add_members(&self, members: &mut Members) {
        members.add_query(&self.query);
    }
}
