//! A structured diff to record on change events (`config.updated`, `user.updated`).

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// What changed, field by field, written under `changes` in the record:
/// `{"email":{"old":"a@example.com","new":"b@example.com"}}`.
///
/// Record it as `changes = %diff` or `changes = ?diff`: its `Display` and its `Debug` both
/// write the JSON object, so either way the record holds the same structured diff, redacted at
/// every level (a `password` changed is dropped, an `api_key` masked).
///
/// ```
/// use tracing_security_events::{security_event, Changes, SecurityEvent};
///
/// let diff = Changes::new()
///     .field("session_timeout_minutes", 30, 15)
///     .field("mfa_required", false, true);
/// assert_eq!(
///     diff.to_string(),
///     r#"{"session_timeout_minutes":{"old":30,"new":15},"mfa_required":{"old":false,"new":true}}"#
/// );
/// assert_eq!(format!("{diff:?}"), diff.to_string());
/// security_event!(SecurityEvent::ConfigUpdated, actor.id = "admin-1", changes = %diff);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Changes(Map<String, Value>);

impl Changes {
    /// An empty diff.
    pub fn new() -> Self {
        Changes::default()
    }

    /// Adds one changed field with its old and new value. A value that cannot be represented as
    /// JSON is written as the text of its serialisation error rather than dropped.
    pub fn field(
        mut self,
        name: impl Into<String>,
        old: impl Serialize,
        new: impl Serialize,
    ) -> Self {
        let mut change = Map::with_capacity(2);
        change.insert("old".into(), to_json(&old));
        change.insert("new".into(), to_json(&new));
        self.0.insert(name.into(), Value::Object(change));
        self
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_else(|err| Value::String(err.to_string()))
}

/// The JSON object, as `Display` writes it: a derived `Debug` would put the diff in the record
/// as one opaque string, which redaction cannot look into.
impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(&self.0).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}
