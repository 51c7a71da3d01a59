//! Notification settings that cannot work, refused when they are made.

/// A notification setting refused: the message names what and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A webhook URL that is not `http://` or `https://` with a host.
    #[error("invalid webhook URL: {0}")]
    Url(String),
    /// A header name or value HTTP does not allow.
    #[error("invalid header {name:?}: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// An email address that does not parse.
    #[error("invalid email address {address:?}: {reason}")]
    Address {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// An email transport without recipients.
    #[error("an email transport needs at least one recipient")]
    NoRecipient,
    /// TLS settings that cannot be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// A rule sends to a transport that is not defined.
    #[error("the rule {rule:?} sends to {transport:?}, which is not a transport")]
    UnknownTransport {
        /// The rule.
        rule: String,
        /// The name it gives.
        transport: String,
    },
    /// Two transports of one name.
    #[error("two transports are named {0:?}")]
    DuplicateTransport(String),
    /// A detection's numbers that cannot work.
    #[error("the detection {detection:?}: {reason}")]
    Detection {
        /// The detection.
        detection: String,
        /// Why.
        reason: String,
    },
    /// Fleet detections whose database or table cannot be used.
    #[error("fleet detections: {0}")]
    Fleet(String),
    /// The rule thread could not be started.
    #[error("cannot start the notification thread: {0}")]
    Spawn(String),
}
