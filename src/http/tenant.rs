//! Which tenant a request belongs to, for `tenant.id` in every record it produces.

use std::fmt;

use http::header::HeaderName;
use http::{HeaderMap, Uri};

use crate::record::Tenant;

/// Tenant ids longer than this, or with bytes outside visible ASCII, are not recorded.
const MAX_TENANT_ID_LEN: usize = 128;

/// Finds the tenant of a request before the handler runs, so that every security event of the
/// request carries `tenant.id` (and `tenant.name`). Implemented for closures
/// `Fn(&Uri, &HeaderMap) -> Option<Tenant>`; [`TenantFrom`] has the common ones.
///
/// What the hook finds is recorded, not trusted: a header or a path is written by the client.
/// Authorization (the read API's [`Authorize`](crate::api::Authorize) helpers) looks only at the
/// tenant the service vouched for after authentication, with
/// [`RequestSecurity::record_tenant`](super::RequestSecurity::record_tenant).
pub trait TenantSource: Send + Sync + 'static {
    /// The request's tenant, if it names one.
    fn tenant(&self, uri: &Uri, headers: &HeaderMap) -> Option<Tenant>;
}

impl<F> TenantSource for F
where
    F: Fn(&Uri, &HeaderMap) -> Option<Tenant> + Send + Sync + 'static,
{
    fn tenant(&self, uri: &Uri, headers: &HeaderMap) -> Option<Tenant> {
        self(uri, headers)
    }
}

/// The usual places a tenant is named: a header set by the gateway, or a segment of the path
/// (`/orgs/{tenant}/...`). An id that is empty, longer than 128 bytes or not visible ASCII is
/// not recorded.
///
/// ```
/// use tracing_security_events::http::{SecurityContextLayer, TenantFrom};
///
/// let by_gateway = SecurityContextLayer::new().with_tenant(TenantFrom::header("x-tenant-id"));
/// // `/orgs/acme/members` belongs to `acme`: segment 1, counting from 0.
/// let by_path = SecurityContextLayer::new().with_tenant(TenantFrom::path_segment(1));
/// ```
#[derive(Clone)]
pub struct TenantFrom {
    place: Place,
}

#[derive(Clone)]
enum Place {
    Header(HeaderName),
    PathSegment(usize),
}

impl fmt::Debug for TenantFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::Header(name) => f.debug_tuple("TenantFrom::header").field(name).finish(),
            Place::PathSegment(index) => f
                .debug_tuple("TenantFrom::path_segment")
                .field(index)
                .finish(),
        }
    }
}

impl TenantFrom {
    /// The value of the header `name`.
    ///
    /// # Panics
    ///
    /// When `name` is not a valid header name (a programming error, as with
    /// `HeaderName::from_static`).
    pub fn header(name: &str) -> Self {
        let name = HeaderName::try_from(name)
            .unwrap_or_else(|_| panic!("{name:?} is not a valid header name"));
        TenantFrom {
            place: Place::Header(name),
        }
    }

    /// The path segment at `index`, counting from 0 after the leading `/`.
    pub fn path_segment(index: usize) -> Self {
        TenantFrom {
            place: Place::PathSegment(index),
        }
    }
}

impl TenantSource for TenantFrom {
    fn tenant(&self, uri: &Uri, headers: &HeaderMap) -> Option<Tenant> {
        let id = match &self.place {
            Place::Header(name) => headers.get(name)?.as_bytes(),
            Place::PathSegment(index) => uri
                .path()
                .trim_start_matches('/')
                .split('/')
                .nth(*index)?
                .as_bytes(),
        };
        is_valid_tenant_id(id).then(|| Tenant::new(String::from_utf8_lossy(id)))
    }
}

fn is_valid_tenant_id(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_TENANT_ID_LEN && id.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_or_a_path_segment_names_the_tenant_when_it_is_a_plain_id() {
        let uri: Uri = "/orgs/acme/members?x=1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant-id", "globex".parse().unwrap());
        let id = |t: Option<Tenant>| t.and_then(|t| t.id);
        assert_eq!(
            id(TenantFrom::path_segment(1).tenant(&uri, &headers)).as_deref(),
            Some("acme")
        );
        assert_eq!(
            id(TenantFrom::path_segment(0).tenant(&uri, &headers)).as_deref(),
            Some("orgs")
        );
        assert_eq!(id(TenantFrom::path_segment(5).tenant(&uri, &headers)), None);
        assert_eq!(
            id(TenantFrom::header("x-tenant-id").tenant(&uri, &headers)).as_deref(),
            Some("globex")
        );
        assert_eq!(
            id(TenantFrom::header("x-other").tenant(&uri, &headers)),
            None
        );
        headers.insert("x-tenant-id", "has space".parse().unwrap());
        assert_eq!(
            id(TenantFrom::header("x-tenant-id").tenant(&uri, &headers)),
            None
        );
        let empty: Uri = "/orgs//members".parse().unwrap();
        assert_eq!(
            id(TenantFrom::path_segment(1).tenant(&empty, &headers)),
            None
        );
    }
}
