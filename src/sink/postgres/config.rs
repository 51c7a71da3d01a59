//! What the PostgreSQL sink needs to know: where the database is, the table, and how much to
//! hold while the database is away.

use std::fmt;
use std::time::Duration;

use super::PostgresError;
use crate::postgres_table::redacted_url;
use crate::query::Query;
use crate::sink::SpoolConfig;

/// The variable read for the connection URL when none is set in code or configuration.
pub const DATABASE_URL_VARIABLE: &str = "SECURITY_LOG_DATABASE_URL";

/// Settings of the PostgreSQL sink (see [the module](super) for the table and the delivery
/// rules).
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::sink::postgres::PostgresConfig;
/// use tracing_security_events::sink::SpoolConfig;
///
/// let config = PostgresConfig::new()
///     .with_url("postgres://app@db.internal/app?sslmode=require")
///     .with_retention(Duration::from_secs(400 * 86_400))
///     .with_spool(SpoolConfig::new().with_dir("/var/spool/app/security-log"));
/// # let _ = config;
/// ```
#[derive(Clone)]
#[must_use]
pub struct PostgresConfig {
    pub(crate) url: Option<String>,
    pub(crate) table: String,
    pub(crate) spool: SpoolConfig,
    pub(crate) max_batch: usize,
    pub(crate) retention: Option<Duration>,
    /// Kinds kept for other times than `retention`: the first rule a record matches decides.
    pub(crate) retention_rules: Vec<(Query, Duration)>,
    pub(crate) retention_interval: Duration,
    pub(crate) chain_key: Option<Vec<u8>>,
    /// Whether the sink may say on stderr what it gave up at shutdown.
    pub(crate) report_errors: bool,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            // The URL may hold a password: only where it points.
            .field("url", &self.url.as_deref().map(redacted_url))
            .field("table", &self.table)
            .field("spool", &self.spool)
            .field("max_batch", &self.max_batch)
            .field("retention", &self.retention)
            .field(
                "retention_rules",
                &self
                    .retention_rules
                    .iter()
                    .map(|(query, age)| (query.to_string(), age))
                    .collect::<Vec<_>>(),
            )
            .field("chain_key", &self.chain_key.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig::new()
    }
}

impl PostgresConfig {
    /// The table's default name.
    pub const DEFAULT_TABLE: &'static str = crate::postgres_table::DEFAULT_TABLE;
    /// Records written in one statement, at most.
    pub const DEFAULT_MAX_BATCH: usize = 2000;

    /// Defaults: the URL from `SECURITY_LOG_DATABASE_URL`, table `security_events`, 8 MiB in
    /// memory and no spool, no retention, the chain unkeyed.
    pub fn new() -> Self {
        PostgresConfig {
            url: None,
            table: Self::DEFAULT_TABLE.to_owned(),
            spool: SpoolConfig::new(),
            max_batch: Self::DEFAULT_MAX_BATCH,
            retention: None,
            retention_rules: Vec::new(),
            retention_interval: Duration::from_secs(60),
            chain_key: None,
            report_errors: true,
        }
    }

    /// The database: `postgres://user:password@host:port/database?sslmode=require` (or the
    /// key-value form). `sslmode=prefer` (the default) uses TLS when the server offers it,
    /// `require` only then; certificates are checked against the system's roots.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The table's name (default `security_events`): lower-case letters, digits and `_`, at
    /// most 50 characters, not starting with a digit. Its migrations are kept in
    /// `<table>_migrations`.
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// What to hold, in memory and in spool files, while the database is away.
    pub fn with_spool(mut self, spool: SpoolConfig) -> Self {
        self.spool = spool;
        self
    }

    /// Remove records older than `age` (in whole days, rounded up), unless a
    /// [retention rule](Self::with_retention_rule) keeps them for another time. Whole monthly
    /// partitions are dropped once every row in them is past its age (so a record goes
    /// between its age and its age plus a month); checked every minute. See
    /// [the module](super#retention).
    pub fn with_retention(mut self, age: Duration) -> Self {
        self.retention = Some(age);
        self
    }

    /// Keep the records `query` matches for `age` (whole days, rounded up) instead: sign-ins 90
    /// days, role changes two years. The first rule a record matches decides; records no rule
    /// matches follow [`with_retention`](Self::with_retention) (kept for ever without it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tracing_security_events::query::Query;
    /// use tracing_security_events::sink::postgres::PostgresConfig;
    ///
    /// let day = Duration::from_secs(86_400);
    /// let config = PostgresConfig::new()
    ///     .with_retention_rule(Query::parse("category = authentication")?, 90 * day)
    ///     .with_retention_rule(Query::parse("event like \"user.role*\"")?, 730 * day)
    ///     .with_retention(365 * day);
    /// # let _ = config;
    /// # Ok::<(), tracing_security_events::query::QueryError>(())
    /// ```
    pub fn with_retention_rule(mut self, query: Query, age: Duration) -> Self {
        self.retention_rules.push((query, age));
        self
    }

    /// Check the retention every `interval` instead of every minute.
    pub fn with_retention_interval(mut self, interval: Duration) -> Self {
        self.retention_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Chain the records with HMAC-SHA256 under `key` (as
    /// [`FileConfig::with_chain_key`](crate::sink::FileConfig::with_chain_key)).
    pub fn with_chain_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.chain_key = Some(key.into());
        self
    }

    /// The URL set, else the environment's.
    pub(crate) fn resolved_url(&self) -> Result<String, PostgresError> {
        url_or_environment(self.url.as_deref())
    }
}

/// `url`, else the one in [`DATABASE_URL_VARIABLE`].
pub(crate) fn url_or_environment(url: Option<&str>) -> Result<String, PostgresError> {
    match url {
        Some(url) => Ok(url.to_owned()),
        None => std::env::var(DATABASE_URL_VARIABLE).map_err(|_| PostgresError::NoUrl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        let config = PostgresConfig::new()
            .with_url("postgres://app:s3cret@db/app")
            .with_chain_key("k");
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
