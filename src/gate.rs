//! Which security events are recorded at run time: on or off, a filter, and the events the code
//! pins so that no configuration can leave them out.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::capture::{CapturedEvent, EventName};
use crate::event::{Outcome, Severity};
use crate::glob;

/// The filter of the configuration's `[filter]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventFilter {
    pub(crate) min_severity: Severity,
    pub(crate) include: Vec<String>,
    pub(crate) exclude: Vec<String>,
    pub(crate) categories: Vec<String>,
    pub(crate) outcomes: Vec<Outcome>,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            min_severity: Severity::Debug,
            include: Vec::new(),
            exclude: Vec::new(),
            categories: Vec::new(),
            outcomes: Vec::new(),
        }
    }
}

impl EventFilter {
    fn admits(&self, name: &str, category: &str, severity: Severity, outcome: Outcome) -> bool {
        severity >= self.min_severity
            && (self.include.is_empty() || self.include.iter().any(|p| glob::matches(p, name)))
            && !self.exclude.iter().any(|p| glob::matches(p, name))
            && (self.categories.is_empty()
                || self
                    .categories
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(category)))
            && (self.outcomes.is_empty() || self.outcomes.contains(&outcome))
    }
}

/// The part of the gate the callers read: one atomic load per event.
#[derive(Debug, Default)]
pub(crate) struct CallerGate {
    disabled: AtomicBool,
    pinned: HashSet<&'static str>,
}

impl CallerGate {
    pub(crate) fn new(enabled: bool, pinned: HashSet<&'static str>) -> Self {
        CallerGate {
            disabled: AtomicBool::new(!enabled),
            pinned,
        }
    }

    /// Whether an event of this name may be skipped before it is even queued.
    pub(crate) fn skips(&self, name: &EventName) -> bool {
        self.disabled.load(Ordering::Relaxed) && !self.is_pinned(name)
    }

    #[cfg(feature = "config")] // used by configuration reloads
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.disabled.store(!enabled, Ordering::Relaxed);
    }

    fn is_pinned(&self, name: &EventName) -> bool {
        match name {
            EventName::Known(info) => self.pinned.contains(info.name()),
            EventName::Unrecognised(_) => false,
        }
    }
}

/// The worker's gate, applied before a record is numbered, so `seq` stays gap-free.
#[derive(Debug)]
pub(crate) struct RecordGate {
    pub(crate) enabled: bool,
    pub(crate) filter: EventFilter,
    pub(crate) caller: Arc<CallerGate>,
}

impl RecordGate {
    pub(crate) fn admits(&self, event: &CapturedEvent) -> bool {
        // The log's own records (audit.*, a crash found at start-up) and pinned events always pass.
        if event.is_log_notice || self.caller.is_pinned(&event.name) {
            return true;
        }
        if !self.enabled {
            return false;
        }
        let (name, category, severity, outcome) = event.classification();
        self.filter.admits(name, category, severity, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_of_the_filter_must_pass() {
        let filter = EventFilter {
            min_severity: Severity::Info,
            include: vec!["authentication.*".into(), "user.role_changed".into()],
            exclude: vec!["authentication.otp_verified".into()],
            categories: vec![],
            outcomes: vec![Outcome::Failure, Outcome::Success],
        };
        let pass =
            |name, category, severity, outcome| filter.admits(name, category, severity, outcome);
        assert!(pass(
            "authentication.failed",
            "authentication",
            Severity::Warn,
            Outcome::Failure
        ));
        assert!(pass(
            "user.role_changed",
            "user",
            Severity::Warn,
            Outcome::Success
        ));
        assert!(
            !pass("user.invited", "user", Severity::Info, Outcome::Success),
            "not included"
        );
        assert!(!pass(
            "authentication.otp_verified",
            "authentication",
            Severity::Info,
            Outcome::Success
        ));
        assert!(!pass(
            "authentication.failed",
            "authentication",
            Severity::Debug,
            Outcome::Failure
        ));
        assert!(!pass(
            "authentication.failed",
            "authentication",
            Severity::Warn,
            Outcome::Unknown
        ));
    }
}
