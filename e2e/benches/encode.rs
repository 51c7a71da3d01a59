//! The hand-written record encoder against `serde_json::to_writer` of the same record (the
//! derived `Serialize`, which a test holds byte-equal to the encoder's output): the number that
//! justifies writing the encoder by hand.
//!
//! The record is a real one, captured from the layer: a failed sign-in inside a request span,
//! with actor, client, user agent, request, fields, a diff, service and the hash chain's place.
//!
//! The same record in the ECS and OCSF forms: what a sink in either form adds to the worker.
//!
//! `cargo bench -p tracing-security-events-e2e --bench encode`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracing_security_events::forms::{FormMappings, OutputForm};
use tracing_security_events::sink::{Batch, Sink};
use tracing_security_events::{security_event, Changes, SecurityEvent, SecurityRecord};
use tracing_subscriber::prelude::*;

/// A sink that keeps the records it is handed.
#[derive(Clone, Default)]
struct Keep(Arc<Mutex<Vec<SecurityRecord>>>);

impl Sink for Keep {
    fn name(&self) -> &str {
        "keep"
    }

    fn write(&mut self, batch: &Batch<'_>) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap()
            .extend(batch.records().iter().cloned());
        Ok(())
    }
}

fn captured_record() -> SecurityRecord {
    let keep = Keep::default();
    let (layer, guard) = tracing_security_events::builder()
        .with_sink(keep.clone())
        .with_service_name("billing-api")
        .with_service_version("1.4.2")
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            client.ip = "203.0.113.7",
            client.port = 51234,
            user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            request.id = "9f1c2b7e-0c1d-4a8e-9d4e-5a3c2b1f0e9d",
            http.method = "POST",
            url.path = "/login",
        );
        let _entered = request.enter();
        let diff = Changes::new()
            .field("failed_attempts", 2, 3)
            .field("locked", false, false);
        security_event!(
            SecurityEvent::LoginFailed,
            actor.id = "42",
            actor.name = "alice",
            authentication.method = "password",
            attempts = 3,
            changes = %diff,
        );
    });
    guard.shutdown().unwrap();
    let record = keep.0.lock().unwrap().remove(0);
    record
}

fn encode(c: &mut Criterion) {
    let record = captured_record();
    let mut ours = Vec::new();
    tracing_security_events::_private::encode_record(&mut ours, &record).unwrap();
    let theirs = serde_json::to_vec(&record).unwrap();
    assert_eq!(ours, theirs, "the two encoders write the same bytes");

    let mut group = c.benchmark_group("encode_record");
    group.throughput(Throughput::Bytes(ours.len() as u64));
    let mut out = Vec::with_capacity(4096);
    group.bench_function("tracing-security-events encoder", |b| {
        b.iter(|| {
            out.clear();
            tracing_security_events::_private::encode_record(&mut out, black_box(&record)).unwrap();
            black_box(out.len())
        })
    });
    group.bench_function("serde_json::to_writer (derived Serialize)", |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(&record)).unwrap();
            black_box(out.len())
        })
    });
    group.finish();
}

/// What a sink in the ECS or OCSF form adds to the worker's work per record: encoding the
/// record once more, in that form, beside the native line every log encodes.
fn encode_forms(c: &mut Criterion) {
    let record = captured_record();
    let mappings = FormMappings::new();
    let mut group = c.benchmark_group("encode_form");
    let mut out = Vec::with_capacity(4096);
    for form in OutputForm::ALL {
        out.clear();
        form.encode(&mut out, &record, &mappings).unwrap();
        eprintln!("{form}: {} bytes", out.len());
        group.bench_function(form.as_str(), |b| {
            b.iter(|| {
                out.clear();
                form.encode(&mut out, black_box(&record), &mappings)
                    .unwrap();
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode, encode_forms);
criterion_main!(benches);
