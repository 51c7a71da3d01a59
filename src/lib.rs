//! A complete security event log for any Rust service, as one [`tracing`] layer.
//!
//! Events and spans tagged `security_event` (a name from a fixed catalog such as
//! `authentication.failed`, `user.invited`, `api_key.rotated`) become **security records**:
//! enriched with the actor, the client, the user agent and the request from the enclosing spans,
//! numbered, and written as JSON lines (schema v1) by two background threads (one encodes in
//! order, one writes). Everything else that flows through `tracing` is ignored at near-zero cost:
//! a per-layer filter decides per callsite.
//!
//! # Getting started
//!
//! ```
//! use tracing_security_events::{security_event, SecurityEvent};
//! use tracing_subscriber::prelude::*;
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("security-events.jsonl");
//! let (layer, guard) = tracing_security_events::layer(&path)?;
//! let subscriber = tracing_subscriber::registry().with(layer);
//! // A service would call `.init()`; the example keeps the subscriber to itself.
//! tracing::subscriber::with_default(subscriber, || {
//!     let request = tracing::info_span!("request", client.ip = "203.0.113.7", actor.id = tracing::field::Empty);
//!     let _entered = request.enter();
//!     security_event!(SecurityEvent::LoginFailed, actor.name = "alice", authentication.method = "password");
//!     request.record("actor.id", "42");
//!     security_event!(SecurityEvent::LoginSucceeded, actor.name = "alice");
//! });
//! guard.shutdown()?; // or let the guard drop at the end of `main`
//!
//! let text = std::fs::read_to_string(&path)?;
//! let records: Vec<serde_json::Value> =
//!     text.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
//! assert_eq!(records[0]["event"]["name"], "authentication.failed");
//! assert_eq!(records[0]["client"]["ip"], "203.0.113.7");
//! assert_eq!(records[0]["message"], "alice failed to sign in");
//! assert_eq!(records[1]["actor"]["id"], "42");
//! assert_eq!(records[1]["seq"], 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The shortcut [`layer`] covers the common case; [`Builder`] has every setting.
//!
//! # Writing events
//!
//! - [`security_event!`] with a [`SecurityEvent`] variant: level from the catalog, fixed target
//!   `security`, usual `tracing` field syntax. A misspelled variant does not compile.
//! - [`security_span!`] for an action that takes time: one record when the span closes, with its
//!   duration and the `outcome` recorded on it.
//! - A plain `tracing::warn!(security_event = "authentication.failed", ...)` is recognised too;
//!   a name in no registered catalog is still written, flagged `unrecognised`, and counted.
//! - Context fields (`actor.id`, `client.ip`, `user_agent`, `request.id`, ... and their
//!   OpenTelemetry aliases) may sit on any enclosing span, recorded at creation or later with
//!   `Span::record`. An event takes its own fields first, then the nearest span's, outwards.
//! - Your own names: declare a catalog with [`security_catalog!`] and register it with
//!   [`Builder::with_catalog`].
//!
//! # Guarantees
//!
//! - **Nothing lost silently**: the queue is bounded; by default a full queue makes the caller
//!   wait ([`OverflowPolicy::Block`]); with [`OverflowPolicy::Drop`] losses are counted and
//!   reported by an `audit.events_dropped` record. The [`FlushGuard`] flushes on drop, bounded in
//!   time, and [`FlushGuard::shutdown`] reports what could not be flushed.
//! - **Never breaks the host**: nothing on the event path panics or returns an error; sink
//!   failures (even panics) are counted in [`Stats`] and reported on stderr.
//! - **One record, one line**: values are escaped (CR, LF, NUL, ANSI and C1 controls, U+2028),
//!   and values longer than 16 KiB are cut and marked.
//! - **Secrets never in clear**: [redaction](redact) rules apply to every sink.
//! - **Tamper evidence**: file records are [chained](integrity) by SHA-256, optionally keyed,
//!   across rotated files and restarts; [`integrity::verify`] names the first altered record.
//! - **Durable, bounded files**: [rotation, retention and fsync](sink::FileConfig), crash
//!   recovery, and retry of failed writes under a [`SinkFailurePolicy`].
//! - **Private files**: created with mode 0600.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `config` | no | [configuration](config) from a TOML file and the environment, reloaded at run time |
//! | `otlp` | no | the [OTLP sink](sink::otlp): records as OpenTelemetry log records over gRPC or HTTP, held in memory and spool files while the collector is away |
//! | `trace-context` | no | each record's `trace` part: the ids of the OpenTelemetry span the event ran in (`tracing-opentelemetry`), with or without the OTLP sink |
//! | `http` | no | [request context](http) for tower services: client address behind trusted proxies, parsed user agent, request id, the actor after authentication |
//! | `axum` | no | the axum parts of it: the peer from `ConnectInfo` or `MockConnectInfo`, [`RequestSecurity`](http::RequestSecurity) as an extractor |
//! | `query` | no | the [query language](query) every reader of the log shares, and the [stores](store) that answer it (`FileStore` over the log's files) |
//! | `api` | no | [`api`]: the read API and web console a service mounts (axum), scoped by an authorizer, every read recorded; implies `axum` and `query` |
//! | `postgres` | no | [`sink::postgres`]: records in a PostgreSQL table for services with many instances, and [`store::PostgresStore`] to read them; implies `query` |
//! | `notify` | no | [`notify`]: notification rules in the query language with throttles, sent through a signed webhook, email (SMTP) or a callback; threshold and impossible-travel detections writing records of their own; implies `query` |
//! | `geoip` | no | `client.geo` (country, city, ASN) from MaxMind-format databases; implies `http` |
//! | `timestamp` | no | RFC 3161 time-stamps of checkpoints from an authority, and their verification (OpenSSL) |
//!
//! The `security-log` command is a package of its own (`cargo install security-log`): `query`,
//! `export` (CSV, JSON), `stats`, `tail -f`, `verify`, `help query`, completions and a manual page.

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "api")]
#[cfg_attr(docsrs, doc(cfg(feature = "api")))]
pub mod api;
mod builder;
mod capture;
mod changes;
mod clock;
#[cfg(any(feature = "notify", feature = "postgres"))]
mod condition;
#[cfg(feature = "config")]
pub mod config;
mod context;
mod error;
pub use tracing_security_events_format::event;
pub use tracing_security_events_format::forms;
pub use tracing_security_events_format::security_catalog;
mod event_registry;
mod filter;
mod gate;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
#[cfg(feature = "config")]
mod init;
pub use tracing_security_events_format::integrity;
pub use tracing_security_events_format::log_index;
mod layer;
mod macros;
#[cfg(feature = "notify")]
#[cfg_attr(docsrs, doc(cfg(feature = "notify")))]
pub mod notify;
#[cfg(any(feature = "config", feature = "notify"))]
mod notify_settings;
mod pending;
mod pipeline;
pub use tracing_security_events_format::record;
#[cfg(feature = "postgres")]
use tracing_security_events_read::postgres_table;
#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
pub use tracing_security_events_read::query;
pub mod redact;
mod report;
mod runtime_settings;
mod security_layer;
pub mod sink;
#[cfg(feature = "timestamp")]
#[cfg_attr(docsrs, doc(cfg(feature = "timestamp")))]
pub mod timestamp;
#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
pub use tracing_security_events_read::store;
// The shared format's modules the writer and readers use, under the paths they always had.
// (`json_view` is the value `query::Matcher::matches` takes: public, not a documented API.)
#[cfg(any(feature = "otlp", feature = "query"))]
#[doc(hidden)]
pub use tracing_security_events_format::json_view;
use tracing_security_events_format::{escape, glob, hex, log_files, value};

