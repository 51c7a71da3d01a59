//! Errors of building the layer: everything is checked before the service starts.

use std::io;
use std::path::PathBuf;

/// Why [`Builder::build`](crate::Builder::build) refused the configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No destination was configured.
    #[error("no sink configured: add one with with_file, with_stdout or with_sink")]
    NoSink,
    /// `queue_capacity` was 0.
    #[error("queue_capacity must be at least 1, got 0")]
    ZeroCapacity,
    /// `max_value_len` was below the minimum.
    #[error("max_value_len must be at least {min} bytes, got {got}")]
    MaxValueLenTooSmall {
        /// The value given.
        got: usize,
        /// The smallest accepted.
        min: usize,
    },
    /// A file sink could not be opened for appending.
    #[error("cannot open security log file {}: {source}", path.display())]
    OpenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Two file sinks were given the same file.
    #[error("the security log file {} is given to two file sinks: each record would be written twice", path.display())]
    SameFileTwice {
        /// The file.
        path: PathBuf,
    },
    /// Two file sinks were given checkpoints: a log's checkpoints sign one chain.
    #[error("the security log file {} signs checkpoints, and so does another file sink: give checkpoints to one", path.display())]
    CheckpointsTwice {
        /// The second file.
        path: PathBuf,
    },
    /// A registered catalog has a name not of the form `category.action`.
    #[error("invalid event name {name:?} in a registered catalog: {reason}")]
    InvalidEventName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two registered catalogs (or one twice) define the same name.
    #[error("event name {name:?} is defined by more than one registered catalog")]
    DuplicateEventName {
        /// The name.
        name: String,
    },
    /// A redaction rule cannot work as configured.
    #[error(transparent)]
    Redaction(#[from] crate::redact::MissingRedactionKey),
    /// The OTLP sink could not start (a bad setting or variable, a spool directory that cannot
    /// be created, an exporter that cannot be built).
    #[cfg(feature = "otlp")]
    #[error(transparent)]
    Otlp(#[from] crate::sink::otlp::OtlpError),
    /// The PostgreSQL sink could not start (no URL, the database unreachable, a table newer
    /// than this crate knows).
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] crate::sink::postgres::PostgresError),
    /// The syslog sink could not start (a TLS file that cannot be read or used, a spool
    /// directory that cannot be created).
    #[cfg(feature = "syslog")]
    #[error(transparent)]
    Syslog(#[from] crate::sink::syslog::SyslogError),
    /// The batched HTTP sink could not start (a CA file that cannot be read, a spool directory
    /// that cannot be created).
    #[cfg(feature = "http-batch")]
    #[error(transparent)]
    HttpBatch(#[from] crate::sink::http_batch::HttpBatchError),
    /// The configuration cannot be applied (a key file cannot be read, a file cannot be opened).
    #[cfg(feature = "config")]
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A sink a configuration names could not be opened.
    #[error("{origin}: `{key}`: {source}")]
    ConfiguredSink {
        /// The configuration file (or variable) it came from.
        origin: String,
        /// The key at fault (`sinks[0].path`).
        key: String,
        /// Why.
        #[source]
        source: crate::sink::OpenError,
    },
    /// The worker thread could not be started.
    #[error("cannot start the security log worker thread: {0}")]
    SpawnWorker(#[source] io::Error),
    /// A notification set-up was refused.
    #[cfg(feature = "notify")]
    #[error("notifications: {0}")]
    Notify(#[from] crate::notify::NotifyError),
}

impl From<crate::sink::OpenError> for BuildError {
    /// A sink the code set up could not be opened.
    fn from(error: crate::sink::OpenError) -> Self {
        match error {
            crate::sink::OpenError::File { path, source } => BuildError::OpenFile { path, source },
            #[cfg(feature = "otlp")]
            crate::sink::OpenError::Otlp(error) => BuildError::Otlp(error),
            #[cfg(feature = "postgres")]
            crate::sink::OpenError::Postgres(error) => BuildError::Postgres(error),
            #[cfg(feature = "syslog")]
            crate::sink::OpenError::Syslog(error) => BuildError::Syslog(error),
            #[cfg(feature = "http-batch")]
            crate::sink::OpenError::HttpBatch(error) => BuildError::HttpBatch(error),
        }
    }
}
