//! HTTP request context for tower services (cargo feature `http`; the axum parts, the
//! `ConnectInfo` peer and the [`RequestSecurity`] extractor, with the feature `axum`).
//!
//! [`SecurityContextLayer`] opens one span per request with the client's address, user agent,
//! request id, method and path, so that every security event a handler emits carries them. After
//! authentication, the handler records the actor with [`RequestSecurity::record_actor`]; events
//! from then on carry it too, and a concurrent request never sees it.
//!
//! ```
//! # #[cfg(feature = "axum")] { // the example uses axum
//! use axum::{routing::post, Router};
//! use tracing_security_events::http::{RequestSecurity, SecurityContextLayer, TrustedProxies};
//! use tracing_security_events::{security_event, Actor, SecurityEvent};
//!
//! async fn rotate_key(security: RequestSecurity) -> &'static str {
//!     security.record_actor(&Actor::user("42").with_name("alice"));
//!     security_event!(SecurityEvent::ApiKeyRotated, target.kind = "api_key", target.id = "k-7");
//!     "rotated"
//! }
//!
//! let proxies: TrustedProxies = "10.0.0.0/8, fd00::/8".parse()?;
//! let app: Router = Router::new()
//!     .route("/api-keys/rotate", post(rotate_key))
//!     .layer(SecurityContextLayer::new().with_trusted_proxies(proxies));
//! // axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Client address rules
//!
//! - The socket peer is the client unless it is a [trusted proxy](TrustedProxies) (none by
//!   default). axum gives the peer with `into_make_service_with_connect_info::<SocketAddr>()`;
//!   other servers insert the `SocketAddr` into the request's extensions, or tell the layer where
//!   to find it with [`SecurityContextLayer::with_peer_address`] (tonic's `TcpConnectInfo`).
//! - Behind a trusted peer, only the configured [`ForwardedHeader`] is read, from the right: the
//!   first address that is not a trusted proxy is the client.
//! - A header that is too long (8 KiB), has too many hops (64), is not text, or reaches an entry
//!   that is not an address stops the walk at the nearest trusted hop: a spoofed or malformed
//!   header never puts an address of the client's choosing into the record.
//! - The raw chain is kept under `fields` (`http.request.header.x-forwarded-for` or
//!   `http.request.header.forwarded`) for forensics, whoever sent it.

mod client_ip;
mod forwarded;
#[cfg(feature = "geoip")]
mod geoip;
mod layer;
mod request_security;
mod user_agent;

pub use client_ip::{ClientAddress, ForwardedHeader, InvalidTrustedProxy, TrustedProxies};
#[cfg(feature = "geoip")]
#[cfg_attr(docsrs, doc(cfg(feature = "geoip")))]
pub use geoip::{GeoIp, GeoIpError};
pub use layer::{
    AnonymousId, PeerAddress, ResponseFuture, SecurityContextLayer, SecurityContextService,
};
pub use request_security::{MissingSecurityContext, RequestSecurity};
pub use user_agent::{DeviceClass, ParsedUserAgent, UserAgentParser};
