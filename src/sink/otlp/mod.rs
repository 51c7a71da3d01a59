//! The OTLP sink (cargo feature `otlp`): records as OpenTelemetry log records, sent to a collector
//! over gRPC or HTTP, held in memory and then on disk while the collector is away.
//!
//! # Settings, delivery and the mapping
//!
//! With the `otlp` feature, `Builder::with_otlp(OtlpConfig)` ships every record to an OpenTelemetry
//! collector as a log record, beside the files:
//!
//! ```no_run
//! use tracing_security_events::sink::otlp::{OtlpConfig, OtlpProtocol};
//! use tracing_security_events::sink::SpoolConfig;
//!
//! let api_key = std::env::var("COLLECTOR_API_KEY")?;
//! let (layer, guard) = tracing_security_events::builder()
//!     .with_file("/var/log/myapp/security.jsonl")
//!     .with_otlp(
//!         OtlpConfig::new()
//!             .with_protocol(OtlpProtocol::Grpc)                  // or HttpProtobuf, HttpJson
//!             .with_endpoint("https://otel-collector:4317")       // TLS with the system's roots
//!             .with_header("x-api-key", api_key)
//!             .with_spool(SpoolConfig::new().with_dir("/var/spool/myapp/security-otlp")), // held here while the collector is away
//!     )
//!     .build::<tracing_subscriber::Registry>()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `cargo run -p tracing-security-events-e2e --example otlp --features otlp` sends a few records to the collector named by
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_PROTOCOL`; `.ci/run` runs it against a real
//! collector ([rotel](https://pypi.org/project/rotel/), installed from PyPI) over the three protocols.
//!
//! **Settings.** The transport is always chosen by us, never left to the exporter's own default
//! (which depends on the cargo features other crates switch on): the explicit setting, else
//! `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.
//! Endpoint, headers, timeout and compression follow the same rule with the standard variables
//! (`OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`). The resource
//! carries `OTEL_RESOURCE_ATTRIBUTES`, and `service.name` / `service.version` /
//! `service.instance.id` from the builder's service identity, which wins over `OTEL_SERVICE_NAME`.
//! A variable with a bad value fails `build()` with its name.
//!
//! **Delivery.** The OpenTelemetry SDK's batch processor drops records when its queue is full and
//! says so only in a log line, so it is not used. The sink queues each batch and returns at once; a
//! thread of its own (with its own small tokio runtime, so the service needs none and its own runtime
//! is never blocked) exports the oldest records in batches of up to 512 records and 30 KiB, and retries a failed batch with
//! back-off (50 ms doubling to 5 s) until it is taken, the exporter's own retries being off. While the
//! collector is away, records wait in memory (8 MiB by default), then in spool files in the directory
//! given (256 MiB by default), and are sent again in `seq` order when it is back; spool files left by a
//! crash or a shutdown are sent first at the next start. Past both limits new records are given up:
//! the count shows in `Stats::dropped` and in an `audit.events_dropped` record (with `sink` naming the
//! OTLP sink) written to the other sinks. A record can arrive twice only when a batch was received but
//! its acknowledgement was lost, and then it carries the same `security_event.id`. A slow or absent
//! collector never slows the file sink. The exporter's own logs (hyper, h2, tonic, opentelemetry) are
//! ordinary `tracing` events without `security_event`, so the layer's filter never lets them become
//! records.
//!
//! **Mapping.** One LogRecord per record: `event_name` = the event name, severity number and text
//! from the record's severity (`critical` is FATAL), body = the message, timestamp = the record's time
//! (observed timestamp = the export time), trace and span id from the record's `trace` part when
//! present.
//!
//! | record | OTLP attribute |
//! |---|---|
//! | `actor.id`, `actor.name`, `actor.email`, `actor.roles` | `user.id`, `user.name`, `user.email`, `user.roles` (array) |
//! | `session.id` | `session.id` (after redaction, as in every sink) |
//! | `client.ip`, `client.port` | `client.address`, `client.port` |
//! | `client.geo.country`, `client.geo.city`, `client.geo.lat`, `client.geo.lon` | `geo.country.iso_code`, `geo.locality.name`, `geo.location.lat`, `geo.location.lon` |
//! | `user_agent.original`, `.name`, `.version`, `.os` | `user_agent.original`, `user_agent.name`, `user_agent.version`, `user_agent.os.name` |
//! | `request.method`, `request.path` | `http.request.method`, `url.path` |
//! | `event.name` | `security_event.name` (also the LogRecord's `event_name`) |
//! | `id`, `seq`, `event.category`, `event.outcome`, `event.owasp`, `event.reason`, ... | `security_event.id`, `security_event.seq`, `security_event.category`, ... |
//! | every other part (`actor.kind`, `request.id`, `target.*`, `user_agent.device`, `client.geo.asn`) | `security_event.<part>.<key>` |
//! | `fields.<name>` | `security_event.fields.<name>`, typed |
//! | `changes` | `security_event.changes` (JSON text) |
//! | `service`, `integrity` | not sent: the resource carries the service, the chain belongs to the file |
//!
//! A collector pipeline that keeps the security stream apart from ordinary logs (OpenTelemetry
//! Collector):
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols: { grpc: { endpoint: 0.0.0.0:4317 }, http: { endpoint: 0.0.0.0:4318 } }
//! processors:
//!   filter/security:
//!     logs:
//!       log_record:
//!         - 'not IsMatch(attributes["security_event.name"], ".+")'   # drop everything else
//! exporters:
//!   file/security: { path: /var/log/collector/security.jsonl }
//! service:
//!   pipelines:
//!     logs/security: { receivers: [otlp], processors: [filter/security], exporters: [file/security] }
//! ```
//!

