//! Turning a captured event into a record, on the worker: context merged, sequence number and
//! id assigned, message rendered.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::{ContextV7, Timestamp, Uuid};

use crate::capture::{unrecognised_category, CapturedEvent, CapturedFields, EventName};
use crate::clock::Clock;
use crate::event::SecurityEvent;
use crate::record::{message, EventSummary, Fields, SecurityRecord, ServiceInfo};
use crate::redact::Redactor;
use crate::sink::RecordRequest;
use crate::value::FieldValue;

/// Builds records in queue order; owns the sequence counter, so `seq` is gap-free.
#[derive(Debug)]
pub(crate) struct RecordAssembler {
    service: Arc<ServiceInfo>,
    redactor: Redactor,
    clock: Arc<dyn Clock>,
    last_seq: u64,
    uuids: ContextV7,
}

impl RecordAssembler {
    pub(crate) fn new(service: ServiceInfo, redactor: Redactor, clock: Arc<dyn Clock>) -> Self {
        RecordAssembler {
            service: Arc::new(service),
            redactor,
            clock,
            last_seq: 0,
            uuids: ContextV7::new(),
        }
    }

    /// Numbers records after `seq` (the last one a sink holds from an earlier run).
    pub(crate) fn continuing_after(mut self, seq: u64) -> Self {
        self.last_seq = seq;
        self
    }

    pub(crate) fn assemble(&mut self, captured: CapturedEvent) -> SecurityRecord {
        let (severity, outcome) = captured.severity_and_outcome();
        let CapturedEvent {
            time,
            name,
            own,
            mut context,
            ancestors,
            duration,
            ..
        } = captured;
        let CapturedFields {
            message,
            changes,
            extra,
            ..
        } = own;
        for outer in &ancestors {
            context.inherit_from(outer);
        }

        let (mut event, template) = match name {
            EventName::Known(info) => {
                let mut event = EventSummary::new(
                    Cow::Borrowed(info.name()),
                    Cow::Borrowed(info.category().as_str()),
                    outcome,
                    severity,
                );
                event.owasp = info.owasp();
                (event, Some(info.message_template()))
            }
            EventName::Unrecognised(name) => {
                let category = Cow::Owned(unrecognised_category(&name).to_owned());
                let mut event = EventSummary::new(Cow::Owned(name), category, outcome, severity);
                event.unrecognised = true;
                (event, None)
            }
        };
        event.reason = context.reason.take();
        event.source = context.source.take();
        event.duration_us = duration.map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));

        let mut fields = Fields::from_captured(extra);
        for (name, value) in std::mem::take(&mut context.carried) {
            fields.push(name, FieldValue::Str(value));
        }

        let (id, seq) = (self.next_id(time), self.next_seq());
        let mut record = SecurityRecord::new(id, seq, time, event, self.service.clone());
        record.actor = context.actor;
        record.tenant = context.tenant;
        record.session = context.session;
        record.client = context.client;
        record.user_agent = context.user_agent;
        record.request = context.request;
        record.target = context.target;
        record.fields = fields;
        record.changes = changes.map(parse_changes);
        record.trace = context.trace.take();
        // Before the message is rendered, so that a template cannot reveal a redacted value.
        self.redactor.apply(&mut record);
        record.message = match (message, template) {
            (Some(message), _) => message,
            (None, Some(template)) => message::render(template, &record),
            (None, None) => format!("unrecognised security event {}", record.event.name),
        };
        record
    }

    /// New redaction rules and service identity, from a reload.
    #[cfg(feature = "config")]
    pub(crate) fn reconfigure(&mut self, redactor: Redactor, service: ServiceInfo) {
        self.redactor = redactor;
        self.service = Arc::new(service);
    }

    /// The `audit.events_dropped` record telling that `dropped` records were lost.
    pub(crate) fn dropped_notice(&mut self, dropped: u64) -> SecurityRecord {
        self.assemble(CapturedEvent::notice(
            SecurityEvent::AuditEventsDropped.info(),
            vec![("dropped", FieldValue::U64(dropped))],
            self.clock.now(),
        ))
    }

    /// The `audit.events_dropped` record telling that the sink `sink` gave up `dropped` records
    /// it had accepted, and why.
    pub(crate) fn sink_losses_notice(
        &mut self,
        sink: &str,
        dropped: u64,
        reason: &str,
    ) -> SecurityRecord {
        self.assemble(CapturedEvent::notice(
            SecurityEvent::AuditEventsDropped.info(),
            vec![
                ("dropped", FieldValue::U64(dropped)),
                ("sink", FieldValue::Str(sink.to_owned())),
                ("reason", FieldValue::Str(reason.to_owned())),
            ],
            self.clock.now(),
        ))
    }

    /// The record a sink asked for, as the sink will fill it in.
    pub(crate) fn requested_record(&mut self, request: RecordRequest) -> SecurityRecord {
        let event = match request {
            RecordRequest::Checkpoint => SecurityEvent::AuditCheckpoint,
            RecordRequest::FilesRemoved => SecurityEvent::AuditFilesRemoved,
            RecordRequest::KeyRotated => SecurityEvent::AuditKeyRotated,
        };
        self.assemble(CapturedEvent::notice(
            event.info(),
            Vec::new(),
            self.clock.now(),
        ))
    }

    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    fn next_id(&self, time: DateTime<Utc>) -> Uuid {
        let seconds = u64::try_from(time.timestamp()).unwrap_or(0);
        let timestamp = Timestamp::from_unix(&self.uuids, seconds, time.timestamp_subsec_nanos());
        Uuid::new_v7(timestamp)
    }
}

/// A `changes` value is JSON text: an object or array is kept as such (a `Debug` string holding
/// one, `?"{..}"`, too). Anything else is kept as a string, which redaction withholds.
fn parse_changes(text: String) -> serde_json::Value {
    use serde_json::Value;
    match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        Ok(Value::String(inner)) => match serde_json::from_str::<Value>(&inner) {
            Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}
