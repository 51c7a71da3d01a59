//! Reading a configuration: a TOML file, then the environment over it, checked whole.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use super::model::{Config, SinkConfig};

/// The environment variable naming the configuration file.
pub const CONFIG_PATH_VAR: &str = "SECURITY_LOG_CONFIG";
/// Variables with the prefix that are not keys: the configuration file, and the PostgreSQL
/// sink's URL (read by the sink when its `url` is unset).
const NOT_KEYS: [&str; 2] = [CONFIG_PATH_VAR, "SECURITY_LOG_DATABASE_URL"];

/// The prefix of environment variables that set keys: `SECURITY_LOG_FILTER__MIN_SEVERITY=warn`
/// sets `filter.min_severity`; `__` separates levels, a number indexes a list
/// (`SECURITY_LOG_SINKS__0__PATH`). Values are TOML (`true`, `8192`, `["a.*", "b"]`) or else text.
pub const ENV_PREFIX: &str = "SECURITY_LOG_";

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("{origin} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key has a value that is not allowed, or is not a key at all.
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        /// Where the value came from: the file, or the environment variable.
        origin: String,
        /// The key, as a path (`sinks[0].fsync`).
        key: String,
        /// The bad value and what is allowed.
        message: String,
    },
}

impl ConfigError {
    /// The key at fault, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

impl Config {
    /// The configuration of this process: the file named by `SECURITY_LOG_CONFIG` (or the
    /// defaults when it is unset), with `SECURITY_LOG_*` variables over it.
    pub fn load() -> Result<Config, ConfigError> {
        match std::env::var_os(CONFIG_PATH_VAR) {
            Some(path) => Config::from_file(path),
            None => Config::parse("", "the defaults", std::env::vars()),
        }
    }

    /// The file at `path`, with `SECURITY_LOG_*` variables over it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, &format!("{}", path.display()), std::env::vars())
    }

    /// `text` (TOML) from `origin` (a name for messages), with the `SECURITY_LOG_*` entries of
    /// `env` over it. [`load`](Config::load) and [`from_file`](Config::from_file) pass the
    /// process environment; tests pass their own.
    pub fn parse(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            origin: origin.to_owned(),
            message: err.to_string().trim().to_owned(),
        })?;
        let from_env = overlay_environment(&mut table, env)?;
        let origin_of = |key: &str| {
            from_env
                .iter()
                .find(|(path, _)| key == path.as_str() || key.starts_with(&format!("{path}.")))
                .map_or_else(
                    || origin.to_owned(),
                    |(_, var)| format!("environment variable {var}"),
                )
        };
        check_sink_entries(&table).map_err(|(key, message)| ConfigError::Invalid {
            origin: origin_of(&key),
            key,
            message,
        })?;
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|err| {
                let key = err.path().to_string();
                ConfigError::Invalid {
                    origin: origin_of(&key),
                    message: first_line(err.into_inner().to_string()),
                    key,
                }
            })?;
        config
            .check()
            .map_err(|(key, message)| ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                message,
            })?;
        config.origin = super::model::Origin(Some(origin_of("sinks")));
        Ok(config)
    }

    /// The error of a configuration under which records would go nowhere: it names no sink,
    /// and none is set in code. Start-up and reloads refuse it alike.
    pub(crate) fn no_sink_error(&self) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin(),
            key: "sinks".to_owned(),
            message: "names no sink and none is set in code: records would be written nowhere \
                      (add a [[sinks]] entry)"
                .to_owned(),
        }
    }

    /// What serde cannot check: ranges, duplicates, rules that need a key.
    fn check(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, message: String| Err((key.to_owned(), message));
        if self.queue.capacity == 0 {
            return fail("queue.capacity", "must be at least 1, got 0".into());
        }
        if self.queue.max_value_len < 64 {
            let got = self.queue.max_value_len;
            return fail(
                "queue.max_value_len",
                format!("must be at least 64, got {got}"),
            );
        }
        let mut paths = HashMap::new();
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::File(file) = sink {
                let key = |name: &str| format!("sinks[{index}].{name}");
                if file.path.as_os_str().is_empty() {
                    return fail(&key("path"), "must not be empty".into());
                }
                if let Some(earlier) = paths.insert(file.path.clone(), index) {
                    let message = format!(
                        "{} is already written by sinks[{earlier}]",
                        file.path.display()
                    );
                    return fail(&key("path"), message);
                }
                if file.rotate_bytes == Some(0) {
                    return fail(&key("rotate_bytes"), "must be at least 1, got 0".into());
                }
                if file.fsync_interval.is_zero() {
                    return fail(&key("fsync_interval"), "must be longer than 0".into());
                }
            }
        }
        for (index, pattern) in self
            .filter
            .include
            .iter()
            .chain(&self.filter.exclude)
            .enumerate()
        {
            if pattern.trim().is_empty() {
                let list = if index < self.filter.include.len() {
                    "include"
                } else {
                    "exclude"
                };
                return fail(
                    &format!("filter.{list}"),
                    "patterns must not be empty".into(),
                );
            }
        }
        let needs_key = self
            .redaction
            .rules
            .iter()
            .position(|rule| rule.action() == crate::redact::RedactionAction::Hmac);
        if let (Some(index), None) = (needs_key, &self.redaction.key_file) {
            let message = "action \"hmac\" needs redaction.key_file".to_owned();
            return fail(&format!("redaction.rules[{index}].action"), message);
        }
        Ok(())
    }
}

