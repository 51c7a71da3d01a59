//! Notifications and detections (cargo feature `notify`): tell someone when it matters.
//!
//! - **Rules** ([`Rule`]): a condition in the query language, a [`NotifySeverity`], the
//!   transports to send through, and a [`Throttle`] (at most N per window per group key such as
//!   `actor.id` or `client.ip`, or once per key; the next notification says how many were held
//!   back).
//! - **Transports** ([`Transport`]): a [`Webhook`] (the signed JSON body below, custom headers,
//!   a timeout, or a Slack-compatible body), [`Email`] over SMTP (STARTTLS or TLS,
//!   authentication, a subject and text rendered from the record) and a [`Callback`] in the
//!   service. A failed send is retried with back-off ([`Retry`]), then counted
//!   ([`NotifyStats::failed`]) and recorded as `audit.notification_failed`; records of that event
//!   are never notified, so a broken transport cannot start a loop.
//! - **Detections** ([`Threshold`], [`ImpossibleTravel`]): records the log raises from patterns,
//!   `authentication.failed_max` and `authentication.impossible_travel`, written to every sink
//!   like any record (so rules may notify about them), in bounded memory per detection whatever
//!   the number of keys, per tenant. Over one process's records by default; over every
//!   instance's rows of a PostgreSQL table with [`NotifyConfig::over_fleet`] (features `notify`
//!   and `postgres`, see `FleetDetections`), one instance evaluating at a time, each window
//!   raised once for the whole fleet.
//!
//! [`NotifyConfig`] gathers them for [`Builder::with_notifications`](crate::Builder::with_notifications);
//! the configuration file's `[[transports]]`, `[[notifications]]` and `[[detections]]` say the
//! same (see [`config`](crate::config)), reloadable.
//!
//! # Where it runs
//!
//! The log's writer hands every batch it writes to a queue of the rule thread (65,536 records by
//! default) and goes on: rules never slow callers or the file sink. When that queue is full, the
//! batch is not evaluated; it is counted ([`NotifyStats::overflowed`]) and an
//! `audit.events_dropped` record names the `notify` sink. The rule thread parses each record once,
//! evaluates the rules and detections, and queues notifications for one delivery thread per
//! transport (1,024 each; a full one fails the notification, recorded). `guard.flush()` and
//! shutdown wait for the rules and deliveries, at most [`NotifyConfig::with_flush_timeout`].
//! Throttle windows follow the log's clock; detection windows follow the records' timestamps.
//!
//! [`Rules`] evaluates rules over lines on their own, to try a rule on a log:
//!
//! ```
//! use std::time::Duration;
//! use chrono::Utc;
//! use tracing_security_events::notify::{NotifySeverity, Rule, Rules, Throttle};
//! use tracing_security_events::query::{Field, Query};
//!
//! let brute_force = Rule::new(
//!     "failed sign-ins",
//!     Query::parse("event = authentication.failed")?,
//!     NotifySeverity::Warning,
//! )
//! .with_throttle(Throttle::new(1, Duration::from_secs(600)), Some(Field::parse("ip")?));
//! let mut rules = Rules::new(vec![brute_force], Utc::now());
//! let line = r#"{"schema":1,"seq":1,"event":{"name":"authentication.failed"},"client":{"ip":"203.0.113.7"}}"#;
//! let first = rules.evaluate(line, Utc::now());
//! assert_eq!(first.len(), 1);
//! assert!(rules.evaluate(line, Utc::now()).is_empty()); // held back for ten minutes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The webhook body and its signature
//!
//! `POST` with `Content-Type: application/json` and
//! `{"rule":"...","severity":"notice|warning|alert","suppressed":N,"record":{schema-v1 record}}`
//! (the record exactly as written), signed in the header
//! `Security-Log-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, t + "." + body)>`
//! ([`sign`]). A receiver recomputes the HMAC over the time, a dot and the raw body, compares in
//! constant time, and refuses a time too far from its own clock ([`verify_signature`] does all
//! three).

mod body;
mod delivery;
mod detection;
mod error;
#[cfg(feature = "postgres")]
mod fleet;
mod log_link;
mod rule;
mod runner;
mod setup;
mod signature;
mod sink;
mod stats;
mod summary;
mod throttle;
mod transport;

pub use crate::notify_settings::NotifySeverity;
pub(crate) use body::webhook_body;
pub use delivery::Retry;
pub use detection::{Detection, ImpossibleTravel, Threshold};
pub use error::NotifyError;
#[cfg(feature = "postgres")]
pub use fleet::FleetDetections;
pub(crate) use log_link::LogLink;
pub use rule::{Notification, Rule, Rules, THROTTLE_GROUPS};
pub use setup::{NotifyConfig, DEFAULT_NOTIFY_FLUSH_TIMEOUT, DEFAULT_RULE_QUEUE};
pub use signature::{sign, verify_signature, SignatureError, SIGNATURE_HEADER};
pub use stats::{NotifyStats, NotifyStatsHandle};
pub use throttle::Throttle;
pub use transport::{
    Callback, Email, EmailBuilder, SmtpSecurity, Transport, TransportError, Webhook, WebhookFormat,
};
