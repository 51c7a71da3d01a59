//! Retention by kind, as readers see it: rules (a query and the days its records are kept, the
//! first rule a record matches deciding) and the days of the rest.
//!
//! A file holds every kind in one hash chain, and a record cannot leave the middle of a chain
//! without breaking the proof of every record after it. So the file sink keeps whole files for
//! the longest rule (removing a file whole, recorded by `audit.files_removed`), leaves its
//! rules beside the log (`<active file>.retention`), and the file store hides what is past its
//! kind's age: every answer is as if those records were gone, and the chain still verifies.
//! The PostgreSQL table removes them (a chain per kind there, see the sink's documentation).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::query::{Query, TimeSpec, TimeUnit};

/// The days `age` stands for: whole days, rounded up, at least one.
pub fn days_of(age: Duration) -> u32 {
    u32::try_from(age.as_secs().div_ceil(86_400))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The rules, as kept beside a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRules {
    rules: Vec<Kept>,
    /// The days of records no rule names; `None`: kept as long as the files are.
    rest_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kept {
    when: String,
    days: u32,
}

/// The largest rules file read: its rules are a few queries.
const MAX_RULES_FILE: u64 = 1 << 20;

impl RetentionRules {
    /// `rules` in order (the first a record matches decides), and the age of the rest.
    pub fn new(rules: &[(Query, Duration)], rest: Option<Duration>) -> Self {
        RetentionRules {
            rules: rules
                .iter()
                .map(|(query, age)| Kept {
                    when: query.to_string(),
                    days: days_of(*age),
                })
                .collect(),
            rest_days: rest.map(days_of),
        }
    }

    /// The longest any record is kept, when every kind has an age.
    pub fn longest(&self) -> Option<Duration> {
        let rest = self.rest_days?;
        let days = self.rules.iter().map(|k| k.days).chain([rest]).max()?;
        Some(Duration::from_secs(u64::from(days) * 86_400))
    }

    /// The records past their kind's age, relative to the time a query runs.
    pub fn expired(&self) -> Result<Query, crate::query::QueryError> {
        let older_than = |days: u32| Query::new().until(TimeSpec::Ago(days, TimeUnit::Days));
        let mut earlier: Vec<Query> = Vec::new();
        let mut expired: Option<Query> = None;
        let mut add = |part: Query| {
            expired = Some(match expired.take() {
                Some(so_far) => so_far.or(part),
                None => part,
            });
        };
        for kept in &self.rules {
            let rule = Query::parse(&kept.when)?;
            let mut part = rule.clone().and(older_than(kept.days));
            for before in &earlier {
                part = part.and(!before.clone());
            }
            add(part);
            earlier.push(rule);
        }
        if let Some(days) = self.rest_days {
            let mut part = older_than(days);
            for rule in &earlier {
                part = part.and(!rule.clone());
            }
            add(part);
        }
        Ok(expired.unwrap_or_else(|| !Query::new()))
    }

    /// Where a log whose active file is `active` keeps its rules.
    pub fn path_beside(active: &Path) -> PathBuf {
        let mut name = active.as_os_str().to_owned();
        name.push(".retention");
        PathBuf::from(name)
    }

    /// Writes the rules beside the log (readable by the log's owner only), whole or not at all.
    pub fn save_beside(&self, active: &Path) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        crate::log_files::replace_private(&Self::path_beside(active), &text)
    }

    /// The rules kept beside the log whose active file is `active`, if any.
    pub fn load_beside(active: &Path) -> io::Result<Option<Self>> {
        let path = Self::path_beside(active);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut text = Vec::new();
        io::Read::read_to_end(&mut io::Read::take(file, MAX_RULES_FILE), &mut text)?;
        let rules: RetentionRules = serde_json::from_slice(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not retention rules ({e})", path.display()),
            )
        })?;
        rules.expired().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: a rule does not parse ({e})", path.display()),
            )
        })?;
        Ok(Some(rules))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn record(event: &str, category: &str, days_ago: i64, now: DateTime<Utc>) -> serde_json::Value {
        let at = (now - chrono::Duration::days(days_ago)).to_rfc3339();
        serde_json::json!({"schema": 1, "id": "x", "timestamp": at,
            "event": {"name": event, "category": category}})
    }

    #[test]
    fn each_kind_expires_at_its_own_age_the_first_rule_deciding() {
        let day = Duration::from_secs(86_400);
        let rules = RetentionRules::new(
            &[
                (Query::parse("category = authentication").unwrap(), 90 * day),
                (
                    Query::parse("event like \"user.role*\"").unwrap(),
                    730 * day,
                ),
            ],
            Some(365 * day),
        );
        assert_eq!(rules.longest(), Some(730 * day));
        let now = Utc::now();
        let matcher = rules.expired().unwrap().matcher(now);
        let expired = |event: &str, category: &str, days: i64| {
            let text = record(event, category, days, now).to_string();
            let json: crate::json_view::Json<'_> = serde_json::from_str(&text).unwrap();
            matcher.matches(&json)
        };
        assert!(!expired("authentication.failed", "authentication", 89));
        assert!(expired("authentication.failed", "authentication", 91));
        assert!(!expired("user.role_changed", "user", 400));
        assert!(expired("user.role_changed", "user", 731));
        assert!(!expired("user.invited", "user", 300));
        assert!(expired("user.invited", "user", 366));
        // Saved and read back the same; a damaged file is refused.
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("security.jsonl");
        assert_eq!(RetentionRules::load_beside(&active).unwrap(), None);
        rules.save_beside(&active).unwrap();
        assert_eq!(RetentionRules::load_beside(&active).unwrap(), Some(rules));
        std::fs::write(
            RetentionRules::path_beside(&active),
            "{\"rules\":[{\"when\":\"evnt = x\",\"days\":1}],\"rest_days\":null}",
        )
        .unwrap();
        assert!(RetentionRules::load_beside(&active).is_err());
    }
}
