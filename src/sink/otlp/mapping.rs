//! A record (schema v1, as its JSON line) as an OpenTelemetry log record: event name, severity,
//! body, timestamps, the semantic-convention attributes, and `security_event.*` for the rest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord, Logger, Severity};
use opentelemetry::Key;
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger};

use crate::json_view::{Json, Object};

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

/// Flattened attribute keys kept for reuse, at most (field names come from callsites, so there
/// are few; past this, keys are built for each record).
const MAX_CACHED_KEYS: usize = 4096;

/// Maps records to log records, reusing the attribute keys it has built before.
#[derive(Debug, Default)]
pub(crate) struct Mapper {
    keys: HashMap<String, Key>,
    /// The dotted name being built while flattening.
    path: String,
}

impl Mapper {
    /// The log record for one JSON line; `None` for a line that is not a record object.
    pub(crate) fn log_record(&mut self, logger: &SdkLogger, line: &[u8]) -> Option<SdkLogRecord> {
        let Ok(Json::Object(mut record)) = serde_json::from_slice::<Json<'_>>(line) else {
            return None;
        };
        let mut log = logger.create_log_record();
        let mut event = record.take_object("event").unwrap_or_default();
        if let Some(name) = event.take_str("name") {
            log.set_event_name(intern(&name));
            log.add_attribute("security_event.name", name.into_owned());
        }
        if let Some(level) = event.take_str("severity") {
            let (number, text) = severity(&level);
            log.set_severity_number(number);
            log.set_severity_text(text);
        }
        if let Some(message) = record.take_str("message") {
            log.set_body(AnyValue::from(message.into_owned()));
        }
        if let Some(time) = record
            .take_str("timestamp")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        {
            log.set_timestamp(SystemTime::from(time));
        }
        log.set_observed_timestamp(SystemTime::now());
        for (part, key, attribute) in SEMANTIC {
            if let Some(value) = record.object_mut(part).and_then(|object| object.take(key)) {
                log.add_attribute(*attribute, any_value(value));
            }
        }
        if let Some(mut geo) = record
            .object_mut("client")
            .and_then(|client| client.take_object("geo"))
        {
            if let Some(country) = geo.take("country") {
                log.add_attribute("geo.country.iso_code", any_value(country));
            }
            if let Some(city) = geo.take("city") {
                log.add_attribute("geo.locality.name", any_value(city));
            }
            if let Some(lat) = geo.take("lat") {
                log.add_attribute("geo.location.lat", any_value(lat));
            }
            if let Some(lon) = geo.take("lon") {
                log.add_attribute("geo.location.lon", any_value(lon));
            }
            self.add_flattened(&mut log, "security_event.client.geo", Json::Object(geo));
        }
        if let Some(trace) = record.take_object("trace") {
            add_trace_context(&mut log, &trace);
        }
        // Resource attributes carry the service; the chain belongs to the file.
        record.take("service");
        record.take("integrity");
        record.take("schema");
        if let Some(changes) = record.take("changes") {
            let text = serde_json::to_string(&changes).unwrap_or_default();
            log.add_attribute("security_event.changes", text);
        }
        self.add_flattened(&mut log, "security_event", Json::Object(event));
        self.add_flattened(&mut log, "security_event", Json::Object(record));
        Some(log)
    }

    /// Adds `value` under `prefix`, objects flattened with dots (`security_event.target.id`);
    /// `fields` keep their own dotted names under `security_event.fields.`.
    fn add_flattened(&mut self, log: &mut SdkLogRecord, prefix: &str, value: Json<'_>) {
        self.path.clear();
        self.path.push_str(prefix);
        self.flatten(log, value);
    }

    fn flatten(&mut self, log: &mut SdkLogRecord, value: Json<'_>) {
        match value {
            Json::Object(object) => {
                for (key, value) in object.into_members() {
                    let len = self.path.len();
                    self.path.push('.');
                    self.path.push_str(&key);
                    self.flatten(log, value);
                    self.path.truncate(len);
                }
            }
            value => {
                let key = self.key();
                log.add_attribute(key, any_value(value));
            }
        }
    }

    /// The key for the current path, built once.
    fn key(&mut self) -> Key {
        if let Some(key) = self.keys.get(self.path.as_str()) {
            return key.clone();
        }
        let key = Key::from(std::sync::Arc::<str>::from(self.path.as_str()));
        if self.keys.len() < MAX_CACHED_KEYS {
            self.keys.insert(self.path.clone(), key.clone());
        }
        key
    }
}

fn any_value(value: Json<'_>) -> AnyValue {
    match value {
        Json::Null => AnyValue::from(""),
        Json::Bool(b) => AnyValue::from(b),
        Json::I64(i) => AnyValue::from(i),
        // Past i64: as text, like serde_json's numbers were.
        Json::U64(u) => AnyValue::from(u.to_string()),
        Json::F64(f) => AnyValue::from(f),
        Json::Str(s) => AnyValue::from(s.into_owned()),
        Json::Array(items) => {
            AnyValue::ListAny(Box::new(items.into_iter().map(any_value).collect()))
        }
        object @ Json::Object(_) => {
            AnyValue::from(serde_json::to_string(&object).unwrap_or_default())
        }
    }
}

