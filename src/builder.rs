//! The builder: every setting, with defaults, validated before the service starts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;

use crate::event::{Catalog, EventRegistry};
use crate::layer::{RecordingLayer, SecurityLayer};
use crate::pipeline::{FlushGuard, OverflowPolicy, Pipeline, PipelineSettings};
use crate::record::{RecordAssembler, ServiceInfo};
use crate::sink::{FileSink, Sink, StdoutSink};
use crate::value::DEFAULT_MAX_VALUE_LEN;
use crate::BuildError;

/// The smallest accepted `max_value_len`: enough for identifiers and the truncation marker.
const MIN_MAX_VALUE_LEN: usize = 64;

/// Adds one catalog's rows to the registry ([`EventRegistry::register`] for that catalog).
type RegisterCatalog = fn(&mut EventRegistry) -> Result<(), BuildError>;

/// Configures and builds the security layer.
///
/// | setting | default | setter |
/// |---|---|---|
/// | sinks | none (at least one is required) | [`with_file`](Builder::with_file), [`with_stdout`](Builder::with_stdout), [`with_sink`](Builder::with_sink) |
/// | queue capacity | 8192 records | [`with_queue_capacity`](Builder::with_queue_capacity) |
/// | when the queue is full | [`OverflowPolicy::Block`] | [`with_overflow`](Builder::with_overflow) |
/// | flush timeout (guard drop, `flush`, `shutdown`) | 5 s | [`with_flush_timeout`](Builder::with_flush_timeout) |
/// | longest value kept | 16 KiB, cut and marked beyond | [`with_max_value_len`](Builder::with_max_value_len) |
/// | `service.name` | `OTEL_SERVICE_NAME`, else the executable's name | [`with_service_name`](Builder::with_service_name) |
/// | `service.version` | none | [`with_service_version`](Builder::with_service_version) |
/// | `service.instance` | the host name | [`with_service_instance`](Builder::with_service_instance) |
/// | catalogs | [`SecurityEvent`](crate::SecurityEvent) | [`with_catalog`](Builder::with_catalog) |
/// | internal errors on stderr | on, at most one line a second | [`with_error_reporting`](Builder::with_error_reporting) |
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    files: Vec<PathBuf>,
    stdout: bool,
    sinks: Vec<Box<dyn Sink>>,
    queue_capacity: usize,
    overflow: OverflowPolicy,
    flush_timeout: Duration,
    max_value_len: usize,
    service: ServiceInfo,
    catalogs: Vec<RegisterCatalog>,
    report_errors: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sinks: Vec<&str> = self.sinks.iter().map(|s| s.name()).collect();
        f.debug_struct("Builder")
            .field("files", &self.files)
            .field("stdout", &self.stdout)
            .field("sinks", &sinks)
            .field("queue_capacity", &self.queue_capacity)
            .field("overflow", &self.overflow)
            .field("flush_timeout", &self.flush_timeout)
            .field("max_value_len", &self.max_value_len)
            .field("service", &self.service)
            .field("catalogs", &self.catalogs.len())
            .field("report_errors", &self.report_errors)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            files: Vec::new(),
            stdout: false,
            sinks: Vec::new(),
            queue_capacity: 8192,
            overflow: OverflowPolicy::Block,
            flush_timeout: Duration::from_secs(5),
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            service: ServiceInfo::default(),
            catalogs: Vec::new(),
            report_errors: true,
        }
    }
}

impl Builder {
    /// A builder with the defaults of the table above.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Appends records as JSON lines to `path`, creating it (mode 0600) and its directories.
    pub fn with_file(mut self, path: impl AsRef<Path>) -> Self {
        self.files.push(path.as_ref().to_path_buf());
        self
    }

    /// Writes records as JSON lines to standard output.
    pub fn with_stdout(mut self) -> Self {
        self.stdout = true;
        self
    }

