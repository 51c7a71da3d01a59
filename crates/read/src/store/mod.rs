//! Reading the log back: the [`LogStore`] interface every reader uses (the `security-log`
//! command, the read API), and [`FileStore`], over the files the file sink writes.
//!
//! A store answers [`Search`]es with [`Page`]s of records, newest first by default, each the
//! exact line written (so it can be verified again); the page's [`Cursor`] resumes after its
//! last record, and stays valid while the log grows and rotates. It also counts, groups
//! ([`Aggregate`]) and streams every match (`export`). Lines that are not whole records (a
//! torn last line, garbage) are skipped and counted, never fatal.
//!
//! A rotated file with an index beside it ([`write_index`], or the file sink's `index` option;
//! [`LogIndex`] says what it holds) is read only in the blocks that can hold a question's
//! records: by their times for a time range, by their filters for a needle (`user =`, `tenant
//! =`, `ip =`, `event =`, `request.id =` in a conjunction, or the reader's tenant). An index
//! that is not its file's (another name, size, first or last record) or is damaged is not
//! used: the file is read whole, and the answer is the same.
//!
//! Every read has a [`Deadline`] (none unless the caller sets one; the read API sets one for
//! every request) and stops with [`StoreError::DeadlineExceeded`] when it passes, or with
//! [`StoreError::Cancelled`] when its reader goes away.
//!
//! ```
//! use tracing_security_events::query::Query;
//! use tracing_security_events::store::{FileStore, LogStore, Search};
//! use tracing_security_events::{security_event, SecurityEvent};
//! use tracing_subscriber::prelude::*;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("security.jsonl");
//! let (layer, guard) = tracing_security_events::builder().with_file(&path).build()?;
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
//!     for n in 0..5 {
//!         security_event!(SecurityEvent::LoginFailed, actor.id = n, authentication.method = "password");
//!     }
//!     security_event!(SecurityEvent::UserInvited, actor.id = 1);
//! });
//! guard.shutdown()?;
//!
//! let store = FileStore::open(&path)?;
//! let query = Query::parse("event = authentication.failed and user in (1, 3, 4)")?;
//! let page = store.search(&Search::new(query.clone()).with_limit(2))?;
//! let users: Vec<_> = page.records.iter().map(|r| r.value()["actor"]["id"].clone()).collect();
//! assert_eq!(users, ["4", "3"]); // newest first
//! let rest = store.search(&Search::new(query).with_limit(2).with_cursor(page.next_cursor))?;
//! assert_eq!(rest.records.len(), 1);
//! assert_eq!(store.count(&Search::new(Query::parse("user = 1")?))?.records, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aggregate;
mod chain_check;
mod cursor;
mod deadline;
mod export;
mod file_store;
mod lines;
mod log_index;
mod members;
#[cfg(feature = "postgres")]
mod postgres;
mod prefilter;
#[doc(hidden)]
pub use members::Members;
#[doc(hidden)]
pub use prefilter::Prefilter;
mod raw;
mod request;
mod retention;

use std::io;

#[doc(hidden)]
pub use aggregate::group_value;
pub use aggregate::{bucket_length, Aggregate, Aggregation, Bucket, BUCKET_ORIGIN};
pub use chain_check::ChainSummary;
pub use cursor::{BadCursor, Cursor};
pub use deadline::{Canceller, Deadline};
pub use export::{
    csv_io_error, csv_row, neutralize_csv_cell, ExportFormat, ExportWriter, CSV_COLUMNS,
};
pub use file_store::FileStore;
pub use log_index::{index_path, write_index, LogIndex};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
pub use request::{
    Count, ExportSummary, Order, Page, Scope, Search, StoredRecord, DEFAULT_PAGE_SIZE,
};
pub use retention::{days_of, RetentionRules};

/// Why a store could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The log could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was being read.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The path names no log, or several.
    #[error("{0}")]
    NotALog(String),
    /// The cursor is not one of this log's, or its record is no longer where it was.
    #[error("the cursor does not point into this log")]
    BadCursor,
    /// The database could not answer.
    #[error("database: {message}")]
    Database {
        /// What the database said (its own message, when it sent one).
        message: String,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The read took longer than its deadline allows, and was stopped.
    #[error("the read took longer than its deadline of {0:?}: narrow the query (a time range, an event)")]
    DeadlineExceeded(std::time::Duration),
    /// The reader went away (or cancelled the read), and the read was stopped.
    #[error("the read was cancelled")]
    Cancelled,
}

/// The reading side of a security log, the same over files and over a database.
///
/// Calls block (a store reads files or waits on a database): an async service calls them from
/// `spawn_blocking`.
pub trait LogStore: Send + Sync {
    /// A page of the records matching the search, in its order, and where the next starts.
    fn search(&self, search: &Search) -> Result<Page, StoreError>;

    /// The record with this id, if the scope lets the reader see it, within the deadline.
    fn get(
        &self,
        id: &str,
        scope: &Scope,
        deadline: &Deadline,
    ) -> Result<Option<StoredRecord>, StoreError>;

    /// How many records match the search (its query and scope, within its deadline; its order,
    /// limit and cursor play no part).
    fn count(&self, search: &Search) -> Result<Count, StoreError>;

    /// Counts grouped by fields and/or time buckets.
    fn aggregate(&self, aggregate: &Aggregate) -> Result<Aggregation, StoreError>;

    /// Every record matching the search (its limit and cursor ignored), in its order, handed
    /// to `each` one at a time: never the whole result in memory. Says what was skipped, and
    /// what the chain check found when the search asked for one.
    fn export(
        &self,
        search: &Search,
        each: &mut dyn FnMut(&StoredRecord) -> io::Result<()>,
    ) -> Result<ExportSummary, StoreError>;
}
