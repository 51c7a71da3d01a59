//! Notifications (cargo feature `notify`): rules in the query language that pick the records
//! someone must hear about, throttled per group key, and the signed JSON body a webhook
//! receives.
//!
//! This is the first part of the feature: [`Rule`], [`Rules`] (evaluation over records as
//! written, with [`Throttle`]s in bounded memory), [`webhook_body`], [`sign`] and
//! [`verify_signature`]. The rule thread on the record stream, the transports (webhook, SMTP,
//! callback), detections and their configuration build on them.
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
//! ([`webhook_body`]; the record exactly as written), signed in the header
//! `Security-Log-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, t + "." + body)>`
//! ([`sign`]). A receiver recomputes the HMAC over the time, a dot and the raw body, compares in
//! constant time, and refuses a time too far from its own clock ([`verify_signature`] does all
//! three).

mod body;
mod delivery;
mod detection;
mod error;
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

pub use body::{webhook_body, NotifySeverity};
pub use delivery::Retry;
pub use detection::{Detection, ImpossibleTravel, Threshold};
pub use error::NotifyError;
pub(crate) use log_link::LogLink;
pub use rule::{Notification, Rule, Rules, THROTTLE_GROUPS};
pub use setup::{NotifyConfig, DEFAULT_NOTIFY_FLUSH_TIMEOUT, DEFAULT_RULE_QUEUE};
pub use signature::{sign, verify_signature, SignatureError, SIGNATURE_HEADER};
pub use stats::{NotifyStats, NotifyStatsHandle};
pub use throttle::Throttle;
pub use transport::{
    Callback, Email, EmailBuilder, SmtpSecurity, Transport, TransportError, Webhook, WebhookFormat,
};