mod config;
mod error;
mod mapping;
mod shipper;

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use opentelemetry_sdk::Resource;

pub use config::{OtlpCompression, OtlpConfig, OtlpProtocol};
pub use error::OtlpError;

use self::shipper::Shipper;
use super::delivery::{Backlog, DeliveryCounters, Outbox};
use super::{Batch, Sink};
use crate::record::ServiceInfo;

/// Ships records to an OpenTelemetry collector; see [`OtlpConfig`] for the settings and the
/// delivery rules. Added with [`Builder::with_otlp`](crate::Builder::with_otlp).
///
/// Writing only queues: the export runs on a thread of the sink's own, so a slow or absent
/// collector never holds up the pipeline, and the file sinks beside it keep writing.
pub(crate) struct OtlpSink {
    outbox: Outbox,
}

impl fmt::Debug for OtlpSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpSink")
            .field("name", &self.outbox.name)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The counters of the OTLP sink, from an [`OtlpStatsHandle`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtlpStats {
    /// Records the collector accepted.
    pub exported: u64,
    /// Export requests that failed (each is retried).
    pub failed_exports: u64,
    /// Records that could not be read back as OTLP log records and were not sent (a line that
    /// is not one of our records; never expected, counted so it cannot pass unseen).
    pub unmappable: u64,
    /// Records waiting in memory.
    pub waiting_in_memory: usize,
    /// Their size in bytes (bounded by [`SpoolConfig::with_memory_limit`](crate::sink::SpoolConfig::with_memory_limit)).
    pub memory_bytes: usize,
    /// Bytes of records waiting in spool files.
    pub waiting_on_disk: u64,
    /// The last export error, if any.
    pub last_error: Option<String>,
}

impl OtlpSink {
    /// Starts the sink: checks the settings, builds the exporter on the sink's thread, opens the
    /// spool directory. `service` gives `service.name`, `service.version` and
    /// `service.instance.id` of the resource, over `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES`.
    pub(crate) fn open(config: OtlpConfig, service: &ServiceInfo) -> Result<Self, OtlpError> {
        let protocol = config.resolved_protocol()?;
        let backlog = config
            .spool
            .open()
            .map_err(|(dir, source)| OtlpError::Spool { dir, source })?;
        // The first sink made from this configuration is the one its stats handle reads.
        let _ = config.stats.backlog.set(backlog.clone());
        let counters = config.stats.counters.clone();
        let shipper = Shipper::start(
            &config,
            resource(service),
            backlog.clone(),
            counters.clone(),
        )?;
        let endpoint = config
            .endpoint
            .as_deref()
            .unwrap_or("(from the environment)");
        Ok(OtlpSink {
            outbox: Outbox {
                name: format!("otlp:{}:{endpoint}", protocol.as_str()),
                backlog,
                counters,
                shipper,
                report_errors: config.report_errors,
                destination: "collector",
            },
        })
    }

    /// The counters as they are now.
    fn stats(&self) -> OtlpStats {
        snapshot(Some(&self.outbox.backlog), &self.outbox.counters)
    }
}

/// Reads the counters of the OTLP sink made from an [`OtlpConfig`], from any thread:
/// [`OtlpConfig::stats_handle`]. Before the sink starts, every counter is 0.
#[derive(Clone, Default)]
pub struct OtlpStatsHandle {
    backlog: Arc<std::sync::OnceLock<Arc<Backlog>>>,
    counters: Arc<DeliveryCounters>,
}

impl fmt::Debug for OtlpStatsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OtlpStatsHandle").field(&self.get()).finish()
    }
}

impl OtlpStatsHandle {
    /// The counters as they are now.
    pub fn get(&self) -> OtlpStats {
        snapshot(self.backlog.get().map(Arc::as_ref), &self.counters)
    }
}

/// The counters of a sink, and of its backlog once it exists.
fn snapshot(backlog: Option<&Backlog>, counters: &DeliveryCounters) -> OtlpStats {
    let (waiting_in_memory, memory_bytes, waiting_on_disk) =
        backlog.map_or((0, 0, 0), Backlog::pending);
    OtlpStats {
        exported: counters.delivered.load(Ordering::Relaxed),
        failed_exports: counters.failed_attempts.load(Ordering::Relaxed),
        unmappable: counters.unmappable.load(Ordering::Relaxed),
        waiting_in_memory,
        memory_bytes,
        waiting_on_disk,
        last_error: counters.last_error(),
    }
}

/// The resource: the environment's attributes, then the service identity set in code.
fn resource(service: &ServiceInfo) -> Resource {
    let mut builder = Resource::builder();
    if let Some(name) = &service.name {
        builder = builder.with_service_name(name.clone());
    }
    let mut attributes = Vec::new();
    if let Some(version) = &service.version {
        attributes.push(opentelemetry::KeyValue::new(
            "service.version",
            version.clone(),
        ));
    }
    if let Some(instance) = &service.instance {
        attributes.push(opentelemetry::KeyValue::new(
            "service.instance.id",
            instance.clone(),
        ));
    }
    builder.with_attributes(attributes).build()
}

impl Sink for OtlpSink {
    fn name(&self) -> &str {
        &self.outbox.name
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        self.outbox.write(batch)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.outbox.flush()
    }

    fn take_losses(&mut self) -> Vec<super::SinkLoss> {
        self.outbox.take_losses()
    }
}
