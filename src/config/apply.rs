//! Turning a configuration into the run-time settings the builder consumes and a reload swaps.

use super::model::{Config, FileSinkConfig, SinkConfig};
use super::ConfigError;
use crate::gate::EventFilter;
use crate::record::ServiceInfo;
use crate::redact::RedactionSettings;
use crate::runtime_settings::RuntimeSettings;
use crate::sink::{CheckpointConfig, ConfiguredSink, FileConfig, SinkSpec};

impl Config {
    /// The run-time settings this configuration asks for, with its key files read.
    pub(crate) fn runtime_settings(&self) -> Result<RuntimeSettings, ConfigError> {
        let key = match &self.redaction.key_file {
            Some(path) => Some(read_key(self, path, "redaction.key_file")?),
            None => None,
        };
        #[cfg(not(feature = "notify"))]
        if self.has_notifications() {
            let key = [
                "transports",
                "notifications",
                "detections",
                "fleet_detections",
            ]
            .into_iter()
            .zip([
                self.transports.is_empty(),
                self.notifications.is_empty(),
                self.detections.is_empty(),
                self.fleet_detections.is_none(),
            ])
            .find_map(|(key, empty)| (!empty).then_some(key))
            .unwrap_or("notifications");
            return Err(ConfigError::Invalid {
                origin: self.origin(),
                key: key.to_owned(),
                message: "needs the `notify` cargo feature of tracing-security-events".to_owned(),
            });
        }
        let filter = &self.filter;
        let sinks = self
            .sinks
            .iter()
            .enumerate()
            .map(|(index, sink)| {
                Ok(ConfiguredSink {
                    spec: self.sink_spec(index, sink)?,
                    origin: self.origin(),
                    key: format!("sinks[{index}]"),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(RuntimeSettings {
            enabled: self.enabled,
            filter: EventFilter {
                min_severity: filter.min_severity,
                include: filter.include.clone(),
                exclude: filter.exclude.clone(),
                categories: filter.categories.clone(),
                outcomes: filter.outcomes.clone(),
            },
            redaction: RedactionSettings {
                rules: self.redaction.rules.clone(),
                key,
                defaults: self.redaction.defaults,
            },
            service: {
                let mut service = ServiceInfo::default();
                service.name.clone_from(&self.service.name);
                service.version.clone_from(&self.service.version);
                service.instance.clone_from(&self.service.instance);
                service
            },
            sinks,
            #[cfg(feature = "notify")]
            notify: self.notify_config()?,
        })
    }

    /// Whether it asks for notifications or detections.
    pub(crate) fn has_notifications(&self) -> bool {
        !(self.transports.is_empty()
            && self.notifications.is_empty()
            && self.detections.is_empty()
            && self.fleet_detections.is_none())
    }

    fn sink_spec(&self, index: usize, sink: &SinkConfig) -> Result<SinkSpec, ConfigError> {
        match sink {
            SinkConfig::Stdout(stdout) => Ok(SinkSpec::Stdout(stdout.format)),
            SinkConfig::File(file) => Ok(SinkSpec::File(self.file_config(file, index)?)),
            #[cfg(feature = "otlp")]
            SinkConfig::Otlp(otlp) => Ok(SinkSpec::Otlp(otlp_config(otlp))),
            #[cfg(not(feature = "otlp"))]
            SinkConfig::Otlp(_) => Err(ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].type"),
                message: "\"otlp\" needs the `otlp` cargo feature of tracing-security-events"
                    .into(),
            }),
            #[cfg(feature = "postgres")]
            SinkConfig::Postgres(postgres) => {
                Ok(SinkSpec::Postgres(self.postgres_config(postgres, index)?))
            }
            #[cfg(feature = "http-batch")]
            SinkConfig::Http(http) => Ok(SinkSpec::HttpBatch(self.http_config(http, index)?)),
            #[cfg(not(feature = "http-batch"))]
            SinkConfig::Http(_) => Err(ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].type"),
                message: "\"http\" needs the `http-batch` cargo feature of tracing-security-events"
                    .into(),
            }),
            #[cfg(feature = "syslog")]
            SinkConfig::Syslog(syslog) => Ok(SinkSpec::Syslog(syslog_config(syslog))),
            #[cfg(not(feature = "syslog"))]
            SinkConfig::Syslog(_) => Err(ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].type"),
                message: "\"syslog\" needs the `syslog` cargo feature of tracing-security-events"
                    .into(),
            }),
            #[cfg(not(feature = "postgres"))]
            SinkConfig::Postgres(_) => Err(ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].type"),
                message:
                    "\"postgres\" needs the `postgres` cargo feature of tracing-security-events"
                        .into(),
            }),
        }
    }

    #[cfg(feature = "http-batch")]
    fn http_config(
        &self,
        http: &super::model::HttpSinkConfig,
        index: usize,
    ) -> Result<crate::sink::http_batch::HttpBatchConfig, ConfigError> {
        use super::model::HttpSinkProtocol;
        use crate::sink::http_batch::HttpBatchConfig;
        let missing = |key: &str, why: &str| ConfigError::Invalid {
            origin: self.origin(),
            key: format!("sinks[{index}].{key}"),
            message: why.to_owned(),
        };
        let mut config = match http.protocol {
            HttpSinkProtocol::SplunkHec => {
                let token = http
                    .token
                    .clone()
                    .ok_or_else(|| missing("token", "Splunk HEC needs a token"))?;
                let mut config = HttpBatchConfig::splunk_hec(&http.url, token)
                    .with_indexer_acknowledgement(http.acknowledgement);
                if let Some(index) = &http.index {
                    config = config.with_hec_index(index.clone());
                }
                if let Some(sourcetype) = &http.sourcetype {
                    config = config.with_sourcetype(sourcetype.clone());
                }
                config
            }
            HttpSinkProtocol::Elasticsearch => {
                let name = http
                    .index
                    .clone()
                    .ok_or_else(|| missing("index", "Elasticsearch `_bulk` needs an index"))?;
                HttpBatchConfig::elasticsearch(&http.url, name)
            }
            _ => HttpBatchConfig::ndjson(&http.url),
        };
        for (name, value) in &http.headers {
            config = config.with_header(name.clone(), value.clone());
        }
        if let Some(records) = http.max_records {
            config = config.with_max_records(records);
        }
        if let Some(bytes) = http.max_bytes {
            config = config.with_max_bytes(bytes);
        }
        if let Some(linger) = http.linger {
            config = config.with_linger(linger);
        }
        if let Some(timeout) = http.timeout {
            config = config.with_timeout(timeout);
        }
        if let Some(ca) = &http.ca_file {
            config = config.with_ca_file(ca.clone());
        }
        Ok(config
            .with_gzip(http.gzip)
            .in_form(http.format)
            .with_spool(spool(
                http.memory_limit,
                http.spool_dir.as_ref(),
                http.spool_limit,
            )))
    }

    #[cfg(feature = "postgres")]
    fn postgres_config(
        &self,
        postgres: &super::model::PostgresSinkConfig,
        index: usize,
    ) -> Result<crate::sink::postgres::PostgresConfig, ConfigError> {
        use crate::sink::postgres::PostgresConfig;
        let mut config = PostgresConfig::new();
        if let Some(url) = &postgres.url {
            config = config.with_url(url.clone());
        }
        if let Some(table) = &postgres.table {
            crate::postgres_table::check_table_name(table).map_err(|e| ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].table"),
                message: e.to_string(),
            })?;
            config = config.with_table(table.clone());
        }
        config = config.with_spool(spool(
            postgres.memory_limit,
            postgres.spool_dir.as_ref(),
            postgres.spool_limit,
        ));
        if let Some(age) = postgres.retention {
            config = config.with_retention(age);
        }
        for (query, age) in self.retention_rules(&postgres.retention_rules, index)? {
            config = config.with_retention_rule(query, age);
        }
        if let Some(path) = &postgres.chain_key_file {
            config = config.with_chain_key(read_key(
                self,
                path,
                &format!("sinks[{index}].chain_key_file"),
            )?);
        }
        Ok(config)
    }

    /// A sink's retention rules, each query parsed.
    #[cfg(feature = "query")]
    fn retention_rules(
        &self,
        rules: &[super::model::RetentionRuleConfig],
        index: usize,
    ) -> Result<Vec<(crate::query::Query, std::time::Duration)>, ConfigError> {
        rules
            .iter()
            .enumerate()
            .map(|(at, rule)| {
                let query =
                    crate::query::Query::parse(&rule.when).map_err(|e| ConfigError::Invalid {
                        origin: self.origin(),
                        key: format!("sinks[{index}].retention_rules[{at}].when"),
                        message: e.to_string(),
                    })?;
                Ok((query, rule.keep))
            })
            .collect()
    }

    fn file_config(&self, file: &FileSinkConfig, index: usize) -> Result<FileConfig, ConfigError> {
        let mut config = FileConfig::new(&file.path)
            .fsync(file.fsync.with_interval(file.fsync_interval))
            .in_form(file.format)
            .with_index(file.index);
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
        #[cfg(feature = "query")]
        for (query, age) in self.retention_rules(&file.retention_rules, index)? {
            config = config.with_retention_rule(query, age);
        }
        #[cfg(not(feature = "query"))]
        if !file.retention_rules.is_empty() {
            return Err(ConfigError::Invalid {
                origin: self.origin(),
                key: format!("sinks[{index}].retention_rules"),
                message: "needs the `query` cargo feature of tracing-security-events".to_owned(),
            });
        }
        config = match (&file.chain, &file.chain_key_file) {
            (false, _) => config.without_chain(),
            (true, Some(path)) => config.with_chain_key(read_key(
                self,
                path,
                &format!("sinks[{index}].chain_key_file"),
            )?),
            (true, None) => config,
        };
        if let Some(checkpoints) = &file.checkpoints {
            if !file.chain {
                return Err(ConfigError::Invalid {
                    origin: self.origin(),
                    key: format!("sinks[{index}].checkpoints"),
                    message: "checkpoints sign the hash chain: they need `chain = true`".into(),
                });
            }
            let mut signed = CheckpointConfig::new(&checkpoints.key_file);
            if let Some(records) = checkpoints.every_records {
                signed = signed.every_records(records);
            }
            if let Some(every) = checkpoints.every {
                signed = signed.every(every);
            }
            if let Some(epoch) = checkpoints.key_epoch {
                signed = signed.key_epoch(epoch);
            }
            if let Some(url) = &checkpoints.timestamp_authority {
                #[cfg(feature = "timestamp")]
                {
                    signed = signed.timestamp_authority(url.clone());
                }
                #[cfg(not(feature = "timestamp"))]
                return Err(ConfigError::Invalid {
                    origin: self.origin(),
                    key: format!("sinks[{index}].checkpoints.timestamp_authority"),
                    message: format!(
                        "{url:?} needs the `timestamp` cargo feature of tracing-security-events"
                    ),
                });
            }
            config = config.with_checkpoints(signed);
        }
        Ok(config)
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
    config.with_spool(spool(
        otlp.memory_limit,
        otlp.spool_dir.as_ref(),
        otlp.spool_limit,
    ))
}

