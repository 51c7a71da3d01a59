//! An event or span's fields sorted out: the event name, message, changes, typed context and the
//! other fields, bounded in size, as the worker decodes them from a pending event.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tracing_core::Level;

use crate::context::{ContextFields, ContextKey};
use crate::event::{EventInfo, Outcome, Severity};
use crate::event_registry::EventRegistry;
use crate::value::{BoundedText, FieldValue};

/// The field that marks an event or span as a security event.
pub(crate) const EVENT_FIELD: &str = "security_event";
/// The field carrying a structured diff (a JSON object, as text).
pub(crate) const CHANGES_FIELD: &str = "changes";
const MESSAGE_FIELD: &str = "message";

/// The `security_event` value, resolved against the registered catalogs.
#[derive(Debug, Clone)]
pub(crate) enum EventName {
    Known(&'static EventInfo),
    /// In no registered catalog: recorded all the same, flagged and counted.
    Unrecognised(String),
}

impl EventName {
    /// Looks `name` up in the registered catalogs.
    pub(crate) fn resolve(registry: &EventRegistry, name: &str, max_value_len: usize) -> Self {
        match registry.get(name) {
            Some(info) => EventName::Known(info),
            None => EventName::Unrecognised(BoundedText::copy(name, max_value_len)),
        }
    }
}

/// The fields of one event or span.
#[derive(Debug, Clone, Default)]
pub(crate) struct CapturedFields {
    pub(crate) name: Option<EventName>,
    pub(crate) message: Option<String>,
    pub(crate) changes: Option<String>,
    /// Any other field, in the order recorded; kept under `fields`.
    pub(crate) extra: Vec<(&'static str, FieldValue)>,
}

impl CapturedFields {
    /// Files a field (not the event name) as the message, the changes, a typed context field or,
    /// failing those, under `fields`.
    pub(crate) fn record(
        &mut self,
        context: &mut ContextFields,
        name: &'static str,
        value: FieldValue,
    ) {
        match name {
            MESSAGE_FIELD => self.message = Some(value.into_text()),
            CHANGES_FIELD => self.changes = Some(value.into_text()),
            _ => match ContextKey::from_field_name(name) {
                Some(key) => {
                    if let Err(unparsed) = context.set(key, value) {
                        self.set_extra(name, unparsed);
                    }
                }
                None => self.set_extra(name, value),
            },
        }
    }

    /// Records `value` under `name`, replacing an earlier value (a span's field recorded again).
    fn set_extra(&mut self, name: &'static str, value: FieldValue) {
        match self.extra.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.extra.push((name, value)),
        }
    }
}

impl CapturedEvent {
    /// A record the log writes about itself (dropped records, a crash found at start-up).
    pub(crate) fn notice(
        info: &'static EventInfo,
        fields: Vec<(&'static str, FieldValue)>,
        time: DateTime<Utc>,
    ) -> Self {
        CapturedEvent {
            time,
            level: info.severity().level(),
            name: EventName::Known(info),
            own: CapturedFields {
                extra: fields,
                ..CapturedFields::default()
            },
            context: ContextFields::default(),
            ancestors: Vec::new(),
            duration: None,
            is_log_notice: true,
        }
    }

    /// The same notice, saying how it ended and why.
    #[cfg(feature = "config")] // used by configuration reloads
    pub(crate) fn with_outcome(mut self, outcome: Outcome, reason: String) -> Self {
        self.context.outcome = Some(outcome);
        self.context.reason = Some(reason);
        self
    }

    /// Name, category, severity and outcome, as the record will show them.
    pub(crate) fn classification(&self) -> (&str, &str, Severity, Outcome) {
        let (severity, outcome) = self.severity_and_outcome();
        match &self.name {
            EventName::Known(info) => (info.name(), info.category().as_str(), severity, outcome),
            EventName::Unrecognised(name) => (name, unrecognised_category(name), severity, outcome),
        }
    }

    /// The catalog's severity (else the `tracing` level's), and the recorded outcome (else the
    /// catalog's, else unknown).
    pub(crate) fn severity_and_outcome(&self) -> (Severity, Outcome) {
        match &self.name {
            EventName::Known(info) => (
                info.severity(),
                self.context.outcome.unwrap_or(info.outcome()),
            ),
            EventName::Unrecognised(_) => (
                Severity::from_level(self.level),
                self.context.outcome.unwrap_or(Outcome::Unknown),
            ),
        }
    }
}

/// The category of a name in no catalog: the part before the first dot.
pub(crate) fn unrecognised_category(name: &str) -> &str {
    name.split('.').next().unwrap_or_default()
}

/// One security event as the caller's thread hands it to the worker.
#[derive(Debug)]
pub(crate) struct CapturedEvent {
    /// When it happened, by the log's clock.
    pub(crate) time: DateTime<Utc>,
    pub(crate) level: Level,
    pub(crate) name: EventName,
    pub(crate) own: CapturedFields,
    pub(crate) context: ContextFields,
    /// The context of the enclosing spans not yet merged into `context`, nearest first: a
    /// closed span's own; an event's are merged as its pending event is decoded.
    pub(crate) ancestors: Vec<Arc<ContextFields>>,
    /// For a span tagged `security_event`: how long it was open.
    pub(crate) duration: Option<Duration>,
    /// Written by the log about itself: no filter applies.
    pub(crate) is_log_notice: bool,
}

/// The `system.crash` record of a file found ending in an unfinished line: the writer died
/// mid-write (the line itself was closed and is left as evidence). Said on stderr too, when
/// `report` allows.
pub(crate) fn torn_line_notice(
    path: &std::path::Path,
    report: bool,
    time: chrono::DateTime<chrono::Utc>,
) -> CapturedEvent {
    crate::report::report_line(
        report,
        format_args!(
            "{} ended in an unfinished line (a crash while writing); it was closed and left as \
             it was",
            path.display()
        ),
    );
    CapturedEvent::notice(
        crate::event::SecurityEvent::SystemCrash.info(),
        vec![
            (
                "evidence",
                FieldValue::Str("unfinished last line in the security log".into()),
            ),
            ("file", FieldValue::Str(path.display().to_string())),
        ],
        time,
    )
}
