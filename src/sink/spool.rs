//! Where a sink that ships records elsewhere (OTLP, PostgreSQL) holds them while the other end
//! is away: memory first, then spool files on disk, each bounded; one set of settings for every
//! such sink.

use std::path::PathBuf;
use std::sync::Arc;

use super::delivery::Backlog;

/// How much a shipping sink holds while its destination is away, and where.
///
/// Records wait in memory up to [`with_memory_limit`](Self::with_memory_limit) (8 MiB by
/// default), then, with a [spool directory](Self::with_dir), in files on disk up to
/// [`with_limit`](Self::with_limit) (256 MiB by default); beyond that new records are given
/// up, counted, and recorded as `audit.events_dropped`. Records found in the directory at
/// start-up, left by an earlier run, are sent first.
///
/// ```
/// use tracing_security_events::sink::SpoolConfig;
///
/// let spool = SpoolConfig::new()
///     .with_memory_limit(4 << 20)
///     .with_dir("/var/spool/app/security-log")
///     .with_limit(1 << 30);
/// assert_eq!(spool.memory_limit(), 4 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    memory_limit: usize,
    dir: Option<PathBuf>,
    limit: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig::new()
    }
}

impl SpoolConfig {
    /// Default memory held while the destination is away: 8 MiB.
    pub const DEFAULT_MEMORY_LIMIT: usize = 8 << 20;
    /// Default disk held in spool files: 256 MiB.
    pub const DEFAULT_LIMIT: u64 = 256 << 20;

    /// 8 MiB in memory, no spool files.
    pub const fn new() -> Self {
        SpoolConfig {
            memory_limit: Self::DEFAULT_MEMORY_LIMIT,
            dir: None,
            limit: Self::DEFAULT_LIMIT,
        }
    }

    /// Hold up to `bytes` of records in memory.
    #[must_use]
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Then hold records in spool files in `dir` (created, mode 0700).
    #[must_use]
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Hold up to `bytes` in spool files.
    #[must_use]
    pub fn with_limit(mut self, bytes: u64) -> Self {
        self.limit = bytes;
        self
    }

    /// The bytes held in memory.
    pub fn memory_limit(&self) -> usize {
        self.memory_limit
    }

    /// The spool directory, if any.
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// The bytes held in spool files.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The backlog these settings describe, its directory made ready; on failure, the
    /// directory and why.
    pub(crate) fn open(&self) -> Result<Arc<Backlog>, (PathBuf, std::io::Error)> {
        let spool = self.dir.clone().map(|dir| (dir, self.limit));
        Backlog::new(self.memory_limit, spool)
            .map(Arc::new)
            .map_err(|error| (self.dir.clone().unwrap_or_default(), error))
    }
}
