//! Our OTLP path against `opentelemetry-appender-tracing`'s bridge with the SDK's batch processor,
//! side by side in one run: same event (three fields inside a context span), same exporter
//! (opentelemetry-otlp over gRPC), same collector (`mock-collector` on 127.0.0.1).
//!
//! 1. caller-thread cost of one event, timed in chunks of 4096 between untimed flushes, so the
//!    time is the caller's own work, never waiting for the export;
//! 2. throughput: 20,000 events, the clock stopping once the collector holds them all.
//!
//! The bridge uses the batch processor on the tokio runtime (tonic needs one); its queue is set
//! to 65,536 so that it drops nothing in these runs (the SDK's default of 2,048 would).
//!
//! `cargo bench --bench otlp --features otlp`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

mod support;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use mock_collector::{MockServer, Protocol, ServerHandle};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, WithExportConfig};
use opentelemetry_sdk::logs::log_processor_with_async_runtime::BatchLogProcessor;
use opentelemetry_sdk::logs::{BatchConfigBuilder, SdkLoggerProvider};
use opentelemetry_sdk::runtime::Tokio;
use support::{chunked, context_span, one_security_event, CHUNK};
use tracing_security_events::sink::otlp::{OtlpConfig, OtlpProtocol};
use tracing_subscriber::prelude::*;

const THROUGHPUT_EVENTS: usize = 20_000;

/// Emits the throughput events and waits until the collector holds them all.
fn throughput_run(
    runtime: &tokio::runtime::Runtime,
    server: &ServerHandle,
    flush: &dyn Fn(),
) -> Duration {
    runtime.block_on(server.with_collector_mut(|c| c.clear()));
    let start = Instant::now();
    for _ in 0..THROUGHPUT_EVENTS {
        one_security_event();
    }
    flush();
    runtime
        .block_on(server.wait_for_logs(THROUGHPUT_EVENTS, Duration::from_secs(120)))
        .expect("every record arrives");
    start.elapsed()
}

fn otlp(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(
            MockServer::builder()
                .protocol(Protocol::Grpc)
                .host("127.0.0.1".parse().unwrap())
                .port(0)
                .start(),
        )
        .unwrap();
    let endpoint = format!("http://{}", server.addr());

    // Ours.
    let (layer, guard) = tracing_security_events::builder()
        .with_queue_capacity(2 * CHUNK as usize)
        .with_otlp(
            OtlpConfig::new()
                .with_protocol(OtlpProtocol::Grpc)
                .with_endpoint(endpoint.clone())
                // Room for a whole throughput run, like the bridge's queue below.
                .with_memory_limit(64 << 20),
        )
        .build()
        .unwrap();
    let ours = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let flush_ours = || {
        guard.flush().expect("flushed");
        runtime.block_on(server.with_collector_mut(|c| c.clear()));
    };

    // The bridge, with the same exporter.
    let provider = {
        let _entered = runtime.enter();
        let exporter = LogExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .unwrap();
        let processor = BatchLogProcessor::builder(exporter, Tokio)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(65_536)
                    .with_max_export_batch_size(512)
                    .build(),
            )
            .build();
        SdkLoggerProvider::builder()
            .with_log_processor(processor)
            .build()
    };
    let bridge = tracing::Dispatch::new(
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider)),
    );
    let flush_bridge = || {
        provider.force_flush().expect("flushed");
        runtime.block_on(server.with_collector_mut(|c| c.clear()));
    };

    let mut group = c.benchmark_group("otlp_caller_cost");
    tracing::dispatcher::with_default(&ours, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("tracing-security-events", |b| {
            b.iter_custom(|iters| chunked(iters, &flush_ours))
        });
    });
    tracing::dispatcher::with_default(&bridge, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("opentelemetry-appender-tracing", |b| {
            b.iter_custom(|iters| chunked(iters, &flush_bridge))
        });
    });
    group.finish();

    let mut group = c.benchmark_group("otlp_throughput_20k");
    group.sample_size(10);
    tracing::dispatcher::with_default(&ours, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("tracing-security-events", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        throughput_run(&runtime, &server, &|| {
                            guard.flush().expect("flushed");
                        })
                    })
                    .sum()
            })
        });
    });
    tracing::dispatcher::with_default(&bridge, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("opentelemetry-appender-tracing", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        throughput_run(&runtime, &server, &|| {
                            provider.force_flush().expect("flushed")
                        })
                    })
                    .sum()
            })
        });
    });
    group.finish();
    drop(guard);
    let _ = provider.shutdown();
}

criterion_group!(benches, otlp);
criterion_main!(benches);
