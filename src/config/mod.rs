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

mod apply;
mod load;
mod model;
mod reload;

pub use load::{ConfigError, CONFIG_PATH_VAR, ENV_PREFIX};
pub use model::{
    Config, FileSinkConfig, FilterConfig, OtlpSinkConfig, QueueConfig, RedactionConfig,
    ServiceConfig, SinkConfig,
};
pub(crate) use reload::ReloadParts;
#[cfg(unix)]
pub use reload::SighupListener;
pub use reload::{FileWatcher, ReloadError, ReloadHandle};

/// The JSON Schema of the configuration file, generated from the types above.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}
