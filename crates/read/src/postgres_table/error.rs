//! Why the PostgreSQL sink or store cannot start.

/// Why the PostgreSQL sink or store cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// No URL in the settings and none in `SECURITY_LOG_DATABASE_URL`.
    #[error("no database URL: set one, or SECURITY_LOG_DATABASE_URL")]
    NoUrl,
    /// The URL cannot be read.
    #[error("the database URL cannot be read: {0}")]
    BadUrl(String),
    /// The table name is not a plain identifier.
    #[error(
        "table `{0}`: use lower-case letters, digits and _, at most 50, not starting with a digit"
    )]
    BadTable(String),
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// Where (without the password).
        url: String,
        /// Why.
        #[source]
        source: postgres::Error,
    },
    /// Creating or migrating the table failed.
    #[error("cannot create or migrate table `{table}`: {source}")]
    Migrate {
        /// The table.
        table: String,
        /// Why.
        #[source]
        source: postgres::Error,
    },
    /// The table's schema is newer than this version of the crate knows.
    #[error(
        "table `{table}` is at schema version {found}, newer than this version of \
         tracing-security-events knows ({known}): upgrade the crate"
    )]
    NewerSchema {
        /// The table.
        table: String,
        /// The version found.
        found: i32,
        /// The newest this crate knows.
        known: i32,
    },
    /// There is no table of security records by that name (the sink creates it).
    #[error(
        "no table `{0}` of security records in this database (the PostgreSQL sink creates it)"
    )]
    NoTable(String),
    /// The database answered a query with an error.
    #[error("database error: {}", super::describe(.0))]
    Query(#[from] postgres::Error),
    /// The database does not store text as UTF-8.
    #[error("the database's encoding is {0}: the security log reads a UTF8 database only")]
    Encoding(String),
    /// The spool directory cannot be used.
    #[error("cannot use the spool directory {}: {source}", dir.display())]
    Spool {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The sink's thread could not start.
    #[error("cannot start the PostgreSQL sink's thread: {0}")]
    Thread(#[source] std::io::Error),
}
