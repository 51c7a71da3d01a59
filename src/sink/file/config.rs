//! The settings of a file sink.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::clock::{Clock, SystemClock};
use crate::forms::OutputForm;

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
/// | signed checkpoints | off | [`with_checkpoints`](FileConfig::with_checkpoints) |
/// | clock for rotation and retention | the builder's, else the system's | [`with_clock`](FileConfig::with_clock) |
#[derive(Clone)]
#[must_use]
pub struct FileConfig {
    pub(crate) path: PathBuf,
    pub(crate) form: OutputForm,
    /// Leave the index of each rotated file beside it.
    pub(crate) index: bool,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) period: Option<RotationPeriod>,
    pub(crate) max_files: Option<usize>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) chain: bool,
    pub(crate) chain_key: Option<Vec<u8>>,
    /// Boxed: most files have none, and a sink's settings stay small.
    pub(crate) checkpoints: Option<Box<CheckpointConfig>>,
    /// `None`: the builder's clock, or the system's.
    pub(crate) clock: Option<Arc<dyn Clock>>,
    /// Kinds kept for other times than `max_age`, for readers to apply.
    #[cfg(feature = "query")]
    pub(crate) retention_rules: Vec<(crate::query::Query, Duration)>,
}

impl fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("path", &self.path)
            .field("form", &self.form)
            .field("index", &self.index)
            .field("max_bytes", &self.max_bytes)
            .field("period", &self.period)
            .field("max_files", &self.max_files)
            .field("max_age", &self.max_age)
            .field("fsync", &self.fsync)
            .field("chain", &self.chain)
            .field("chain_key", &self.chain_key.as_ref().map(|_| "(set)"))
            .field("checkpoints", &self.checkpoints)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl FileConfig {
    /// A file at `path` with the defaults of the table above.
    pub fn new(path: impl AsRef<Path>) -> Self {
        FileConfig {
            path: path.as_ref().to_path_buf(),
            form: OutputForm::Native,
            index: false,
            max_bytes: None,
            period: None,
            max_files: None,
            max_age: None,
            fsync: FsyncPolicy::default(),
            chain: true,
            chain_key: None,
            checkpoints: None,
            clock: None,
            #[cfg(feature = "query")]
            retention_rules: Vec::new(),
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

    /// Keep the records `query` matches for `age` (whole days, rounded up), the records no rule
    /// matches for [`keep_for`](Self::keep_for), the first rule a record matches deciding.
    ///
    /// A file holds every kind in one hash chain, and a record cannot leave the middle of a
    /// chain without breaking the proof of the records after it: so rotated files are kept,
    /// whole, for the longest of these ages (and removed whole, recorded as
    /// `audit.files_removed`), the rules are written beside the log
    /// (`<active file>.retention`), and the [file store](crate::store::FileStore) leaves out of
    /// every answer the records past their kind's age. The PostgreSQL sink removes them
    /// ([`PostgresConfig::with_retention_rule`](crate::sink::postgres::PostgresConfig::with_retention_rule)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tracing_security_events::query::Query;
    /// use tracing_security_events::sink::FileConfig;
    ///
    /// let day = Duration::from_secs(86_400);
    /// let config = FileConfig::new("/var/log/app/security.jsonl")
    ///     .rotate_at_size(64 << 20)
    ///     .with_retention_rule(Query::parse("category = authentication")?, 90 * day)
    ///     .keep_for(365 * day);
    /// # let _ = config;
    /// # Ok::<(), tracing_security_events::query::QueryError>(())
    /// ```
    #[cfg(feature = "query")]
    pub fn with_retention_rule(mut self, query: crate::query::Query, age: Duration) -> Self {
        self.retention_rules.push((query, age));
        self
    }

    /// The rules for readers, and how long files are kept: the longest age of all.
    #[cfg(feature = "query")]
    pub(crate) fn retention(&self) -> Option<crate::store::RetentionRules> {
        (!self.retention_rules.is_empty())
            .then(|| crate::store::RetentionRules::new(&self.retention_rules, self.max_age))
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

    /// Writes records in `form` (default native): ECS for Filebeat or Elastic Agent, OCSF for
    /// a Security Lake pipeline. The hash chain seals the lines as written, and `security-log
    /// verify` reads every form.
    ///
    /// ```
    /// use tracing_security_events::forms::OutputForm;
    /// use tracing_security_events::sink::FileConfig;
    ///
    /// let file = FileConfig::new("/var/log/myapp/security.ocsf.jsonl").in_form(OutputForm::Ocsf);
    /// # let _ = file;
    /// ```
    pub fn in_form(mut self, form: OutputForm) -> Self {
        self.form = form;
        self
    }

    /// Leaves beside each rotated file its index (`<file>.index`, see
    /// [`log_index`](crate::log_index)): its records' exact times and, per block of about
    /// 1 MiB, their times and a filter of their actors, tenants, client addresses, event names
    /// and request ids, so that a question with a time range or such a needle reads only the
    /// blocks its records can be in (`security-log index` does the same for files rotated
    /// before). Only for the native form, which the store reads. Off by default.
    ///
    /// ```
    /// use tracing_security_events::sink::FileConfig;
    ///
    /// let file = FileConfig::new("/var/log/myapp/security.jsonl")
    ///     .rotate_at_size(256 << 20)
    ///     .with_index(true);
    /// # let _ = file;
    /// ```
    pub fn with_index(mut self, on: bool) -> Self {
        self.index = on;
        self
    }

    /// Writes records without the `integrity` member (and so without checkpoints).
    pub fn without_chain(mut self) -> Self {
        self.chain = false;
        self.chain_key = None;
        self.checkpoints = None;
        self
    }

    /// Signs the tip of the chain in `audit.checkpoint` records, which every sink receives:
    /// see [`CheckpointConfig`]. Turns the chain on.
    pub fn with_checkpoints(mut self, checkpoints: CheckpointConfig) -> Self {
        self.chain = true;
        self.checkpoints = Some(Box::new(checkpoints));
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

/// Records a checkpoint covers, at most, by default: 100,000.
pub const DEFAULT_CHECKPOINT_RECORDS: u64 = 100_000;
/// How long records wait for a checkpoint, at most, by default: 60 seconds.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);
/// How long a signing key lives before the next is derived, by default: 1 hour.
pub const DEFAULT_KEY_EPOCH: Duration = Duration::from_secs(3600);

/// Signed checkpoints of a file's hash chain.
///
/// The file sink writes an `audit.checkpoint` record after every `every_records` records,
/// `every` after the first record it has not signed, after each rotation and at shutdown. It
/// names the last record before it (`seq` and chain hash), the records since the previous
/// checkpoint and that checkpoint's digest, and is signed with Ed25519 under the key in
/// `key_file` (made by `security-log keygen`, which prints the public key for verifiers).
///
/// The key evolves: once `key_epoch` has passed, the next epoch's key is derived one-way from
/// the current one, which is erased from memory and from the key file; the new public key is
/// signed by the old. A key stolen now cannot sign anything that verifies for an earlier epoch.
///
/// | setting | default | setter |
/// |---|---|---|
/// | records per checkpoint, at most | 100,000 | [`every_records`](CheckpointConfig::every_records) |
/// | time before a checkpoint, at most | 60 s | [`every`](CheckpointConfig::every) |
/// | key epoch | 1 hour | [`key_epoch`](CheckpointConfig::key_epoch) |
///
/// ```no_run
/// use tracing_security_events::sink::{CheckpointConfig, FileConfig};
///
/// let file = FileConfig::new("/var/log/myapp/security.jsonl")
///     .with_checkpoints(CheckpointConfig::new("/var/lib/myapp/checkpoint.key"));
/// # let _ = file;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CheckpointConfig {
    pub(crate) key_file: PathBuf,
    pub(crate) every_records: u64,
    pub(crate) every: Duration,
    pub(crate) key_epoch: Duration,
    /// An RFC 3161 authority's URL (feature `timestamp`).
    pub(crate) timestamp_authority: Option<String>,
}

impl CheckpointConfig {
    /// Checkpoints signed with the key in `key_file`, with the defaults of the table above.
    pub fn new(key_file: impl AsRef<Path>) -> Self {
        CheckpointConfig {
            key_file: key_file.as_ref().to_path_buf(),
            every_records: DEFAULT_CHECKPOINT_RECORDS,
            every: DEFAULT_CHECKPOINT_INTERVAL,
            key_epoch: DEFAULT_KEY_EPOCH,
            timestamp_authority: None,
        }
    }

    /// A checkpoint after this many records at most (at least 1).
    pub fn every_records(mut self, records: u64) -> Self {
        self.every_records = records.max(1);
        self
    }

    /// A checkpoint at most this long after the first record not yet signed.
    pub fn every(mut self, interval: Duration) -> Self {
        self.every = interval;
        self
    }

    /// How long one signing key lives (`Duration::ZERO`: a new key after every checkpoint).
    pub fn key_epoch(mut self, epoch: Duration) -> Self {
        self.key_epoch = epoch;
        self
    }

    /// Has each checkpoint time-stamped by the RFC 3161 authority at `url` (HTTP POST, 5 s
    /// at most; the token goes in the checkpoint, or why there is none): see
    /// [`timestamp`](crate::timestamp).
    #[cfg(feature = "timestamp")]
    pub fn timestamp_authority(mut self, url: impl Into<String>) -> Self {
        self.timestamp_authority = Some(url.into());
        self
    }

    /// The key file.
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }
}
