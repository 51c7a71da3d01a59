//! The builder: every setting, with defaults, validated before the service starts.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;

use crate::clock::{Clock, SystemClock};
use crate::event::{Catalog, SecurityEvent};
use crate::event_registry::EventRegistry;
use crate::forms::{FormMapping, FormMappings, OutputForm};
use crate::gate::{CallerGate, RecordGate};
use crate::layer::RecordingLayer;
use crate::pipeline::RecordAssembler;
use crate::pipeline::{FlushGuard, OverflowPolicy, Pipeline, PipelineSettings, SinkFailurePolicy};
use crate::record::ServiceInfo;
use crate::redact::{RedactionRule, RedactionSettings};
use crate::runtime_settings::RuntimeSettings;
use crate::security_layer::SecurityLayer;
use crate::sink::{FileConfig, FsyncPolicy, Sink};
use crate::value::DEFAULT_MAX_VALUE_LEN;

mod open_sinks;
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
/// | queue capacity | [`DEFAULT_QUEUE_CAPACITY`](crate::DEFAULT_QUEUE_CAPACITY): 8192 records | [`with_queue_capacity`](Builder::with_queue_capacity) |
/// | when the queue is full | [`OverflowPolicy::Block`] | [`with_overflow`](Builder::with_overflow) |
/// | when a sink cannot write | [`SinkFailurePolicy::FailOpen`] | [`with_sink_failure`](Builder::with_sink_failure) |
/// | redaction | the [default rules](RedactionRule::defaults) after the service's own | [`with_redaction`](Builder::with_redaction), [`with_redaction_key`](Builder::with_redaction_key), [`without_default_redaction`](Builder::without_default_redaction) |
/// | flush timeout (guard drop, `flush`, `shutdown`) | [`DEFAULT_FLUSH_TIMEOUT`](crate::DEFAULT_FLUSH_TIMEOUT): 5 s | [`with_flush_timeout`](Builder::with_flush_timeout) |
/// | longest value kept | [`DEFAULT_MAX_VALUE_LEN`](crate::DEFAULT_MAX_VALUE_LEN): 16 KiB, cut and marked beyond | [`with_max_value_len`](Builder::with_max_value_len) |
/// | `service.name` | `OTEL_SERVICE_NAME`, else the executable's name | [`with_service_name`](Builder::with_service_name) |
/// | `service.version` | none | [`with_service_version`](Builder::with_service_version) |
/// | `service.instance` | the host name | [`with_service_instance`](Builder::with_service_instance) |
/// | catalogs | [`SecurityEvent`](crate::SecurityEvent) | [`with_catalog`](Builder::with_catalog) |
/// | internal errors on stderr | on, at most one line a second | [`with_error_reporting`](Builder::with_error_reporting) |
/// | clock (record timestamps, file rotation) | the system's | [`with_clock`](Builder::with_clock) |
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    files: Vec<FileConfig>,
    stdout: Option<OutputForm>,
    form_mappings: FormMappings,
    sinks: Vec<Box<dyn Sink>>,
    queue_capacity: usize,
    overflow: OverflowPolicy,
    sink_failure: SinkFailurePolicy,
    redaction: RedactionSettings,
    flush_timeout: Duration,
    max_value_len: usize,
    service: ServiceInfo,
    #[cfg(feature = "otlp")]
    otlp: Vec<crate::sink::otlp::OtlpConfig>,
    #[cfg(feature = "syslog")]
    syslog: Vec<crate::sink::syslog::SyslogConfig>,
    #[cfg(feature = "http-batch")]
    http_batch: Vec<crate::sink::http_batch::HttpBatchConfig>,
    #[cfg(feature = "postgres")]
    postgres: Vec<crate::sink::postgres::PostgresConfig>,
    #[cfg(feature = "notify")]
    notify: Vec<crate::notify::NotifyConfig>,
    catalogs: Vec<RegisterCatalog>,
    report_errors: bool,
    clock: Arc<dyn Clock>,
    pinned: HashSet<&'static str>,
    /// The configuration the run-time settings come from.
    #[cfg(feature = "config")]
    config: Option<crate::config::Config>,
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
            .field("flush_timeout", &self.flush_timeout)
            .field("max_value_len", &self.max_value_len)
            .field("service", &self.service)
            .field("catalogs", &self.catalogs.len())
            .field("report_errors", &self.report_errors)
            .field("clock", &self.clock)
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            files: Vec::new(),
            stdout: None,
            form_mappings: FormMappings::new(),
            sinks: Vec::new(),
            queue_capacity: crate::DEFAULT_QUEUE_CAPACITY,
            overflow: OverflowPolicy::Block,
            sink_failure: SinkFailurePolicy::FailOpen,
            redaction: RedactionSettings::default(),
            flush_timeout: crate::DEFAULT_FLUSH_TIMEOUT,
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            service: ServiceInfo::default(),
            #[cfg(feature = "otlp")]
            otlp: Vec::new(),
            #[cfg(feature = "syslog")]
            syslog: Vec::new(),
            #[cfg(feature = "http-batch")]
            http_batch: Vec::new(),
            #[cfg(feature = "postgres")]
            postgres: Vec::new(),
            #[cfg(feature = "notify")]
            notify: Vec::new(),
            catalogs: Vec::new(),
            report_errors: true,
            clock: Arc::new(SystemClock),
            // Reading the log is recorded whatever the filters say (OWASP: monitor access to
            // the logs).
            pinned: [
                SecurityEvent::AuditLogViewed.as_str(),
                SecurityEvent::AuditLogExported.as_str(),
            ]
            .into_iter()
            .collect(),
            #[cfg(feature = "config")]
            config: None,
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
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_file("/var/log/myapp/security.jsonl");
    /// # let _ = builder;
    /// ```
    pub fn with_file(self, path: impl AsRef<Path>) -> Self {
        self.with_file_config(FileConfig::new(path))
    }

    /// Appends records to a file with rotation, retention, fsync and chain settings of its own.
    ///
    /// ```
    /// use tracing_security_events::sink::{FileConfig, RotationPeriod};
    ///
    /// let file = FileConfig::new("/var/log/myapp/security.jsonl").rotate_every(RotationPeriod::Daily);
    /// let builder = tracing_security_events::builder().with_file_config(file);
    /// # let _ = builder;
    /// ```
    pub fn with_file_config(mut self, config: FileConfig) -> Self {
        self.files.push(config);
        self
    }

    /// Writes records as JSON lines to standard output.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_stdout();
    /// # let _ = builder;
    /// ```
    pub fn with_stdout(self) -> Self {
        self.with_stdout_in(OutputForm::Native)
    }

    /// Writes records as JSON lines to standard output in `form` (ECS for a Filebeat or
    /// Elastic Agent collecting the container's output, OCSF for a Security Lake pipeline).
    ///
    /// ```
    /// use tracing_security_events::forms::OutputForm;
    ///
    /// let builder = tracing_security_events::builder().with_stdout_in(OutputForm::Ecs);
    /// # let _ = builder;
    /// ```
    pub fn with_stdout_in(mut self, form: OutputForm) -> Self {
        self.stdout = Some(form);
        self
    }

    /// Writes the event `name` of the service's own catalog in the ECS and OCSF forms as
    /// `mapping` says, instead of by its category (see [`forms`](crate::forms)).
    ///
    /// ```
    /// use tracing_security_events::forms::{FormMapping, OcsfClass};
    ///
    /// let builder = tracing_security_events::builder().with_form_mapping(
    ///     "billing_entity.created",
    ///     FormMapping::new(OcsfClass::EntityManagement, 1, "", &["configuration"], &["creation"]),
    /// );
    /// # let _ = builder;
    /// ```
    pub fn with_form_mapping(mut self, name: impl Into<String>, mapping: FormMapping) -> Self {
        self.form_mappings = std::mem::take(&mut self.form_mappings).with_mapping(name, mapping);
        self
    }

    /// Sends records to a syslog receiver (feature `syslog`); see
    /// [`SyslogConfig`](crate::sink::syslog::SyslogConfig).
    #[cfg(feature = "syslog")]
    #[cfg_attr(docsrs, doc(cfg(feature = "syslog")))]
    pub fn with_syslog(mut self, config: crate::sink::syslog::SyslogConfig) -> Self {
        self.syslog.push(config);
        self
    }

    /// Sends batches of records over HTTP (feature `http-batch`): NDJSON, Splunk HEC or
    /// Elasticsearch `_bulk`; see [`HttpBatchConfig`](crate::sink::http_batch::HttpBatchConfig).
    #[cfg(feature = "http-batch")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http-batch")))]
    pub fn with_http_batch(mut self, config: crate::sink::http_batch::HttpBatchConfig) -> Self {
        self.http_batch.push(config);
        self
    }

    /// Ships records to an OpenTelemetry collector (feature `otlp`); see
    /// [`OtlpConfig`](crate::sink::otlp::OtlpConfig).
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn with_otlp(mut self, config: crate::sink::otlp::OtlpConfig) -> Self {
        self.otlp.push(config);
        self
    }

    /// Writes records into a PostgreSQL table (feature `postgres`); see
    /// [`sink::postgres`](crate::sink::postgres).
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn with_postgres(mut self, config: crate::sink::postgres::PostgresConfig) -> Self {
        self.postgres.push(config);
        self
    }

    /// Evaluates notification rules and detections over the records written (feature
    /// `notify`), on threads of their own; see [`notify`](crate::notify).
    #[cfg(feature = "notify")]
    #[cfg_attr(docsrs, doc(cfg(feature = "notify")))]
    pub fn with_notifications(mut self, notifications: crate::notify::NotifyConfig) -> Self {
        self.notify.push(notifications);
        self
    }

    /// Adds a sink of your own.
    pub fn with_sink(mut self, sink: impl Sink) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// How many records may wait for the worker; at least 1.
    ///
    /// The callers' per-event buffers are reused: as many as the queue holds (at most 8192) are
    /// kept once a burst has needed them, a few hundred bytes each for ordinary events (values
    /// over 1 KiB in all are not kept), so that the next burst allocates nothing.
    ///
    /// Beyond the queue, up to two encoded batches wait for the writer thread, so that encoding
    /// and writing run on two cores at once. A batch buffer holds up to 512 records and their
    /// lines (about 1 MiB for ordinary events); at full load four or five are in use, and they
    /// are reused, not reallocated.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_queue_capacity(65_536);
    /// # let _ = builder;
    /// ```
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// What to do when the queue is full.
    ///
    /// ```
    /// use tracing_security_events::OverflowPolicy;
    ///
    /// // Never make a caller wait: drop, count and record the loss instead.
    /// let builder = tracing_security_events::builder().with_overflow(OverflowPolicy::Drop);
    /// # let _ = builder;
    /// ```
    pub fn with_overflow(mut self, policy: OverflowPolicy) -> Self {
        self.overflow = policy;
        self
    }

    /// What happens while a sink cannot write.
    ///
    /// ```
    /// use tracing_security_events::SinkFailurePolicy;
    ///
    /// // A security event returns only once its record is written.
    /// let builder = tracing_security_events::builder().with_sink_failure(SinkFailurePolicy::FailClosed);
    /// # let _ = builder;
    /// ```
    pub fn with_sink_failure(mut self, policy: SinkFailurePolicy) -> Self {
        self.sink_failure = policy;
        self
    }

    /// Adds a redaction rule; the service's rules are tried in the order added, before the
    /// defaults.
    ///
    /// ```
    /// use tracing_security_events::redact::{RedactionAction, RedactionRule};
    ///
    /// let builder = tracing_security_events::builder().with_redaction(RedactionRule::new("card.number", RedactionAction::Mask));
    /// # let _ = builder;
    /// ```
    pub fn with_redaction(mut self, rule: RedactionRule) -> Self {
        self.redaction.rules.push(rule);
        self
    }

    /// The key of `hmac` redaction (HMAC-SHA256); with a key, the default rules hash session
    /// identifiers instead of masking them.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_redaction_key(b"a key read from a secret store".to_vec());
    /// # let _ = builder;
    /// ```
    pub fn with_redaction_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.redaction.key = Some(key.into());
        self
    }

    /// Applies only the service's own redaction rules.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().without_default_redaction();
    /// # let _ = builder;
    /// ```
    pub fn without_default_redaction(mut self) -> Self {
        self.redaction.defaults = false;
        self
    }

    /// How long the guard's drop, [`FlushGuard::flush`] and [`FlushGuard::shutdown`] wait.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_security_events::builder().with_flush_timeout(Duration::from_secs(2));
    /// # let _ = builder;
    /// ```
    pub fn with_flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// The longest field value kept, in bytes; longer values are cut at a character boundary and
    /// marked `…[truncated: N bytes in all]`. At least 64.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_max_value_len(4096);
    /// # let _ = builder;
    /// ```
    pub fn with_max_value_len(mut self, bytes: usize) -> Self {
        self.max_value_len = bytes;
        self
    }

    /// `service.name` in every record.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_service_name("billing-api");
    /// # let _ = builder;
    /// ```
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service.name = Some(name.into());
        self
    }

    /// `service.version` in every record (`env!("CARGO_PKG_VERSION")` is a good choice).
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_service_version(env!("CARGO_PKG_VERSION"));
    /// # let _ = builder;
    /// ```
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.service.version = Some(version.into());
        self
    }

    /// `service.instance` in every record.
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_service_instance("billing-api-7f9c");
    /// # let _ = builder;
    /// ```
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
    ///
    /// ```
    /// let builder = tracing_security_events::builder().with_error_reporting(false);
    /// # let _ = builder;
    /// ```
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

    /// Records `event` whatever the configuration says: no filter and no `enabled = false` leaves
    /// it out (for the events compliance requires). `audit.log_viewed` and `audit.log_exported`,
    /// written by the read API, are pinned already.
    ///
    /// ```
    /// use tracing_security_events::SecurityEvent;
    ///
    /// let builder = tracing_security_events::builder().with_pinned_event(SecurityEvent::DataExported);
    /// # let _ = builder;
    /// ```
    pub fn with_pinned_event<C: Catalog>(mut self, event: C) -> Self {
        self.pinned.insert(event.info().name());
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
        self.build_parts()
            .map(|parts| (SecurityLayer::new(parts.layer), parts.guard))
    }

    /// Everything `build` makes, and what a reload handle needs of it.
    fn build_parts(mut self) -> Result<BuiltParts, BuildError> {
        self.check_limits()?;
        let mut registry = EventRegistry::default();
        for register in &self.catalogs {
            register(&mut registry)?;
        }
        let runtime = self.runtime_settings()?;
        let redactor = self.redaction.redactor(&runtime.redaction)?;
        let service = self
            .service
            .or(&runtime.service)
            .with_environment_defaults();
        let wait_for_write = self.wait_for_write(&runtime)?;
        let opened = self.open_sinks(
            runtime.sinks,
            #[cfg(feature = "notify")]
            runtime.notify,
            &service,
        )?;

        let caller_gate = Arc::new(CallerGate::new(runtime.enabled, self.pinned.clone()));
        // Numbering continues after what a sink holds from an earlier run of this instance.
        let last_seq = opened.sinks.iter().filter_map(|s| s.last_seq()).max();
        let (pipeline, guard) = Pipeline::start(PipelineSettings {
            sinks: opened.sinks,
            assembler: RecordAssembler::new(service, redactor, self.clock.clone())
                .continuing_after(last_seq.unwrap_or(0)),
            capacity: self.queue_capacity,
            overflow: self.overflow,
            wait_for_write,
            flush_timeout: self.flush_timeout,
            report_errors: self.report_errors,
            gate: RecordGate {
                enabled: runtime.enabled,
                filter: runtime.filter,
                caller: caller_gate.clone(),
            },
            clock: self.clock.clone(),
            mappings: Arc::new(std::mem::take(&mut self.form_mappings)),
        })
        .map_err(BuildError::SpawnWorker)?;
        for notice in opened.crash_notices {
            pipeline.submit(notice);
        }
        #[cfg(feature = "notify")]
        for link in opened.notify_links {
            link.connect(guard.log_handle());
        }
        let layer = RecordingLayer::new(
            registry,
            pipeline.clone(),
            caller_gate.clone(),
            self.clock.clone(),
            self.max_value_len,
        );
        Ok(BuiltParts {
            layer,
            guard,
            #[cfg(feature = "config")]
            reload: self.reload_parts(pipeline, caller_gate, opened.code_sinks),
        })
    }

    /// Whether callers wait for their record to be written (fail-closed, or a file synced
    /// after every record); refuses two file sinks on one file, or two that sign checkpoints.
    fn wait_for_write(&self, runtime: &RuntimeSettings) -> Result<bool, BuildError> {
        let files = || {
            self.files.iter().chain(
                runtime
                    .sinks
                    .iter()
                    .filter_map(|configured| configured.spec.file_config()),
            )
        };
        refuse_same_file_twice(files().map(FileConfig::path))?;
        let mut signing = files().filter(|file| file.checkpoints.is_some());
        if let (Some(_), Some(second)) = (signing.next(), signing.next()) {
            return Err(BuildError::CheckpointsTwice {
                path: second.path().to_path_buf(),
            });
        }
        Ok(self.sink_failure == SinkFailurePolicy::FailClosed
            || self.files.iter().any(|f| f.fsync == FsyncPolicy::Always)
            || runtime.fsync_always())
    }

    /// The limits a build refuses to go below.
    fn check_limits(&self) -> Result<(), BuildError> {
        if self.queue_capacity == 0 {
            return Err(BuildError::ZeroCapacity);
        }
        if self.max_value_len < MIN_MAX_VALUE_LEN {
            return Err(BuildError::MaxValueLenTooSmall {
                got: self.max_value_len,
                min: MIN_MAX_VALUE_LEN,
            });
        }
        Ok(())
    }

    /// What a reload needs of the running log.
    #[cfg(feature = "config")]
    fn reload_parts(
        self,
        pipeline: Pipeline,
        caller_gate: Arc<CallerGate>,
        code_sinks: usize,
    ) -> crate::config::ReloadParts {
        crate::config::ReloadParts {
            config: self.config.unwrap_or_else(|| {
                let mut none = crate::config::Config::default();
                none.sinks.clear();
                none
            }),
            pipeline,
            caller_gate,
            code_sinks,
            code_redaction: self.redaction,
            code_service: self.service,
            clock: self.clock,
            timeout: self.flush_timeout,
            report_errors: self.report_errors,
        }
    }

    /// The configuration's run-time settings, or the defaults without one.
    #[cfg_attr(
        not(feature = "config"),
        allow(
            clippy::unused_self,
            reason = "the configuration is read with the feature only"
        )
    )]
    fn runtime_settings(&self) -> Result<RuntimeSettings, BuildError> {
        #[cfg(feature = "config")]
        if let Some(config) = &self.config {
            return Ok(config.runtime_settings()?);
        }
        Ok(RuntimeSettings::default())
    }
}

