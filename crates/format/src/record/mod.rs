//! The security record, schema version 1: what every sink receives and the file sink writes as
//! one JSON line.
//!
//! Keys come in a fixed order (the order of the fields below); absent parts are left out, never
//! `null`.
//!
//! | key | content |
//! |---|---|
//! | `schema` | `1` |
//! | `id` | UUIDv7: unique, sorts by time |
//! | `seq` | 1, 2, 3, ...: strictly increasing and gap-free for the life of the process |
//! | `timestamp` | RFC 3339, UTC, microseconds: when the event happened |
//! | `event` | `name`, `category`, `outcome` (success, failure, unknown), `severity` (debug, info, warn, error, critical), then when present `owasp`, `reason`, `source`, `duration_us` (span records), `unrecognised: true` |
//! | `message` | the caller's message, or the catalog row's template filled in |
//! | `actor` | `id`, `name`, `email`, `kind`, `anonymous_id`, `roles` |
//! | `tenant` | `id`, `name`: a multi-tenant service's organization, app or brand (`tenant.id`, alias `organization.id`), inherited from spans like the actor |
//! | `session` | `id` |
//! | `client` | `ip`, `port`, `geo` (`country`, `city`, `asn`, `lat`, `lon`: feature `geoip`) |
//! | `user_agent` | `original`, then parsed (feature `http`): `name`, `version`, `os`, `device` |
//! | `request` | `id`, `method`, `path` |
//! | `target` | `kind`, `id`, `name` |
//! | `fields` | every other field of the event, by its `tracing` name, typed (numbers stay numbers); inside a request span also the raw forwarding chain (`http.request.header.x-forwarded-for` or `.forwarded`) and, when asked for, `url.query` |
//! | `changes` | the diff recorded in a `changes` field |
//! | `trace` | `trace_id`, `span_id`: the OpenTelemetry span the event ran in (feature `trace-context`, with `tracing-opentelemetry`'s layer in the same subscriber) |
//! | `service` | `name`, `version`, `instance` |
//! | `integrity` | `prev`, `hash`: the hash chain, written by the file sink (see [`integrity`](crate::integrity)) |

//!
//! The context fields an event or any enclosing span may carry: `actor.id`, `actor.name`,
//! `actor.email`, `actor.kind` (user, service, api_key, anonymous, system), `actor.anonymous_id`,
//! `actor.roles`, `tenant.id`, `tenant.name` (alias `organization.id`), `session.id`,
//! `client.ip`, `client.port`, `user_agent`, `request.id`, `http.method`, `url.path`,
//! `target.kind`, `target.id`, `target.name`, `outcome`, `reason`, `source`, and the
//! OpenTelemetry aliases `user.id`, `enduser.id`, `user.name`, `user.email`, `user.roles`,
//! `client.address`, `user_agent.original`, `http.request.method`.

pub(crate) mod encode;
#[doc(hidden)]
pub mod message;
mod parts;
mod service_identity;

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::event::{Outcome, Severity};
use crate::value::FieldValue;
#[doc(hidden)]
pub use encode::encode_record;
pub use parts::{
    Actor, ActorKind, Client, ClientGeo, Request, Session, Target, Tenant, TraceContext, UserAgent,
};

/// The version of the record layout written in `schema`.
pub const SCHEMA_VERSION: u32 = 1;

