//! The standard OpenTelemetry variables, and explicit settings over them. One test in its own
//! binary: it changes the process environment, which no other test may see half-way.
#![cfg(feature = "otlp")]

use std::collections::HashMap;
use std::time::Duration;

use mock_collector::{MockServer, Protocol, ServerHandle};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use tracing_security_events::sink::otlp::{OtlpConfig, OtlpProtocol};
use tracing_security_events::{security_event, Builder, SecurityEvent};
use tracing_subscriber::prelude::*;

fn start(rt: &tokio::runtime::Runtime, protocol: Protocol) -> ServerHandle {
    rt.block_on(
        MockServer::builder()
            .protocol(protocol)
            .host("127.0.0.1".parse().unwrap())
            .port(0)
            .start(),
    )
    .unwrap()
}

fn emit_one(builder: Builder) {
    let (layer, guard) = builder.build().expect("build");
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        security_event!(SecurityEvent::ApiKeyRotated, target.id = "k-1");
    });
    guard.shutdown().expect("delivered");
}

/// The resource attributes of the first log `server` received.
fn resource(rt: &tokio::runtime::Runtime, server: &ServerHandle) -> HashMap<String, String> {
    rt.block_on(server.wait_for_logs(1, Duration::from_secs(20)))
        .expect("a log arrives");
    rt.block_on(server.with_collector(|c| {
        c.logs()[0]
            .resource_attrs()
            .iter()
            .filter_map(|kv| match kv.value.clone()?.value? {
                Any::StringValue(s) => Some((kv.key.clone(), s)),
                _ => None,
            })
            .collect()
    }))
}

#[test]
fn standard_variables_apply_and_explicit_settings_win() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let http = start(&rt, Protocol::HttpBinary);
    let grpc = start(&rt, Protocol::Grpc);

    // Everything from the environment.
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        format!("http://{}/v1/logs", http.addr()),
    );
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/ignored");
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k3y");
    std::env::set_var("OTEL_EXPORTER_OTLP_TIMEOUT", "5000");
    std::env::set_var("OTEL_SERVICE_NAME", "from-env");
    std::env::set_var(
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment=staging,team=security",
    );
    emit_one(
        tracing_security_events::builder()
            .with_file(dir.path().join("a.jsonl"))
            .with_otlp(OtlpConfig::new()),
    );
    let attrs = resource(&rt, &http);
    assert_eq!(
        attrs.get("service.name").map(String::as_str),
        Some("from-env")
    );
    assert_eq!(
        attrs.get("deployment.environment").map(String::as_str),
        Some("staging")
    );
    assert_eq!(attrs.get("team").map(String::as_str), Some("security"));

    // Code over the environment: protocol, endpoint and service name.
    emit_one(
        tracing_security_events::builder()
            .with_file(dir.path().join("b.jsonl"))
            .with_service_name("explicit")
            .with_otlp(
                OtlpConfig::new()
                    .with_protocol(OtlpProtocol::Grpc)
                    .with_endpoint(format!("http://{}", grpc.addr())),
            ),
    );
    let attrs = resource(&rt, &grpc);
    assert_eq!(
        attrs.get("service.name").map(String::as_str),
        Some("explicit")
    );
    assert_eq!(
        attrs.get("team").map(String::as_str),
        Some("security"),
        "the other resource attributes still come from the environment"
    );

    // A variable naming no protocol stops the build, naming the variable.
    std::env::set_var("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "carrier-pigeon");
    let err = tracing_security_events::builder()
        .with_file(dir.path().join("c.jsonl"))
        .with_otlp(OtlpConfig::new())
        .build::<tracing_subscriber::Registry>()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL") && err.contains("carrier-pigeon"),
        "{err}"
    );
}