/// What `build_parts` makes: the layer and guard, and what a reload handle needs.
struct BuiltParts {
    layer: RecordingLayer,
    guard: FlushGuard,
    #[cfg(feature = "config")]
    reload: crate::config::ReloadParts,
}

/// Starting from a configuration, and changing it at run time.
#[cfg(feature = "config")]
impl Builder {
    /// A builder set up from a configuration; settings made in code afterwards take precedence.
    /// The configuration's sinks, filter, redaction, service identity and `enabled` can be
    /// changed at run time through [`Builder::build_with_reload`]'s handle; its `queue` section
    /// is read once.
    pub fn from_config(config: &crate::config::Config) -> Builder {
        let queue = &config.queue;
        let mut builder = Builder::new()
            .with_queue_capacity(queue.capacity)
            .with_overflow(queue.overflow)
            .with_sink_failure(queue.sink_failure)
            .with_flush_timeout(queue.flush_timeout)
            .with_max_value_len(queue.max_value_len);
        builder.config = Some(config.clone());
        builder
    }

    /// As [`build`](Builder::build), with a handle to change the configuration at run time.
    pub fn build_with_reload<S>(
        self,
    ) -> Result<(SecurityLayer<S>, FlushGuard, crate::config::ReloadHandle), BuildError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let parts = self.build_parts()?;
        let handle = crate::config::ReloadHandle::new(parts.reload);
        Ok((SecurityLayer::new(parts.layer), parts.guard, handle))
    }
}

/// Two file sinks on one file would write every record twice, with two hash chains
/// interleaved that no verification can follow: refused.
fn refuse_same_file_twice<'p>(paths: impl Iterator<Item = &'p Path>) -> Result<(), BuildError> {
    let mut seen = HashSet::new();
    for path in paths {
        let full = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        // Symbolic links and `..` resolve to the same file when it exists.
        let full = std::fs::canonicalize(&full).unwrap_or(full);
        if !seen.insert(full) {
            return Err(BuildError::SameFileTwice {
                path: path.to_path_buf(),
            });
        }
    }
    Ok(())
}
