//! Typed context: who did it, from where, with what, in which request, to what.
//!
//! Context fields (`actor.id`, `client.ip`, ...) may sit on spans or on the event itself. They are
//! parsed once, when recorded, into [`ContextFields`]; an event's record takes its own first,
//! then the nearest ancestor span's, and so on outwards.

use std::net::{IpAddr, SocketAddr};

use crate::event::Outcome;
use crate::record::{
    Actor, Client, ClientGeo, Request, Session, Target, Tenant, TraceContext, UserAgent,
};
use crate::value::FieldValue;

/// A recognised context field, after resolving OpenTelemetry aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContextKey {
    ActorId,
    ActorName,
    ActorEmail,
    ActorKind,
    ActorAnonymousId,
    ActorRoles,
    TenantId,
    TenantName,
    SessionId,
    ClientIp,
    ClientPort,
    UserAgent,
    UserAgentName,
    UserAgentVersion,
    UserAgentOs,
    UserAgentDevice,
    GeoCountry,
    GeoCity,
    GeoAsn,
    GeoLat,
    GeoLon,
    RequestId,
    HttpMethod,
    UrlPath,
    TargetKind,
    TargetId,
    TargetName,
    Outcome,
    Reason,
    Source,
    /// Request-scoped detail kept under `fields` of every record in the request (the raw
    /// forwarding chain, the query string): the static field name.
    Carried(&'static str),
}

impl ContextKey {
    /// The key a field name stands for, if it is a recognised context field or an alias of one.
    pub(crate) fn from_field_name(name: &str) -> Option<Self> {
        Some(match name {
            "actor.id" | "user.id" | "enduser.id" => ContextKey::ActorId,
            "actor.name" | "user.name" => ContextKey::ActorName,
            "actor.email" | "user.email" => ContextKey::ActorEmail,
            "actor.kind" => ContextKey::ActorKind,
            "actor.anonymous_id" => ContextKey::ActorAnonymousId,
            "actor.roles" | "user.roles" => ContextKey::ActorRoles,
            "tenant.id" | "organization.id" => ContextKey::TenantId,
            "tenant.name" | "organization.name" => ContextKey::TenantName,
            "session.id" => ContextKey::SessionId,
            "client.ip" | "client.address" => ContextKey::ClientIp,
            "client.port" => ContextKey::ClientPort,
            "user_agent" | "user_agent.original" => ContextKey::UserAgent,
            "user_agent.name" => ContextKey::UserAgentName,
            "user_agent.version" => ContextKey::UserAgentVersion,
            "user_agent.os" | "user_agent.os.name" => ContextKey::UserAgentOs,
            "user_agent.device" => ContextKey::UserAgentDevice,
            "client.geo.country" | "geo.country.iso_code" => ContextKey::GeoCountry,
            "client.geo.city" | "geo.locality.name" => ContextKey::GeoCity,
            "client.geo.asn" => ContextKey::GeoAsn,
            "client.geo.lat" | "geo.location.lat" => ContextKey::GeoLat,
            "client.geo.lon" | "geo.location.lon" => ContextKey::GeoLon,
            "request.id" => ContextKey::RequestId,
            "http.method" | "http.request.method" => ContextKey::HttpMethod,
            "url.path" => ContextKey::UrlPath,
            "target.kind" => ContextKey::TargetKind,
            "target.id" => ContextKey::TargetId,
            "target.name" => ContextKey::TargetName,
            "outcome" => ContextKey::Outcome,
            "reason" => ContextKey::Reason,
            "source" => ContextKey::Source,
            // Carried from a request span into the `fields` of the records inside it.
            "http.request.header.x-forwarded-for" => {
                ContextKey::Carried("http.request.header.x-forwarded-for")
            }
            "http.request.header.forwarded" => ContextKey::Carried("http.request.header.forwarded"),
            "url.query" => ContextKey::Carried("url.query"),
            _ => return None,
        })
    }
}

/// The OpenTelemetry ids as the caller takes them: plain bytes, made text on the worker.
#[cfg(feature = "trace-context")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: opentelemetry::trace::TraceId,
    pub(crate) span_id: opentelemetry::trace::SpanId,
}

#[cfg(feature = "trace-context")]
impl From<TraceIds> for TraceContext {
    fn from(ids: TraceIds) -> Self {
        TraceContext::new(ids.trace_id.to_string(), ids.span_id.to_string())
    }
}