    /// Adds a sink of your own.
    pub fn with_sink(mut self, sink: impl Sink) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// How many records may wait for the worker; at least 1.
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// What to do when the queue is full.
    pub fn with_overflow(mut self, policy: OverflowPolicy) -> Self {
        self.overflow = policy;
        self
    }

    /// How long the guard's drop, [`FlushGuard::flush`] and [`FlushGuard::shutdown`] wait.
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// The longest field value kept, in bytes; longer values are cut at a character boundary and
    /// marked `…[truncated: N bytes in all]`. At least 64.
    pub fn with_max_value_len(mut self, bytes: usize) -> Self {
        self.max_value_len = bytes;
        self
    }

    /// `service.name` in every record.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service.name = Some(name.into());
        self
    }

    /// `service.version` in every record (`env!("CARGO_PKG_VERSION")` is a good choice).
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service.version = Some(version.into());
        self
    }

    /// `service.instance` in every record.
    pub fn with_service_instance(mut self, instance: impl Into<String>) -> Self {
        self.service.instance = Some(instance.into());
        self
    }

    /// Recognises the names of a catalog of your own, declared with
    /// [`security_catalog!`](crate::security_catalog).
    pub fn with_catalog<C: Catalog>(mut self) -> Self {
        self.catalogs.push(EventRegistry::register::<C>);
        self
    }

    /// Whether internal errors (a failing sink) are also printed on stderr; they are always
    /// counted in [`Stats`](crate::Stats).
    pub fn with_error_reporting(mut self, enabled: bool) -> Self {
        self.report_errors = enabled;
        self
    }

    /// Checks the settings, opens every sink and starts the worker.
    ///
    /// Returns the layer, to add to a `tracing_subscriber::registry()`, and the guard that keeps
    /// the worker running: hold it until the service exits.
    pub fn build<S>(self) -> Result<(SecurityLayer<S>, FlushGuard), BuildError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if self.queue_capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        if self.max_value_len < MIN_MAX_VALUE_LEN {
            return Err(BuildError::MaxValueLenTooSmall {
                got: self.max_value_len,
                min: MIN_MAX_VALUE_LEN,
            });
        }
        let mut registry = EventRegistry::default();
        for register in &self.catalogs {
            register(&mut registry)?;
        }
        let mut sinks = Vec::with_capacity(self.files.len() + self.sinks.len() + 1);
        for path in &self.files {
            let sink = FileSink::open(path).map_err(|source| BuildError::OpenFile {
                path: path.clone(),
                source,
            })?;
            sinks.push(Box::new(sink) as Box<dyn Sink>);
        }
        if self.stdout {
            sinks.push(Box::new(StdoutSink::new()));
        }
        sinks.extend(self.sinks);
        if sinks.is_empty() {
            return Err(BuildError::NoSink);
        }

        let (pipeline, guard) = Pipeline::start(PipelineSettings {
            sinks,
            assembler: RecordAssembler::new(with_default_identity(self.service)),
            capacity: self.queue_capacity,
            overflow: self.overflow,
            flush_timeout: self.flush_timeout,
            report_errors: self.report_errors,
        })
        .map_err(BuildError::SpawnWorker)?;
        let layer = RecordingLayer::new(registry, pipeline, self.max_value_len).with_filter();
        Ok((layer, guard))
    }
}

/// Fills the service name and instance the code left unset from the environment.
fn with_default_identity(mut service: ServiceInfo) -> ServiceInfo {
    if service.name.is_none() {
        service.name = std::env::var("OTEL_SERVICE_NAME")
            .ok()
            .filter(|name| !name.is_empty())
            .or_else(|| {
                let exe = std::env::current_exe().ok()?;
                Some(exe.file_stem()?.to_string_lossy().into_owned())
            });
    }
    if service.instance.is_none() {
        service.instance = host_name();
    }
    service
}

fn host_name() -> Option<String> {
    let from_env = std::env::var("HOSTNAME").ok();
    let from_kernel = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let from_etc = || std::fs::read_to_string("/etc/hostname").ok();
    from_env
        .or_else(from_kernel)
        .or_else(from_etc)
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}
