//! A request span carries the client's context; after authentication the actor is recorded into
//! it, and every security event inside inherits all of it, with no field repeated at the call.
//!
//! ```text
//! cargo run --example request_context [PATH]     # default: request-context.jsonl
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows what it does"
)]

use std::error::Error;

use tracing::field::Empty;
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "request-context.jsonl".to_owned());
    let (security, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("request-context-example")
        .build()?;
    // A human-readable log beside it, without the security events (they go to the file).
    // Colours only for a terminal: redirected output stays plain text.
    let console = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() != tracing_security_events::TARGET
        }));
    tracing_subscriber::registry()
        .with(security)
        .with(console)
        .init();

    handle_request(
        "198.51.100.23",
        40112,
        "POST",
        "/api/keys",
        "alice",
        "s3cret",
    );
    handle_request(
        "198.51.100.99",
        52000,
        "POST",
        "/api/keys",
        "mallory",
        "guess",
    );

    guard.shutdown()?;
    for line in std::fs::read_to_string(&path)?.lines() {
        println!("{line}");
    }
    Ok(())
}

/// What a web framework's middleware and handler would do for one request.
fn handle_request(ip: &str, port: u16, method: &str, path: &str, user: &str, password: &str) {
    // The middleware opens the span before it knows who the caller is.
    let request = tracing::info_span!(
        "request",
        client.ip = ip,
        client.port = port,
        user_agent = "ExampleClient/2.1 (+https://example.com)",
        request.id = %format!("req-{port}"),
        http.method = method,
        url.path = path,
        actor.id = Empty,
        actor.name = Empty,
        actor.kind = Empty,
    );
    let _entered = request.enter();
    tracing::info!("request received");

    if !authenticate(user, password) {
        security_event!(
            SecurityEvent::LoginFailed,
            actor.name = user,
            authentication.method = "password",
            reason = "bad credentials"
        );
        tracing::info!(status = 401, "request refused");
        return;
    }
    // Authenticated: the actor goes into the request span once...
    request.record("actor.id", "42");
    request.record("actor.name", user);
    request.record("actor.kind", "user");
    security_event!(
        SecurityEvent::LoginSucceeded,
        authentication.method = "password"
    );

    // ...and every later event in the request carries it, with the client's context.
    security_event!(
        SecurityEvent::ApiKeyCreated,
        target.kind = "api_key",
        target.id = "ak_live_77",
        scopes = "read:billing"
    );
    tracing::info!(status = 201, "request done");
}

fn authenticate(user: &str, password: &str) -> bool {
    user == "alice" && password == "s3cret"
}
