//! Retention classes: how long each record is kept, by the first retention rule its record
//! matches, else the table's age. A record's class is the days it is kept; it decides its
//! partition, and its hash chain (one per instance and class), so that dropping a class's old
//! partition removes the beginning of that chain and nothing from the others.

use std::time::Duration;

use chrono::Utc;

use crate::condition::Condition;
use crate::query::Query;
use crate::store::{days_of, Members};
use crate::SecurityEvent;

/// The log's own records that verification reads to tell retention from deletion: always kept
/// by the longest class.
const EVIDENCE: [SecurityEvent; 4] = [
    SecurityEvent::AuditRecordsRemoved,
    SecurityEvent::AuditFilesRemoved,
    SecurityEvent::AuditCheckpoint,
    SecurityEvent::AuditKeyRotated,
];

/// The rules, ready to classify records as they are written.
pub(crate) struct Classes {
    rules: Vec<(Condition, u32)>,
    /// The days of records no rule names; `None`: kept until removed by hand.
    rest: Option<u32>,
    members: Members,
}

impl Classes {
    pub(crate) fn new(rules: &[(Query, Duration)], rest: Option<Duration>) -> Self {
        let now = Utc::now();
        let mut members = Members::of_record();
        members.add("event");
        let rules: Vec<(Condition, u32)> = rules
            .iter()
            .map(|(query, age)| {
                let condition = Condition::new(query.clone(), now);
                condition.add_members(&mut members);
                (condition, days_of(*age))
            })
            .collect();
        Classes {
            rules,
            rest: rest.map(days_of),
            members,
        }
    }

    /// Every class these rules give, each once.
    pub(crate) fn known(&self) -> Vec<u32> {
        let mut days: Vec<u32> = self
            .rules
            .iter()
            .map(|(_, days)| *days)
            .chain(self.rest)
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The longest a record is kept (`None`: for ever), the class of the log's evidence.
    pub(crate) fn longest(&self) -> Option<u32> {
        self.rest?;
        self.known().into_iter().max()
    }

    /// The days of records no rule names.
    pub(crate) fn rest(&self) -> Option<u32> {
        self.rest
    }

    /// The class of the record written as `line`.
    pub(crate) fn of(&self, line: &[u8]) -> Option<u32> {
        if self.rules.is_empty() {
            return self.rest;
        }
        let parsed = std::str::from_utf8(line)
            .ok()
            .and_then(|text| self.members.parse(text));
        let Some(record) = parsed else {
            return self.rest;
        };
        let name = record.str_at(&["event", "name"]);
        if EVIDENCE.iter().any(|event| Some(event.as_str()) == name) {
            return self.longest();
        }
        self.rules
            .iter()
            .find(|(condition, _)| condition.may_match(line) && condition.matches(&record))
            .map_or(self.rest, |(_, days)| Some(*days))
    }
}

impl std::fmt::Debug for Classes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classes")
            .field("rules", &self.rules.len())
            .field("rest", &self.rest)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(event: &str, category: &str) -> Vec<u8> {
        format!(
            r#"{{"schema":1,"id":"x","seq":1,"timestamp":"2026-12-01T00:00:00Z","event":{{"name":"{event}","category":"{category}"}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn the_first_rule_a_record_matches_decides_and_evidence_is_kept_longest() {
        let day = Duration::from_secs(86_400);
        let classes = Classes::new(
            &[
                (Query::parse("category = authentication").unwrap(), 90 * day),
                (
                    Query::parse("event like \"user.role*\"").unwrap(),
                    730 * day,
                ),
            ],
            Some(365 * day),
        );
        assert_eq!(
            classes.of(&line("authentication.failed", "authentication")),
            Some(90)
        );
        assert_eq!(classes.of(&line("user.role_granted", "iam")), Some(730));
        assert_eq!(classes.of(&line("user.invited", "iam")), Some(365));
        assert_eq!(
            classes.of(&line("audit.records_removed", "audit")),
            Some(730)
        );
        assert_eq!(classes.of(b"not json"), Some(365));
        assert_eq!(classes.known(), [90, 365, 730]);
        // Without an age for the rest, it and the evidence are kept for ever.
        let forever = Classes::new(
            &[(Query::parse("category = authentication").unwrap(), day)],
            None,
        );
        assert_eq!(forever.of(&line("user.invited", "iam")), None);
        assert_eq!(forever.of(&line("audit.checkpoint", "audit")), None);
        assert_eq!(days_of(Duration::from_secs(1)), 1);
        assert_eq!(days_of(Duration::from_secs(86_401)), 2);
    }
}
