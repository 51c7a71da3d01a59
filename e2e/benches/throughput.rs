//! End-to-end throughput: records on disk per second, from 1 and 4 producer threads, with the hash
//! chain off and on and each fsync policy, beside `fmt().json()` + `tracing_appender::non_blocking`
//! writing the same event to a file, in one run.
//!
//! `cargo bench --bench throughput`
//!
//! One measurement emits N events spread over the producers and stops the clock once every
//! record is in the file: for ours when `FlushGuard::flush` returns (written and, as the policy
//! says, synced), for the appender when its guard's drop has written every line.
//!
//! Each variant runs in a process of its own (this bench starts itself once per variant), and
//! each measurement starts, untimed, with a `sync()` of the whole system. Otherwise a variant
//! inherits what the ones before it left behind: gigabytes in the page cache for the kernel to
//! write back, and a heap full of freed records; the first variant, fmt-JSON, was the only one to
//! start clean, and the same variant measured up to 40% slower when it ran after another.

#![allow(missing_docs)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tracing_security_events::integrity::EpochKey;
use tracing_security_events::sink::{CheckpointConfig, FileConfig, FsyncPolicy};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

fn produce(dispatch: &tracing::Dispatch, producers: u64, events: u64) {
    let threads: Vec<_> = (0..producers)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let span = tracing::info_span!(
                        "request",
                        client.ip = "203.0.113.7",
                        user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
                        request.id = "req-9f1c",
                    );
                    let _entered = span.enter();
                    for attempt in 0..events / producers {
                        security_event!(
                            SecurityEvent::LoginFailed,
                            actor.name = "alice",
                            authentication.method = "password",
                            attempt,
                        );
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

fn ours(
    dir: &Path,
    name: &str,
    config: impl Fn(FileConfig) -> FileConfig,
    producers: u64,
) -> impl FnMut(u64) -> Duration {
    let (layer, guard) = tracing_security_events::builder()
        .with_file_config(config(FileConfig::new(
            dir.join(format!("{name}-{producers}.jsonl")),
        )))
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    move |events| {
        rustix::fs::sync();
        let start = Instant::now();
        produce(&dispatch, producers, events);
        guard.flush().unwrap();
        start.elapsed()
    }
}

fn fmt_json(dir: &Path, producers: u64) -> impl FnMut(u64) -> Duration {
    let path = dir.join(format!("fmt-json-{producers}.jsonl"));
    move |events| {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        let (writer, appender_guard) =
            tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(file);
        let fmt = tracing_subscriber::fmt::layer().json().with_writer(writer);
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(fmt));
        rustix::fs::sync();
        let start = Instant::now();
        produce(&dispatch, producers, events);
        drop(appender_guard); // returns once every line is written
        start.elapsed()
    }
}

/// How a variant changes the default file settings.
type Configure = fn(FileConfig) -> FileConfig;

/// Signed checkpoints at their defaults, under a key made for this process.
fn with_checkpoints(config: FileConfig) -> FileConfig {
    static KEY: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = KEY.get_or_init(|| tempfile::tempdir().unwrap());
    let key_file = dir.path().join("checkpoint.key");
    EpochKey::generate().unwrap().save(&key_file).unwrap();
    config.with_checkpoints(CheckpointConfig::new(key_file))
}

/// Measures the one variant named `only` (its full benchmark id).
fn throughput(c: &mut Criterion, only: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("records_on_disk");
    group.throughput(Throughput::Elements(1));
    // Samples of equal size, each over a second long: a sample ends with a flush, which syncs
    // everything written since the last interval's sync, as a running service does once a
    // second. Criterion's default, from tiny samples up, paid that sync many times a second.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    for producers in [1, 4] {
        let name = "fmt-json + non_blocking";
        if only == format!("records_on_disk/{name}/{producers}") {
            let mut fmt = fmt_json(dir.path(), producers);
            group.bench_function(BenchmarkId::new(name, producers), |b| {
                b.iter_custom(&mut fmt)
            });
        }
        let variants: [(&str, Configure); 6] = [
            ("chain off, fsync interval", |c| c.without_chain()),
            ("chain on, fsync never", |c| c.fsync(FsyncPolicy::Never)),
            ("chain on, fsync interval", |c| c),
            ("checkpoints, fsync interval", with_checkpoints),
            // The index against the same rotation without it: what keeping it costs.
            ("rotating 64 MiB", |c| c.rotate_at_size(64 << 20)),
            ("rotating 64 MiB, index", |c| {
                c.rotate_at_size(64 << 20).with_index(true)
            }),
        ];
        for (name, config) in variants {
            if only == format!("records_on_disk/{name}/{producers}") {
                let mut run = ours(dir.path(), name, config, producers);
                group.bench_function(BenchmarkId::new(name, producers), |b| {
                    b.iter_custom(&mut run)
                });
            }
        }
    }
    group.finish();

    // Every record waits for its fsync: far fewer per second, so fewer samples.
    let mut group = c.benchmark_group("records_on_disk_fsync_always");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    for producers in [1, 4] {
        let name = "chain on, fsync always";
        if only == format!("records_on_disk_fsync_always/{name}/{producers}") {
            let mut run = ours(
                dir.path(),
                "always",
                |c| c.fsync(FsyncPolicy::Always),
                producers,
            );
            group.bench_function(BenchmarkId::new(name, producers), |b| {
                b.iter_custom(&mut run)
            });
        }
    }
    group.finish();
}

/// Set in the child processes, each of which runs one variant.
const CHILD: &str = "THROUGHPUT_BENCH_VARIANT";

const VARIANTS: [&str; 14] = [
    "records_on_disk/fmt-json + non_blocking/1",
    "records_on_disk/chain off, fsync interval/1",
    "records_on_disk/chain on, fsync never/1",
    "records_on_disk/chain on, fsync interval/1",
    "records_on_disk/checkpoints, fsync interval/1",
    "records_on_disk/rotating 64 MiB/1",
    "records_on_disk/rotating 64 MiB, index/1",
    "records_on_disk/fmt-json + non_blocking/4",
    "records_on_disk/chain off, fsync interval/4",
    "records_on_disk/chain on, fsync never/4",
    "records_on_disk/chain on, fsync interval/4",
    "records_on_disk/checkpoints, fsync interval/4",
    "records_on_disk_fsync_always/chain on, fsync always/1",
    "records_on_disk_fsync_always/chain on, fsync always/4",
];

fn main() {
    if let Ok(variant) = std::env::var(CHILD) {
        let mut criterion = Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        throughput(&mut criterion, &variant);
        criterion.final_summary();
        return;
    }
    // A filter given on the command line picks variants by substring.
    let filter = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .unwrap_or_default();
    let exe = std::env::current_exe().expect("the bench's own path");
    for variant in VARIANTS.iter().filter(|v| v.contains(filter.as_str())) {
        let status = Command::new(&exe)
            .arg("--bench")
            .env(CHILD, variant)
            .status()
            .expect("the bench starts itself");
        assert!(status.success(), "{variant}: {status}");
    }
}
