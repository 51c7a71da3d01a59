//! What a reader asks a store, and what it gets back.

use std::fmt;

use chrono::{DateTime, Utc};

use super::cursor::Cursor;
use super::deadline::Deadline;
use crate::query::Query;

/// Which records a reader may see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Scope {
    /// Every record.
    #[default]
    All,
    /// Only the records of this tenant (`tenant.id`).
    Tenant(String),
}

/// The order of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest first (the default).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// Records per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// A search: a query, the reader's scope, the order, a page size and where to resume.
#[derive(Clone)]
pub struct Search {
    pub(crate) query: Query,
    pub(crate) scope: Scope,
    pub(crate) order: Order,
    pub(crate) limit: usize,
    pub(crate) cursor: Option<Cursor>,
    pub(crate) now: DateTime<Utc>,
    /// Check the hash chain of what an export reads.
    pub(crate) chain_check: bool,
    /// The chain's key, if it was sealed under one.
    pub(crate) chain_key: Option<Vec<u8>>,
    pub(crate) deadline: Deadline,
}

impl fmt::Debug for Search {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Search")
            .field("query", &self.query.to_string())
            .field("scope", &self.scope)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("cursor", &self.cursor)
            .field("now", &self.now)
            .field("chain_check", &self.chain_check)
            .field("deadline", &self.deadline)
            // A secret: never printed.
            .field("chain_key", &self.chain_key.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl Search {
    /// The records matching `query`, newest first, a page of [`DEFAULT_PAGE_SIZE`], every tenant,
    /// relative times counted from now.
    pub fn new(query: Query) -> Self {
        Search {
            query,
            scope: Scope::All,
            order: Order::NewestFirst,
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
            now: Utc::now(),
            chain_check: false,
            chain_key: None,
            deadline: Deadline::none(),
        }
    }

    /// Stop when `deadline` passes or is cancelled.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// The deadline.
    pub fn deadline(&self) -> &Deadline {
        &self.deadline
    }

    /// When exported oldest first, check the hash chain of every line read (every record of
    /// the files read, matching or not), sealed under `key` if the log was: the export's
    /// summary says where the first problem is.
    #[must_use]
    pub fn with_chain_check(mut self, key: Option<Vec<u8>>) -> Self {
        self.chain_check = true;
        self.chain_key = key;
        self
    }

    /// Only what this reader may see.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// In this order.
    #[must_use]
    pub fn with_order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// At most `limit` records a page (at least one).
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// Resume after the last record of an earlier page.
    #[must_use]
    pub fn with_cursor(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Count relative times (`-24h`, `today`) from `now` instead of the current time.
    #[must_use]
    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// The query.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The reader's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// A record as the store holds it: the exact line written (re-verifiable), and its key parts.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub(crate) line: String,
    pub(crate) id: String,
    pub(crate) timestamp: String,
}

impl StoredRecord {
    /// The record exactly as written, without its line feed.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// Its `id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its `timestamp`, as written.
    pub fn timestamp(&self) -> &str {
        &self.timestamp
    }

    /// The record parsed.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.line).unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredRecord")
            .field("id", &self.id)
            .field("line", &self.line)
            .finish()
    }
}

/// A page of records.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The records, in the order asked for.
    pub records: Vec<StoredRecord>,
    /// Where the next page starts. Newest first, `None` at the end; oldest first, set whenever
    /// the page has records (the log may grow after them), so the end is an empty page.
    pub next_cursor: Option<Cursor>,
    /// Lines read that are not whole records (a torn last line, garbage), skipped.
    pub skipped_lines: u64,
}

/// What an export did besides handing on the records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Lines read that are not whole records, skipped.
    pub skipped_lines: u64,
    /// What the chain check found, when the search asked for one and the export ran oldest
    /// first.
    pub chain: Option<super::ChainSummary>,
}

/// A count, with the lines skipped while counting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Records that match.
    pub records: u64,
    /// Lines read that are not whole records, skipped.
    pub skipped_lines: u64,
}
