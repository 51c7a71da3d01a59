//! Threshold detection: at least N records matching a condition, of one key, within a window.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{duration_text, record_time, tenant_key, Detector, Finding};
use crate::condition::Condition;
use crate::event::{Catalog, EventInfo};
use crate::json_view::Json;
use crate::query::{Field, Query};
use crate::store::Members;
use crate::value::FieldValue;
use crate::SecurityEvent;

/// Hits a threshold detection keeps in all its groups, at most: the number of groups it holds is
/// this divided by its count (from 16 to 10,000 groups).
pub(crate) const THRESHOLD_HITS: usize = 100_000;
/// The largest count a threshold may ask for.
const MAX_COUNT: u32 = 10_000;

/// At least `count` records matching `condition`, with one value of `group_by`, within
/// `window`: writes one record (by default `authentication.failed_max`) with `fields.count`,
/// `fields.window`, `fields.first_id`, `fields.last_id` (the first and last record counted),
/// `fields.key` and `fields.detection`, and the actor, tenant and client of the last record.
/// It then stays quiet for that key for one window, so a long attack gives one record per
/// window, not one per attempt.
///
/// Windows follow the records' timestamps, so a log read again gives the same records.
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::notify::Threshold;
/// use tracing_security_events::query::{Field, Query};
///
/// // OWASP's authn_login_fail_max: 10 failed sign-ins from one address within 5 minutes.
/// let brute_force = Threshold::new(
///     "brute force",
///     Query::parse("event = authentication.failed")?,
///     Field::parse("client.ip")?,
///     10,
///     Duration::from_secs(300),
/// );
/// # let _ = brute_force;
/// # Ok::<(), tracing_security_events::query::QueryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Threshold {
    pub(crate) name: String,
    condition: Query,
    group_by: Field,
    count: u32,
    window: Duration,
    writes: &'static EventInfo,
}

impl Threshold {
    /// A detection named `name` (it appears in `fields.detection`).
    pub fn new(
        name: impl Into<String>,
        condition: Query,
        group_by: Field,
        count: u32,
        window: Duration,
    ) -> Self {
        Threshold {
            name: name.into(),
            condition,
            group_by,
            count,
            window,
            writes: SecurityEvent::LoginFailedMax.info(),
        }
    }

    /// The event of the record it writes (`authentication.failed_max` by default).
    #[must_use]
    pub fn writes(mut self, event: impl Catalog) -> Self {
        self.writes = event.info();
        self
    }

    /// The setting that cannot work and why, if one cannot.
    pub(crate) fn problem(&self) -> Option<(&'static str, &'static str)> {
        if !(1..=MAX_COUNT).contains(&self.count) {
            Some(("count", "must be from 1 to 10000"))
        } else if self.window.is_zero() {
            Some(("window", "must be longer than zero"))
        } else {
            None
        }
    }

    /// The running state; the settings are checked ([`problem`](Self::problem)).
    pub(crate) fn start(self, now: DateTime<Utc>) -> Running {
        let groups = (THRESHOLD_HITS / self.count.max(1) as usize).clamp(16, 10_000);
        Running {
            condition: Condition::new(self.condition.clone(), now),
            window: chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX),
            groups: quick_cache::unsync::Cache::new(groups),
            spec: self,
        }
    }
}

/// One key's recent hits, oldest first, and when it may fire again.
#[derive(Debug, Clone, Default)]
struct Group {
    hits: VecDeque<(DateTime<Utc>, String)>,
    quiet_until: Option<DateTime<Utc>>,
}

/// A threshold detection at work.
pub(crate) struct Running {
    spec: Threshold,
    condition: Condition,
    window: chrono::Duration,
    groups: quick_cache::unsync::Cache<String, Group>,
}

impl Detector for Running {
    fn condition(&self) -> &Condition {
        &self.condition
    }

