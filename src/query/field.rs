//! What a comparison looks at: a path into the record as written, or the `user` shortcut; the
//! shortcuts users type; and the kind of value each known path holds, which decides how a value
//! in the query is read (`ip = 10.0.0.1` an address, `time > -24h` a time).

use std::fmt;

/// A path into the record, segment by segment, as written in the query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// A path from its segments (`["fields", "authentication.method"]`).
    pub(crate) fn new(segments: Vec<String>) -> Self {
        FieldPath(segments)
    }

    /// A path of plain segments (`"client.geo.country"`), for the paths the crate knows.
    pub(crate) fn dotted(path: &str) -> Self {
        FieldPath(path.split('.').map(str::to_owned).collect())
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, segment) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(".")?;
            }
            if is_bare_segment(segment) {
                f.write_str(segment)?;
            } else {
                super::expr::write_quoted(f, segment)?;
            }
        }
        Ok(())
    }
}

/// Whether a segment can be written without quotes: `[A-Za-z_][A-Za-z0-9_-]*`, and not a
/// keyword of the language.
pub(crate) fn is_bare_segment(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_segment_char)
        && !super::syntax::KEYWORDS.contains(&segment)
}

/// A character that may follow the first of a bare segment.
pub(crate) fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// What a comparison looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A path into the record.
    Path(FieldPath),
    /// `user`: the actor's id, name or email (a comparison holds when it holds for any).
    User,
}

impl Field {
    /// A field as the language writes one: a shortcut (`event`, `user`) or a path of the
    /// record (`client.geo.country`, `fields."authentication.method"`).
    ///
    /// ```
    /// # use tracing_security_events::query::Field;
    /// assert_eq!(Field::parse("event")?.to_string(), "event.name");
    /// assert!(Field::parse("actor.nmae").is_err());
    /// # Ok::<(), tracing_security_events::query::QueryError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Field, super::QueryError> {
        super::check::field(text)
    }

    /// The paths the field reads.
    pub(crate) fn paths(&self) -> Vec<FieldPath> {
        match self {
            Field::Path(path) => vec![path.clone()],
            Field::User => USER_PATHS.iter().map(|p| FieldPath::dotted(p)).collect(),
        }
    }

    /// The kind of value the field holds.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Field::Path(path) => kind_of(path.segments()).unwrap_or(Kind::Any),
            Field::User => Kind::Text,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Path(path) => path.fmt(f),
            Field::User => f.write_str("user"),
        }
    }
}

/// The paths the `user` shortcut reads.
pub(crate) const USER_PATHS: [&str; 3] = ["actor.id", "actor.name", "actor.email"];

/// The field a one-segment name stands for, when it is a shortcut.
pub(crate) fn shortcut(name: &str) -> Option<Field> {
    let path = match name {
        "user" => return Some(Field::User),
        "event" => "event.name",
        "type" | "category" => "event.category",
        "outcome" => "event.outcome",
        "severity" => "event.severity",
        "ip" => "client.ip",
        "country" => "client.geo.country",
        "tenant" => "tenant.id",
        "time" => "timestamp",
        "message" => "message",
        _ => return None,
    };
    Some(Field::Path(FieldPath::dotted(path)))
}

/// The kind of value at a path, which decides how the query's values are read and which
/// operators apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text: every operator; values are read as text.
    Text,
    /// A number (`seq`, `client.port`): `=`, order, `in`.
    Number,
    /// A time (`timestamp`): values read as times; `=`, order, `in`.
    Time,
    /// An IP address (`client.ip`): values read as addresses or networks; `=`, `in`, text
    /// operators on its written form.
    Address,
    /// A severity (`event.severity`): values read as severities, ordered debug < info < warn <
    /// error < critical.
    Severity,
    /// `true` or `false` (`event.unrecognised`).
    Bool,
    /// A part of the record that holds other fields (`actor`, `fields`): only `exists`.
    Object,
    /// A free-form field (under `fields`, `changes`): values read by their form.
    Any,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "a number",
            Kind::Time => "a time",
            Kind::Address => "an IP address",
            Kind::Severity => "a severity",
            Kind::Bool => "true or false",
            Kind::Object => "a part of the record, not a value",
            Kind::Any => "any value",
        }
    }
}

/// The kind of value at a path of the record (schema v1), or `None` when the record has no such
/// path.
pub(crate) fn kind_of(segments: &[String]) -> Option<Kind> {
    use Kind::{Address, Any, Bool, Number, Object, Severity, Text, Time};
    let names: Vec<&str> = segments.iter().map(String::as_str).collect();
    let kind = match names.as_slice() {
        ["schema" | "seq"] => Number,
        ["id" | "message"] => Text,
        ["timestamp"] => Time,
        ["event" | "actor" | "tenant" | "session" | "client" | "user_agent" | "request"
        | "target" | "fields" | "changes" | "trace" | "service" | "integrity"] => Object,
        ["event", "name" | "category" | "outcome" | "owasp" | "reason" | "source"] => Text,
        ["event", "severity"] => Severity,
        ["event", "duration_us"] => Number,
        ["event", "unrecognised"] => Bool,
        ["actor", "id" | "name" | "email" | "kind" | "anonymous_id" | "roles"] => Text,
        ["tenant", "id" | "name"] => Text,
        ["session", "id"] => Text,
        ["client", "ip"] => Address,
        ["client", "port"] => Number,
        ["client", "geo"] => Object,
        ["client", "geo", "country" | "city"] => Text,
        ["client", "geo", "asn" | "lat" | "lon"] => Number,
        ["user_agent", "original" | "name" | "version" | "os" | "device"] => Text,
        ["request", "id" | "method" | "path"] => Text,
        ["target", "kind" | "id" | "name"] => Text,
        ["fields" | "changes", _, ..] => Any,
        ["trace", "trace_id" | "span_id"] => Text,
        ["service", "name" | "version" | "instance"] => Text,
        ["integrity", "prev" | "hash"] => Text,
        _ => return None,
    };
    Some(kind)
}
