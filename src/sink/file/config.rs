//! The settings of a file sink.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::clock::{Clock, SystemClock};

/// When the file starts afresh, besides size (`rotate_every = "hourly"` or `"daily"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum RotationPeriod {
    /// At the start of every UTC hour.
    Hourly,
    /// At 00:00 UTC.
    Daily,
}

impl RotationPeriod {
    /// The start of the period that holds `at`.
    pub(crate) fn start_of(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let step = match self {
            RotationPeriod::Hourly => TimeDelta::hours(1),
            RotationPeriod::Daily => TimeDelta::days(1),
        };
        at.duration_trunc(step).unwrap_or(at)
    }
}

/// When written records are made durable with `fsync` (`sync_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// Never; the operating system writes back when it likes. A crash of the machine (not just
    /// of the process) can lose the last seconds.
    Never,
    /// At most this long after a write (group commit). The default, at 1 second. The sync runs
    /// beside the writes, which go on meanwhile; a flush or a rotation waits for it.
    Interval(Duration),
    /// After every batch, before the callers that emitted it continue: `security_event!` returns
    /// only once its record is on disk.
    Always,
}

/// The interval of the default [`FsyncPolicy::Interval`]: 1 second.
pub const DEFAULT_FSYNC_INTERVAL: Duration = Duration::from_secs(1);

impl Default for FsyncPolicy {
    fn default() -> Self {
        FsyncPolicy::Interval(DEFAULT_FSYNC_INTERVAL)
    }
}

impl FsyncPolicy {
    /// The name of the policy in a configuration: `never`, `interval`, `always`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FsyncPolicy::Never => "never",
            FsyncPolicy::Interval(_) => "interval",
            FsyncPolicy::Always => "always",
        }
    }

    /// The same policy, with `interval` as its interval when it is [`FsyncPolicy::Interval`].
    pub const fn with_interval(self, interval: Duration) -> FsyncPolicy {
        match self {
            FsyncPolicy::Interval(_) => FsyncPolicy::Interval(interval),
            other => other,
        }
    }
}

/// In a configuration the policy is its name (`fsync = "interval"`); the interval is a key of its
/// own (`fsync_interval = "500ms"`), applied with [`FsyncPolicy::with_interval`].
#[cfg(feature = "config")]
mod fsync_as_name {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{FsyncPolicy, DEFAULT_FSYNC_INTERVAL};

    impl Serialize for FsyncPolicy {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(self.as_str())
        }
    }

    impl<'de> Deserialize<'de> for FsyncPolicy {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let name = Cow::<'de, str>::deserialize(deserializer)?;
            match &*name {
                "never" => Ok(FsyncPolicy::Never),
                "interval" => Ok(FsyncPolicy::Interval(DEFAULT_FSYNC_INTERVAL)),
                "always" => Ok(FsyncPolicy::Always),
                other => Err(serde::de::Error::unknown_variant(
                    other,
                    &["never", "interval", "always"],
                )),
            }
        }
    }

    impl schemars::JsonSchema for FsyncPolicy {
        fn schema_name() -> Cow<'static, str> {
            "FsyncPolicy".into()
        }

        fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({
                "description": "When written records are made durable: `never`, `interval` (every `fsync_interval`) or `always` (after every batch).",
                "type": "string",
                "enum": ["never", "interval", "always"]
            })
        }
    }
}

/// The settings of one JSON-lines file: rotation, retention, durability, tamper evidence.
///
/// | setting | default | setter |
/// |---|---|---|
/// | rotation by size | off | [`rotate_at_size`](FileConfig::rotate_at_size) |
/// | rotation by time | off | [`rotate_every`](FileConfig::rotate_every) |
/// | rotated files kept, at most | all | [`keep_files`](FileConfig::keep_files) |
/// | rotated files kept, at most this old | all | [`keep_for`](FileConfig::keep_for) |
/// | fsync | every second ([`FsyncPolicy::Interval`]) | [`fsync`](FileConfig::fsync) |
/// | hash chain | on, SHA-256 | [`with_chain_key`](FileConfig::with_chain_key), [`without_chain`](FileConfig::without_chain) |
/// | clock for rotation and retention | the builder's, else the system's | [`with_clock`](FileConfig::with_clock) |
#[derive(Clone)]
#[must_use]
pub struct FileConfig {
    pub(crate) path: PathBuf,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) period: Option<RotationPeriod>,
    pub(crate) max_files: Option<usize>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) chain: bool,
    pub(crate) chain_key: Option<Vec<u8>>,
    /// `None`: the builder's clock, or the system's.
    pub(crate) clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("period", &self.period)
            .field("max_files", &self.max_files)
            .field("max_age", &self.max_age)
            .field("fsync", &self.fsync)
            .field("chain", &self.chain)
            .field("chain_key", &self.chain_key.as_ref().map(|_| "(set)"))
            .field("clock", &self.clock)
            .finish()
    }
}

impl FileConfig {
    /// A file at `path` with the defaults of the table above.
    pub fn new(path: impl AsRef<Path>) -> Self {
        FileConfig {
            path: path.as_ref().to_path_buf(),
            max_bytes: None,
            period: None,
            max_files: None,
            max_age: None,
            fsync: FsyncPolicy::default(),
            chain: true,
            chain_key: None,
            clock: None,
        }
    }

    /// The path of the active file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a new file before one would grow past `bytes` (a record is never split; a single
    /// record larger than that gets a file of its own).
    pub fn rotate_at_size(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Starts a new file at every period boundary (UTC), also across restarts: a file left from
    /// an earlier period is rotated at start-up.
    pub fn rotate_every(mut self, period: RotationPeriod) -> Self {
        self.period = Some(period);
        self
    }

    /// Keeps at most `count` rotated files, deleting the oldest, at start-up and at each rotation.
    pub fn keep_files(mut self, count: usize) -> Self {
        self.max_files = Some(count);
        self
    }

    /// Deletes rotated files rotated longer ago than `age`, at start-up and at each rotation.
    pub fn keep_for(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// When to `fsync`.
    pub fn fsync(mut self, policy: FsyncPolicy) -> Self {
        self.fsync = policy;
        self
    }

    /// Chains records with HMAC-SHA256 under `key` instead of plain SHA-256, so that someone who
    /// can write the file cannot rebuild the chain. Verify with the same key.
    pub fn with_chain_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.chain = true;
        self.chain_key = Some(key.into());
        self
    }

    /// Writes records without the `integrity` member.
    pub fn without_chain(mut self) -> Self {
        self.chain = false;
        self.chain_key = None;
        self
    }

    /// The clock for rotation and retention; by default the one given to
    /// [`Builder::with_clock`](crate::Builder::with_clock), else the system's.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone().unwrap_or_else(|| Arc::new(SystemClock))
    }
}
