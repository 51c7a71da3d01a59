//! Opening a sink from its settings, the same way for the builder's sinks and a
//! configuration's, at start-up and at a reload.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::{FileConfig, FileSink, Sink, StdoutSink};
use crate::clock::Clock;
use crate::record::ServiceInfo;
use crate::BuildError;

/// What a sink is, before it is opened.
#[derive(Debug)]
pub(crate) enum SinkSpec {
    /// A JSON-lines file.
    File(FileConfig),
    /// JSON lines on stdout, in a form.
    Stdout(crate::forms::OutputForm),
    /// OTLP log records to a collector.
    #[cfg(feature = "otlp")]
    Otlp(super::otlp::OtlpConfig),
    /// Rows of a PostgreSQL table.
    #[cfg(feature = "postgres")]
    Postgres(super::postgres::PostgresConfig),
    /// Syslog messages to a receiver.
    #[cfg(feature = "syslog")]
    Syslog(super::syslog::SyslogConfig),
    /// Batches of records over HTTP.
    #[cfg(feature = "http-batch")]
    HttpBatch(super::http_batch::HttpBatchConfig),
}

/// An opened sink, with the path of a file found ending mid-line (a crash while writing).
pub(crate) struct OpenedSink {
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) torn_file: Option<PathBuf>,
}

/// Why a sink could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file cannot be opened for appending.
    #[error("cannot open {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The OTLP sink cannot start.
    #[cfg(feature = "otlp")]
    #[error(transparent)]
    Otlp(#[from] super::otlp::OtlpError),
    /// The PostgreSQL sink cannot start.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] super::postgres::PostgresError),
    /// The syslog sink cannot start.
    #[cfg(feature = "syslog")]
    #[error(transparent)]
    Syslog(#[from] super::syslog::SyslogError),
    /// The batched HTTP sink cannot start.
    #[cfg(feature = "http-batch")]
    #[error(transparent)]
    HttpBatch(#[from] super::http_batch::HttpBatchError),
}

impl SinkSpec {
    /// Opens the sink; a file without a clock of its own gets `clock`, an OTLP sink gives
    /// `service` to its resource.
    pub(crate) fn open(
        self,
        clock: &Arc<dyn Clock>,
        service: &ServiceInfo,
        report_errors: bool,
    ) -> Result<OpenedSink, OpenError> {
        // Only the shipping sinks read the service's identity and whether they may report.
        #[cfg(not(any(
            feature = "otlp",
            feature = "postgres",
            feature = "syslog",
            feature = "http-batch"
        )))]
        let _ = (service, report_errors);
        match self {
            SinkSpec::File(mut config) => {
                if config.clock.is_none() {
                    config = config.with_clock(clock.clone());
                }
                let path = config.path().to_path_buf();
                let sink = FileSink::with_config(config).map_err(|source| OpenError::File {
                    path: path.clone(),
                    source,
                })?;
                let torn_file = sink.found_torn_line().then_some(path);
                Ok(OpenedSink {
                    sink: Box::new(sink),
                    torn_file,
                })
            }
            SinkSpec::Stdout(form) => Ok(OpenedSink {
                sink: Box::new(StdoutSink::new(form)),
                torn_file: None,
            }),
            #[cfg(feature = "otlp")]
            SinkSpec::Otlp(config) => {
                let config = config.with_error_reporting(report_errors);
                let sink = super::otlp::OtlpSink::open(config, service)?;
                Ok(OpenedSink {
                    sink: Box::new(sink),
                    torn_file: None,
                })
            }
            #[cfg(feature = "postgres")]
            SinkSpec::Postgres(mut config) => {
                config.report_errors = report_errors;
                let sink = super::postgres::PostgresSink::open(config, service)?;
                Ok(OpenedSink {
                    sink: Box::new(sink),
                    torn_file: None,
                })
            }
            #[cfg(feature = "syslog")]
            SinkSpec::Syslog(config) => {
                let config = config.report_errors(report_errors);
                let sink = super::syslog::SyslogSink::open(config, service)?;
                Ok(OpenedSink {
                    sink: Box::new(sink),
                    torn_file: None,
                })
            }
            #[cfg(feature = "http-batch")]
            SinkSpec::HttpBatch(config) => {
                let config = config.report_errors(report_errors);
                let sink = super::http_batch::HttpBatchSink::open(config, service)?;
                Ok(OpenedSink {
                    sink: Box::new(sink),
                    torn_file: None,
                })
            }
        }
    }
}

/// A sink a configuration names, with where: its errors name the file and the key.
#[derive(Debug)]
pub(crate) struct ConfiguredSink {
    pub(crate) spec: SinkSpec,
    /// The file (or variable) it came from.
    pub(crate) origin: String,
    /// `sinks[0]`.
    pub(crate) key: String,
}

impl SinkSpec {
    /// The file it writes, for a file sink.
    pub(crate) fn file_config(&self) -> Option<&FileConfig> {
        if let SinkSpec::File(file) = self {
            Some(file)
        } else {
            None
        }
    }
}

impl ConfiguredSink {
    /// Opens the sink; its error names the configuration's key at fault.
    pub(crate) fn open(
        self,
        clock: &Arc<dyn Clock>,
        service: &ServiceInfo,
        report_errors: bool,
    ) -> Result<OpenedSink, BuildError> {
        let ConfiguredSink { spec, origin, key } = self;
        spec.open(clock, service, report_errors).map_err(|error| {
            let key = match error {
                OpenError::File { .. } => format!("{key}.path"),
                #[cfg(feature = "otlp")]
                OpenError::Otlp(_) => key,
                #[cfg(feature = "postgres")]
                OpenError::Postgres(_) => key,
                #[cfg(feature = "syslog")]
                OpenError::Syslog(_) => key,
                #[cfg(feature = "http-batch")]
                OpenError::HttpBatch(_) => key,
            };
            BuildError::ConfiguredSink {
                origin,
                key,
                source: error,
            }
        })
    }
}
