//! A record (schema v1, as its JSON line) as an OpenTelemetry log record: event name, severity,
//! body, timestamps, the semantic-convention attributes, and `security_event.*` for the rest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, Severity};
use opentelemetry::Key;
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger};
use serde_json::{Map, Value};

/// Record parts mapped to OpenTelemetry semantic-convention attribute names.
const SEMANTIC: &[(&str, &str, &str)] = &[
    ("actor", "id", "user.id"),
    ("actor", "name", "user.name"),
    ("actor", "email", "user.email"),
    ("actor", "roles", "user.roles"),
    ("session", "id", "session.id"),
    ("client", "ip", "client.address"),
    ("client", "port", "client.port"),
    ("user_agent", "original", "user_agent.original"),
    ("user_agent", "name", "user_agent.name"),
    ("user_agent", "version", "user_agent.version"),
    ("user_agent", "os", "user_agent.os.name"),
    ("request", "method", "http.request.method"),
    ("request", "path", "url.path"),
];

/// Event names are `&'static str` in the OpenTelemetry API. Catalog names are interned once;
/// past this many distinct names (unrecognised ones from a misbehaving caller) the name goes
/// into an attribute only, so memory stays bounded.
const MAX_INTERNED_NAMES: usize = 4096;
const UNRECOGNISED_EVENT_NAME: &str = "security_event.unrecognised";

static INTERNED: Mutex<Option<HashMap<String, &'static str>>> = Mutex::new(None);

fn intern(name: &str) -> &'static str {
    let mut interned = INTERNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let map = interned.get_or_insert_with(HashMap::new);
    if let Some(known) = map.get(name) {
        return known;
    }
    if map.len() >= MAX_INTERNED_NAMES {
        return UNRECOGNISED_EVENT_NAME;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    map.insert(name.to_owned(), leaked);
    leaked
}

/// Severity number and text of a record's `event.severity`.
fn severity(name: &str) -> (Severity, &'static str) {
    match name {
        "debug" => (Severity::Debug, "debug"),
        "info" => (Severity::Info, "info"),
        "warn" => (Severity::Warn, "warn"),
        "error" => (Severity::Error, "error"),
        "critical" => (Severity::Fatal, "critical"),
        _ => (Severity::Info, "info"),
    }
}

/// The log record for one JSON line; `None` for a line that is not a record object.
pub(crate) fn log_record(logger: &SdkLogger, line: &[u8]) -> Option<SdkLogRecord> {
    let Ok(Value::Object(mut record)) = serde_json::from_slice::<Value>(line) else {
        return None;
    };
    let mut log = logger.create_log_record();
    let mut event = match record.remove("event") {
        Some(Value::Object(event)) => event,
        _ => Map::new(),
    };
    if let Some(Value::String(name)) = event.remove("name") {
        log.set_event_name(intern(&name));
        log.add_attribute("security_event.name", name);
    }
    if let Some(Value::String(level)) = event.remove("severity") {
        let (number, text) = severity(&level);
        log.set_severity_number(number);
        log.set_severity_text(text);
    }
    if let Some(Value::String(message)) = record.remove("message") {
        log.set_body(AnyValue::from(message));
    }
    if let Some(time) = record
        .remove("timestamp")
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    {
        log.set_timestamp(SystemTime::from(time));
    }
    log.set_observed_timestamp(SystemTime::now());
    for (part, key, attribute) in SEMANTIC {
        if let Some(value) = record
            .get_mut(*part)
            .and_then(Value::as_object_mut)
            .and_then(|object| object.remove(*key))
        {
            log.add_attribute(*attribute, any_value(value));
        }
    }
    if let Some(Value::Object(mut geo)) = record
        .get_mut("client")
        .and_then(Value::as_object_mut)
        .and_then(|client| client.remove("geo"))
    {
        if let Some(country) = geo.remove("country") {
            log.add_attribute("geo.country.iso_code", any_value(country));
        }
        if let Some(city) = geo.remove("city") {
            log.add_attribute("geo.locality.name", any_value(city));
        }
        add_flattened(
            &mut log,
            "security_event.client.geo".to_owned(),
            Value::Object(geo),
        );
    }
    if let Some(Value::Object(trace)) = record.remove("trace") {
        add_trace_context(&mut log, &trace);
    }
    // Resource attributes carry the service; the chain belongs to the file.
    record.remove("service");
    record.remove("integrity");
    record.remove("schema");
    if let Some(changes) = record.remove("changes") {
        log.add_attribute("security_event.changes", changes.to_string());
    }
    add_flattened(&mut log, "security_event".to_owned(), Value::Object(event));
    add_flattened(&mut log, "security_event".to_owned(), Value::Object(record));
    Some(log)
}

/// Adds `value` under `prefix`, objects flattened with dots (`security_event.target.id`);
/// `fields` keep their own dotted names under `security_event.fields.`.
fn add_flattened(log: &mut SdkLogRecord, prefix: String, value: Value) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                add_flattened(log, format!("{prefix}.{key}"), value);
            }
        }
        value => log.add_attribute(Key::from(prefix), any_value(value)),
    }
}

fn any_value(value: Value) -> AnyValue {
    match value {
        Value::Null => AnyValue::from(""),
        Value::Bool(b) => AnyValue::from(b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => AnyValue::from(i),
            (None, Some(f)) if n.is_f64() => AnyValue::from(f),
            _ => AnyValue::from(n.to_string()),
        },
        Value::String(s) => AnyValue::from(s),
        Value::Array(items) => {
            AnyValue::ListAny(Box::new(items.into_iter().map(any_value).collect()))
        }
        object @ Value::Object(_) => AnyValue::from(object.to_string()),
    }
}

fn add_trace_context(log: &mut SdkLogRecord, trace: &Map<String, Value>) {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
    let trace_id = trace
        .get("trace_id")
        .and_then(Value::as_str)
        .and_then(|id| TraceId::from_hex(id).ok());
    let span_id = trace
        .get("span_id")
        .and_then(Value::as_str)
        .and_then(|id| SpanId::from_hex(id).ok());
    if let (Some(trace_id), Some(span_id)) = (trace_id, span_id) {
        log.set_trace_context(trace_id, span_id, Some(TraceFlags::SAMPLED));
    }
}
