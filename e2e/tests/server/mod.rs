//! A real HTTP server on 127.0.0.1 for the tests that need one.
#![allow(dead_code, unreachable_pub)]

use serde_json::Value;

use super::common::{run, TempLog};

/// Serves `app` on 127.0.0.1 inside a current-thread runtime, under a subscriber holding the
/// security layer of `log` (so that the handlers' records land there), runs `client` against
/// it, and returns the records and what the client returned. The server stops with the runtime.
pub fn serve<T>(
    log: &TempLog,
    app: axum::Router,
    client: impl AsyncFnOnce(std::net::SocketAddr) -> T,
) -> (Vec<Value>, T) {
    let mut out = None;
    let (records, _) = run(log, log.builder(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        out = Some(runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
            client(addr).await
        }));
    });
    (records, out.unwrap())
}
