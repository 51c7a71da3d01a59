//! The tower middleware: one context span per request.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::{HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Request, Response};
use tracing::field::Empty;
use tracing::Span;

use super::client_ip::{ClientIpResolver, ForwardedHeader, TrustedProxies};
use super::request_security::{RequestFacts, RequestSecurity};
use super::tenant::TenantSource;
use super::user_agent::UserAgentParser;
use super::ParsedUserAgent;
use crate::value::BoundedText;

/// Request ids longer than this, or with bytes outside visible ASCII, are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Gives the id of a visitor who is not signed in (from a cookie, say), for
/// `actor.anonymous_id`. Implemented for closures `Fn(&HeaderMap) -> Option<String>`.
pub trait AnonymousId: Send + Sync + 'static {
    /// The visitor's id, if the request carries one.
    fn anonymous_id(&self, headers: &HeaderMap) -> Option<String>;
}

impl<F> AnonymousId for F
where
    F: Fn(&HeaderMap) -> Option<String> + Send + Sync + 'static,
{
    fn anonymous_id(&self, headers: &HeaderMap) -> Option<String> {
        self(headers)
    }
}

/// Finds the socket peer of a request in its extensions, for servers that put it somewhere the
/// layer does not look by itself (tonic's `TcpConnectInfo`, say). Implemented for closures
/// `Fn(&http::Extensions) -> Option<SocketAddr>`.
pub trait PeerAddress: Send + Sync + 'static {
    /// The peer's address, if the extensions hold it.
    fn peer_address(&self, extensions: &http::Extensions) -> Option<SocketAddr>;
}

impl<F> PeerAddress for F
where
    F: Fn(&http::Extensions) -> Option<SocketAddr> + Send + Sync + 'static,
{
    fn peer_address(&self, extensions: &http::Extensions) -> Option<SocketAddr> {
        self(extensions)
    }
}

/// axum's `ConnectInfo<SocketAddr>` (or `MockConnectInfo`, as tests set it), else a bare
/// `SocketAddr`.
fn default_peer_address(extensions: &http::Extensions) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    {
        use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
        let axum_peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
            .or_else(|| {
                extensions
                    .get::<MockConnectInfo<SocketAddr>>()
                    .map(|mock| mock.0)
            });
        if axum_peer.is_some() {
            return axum_peer;
        }
    }
    extensions.get::<SocketAddr>().copied()
}

/// A tower [`Layer`](tower_layer::Layer) that opens a span per request carrying the recognised
/// context fields, so every security event of the request is enriched without the handler's help:
///
/// | field | from |
/// |---|---|
/// | `client.ip`, `client.port` | the socket peer (axum `ConnectInfo<SocketAddr>`, a `SocketAddr` extension, or [your lookup](Self::with_peer_address)), or the forwarding header when the peer is a [trusted proxy](Self::with_trusted_proxies) |
/// | `user_agent`, `user_agent.{name,version,os,device}` | `User-Agent`, cut at 1 KiB, parsed with a cache |
/// | `request.id` | the [request id header](Self::with_request_id_header) (`x-request-id`) when valid, else a new UUIDv7; echoed on the response |
/// | `http.method`, `url.path` | the request line; the query string only [on request](Self::with_query) |
/// | `actor.*`, `session.id` | recorded later through [`RequestSecurity`] |
/// | `actor.anonymous_id` | [`with_anonymous_id`](Self::with_anonymous_id) |
/// | `fields."http.request.header.x-forwarded-for"` | the raw forwarding chain, for forensics |
///
/// It also puts a [`RequestSecurity`] into the request's extensions.
///
/// ```
/// # #[cfg(feature = "axum")] { // the example uses axum
/// use axum::{routing::post, Router};
/// use tracing_security_events::http::{RequestSecurity, SecurityContextLayer};
/// use tracing_security_events::{security_event, Actor, SecurityEvent};
///
/// async fn sign_in(security: RequestSecurity) -> &'static str {
///     security.record_actor(&Actor::user("42").with_name("alice"));
///     security_event!(SecurityEvent::LoginSucceeded, authentication.method = "password");
///     "welcome"
/// }
///
/// let proxies = "10.0.0.0/8".parse()?;
/// let app: Router = Router::new()
///     .route("/sign-in", post(sign_in))
///     .layer(SecurityContextLayer::new().with_trusted_proxies(proxies));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The span is at level INFO with target `security`: a global filter that turns INFO off turns
/// the request context off too; prefer per-layer filters.
#[derive(Clone)]
#[must_use]
pub struct SecurityContextLayer {
    settings: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    resolver: ClientIpResolver,
    request_id_header: HeaderName,
    user_agents: Option<UserAgentParser>,
    max_user_agent_len: usize,
    anonymous_id: Option<Arc<dyn AnonymousId>>,
    peer_address: Option<Arc<dyn PeerAddress>>,
    tenant: Option<Arc<dyn TenantSource>>,
    query: bool,
    #[cfg(feature = "geoip")]
    geoip: Option<Arc<super::GeoIp>>,
}

