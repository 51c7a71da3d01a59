//! The handle a handler gets to its request's security context.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Span;

use super::client_ip::ClientAddress;
use super::user_agent::ParsedUserAgent;
use crate::record::{Actor, Tenant};

/// The security context of one request, put into the request's extensions by
/// [`SecurityContextLayer`](super::SecurityContextLayer).
///
/// Security events emitted while the handler runs take the request's context (client address,
/// user agent, request id, and the actor once recorded) by themselves. This handle records the
/// actor after authentication and tells handlers what the layer found.
///
/// In axum, take it as an extractor (`security: RequestSecurity`); elsewhere read it from
/// `request.extensions()`.
#[derive(Clone)]
pub struct RequestSecurity {
    span: Span,
    facts: Arc<RequestFacts>,
    vouched: Arc<Mutex<Vouched>>,
}

/// What the service recorded after authentication, for authorization to read back.
#[derive(Debug, Default)]
struct Vouched {
    actor: Option<Actor>,
    tenant: Option<Tenant>,
}

/// What the layer found in the request.
#[derive(Debug)]
pub(crate) struct RequestFacts {
    pub(crate) request_id: String,
    pub(crate) client: Option<ClientAddress>,
    pub(crate) user_agent: Option<String>,
    pub(crate) parsed_user_agent: Option<Arc<ParsedUserAgent>>,
}

impl fmt::Debug for RequestSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSecurity")
            .field("span", &self.span.id())
            .field("facts", &self.facts)
            .field("vouched", &self.vouched)
            .finish()
    }
}

impl RequestSecurity {
    pub(crate) fn new(span: Span, facts: RequestFacts) -> Self {
        RequestSecurity {
            span,
            facts: Arc::new(facts),
            vouched: Arc::default(),
        }
    }

    /// Records who the request acts for: every security event of the request from now on
    /// carries this actor (earlier ones keep what they had, such as `actor.anonymous_id`).
    ///
    /// Parts left unset in `actor` are not recorded; the actor's kind defaults to `user` when an
    /// id is given without one.
    pub fn record_actor(&self, actor: &Actor) {
        let span = &self.span;
        if let Some(id) = &actor.id {
            span.record("actor.id", id.as_str());
            let kind = actor.kind.unwrap_or(crate::record::ActorKind::User);
            span.record("actor.kind", kind.as_str());
        } else if let Some(kind) = actor.kind {
            span.record("actor.kind", kind.as_str());
        }
        if let Some(name) = &actor.name {
            span.record("actor.name", name.as_str());
        }
        if let Some(email) = &actor.email {
            span.record("actor.email", email.as_str());
        }
        if let Some(roles) = &actor.roles {
            span.record("actor.roles", roles.join(", ").as_str());
        }
        if let Some(anonymous_id) = &actor.anonymous_id {
            span.record("actor.anonymous_id", anonymous_id.as_str());
        }
        let mut vouched = self.vouched();
        let known = vouched.actor.get_or_insert_with(Actor::default);
        let merge = |known: &mut Option<String>, new: &Option<String>| {
            if new.is_some() {
                known.clone_from(new);
            }
        };
        merge(&mut known.id, &actor.id);
        merge(&mut known.name, &actor.name);
        merge(&mut known.email, &actor.email);
        merge(&mut known.anonymous_id, &actor.anonymous_id);
        if actor.roles.is_some() {
            known.roles.clone_from(&actor.roles);
        }
        if actor.kind.is_some() {
            known.kind = actor.kind;
        } else if actor.id.is_some() {
            known.kind = Some(crate::record::ActorKind::User);
        }
    }

    /// Records the tenant the request acts in, as the service established it (from the
    /// authenticated user's organization, say): every security event of the request from now on
    /// carries it, and the read API's authorization helpers scope reads to it. It replaces what
    /// [`with_tenant`](super::SecurityContextLayer::with_tenant) found in the request.
    pub fn record_tenant(&self, tenant: &Tenant) {
        if let Some(id) = &tenant.id {
            self.span.record("tenant.id", id.as_str());
        }
        if let Some(name) = &tenant.name {
            self.span.record("tenant.name", name.as_str());
        }
        self.vouched().tenant = Some(tenant.clone());
    }

    /// The actor recorded with [`record_actor`](Self::record_actor) (its parts merged over the
    /// calls), or `None` before authentication.
    pub fn actor(&self) -> Option<Actor> {
        self.vouched().actor.clone()
    }

    /// The tenant recorded with [`record_tenant`](Self::record_tenant): the one the service
    /// vouched for, never what the request claims.
    pub fn tenant(&self) -> Option<Tenant> {
        self.vouched().tenant.clone()
    }

    fn vouched(&self) -> std::sync::MutexGuard<'_, Vouched> {
        // Two plain assignments under the lock: a panic cannot leave it half-written.
        self.vouched.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the session the request belongs to (`session.id`; redacted by default rules).
    pub fn record_session(&self, session_id: &str) {
        self.span.record("session.id", session_id);
    }

    /// The request id: from the configured header when the client sent a valid one, else
    /// generated (a UUIDv7).
    pub fn request_id(&self) -> &str {
        &self.facts.request_id
    }

    /// The client's address, as resolved through the trusted proxies; `None` when the server
    /// gave no peer address.
    pub fn client(&self) -> Option<ClientAddress> {
        self.facts.client
    }

    /// The user agent as sent (cut at the configured length).
    pub fn user_agent(&self) -> Option<&str> {
        self.facts.user_agent.as_deref()
    }

    /// The parsed user agent, when parsing is on and recognised it.
    pub fn parsed_user_agent(&self) -> Option<&ParsedUserAgent> {
        self.facts.parsed_user_agent.as_deref()
    }

    /// The request's span: enter it (`span.in_scope(..)`, `.instrument(span.clone())`) for work
    /// that leaves the handler's task, so its events keep the request's context.
    pub fn span(&self) -> &Span {
        &self.span
    }
}

/// The rejection when [`RequestSecurity`] is extracted but
/// [`SecurityContextLayer`](super::SecurityContextLayer) is not installed in front of the route.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no RequestSecurity in the request: add SecurityContextLayer to the router")]
#[non_exhaustive]
pub struct MissingSecurityContext;

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for MissingSecurityContext {
    fn into_response(self) -> axum_core::response::Response {
        (http::StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for RequestSecurity {
    type Rejection = MissingSecurityContext;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestSecurity>()
            .cloned()
            .ok_or(MissingSecurityContext)
    }
}
