//! Caller-thread cost, side by side in one run:
//!
//! 1. one security event with three fields inside one context span, through our layer versus the
//!    same event through `tracing_subscriber::fmt().json()` writing to
//!    `tracing_appender::non_blocking`;
//! 2. one ordinary (non-security) event through a fmt layer, with and without our layer beside it.
//!
//! `cargo bench --bench caller_cost`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use support::{chunked, context_span, one_security_event, CHUNK};
use tracing_subscriber::prelude::*;

fn security_event_cost(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("security_event_in_context_span");

    {
        let (layer, guard) = tracing_security_events::builder()
            .with_file(dir.path().join("ours.jsonl"))
            .with_queue_capacity(2 * CHUNK as usize)
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = context_span();
            let _entered = span.enter();
            group.bench_function("tracing-security-events", |b| {
                b.iter_custom(|iters| {
                    chunked(iters, &|| {
                        guard.flush().unwrap();
                    })
                })
            });
        });
        guard.shutdown().unwrap();
    }

    {
        let file = std::fs::File::create(dir.path().join("fmt.jsonl")).unwrap();
        // Not lossy: a full buffer waits, as ours does, instead of dropping lines.
        let (writer, _appender_guard) =
            tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(file);
        let fmt = tracing_subscriber::fmt::layer().json().with_writer(writer);
        let subscriber = tracing_subscriber::registry().with(fmt);
        tracing::subscriber::with_default(subscriber, || {
            let span = context_span();
            let _entered = span.enter();
            group.bench_function("fmt-json + non_blocking", |b| b.iter(one_security_event));
        });
    }
    group.finish();
}

fn ordinary_event() {
    tracing::info!(order.id = black_box(7_u64), "order shipped");
}

fn non_security_event_cost(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("non_security_event_beside_fmt");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("fmt only", |b| b.iter(ordinary_event));
    });

    let (layer, guard) = tracing_security_events::layer(dir.path().join("ours.jsonl")).unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("fmt + security layer", |b| b.iter(ordinary_event));
    });
    assert_eq!(
        guard.shutdown().unwrap().written,
        0,
        "no security record was made"
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40);
    // Ordinary events first, before any worker thread of the other group exists.
    targets = non_security_event_cost, security_event_cost
}
criterion_main!(benches);
