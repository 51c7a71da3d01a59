//! What the caller's thread captures from an event or span: its fields, read once by a visitor,
//! typed where they are context, bounded in size. Everything else happens on the worker.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use tracing_core::field::{Field, Visit};
use tracing_core::Level;

use crate::context::{ContextFields, ContextKey};
use crate::event::{EventInfo, EventRegistry, Outcome, Severity};
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
    /// Records `value` under `name`, replacing an earlier value (a span's field recorded again).
    fn set_extra(&mut self, name: &'static str, value: FieldValue) {
        match self.extra.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.extra.push((name, value)),
        }
    }
}

/// The visitor filling [`CapturedFields`] and the typed [`ContextFields`].
pub(crate) struct FieldCapture<'a> {
    pub(crate) fields: &'a mut CapturedFields,
    pub(crate) context: &'a mut ContextFields,
    pub(crate) registry: &'a EventRegistry,
    pub(crate) max_value_len: usize,
}

impl fmt::Debug for FieldCapture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldCapture").finish_non_exhaustive()
    }
}

impl FieldCapture<'_> {
    fn record_value(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        match name {
            EVENT_FIELD => self.record_event_name(&value.text()),
            MESSAGE_FIELD => self.fields.message = Some(value.into_text()),
            CHANGES_FIELD => self.fields.changes = Some(value.into_text()),
            _ => match ContextKey::from_field_name(name) {
                Some(key) => {
                    if let Err(unparsed) = self.context.set(key, value) {
                        self.fields.set_extra(name, unparsed);
                    }
                }
                None => self.fields.set_extra(name, value),
            },
        }
    }

    fn record_event_name(&mut self, name: &str) {
        self.fields.name = Some(match self.registry.get(name) {
            Some(info) => EventName::Known(info),
            None => EventName::Unrecognised(BoundedText::copy(name, self.max_value_len)),
        });
    }
}

impl Visit for FieldCapture<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == EVENT_FIELD {
            // The common case: a catalog name, resolved without copying it.
            return self.record_event_name(value);
        }
        let value = BoundedText::copy(value, self.max_value_len);
        self.record_value(field, FieldValue::Str(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let value = BoundedText::debug(value, self.max_value_len);
        self.record_value(field, FieldValue::Str(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_value(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record_value(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.record_value(field, FieldValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.record_value(field, FieldValue::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.record_value(field, FieldValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record_value(field, FieldValue::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let value = BoundedText::display(&ErrorChain(value), self.max_value_len);
        self.record_value(field, FieldValue::Str(value));
    }
}

/// An error and its sources, `outer: inner: root`.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
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
            from_the_log: true,
        }
    }

    /// The same notice, saying how it ended and why.
    #[cfg_attr(not(feature = "config"), allow(dead_code))] // used by configuration reloads
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
    /// The context of the enclosing spans, nearest first.
    pub(crate) ancestors: Vec<Arc<ContextFields>>,
    /// For a span tagged `security_event`: how long it was open.
    pub(crate) duration: Option<Duration>,
    /// Written by the log about itself: no filter applies.
    pub(crate) from_the_log: bool,
}
