//! The configuration's notification keys: `[[transports]]`, `[[notifications]]` and
//! `[[detections]]` (applied with the `notify` cargo feature). Secrets are never values here:
//! a file or an environment variable holds them, and only its name is in the configuration
//! (and so in `audit.config_changed`'s diff).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::durations::{duration_text, optional_duration_text};
use crate::notify_settings::{NotifySeverity, SmtpSecurity, WebhookFormat};

/// One `[[transports]]` entry, by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum TransportConfig {
    /// An HTTP POST of each notification.
    Webhook(WebhookTransportConfig),
    /// An email over SMTP.
    Email(EmailTransportConfig),
}

impl TransportConfig {
    /// The name rules send to.
    pub fn name(&self) -> &str {
        match self {
            TransportConfig::Webhook(webhook) => &webhook.name,
            TransportConfig::Email(email) => &email.name,
        }
    }
}

/// A `type = "webhook"` transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookTransportConfig {
    /// The name rules send to.
    pub name: String,
    /// Where to POST (`https://...`); or `url_env`.
    #[serde(default)]
    pub url: Option<String>,
    /// An environment variable holding the URL, when it carries a token (Slack's do).
    #[serde(default)]
    pub url_env: Option<String>,
    /// Headers sent as they are.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers whose values are read from environment variables: `{ Authorization = "HOOK_AUTH" }`.
    #[serde(default)]
    pub headers_env: BTreeMap<String, String>,
    /// A file holding the HMAC key of the `Security-Log-Signature` header.
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
    /// An environment variable holding that key.
    #[serde(default)]
    pub signing_key_env: Option<String>,
    /// `record` (the JSON body of the contract) or `slack` (`{"text": ...}`).
    #[serde(default)]
    pub format: WebhookFormat,
    /// How long a request may take (default 10s).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Duration>,
    /// How a failed send is retried.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// A `type = "email"` transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EmailTransportConfig {
    /// The name rules send to.
    pub name: String,
    /// The SMTP server.
    pub host: String,
    /// Its port (587 for `starttls`, 465 for `tls`, 25 for `none` by default).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// A PEM file of a certificate authority to trust besides the system's (a relay with a
    /// private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The user to sign in as; with `password_file` or `password_env`.
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// The sender (`Security log <security-log@example.com>`).
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// How long each SMTP command may take (default 30s).
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Duration>,
    /// How a failed send is retried.
    #[serde(default)]
    pub retry: RetryConfig,
}

/// `retry = { retries = 3, backoff = "500ms", max_backoff = "30s" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Tries after the first.
    pub retries: u32,
    /// The wait before the first retry, doubling after each.
    #[serde(with = "duration_text")]
    #[schemars(with = "String")]
    pub backoff: Duration,
    /// The longest wait.
    #[serde(with = "duration_text")]
    #[schemars(with = "String")]
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// One `[[notifications]]` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NotificationConfig {
    /// Its name, in every notification.
    pub name: String,
    /// The records it notifies about, in the query language (`event = user.role_changed`).
    pub when: String,
    /// `notice`, `warning` (default) or `alert`.
    #[serde(default)]
    pub severity: NotifySeverity,
    /// The transports it sends through, by name; every transport when empty.
    #[serde(default)]
    pub send_to: Vec<String>,
    /// At most `max` per `window` per value of `group_by`, or `once` per value.
    #[serde(default)]
    pub throttle: Option<ThrottleConfig>,
}

/// `throttle = { max = 1, window = "10m", group_by = "client.ip" }` or
/// `throttle = { once = true, group_by = "actor.id" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Notifications per window and group (default 1).
    #[serde(default = "one")]
    pub max: u32,
    /// The window; required unless `once`.
    #[serde(default, with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub window: Option<Duration>,
    /// Once per group, ever.
    #[serde(default)]
    pub once: bool,
    /// The field whose values are the groups (the whole rule is one group without it).
    #[serde(default)]
    pub group_by: Option<String>,
}

fn one() -> u32 {
    1
}

/// `[fleet_detections]`: the detections run over a fleet's PostgreSQL table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FleetDetectionsConfig {
    /// The database; unset, the `SECURITY_LOG_DATABASE_URL` variable's.
    pub url: Option<String>,
    /// The table the fleet writes (default `security_events`).
    pub table: Option<String>,
    /// The lease's and cursors' name (default `default`).
    pub scope: Option<String>,
    /// How often the evaluator looks for new rows (default `"1s"`).
    #[serde(with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub poll: Option<Duration>,
    /// How old a row must be before it is read (default `"2s"`).
    #[serde(with = "optional_duration_text")]
    #[schemars(with = "Option<String>")]
    pub settle: Option<Duration>,
}

/// One `[[detections]]` entry, by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum DetectionConfig {
    /// At least `count` matching records of one key within `window`.
    Threshold(ThresholdDetectionConfig),
    /// Sign-ins from places too far apart for the time between them.
    ImpossibleTravel(TravelDetectionConfig),
}

/// A `type = "threshold"` detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ThresholdDetectionConfig {
    /// Its name, in `fields.detection`.
    pub name: String,
    /// The records counted (`event = authentication.failed`).
    pub when: String,
    /// The key records are counted by (`client.ip`, `actor.id`).
    pub group_by: String,
    /// How many within the window.
    pub count: u32,
    /// The window.
    #[serde(with = "duration_text")]
    #[schemars(with = "String")]
    pub window: Duration,
    /// The event written (default `authentication.failed_max`).
    #[serde(default)]
    pub writes: Option<String>,
}

/// A `type = "impossible_travel"` detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TravelDetectionConfig {
    /// Its name, in `fields.detection`.
    pub name: String,
    /// The records compared (default `event = authentication.succeeded`).
    #[serde(default)]
    pub when: Option<String>,
    /// The fastest travel believed (default 1000).
    #[serde(default)]
    pub max_speed_kmh: Option<f64>,
    /// Places closer are never reported (default 300).
    #[serde(default)]
    pub min_distance_km: Option<f64>,
    /// The event written (default `authentication.impossible_travel`).
    #[serde(default)]
    pub writes: Option<String>,
}
