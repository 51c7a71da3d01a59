//! The labels of notifications that the configuration file names, compiled with the `config`
//! feature as well as with `notify`: a configuration that asks for a notification parses
//! either way (and is refused with a clear message when `notify` is off), with one definition
//! of each label for both.

use serde::{Deserialize, Serialize};

/// How loud a notification is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "config", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotifySeverity {
    /// For the record.
    Notice,
    /// Worth a look soon.
    #[default]
    Warning,
    /// Act now.
    Alert,
}

impl NotifySeverity {
    /// Its name in bodies and configuration.
    pub const fn as_str(self) -> &'static str {
        match self {
            NotifySeverity::Notice => "notice",
            NotifySeverity::Warning => "warning",
            NotifySeverity::Alert => "alert",
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// Plain connection upgraded by STARTTLS, which must succeed (port 587).
    #[default]
    #[cfg_attr(feature = "config", serde(rename = "starttls"))]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a test server.
    None,
}

/// What the webhook's body holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum WebhookFormat {
    /// `{"rule":..,"severity":..,"suppressed":N,"record":{..}}`, the record exactly as written
    /// (ARCHITECTURE.md's contract).
    #[default]
    Record,
    /// `{"text":".."}`: what a Slack incoming webhook (and Mattermost, Rocket.Chat, Teams'
    /// Slack-compatible hooks) posts as a message, in words, with `&`, `<` and `>` escaped so
    /// that a record's value cannot mention `@channel` or forge a link.
    Slack,
}