impl fmt::Debug for SecurityContextLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("SecurityContextLayer")
            .field("trusted_proxies", &s.resolver.trusted)
            .field("forwarded_header", &s.resolver.header)
            .field("request_id_header", &s.request_id_header)
            .field("user_agents", &s.user_agents)
            .field("max_user_agent_len", &s.max_user_agent_len)
            .field("anonymous_id", &s.anonymous_id.is_some())
            .field("peer_address", &s.peer_address.is_some())
            .field("tenant", &s.tenant.is_some())
            .field("query", &s.query)
            .finish_non_exhaustive()
    }
}

impl Default for SecurityContextLayer {
    fn default() -> Self {
        SecurityContextLayer::new()
    }
}

impl SecurityContextLayer {
    /// The default user agent length kept (longer ones are cut and marked).
    pub const DEFAULT_MAX_USER_AGENT_LEN: usize = 1024;

    /// Defaults: no trusted proxy, `X-Forwarded-For` as the forwarding header, `x-request-id`,
    /// user agents parsed with a 4096-entry cache, no query string.
    pub fn new() -> Self {
        SecurityContextLayer {
            settings: Arc::new(Settings {
                resolver: ClientIpResolver::default(),
                request_id_header: HeaderName::from_static("x-request-id"),
                user_agents: Some(UserAgentParser::new()),
                max_user_agent_len: Self::DEFAULT_MAX_USER_AGENT_LEN,
                anonymous_id: None,
                peer_address: None,
                tenant: None,
                query: false,
                #[cfg(feature = "geoip")]
                geoip: None,
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.settings));
        self
    }

    /// Believe the forwarding header when the socket peer is one of `proxies`.
    pub fn with_trusted_proxies(self, proxies: TrustedProxies) -> Self {
        self.with(|s| s.resolver.trusted = proxies)
    }

    /// The header the trusted proxies write (default `X-Forwarded-For`).
    pub fn with_forwarded_header(self, header: ForwardedHeader) -> Self {
        self.with(|s| s.resolver.header = header)
    }

    /// Take the request id from `header` (and echo it there on the response).
    pub fn with_request_id_header(self, header: HeaderName) -> Self {
        self.with(|s| s.request_id_header = header)
    }

    /// Parse user agents with `parser` (to choose its cache size).
    pub fn with_user_agent_parser(self, parser: UserAgentParser) -> Self {
        self.with(|s| s.user_agents = Some(parser))
    }

    /// Record the user agent as sent, without parsing it.
    pub fn without_user_agent_parsing(self) -> Self {
        self.with(|s| s.user_agents = None)
    }

    /// Cut user agents longer than `max` bytes (default 1024).
    pub fn with_max_user_agent_len(self, max: usize) -> Self {
        self.with(|s| s.max_user_agent_len = max)
    }

    /// Record `actor.anonymous_id` from the request's headers.
    pub fn with_anonymous_id(self, anonymous_id: impl AnonymousId) -> Self {
        self.with(|s| s.anonymous_id = Some(Arc::new(anonymous_id)))
    }

    /// Find the socket peer with `peer_address` instead of looking for axum's
    /// `ConnectInfo<SocketAddr>` or a `SocketAddr` in the request's extensions.
    pub fn with_peer_address(self, peer_address: impl PeerAddress) -> Self {
        self.with(|s| s.peer_address = Some(Arc::new(peer_address)))
    }

    /// Record `tenant.id` (and `tenant.name`) from what `tenant` finds in the request:
    /// [`TenantFrom::header`](super::TenantFrom::header),
    /// [`TenantFrom::path_segment`](super::TenantFrom::path_segment) or a closure. A handler or
    /// an auth middleware can also record it after authentication with
    /// [`RequestSecurity::record_tenant`], which replaces it.
    pub fn with_tenant(self, tenant: impl TenantSource) -> Self {
        self.with(|s| s.tenant = Some(Arc::new(tenant)))
    }

    /// Record the query string as `url.query` under `fields`. Off by default: query strings
    /// carry tokens and other secrets (redaction rules see only whole field values).
    pub fn with_query(self, record: bool) -> Self {
        self.with(|s| s.query = record)
    }

    /// Add `client.geo` (country, city, ASN) from `database`.
    #[cfg(feature = "geoip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "geoip")))]
    pub fn with_geoip(self, database: super::GeoIp) -> Self {
        self.with(|s| s.geoip = Some(Arc::new(database)))
    }
}

impl<S> tower_layer::Layer<S> for SecurityContextLayer {
    type Service = SecurityContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityContextService {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service made by [`SecurityContextLayer`].
#[derive(Clone)]
pub struct SecurityContextService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S: fmt::Debug> fmt::Debug for SecurityContextService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityContextService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for SecurityContextService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let security = self.settings.open_span(&request);
        let span = security.span().clone();
        let request_id = HeaderValue::from_str(security.request_id()).ok();
        request.extensions_mut().insert(security);
        let inner = span.in_scope(|| self.inner.call(request));
        ResponseFuture {
            inner,
            span,
            request_id: request_id.map(|id| (self.settings.request_id_header.clone(), id)),
        }
    }
}

impl Settings {
    fn open_span<B>(&self, request: &Request<B>) -> RequestSecurity {
        let headers = request.headers();
        let peer = match &self.peer_address {
            Some(hook) => hook.peer_address(request.extensions()),
            None => default_peer_address(request.extensions()),
        };
        let client = self.resolver.resolve(peer, headers);
        let forwarding_chain = self.resolver.raw_chain(headers);

        let (user_agent, parsed) = self.user_agent(headers);
        let request_id = self.request_id(headers);
        let anonymous_id = self
            .anonymous_id
            .as_ref()
            .and_then(|f| f.anonymous_id(headers));
        let tenant = self
            .tenant
            .as_ref()
            .and_then(|f| f.tenant(request.uri(), headers))
            .unwrap_or_default();
        let query = if self.query {
            request.uri().query()
        } else {
            None
        };
        #[cfg(feature = "geoip")]
        let geo = self
            .geoip
            .as_ref()
            .zip(client)
            .and_then(|(db, client)| db.lookup(client.ip))
            .unwrap_or_default();
        #[cfg(not(feature = "geoip"))]
        let geo = crate::record::ClientGeo::default();

        let span = tracing::span!(
            target: crate::TARGET,
            tracing::Level::INFO,
            "http.request",
            client.ip = client.map(|c| display(c.ip)),
            client.port = client.and_then(|c| c.port),
            client.geo.country = geo.country.as_deref(),
            client.geo.city = geo.city.as_deref(),
            client.geo.asn = geo.asn,
            client.geo.lat = geo.lat,
            client.geo.lon = geo.lon,
            user_agent = user_agent.as_deref(),
            user_agent.name = parsed.as_ref().map(|ua| ua.name.as_str()),
            user_agent.version = parsed.as_ref().and_then(|ua| ua.version.as_deref()),
            user_agent.os = parsed.as_ref().and_then(|ua| ua.os.as_deref()),
            user_agent.device = parsed.as_ref().map(|ua| ua.device.as_str()),
            request.id = request_id.as_str(),
            http.method = request.method().as_str(),
            url.path = request.uri().path(),
            "url.query" = query,
            "http.request.header.x-forwarded-for" = Empty,
            "http.request.header.forwarded" = Empty,
            actor.anonymous_id = anonymous_id.as_deref(),
            actor.id = Empty,
            actor.kind = Empty,
            actor.name = Empty,
            actor.email = Empty,
            actor.roles = Empty,
            tenant.id = tenant.id.as_deref(),
            tenant.name = tenant.name.as_deref(),
            session.id = Empty,
        );
        if let Some(chain) = &forwarding_chain {
            let field = match self.resolver.header {
                ForwardedHeader::XForwardedFor => "http.request.header.x-forwarded-for",
                ForwardedHeader::Forwarded => "http.request.header.forwarded",
            };
            span.record(field, chain.as_str());
        }
        RequestSecurity::new(
            span,
            RequestFacts {
                request_id,
                client,
                user_agent,
                parsed_user_agent: parsed,
            },
        )
    }