fn add_trace_context(log: &mut SdkLogRecord, trace: &Object<'_>) {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
    let trace_id = trace
        .get_str("trace_id")
        .and_then(|id| TraceId::from_hex(id).ok());
    let span_id = trace
        .get_str("span_id")
        .and_then(|id| SpanId::from_hex(id).ok());
    if let (Some(trace_id), Some(span_id)) = (trace_id, span_id) {
        log.set_trace_context(trace_id, span_id, Some(TraceFlags::SAMPLED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::LoggerProvider as _;
    use opentelemetry_sdk::logs::SdkLoggerProvider;

    #[test]
    fn every_part_of_a_record_lands_where_the_mapping_says() {
        let line = br#"{"schema":1,"id":"01a2","seq":7,"timestamp":"2026-11-22T07:41:06.685320Z","event":{"name":"user.role_changed","category":"user","outcome":"success","severity":"critical","owasp":"authz_admin"},"message":"alice made bob admin","actor":{"id":"42","name":"alice","kind":"user","roles":["admin","ops"]},"tenant":{"id":"acme","name":"Acme"},"session":{"id":"***1337"},"client":{"ip":"203.0.113.7","port":51234,"geo":{"country":"NL","city":"Amsterdam","asn":64500}},"user_agent":{"original":"curl/8","device":"other"},"request":{"id":"r-1","method":"POST","path":"/users/7/role"},"target":{"kind":"user","id":"7"},"changes":{"role":{"old":"viewer","new":"admin"}},"fields":{"ticket":"T-1","big":18446744073709551615,"ratio":0.5,"ok":true,"line\nbreak":"a\"b"},"trace":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"},"service":{"name":"svc"},"integrity":{"prev":"00","hash":"11"}}"#;
        let provider = SdkLoggerProvider::builder().build();
        let logger = provider.logger("test");
        let log = Mapper::default().log_record(&logger, line).unwrap();

        assert_eq!(log.event_name(), Some("user.role_changed"));
        assert_eq!(log.severity_number(), Some(Severity::Fatal));
        assert_eq!(log.body(), Some(&AnyValue::from("alice made bob admin")));
        let expected_time = chrono::DateTime::parse_from_rfc3339("2026-11-22T07:41:06.685320Z")
            .map(SystemTime::from)
            .unwrap();
        assert_eq!(log.timestamp(), Some(expected_time));
        let trace = log.trace_context().unwrap();
        assert_eq!(
            trace.trace_id.to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );

        let attributes: HashMap<String, AnyValue> = log
            .attributes_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let text = |s: &str| AnyValue::from(s.to_owned());
        let expected = [
            ("security_event.name", text("user.role_changed")),
            ("security_event.category", text("user")),
            ("security_event.outcome", text("success")),
            ("security_event.owasp", text("authz_admin")),
            ("security_event.id", text("01a2")),
            ("security_event.seq", AnyValue::from(7_i64)),
            ("user.id", text("42")),
            ("user.name", text("alice")),
            ("security_event.actor.kind", text("user")),
            ("security_event.tenant.id", text("acme")),
            ("security_event.tenant.name", text("Acme")),
            (
                "user.roles",
                AnyValue::ListAny(Box::new(vec![text("admin"), text("ops")])),
            ),
            ("session.id", text("***1337")),
            ("client.address", text("203.0.113.7")),
            ("client.port", AnyValue::from(51234_i64)),
            ("geo.country.iso_code", text("NL")),
            ("geo.locality.name", text("Amsterdam")),
            ("security_event.client.geo.asn", AnyValue::from(64500_i64)),
            ("user_agent.original", text("curl/8")),
            ("security_event.user_agent.device", text("other")),
            ("security_event.request.id", text("r-1")),
            ("http.request.method", text("POST")),
            ("url.path", text("/users/7/role")),
            ("security_event.target.kind", text("user")),
            ("security_event.target.id", text("7")),
            (
                "security_event.changes",
                text(r#"{"role":{"old":"viewer","new":"admin"}}"#),
            ),
            ("security_event.fields.ticket", text("T-1")),
            ("security_event.fields.big", text("18446744073709551615")),
            ("security_event.fields.ratio", AnyValue::from(0.5)),
            ("security_event.fields.ok", AnyValue::from(true)),
            ("security_event.fields.line\nbreak", text("a\"b")),
        ];
        for (key, value) in &expected {
            assert_eq!(attributes.get(*key), Some(value), "{key}");
        }
        assert_eq!(attributes.len(), expected.len(), "{attributes:#?}");
    }

    #[test]
    fn a_line_that_is_not_a_record_maps_to_nothing() {
        let provider = SdkLoggerProvider::builder().build();
        let logger = provider.logger("test");
        let mut mapper = Mapper::default();
        assert!(mapper.log_record(&logger, b"[1,2]").is_none());
        assert!(mapper.log_record(&logger, b"{\"cut\":").is_none());
    }
}
