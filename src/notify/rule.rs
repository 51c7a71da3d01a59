//! Notification rules: a condition in the query language, a severity, a throttle per group key;
//! evaluated over records as written.

use chrono::{DateTime, Utc};

use super::throttle::{Throttle, Throttled, Verdict};
use super::NotifySeverity;
use crate::condition::Condition;
use crate::json_view::Json;
use crate::query::{Field, Query};
use crate::store::Members;

/// Groups a rule's throttle keeps at most (per rule), whatever the number of keys seen.
pub const THROTTLE_GROUPS: usize = 10_000;

/// A notification rule.
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::notify::{NotifySeverity, Rule, Throttle};
/// use tracing_security_events::query::{Field, Query};
///
/// let rule = Rule::new(
///     "admin role granted",
///     Query::parse("event = user.role_changed and changes.roles.new ~ admin")?,
///     NotifySeverity::Alert,
/// )
/// .with_throttle(Throttle::new(1, Duration::from_secs(3600)), Some(Field::parse("actor.id")?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) name: String,
    pub(crate) condition: Query,
    pub(crate) severity: NotifySeverity,
    pub(crate) throttle: Option<(Throttle, Option<Field>)>,
    pub(crate) send_to: Vec<String>,
}

impl Rule {
    /// A rule named `name` that notifies at `severity` for each record matching `condition`.
    pub fn new(name: impl Into<String>, condition: Query, severity: NotifySeverity) -> Self {
        Rule {
            name: name.into(),
            condition,
            severity,
            throttle: None,
            send_to: Vec::new(),
        }
    }

    /// At most as many notifications as `throttle` allows, per value of `group_by` (the whole
    /// rule when `None`); the next one sent says how many were held back.
    #[must_use]
    pub fn with_throttle(mut self, throttle: Throttle, group_by: Option<Field>) -> Self {
        self.throttle = Some((throttle, group_by));
        self
    }

    /// Sends through the transport named `transport` (every transport when a rule names none).
    #[must_use]
    pub fn send_to(mut self, transport: impl Into<String>) -> Self {
        self.send_to.push(transport.into());
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A notification to send: which rule, how loud, how many of the rule's group were held back
/// before it, and the record as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The rule's name.
    pub rule: String,
    /// Its severity.
    pub severity: NotifySeverity,
    /// Notifications of this rule and group held back since the last one sent.
    pub suppressed: u64,
    /// The record, exactly as written.
    pub record: String,
}

impl Notification {
    /// The webhook body of this notification.
    pub fn webhook_body(&self) -> String {
        super::webhook_body(&self.rule, self.severity, self.suppressed, &self.record)
    }

    /// The record's `id`.
    pub fn record_id(&self) -> Option<String> {
        serde_json::from_str::<Json<'_>>(&self.record)
            .ok()?
            .str_at(&["id"])
            .map(str::to_owned)
    }
}

/// A record as written, parsed the first time something needs more than its text.
#[derive(Debug)]
pub(crate) struct LazyRecord<'a> {
    pub(crate) line: &'a str,
    /// The top-level members the readers need; the others are stepped over.
    members: &'a Members,
    parsed: std::cell::OnceCell<Option<Json<'a>>>,
}

impl<'a> LazyRecord<'a> {
    pub(crate) fn new(line: &'a str, members: &'a Members) -> Self {
        LazyRecord {
            line,
            members,
            parsed: std::cell::OnceCell::new(),
        }
    }

    /// The record's wanted members, or `None` when the line is not a JSON object.
    pub(crate) fn get(&self) -> Option<&Json<'a>> {
        let (line, members) = (self.line, self.members);
        self.parsed.get_or_init(|| members.parse(line)).as_ref()
    }
}

/// Rules ready to run over records: conditions bound, throttles' state.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<Bound>,
    /// What the rules read of a record.
    members: Members,
}

#[derive(Debug)]
struct Bound {
    rule: Rule,
    condition: Condition,
    throttled: Option<(Throttled, Option<Field>)>,
}

impl Rules {
    /// `rules`, their relative times (`time > -1h`) counted from `now`.
    pub fn new(rules: Vec<Rule>, now: DateTime<Utc>) -> Self {
        let mut members = Members::of_record();
        // The rule thread reads the event's name of every record it skips (its own failures).
        members.add("event");
        let rules: Vec<Bound> = rules
            .into_iter()
            .map(|rule| Bound {
                condition: Condition::new(rule.condition.clone(), now),
                throttled: rule
                    .throttle
                    .clone()
                    .map(|(throttle, key)| (Throttled::new(throttle, THROTTLE_GROUPS), key)),
                rule,
            })
            .collect();
        for bound in &rules {
            bound.condition.add_members(&mut members);
            if let Some((_, Some(group_by))) = &bound.throttled {
                members.add_field(group_by);
            }
        }
        Rules { rules, members }
    }

