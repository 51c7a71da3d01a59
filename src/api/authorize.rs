//! Who may read the log: the [`Authorize`] hook and the common rules.

use std::collections::HashSet;
use std::fmt;

use http::request::Parts;

use crate::http::RequestSecurity;
use crate::record::{Actor, Tenant};

/// What a reader may see, as the [`Authorize`] hook decides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadScope {
    /// Nothing: the request is refused (401 when no actor was recorded, else 403) and the
    /// refusal recorded as `authorization.denied`.
    Denied,
    /// The records of this tenant only (`tenant.id`).
    Tenant(String),
    /// Every record, of every tenant.
    AllTenants,
}

/// Decides, for each request to the read API, what the reader may see. Runs before anything
/// is read; the answer is enforced inside the store for every list, record, export, count and
/// cursor.
///
/// Implemented for closures `Fn(&ReadRequest<'_>) -> ReadScope`; [`DenyAll`] (the default),
/// [`require_role`] and [`require_permission`] cover the common rules.
///
/// ```
/// use tracing_security_events::api::{ReadRequest, ReadScope};
///
/// // Support staff read everything; an organization's owner reads its own organization's log.
/// let authorizer = |request: &ReadRequest<'_>| {
///     let Some(actor) = request.actor() else { return ReadScope::Denied };
///     let roles = actor.roles.unwrap_or_default();
///     if roles.iter().any(|r| r == "support") {
///         ReadScope::AllTenants
///     } else if let (true, Some(tenant)) = (roles.iter().any(|r| r == "owner"), request.tenant_id()) {
///         ReadScope::Tenant(tenant)
///     } else {
///         ReadScope::Denied
///     }
/// };
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("security.jsonl"), "")?;
/// # let store = tracing_security_events::store::FileStore::open(dir.path().join("security.jsonl"))?;
/// let api = tracing_security_events::api::ReadApi::new(store).with_authorizer(authorizer);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Authorize: Send + Sync + 'static {
    /// What the reader of `request` may see.
    fn authorize(&self, request: &ReadRequest<'_>) -> ReadScope;
}

impl<F> Authorize for F
where
    F: Fn(&ReadRequest<'_>) -> ReadScope + Send + Sync + 'static,
{
    fn authorize(&self, request: &ReadRequest<'_>) -> ReadScope {
        self(request)
    }
}

/// A request to the read API, as the [`Authorize`] hook sees it: its head, and the security
/// context [`SecurityContextLayer`](crate::http::SecurityContextLayer) gave it (with the actor
/// and tenant the service recorded after authentication).
pub struct ReadRequest<'a> {
    parts: &'a Parts,
}

impl fmt::Debug for ReadRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadRequest")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri.path())
            .field("actor", &self.actor())
            .finish_non_exhaustive()
    }
}

impl<'a> ReadRequest<'a> {
    pub(crate) fn new(parts: &'a Parts) -> Self {
        ReadRequest { parts }
    }

    /// The request's method, URI, headers and extensions (where an auth middleware may have
    /// put its own types).
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }

    /// The request's security context, when `SecurityContextLayer` runs in front of the API.
    pub fn security(&self) -> Option<&'a RequestSecurity> {
        self.parts.extensions.get::<RequestSecurity>()
    }

    /// The actor the service recorded ([`RequestSecurity::record_actor`]); `None` when nobody
    /// authenticated.
    pub fn actor(&self) -> Option<Actor> {
        self.security()?.actor()
    }

    /// The tenant the service vouched for ([`RequestSecurity::record_tenant`]); never what a
    /// header or a path claims.
    pub fn tenant(&self) -> Option<Tenant> {
        self.security()?.tenant()
    }

    /// The id of [`tenant`](Self::tenant).
    pub fn tenant_id(&self) -> Option<String> {
        self.tenant()?.id
    }

    /// The permissions an auth middleware granted ([`Permissions`] in the extensions).
    pub fn permissions(&self) -> Option<&'a Permissions> {
        self.parts.extensions.get::<Permissions>()
    }
}

/// Refuses every reader: the default, so nothing is readable until the service says who may
/// read.
#[derive(Debug, Clone, Copy, Default)]
pub struct DenyAll;

impl Authorize for DenyAll {
    fn authorize(&self, _request: &ReadRequest<'_>) -> ReadScope {
        ReadScope::Denied
    }
}

/// The permissions of the request's principal, put into the request's extensions by the
/// service's auth middleware, for [`require_permission`].
///
/// ```
/// use tracing_security_events::api::Permissions;
///
/// let granted = Permissions::new(["security_logs:view", "members:invite"]);
/// assert!(granted.has("security_logs:view"));
/// // request.extensions_mut().insert(granted);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(HashSet<String>);

impl Permissions {
    /// These permissions.
    pub fn new<I, P>(permissions: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        Permissions(permissions.into_iter().map(Into::into).collect())
    }

    /// Whether `permission` is among them.
    pub fn has(&self, permission: &str) -> bool {
        self.0.contains(permission)
    }
}

/// Readers whose actor has `role` (in `actor.roles`, as recorded with
/// [`RequestSecurity::record_actor`]) may read their own tenant's records (the tenant recorded
/// with [`RequestSecurity::record_tenant`]); a reader with the role but no recorded tenant is
/// refused. [`across_tenants`](AccessRule::across_tenants) lets them read every tenant instead (a
/// single-tenant service, or the operator's own staff).
///
/// ```
/// use tracing_security_events::api::require_role;
///
/// let tenant_admins = require_role("admin");
/// let operators = require_role("operator").across_tenants();
/// # let _ = (tenant_admins, operators);
/// ```
pub fn require_role(role: impl Into<String>) -> AccessRule {
    AccessRule {
        need: Need::Role(role.into()),
        across_tenants: false,
    }
}

/// Readers granted `permission` ([`Permissions`] in the request's extensions, from the
/// service's auth middleware) may read their own tenant's records, as with [`require_role`].
pub fn require_permission(permission: impl Into<String>) -> AccessRule {
    AccessRule {
        need: Need::Permission(permission.into()),
        across_tenants: false,
    }
}

/// A rule made by [`require_role`] or [`require_permission`].
#[derive(Debug, Clone)]
pub struct AccessRule {
    need: Need,
    across_tenants: bool,
}

#[derive(Debug, Clone)]
enum Need {
    Role(String),
    Permission(String),
}

impl AccessRule {
    /// Readers who pass the rule see every tenant's records, not only their own.
    #[must_use]
    pub fn across_tenants(mut self) -> Self {
        self.across_tenants = true;
        self
    }
}

impl Authorize for AccessRule {
    fn authorize(&self, request: &ReadRequest<'_>) -> ReadScope {
        let passes = match &self.need {
            Need::Role(role) => request
                .actor()
                .is_some_and(|actor| actor.roles.unwrap_or_default().iter().any(|r| r == role)),
            Need::Permission(permission) => {
                request.permissions().is_some_and(|p| p.has(permission))
            }
        };
        match (passes, self.across_tenants, request.tenant_id()) {
            (false, _, _) => ReadScope::Denied,
            (true, true, _) => ReadScope::AllTenants,
            (true, false, Some(tenant)) => ReadScope::Tenant(tenant),
            (true, false, None) => ReadScope::Denied,
        }
    }
}
