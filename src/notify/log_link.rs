//! How the notification threads write into the log they read: detections' records and
//! `audit.notification_failed`, queued like the log's own notices.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use crate::event::EventInfo;
use crate::json_view::Json;
use crate::value::FieldValue;
use crate::{DerivedRecord, LogHandle, SecurityEvent};

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

/// The log's public handle for records it raises itself, known once the log has started (the
/// notification sink is opened before the log it feeds exists).
#[derive(Clone, Default)]
pub(crate) struct LogLink {
    log: Arc<OnceLock<LogHandle>>,
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
    pub(crate) fn connect(&self, log: LogHandle) {
        let _ = self.log.set(log);
    }

    /// The log's clock's time, or the system's before the log started.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.log.get().map_or_else(Utc::now, LogHandle::now)
    }

    /// Queues a record of `info` with `fields`, about `source` (its actor, tenant and client).
    /// Never waits: these threads run beside the log's own, which may be waiting on them.
    pub(crate) fn record(
        &self,
        info: &'static EventInfo,
        fields: Vec<(&'static str, FieldValue)>,
        source: Option<&Json<'_>>,
    ) {
        let Some(log) = self.log.get() else {
            return;
        };
        let mut record = DerivedRecord::of(info);
        for (name, value) in fields {
            record = record.field(name, value);
        }
        if let Some(source) = source {
            record = with_context_of(record, source);
        }
        log.record(record);
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

/// The actor, tenant, client and user agent of `source`, as the new record's context.
fn with_context_of(mut record: DerivedRecord, source: &Json<'_>) -> DerivedRecord {
    for path in CONTEXT_PATHS {
        let value = match source.at(path) {
            Some(Json::Str(text)) => FieldValue::Str(text.to_string()),
            Some(Json::F64(n)) => FieldValue::F64(*n),
            Some(Json::I64(n)) => FieldValue::I64(*n),
            _ => continue,
        };
        record = record.context(&path.join("."), value);
    }
    record
}