use std::path::Path;

use tracing_core::Subscriber;
use tracing_subscriber::registry::LookupSpan;

pub use builder::Builder;
pub use changes::Changes;
pub use clock::{Clock, SystemClock};
pub use error::BuildError;
pub use event::{Catalog, Category, EventInfo, Outcome, SecurityEvent, Severity, UnknownEventName};
#[cfg(feature = "config")]
#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
pub use init::{init, InitError};
pub use pipeline::{
    DerivedRecord, FlushError, FlushGuard, LogHandle, OverflowPolicy, ReopenHandle, SinkFailure,
    SinkFailurePolicy, Stats, StatsHandle, DEFAULT_FLUSH_TIMEOUT, DEFAULT_QUEUE_CAPACITY,
};
pub use record::SecurityRecord;
pub use record::{Actor, ActorKind, Tenant};
pub use security_layer::SecurityLayer;
pub use value::{is_truncated, FieldValue, DEFAULT_MAX_VALUE_LEN};

/// The `tracing` target of every event and span written by [`security_event!`] and
/// [`security_span!`], for other layers' filters (`security=off` keeps them out of a fmt layer).
pub const TARGET: &str = "security";

/// The shortcut: a layer writing JSON lines to `path`, with every other setting at its default.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// let (layer, _guard) = tracing_security_events::layer("/var/log/myapp/security.jsonl")?;
/// tracing_subscriber::registry().with(layer).init();
/// # Ok::<(), tracing_security_events::BuildError>(())
/// ```
pub fn layer<S>(path: impl AsRef<Path>) -> Result<(SecurityLayer<S>, FlushGuard), BuildError>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    Builder::new().with_file(path).build()
}

/// A [`Builder`] with the default settings.
pub fn builder() -> Builder {
    Builder::new()
}

/// The README's examples, compiled and run as doctests so that the front door never drifts.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What the macros reach through, so callers need no `tracing` import. Not a public API.
#[doc(hidden)]
pub mod _private {
    pub use tracing;
    pub use tracing_core::Level;

    /// The record encoder the worker uses, for `benches/encode.rs` to measure against
    /// `serde_json::to_writer` of the same record.
    pub fn encode_record(
        out: &mut Vec<u8>,
        record: &crate::SecurityRecord,
    ) -> serde_json::Result<()> {
        crate::record::encode_record(out, record)
    }

    /// A record read into the crate's JSON view and two of its members looked up (the
    /// lengths of `event.name` and `actor.id`), for `benches/json_view.rs` to measure against
    /// serde_json_borrow and serde_json doing the same.
    #[cfg(feature = "query")]
    pub fn json_view_members(line: &str) -> usize {
        use crate::json_view::Json;
        let Ok(Json::Object(record)) = serde_json::from_str::<Json<'_>>(line) else {
            return 0;
        };
        let member = |part: &str, key: &str| match record.get(part) {
            Some(Json::Object(object)) => object.get_str(key).map_or(0, str::len),
            _ => 0,
        };
        member("event", "name") + member("actor", "id")
    }
}
