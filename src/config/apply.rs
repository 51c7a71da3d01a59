//! Turning a configuration into a builder's settings and into the run-time parts a reload swaps.

use std::sync::Arc;

use super::model::{Config, FileSinkConfig, SinkConfig};
use super::ConfigError;
use crate::builder::{code_redactor, with_default_identity, Builder, OpenedSink};
use crate::clock::Clock;
use crate::gate::EventFilter;
use crate::record::ServiceInfo;
use crate::redact::{RedactionRule, Redactor};
use crate::sink::{FileConfig, FileSink, FsyncPolicy, StdoutSink};
use crate::BuildError;

impl Builder {
    /// A builder set up from a configuration; settings made in code afterwards take precedence.
    /// The configuration's sinks, filter, redaction, service identity and `enabled` can be
    /// changed at run time through [`Builder::build_with_reload`]'s handle; its `queue` section
    /// is read once.
    pub fn from_config(config: &Config) -> Builder {
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

    pub(crate) fn reloadable_settings(&self) -> Result<Reloadable, BuildError> {
        let config = self.config.clone().unwrap_or_else(|| Config {
            sinks: Vec::new(),
            ..Config::default()
        });
        Reloadable::from_config(config, self.config.is_some(), self.report_errors)
            .map_err(BuildError::Config)
    }
}

/// The run-time part of a configuration, checked and with its keys read.
#[derive(Debug)]
pub(crate) struct Reloadable {
    pub(crate) config: Config,
    pub(crate) enabled: bool,
    pub(crate) filter: EventFilter,
    rules: Vec<RedactionRule>,
    key: Option<Vec<u8>>,
    pub(crate) fsync_always: bool,
    /// Whether the sinks it opens may report on stderr.
    report_errors: bool,
}

impl Reloadable {
    /// `from_file`: whether the settings came from a configuration at all (without one, the
    /// builder's `enabled` and filter stand).
    pub(crate) fn from_config(
        config: Config,
        from_file: bool,
        report_errors: bool,
    ) -> Result<Self, ConfigError> {
        let key = match &config.redaction.key_file {
            Some(path) => Some(read_key(path, "redaction.key_file")?),
            None => None,
        };
        let rules = config.redaction.rules.clone();
        let filter = &config.filter;
        let fsync_always = config
            .sinks
            .iter()
            .any(|s| matches!(s, SinkConfig::File(f) if f.fsync == FsyncPolicy::Always));
        Ok(Reloadable {
            enabled: config.enabled || !from_file,
            filter: EventFilter {
                min_severity: filter.min_severity,
                include: filter.include.clone(),
                exclude: filter.exclude.clone(),
                categories: filter.categories.clone(),
                outcomes: filter.outcomes.clone(),
            },
            rules,
            key,
            fsync_always,
            report_errors,
            config,
        })
    }

    /// The code's rules, then the configuration's, then the defaults if both want them.
    pub(crate) fn redactor(
        &self,
        code_rules: &[RedactionRule],
        code_key: Option<&[u8]>,
        code_defaults: bool,
    ) -> Result<Redactor, BuildError> {
        let key = code_key.or(self.key.as_deref());
        let defaults = code_defaults && self.config.redaction.defaults;
        Ok(code_redactor(
            code_rules,
            key,
            defaults,
            self.rules.clone(),
        )?)
    }

    /// The code's identity, completed by the configuration's, then by the environment.
    pub(crate) fn service(&self, code: &ServiceInfo) -> ServiceInfo {
        let from_config = &self.config.service;
        with_default_identity(ServiceInfo {
            name: code.name.clone().or_else(|| from_config.name.clone()),
            version: code.version.clone().or_else(|| from_config.version.clone()),
            instance: code
                .instance
                .clone()
                .or_else(|| from_config.instance.clone()),
        })
    }

    /// Opens every sink of the configuration; a file found ending mid-line is named.
    pub(crate) fn open_sinks(
        &self,
        clock: &Arc<dyn Clock>,
        service: &ServiceInfo,
    ) -> Result<Vec<OpenedSink>, BuildError> {
        (0..self.config.sinks.len())
            .map(|index| {
                self.open_sink(index, clock, service)
                    .map_err(BuildError::Config)
            })
            .collect()
    }

