//! Writes a realistic sequence of security events to a JSON-lines file and prints the records.
//!
//! ```text
//! cargo run --example quickstart [PATH]     # default: security-events.jsonl
//! ```
//!
//! A sign-in that fails twice then succeeds from one IP and user agent, a role change, an API key
//! rotation and a data export, each inside a request span that carries the client's context.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows what it does"
)]

use std::error::Error;

use tracing_security_events::{security_event, security_span, Changes, SecurityEvent};
use tracing_subscriber::prelude::*;

const CLIENT_IP: &str = "203.0.113.7";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "security-events.jsonl".to_owned());
    let before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);

    let (security, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("quickstart")
        .with_service_version(env!("CARGO_PKG_VERSION"))
        .build()?;
    tracing_subscriber::registry().with(security).init();

    // Three sign-in attempts from the same browser.
    for (attempt, password_ok) in [(1, false), (2, false), (3, true)] {
        let request = request_span("POST", "/login", &format!("req-login-{attempt}"));
        let _entered = request.enter();
        if password_ok {
            request.record("actor.id", "42");
            security_event!(
                SecurityEvent::LoginSucceeded,
                actor.name = "alice",
                actor.kind = "user",
                authentication.method = "password",
                attempts = attempt
            );
        } else {
            security_event!(
                SecurityEvent::LoginFailed,
                actor.name = "alice",
                authentication.method = "password",
                reason = "wrong password"
            );
        }
    }

    // Alice, an administrator, makes bob a billing admin.
    {
        let request = request_span("PUT", "/users/77/roles", "req-roles-1");
        request.record("actor.id", "42");
        let _entered = request.enter();
        let roles = Changes::new().field("roles", ["member"], ["member", "billing_admin"]);
        security_event!(
            SecurityEvent::UserRoleChanged,
            actor.name = "alice",
            target.kind = "user",
            target.id = "77",
            target.name = "bob",
            changes = %roles
        );
    }

    // Alice rotates an API key.
    {
        let request = request_span("POST", "/api-keys/ak_live_3f9/rotate", "req-key-1");
        request.record("actor.id", "42");
        let _entered = request.enter();
        security_event!(
            SecurityEvent::ApiKeyRotated,
            actor.name = "alice",
            target.kind = "api_key",
            target.id = "ak_live_3f9",
            expires_in_days = 90
        );
    }

    // Alice exports the customer list: one record when the export ends, with its duration.
    {
        let request = request_span("GET", "/exports/customers.csv", "req-export-1");
        request.record("actor.id", "42");
        let _entered = request.enter();
        let export = security_span!(
            SecurityEvent::DataExported,
            actor.name = "alice",
            target.kind = "report",
            target.name = "customers.csv",
            rows = 1250
        );
        let _exporting = export.enter();
        std::thread::sleep(std::time::Duration::from_millis(15));
        export.record("outcome", "success");
    }

    let stats = guard.shutdown()?;
    eprintln!(
        "wrote {} records to {path} ({} dropped, {} sink errors)",
        stats.written, stats.dropped, stats.sink_errors
    );

    let text = std::fs::read_to_string(&path)?;
    let new_text = text.get(before as usize..).unwrap_or(&text);
    for line in new_text.lines() {
        // Each line is one whole record; check it parses before showing it as written.
        serde_json::from_str::<serde_json::Value>(line)?;
        println!("{line}");
    }
    eprintln!(
        "read it back: cargo install --path security-log, then\n  \
         security-log query {path} --format table\n  \
         security-log query {path} -q 'event like \"authentication.*\" and outcome = failure'\n  \
         security-log verify {path}"
    );
    Ok(())
}

/// The span an HTTP server would open per request; `actor.id` is filled in once known.
fn request_span(method: &str, path: &str, request_id: &str) -> tracing::Span {
    tracing::info_span!(
        "request",
        client.ip = CLIENT_IP,
        client.port = 51234,
        user_agent = USER_AGENT,
        request.id = request_id,
        http.method = method,
        url.path = path,
        actor.id = tracing::field::Empty,
    )
}
