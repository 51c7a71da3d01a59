//! The thread that sends the backlog to the collector, in order, retrying with back-off.
//!
//! It owns a small tokio runtime of its own, so the service needs none (and one it has is never
//! blocked). The exporter's own retries are off: a batch is retried here until it is delivered
//! or the sink shuts down, so nothing depends on the SDK's batch processor, which drops records
//! when its queue is full.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{
    LogExporter, RetryPolicy, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::Resource;

use super::backlog::Backlog;
use super::config::{OtlpCompression, OtlpConfig, OtlpProtocol};
use super::mapping;
use super::OtlpError;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Records per request are also bounded by their JSON size. HTTP/2 lets a client send 64 KiB on a
/// connection before the server's window updates, which some servers hold back (Nagle against
/// delayed ACKs: ~40 ms). Measured against mock-collector, 20,000 records: at 60 KiB one request
/// in five waited that long (1.39 s in all); at 30 KiB 6 requests in 1537 did (0.47 s).
const MAX_REQUEST_BYTES: usize = 30 * 1024;
/// How long the shipper waits for records before looking at its stop flag again.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Counters of one OTLP sink.
#[derive(Debug, Default)]
pub(crate) struct ShipperCounters {
    pub(crate) exported: AtomicU64,
    pub(crate) failed_exports: AtomicU64,
    pub(crate) unmappable: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
}

/// The running shipper: its thread and how to stop it.
#[derive(Debug)]
pub(crate) struct Shipper {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Shipper {
    /// Builds the exporter on the new thread (tonic needs a runtime to build its channel) and
    /// returns once it is built, or with the reason it could not be.
    pub(crate) fn start(
        config: &OtlpConfig,
        resource: Resource,
        backlog: Arc<Backlog>,
        counters: Arc<ShipperCounters>,
    ) -> Result<Self, OtlpError> {
        let protocol = config.resolved_protocol()?;
        let config = config.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let (built, was_built) = mpsc::channel();
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("security-log-otlp".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = built.send(Err(OtlpError::Start {
                            what: "runtime",
                            source: err,
                        }));
                        return;
                    }
                };
                let exporter = runtime.block_on(async { build_exporter(&config, protocol) });
                let mut exporter = match exporter {
                    Ok(exporter) => exporter,
                    Err(err) => {
                        let _ = built.send(Err(err));
                        return;
                    }
                };
                exporter.set_resource(&resource);
                let _ = built.send(Ok(()));
                ship(
                    &runtime,
                    &exporter,
                    &config,
                    &backlog,
                    &counters,
                    &thread_stop,
                );
                let _ = exporter.shutdown();
            })
            .map_err(|source| OtlpError::Start {
                what: "thread",
                source,
            })?;
        match was_built.recv() {
            Ok(Ok(())) => Ok(Shipper {
                thread: Some(thread),
                stop,
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err)
            }
            Err(_) => Err(OtlpError::ThreadEnded),
        }
    }

    /// Stops the thread after its current attempt.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn build_exporter(config: &OtlpConfig, protocol: OtlpProtocol) -> Result<LogExporter, OtlpError> {
    let compression = config.compression.map(|c| match c {
        OtlpCompression::Gzip => opentelemetry_otlp::Compression::Gzip,
        OtlpCompression::Zstd => opentelemetry_otlp::Compression::Zstd,
    });
    let headers = header_map(&config.headers)?;
    let built = match protocol {
        OtlpProtocol::Grpc => {
            let mut builder = with_export_settings(
                LogExporter::builder()
                    .with_tonic()
                    .with_protocol(opentelemetry_otlp::Protocol::Grpc)
                    .with_retry_policy(RetryPolicy::disabled()),
                config,
            );
            if let Some(compression) = compression {
                builder = builder.with_compression(compression);
            }
            if !config.headers.is_empty() {
                builder =
                    builder.with_metadata(tonic::metadata::MetadataMap::from_headers(headers));
            }
            builder.build()
        }
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let wire = match protocol {
                OtlpProtocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
                _ => opentelemetry_otlp::Protocol::HttpBinary,
            };
            let mut builder = with_export_settings(
                LogExporter::builder()
                    .with_http()
                    .with_protocol(wire)
                    .with_retry_policy(RetryPolicy::disabled()),
                config,
            );
            if let Some(compression) = compression {
                builder = builder.with_compression(compression);
            }
            if !config.headers.is_empty() {
                builder = builder.with_headers(config.headers.clone());
            }
            builder.build()
        }
    };
    built.map_err(|source| OtlpError::Exporter {
        protocol: protocol.as_str(),
        source,
    })
}

/// The settings both transports share; unset ones are left to the standard variables.
fn with_export_settings<B: WithExportConfig>(mut builder: B, config: &OtlpConfig) -> B {
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    if let Some(timeout) = config.timeout {
        builder = builder.with_timeout(timeout);
    }
    builder
}

/// The configured headers, checked: the HTTP exporter would skip an invalid one silently.
fn header_map(headers: &HashMap<String, String>) -> Result<http::HeaderMap, OtlpError> {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let invalid = |reason: http::Error| OtlpError::InvalidHeader {
            name: name.clone(),
            reason,
        };
        let header = http::HeaderName::try_from(name.as_str()).map_err(|e| invalid(e.into()))?;
        let value = http::HeaderValue::try_from(value.as_str()).map_err(|e| invalid(e.into()))?;
        map.insert(header, value);
    }
    Ok(map)
}

/// The loop: take the oldest records, export them, retry until delivered or stopped.
fn ship(
    runtime: &tokio::runtime::Runtime,
    exporter: &LogExporter,
    config: &OtlpConfig,
    backlog: &Backlog,
    counters: &ShipperCounters,
    stop: &AtomicBool,
) {
    // A provider without processors: only a source of empty log records for the mapping.
    let provider = SdkLoggerProvider::builder().build();
    let scope = InstrumentationScope::builder("tracing-security-events")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let logger = opentelemetry::logs::LoggerProvider::logger_with_scope(&provider, scope.clone());
    let mut mapper = mapping::Mapper::default();
    let mut backoff = FIRST_BACKOFF;
    while let Some(batch) = backlog.take(config.max_batch, MAX_REQUEST_BYTES, IDLE_WAIT) {
        if stop.load(Ordering::Relaxed) {
            backlog.put_back(batch);
            break;
        }
        if batch.is_empty() {
            continue;
        }
        let records: Vec<SdkLogRecord> = batch
            .iter()
            .filter_map(|entry| {
                let mapped = mapper.log_record(&logger, &entry.line);
                if mapped.is_none() {
                    counters.unmappable.fetch_add(1, Ordering::Relaxed);
                }
                mapped
            })
            .collect();
        let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
            records.iter().map(|record| (record, &scope)).collect();
        match runtime.block_on(exporter.export(LogBatch::new(&pairs))) {
            Ok(()) => {
                counters
                    .exported
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                backlog.acknowledge(batch);
                backoff = FIRST_BACKOFF;
            }
            Err(err) => {
                counters.failed_exports.fetch_add(1, Ordering::Relaxed);
                *counters
                    .last_error
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(err.to_string());
                backlog.put_back(batch);
                sleep_unless_stopped(backoff, stop);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    let _ = provider.shutdown();
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let deadline = std::time::Instant::now() + duration;
    while std::time::Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10).min(duration));
    }
}
