//! Detections: the log raising records of its own from patterns no single record shows. They
//! run on the rule thread, over records as written, and write ordinary security records that go
//! to every sink and may themselves notify.
//!
//! - [`Threshold`]: at least N records matching a condition, of one key (an address, an
//!   account), within a window: OWASP's `authn_login_fail_max` as `authentication.failed_max`.
//! - [`ImpossibleTravel`]: two successful sign-ins of one actor from places farther apart than a
//!   speed allows, as `authentication.impossible_travel`.
//!
//! Both keep their state per key in a bounded cache, per tenant (a key of one tenant never
//! meets another's), so memory stays bounded whatever the number of keys; a forgotten key
//! starts again. Neither counts the records it writes itself.

mod threshold;
mod travel;

pub use threshold::Threshold;
pub use travel::ImpossibleTravel;

use chrono::{DateTime, Utc};

use crate::condition::Condition;
use crate::event::EventInfo;
use crate::json_view::Json;
use crate::store::Members;
use crate::value::FieldValue;

/// A detection, ready to give to [`NotifyConfig::detection`](super::NotifyConfig::detection).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Detection {
    /// At least N matching records of one key within a window.
    Threshold(Threshold),
    /// Sign-ins from places too far apart for the time between them.
    ImpossibleTravel(ImpossibleTravel),
}

impl From<Threshold> for Detection {
    fn from(threshold: Threshold) -> Self {
        Detection::Threshold(threshold)
    }
}

impl From<ImpossibleTravel> for Detection {
    fn from(travel: ImpossibleTravel) -> Self {
        Detection::ImpossibleTravel(travel)
    }
}

impl Detection {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Detection::Threshold(d) => &d.name,
            Detection::ImpossibleTravel(d) => &d.name,
        }
    }

    /// The setting that cannot work (its name) and why, if one cannot.
    pub(crate) fn problem(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Detection::Threshold(d) => d.problem(),
            Detection::ImpossibleTravel(d) => d.problem(),
        }
    }

    /// Checks the settings and makes the running state.
    pub(crate) fn start(self, now: DateTime<Utc>) -> Result<Box<dyn Detector>, super::NotifyError> {
        if let Some((setting, reason)) = self.problem() {
            return Err(super::NotifyError::Detection {
                detection: self.name().to_owned(),
                reason: format!("{setting} {reason}"),
            });
        }
        Ok(match self {
            Detection::Threshold(d) => Box::new(d.start(now)),
            Detection::ImpossibleTravel(d) => Box::new(d.start(now)),
        })
    }
}

/// A detection running on the rule thread.
pub(crate) trait Detector: Send {
    /// The records it looks at.
    fn condition(&self) -> &Condition;

    /// The event of the records it writes, which it never looks at.
    fn writes(&self) -> &'static EventInfo;

    /// Adds the top-level members it reads beyond its condition and [`DETECTION_MEMBERS`].
    fn add_own_members(&self, _members: &mut Members) {}

    /// Looks at a record its condition matches (`now` stands for a record without a time);
    /// what it detects, for the caller to write.
    fn detect(&mut self, record: &Json<'_>, now: DateTime<Utc>) -> Option<Finding>;

    /// Whether a record written as `line` may concern it (the texts its condition needs are
    /// there); when not, the record is not parsed for it.
    fn may_match(&self, line: &[u8]) -> bool {
        self.condition().may_match(line)
    }

    /// Adds the top-level members of a record it reads.
    fn add_members(&self, members: &mut Members) {
        self.condition().add_members(members);
        for name in DETECTION_MEMBERS {
            members.add(name);
        }
        self.add_own_members(members);
    }

    /// Looks at one record; what it detects in it, if anything.
    fn observe(&mut self, record: &Json<'_>, now: DateTime<Utc>) -> Option<Finding> {
        if record.str_at(&["event", "name"]) == Some(self.writes().name())
            || !self.condition().matches(record)
        {
            return None;
        }
        self.detect(record, now)
    }

    /// How far back its memory reaches: what a new evaluator reads again to know what this one
    /// knew (a threshold's window; for impossible travel, the longest a journey can take).
    #[cfg_attr(
        not(feature = "postgres"),
        expect(dead_code, reason = "read by fleet detections")
    )]
    fn memory(&self) -> std::time::Duration;
}

/// What a detection found: the record to write (with the actor, tenant and client of the
/// record that completed it) and the window it stands for, so that a fleet raises each window
/// once whichever instance evaluates it.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "postgres"),
    expect(dead_code, reason = "the window is read by fleet detections")
)]
pub(crate) struct Finding {
    /// The detection's name.
    pub(crate) detection: String,
    /// The event of the record to write.
    pub(crate) writes: &'static EventInfo,
    /// The record's fields.
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    /// The group it is about (tenant and key, or tenant and actor).
    pub(crate) key: String,
    /// When what it saw happened: the window's first and last record's times.
    pub(crate) first_at: DateTime<Utc>,
    pub(crate) last_at: DateTime<Utc>,
    /// Until when the same group raises nothing more (the quiet period it starts).
    pub(crate) quiet_until: DateTime<Utc>,
}

/// What every detection reads of a record besides its condition: its time and id, its event,
/// and the context its own record copies.
pub(crate) const DETECTION_MEMBERS: [&str; 7] = [
    "id",
    "timestamp",
    "event",
    "actor",
    "tenant",
    "client",
    "user_agent",
];

/// The record's time, or `None` when it has none that parses.
pub(crate) fn record_time(record: &Json<'_>) -> Option<DateTime<Utc>> {
    let text = record.str_at(&["timestamp"])?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A group's key: the tenant and the key's value, so that tenants never share a group.
pub(crate) fn tenant_key(record: &Json<'_>, value: &str) -> String {
    let tenant = record.str_at(&["tenant", "id"]).unwrap_or_default();
    format!("{tenant}\u{0}{value}")
}

/// `window` as people write it: `90s`, `5m`, `2h`.
pub(crate) fn duration_text(window: std::time::Duration) -> String {
    let seconds = window.as_secs();
    match seconds {
        0 => format!("{}ms", window.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
