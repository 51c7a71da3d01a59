//! The shared format of tracing-security-events: the catalog of event names, the security
//! record (schema version 1) and its encoding, the hash chain and its verification, and how a
//! log's files are named. Everything that writes a log and everything that reads one agrees
//! through this crate; it depends on no part of either.
//!
//! Use it through [`tracing-security-events`](https://docs.rs/tracing-security-events), which
//! re-exports what users need; the modules marked hidden here are shared with the writer and
//! the readers and are not a public API.

pub mod event;
pub mod forms;
pub mod integrity;
pub mod log_index;
pub mod record;

#[doc(hidden)]
pub mod escape;
#[doc(hidden)]
pub mod glob;
#[doc(hidden)]
pub mod hex;
#[doc(hidden)]
pub mod json_view;
#[doc(hidden)]
pub mod log_files;
#[doc(hidden)]
pub mod raw_json;
#[doc(hidden)]
pub mod value;

pub use event::{Catalog, Category, EventInfo, Outcome, SecurityEvent, Severity, UnknownEventName};

/// What the catalog macro reaches through. Not a public API.
#[doc(hidden)]
pub mod _private {
    pub use tracing_core::Level;
}
