//! Ships security records to an OpenTelemetry collector and to a file at once.
//!
//! The collector is found the standard way: `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._LOGS_ENDPOINT`)
//! and `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc`, `http/protobuf`, `http/json`), with the
//! OpenTelemetry defaults otherwise (`http/protobuf` to `http://localhost:4318`).
//!
//! `OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 \
//!  cargo run --example otlp --features otlp [PATH]`
//!
//! It exits with an error if the collector did not take every record.

use tracing_security_events::sink::otlp::OtlpConfig;
use tracing_security_events::sink::SpoolConfig;
use tracing_security_events::{security_event, security_span, Changes, SecurityEvent};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "security-events-otlp.jsonl".into());
    let spool = std::env::temp_dir().join("security-log-otlp-example-spool");
    let (layer, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("otlp-example")
        .with_service_version(env!("CARGO_PKG_VERSION"))
        .with_otlp(OtlpConfig::new().with_spool(SpoolConfig::new().with_dir(&spool)))
        .build()?;
    tracing_subscriber::registry().with(layer).init();

    let request = tracing::info_span!(
        "request",
        client.ip = "203.0.113.7:51234",
        user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        request.id = "req-otlp-1",
        http.method = "POST",
        url.path = "/login",
    );
    request.in_scope(|| {
        security_event!(
            SecurityEvent::LoginFailed,
            actor.name = "alice",
            authentication.method = "password",
            reason = "wrong password",
        );
        security_event!(
            SecurityEvent::LoginSucceeded,
            actor.id = "42",
            actor.name = "alice"
        );
        let changes = Changes::new().field("role", "viewer", "admin");
        security_event!(
            SecurityEvent::UserRoleChanged,
            actor.id = "42",
            target.kind = "user",
            target.id = "7",
            changes = %changes,
        );
        let rotation = security_span!(
            SecurityEvent::ApiKeyRotated,
            actor.id = "42",
            target.kind = "api_key",
            target.id = "k-2024",
        );
        rotation.in_scope(|| std::thread::sleep(std::time::Duration::from_millis(5)));
    });

    // Shutdown waits for the collector to take everything (a bounded time).
    let stats = guard.shutdown()?;
    println!(
        "wrote {} records to {path} and the collector ({} dropped, {} sink errors)",
        stats.written, stats.dropped, stats.sink_errors
    );
    print!("{}", std::fs::read_to_string(&path)?);
    Ok(())
}