/// The context fields recorded on one span or event, typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ContextFields {
    pub(crate) actor: Actor,
    pub(crate) tenant: Tenant,
    pub(crate) session: Session,
    pub(crate) client: Client,
    pub(crate) user_agent: UserAgent,
    pub(crate) request: Request,
    pub(crate) target: Target,
    /// Describes the event itself: never inherited from an ancestor.
    pub(crate) outcome: Option<Outcome>,
    /// Describes the event itself: never inherited from an ancestor.
    pub(crate) reason: Option<String>,
    pub(crate) source: Option<String>,
    /// Request-scoped detail for `fields` ([`ContextKey::Carried`]), inherited like the rest.
    pub(crate) carried: Vec<(&'static str, String)>,
    /// Read from the OpenTelemetry layer for the event itself; never inherited.
    pub(crate) trace: Option<TraceContext>,
}

impl ContextFields {
    /// Sets `key` from `value`. A value that does not parse as the key's type (an IP address that
    /// is not one, a port over 65535, an unknown actor kind) is handed back, to be kept under
    /// `fields` rather than lost.
    pub(crate) fn set(&mut self, key: ContextKey, value: FieldValue) -> Result<(), FieldValue> {
        match key {
            ContextKey::ClientPort => match value.to_u64().and_then(|p| u16::try_from(p).ok()) {
                Some(port) => self.client.port = Some(port),
                None => return Err(value),
            },
            ContextKey::ClientIp => {
                let text = value.text();
                let text = text.trim();
                if let Ok(ip) = text.parse::<IpAddr>() {
                    self.client.ip = Some(ip);
                } else if let Ok(socket) = text.parse::<SocketAddr>() {
                    self.client.ip = Some(socket.ip());
                    self.client.port = Some(socket.port());
                } else {
                    return Err(value);
                }
            }
            ContextKey::ActorKind => match value.text().parse() {
                Ok(kind) => self.actor.kind = Some(kind),
                Err(()) => return Err(value),
            },
            ContextKey::Outcome => match value.text().parse() {
                Ok(outcome) => self.outcome = Some(outcome),
                Err(_) => return Err(value),
            },
            ContextKey::ActorRoles => self.actor.roles = Some(parse_roles(&value.text())),
            ContextKey::ActorId => self.actor.id = Some(value.into_text()),
            ContextKey::ActorName => self.actor.name = Some(value.into_text()),
            ContextKey::ActorEmail => self.actor.email = Some(value.into_text()),
            ContextKey::ActorAnonymousId => self.actor.anonymous_id = Some(value.into_text()),
            ContextKey::TenantId => self.tenant.id = Some(value.into_text()),
            ContextKey::TenantName => self.tenant.name = Some(value.into_text()),
            ContextKey::SessionId => self.session.id = Some(value.into_text()),
            ContextKey::UserAgent => self.user_agent.original = Some(value.into_text()),
            ContextKey::UserAgentName => self.user_agent.name = Some(value.into_text()),
            ContextKey::UserAgentVersion => self.user_agent.version = Some(value.into_text()),
            ContextKey::UserAgentOs => self.user_agent.os = Some(value.into_text()),
            ContextKey::UserAgentDevice => self.user_agent.device = Some(value.into_text()),
            ContextKey::GeoCountry => self.geo().country = Some(value.into_text()),
            ContextKey::GeoCity => self.geo().city = Some(value.into_text()),
            ContextKey::GeoAsn => match value.to_u64().and_then(|asn| u32::try_from(asn).ok()) {
                Some(asn) => self.geo().asn = Some(asn),
                None => return Err(value),
            },
            ContextKey::GeoLat => match value.to_f64().filter(|lat| lat.abs() <= 90.0) {
                Some(lat) => self.geo().lat = Some(lat),
                None => return Err(value),
            },
            ContextKey::GeoLon => match value.to_f64().filter(|lon| lon.abs() <= 180.0) {
                Some(lon) => self.geo().lon = Some(lon),
                None => return Err(value),
            },
            ContextKey::Carried(name) => {
                let text = value.into_text();
                match self.carried.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = text,
                    None => self.carried.push((name, text)),
                }
            }
            ContextKey::RequestId => self.request.id = Some(value.into_text()),
            ContextKey::HttpMethod => self.request.method = Some(value.into_text()),
            ContextKey::UrlPath => self.request.path = Some(value.into_text()),
            ContextKey::TargetKind => self.target.kind = Some(value.into_text()),
            ContextKey::TargetId => self.target.id = Some(value.into_text()),
            ContextKey::TargetName => self.target.name = Some(value.into_text()),
            ContextKey::Reason => self.reason = Some(value.into_text()),
            ContextKey::Source => self.source = Some(value.into_text()),
        }
        Ok(())
    }

    fn geo(&mut self) -> &mut ClientGeo {
        self.client.geo.get_or_insert_with(ClientGeo::default)
    }

    /// Fills what is still unset from an outer context (an ancestor span's).
    pub(crate) fn inherit_from(&mut self, outer: &ContextFields) {
        self.actor.fill_missing_from(&outer.actor);
        self.tenant.fill_missing_from(&outer.tenant);
        self.session.fill_missing_from(&outer.session);
        self.client.fill_missing_from(&outer.client);
        self.user_agent.fill_missing_from(&outer.user_agent);
        self.request.fill_missing_from(&outer.request);
        self.target.fill_missing_from(&outer.target);
        if self.source.is_none() {
            self.source.clone_from(&outer.source);
        }
        for (name, value) in &outer.carried {
            if !self.carried.iter().any(|(own, _)| own == name) {
                self.carried.push((name, value.clone()));
            }
        }
    }
}

