//! The configuration's shape: every key, its type and its default.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::{Outcome, Severity};
use crate::forms::OutputForm;
use crate::redact::RedactionRule;
use crate::sink::{
    Facility, FsyncPolicy, OtlpCompression, OtlpProtocol, RotationPeriod, SyslogTransportName,
    DEFAULT_FSYNC_INTERVAL,
};
use crate::{OverflowPolicy, SinkFailurePolicy};

use super::durations::{duration_text, optional_duration_text};
use super::notify_model::{
    DetectionConfig, FleetDetectionsConfig, NotificationConfig, TransportConfig,
};

/// The whole configuration. Every key is optional; unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Whether security events are recorded. Events pinned by the code are recorded regardless.
    pub enabled: bool,
    /// The identity written in every record's `service`.
    pub service: ServiceConfig,
    /// The queue between the application's threads and the writer.
    pub queue: QueueConfig,
    /// Where records go. Default: one file, `security-events.jsonl` in the working directory.
    pub sinks: Vec<SinkConfig>,
    /// Which events are recorded.
    pub filter: FilterConfig,
    /// How secrets are kept out of records.
    pub redaction: RedactionConfig,
    /// Where notifications go, by name (needs the `notify` cargo feature).
    pub transports: Vec<TransportConfig>,
    /// Notification rules (needs the `notify` cargo feature).
    pub notifications: Vec<NotificationConfig>,
    /// Detections writing records of their own (needs the `notify` cargo feature).
    pub detections: Vec<DetectionConfig>,
    /// Run the detections over every instance's rows of a PostgreSQL table, one instance at a
    /// time (needs the `notify` and `postgres` cargo features).
    pub fleet_detections: Option<FleetDetectionsConfig>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub(crate) origin: Origin,
}

/// Where a configuration came from (a file, the defaults), named in its errors. Not part of
/// what the configuration says: two configurations that say the same are equal.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin(pub(crate) Option<String>);

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Config {
    /// The file (or "the defaults") it was read from, or "the configuration" when made in code.
    pub(crate) fn origin(&self) -> String {
        self.origin
            .0
            .clone()
            .unwrap_or_else(|| "the configuration".to_owned())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            service: ServiceConfig::default(),
            queue: QueueConfig::default(),
            sinks: vec![SinkConfig::File(FileSinkConfig::new(
                "security-events.jsonl",
            ))],
            filter: FilterConfig::default(),
            redaction: RedactionConfig::default(),
            transports: Vec::new(),
            notifications: Vec::new(),
            detections: Vec::new(),
            fleet_detections: None,
            origin: Origin::default(),
        }
    }
}

/// `[service]`: unset parts come from `OTEL_SERVICE_NAME`, the executable's name and the host name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// `service.name`.
    pub name: Option<String>,
    /// `service.version`.
    pub version: Option<String>,
    /// `service.instance`.
    pub instance: Option<String>,
}

/// `[queue]`: read at start-up only; a reload that changes it takes effect at the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Records that may wait for the writer (at least 1).
    pub capacity: usize,
    /// What to do when the queue is full.
    pub overflow: OverflowPolicy,
    /// What to do while a sink cannot write.
    pub sink_failure: SinkFailurePolicy,
    /// How long flushing at shutdown may take (`"5s"`, `"500ms"`).
    #[serde(with = "duration_text")]
    #[schemars(with = "String")]
    pub flush_timeout: Duration,
    /// The longest field value kept, in bytes (at least 64).
    pub max_value_len: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: crate::DEFAULT_QUEUE_CAPACITY,
            overflow: OverflowPolicy::default(),
            sink_failure: SinkFailurePolicy::default(),
            flush_timeout: crate::DEFAULT_FLUSH_TIMEOUT,
            max_value_len: crate::DEFAULT_MAX_VALUE_LEN,
        }
    }
}

