//! The three classifications every catalog row carries: category, severity and outcome.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use tracing_core::Level;

/// The family an event belongs to, as shown in `event.category`.
///
/// Built-in catalogs use the named variants; a service's own catalog may use
/// [`Category::Custom`] for families of its own (`Category::Custom("billing_entity")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Category {
    /// Signing in and the credentials used for it.
    Authentication,
    /// Session life cycle.
    Session,
    /// User accounts.
    User,
    /// Identifiers attached to a user (emails, phones, usernames, linked accounts).
    Identity,
    /// Access decisions.
    Authorization,
    /// Role definitions.
    Role,
    /// API keys.
    ApiKey,
    /// Outgoing webhook endpoints.
    WebhookEndpoint,
    /// Third-party integrations.
    Integration,
    /// Sensitive data access and exports.
    Data,
    /// File uploads.
    Upload,
    /// Outgoing messages (email, SMS).
    Message,
    /// Application configuration.
    Config,
    /// Attacks, abuse and failed input checks.
    Threat,
    /// Process life cycle.
    System,
    /// The security log itself.
    Audit,
    /// A family declared by a service's own catalog; lower snake case.
    Custom(&'static str),
}

impl Category {
    /// The name written in records (`"api_key"`, `"threat"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Session => "session",
            Category::User => "user",
            Category::Identity => "identity",
            Category::Authorization => "authorization",
            Category::Role => "role",
            Category::ApiKey => "api_key",
            Category::WebhookEndpoint => "webhook_endpoint",
            Category::Integration => "integration",
            Category::Data => "data",
            Category::Upload => "upload",
            Category::Message => "message",
            Category::Config => "config",
            Category::Threat => "threat",
            Category::System => "system",
            Category::Audit => "audit",
            Category::Custom(name) => name,
        }
    }
}

/// How serious an event is; decides the `tracing` level of `security_event!` and the
/// OpenTelemetry severity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "config", derive(serde::Deserialize, schemars::JsonSchema))]
#[cfg_attr(feature = "config", serde(rename_all = "lowercase"))]
pub enum Severity {
    /// Diagnostic detail (`tracing` DEBUG).
    Debug,
    /// Normal security-relevant activity (`tracing` INFO).
    Info,
    /// Suspicious or failed activity worth a look (`tracing` WARN).
    Warn,
    /// An attack, an integrity problem or a loss (`tracing` ERROR).
    Error,
    /// Needs immediate attention (`tracing` ERROR, OpenTelemetry FATAL).
    Critical,
}

impl Severity {
    /// All severities, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Critical,
    ];

    /// The name written in records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// The `tracing` level events of this severity are emitted at.
    pub const fn level(self) -> Level {
        match self {
            Severity::Debug => Level::DEBUG,
            Severity::Info => Level::INFO,
            Severity::Warn => Level::WARN,
            Severity::Error | Severity::Critical => Level::ERROR,
        }
    }

    /// The severity of an event whose name is in no catalog, from its `tracing` level.
    pub fn from_level(level: Level) -> Self {
        match level {
            Level::TRACE | Level::DEBUG => Severity::Debug,
            Level::INFO => Severity::Info,
            Level::WARN => Severity::Warn,
            _ => Severity::Error,
        }
    }

    /// The OpenTelemetry severity number (DEBUG=5, INFO=9, WARN=13, ERROR=17, FATAL=21).
    pub const fn otel_number(self) -> u8 {
        match self {
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
            Severity::Critical => 21,
        }
    }
}

/// Whether the action an event describes succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "config", derive(serde::Deserialize, schemars::JsonSchema))]
#[cfg_attr(feature = "config", serde(rename_all = "lowercase"))]
pub enum Outcome {
    /// The action succeeded.
    Success,
    /// The action failed or was refused.
    Failure,
    /// Not known, or not applicable.
    Unknown,
}

impl Outcome {
    /// The name written in records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// The error of parsing a [`Severity`] or an [`Outcome`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}, expected one of: {allowed}")]
pub struct ParseLabelError {
    kind: &'static str,
    value: String,
    allowed: &'static str,
}

impl FromStr for Severity {
    type Err = ParseLabelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLabelError {
                kind: "severity",
                value: s.to_owned(),
                allowed: "debug, info, warn, error, critical",
            })
    }
}

impl FromStr for Outcome {
    type Err = ParseLabelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Outcome::Success, Outcome::Failure, Outcome::Unknown]
            .into_iter()
            .find(|outcome| outcome.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseLabelError {
                kind: "outcome",
                value: s.to_owned(),
                allowed: "success, failure, unknown",
            })
    }
}

macro_rules! display_and_serialize_as_str {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    )*};
}

display_and_serialize_as_str!(Category, Severity, Outcome);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_and_outcome_parse_their_own_names() {
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>(), Ok(severity));
        }
        for outcome in [Outcome::Success, Outcome::Failure, Outcome::Unknown] {
            assert_eq!(outcome.to_string().parse::<Outcome>(), Ok(outcome));
        }
        let err = "fatal".parse::<Severity>().unwrap_err().to_string();
        assert!(
            err.contains("\"fatal\"") && err.contains("critical"),
            "{err}"
        );
    }

    #[test]
    fn severity_levels_follow_seriousness() {
        assert_eq!(Severity::Warn.level(), Level::WARN);
        assert_eq!(Severity::Critical.level(), Level::ERROR);
        assert_eq!(Severity::from_level(Level::TRACE), Severity::Debug);
        assert!(Severity::Info.otel_number() < Severity::Critical.otel_number());
    }
}