    /// Opens sink `index`; `service` is the identity an OTLP sink gives its resource.
    pub(crate) fn open_sink(
        &self,
        index: usize,
        clock: &Arc<dyn Clock>,
        #[cfg_attr(not(feature = "otlp"), allow(unused_variables))] service: &ServiceInfo,
    ) -> Result<OpenedSink, ConfigError> {
        match &self.config.sinks[index] {
            SinkConfig::Stdout => Ok((Box::new(StdoutSink::new()), None)),
            #[cfg(feature = "otlp")]
            SinkConfig::Otlp(otlp) => {
                let sink = crate::sink::otlp::OtlpSink::open(
                    otlp_config(otlp).with_error_reporting(self.report_errors),
                    service,
                )
                .map_err(|err| ConfigError::Invalid {
                    origin: self.config.origin(),
                    key: format!("sinks[{index}]"),
                    message: err.to_string(),
                })?;
                Ok((Box::new(sink), None))
            }
            #[cfg(not(feature = "otlp"))]
            SinkConfig::Otlp(_) => Err(ConfigError::Invalid {
                origin: self.config.origin(),
                key: format!("sinks[{index}].type"),
                message: "\"otlp\" needs the `otlp` cargo feature of tracing-security-events"
                    .into(),
            }),
            SinkConfig::File(file) => {
                let config = file_config(file, index)?.with_clock(clock.clone());
                let sink = FileSink::with_config(config).map_err(|err| ConfigError::Invalid {
                    origin: self.config.origin(),
                    key: format!("sinks[{index}].path"),
                    message: format!("cannot open {}: {err}", file.path.display()),
                })?;
                let torn = sink.found_torn_line().then(|| file.path.clone());
                Ok((Box::new(sink), torn))
            }
        }
    }
}

#[cfg(feature = "otlp")]
fn otlp_config(otlp: &super::model::OtlpSinkConfig) -> crate::sink::otlp::OtlpConfig {
    use crate::sink::otlp::OtlpConfig;
    let mut config = OtlpConfig::new();
    if let Some(protocol) = otlp.protocol {
        config = config.with_protocol(protocol);
    }
    if let Some(endpoint) = &otlp.endpoint {
        config = config.with_endpoint(endpoint.clone());
    }
    for (name, value) in &otlp.headers {
        config = config.with_header(name.clone(), value.clone());
    }
    if let Some(timeout) = otlp.timeout {
        config = config.with_timeout(timeout);
    }
    if let Some(compression) = otlp.compression {
        config = config.with_compression(compression);
    }
    if let Some(bytes) = otlp.memory_limit {
        config = config.with_memory_limit(bytes);
    }
    if let Some(dir) = &otlp.spool_dir {
        config = config.with_spool_dir(dir.clone());
    }
    if let Some(bytes) = otlp.spool_limit {
        config = config.with_spool_limit(bytes);
    }
    config
}

fn file_config(file: &FileSinkConfig, index: usize) -> Result<FileConfig, ConfigError> {
    let mut config =
        FileConfig::new(&file.path).fsync(file.fsync.with_interval(file.fsync_interval));
    if let Some(bytes) = file.rotate_bytes {
        config = config.rotate_at_size(bytes);
    }
    if let Some(period) = file.rotate_every {
        config = config.rotate_every(period);
    }
    if let Some(count) = file.keep_files {
        config = config.keep_files(count);
    }
    if let Some(age) = file.keep_for {
        config = config.keep_for(age);
    }
    config = match (&file.chain, &file.chain_key_file) {
        (false, _) => config.without_chain(),
        (true, Some(path)) => {
            config.with_chain_key(read_key(path, &format!("sinks[{index}].chain_key_file"))?)
        }
        (true, None) => config,
    };
    Ok(config)
}

fn read_key(path: &std::path::Path, key: &str) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|err| ConfigError::Invalid {
        origin: "the configuration".into(),
        key: key.to_owned(),
        message: format!("cannot read key file {}: {err}", path.display()),
    })?;
    if bytes.is_empty() {
        return Err(ConfigError::Invalid {
            origin: "the configuration".into(),
            key: key.to_owned(),
            message: format!("key file {} is empty", path.display()),
        });
    }
    Ok(bytes)
}
