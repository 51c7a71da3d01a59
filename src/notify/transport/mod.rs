//! Where notifications go: a webhook ([`Webhook`]), email over SMTP ([`Email`]), or a function
//! in the service ([`Callback`]). Each transport runs on a delivery thread of its own, so a slow
//! one delays no other and never the rules; a failed send is retried with back-off
//! ([`Retry`](super::Retry)), then counted and recorded as `audit.notification_failed`.

mod email;
mod webhook;

pub use crate::notify_settings::{SmtpSecurity, WebhookFormat};
pub use email::{Email, EmailBuilder};
pub use webhook::Webhook;

use super::rule::Notification;

/// A way of delivering notifications.
///
/// `send` runs on the transport's own delivery thread and may block (a network round trip);
/// it should give up within its own timeout.
pub trait Transport: Send + 'static {
    /// Delivers one notification.
    fn send(&mut self, notification: &Notification) -> Result<(), TransportError>;
}

/// Why a notification could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    retry: bool,
}

impl TransportError {
    /// A failure that may pass (a timeout, a refused connection, a 5xx answer): retried.
    pub fn transient(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            retry: true,
        }
    }

    /// A failure that retrying cannot cure (a 4xx answer, an address refused): not retried.
    pub fn permanent(message: impl Into<String>) -> Self {
        TransportError {
            message: message.into(),
            retry: false,
        }
    }

    /// Whether retrying may help.
    pub fn is_transient(&self) -> bool {
        self.retry
    }
}

/// A transport that calls a function in the service: a chat client it already has, a metrics
/// counter, a test's channel.
///
/// ```
/// use std::sync::mpsc;
/// use tracing_security_events::notify::{Callback, TransportError};
///
/// let (sent, received) = mpsc::channel();
/// let transport = Callback::new(move |notification| {
///     sent.send(notification.rule.clone())
///         .map_err(|e| TransportError::permanent(e.to_string()))
/// });
/// # let _ = (transport, received);
/// ```
pub struct Callback<F> {
    function: F,
}

impl<F> Callback<F>
where
    F: FnMut(&Notification) -> Result<(), TransportError> + Send + 'static,
{
    /// A transport calling `function` for each notification.
    pub fn new(function: F) -> Self {
        Callback { function }
    }
}

impl<F> std::fmt::Debug for Callback<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Callback")
    }
}

impl<F> Transport for Callback<F>
where
    F: FnMut(&Notification) -> Result<(), TransportError> + Send + 'static,
{
    fn send(&mut self, notification: &Notification) -> Result<(), TransportError> {
        (self.function)(notification)
    }
}
