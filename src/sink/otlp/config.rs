//! What the OTLP sink needs to know: where to send, how, and how much to hold while it cannot.

use std::collections::HashMap;
use std::time::Duration;

pub use crate::sink::otlp_settings::{OtlpCompression, OtlpProtocol};
use crate::sink::SpoolConfig;

/// Settings of the OTLP sink. Every setting left unset falls back to the standard
/// OpenTelemetry variable, then to the OpenTelemetry default:
///
/// | setting | variable (the `_LOGS_` one wins) | default |
/// |---|---|---|
/// | [`with_protocol`](Self::with_protocol) | `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` |
/// | [`with_endpoint`](Self::with_endpoint) | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` | `http://localhost:4318` (HTTP), `http://localhost:4317` (gRPC) |
/// | [`with_header`](Self::with_header) | `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS` | none |
/// | [`with_timeout`](Self::with_timeout) | `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT` | 10 s |
/// | [`with_compression`](Self::with_compression) | `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION` | none |
/// | resource `service.name` | the builder's service name, else `OTEL_SERVICE_NAME` | `unknown_service` |
/// | other resource attributes | `OTEL_RESOURCE_ATTRIBUTES` | |
///
/// An `https://` endpoint uses TLS with the system's root certificates.
///
/// Delivery is ours, not the OpenTelemetry SDK's: records wait in memory (8 MiB by default)
/// while the collector is unreachable, then in spool files on disk (256 MiB by default), as
/// [`with_spool`](Self::with_spool) says, and are sent again in order when it is back. What the limits make us give up is counted and reported as an
/// `audit.events_dropped` record.
#[derive(Debug, Clone)]
#[must_use]
pub struct OtlpConfig {
    pub(crate) protocol: Option<OtlpProtocol>,
    pub(crate) endpoint: Option<String>,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<OtlpCompression>,
    pub(crate) spool: SpoolConfig,
    pub(crate) max_batch: usize,
    /// Whether the sink may say on stderr what it gave up at shutdown (the builder's
    /// `with_error_reporting`).
    pub(crate) report_errors: bool,
    /// What the sink made from these settings counts.
    pub(crate) stats: super::OtlpStatsHandle,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig::new()
    }
}

impl OtlpConfig {
    /// Default number of records per export request.
    pub const DEFAULT_MAX_BATCH: usize = 512;

    /// A reader of the counters of the sink these settings make, usable from any thread once
    /// the settings are handed to [`Builder::with_otlp`](crate::Builder::with_otlp).
    ///
    /// ```
    /// use tracing_security_events::sink::otlp::OtlpConfig;
    ///
    /// let otlp = OtlpConfig::new().with_endpoint("http://127.0.0.1:4318/v1/logs");
    /// let stats = otlp.stats_handle();
    /// assert_eq!(stats.get().exported, 0, "nothing sent yet");
    /// ```
    pub fn stats_handle(&self) -> super::OtlpStatsHandle {
        self.stats.clone()
    }

    /// Sets whether the sink may report on stderr (from the builder).
    pub(crate) fn with_error_reporting(mut self, enabled: bool) -> Self {
        self.report_errors = enabled;
        self
    }

    /// Everything from the environment and the defaults.
    pub fn new() -> Self {
        OtlpConfig {
            protocol: None,
            endpoint: None,
            headers: HashMap::new(),
            timeout: None,
            compression: None,
            spool: SpoolConfig::new(),
            max_batch: Self::DEFAULT_MAX_BATCH,
            report_errors: true,
            stats: super::OtlpStatsHandle::default(),
        }
    }

    /// The transport.
    pub fn with_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// The collector's address: `http://collector:4317` for gRPC; for HTTP the full URL of the
    /// logs endpoint (`http://collector:4318/v1/logs`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// A header sent with every request (an API key, say); gRPC metadata for gRPC.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// How long one export request may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Compress the payloads.
    pub fn with_compression(mut self, compression: OtlpCompression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// What to hold, in memory and in spool files, while the collector is unreachable.
    pub fn with_spool(mut self, spool: SpoolConfig) -> Self {
        self.spool = spool;
        self
    }

    /// Records per export request (default 512; a request is also cut at 30 KiB of records).
    pub fn with_max_batch(mut self, records: usize) -> Self {
        self.max_batch = records.max(1);
        self
    }

    /// The protocol in force: the explicit one, else the variables, else `http/protobuf`. A
    /// variable naming no protocol is an error naming it.
    pub(crate) fn resolved_protocol(&self) -> Result<OtlpProtocol, super::OtlpError> {
        if let Some(protocol) = self.protocol {
            return Ok(protocol);
        }
        for variable in [
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Ok(value) = std::env::var(variable) {
                return OtlpProtocol::parse(&value).ok_or(super::OtlpError::InvalidVariable {
                    variable,
                    value,
                    allowed: "grpc, http/protobuf, http/json",
                });
            }
        }
        Ok(OtlpProtocol::HttpProtobuf)
    }
}
