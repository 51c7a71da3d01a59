//! The parts of a record that say who did it, from where, with what, in which request, to
//! what: `actor`, `tenant`, `session`, `client`, `user_agent`, `request`, `target`, `trace`.

use std::net::IpAddr;
use std::str::FromStr;

use serde::Serialize;

/// What kind of party an actor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person with an account.
    User,
    /// Another service, acting on its own behalf.
    Service,
    /// A caller identified by an API key.
    ApiKey,
    /// A visitor who is not signed in.
    Anonymous,
    /// The service itself (scheduled jobs, start-up).
    System,
}

impl ActorKind {
    /// The name written in records (`user`, `api_key`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Service => "service",
            ActorKind::ApiKey => "api_key",
            ActorKind::Anonymous => "anonymous",
            ActorKind::System => "system",
        }
    }
}

impl FromStr for ActorKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "user" => ActorKind::User,
            "service" => ActorKind::Service,
            "api_key" => ActorKind::ApiKey,
            "anonymous" => ActorKind::Anonymous,
            "system" => ActorKind::System,
            _ => return Err(()),
        })
    }
}

/// Who did it: `actor` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Actor {
    /// Stable identifier (`actor.id`, alias `user.id`, `enduser.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (`actor.name`, alias `user.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address (`actor.email`, alias `user.email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Kind of actor (`actor.kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ActorKind>,
    /// Identifier of a visitor who is not signed in (`actor.anonymous_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// Roles (`actor.roles`, alias `user.roles`): a comma-separated list or a `Debug` list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl Actor {
    /// An actor of `kind` known by `id`; add the rest with the `with_*` methods.
    pub fn new(kind: ActorKind, id: impl Into<String>) -> Self {
        Actor {
            id: Some(id.into()),
            kind: Some(kind),
            ..Actor::default()
        }
    }

    /// A signed-in user known by `id`.
    pub fn user(id: impl Into<String>) -> Self {
        Actor::new(ActorKind::User, id)
    }

    /// With a display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With an email address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// With roles.
    #[must_use]
    pub fn with_roles<I, R>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        self.roles = Some(roles.into_iter().map(Into::into).collect());
        self
    }
}

/// Whose data it was, in a multi-tenant service (an organization, an app, a brand): `tenant`
/// in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tenant {
    /// Tenant identifier (`tenant.id`, alias `organization.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its display name (`tenant.name`, alias `organization.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Tenant {
    /// The tenant known by `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Tenant {
            id: Some(id.into()),
            name: None,
        }
    }

    /// With a display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The session the actor acted in: `session` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Session {
    /// Session identifier (`session.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Where the request came from: `client` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Client {
    /// IP address (`client.ip`, alias `client.address`); an `ip:port` value fills both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Source port (`client.port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Where the address is, from a geolocation database (`client.geo.*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<ClientGeo>,
}

/// Where a client address is: `client.geo` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClientGeo {
    /// ISO 3166-1 country code (`client.geo.country`, alias `geo.country.iso_code`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// City name (`client.geo.city`, alias `geo.locality.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Autonomous system number of the network (`client.geo.asn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Latitude in degrees, WGS 84 (`client.geo.lat`, alias `geo.location.lat`); with `lon`,
    /// what impossible-travel detection measures distances with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude in degrees, WGS 84 (`client.geo.lon`, alias `geo.location.lon`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

impl ClientGeo {
    /// Latitude and longitude, when both are known and finite.
    pub fn location(&self) -> Option<(f64, f64)> {
        self.lat
            .zip(self.lon)
            .filter(|(lat, lon)| lat.is_finite() && lon.is_finite())
    }
}

/// What the client used: `user_agent` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserAgent {
    /// The user agent string as sent (`user_agent`, alias `user_agent.original`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// Browser or client name, parsed (`user_agent.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version (`user_agent.version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Operating system (`user_agent.os`, alias `user_agent.os.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Device class: `desktop`, `mobile`, `tablet`, `bot`, ... (`user_agent.device`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The request the event happened in: `request` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Request {
    /// Request identifier (`request.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// HTTP method (`http.method`, alias `http.request.method`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// URL path, without the query (`url.path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What was acted on: `target` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Target {
    /// Kind of object (`target.kind`: `user`, `api_key`, `report`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its identifier (`target.id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its display name (`target.name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

macro_rules! impl_is_empty {
    ($($ty:ident { $($field:ident),* })*) => {$(
        impl $ty {
            /// Whether no part is set (the part is then left out of the record).
            pub fn is_empty(&self) -> bool {
                true $(&& self.$field.is_none())*
            }

            /// Sets each part this one lacks from `other` (a span further out).
            #[doc(hidden)]
            pub fn fill_missing_from(&mut self, other: &$ty) {
                $(if self.$field.is_none() {
                    self.$field.clone_from(&other.$field);
                })*
            }
        }
    )*};
}

impl_is_empty! {
    Actor { id, name, email, kind, anonymous_id, roles }
    Tenant { id, name }
    Session { id }
    Client { ip, port, geo }
    UserAgent { original, name, version, os, device }
    Request { id, method, path }
    Target { kind, id, name }
}

/// The OpenTelemetry span the event ran in: `trace` in the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TraceContext {
    /// The trace id, 32 hex digits.
    pub trace_id: String,
    /// The span id, 16 hex digits.
    pub span_id: String,
}

impl TraceContext {
    /// The ids as text: 32 and 16 hex digits.
    pub fn new(trace_id: impl Into<String>, span_id: impl Into<String>) -> Self {
        TraceContext {
            trace_id: trace_id.into(),
            span_id: span_id.into(),
        }
    }
}