/// The TOML library appends "in `key`" on a line of its own; the message names the key already.
fn first_line(message: String) -> String {
    match message.lines().next() {
        Some(first) if first.len() < message.len() => first.trim_end().to_owned(),
        _ => message,
    }
}

/// Checks each `type = "file"` entry on its own: inside a `type`-tagged list entry, serde no
/// longer knows the key path, and a message should name `sinks[0].fsync`, not `sinks[0]`.
fn check_sink_entries(table: &toml::Table) -> Result<(), (String, String)> {
    let Some(toml::Value::Array(sinks)) = table.get("sinks") else {
        return Ok(());
    };
    for (index, sink) in sinks.iter().enumerate() {
        let toml::Value::Table(entry) = sink else {
            continue;
        };
        if entry.get("type").and_then(toml::Value::as_str) != Some("file") {
            continue;
        }
        let mut fields = entry.clone();
        fields.remove("type");
        let checked: Result<super::model::FileSinkConfig, _> =
            serde_path_to_error::deserialize(toml::Value::Table(fields));
        if let Err(err) = checked {
            let inner = err.path().to_string();
            let key = if inner == "." || inner.is_empty() {
                format!("sinks[{index}]")
            } else {
                format!("sinks[{index}].{inner}")
            };
            return Err((key, first_line(err.into_inner().to_string())));
        }
    }
    Ok(())
}

/// Sets the keys named by `SECURITY_LOG_*` variables; returns which key each variable set.
fn overlay_environment(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX) && !NOT_KEYS.contains(&name.as_str()))
        .collect();
    // Lists are filled in index order whatever the order of the environment.
    vars.sort();
    let mut set = Vec::with_capacity(vars.len());
    for (var, raw) in vars {
        let segments: Vec<String> = var[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        let invalid = |key: String, message: String| ConfigError::Invalid {
            origin: format!("environment variable {var}"),
            key,
            message,
        };
        let key = key_path(&segments);
        if segments.iter().any(String::is_empty) {
            return Err(invalid(
                key,
                "empty key segment (use `__` between levels)".into(),
            ));
        }
        let value = parse_env_value(&raw);
        set_path(table, &segments, value).map_err(|message| invalid(key.clone(), message))?;
        set.push((key, var));
    }
    Ok(set)
}

/// `["sinks", "0", "path"]` -> `sinks[0].path`, as `serde_path_to_error` writes paths.
fn key_path(segments: &[String]) -> String {
    let mut key = String::new();
    for segment in segments {
        if segment.parse::<usize>().is_ok() {
            key.push_str(&format!("[{segment}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(segment);
        }
    }
    key
}

fn parse_env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(
    table: &mut toml::Table,
    segments: &[String],
    value: toml::Value,
) -> Result<(), String> {
    let (first, rest) = segments.split_first().ok_or("empty key")?;
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let entry = table
        .entry(first.clone())
        .or_insert_with(|| empty_container(&rest[0]));
    set_in_value(entry, rest, value)
}

fn empty_container(next: &str) -> toml::Value {
    if next.parse::<usize>().is_ok() {
        toml::Value::Array(Vec::new())
    } else {
        toml::Value::Table(toml::Table::new())
    }
}

fn set_in_value(
    container: &mut toml::Value,
    segments: &[String],
    value: toml::Value,
) -> Result<(), String> {
    match container {
        toml::Value::Table(table) => set_path(table, segments, value),
        toml::Value::Array(items) => {
            let (first, rest) = segments.split_first().ok_or("empty key")?;
            let index: usize = first
                .parse()
                .map_err(|_| format!("{first:?} is not a list index"))?;
            if index > items.len() {
                return Err(format!("list index {index} skips index {}", items.len()));
            }
            if index == items.len() {
                items.push(match rest.first() {
                    Some(next) => empty_container(next),
                    None => value.clone(),
                });
            }
            if rest.is_empty() {
                items[index] = value;
                Ok(())
            } else {
                set_in_value(&mut items[index], rest, value)
            }
        }
        _ => Err("sets a key inside a value that is not a table or a list".into()),
    }
}
