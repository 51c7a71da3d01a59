//! Why the OTLP sink could not start, with the setting or the cause kept as a value.

use std::io;
use std::path::PathBuf;

/// The OTLP sink could not start; every case names what is wrong and keeps its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// An `OTEL_*` variable holds a value that is not allowed.
    #[error("cannot start the OTLP sink: {variable}={value:?} is not one of {allowed}")]
    InvalidVariable {
        /// The variable (`OTEL_EXPORTER_OTLP_PROTOCOL`).
        variable: &'static str,
        /// Its value.
        value: String,
        /// What it may hold.
        allowed: &'static str,
    },
    /// A header name or value that HTTP does not allow (the HTTP exporter would skip it
    /// silently).
    #[error("cannot start the OTLP sink: header {name}: {reason}")]
    InvalidHeader {
        /// The header's name as given.
        name: String,
        /// Why it is refused.
        #[source]
        reason: http::Error,
    },
    /// The spool directory cannot be created or read.
    #[error("cannot start the OTLP sink: spool directory {}: {source}", dir.display())]
    Spool {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The sink's thread or its runtime could not be started.
    #[error("cannot start the OTLP sink: cannot start its {what}: {source}")]
    Start {
        /// `thread` or `runtime`.
        what: &'static str,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The OpenTelemetry exporter refused its settings.
    #[error("cannot start the OTLP sink: cannot build the {protocol} exporter: {source}")]
    Exporter {
        /// `grpc`, `http/protobuf` or `http/json`.
        protocol: &'static str,
        /// The exporter's error.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The sink's thread ended before it could say whether the exporter was built.
    #[error("cannot start the OTLP sink: its thread ended before building the exporter")]
    ThreadEnded,
}
