//! The builder: every setting, with defaults, validated before the service starts.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;

use crate::capture::CapturedEvent;
use crate::clock::{Clock, SystemClock};
use crate::event::{Catalog, EventRegistry, SecurityEvent};
use crate::layer::{RecordingLayer, SecurityLayer};
use crate::pipeline::{FlushGuard, OverflowPolicy, Pipeline, PipelineSettings, SinkFailurePolicy};
use crate::record::{RecordAssembler, ServiceInfo};
use crate::redact::{RedactionRule, Redactor};
use crate::sink::{FileConfig, FileSink, FsyncPolicy, Sink, StdoutSink};
use crate::value::{FieldValue, DEFAULT_MAX_VALUE_LEN};
use crate::BuildError;

/// The smallest accepted `max_value_len`: enough for identifiers and the truncation marker.
const MIN_MAX_VALUE_LEN: usize = 64;

/// Adds one catalog's rows to the registry ([`EventRegistry::register`] for that catalog).
type RegisterCatalog = fn(&mut EventRegistry) -> Result<(), BuildError>;

/// Configures and builds the security layer.
///
/// | setting | default | setter |
/// |---|---|---|
/// | sinks | none (at least one is required) | [`with_file`](Builder::with_file), [`with_file_config`](Builder::with_file_config), [`with_stdout`](Builder::with_stdout), [`with_sink`](Builder::with_sink) |
/// | queue capacity | 8192 records | [`with_queue_capacity`](Builder::with_queue_capacity) |
/// | when the queue is full | [`OverflowPolicy::Block`] | [`with_overflow`](Builder::with_overflow) |
/// | when a sink cannot write | [`SinkFailurePolicy::FailOpen`] | [`with_sink_failure`](Builder::with_sink_failure) |
/// | redaction | the [default rules](RedactionRule::defaults) after the service's own | [`with_redaction`](Builder::with_redaction), [`with_redaction_key`](Builder::with_redaction_key), [`without_default_redaction`](Builder::without_default_redaction) |
/// | flush timeout (guard drop, `flush`, `shutdown`) | 5 s | [`with_flush_timeout`](Builder::with_flush_timeout) |
/// | longest value kept | 16 KiB, cut and marked beyond | [`with_max_value_len`](Builder::with_max_value_len) |
/// | `service.name` | `OTEL_SERVICE_NAME`, else the executable's name | [`with_service_name`](Builder::with_service_name) |
/// | `service.version` | none | [`with_service_version`](Builder::with_service_version) |
/// | `service.instance` | the host name | [`with_service_instance`](Builder::with_service_instance) |
/// | catalogs | [`SecurityEvent`](crate::SecurityEvent) | [`with_catalog`](Builder::with_catalog) |
/// | internal errors on stderr | on, at most one line a second | [`with_error_reporting`](Builder::with_error_reporting) |
/// | clock (record timestamps, file rotation) | the system's | [`with_clock`](Builder::with_clock) |
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    files: Vec<FileConfig>,
    stdout: bool,
    sinks: Vec<Box<dyn Sink>>,
    queue_capacity: usize,
    overflow: OverflowPolicy,
    sink_failure: SinkFailurePolicy,
    redaction: Vec<RedactionRule>,
    redaction_key: Option<Vec<u8>>,
    default_redaction: bool,
    flush_timeout: Duration,
    max_value_len: usize,
    service: ServiceInfo,
    catalogs: Vec<RegisterCatalog>,
    report_errors: bool,
    clock: Arc<dyn Clock>,
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
            .field("sink_failure", &self.sink_failure)
            .field("redaction", &self.redaction)
            .field(
                "redaction_key",
                &self.redaction_key.as_ref().map(|_| "(set)"),
            )
            .field("default_redaction", &self.default_redaction)
            .field("flush_timeout", &self.flush_timeout)
            .field("max_value_len", &self.max_value_len)
            .field("service", &self.service)
            .field("catalogs", &self.catalogs.len())
            .field("report_errors", &self.report_errors)
            .field("clock", &self.clock)
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
            sink_failure: SinkFailurePolicy::FailOpen,
            redaction: Vec::new(),
            redaction_key: None,
            default_redaction: true,
            flush_timeout: Duration::from_secs(5),
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            service: ServiceInfo::default(),
            catalogs: Vec::new(),
            report_errors: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Builder {
    /// A builder with the defaults of the table above.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Appends records as JSON lines to `path`, creating it (mode 0600) and its directories,
    /// with the default [`FileConfig`]: hash chain on, fsync every second, no rotation.
    pub fn with_file(self, path: impl AsRef<Path>) -> Self {
        self.with_file_config(FileConfig::new(path))
    }

    /// Appends records to a file with rotation, retention, fsync and chain settings of its own.
    pub fn with_file_config(mut self, config: FileConfig) -> Self {
        self.files.push(config);
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

    /// What happens while a sink cannot write.
    pub fn with_sink_failure(mut self, policy: SinkFailurePolicy) -> Self {
        self.sink_failure = policy;
        self
    }

    /// Adds a redaction rule; the service's rules are tried in the order added, before the
    /// defaults.
    pub fn with_redaction(mut self, rule: RedactionRule) -> Self {
        self.redaction.push(rule);
        self
    }

    /// The key of `hmac` redaction (HMAC-SHA256); with a key, the default rules hash session
    /// identifiers instead of masking them.
    pub fn with_redaction_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.redaction_key = Some(key.into());
        self
    }

    /// Applies only the service's own redaction rules.
    pub fn without_default_redaction(mut self) -> Self {
        self.default_redaction = false;
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

    /// The clock of record timestamps, and of file rotation and retention unless a file sets its
    /// own: one time source, so tests can move all of them together.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
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
        let mut rules = self.redaction;
        if self.default_redaction {
            rules.extend(RedactionRule::defaults(self.redaction_key.is_some()));
        }
        let redactor = Redactor::new(rules, self.redaction_key.as_deref())?;

        let wait_for_write = self.sink_failure == SinkFailurePolicy::FailClosed
            || self.files.iter().any(|f| f.fsync == FsyncPolicy::Always);
        let mut sinks = Vec::with_capacity(self.files.len() + self.sinks.len() + 1);
        let mut crash_notices = Vec::new();
        for mut config in self.files {
            if config.clock.is_none() {
                config = config.with_clock(self.clock.clone());
            }
            let path = config.path().to_path_buf();
            let sink = FileSink::with_config(config).map_err(|source| BuildError::OpenFile {
                path: path.clone(),
                source,
            })?;
            if sink.found_torn_line() {
                crash_notices.push(torn_line_notice(
                    &path,
                    self.report_errors,
                    self.clock.now(),
                ));
            }
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
            assembler: RecordAssembler::new(
                with_default_identity(self.service),
                redactor,
                self.clock.clone(),
            ),
            capacity: self.queue_capacity,
            overflow: self.overflow,
            wait_for_write,
            flush_timeout: self.flush_timeout,
            report_errors: self.report_errors,
        })
        .map_err(BuildError::SpawnWorker)?;
        for notice in crash_notices {
            pipeline.submit(notice);
        }
        let layer =
            RecordingLayer::new(registry, pipeline, self.clock, self.max_value_len).with_filter();
        Ok((layer, guard))
    }
}

/// The `system.crash` record of a file found ending in an unfinished line: the writer died
/// mid-write (the line itself was closed and is left as evidence).
fn torn_line_notice(
    path: &Path,
    report: bool,
    time: chrono::DateTime<chrono::Utc>,
) -> CapturedEvent {
    if report {
        eprintln!(
            "tracing-security-events: {} ended in an unfinished line (a crash while writing); \
             it was closed and left as it was",
            path.display()
        );
    }
    CapturedEvent::notice(
        SecurityEvent::SystemCrash.info(),
        vec![
            (
                "evidence",
                FieldValue::Str("unfinished last line in the security log".into()),
            ),
            ("file", FieldValue::Str(path.display().to_string())),
        ],
        time,
    )
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