/// One security record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SecurityRecord {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// A UUIDv7: unique, and sortable by time.
    pub id: Uuid,
    /// Strictly increasing and gap-free for the life of the process, starting at 1.
    pub seq: u64,
    /// When the event happened (the caller's clock), UTC, written with microseconds.
    #[serde(serialize_with = "rfc3339_micros")]
    pub timestamp: DateTime<Utc>,
    /// What happened.
    pub event: EventSummary,
    /// A sentence for people: the caller's message, or the catalog row's template filled in.
    pub message: String,
    /// Who did it.
    #[serde(skip_serializing_if = "Actor::is_empty")]
    pub actor: Actor,
    /// Whose data (a multi-tenant service's organization, app or brand).
    #[serde(skip_serializing_if = "Tenant::is_empty")]
    pub tenant: Tenant,
    /// In which session.
    #[serde(skip_serializing_if = "Session::is_empty")]
    pub session: Session,
    /// From where.
    #[serde(skip_serializing_if = "Client::is_empty")]
    pub client: Client,
    /// With what.
    #[serde(skip_serializing_if = "UserAgent::is_empty")]
    pub user_agent: UserAgent,
    /// In which request.
    #[serde(skip_serializing_if = "Request::is_empty")]
    pub request: Request,
    /// To what.
    #[serde(skip_serializing_if = "Target::is_empty")]
    pub target: Target,
    /// Every other field of the event, by its `tracing` name.
    #[serde(skip_serializing_if = "Fields::is_empty")]
    pub fields: Fields,
    /// A structured diff (`{"email":{"old":..,"new":..}}`), from a `changes` field holding JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<serde_json::Value>,
    /// The OpenTelemetry trace and span the event ran in (feature `otlp`, with
    /// `tracing-opentelemetry`'s layer installed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
    /// The service that wrote the record.
    #[serde(skip_serializing_if = "ServiceInfo::is_empty")]
    pub service: Arc<ServiceInfo>,
}

impl SecurityRecord {
    /// A record of `event` with every optional part empty, for the writer that fills it in.
    /// Not a public API: records are made by the log, not by hand.
    #[doc(hidden)]
    pub fn new(
        id: Uuid,
        seq: u64,
        timestamp: DateTime<Utc>,
        event: EventSummary,
        service: Arc<ServiceInfo>,
    ) -> Self {
        SecurityRecord {
            schema: SCHEMA_VERSION,
            id,
            seq,
            timestamp,
            event,
            message: String::new(),
            actor: Actor::default(),
            tenant: Tenant::default(),
            session: Session::default(),
            client: Client::default(),
            user_agent: UserAgent::default(),
            request: Request::default(),
            target: Target::default(),
            fields: Fields::default(),
            changes: None,
            trace: None,
            service,
        }
    }
}

/// `event` in the record: the name and its classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EventSummary {
    /// `category.action`.
    pub name: Cow<'static, str>,
    /// The catalog's category; for an unrecognised name, the part before the first dot.
    pub category: Cow<'static, str>,
    /// A recorded `outcome` field, else the catalog's.
    pub outcome: Outcome,
    /// The catalog's severity; for an unrecognised name, from the `tracing` level.
    pub severity: Severity,
    /// The OWASP Logging Vocabulary name, where the catalog gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owasp: Option<&'static str>,
    /// Why (a recorded `reason` field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The component that reported it (a recorded `source` field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For a record made when a span tagged `security_event` closed: how long it was open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// True when the name is in no registered catalog.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unrecognised: bool,
}

impl EventSummary {
    /// The summary of an event with these classifications, its optional parts empty. Not a
    /// public API.
    #[doc(hidden)]
    pub fn new(
        name: Cow<'static, str>,
        category: Cow<'static, str>,
        outcome: Outcome,
        severity: Severity,
    ) -> Self {
        EventSummary {
            name,
            category,
            outcome,
            severity,
            owasp: None,
            reason: None,
            source: None,
            duration_us: None,
            unrecognised: false,
        }
    }
}

/// `service` in the record: the static identity of the writer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// Service name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Service version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Which instance (host name by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl ServiceInfo {
    /// Whether no part is set.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.version.is_none() && self.instance.is_none()
    }
}

/// `fields` in the record: the event's other fields, in the order they were recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(Vec<(&'static str, FieldValue)>);

impl Fields {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the field `name`.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    /// The fields as captured, in the order recorded (field names come from the callsite).
    #[doc(hidden)]
    pub fn from_captured(fields: Vec<(&'static str, FieldValue)>) -> Self {
        Fields(fields)
    }

    #[doc(hidden)]
    pub fn push(&mut self, name: &'static str, value: FieldValue) {
        self.0.push((name, value));
    }

    #[doc(hidden)]
    pub fn retain_mut(&mut self, mut keep: impl FnMut(&str, &mut FieldValue) -> bool) {
        self.0.retain_mut(|(name, value)| keep(name, value));
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn rfc3339_micros<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&time.to_rfc3339_opts(SecondsFormat::Micros, true))
}