/// One `[[sinks]]` entry, by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum SinkConfig {
    /// JSON lines in a file.
    File(FileSinkConfig),
    /// JSON lines on standard output.
    Stdout(StdoutSinkConfig),
    /// OpenTelemetry log records to a collector (needs the `otlp` cargo feature).
    Otlp(OtlpSinkConfig),
    /// Rows of a PostgreSQL table (needs the `postgres` cargo feature).
    Postgres(PostgresSinkConfig),
    /// RFC 5424 messages to a syslog receiver (needs the `syslog` cargo feature).
    Syslog(SyslogSinkConfig),
    /// Batches over HTTP: NDJSON, Splunk HEC, Elasticsearch `_bulk` (needs the `http-batch`
    /// cargo feature).
    Http(HttpSinkConfig),
}

/// What a `type = "http"` sink speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HttpSinkProtocol {
    /// Newline-delimited JSON POSTed to `url`.
    #[default]
    Ndjson,
    /// Splunk's HTTP Event Collector (`token` required).
    SplunkHec,
    /// Elasticsearch or OpenSearch `_bulk` (`index` required).
    Elasticsearch,
}

/// A `type = "http"` sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HttpSinkConfig {
    /// The receiver: the URL of an NDJSON endpoint, HEC's base (`https://splunk:8088`) or
    /// Elasticsearch's (`https://es:9200`).
    pub url: String,
    /// `ndjson` (default), `splunk_hec` or `elasticsearch`.
    #[serde(default)]
    pub protocol: HttpSinkProtocol,
    /// Splunk HEC: the token (prefer `SECURITY_LOG_SINKS__<n>__TOKEN`).
    #[serde(default)]
    pub token: Option<String>,
    /// Splunk HEC: wait for indexer acknowledgement.
    #[serde(default)]
    pub acknowledgement: bool,
    /// Splunk HEC: the sourcetype (default `_json`).
    #[serde(default)]
    pub sourcetype: Option<String>,
    /// The index: Elasticsearch's (required there), HEC's (the token's default without).
    #[serde(default)]
    pub index: Option<String>,
    /// Headers sent with every request (`{ Authorization = "ApiKey ..." }`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The form of the records: `native` (default), `ecs` or `ocsf`.
    #[serde(default)]
    pub format: OutputForm,
    /// Records per request, at most (default 500).
    #[serde(default)]
    pub max_records: Option<usize>,
    /// Bytes per request before compression, at most (default 1 MiB).
    #[serde(default)]
    pub max_bytes: Option<usize>,
    /// How long a batch waits to fill (default `"200ms"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub linger: Option<Duration>,
    /// Compress request bodies with gzip.
    #[serde(default)]
    pub gzip: bool,
    /// How long one request may take (default `"10s"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Duration>,
    /// A CA to trust besides the system's roots (PEM).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Bytes held in memory while the receiver is away (default 8 MiB).
    #[serde(default)]
    pub memory_limit: Option<usize>,
    /// Where records wait on disk beyond the memory limit.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Bytes held in spool files (default 256 MiB).
    #[serde(default)]
    pub spool_limit: Option<u64>,
}

/// A `type = "syslog"` sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SyslogSinkConfig {
    /// The receiver, `host:port` (514 or 601 for TCP, 6514 for TLS, 514 for UDP).
    pub address: String,
    /// `tcp` (octet-counted, the default), `tls` or `udp`.
    #[serde(default)]
    pub transport: SyslogTransportName,
    /// TLS: the CA the receiver's certificate must chain to (PEM); the system's roots without.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// TLS: a client certificate (PEM), with `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// TLS: the client certificate's key (PEM, PKCS#8).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// TLS: the name the receiver's certificate must hold (default: the address's host).
    #[serde(default)]
    pub server_name: Option<String>,
    /// UDP: the longest datagram (default 2048); longer messages are cut, counted, recorded.
    #[serde(default)]
    pub max_datagram: Option<usize>,
    /// The facility (default `authpriv`).
    #[serde(default)]
    pub facility: Option<Facility>,
    /// APP-NAME (default: the service's name).
    #[serde(default)]
    pub app_name: Option<String>,
    /// HOSTNAME (default: the service's instance, else the machine's name).
    #[serde(default)]
    pub hostname: Option<String>,
    /// The form of MSG: `native` (default), `ecs` or `ocsf`.
    #[serde(default)]
    pub format: OutputForm,
    /// Bytes held in memory while the receiver is away (default 8 MiB).
    #[serde(default)]
    pub memory_limit: Option<usize>,
    /// Where records wait on disk beyond the memory limit.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Bytes held in spool files (default 256 MiB).
    #[serde(default)]
    pub spool_limit: Option<u64>,
}

