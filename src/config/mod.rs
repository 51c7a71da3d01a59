//! Runtime configuration: operators, not developers, decide whether security logging is on,
//! where it goes and what is kept, without a rebuild and without a restart.
//!
//! A TOML file (named by `SECURITY_LOG_CONFIG`, or given in code), with the same keys settable
//! from `SECURITY_LOG_*` environment variables over it, and code over both for what the code
//! pins. Unknown keys are errors; a bad value is refused with the key, the value and what is
//! allowed. `examples/security-log.toml` is a fully commented example, and [`json_schema`]
//! describes every key for editors and linters.
//!
//! ```
//! use tracing_security_events::config::Config;
//!
//! let config = Config::parse(
//!     r#"
//!     [filter]
//!     min_severity = "warn"
//!     exclude = ["session.*"]
//!
//!     [[sinks]]
//!     type = "file"
//!     path = "/var/log/app/security.jsonl"
//!     rotate_every = "daily"
//!     keep_for = "90days"
//!     "#,
//!     "example.toml",
//!     [("SECURITY_LOG_ENABLED".to_owned(), "false".to_owned())],
//! )?;
//! assert!(!config.enabled, "the environment wins over the file");
//!
//! let err = Config::parse("[filter]\nmin_severity = \"loud\"", "bad.toml", []).unwrap_err();
//! assert!(err.to_string().contains("filter.min_severity"));
//! assert!(err.to_string().contains("loud") && err.to_string().contains("warn"));
//! # Ok::<(), tracing_security_events::config::ConfigError>(())
//! ```
//!
//! At run time a [`ReloadHandle`] (from [`Builder::build_with_reload`](crate::Builder::build_with_reload)
//! or [`init`](crate::init)) applies a new configuration atomically, by API, on file change
//! ([`ReloadHandle::watch_file`]) or on SIGHUP ([`ReloadHandle::reload_on_sighup`]). A bad one is
//! refused and the old one stays in force. Every change is written to the log itself:
//! `audit.disabled` before logging goes quiet, `audit.enabled` when it comes back,
//! `audit.config_changed` with what changed, or with outcome `failure` and the reason when a
//! reload was refused.
//!
//! # The file, the environment and reloads
//!
//! With the `config` feature, operators decide whether security logging is on, where it goes and
//! what is kept: one TOML file, the same keys from the environment, reloaded without a restart.
//!
//! ```no_run
//! # use std::time::Duration;
//! // The file named by SECURITY_LOG_CONFIG (or the defaults: a file sink security-events.jsonl in
//! // the working directory), SECURITY_LOG_* variables over it, installed as the global subscriber.
//! let (guard, reload) = tracing_security_events::init()?;
//! let _watcher = reload.watch_file("/etc/myapp/security-log.toml", Duration::from_secs(2));
//! let _sighup = reload.reload_on_sighup("/etc/myapp/security-log.toml", &guard)?; // also reopens files
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! or, keeping code in charge of what it pins:
//!
//! ```no_run
//! # use tracing_security_events::{config::Config, Builder, SecurityEvent};
//! let config = Config::from_file("/etc/myapp/security-log.toml")?;
//! let (layer, guard, reload) = Builder::from_config(&config)
//!     .with_service_version(env!("CARGO_PKG_VERSION"))     // code wins over the file
//!     .with_pinned_event(SecurityEvent::DataExported)      // no filter can leave this out
//!     .build_with_reload::<tracing_subscriber::Registry>()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`examples/security-log.toml`](examples/security-log.toml) is a fully commented example with every
//! key; [`security-log.schema.json`](security-log.schema.json) is its JSON Schema, generated from the
//! types (a test keeps it current), for editors and CI linters.
//!
//! | section | keys | reloadable |
//! |---|---|---|
//! | (top) | `enabled` | yes |
//! | `[service]` | `name`, `version`, `instance` | yes |
//! | `[queue]` | `capacity`, `overflow` (`block`, `drop`), `sink_failure` (`fail_open`, `fail_closed`), `flush_timeout`, `max_value_len` | at the next start |
//! | `[[sinks]]` | `type = "file"`: `path`, `format` (`native`, `ecs`, `ocsf`), `index`, `rotate_bytes`, `rotate_every` (`hourly`, `daily`), `keep_files`, `keep_for`, `retention_rules = [{ when, keep }]`, `fsync` (`never`, `interval`, `always`), `fsync_interval`, `chain`, `chain_key_file`, `checkpoints = { key_file, every_records, every, key_epoch, timestamp_authority }`; `type = "stdout"`: `format`; `type = "http"` (feature `http-batch`): `url`, `protocol` (`ndjson`, `splunk_hec`, `elasticsearch`), `token`, `acknowledgement`, `sourcetype`, `index`, `headers`, `format`, `max_records`, `max_bytes`, `linger`, `gzip`, `timeout`, `ca_file`, `memory_limit`, `spool_dir`, `spool_limit`; `type = "syslog"` (feature `syslog`): `address`, `transport` (`tcp`, `tls`, `udp`), `ca_file`, `cert_file`, `key_file`, `server_name`, `max_datagram`, `facility`, `app_name`, `hostname`, `format`, `memory_limit`, `spool_dir`, `spool_limit`; `type = "otlp"` (feature `otlp`): `protocol`, `endpoint`, `headers`, `timeout`, `compression`, `memory_limit`, `spool_dir`, `spool_limit`; `type = "postgres"` (feature `postgres`): `url`, `table`, `memory_limit`, `spool_dir`, `spool_limit`, `retention`, `retention_rules = [{ when, keep }]`, `chain_key_file` | adding and removing sinks: yes; options of a sink that stays: at the next start |
//! | `[filter]` | `min_severity`, `include`, `exclude` (names or globs such as `authentication.*`), `categories`, `outcomes` | yes |
//! | `[redaction]` | `defaults`, `key_file`, `[[redaction.rules]]` with `field` and `action` (`drop`, `mask`, `hmac`) | yes |
//! | `[[transports]]` (feature `notify`) | `type = "webhook"`: `name`, `url` or `url_env`, `headers`, `headers_env`, `signing_key_file` or `signing_key_env`, `format` (`record`, `slack`), `timeout`, `retry`; `type = "email"`: `name`, `host`, `port`, `security` (`starttls`, `tls`, `none`), `ca_file`, `username`, `password_file` or `password_env`, `from`, `to`, `timeout`, `retry` | yes (the set-up is replaced: throttles and detections start anew) |
//! | `[[notifications]]` (feature `notify`) | `name`, `when` (a query), `severity` (`notice`, `warning`, `alert`), `send_to`, `throttle` (`max`, `window`, `once`, `group_by`) | yes |
//! | `[[detections]]` (feature `notify`) | `type = "threshold"`: `name`, `when`, `group_by`, `count`, `window`, `writes`; `type = "impossible_travel"`: `name`, `when`, `max_speed_kmh`, `min_distance_km`, `writes` | yes |
//! | `[fleet_detections]` (features `notify`, `postgres`) | `url`, `table`, `scope`, `poll`, `settle`: the detections run over a fleet's table, one instance at a time | yes |
//!
//! **Environment.** Every key can be set as `SECURITY_LOG_` and its path in capitals, `__` between
//! levels and list indexes: `SECURITY_LOG_ENABLED=false`, `SECURITY_LOG_FILTER__MIN_SEVERITY=warn`,
//! `SECURITY_LOG_FILTER__EXCLUDE='["session.*"]'`, `SECURITY_LOG_SINKS__0__PATH=/var/log/app/s.jsonl`.
//! Values are TOML (`true`, `8192`, `["a", "b"]`) or else plain text. Precedence: code over the
//! environment over the file over the defaults.
//!
//! **Errors.** A bad file fails at start-up, naming where the value came from, the key, the value and
//! what is allowed, for example
//! ``/etc/myapp/security-log.toml: `filter.min_severity`: unknown variant `loud`, expected one of
//! `debug`, `info`, `warn`, `error`, `critical` ``, or ``environment variable
//! SECURITY_LOG_QUEUE__OVERFLOW: `queue.overflow`: unknown variant `spill`, expected `block` or
//! `drop` ``. Unknown keys are errors too.
//!
//! **Reload** (`ReloadHandle::reload`, `reload_from_file`, `watch_file`, `reload_on_sighup`): the new
//! configuration is checked whole first (keys read, new files opened), then applied between two
//! records: records emitted before go out under the old configuration, records after under the new;
//! none is lost or written twice, and sinks that stay keep their open files (and their hash chain).
//! A refused reload leaves the running configuration in force. The log audits itself:
//! `audit.disabled` is written before logging goes quiet, `audit.enabled` when it comes back,
//! `audit.config_changed` with a `changes` diff of what changed (and `fields.restart_required` for
//! what waits for a restart), or with outcome `failure` and the reason when a reload was refused.
//! Events pinned by the code (`with_pinned_event`) and the log's own `audit.*` records pass every
//! filter and `enabled = false`. The filter is applied by the worker before records are numbered,
//! so `seq` stays gap-free; while logging is off, callers skip an event after one atomic load.
//!

mod apply;
#[cfg(feature = "notify")]
mod apply_notify;
mod durations;
mod load;
mod model;
mod notify_model;
mod reload;

pub use load::{ConfigError, CONFIG_PATH_VAR, ENV_PREFIX};
pub use model::{
    CheckpointsConfig, Config, FileSinkConfig, FilterConfig, HttpSinkConfig, HttpSinkProtocol,
    OtlpSinkConfig, PostgresSinkConfig, QueueConfig, RedactionConfig, RetentionRuleConfig,
    ServiceConfig, SinkConfig, StdoutSinkConfig, SyslogSinkConfig,
};
pub use notify_model::{
    DetectionConfig, EmailTransportConfig, FleetDetectionsConfig, NotificationConfig, RetryConfig,
    ThresholdDetectionConfig, ThrottleConfig, TransportConfig, TravelDetectionConfig,
    WebhookTransportConfig,
};
pub(crate) use reload::ReloadParts;
#[cfg(unix)]
pub use reload::SighupListener;
pub use reload::{FileWatcher, ReloadError, ReloadHandle};

/// The JSON Schema of the configuration file, generated from the types above.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}