/// `"admin, billing"` or the `Debug` form of a list, `["admin", "billing"]`.
fn parse_roles(text: &str) -> Vec<String> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(inner);
    inner
        .split(',')
        .map(|role| role.trim().trim_matches('"').to_owned())
        .filter(|role| !role.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ActorKind;

    fn text(s: &str) -> FieldValue {
        FieldValue::Str(s.to_owned())
    }

    #[test]
    fn aliases_resolve_to_the_same_key() {
        for (alias, name) in [
            ("user.id", "actor.id"),
            ("enduser.id", "actor.id"),
            ("client.address", "client.ip"),
            ("user_agent.original", "user_agent"),
            ("http.request.method", "http.method"),
        ] {
            assert_eq!(
                ContextKey::from_field_name(alias),
                ContextKey::from_field_name(name)
            );
        }
        assert_eq!(ContextKey::from_field_name("password"), None);
    }

    #[test]
    fn values_are_typed_or_handed_back() {
        let mut ctx = ContextFields::default();
        ctx.set(ContextKey::ClientIp, text("2001:db8::1")).unwrap();
        assert_eq!(ctx.client.ip, Some("2001:db8::1".parse().unwrap()));
        ctx.set(ContextKey::ClientIp, text("203.0.113.7:51234"))
            .unwrap();
        assert_eq!(ctx.client.port, Some(51234));
        ctx.set(ContextKey::ClientPort, FieldValue::I64(443))
            .unwrap();
        assert_eq!(ctx.client.port, Some(443));
        assert_eq!(
            ctx.set(ContextKey::ClientIp, text("not an ip")),
            Err(text("not an ip"))
        );
        assert!(ctx
            .set(ContextKey::ClientPort, FieldValue::U64(70_000))
            .is_err());
        assert!(ctx.set(ContextKey::ActorKind, text("robot")).is_err());
        ctx.set(ContextKey::ActorKind, text("API_KEY")).unwrap();
        assert_eq!(ctx.actor.kind, Some(ActorKind::ApiKey));
        ctx.set(ContextKey::ActorId, FieldValue::U64(42)).unwrap();
        assert_eq!(ctx.actor.id.as_deref(), Some("42"));
    }

    #[test]
    fn roles_parse_from_lists_and_debug_output() {
        assert_eq!(parse_roles("admin, billing"), ["admin", "billing"]);
        assert_eq!(parse_roles(r#"["admin", "billing"]"#), ["admin", "billing"]);
        assert!(parse_roles("[]").is_empty());
    }

    #[test]
    fn inheritance_keeps_own_values_and_skips_outcome_and_reason() {
        let mut own = ContextFields::default();
        own.set(ContextKey::ActorId, text("own")).unwrap();
        let mut outer = ContextFields::default();
        outer.set(ContextKey::ActorId, text("outer")).unwrap();
        outer.set(ContextKey::ActorName, text("alice")).unwrap();
        outer.set(ContextKey::Outcome, text("failure")).unwrap();
        outer.set(ContextKey::Reason, text("outer reason")).unwrap();
        own.inherit_from(&outer);
        assert_eq!(own.actor.id.as_deref(), Some("own"));
        assert_eq!(own.actor.name.as_deref(), Some("alice"));
        assert_eq!(own.outcome, None);
        assert_eq!(own.reason, None);
    }
}