/// A `type = "stdout"` sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StdoutSinkConfig {
    /// The form of the lines: `native` (default), `ecs` or `ocsf`.
    #[serde(default)]
    pub format: OutputForm,
}

/// A `type = "postgres"` sink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PostgresSinkConfig {
    /// The database (`postgres://user@host/db?sslmode=require`); unset, the
    /// `SECURITY_LOG_DATABASE_URL` variable's. Prefer the variable when the URL holds a password.
    #[serde(default)]
    pub url: Option<String>,
    /// The table (default `security_events`).
    #[serde(default)]
    pub table: Option<String>,
    /// Bytes held in memory while the database is away (default 8 MiB).
    #[serde(default)]
    pub memory_limit: Option<usize>,
    /// Where records wait on disk beyond the memory limit.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Bytes held in spool files (default 256 MiB).
    #[serde(default)]
    pub spool_limit: Option<u64>,
    /// Remove rows older than this (`"365d"`), unless a retention rule keeps them for another
    /// time: whole monthly partitions are dropped, each removal recorded.
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub retention: Option<Duration>,
    /// Kinds kept for other times, the first a record matches deciding:
    /// `[{ when = "category = authentication", keep = "90d" }]`.
    #[serde(default)]
    pub retention_rules: Vec<RetentionRuleConfig>,
    /// Chain the rows with HMAC-SHA256 under the key in this file.
    #[serde(default)]
    pub chain_key_file: Option<PathBuf>,
}

/// One retention rule of a file or PostgreSQL sink: the records `when` matches are kept `keep`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionRuleConfig {
    /// A query (`category = authentication`, `event like "user.role*"`).
    pub when: String,
    /// How long they are kept (`"90d"`; whole days).
    #[serde(with = "duration_text")]
    #[schemars(with = "String")]
    pub keep: Duration,
}

/// A `type = "otlp"` sink. Unset settings come from the standard `OTEL_EXPORTER_OTLP_*`
/// variables, then the OpenTelemetry defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OtlpSinkConfig {
    /// `grpc`, `http/protobuf` or `http/json`.
    #[serde(default)]
    pub protocol: Option<OtlpProtocol>,
    /// The collector (`http://collector:4317`; for HTTP the logs URL, `.../v1/logs`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Headers sent with every request (`{ "x-api-key" = "..." }`).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// How long one export may take (`"10s"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Duration>,
    /// `gzip` or `zstd`.
    #[serde(default)]
    pub compression: Option<OtlpCompression>,
    /// Bytes held in memory while the collector is away (default 8 MiB).
    #[serde(default)]
    pub memory_limit: Option<usize>,
    /// Where records wait on disk beyond the memory limit.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Bytes held in spool files (default 256 MiB).
    #[serde(default)]
    pub spool_limit: Option<u64>,
}

