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
            if super::lexicon::is_bare_segment(segment) {
                f.write_str(segment)?;
            } else {
                super::lexicon::write_quoted(f, segment)?;
            }
        }
        Ok(())
    }
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

/// The shortcuts of the language: each name, the paths it stands for and what it is for
/// (`security-log help query` prints this table).
pub const SHORTCUTS: &[(&str, &str, &str)] = &[
    (
        "event",
        "event.name",
        "the event's name (`authentication.failed`)",
    ),
    (
        "type",
        "event.category",
        "the event's category, as Lago calls it",
    ),
    (
        "category",
        "event.category",
        "the event's category (`authentication`, `api_key`)",
    ),
    ("outcome", "event.outcome", "success, failure or unknown"),
    (
        "severity",
        "event.severity",
        "debug < info < warn < error < critical",
    ),
    (
        "user",
        "actor.id, actor.name or actor.email",
        "the actor: a comparison holds when it holds for one",
    ),
    (
        "ip",
        "client.ip",
        "the client's address; compared with a network, membership",
    ),
    (
        "country",
        "client.geo.country",
        "the client's country (ISO 3166 code)",
    ),
    ("tenant", "tenant.id", "the tenant's id"),
    (
        "time",
        "timestamp",
        "when it happened (RFC 3339, 2026-11-22, -24h, today)",
    ),
    ("message", "message", "the record's sentence"),
];

/// The field a one-segment name stands for, when it is a shortcut.
pub(crate) fn shortcut(name: &str) -> Option<Field> {
    let (_, path, _) = SHORTCUTS.iter().find(|(short, _, _)| *short == name)?;
    Some(if name == "user" {
        Field::User
    } else {
        Field::Path(FieldPath::dotted(path))
    })
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

/// The paths of the record (schema v1) and the kind of value each holds; under `fields` and
/// `changes`, any path, of any kind.
pub(crate) const PATHS: &[(&str, Kind)] = {
    use Kind::{Address, Bool, Number, Object, Severity, Text, Time};
    &[
        ("schema", Number),
        ("id", Text),
        ("seq", Number),
        ("timestamp", Time),
        ("message", Text),
        ("event", Object),
        ("event.name", Text),
        ("event.category", Text),
        ("event.severity", Severity),
        ("event.outcome", Text),
        ("event.owasp", Text),
        ("event.reason", Text),
        ("event.source", Text),
        ("event.duration_us", Number),
        ("event.unrecognised", Bool),
        ("actor", Object),
        ("actor.id", Text),
        ("actor.name", Text),
        ("actor.email", Text),
        ("actor.kind", Text),
        ("actor.anonymous_id", Text),
        ("actor.roles", Text),
        ("tenant", Object),
        ("tenant.id", Text),
        ("tenant.name", Text),
        ("session", Object),
        ("session.id", Text),
        ("client", Object),
        ("client.ip", Address),
        ("client.port", Number),
        ("client.geo", Object),
        ("client.geo.country", Text),
        ("client.geo.city", Text),
        ("client.geo.asn", Number),
        ("client.geo.lat", Number),
        ("client.geo.lon", Number),
        ("user_agent", Object),
        ("user_agent.original", Text),
        ("user_agent.name", Text),
        ("user_agent.version", Text),
        ("user_agent.os", Text),
        ("user_agent.device", Text),
        ("request", Object),
        ("request.id", Text),
        ("request.method", Text),
        ("request.path", Text),
        ("target", Object),
        ("target.kind", Text),
        ("target.id", Text),
        ("target.name", Text),
        ("fields", Object),
        ("changes", Object),
        ("trace", Object),
        ("trace.trace_id", Text),
        ("trace.span_id", Text),
        ("service", Object),
        ("service.name", Text),
        ("service.version", Text),
        ("service.instance", Text),
        ("integrity", Object),
        ("integrity.prev", Text),
        ("integrity.hash", Text),
    ]
};

/// The paths of the record the language knows, in the record's order, each with the kind of
/// value it holds ("text", "a number", "a part of the record, not a value"...). Under `fields`
/// and `changes` any path is known.
pub fn known_paths() -> impl Iterator<Item = (&'static str, &'static str)> {
    PATHS.iter().map(|(path, kind)| (*path, kind.describe()))
}

/// The kind of value at a path of the record (schema v1), or `None` when the record has no such
/// path.
pub(crate) fn kind_of(segments: &[String]) -> Option<Kind> {
    if let [first, _, ..] = segments {
        if first == "fields" || first == "changes" {
            return Some(Kind::Any);
        }
    }
    PATHS
        .iter()
        .find(|(path, _)| path.split('.').eq(segments.iter().map(String::as_str)))
        .map(|(_, kind)| *kind)
}

/// The known field most like `written` (a path or a shortcut), to suggest in an error.
pub(crate) fn closest_field(written: &str) -> Option<&'static str> {
    let names = SHORTCUTS
        .iter()
        .map(|(name, _, _)| *name)
        .chain(PATHS.iter().map(|(path, _)| *path));
    super::suggest::closest(written, names)
}