    fn writes(&self) -> &'static EventInfo {
        self.spec.writes
    }

    fn add_own_members(&self, members: &mut Members) {
        members.add_field(&self.spec.group_by);
    }

    fn memory(&self) -> Duration {
        self.spec.window
    }

    fn detect(&mut self, record: &Json<'_>, now: DateTime<Utc>) -> Option<Finding> {
        // A record without the key (a failure without an address) belongs to no group.
        let value = crate::store::group_value(&self.spec.group_by, record)?;
        let time = record_time(record).unwrap_or(now);
        let id = record.str_at(&["id"]).unwrap_or_default().to_owned();
        let key = tenant_key(record, &value);
        let Ok(Some(mut group)) = self
            .groups
            .get_mut_or_insert_with(&key, || Ok::<_, Infallible>(Group::default()))
        else {
            return None;
        };
        // Kept in time order: a fleet's instances deliver their rows a little apart.
        let place = group.hits.partition_point(|(at, _)| *at <= time);
        group.hits.insert(place, (time, id));
        let newest = group.hits.back().map_or(time, |(at, _)| *at);
        while group.hits.len() > self.spec.count as usize
            || group
                .hits
                .front()
                .is_some_and(|(at, _)| newest.signed_duration_since(*at) >= self.window)
        {
            group.hits.pop_front();
        }
        let quiet = group.quiet_until.is_some_and(|until| newest < until);
        if quiet || group.hits.len() < self.spec.count as usize {
            return None;
        }
        let quiet_until = newest + self.window;
        group.quiet_until = Some(quiet_until);
        let (first_at, first_id) = group.hits.front().cloned().unwrap_or_default();
        let (last_at, last_id) = group.hits.back().cloned().unwrap_or_default();
        let count = group.hits.len() as u64;
        drop(group);
        let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        Some(Finding {
            detection: self.spec.name.clone(),
            writes: self.spec.writes,
            key,
            first_at,
            last_at,
            quiet_until,
            fields: vec![
                ("detection", FieldValue::Str(self.spec.name.clone())),
                ("group_by", FieldValue::Str(self.spec.group_by.to_string())),
                ("key", FieldValue::Str(value.into_owned())),
                ("count", FieldValue::U64(count)),
                ("window", FieldValue::Str(duration_text(self.spec.window))),
                ("first_id", FieldValue::Str(first_id)),
                ("last_id", FieldValue::Str(last_id)),
                ("first_at", FieldValue::Str(at(first_at))),
                ("last_at", FieldValue::Str(at(last_at))),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(seconds: i64, ip: &str, tenant: &str) -> String {
        let at = DateTime::from_timestamp(1_764_000_000 + seconds, 0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        format!(
            r#"{{"schema":1,"id":"r{seconds}","timestamp":"{at}","event":{{"name":"authentication.failed"}},"tenant":{{"id":"{tenant}"}},"client":{{"ip":"{ip}"}}}}"#
        )
    }

    fn detector(count: u32) -> Running {
        Threshold::new(
            "failures",
            Query::parse("event = authentication.failed").unwrap(),
            Field::parse("ip").unwrap(),
            count,
            Duration::from_secs(60),
        )
        .start(Utc::now())
    }

    /// The seconds at which `lines` made the detector fire.
    fn fired(detector: &mut Running, lines: &[(i64, String)]) -> Vec<i64> {
        lines
            .iter()
            .filter(|(_, line)| {
                let record: Json<'_> = serde_json::from_str(line).unwrap();
                detector.observe(&record, Utc::now()).is_some()
            })
            .map(|(at, _)| *at)
            .collect()
    }

    #[test]
    fn fires_once_per_window_at_the_nth_record_within_it() {
        let mut d = detector(3);
        let at = |s: i64| (s, failure(s, "203.0.113.7", "acme"));
        // 0, 70, 80: never three within 60 s; 85 makes three (70, 80, 85); quiet until 145;
        // then 140, 150, 151 are three within a minute again.
        let lines: Vec<_> = [0, 70, 80, 85, 86, 90, 140, 150, 151, 152]
            .into_iter()
            .map(at)
            .collect();
        assert_eq!(fired(&mut d, &lines), [85, 151]);
    }

    #[test]
    fn keys_and_tenants_count_apart_and_memory_is_bounded() {
        let mut d = detector(2);
        let lines = [
            (1, failure(1, "203.0.113.7", "acme")),
            (2, failure(2, "203.0.113.7", "globex")),
            (3, failure(3, "198.51.100.1", "acme")),
            (4, failure(4, "203.0.113.7", "acme")),
        ];
        assert_eq!(fired(&mut d, &lines), [4], "only acme's 203.0.113.7 twice");
        // A count of 10,000 holds few groups: 100,000 hits in all.
        let big = detector(10_000);
        assert!(big.groups.capacity() <= 16 * 2);
        assert!(super::super::Detection::from(Threshold::new(
            "x",
            Query::new(),
            Field::User,
            0,
            Duration::from_secs(1)
        ))
        .start(Utc::now())
        .is_err());
    }
}
