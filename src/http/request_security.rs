//! The handle a handler gets to its request's security context.

use std::fmt;
use std::sync::Arc;

use tracing::Span;

use super::client_ip::ClientAddress;
use super::user_agent::ParsedUserAgent;
use crate::context::Actor;

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
            .finish()
    }
}

impl RequestSecurity {
    pub(crate) fn new(span: Span, facts: RequestFacts) -> Self {
        RequestSecurity {
            span,
            facts: Arc::new(facts),
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
            let kind = actor.kind.unwrap_or(crate::context::ActorKind::User);
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
