//! An event as the caller's thread hands it over: the fields as `tracing` recorded them, their
//! text in one buffer, typed and sorted into context on the worker.
//!
//! The caller allocates nothing here once warm: a `PendingEvent` is taken from the pipeline's
//! pool, filled, queued, decoded on the worker and put back with its buffers' capacity. Allocating on the caller and freeing on the worker made the two
//! threads fight over the caller's malloc arena (a futex wake-up on most events).

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tracing_core::field::{Field, Visit};
use tracing_core::Level;

use crate::capture::{CapturedEvent, CapturedFields, EventName, EVENT_FIELD};
use crate::context::ContextFields;
use crate::event_registry::EventRegistry;
use crate::value::{BoundedText, FieldValue};

/// A pending event holding more than this is not reused (a burst of huge values must not stay pinned).
const MAX_KEPT_TEXT: usize = 1024;
const MAX_KEPT_VALUES: usize = 16;
const MAX_KEPT_ANCESTORS: usize = 8;

/// One field value: a number or boolean as recorded, text as a range of the event's buffer.
#[derive(Debug, Clone)]
enum PendingValue {
    /// Never [`FieldValue::Str`]: text goes to the buffer.
    Scalar(FieldValue),
    Text(Range<usize>),
}

/// One security event on its way to the worker.
#[derive(Debug)]
pub(crate) struct PendingEvent {
    /// When it happened, by the log's clock; made a date on the worker.
    pub(crate) time: SystemTime,
    pub(crate) level: Level,
    /// The `security_event` value, resolved on the caller's thread (the gate needs it).
    pub(crate) name: Option<EventName>,
    values: Vec<(&'static str, PendingValue)>,
    text: String,
    /// The context of the enclosing spans, nearest first.
    pub(crate) ancestors: Vec<Arc<ContextFields>>,
    #[cfg(feature = "trace-context")]
    pub(crate) trace: Option<crate::context::TraceIds>,
}

impl Default for PendingEvent {
    fn default() -> Self {
        PendingEvent {
            time: SystemTime::UNIX_EPOCH,
            level: Level::INFO,
            name: None,
            values: Vec::new(),
            text: String::new(),
            ancestors: Vec::new(),
            #[cfg(feature = "trace-context")]
            trace: None,
        }
    }
}

impl PendingEvent {
    /// A visitor recording an event's fields into this pending event.
    pub(crate) fn capture<'a>(
        &'a mut self,
        registry: &'a EventRegistry,
        max_value_len: usize,
    ) -> PendingCapture<'a> {
        PendingCapture {
            event: self,
            registry,
            max_value_len,
        }
    }

    /// Empties the pending event for its next event; `false` if it grew too big to be worth keeping.
    pub(crate) fn reset(&mut self) -> bool {
        self.name = None;
        self.values.clear();
        self.text.clear();
        self.ancestors.clear();
        #[cfg(feature = "trace-context")]
        {
            self.trace = None;
        }
        self.text.capacity() <= MAX_KEPT_TEXT
            && self.values.capacity() <= MAX_KEPT_VALUES
            && self.ancestors.capacity() <= MAX_KEPT_ANCESTORS
    }

    /// Files the captured values into `fields` and `context` (a span's, or a new event's),
    /// typing the context fields. The pending event keeps its buffers; [`reset`](Self::reset) it before
    /// reuse.
    pub(crate) fn decode_into(&mut self, fields: &mut CapturedFields, context: &mut ContextFields) {
        if let Some(name) = self.name.take() {
            fields.name = Some(name);
        }
        for (field, value) in self.values.drain(..) {
            let value = match value {
                PendingValue::Scalar(value) => value,
                PendingValue::Text(range) => FieldValue::Str(self.text[range].to_owned()),
            };
            fields.record(context, field, value);
        }
    }

    /// The event in the worker's form, or `None` if it named no `security_event`.
    pub(crate) fn decode(&mut self) -> Option<CapturedEvent> {
        let mut own = CapturedFields::default();
        let mut context = ContextFields::default();
        self.decode_into(&mut own, &mut context);
        let name = own.name.take()?;
        #[cfg(feature = "trace-context")]
        {
            context.trace = self.trace.take().map(Into::into);
        }
        // Merged here rather than handed on: the pending event keeps its list of spans for reuse.
        for outer in &self.ancestors {
            context.inherit_from(outer);
        }
        Some(CapturedEvent {
            time: DateTime::<Utc>::from(self.time),
            level: self.level,
            name,
            own,
            context,
            ancestors: Vec::new(),
            duration: None,
            is_log_notice: false,
        })
    }
}

/// The visitor filling a [`PendingEvent`]: copies text, bounded, into the event's buffer.
pub(crate) struct PendingCapture<'a> {
    event: &'a mut PendingEvent,
    registry: &'a EventRegistry,
    max_value_len: usize,
}

impl fmt::Debug for PendingCapture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCapture").finish_non_exhaustive()
    }
}

impl PendingCapture<'_> {
    /// Appends the text `write` produces as the value of `field`.
    fn text(&mut self, field: &Field, write: impl FnOnce(&mut String, usize)) {
        let start = self.event.text.len();
        write(&mut self.event.text, self.max_value_len);
        if field.name() == EVENT_FIELD {
            let name = &self.event.text[start..];
            self.event.name = Some(EventName::resolve(self.registry, name, self.max_value_len));
            self.event.text.truncate(start);
        } else {
            let range = start..self.event.text.len();
            self.event
                .values
                .push((field.name(), PendingValue::Text(range)));
        }
    }

    fn scalar(&mut self, field: &Field, value: FieldValue) {
        if field.name() == EVENT_FIELD {
            let name = EventName::resolve(self.registry, &value.text(), self.max_value_len);
            self.event.name = Some(name);
        } else {
            self.event
                .values
                .push((field.name(), PendingValue::Scalar(value)));
        }
    }
}

impl Visit for PendingCapture<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == EVENT_FIELD {
            // The common case: a catalog name, resolved without copying it.
            let name = EventName::resolve(self.registry, value, self.max_value_len);
            self.event.name = Some(name);
            return;
        }
        self.text(field, |out, limit| {
            BoundedText::append_str(out, value, limit)
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, |out, limit| {
            BoundedText::append_debug(out, value, limit)
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, |out, limit| {
            BoundedText::append_display(out, &ErrorChain(value), limit)
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.scalar(field, FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.scalar(field, FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.scalar(field, FieldValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.scalar(field, FieldValue::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.scalar(field, FieldValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.scalar(field, FieldValue::Bool(value));
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
