//! The thread that sends the backlog to the collector, in order, retrying with back-off.
//!
//! It owns a small tokio runtime of its own, so the service needs none (and one it has is never
//! blocked). The exporter's own retries are off: a batch is retried here until it is delivered
//! or the sink shuts down, so nothing depends on the SDK's batch processor, which drops records
//! when its queue is full.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{
    LogExporter, RetryPolicy, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::Resource;

use super::config::{OtlpCompression, OtlpConfig, OtlpProtocol};
use super::mapping;
use super::OtlpError;
use crate::sink::delivery::{
    ship, Backlog, BatchLimits, DeliveryCounters, Refusals, ShipperThread,
};

/// Records per request are also bounded by their JSON size. HTTP/2 lets a client send 64 KiB on a
/// connection before the server's window updates, which some servers hold back (Nagle against
/// delayed ACKs: ~40 ms). Measured against mock-collector, 20,000 records: at 60 KiB one request
/// in five waited that long (1.39 s in all); at 30 KiB 6 requests in 1537 did (0.47 s).
const MAX_REQUEST_BYTES: usize = 30 * 1024;
/// Starts the thread that exports the backlog.
#[derive(Debug)]
pub(crate) struct Shipper;

impl Shipper {
    /// Builds the exporter on the new thread (tonic needs a runtime to build its channel) and
    /// returns once it is built, or with the reason it could not be.
    pub(crate) fn start(
        config: &OtlpConfig,
        resource: Resource,
        backlog: Arc<Backlog>,
        counters: Arc<DeliveryCounters>,
    ) -> Result<ShipperThread, OtlpError> {
        let protocol = config.resolved_protocol()?;
        let config = config.clone();
        let (built, was_built) = mpsc::channel();
        let mut thread = ShipperThread::spawn("security-log-otlp", move |stop| {
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
            export(&runtime, &exporter, &config, &backlog, &counters, stop);
            let _ = exporter.shutdown();
        })
        .map_err(|source| OtlpError::Start {
            what: "thread",
            source,
        })?;
        match was_built.recv() {
            Ok(Ok(())) => Ok(thread),
            Ok(Err(err)) => {
                thread.stop();
                Err(err)
            }
            Err(_) => Err(OtlpError::ThreadEnded),
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

/// Exports the backlog, oldest first, until stopped (see [`ship`]).
fn export(
    runtime: &tokio::runtime::Runtime,
    exporter: &LogExporter,
    config: &OtlpConfig,
    backlog: &Backlog,
    counters: &DeliveryCounters,
    stop: &AtomicBool,
) {
    // A provider without processors: only a source of empty log records for the mapping.
    let provider = SdkLoggerProvider::builder().build();
    let scope = InstrumentationScope::builder("tracing-security-events")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let logger = opentelemetry::logs::LoggerProvider::logger_with_scope(&provider, scope.clone());
    let mut mapper = mapping::Mapper::default();
    let limits = BatchLimits {
        max: config.max_batch,
        max_bytes: MAX_REQUEST_BYTES,
        linger: std::time::Duration::ZERO,
    };
    ship(backlog, limits, counters, stop, &mut |batch| {
        let records: Vec<SdkLogRecord> = batch
            .iter()
            .filter_map(|entry| {
                let mapped = mapper.log_record(&logger, &entry.line);
                if mapped.is_none() {
                    counters.refuse("not a record the OTLP mapping can read".to_owned());
                }
                mapped
            })
            .collect();
        let refusals = Refusals {
            destination: "the collector",
            of_data: &|error: &String| refused_for_data(error).then(|| error.clone()),
            id: &|record: &SdkLogRecord| record_id(record).unwrap_or("(no id)").to_owned(),
        };
        refusals.send(&records, counters, &mut |records| {
            let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
                records.iter().map(|record| (record, &scope)).collect();
            runtime
                .block_on(exporter.export(LogBatch::new(&pairs)))
                .map(|()| records.len() as u64)
                .map_err(|error| error.to_string())
        })
    });
    let _ = provider.shutdown();
}

/// Whether the collector refused a request for what it carried, which sending it again cannot
/// change: HTTP 400 Bad Request or 413 Payload Too Large, gRPC `InvalidArgument` (the OTLP
/// specification's non-retryable answers about the data; 401, 403 and the rest are about the
/// connection or the configuration, and are retried until someone fixes them). The exporter
/// gives only a message, so the status is read from it.
fn refused_for_data(error: &str) -> bool {
    error.ends_with("status code: 400")
        || error.ends_with("status code: 413")
        || error.contains("gRPC code: InvalidArgument")
}

/// The record's `id`, as the mapping carries it.
fn record_id(record: &SdkLogRecord) -> Option<&str> {
    record
        .attributes_iter()
        .find_map(|(key, value)| match value {
            opentelemetry::logs::AnyValue::String(id) if key.as_str() == "security_event.id" => {
                Some(id.as_str())
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::refused_for_data;

    #[test]
    fn data_refusals_are_told_from_outages_by_the_exporters_messages() {
        // The messages of opentelemetry-otlp 0.33 (exporter/http/mod.rs, exporter/tonic/mod.rs).
        assert!(refused_for_data("HTTP export failed with status code: 400"));
        assert!(refused_for_data("HTTP export failed with status code: 413"));
        assert!(refused_for_data(
            "TonicLogsClient export failed with gRPC code: InvalidArgument"
        ));
        assert!(!refused_for_data(
            "HTTP export failed with status code: 503"
        ));
        assert!(!refused_for_data(
            "HTTP export failed with status code: 4000"
        ));
        assert!(!refused_for_data("HTTP export failed: network error"));
        assert!(!refused_for_data(
            "TonicLogsClient export failed with gRPC code: Unavailable: transport error"
        ));
    }
}
