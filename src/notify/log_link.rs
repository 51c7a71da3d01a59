//! How the notification threads write into the log they read: detections' records and
//! `audit.notification_failed`, queued like the log's own notices.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::capture::CapturedEvent;
use crate::clock::Clock;
use crate::context::{ContextFields, ContextKey};
use crate::event::EventInfo;
use crate::json_view::Json;
use crate::pipeline::Pipeline;
use crate::value::FieldValue;
use crate::SecurityEvent;

/// The parts of a record a derived record keeps: who and from where, never the session.
const CONTEXT_PATHS: [&[&str]; 12] = [
    &["actor", "id"],
    &["actor", "name"],
    &["actor", "email"],
    &["actor", "kind"],
    &["tenant", "id"],
    &["tenant", "name"],
    &["client", "ip"],
    &["client", "geo", "country"],
    &["client", "geo", "city"],
    &["client", "geo", "lat"],
    &["client", "geo", "lon"],
    &["user_agent", "original"],
];

/// The log's queue, known once the log has started (the notification sink is opened before
/// the pipeline it feeds exists).
#[derive(Clone, Default)]
pub(crate) struct LogLink {
    log: Arc<OnceLock<(Pipeline, Arc<dyn Clock>)>>,
}

impl std::fmt::Debug for LogLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLink")
            .field("connected", &self.log.get().is_some())
            .finish()
    }
}

impl LogLink {
    /// Connects the link to the started log.
    pub(crate) fn connect(&self, pipeline: Pipeline, clock: Arc<dyn Clock>) {
        let _ = self.log.set((pipeline, clock));
    }

    /// The log's clock's time, or the system's before the log started.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.log
            .get()
            .map_or_else(Utc::now, |(_, clock)| clock.now())
    }

    /// Queues a record of `info` with `fields`, about `source` (its actor, tenant and client).
    /// Never waits: these threads run beside the log's own, which may be waiting on them.
    pub(crate) fn record(
        &self,
        info: &'static EventInfo,
        fields: Vec<(&'static str, FieldValue)>,
        source: Option<&Json<'_>>,
    ) {
        let Some((pipeline, clock)) = self.log.get() else {
            return;
        };
        let mut event = CapturedEvent::notice(info, fields, clock.now());
        if let Some(record) = source {
            event.context = context_of(record);
        }
        pipeline.submit_nonblocking(event);
    }

    /// Records that `transport` could not deliver a notification of `rule` about `record_id`.
    pub(crate) fn notification_failed(
        &self,
        rule: &str,
        transport: &str,
        error: &str,
        attempts: u32,
        record_id: Option<&str>,
    ) {
        let mut fields = vec![
            ("rule", FieldValue::Str(rule.to_owned())),
            ("transport", FieldValue::Str(transport.to_owned())),
            ("error", FieldValue::Str(error.to_owned())),
            ("attempts", FieldValue::U64(attempts.into())),
        ];
        if let Some(id) = record_id {
            fields.push(("record_id", FieldValue::Str(id.to_owned())));
        }
        self.record(SecurityEvent::AuditNotificationFailed.info(), fields, None);
    }
}

/// The actor, tenant, client and user agent of `record`, as a new record's context.
fn context_of(record: &Json<'_>) -> ContextFields {
    let mut context = ContextFields::default();
    for path in CONTEXT_PATHS {
        let value = match record.at(path) {
            Some(Json::Str(text)) => FieldValue::Str(text.to_string()),
            Some(Json::F64(n)) => FieldValue::F64(*n),
            Some(Json::I64(n)) => FieldValue::I64(*n),
            _ => continue,
        };
        if let Some(key) = ContextKey::from_field_name(&path.join(".")) {
            let _ = context.set(key, value);
        }
    }
    context
}
