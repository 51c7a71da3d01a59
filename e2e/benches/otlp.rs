//! Our OTLP path against `opentelemetry-appender-tracing`'s bridge with the SDK's batch processor,
//! side by side in one run: same event (three fields inside a context span), same exporter
//! (opentelemetry-otlp over gRPC), same collector (`mock-collector` on 127.0.0.1).
//!
//! 1. caller-thread cost of one event, timed in chunks of 4096 between untimed flushes, so the
//!    time is the caller's own work, never waiting for the export: in wall-clock time, and in the
//!    CPU time of the caller's thread (on two cores, the wall clock also counts the time the
//!    background threads of either path take the core from the caller);
//! 2. throughput: 20,000 events, the clock stopping once the collector holds them all;
//! 3. with valgrind installed, the caller's instructions per event for both, counted with
//!    callgrind (wall-clock time on two shared cores varies by more than the difference).
//!
//! The bridge uses the batch processor on the tokio runtime (tonic needs one); its queue is set
//! to 65,536 so that it drops nothing in these runs (the SDK's default of 2,048 would).
//!
//! `cargo bench --bench otlp --features otlp`

#![allow(missing_docs)]

#[path = "support/callgrind.rs"]
mod callgrind;
mod support;

use std::time::{Duration, Instant};

use criterion::Criterion;
use mock_collector::{MockServer, Protocol, ServerHandle};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, WithExportConfig};
use opentelemetry_sdk::logs::log_processor_with_async_runtime::BatchLogProcessor;
use opentelemetry_sdk::logs::{BatchConfigBuilder, SdkLoggerProvider};
use opentelemetry_sdk::runtime::Tokio;
use support::{chunked, chunked_by, context_span, one_security_event, CHUNK};
use tracing_security_events::sink::otlp::{OtlpConfig, OtlpProtocol};
use tracing_security_events::sink::SpoolConfig;
use tracing_security_events::FlushGuard;
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

/// The CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// A runtime for tonic and the collector, and the collector on 127.0.0.1.
fn collector() -> (tokio::runtime::Runtime, ServerHandle) {
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
    (runtime, server)
}

fn ours(endpoint: &str) -> (tracing::Dispatch, FlushGuard) {
    let (layer, guard) = tracing_security_events::builder()
        .with_queue_capacity(2 * CHUNK as usize)
        .with_otlp(
            OtlpConfig::new()
                .with_protocol(OtlpProtocol::Grpc)
                .with_endpoint(endpoint)
                // Room for a whole throughput run, like the bridge's queue below.
                .with_spool(SpoolConfig::new().with_memory_limit(64 << 20)),
        )
        .build()
        .unwrap();
    (
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

/// The bridge, with the same exporter.
fn bridge(
    runtime: &tokio::runtime::Runtime,
    endpoint: &str,
) -> (tracing::Dispatch, SdkLoggerProvider) {
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
    (
        tracing::Dispatch::new(
            tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider)),
        ),
        provider,
    )
}

fn otlp(c: &mut Criterion) {
    let (runtime, server) = collector();
    let endpoint = format!("http://{}", server.addr());

    let (ours, guard) = ours(&endpoint);
    let flush_ours = || {
        guard.flush().expect("flushed");
        runtime.block_on(server.with_collector_mut(|c| c.clear()));
    };
    let (bridge, provider) = bridge(&runtime, &endpoint);
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

    let mut group = c.benchmark_group("otlp_caller_cpu_time");
    tracing::dispatcher::with_default(&ours, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("tracing-security-events", |b| {
            b.iter_custom(|iters| chunked_by(iters, &flush_ours, &thread_cpu_time))
        });
    });
    tracing::dispatcher::with_default(&bridge, || {
        let span = context_span();
        let _entered = span.enter();
        group.bench_function("opentelemetry-appender-tracing", |b| {
            b.iter_custom(|iters| chunked_by(iters, &flush_bridge, &thread_cpu_time))
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

/// Events counted by callgrind: only this function's instructions are collected.
#[inline(never)]
fn counted_events() {
    for _ in 0..PROBE_CHUNK {
        one_security_event();
    }
}

const PROBE_CHUNK: u64 = 100;
const PROBE_EVENTS: u64 = 2_000;

/// The measured program: warms one variant up, then emits the counted events in chunks with a
/// flush between them, so that our callers always find reused buffers, as they do when warm.
fn probe(variant: &str) {
    let (runtime, server) = collector();
    let endpoint = format!("http://{}", server.addr());
    let (dispatch, flush): (tracing::Dispatch, Box<dyn Fn()>) = if variant == "ours" {
        let (dispatch, guard) = ours(&endpoint);
        // Under valgrind the export may outlast the flush timeout; the flush still waits for
        // the worker, which is what hands the callers' buffers back.
        (dispatch, Box::new(move || drop(guard.flush())))
    } else {
        let (dispatch, provider) = bridge(&runtime, &endpoint);
        (dispatch, Box::new(move || drop(provider.force_flush())))
    };
    tracing::dispatcher::with_default(&dispatch, || {
        let span = context_span();
        let _entered = span.enter();
        for _ in 0..PROBE_EVENTS {
            one_security_event();
        }
        flush();
        for _ in 0..PROBE_EVENTS / PROBE_CHUNK {
            counted_events();
            flush();
        }
    });
}

/// The caller's instructions per event for `variant`, or `None` without valgrind.
fn instructions_per_event(variant: &str) -> Option<f64> {
    let total = callgrind::instructions(variant, Some("*counted_events*"))?;
    Some(total as f64 / PROBE_EVENTS as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--probe") {
        return probe(args.get(at + 1).map_or("ours", String::as_str));
    }
    let mut criterion = Criterion::default().configure_from_args();
    otlp(&mut criterion);
    criterion.final_summary();
    match (
        instructions_per_event("ours"),
        instructions_per_event("bridge"),
    ) {
        (Some(ours), Some(bridge)) => println!(
            "caller's instructions per event (callgrind):\n  \
             tracing-security-events:        {ours:.0}\n  \
             opentelemetry-appender-tracing: {bridge:.0}\n  \
             ratio:                          {:.3}",
            ours / bridge
        ),
        _ => println!("otlp: valgrind is not available; instructions not counted"),
    }
}