    /// The user agent as sent (bounded), and parsed when the layer parses them.
    fn user_agent(&self, headers: &HeaderMap) -> (Option<String>, Option<Arc<ParsedUserAgent>>) {
        let user_agent = headers.get(USER_AGENT).map(|value| {
            let text = String::from_utf8_lossy(value.as_bytes());
            BoundedText::copy(&text, self.max_user_agent_len)
        });
        let parsed = match (&self.user_agents, &user_agent) {
            (Some(parser), Some(user_agent)) => parser.parse(user_agent),
            _ => None,
        };
        (user_agent, parsed)
    }

    /// The request's id: the header's when it is a valid one, else a new UUIDv7.
    fn request_id(&self, headers: &HeaderMap) -> String {
        headers
            .get(&self.request_id_header)
            .map(HeaderValue::as_bytes)
            .filter(|id| is_valid_request_id(id))
            .map_or_else(
                || uuid::Uuid::now_v7().to_string(),
                |id| String::from_utf8_lossy(id).into_owned(),
            )
    }
}

fn is_valid_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.iter().all(|byte| byte.is_ascii_graphic())
}

pin_project_lite::pin_project! {
    /// The response future of [`SecurityContextService`]: polls the inner service inside the
    /// request's span and echoes the request id on the response.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        request_id: Option<(HeaderName, HeaderValue)>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let mut result = ready!(this.inner.poll(cx));
        if let (Ok(response), Some((name, id))) = (&mut result, this.request_id.take()) {
            response.headers_mut().entry(name).or_insert(id);
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_visible_ascii_and_short() {
        assert!(is_valid_request_id(b"9f1c-42_abc.DEF"));
        assert!(!is_valid_request_id(b""));
        assert!(!is_valid_request_id(b"has space"));
        assert!(!is_valid_request_id(b"\x1b[31m"));
        assert!(!is_valid_request_id(&[b'a'; MAX_REQUEST_ID_LEN + 1]));
    }
}