    /// The notifications `line` (one record as written) calls for, at `now` (the throttles'
    /// clock). A line that is not a record calls for none.
    pub fn evaluate(&mut self, line: &str, now: DateTime<Utc>) -> Vec<Notification> {
        let record = LazyRecord::new(line, &self.members);
        evaluate(&mut self.rules, &record, now)
            .into_iter()
            .map(|(_, notification)| notification)
            .collect()
    }

    /// What the rules read of a record.
    pub(crate) fn members(&self) -> &Members {
        &self.members
    }

    /// As [`evaluate`](Self::evaluate), over a record read when a rule needs it: each
    /// notification with the index of its rule.
    pub(crate) fn evaluate_record(
        &mut self,
        record: &LazyRecord<'_>,
        now: DateTime<Utc>,
    ) -> Vec<(usize, Notification)> {
        evaluate(&mut self.rules, record, now)
    }
}

/// The notifications `record` calls for under `rules`, each with its rule's index.
fn evaluate(
    rules: &mut [Bound],
    record: &LazyRecord<'_>,
    now: DateTime<Utc>,
) -> Vec<(usize, Notification)> {
    let line = record.line;
    let mut out = Vec::new();
    for (index, bound) in rules.iter_mut().enumerate() {
        if !bound.condition.may_match(line.as_bytes()) {
            continue;
        }
        let Some(record) = record.get() else {
            return out;
        };
        if !bound.condition.matches(record) {
            continue;
        }
        let suppressed = match &mut bound.throttled {
            None => 0,
            Some((throttled, key)) => {
                let group = key
                    .as_ref()
                    .and_then(|field| crate::store::group_value(field, record))
                    .unwrap_or_default();
                match throttled.check(&group, now) {
                    Verdict::Send { suppressed } => suppressed,
                    Verdict::Suppress => continue,
                }
            }
        };
        out.push((
            index,
            Notification {
                rule: bound.rule.name.clone(),
                severity: bound.rule.severity,
                suppressed,
                record: line.to_owned(),
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn line(seq: u64, event: &str, ip: &str) -> String {
        format!(
            r#"{{"schema":1,"id":"id-{seq}","seq":{seq},"timestamp":"2026-12-03T10:00:00.000000Z","event":{{"name":"{event}","category":"authentication","outcome":"failure","severity":"warn"}},"client":{{"ip":"{ip}"}}}}"#
        )
    }

    #[test]
    fn rules_match_throttle_per_group_and_report_what_they_held_back() {
        let now = Utc::now();
        let failed = Rule::new(
            "sign-in failures",
            Query::parse("event = authentication.failed").unwrap(),
            NotifySeverity::Warning,
        )
        .with_throttle(
            Throttle::new(1, Duration::from_secs(60)),
            Some(Field::parse("ip").unwrap()),
        );
        let everything = Rule::new("all", Query::new(), NotifySeverity::Notice);
        let mut rules = Rules::new(vec![failed, everything], now);
        let mut sent = Vec::new();
        for seq in 1..=5 {
            sent.extend(rules.evaluate(&line(seq, "authentication.failed", "203.0.113.7"), now));
        }
        sent.extend(rules.evaluate(&line(6, "authentication.failed", "198.51.100.1"), now));
        sent.extend(rules.evaluate(
            &line(7, "authentication.failed", "203.0.113.7"),
            now + chrono::Duration::seconds(61),
        ));
        sent.extend(rules.evaluate("not a record", now));
        let of = |rule: &str| {
            sent.iter()
                .filter(|n| n.rule == rule)
                .map(|n| (n.suppressed, n.record.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(of("all").len(), 7);
        let failures = of("sign-in failures");
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert_eq!(
            failures[0],
            (0, line(1, "authentication.failed", "203.0.113.7"))
        );
        assert_eq!(failures[1].0, 0, "another address has its own window");
        assert_eq!(
            failures[2],
            (4, line(7, "authentication.failed", "203.0.113.7")),
            "four held back"
        );
        let body: serde_json::Value = serde_json::from_str(&sent[0].webhook_body()).unwrap();
        assert_eq!(body["rule"], "sign-in failures");
        assert_eq!(body["severity"], "warning");
        assert_eq!(body["record"]["seq"], 1);
    }
}
