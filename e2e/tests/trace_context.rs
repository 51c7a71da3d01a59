//! The `trace` part of a record: the ids of the OpenTelemetry span an event or a security span
//! ran in, read through tracing-opentelemetry (feature `trace-context`, without the OTLP sink).
#![cfg(feature = "trace-context")]

mod common;

use common::TempLog;
use tracing_security_events::SecurityEvent;
use tracing_subscriber::prelude::*;

#[test]
fn a_security_span_carries_its_own_opentelemetry_ids() {
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_security_events::security_span;

    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("tests"));
    let subscriber = tracing_subscriber::registry().with(layer).with(otel);
    let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
        let span = security_span!(SecurityEvent::DataExported, target.id = "report-2");
        let context = span.context();
        let ids = context.span().span_context().clone();
        drop(span);
        (ids.trace_id().to_string(), ids.span_id().to_string())
    });
    guard.shutdown().unwrap();
    let record = &log.records()[0];
    assert_eq!(record["event"]["name"], "data.exported");
    assert_eq!(
        record["trace"],
        serde_json::json!({"trace_id": trace_id, "span_id": span_id})
    );
}
