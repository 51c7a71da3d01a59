//! The reading side of tracing-security-events: the query language every reader shares, the
//! stores that answer it over a log's files and over the PostgreSQL sink's table, exports and
//! counts. It depends on the shared format and on nothing of the writer.
//!
//! Use it through [`tracing-security-events`](https://docs.rs/tracing-security-events) (feature
//! `query`), which re-exports [`query`] and [`store`] at the paths users know.

pub mod query;
pub mod store;

#[cfg(feature = "postgres")]
#[doc(hidden)]
pub mod postgres_table;

// The shared format's modules, under the paths this code has always used.
use tracing_security_events_format::{
    escape, event, forms, glob, hex, integrity, json_view, log_files, log_index, raw_json,
};