#[cfg(feature = "syslog")]
fn syslog_config(syslog: &super::model::SyslogSinkConfig) -> crate::sink::syslog::SyslogConfig {
    use crate::sink::syslog::SyslogConfig;
    use crate::sink::SyslogTransportName;
    let address = syslog.address.clone();
    let mut config = match syslog.transport {
        SyslogTransportName::Udp => SyslogConfig::udp(address),
        SyslogTransportName::Tls => SyslogConfig::tls(address),
        _ => SyslogConfig::tcp(address),
    };
    if let Some(ca) = &syslog.ca_file {
        config = config.with_ca_file(ca.clone());
    }
    if let (Some(cert), Some(key)) = (&syslog.cert_file, &syslog.key_file) {
        config = config.with_client_certificate(cert.clone(), key.clone());
    }
    if let Some(name) = &syslog.server_name {
        config = config.with_server_name(name.clone());
    }
    if let Some(bytes) = syslog.max_datagram {
        config = config.with_max_datagram(bytes);
    }
    if let Some(facility) = syslog.facility {
        config = config.with_facility(facility);
    }
    if let Some(name) = &syslog.app_name {
        config = config.with_app_name(name.clone());
    }
    if let Some(name) = &syslog.hostname {
        config = config.with_hostname(name.clone());
    }
    config.in_form(syslog.format).with_spool(spool(
        syslog.memory_limit,
        syslog.spool_dir.as_ref(),
        syslog.spool_limit,
    ))
}

/// The spool settings a sink's `memory_limit`, `spool_dir` and `spool_limit` keys say, over
/// the defaults.
#[cfg(any(
    feature = "otlp",
    feature = "postgres",
    feature = "syslog",
    feature = "http-batch"
))]
fn spool(
    memory_limit: Option<usize>,
    dir: Option<&std::path::PathBuf>,
    limit: Option<u64>,
) -> crate::sink::SpoolConfig {
    let mut spool = crate::sink::SpoolConfig::new();
    if let Some(bytes) = memory_limit {
        spool = spool.with_memory_limit(bytes);
    }
    if let Some(dir) = dir {
        spool = spool.with_dir(dir.clone());
    }
    if let Some(bytes) = limit {
        spool = spool.with_limit(bytes);
    }
    spool
}

pub(super) fn read_key(
    config: &Config,
    path: &std::path::Path,
    key: &str,
) -> Result<Vec<u8>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        origin: config.origin(),
        key: key.to_owned(),
        message,
    };
    let bytes = std::fs::read(path)
        .map_err(|err| invalid(format!("cannot read key file {}: {err}", path.display())))?;
    if bytes.is_empty() {
        return Err(invalid(format!("key file {} is empty", path.display())));
    }
    Ok(bytes)
}