/// A `type = "file"` sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FileSinkConfig {
    /// The active file.
    pub path: PathBuf,
    /// The form of the lines: `native` (default), `ecs` or `ocsf`.
    #[serde(default)]
    pub format: OutputForm,
    /// Leave the index of each rotated file beside it (`<file>.index`: times, and filters of
    /// actors, tenants, addresses, event names and request ids per block), for questions with
    /// a time range or a needle. (`time_bounds`, its first name, is read as this.)
    #[serde(default, alias = "time_bounds")]
    pub index: bool,
    /// Start a new file before this many bytes.
    #[serde(default)]
    pub rotate_bytes: Option<u64>,
    /// Start a new file every `hourly` or `daily` (UTC).
    #[serde(default)]
    pub rotate_every: Option<RotationPeriod>,
    /// Keep at most this many rotated files.
    #[serde(default)]
    pub keep_files: Option<usize>,
    /// Delete rotated files older than this (`"90days"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub keep_for: Option<Duration>,
    /// Kinds kept for other times than `keep_for`, the first a record matches deciding (files
    /// are kept whole for the longest; readers leave each kind out past its own age; needs
    /// the `query` cargo feature): `[{ when = "category = authentication", keep = "90d" }]`.
    #[serde(default)]
    pub retention_rules: Vec<RetentionRuleConfig>,
    /// `never`, `interval` (every `fsync_interval`) or `always`.
    #[serde(default = "default_fsync")]
    pub fsync: FsyncPolicy,
    /// The interval of `fsync = "interval"`.
    #[serde(default = "default_fsync_interval", with = "duration_text")]
    #[schemars(with = "String")]
    pub fsync_interval: Duration,
    /// Chain records with SHA-256 for tamper evidence.
    #[serde(default = "default_true")]
    pub chain: bool,
    /// A file holding the chain's HMAC key; without it the chain is plain SHA-256.
    #[serde(default)]
    pub chain_key_file: Option<PathBuf>,
    /// Signed checkpoints of the chain (`checkpoints = { key_file = "..." }`).
    #[serde(default)]
    pub checkpoints: Option<CheckpointsConfig>,
}

/// A file sink's `checkpoints`: see `CheckpointConfig` for what they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CheckpointsConfig {
    /// The signing key, made by `security-log keygen` (the log evolves it in place).
    pub key_file: PathBuf,
    /// A checkpoint after this many records at most (default 100000).
    #[serde(default)]
    pub every_records: Option<u64>,
    /// A checkpoint at most this long after the first record not yet signed (default `"60s"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub every: Option<Duration>,
    /// How long one signing key lives before the next is derived (default `"1h"`).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub key_epoch: Option<Duration>,
    /// An RFC 3161 time-stamping authority's URL (cargo feature `timestamp`).
    #[serde(default)]
    pub timestamp_authority: Option<String>,
}

impl FileSinkConfig {
    /// A file sink at `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileSinkConfig {
            path: path.into(),
            format: OutputForm::Native,
            index: false,
            rotate_bytes: None,
            rotate_every: None,
            keep_files: None,
            keep_for: None,
            retention_rules: Vec::new(),
            fsync: default_fsync(),
            fsync_interval: default_fsync_interval(),
            chain: true,
            chain_key_file: None,
            checkpoints: None,
        }
    }
}

fn default_fsync() -> FsyncPolicy {
    FsyncPolicy::default()
}

fn default_fsync_interval() -> Duration {
    DEFAULT_FSYNC_INTERVAL
}

fn default_true() -> bool {
    true
}

/// `[filter]`: an event is recorded when it passes every test. Pinned events always pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FilterConfig {
    /// The least severe event recorded: `debug`, `info`, `warn`, `error`, `critical`.
    pub min_severity: Severity,
    /// Event names or globs (`authentication.*`) to record; empty: all.
    pub include: Vec<String>,
    /// Event names or globs never to record.
    pub exclude: Vec<String>,
    /// Categories to record (`authentication`, `threat`, ...); empty: all.
    pub categories: Vec<String>,
    /// Outcomes to record (`success`, `failure`, `unknown`); empty: all.
    pub outcomes: Vec<Outcome>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            min_severity: Severity::Debug,
            include: Vec::new(),
            exclude: Vec::new(),
            categories: Vec::new(),
            outcomes: Vec::new(),
        }
    }
}

/// `[redaction]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RedactionConfig {
    /// Apply the default rules after these.
    pub defaults: bool,
    /// A file holding the HMAC key of `hmac` rules.
    pub key_file: Option<PathBuf>,
    /// Rules, tried in order.
    pub rules: Vec<RedactionRule>,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        RedactionConfig {
            defaults: true,
            key_file: None,
            rules: Vec::new(),
        }
    }
}
