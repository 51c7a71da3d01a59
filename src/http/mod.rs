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
//!
//! # In a service
//!
//! With the `http` feature, `SecurityContextLayer` (a tower `Layer`, so it works with axum, tonic
//! and hyper) opens one span per request that carries the context, so that every security event a
//! handler emits is enriched without the handler's help:
//!
//! ```no_run
//! # #[cfg(feature = "axum")] { // the example uses axum
//! use std::net::SocketAddr;
//! use axum::{routing::post, Router};
//! use tracing_security_events::http::{RequestSecurity, SecurityContextLayer, TrustedProxies};
//! use tracing_security_events::{security_event, Actor, SecurityEvent};
//!
//! async fn sign_in(security: RequestSecurity) -> &'static str {
//!     // ... check the password ...
//!     security.record_actor(&Actor::user("42").with_name("alice"));
//!     security.record_session("sess-9f1c");
//!     security_event!(SecurityEvent::LoginSucceeded, authentication.method = "password");
//!     "welcome"
//! }
//!
//! let proxies: TrustedProxies = "10.0.0.0/8, fd00::/8".parse()?;
//! let app: Router = Router::new()
//!     .route("/sign-in", post(sign_in))
//!     .layer(SecurityContextLayer::new().with_trusted_proxies(proxies));
//! let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
//! // axum::serve(listener, make_service).await?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | record part | taken from |
//! |---|---|
//! | `client.ip`, `client.port` | the socket peer (axum's `ConnectInfo<SocketAddr>`; other servers insert a `SocketAddr` into the request's extensions), or the forwarding header behind trusted proxies |
//! | `user_agent` | `User-Agent`, cut at 1 KiB (`with_max_user_agent_len`), parsed into `name`, `version`, `os` and `device` (`desktop`, `mobile`, `tablet`, `bot`, `appliance`, `other`) by [woothee](https://crates.io/crates/woothee)'s rules; answers are cached (4096 user agents by default), so a repeated user agent costs a lookup |
//! | `request.id` | the `x-request-id` header (`with_request_id_header`) when it is 1 to 128 visible ASCII characters, else a new UUIDv7; echoed on the response |
//! | `request.method`, `request.path` | the request line; never the query string, which can carry secrets (`with_query(true)` puts it under `fields` as `url.query`) |
//! | `actor`, `session` | recorded by the handler or an auth middleware with `RequestSecurity::record_actor` / `record_session`; events before that carry `actor.anonymous_id` when `with_anonymous_id` gives one |
//! | `tenant` | `with_tenant(TenantFrom::header("x-tenant-id"))`, `TenantFrom::path_segment(1)` or a closure over the URI and headers; or `RequestSecurity::record_tenant` after authentication, the one the read API's authorization trusts |
//! | `client.geo` | feature `geoip`: `GeoIp::open("GeoLite2-City.mmdb")?.and_open("GeoLite2-ASN.mmdb")?`, a missing or broken file is an error at start-up naming it |
//!
//! The span belongs to the request, so a concurrent request never sees another's actor. Work
//! spawned off the handler's task keeps the context when it runs inside `security.span()`.
//!
//! **Trusted-proxy rules.** A forwarding header can be written by anyone, so:
//!
//! 1. No proxy is trusted by default: the socket peer is the client, whatever the headers say.
//! 2. When the peer is a trusted proxy (addresses and CIDR ranges, IPv4 and IPv6; IPv4-mapped IPv6
//!    addresses match their IPv4 form), only the header those proxies write is read:
//!    `X-Forwarded-For` by default, or RFC 7239 `Forwarded` (`with_forwarded_header`). Reading both
//!    would let a client pick the one its proxy passes through untouched.
//! 3. The chain is walked from the right; trusted proxies are skipped and the first other address is
//!    the client. A port is recorded only when the header gives one (`Forwarded: for="[2001:db8::1]:4711"`).
//! 4. A header longer than 8 KiB or with more than 64 hops, one that is not text, or an entry that is
//!    not an address (`unknown`, `_hidden`, garbage) stops the walk at the nearest trusted hop: a
//!    spoofed or malformed header never puts an address of the client's choosing in the record.
//! 5. The raw chain, whoever sent it, is kept under `fields` (`http.request.header.x-forwarded-for`)
//!    for forensics.
//!
//! **New devices.** [`NewDeviceDetector::check_request`]`(&security, actor_id)` asks whether this actor
//! was seen before with this user agent family (`Safari/Mac OSX`) from this network (/24 for IPv4,
//! /64 for IPv6), and emits `authentication.new_device` when not. The built-in `MemoryDeviceStore`
//! is bounded and forgets on restart; `PostgresDeviceStore` (feature `postgres`) keeps them in the
//! fleet's table, so a device is new once for every instance; or implement `DeviceStore` over
//! your own database.
//!

mod client_ip;
#[cfg(feature = "postgres")]
mod fleet_devices;
mod forwarded;
#[cfg(feature = "geoip")]
mod geoip;
mod layer;
mod new_device;
mod request_security;
mod tenant;
mod user_agent;

pub use client_ip::{ClientAddress, ForwardedHeader, InvalidTrustedProxy, TrustedProxies};
#[cfg(feature = "postgres")]
pub use fleet_devices::PostgresDeviceStore;
#[cfg(feature = "geoip")]
#[cfg_attr(docsrs, doc(cfg(feature = "geoip")))]
pub use geoip::{GeoIp, GeoIpError};
pub use layer::{
    AnonymousId, PeerAddress, ResponseFuture, SecurityContextLayer, SecurityContextService,
};
pub use new_device::{DeviceCheck, DeviceKey, DeviceStore, MemoryDeviceStore, NewDeviceDetector};
pub use request_security::{MissingSecurityContext, RequestSecurity};
pub use tenant::{TenantFrom, TenantSource};
pub use user_agent::{DeviceClass, ParsedUserAgent, UserAgentParser};
