//! Per-request overhead of `SecurityContextLayer`, side by side in one run: the same axum router
//! called in-process (no sockets, so only the middleware differs) without the layer, with it but
//! no user agent parsing, with parsing answered from the cache, and with parsing every time.
//!
//! The handler emits nothing: this is the price every request pays, security event or not.
//!
//! `cargo bench --bench http_overhead --features http`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::post;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use tower::ServiceExt;
use tracing_security_events::http::{SecurityContextLayer, TrustedProxies, UserAgentParser};
use tracing_subscriber::prelude::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn handler() -> &'static str {
    "ok"
}

/// A request as a browser behind one proxy sends it.
fn request() -> Request<Body> {
    let mut request = Request::post("/sign-in?next=%2Fhome")
        .header("user-agent", FIREFOX)
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-request-id", "9f1c0a7e-bench")
        .body(Body::empty())
        .unwrap();
    let peer: SocketAddr = "10.0.0.2:51234".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

fn http_overhead(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_security_events::builder()
        .with_file(dir.path().join("bench.jsonl"))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
    let with_layer = |layer: SecurityContextLayer| {
        Router::new()
            .route("/sign-in", post(handler))
            .layer(layer.with_trusted_proxies(proxies.clone()))
    };
    let routers = [
        (
            "without the layer",
            Router::new().route("/sign-in", post(handler)),
        ),
        (
            "layer, no user agent parsing",
            with_layer(SecurityContextLayer::new().without_user_agent_parsing()),
        ),
        (
            "layer, parsing cached",
            with_layer(SecurityContextLayer::new()),
        ),
        (
            "layer, parsing uncached",
            with_layer(
                SecurityContextLayer::new()
                    .with_user_agent_parser(UserAgentParser::with_cache_capacity(0)),
            ),
        ),
    ];

    let mut group = c.benchmark_group("http_request");
    tracing::subscriber::with_default(subscriber, || {
        for (name, router) in &routers {
            group.bench_function(*name, |b| {
                b.iter(|| {
                    let response = runtime.block_on(router.clone().oneshot(request())).unwrap();
                    assert!(response.status().is_success());
                })
            });
        }
    });
    group.finish();
    drop(guard);
}

criterion_group!(benches, http_overhead);
criterion_main!(benches);
