//! Records the log raises itself, outside any `tracing` event: what a detection concluded, a
//! notification that could not be sent. They go through the same queue, numbering, chain,
//! redaction and sinks as every other record.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Pipeline;
use crate::capture::CapturedEvent;
use crate::clock::Clock;
use crate::context::{ContextFields, ContextKey};
use crate::event::{Catalog, EventInfo};
use crate::value::FieldValue;

/// A handle to a running security log, for records that no `tracing` event carries.
///
/// From [`FlushGuard::log_handle`](crate::FlushGuard::log_handle); cloneable and usable from
/// any thread. Records are queued without waiting (a full queue drops the record and counts it,
/// as [`OverflowPolicy::Drop`](crate::OverflowPolicy::Drop) does): whoever raises them often runs
/// beside the log's own threads, which may be waiting on it.
///
/// ```
/// use tracing_security_events::{DerivedRecord, SecurityEvent};
///
/// let dir = tempfile::tempdir()?;
/// let (_layer, guard) = tracing_security_events::builder()
///     .with_file(dir.path().join("security.jsonl"))
///     .build::<tracing_subscriber::Registry>()?;
/// let log = guard.log_handle();
/// log.record(
///     DerivedRecord::new(SecurityEvent::LoginFailedMax)
///         .field("count", 12_u64)
///         .context("client.ip", "203.0.113.7")
///         .context("actor.name", "alice"),
/// );
/// guard.shutdown()?;
/// let text = std::fs::read_to_string(dir.path().join("security.jsonl"))?;
/// assert!(text.contains(r#""name":"authentication.failed_max""#));
/// assert!(text.contains(r#""client":{"ip":"203.0.113.7"}"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct LogHandle {
    pipeline: Pipeline,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHandle").finish_non_exhaustive()
    }
}

impl LogHandle {
    pub(crate) fn new(pipeline: Pipeline, clock: Arc<dyn Clock>) -> Self {
        LogHandle { pipeline, clock }
    }

    /// The time by the log's clock: the time its records carry.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Queues the record, stamped now, without waiting.
    pub fn record(&self, record: DerivedRecord) {
        let mut event = CapturedEvent::notice(record.info, record.fields, self.clock.now());
        event.context = record.context;
        self.pipeline.submit_nonblocking(event);
    }
}

/// A record the log raises itself: an event of a catalog, its fields, and the context (actor,
/// tenant, client...) it is about.
#[derive(Debug, Clone)]
#[must_use]
pub struct DerivedRecord {
    info: &'static EventInfo,
    fields: Vec<(&'static str, FieldValue)>,
    context: ContextFields,
}

impl DerivedRecord {
    /// A record of `event`, with no fields yet.
    pub fn new(event: impl Catalog) -> Self {
        DerivedRecord::of(event.info())
    }

    /// A record of this catalog row.
    pub(crate) fn of(info: &'static EventInfo) -> Self {
        DerivedRecord {
            info,
            fields: Vec::new(),
            context: ContextFields::default(),
        }
    }

    /// Adds a field (`fields.<name>` in the record).
    pub fn field(mut self, name: &'static str, value: impl Into<FieldValue>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Sets a context field by the name a span would carry it under (`actor.id`, `tenant.id`,
    /// `client.ip`, `client.geo.country`, `user_agent`, ...), read as a span's would be. A name
    /// that is no context field, or a value that does not read as one (an IP that is not one),
    /// is ignored.
    pub fn context(mut self, name: &str, value: impl Into<FieldValue>) -> Self {
        if let Some(key) = ContextKey::from_field_name(name) {
            let _ = self.context.set(key, value.into());
        }
        self
    }
}
