//! The email transport: one message per notification over SMTP (lettre), its subject and text
//! rendered from the record.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};

use super::{SmtpSecurity, Transport, TransportError};
use crate::notify::rule::Notification;
use crate::notify::summary::Summary;
use crate::notify::NotifyError;

impl SmtpSecurity {
    fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// Email over SMTP: one plain-text message per notification to every recipient, the subject
/// `[alert] <rule>: <event> by <actor>` and the text naming what happened, who, from where and
/// when, then the record as written.
///
/// ```
/// use tracing_security_events::notify::{Email, SmtpSecurity};
///
/// let email = Email::builder("smtp.example.com", "Security log <security-log@example.com>")
///     .security(SmtpSecurity::StartTls)
///     .credentials("alerts", "the password, read from a file")
///     .to("secops@example.com")
///     .build()?;
/// # let _ = email;
/// # Ok::<(), tracing_security_events::notify::NotifyError>(())
/// ```
pub struct Email {
    transport: SmtpTransport,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

/// The settings of an [`Email`] transport.
pub struct EmailBuilder {
    host: String,
    port: Option<u16>,
    security: SmtpSecurity,
    credentials: Option<(String, String)>,
    from: String,
    to: Vec<String>,
    timeout: Duration,
    root_certificates: Vec<Vec<u8>>,
}

impl std::fmt::Debug for EmailBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

impl Email {
    /// Settings for messages from `from` (`name <address>` or an address) through the SMTP
    /// server at `host`.
    pub fn builder(host: impl Into<String>, from: impl Into<String>) -> EmailBuilder {
        EmailBuilder {
            host: host.into(),
            port: None,
            security: SmtpSecurity::default(),
            credentials: None,
            from: from.into(),
            to: Vec::new(),
            timeout: Duration::from_secs(30),
            root_certificates: Vec::new(),
        }
    }

    fn message(&self, notification: &Notification) -> Result<Message, TransportError> {
        let summary = Summary::of(notification);
        let mut text = summary.lines.join("\n");
        text.push_str("\n\nThe record as written:\n");
        text.push_str(&notification.record);
        text.push('\n');
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(summary.subject);
        for to in &self.to {
            message = message.to(to.clone());
        }
        message
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| TransportError::permanent(format!("cannot write the message: {e}")))
    }
}

impl EmailBuilder {
    /// The server's port (587 for STARTTLS, 465 for TLS, 25 without by default).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// How the connection is protected (STARTTLS by default).
    #[must_use]
    pub fn security(mut self, security: SmtpSecurity) -> Self {
        self.security = security;
        self
    }

    /// Signs in with `user` and `password`.
    #[must_use]
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// One more recipient.
    #[must_use]
    pub fn to(mut self, address: impl Into<String>) -> Self {
        self.to.push(address.into());
        self
    }

    /// How long each SMTP command may take (30 s by default).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts the certificate authority in `pem` besides the system's: a relay inside the
    /// company with a private CA.
    #[must_use]
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Checks the addresses and the TLS settings.
    pub fn build(self) -> Result<Email, NotifyError> {
        let mailbox = |address: &str| {
            address
                .parse::<Mailbox>()
                .map_err(|e| NotifyError::Address {
                    address: address.to_owned(),
                    reason: e.to_string(),
                })
        };
        let from = mailbox(&self.from)?;
        let to = self
            .to
            .iter()
            .map(|address| mailbox(address))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(NotifyError::NoRecipient);
        }
        let tls = || {
            let mut parameters = TlsParameters::builder(self.host.clone());
            for pem in &self.root_certificates {
                let certificate =
                    Certificate::from_pem(pem).map_err(|e| NotifyError::Tls(e.to_string()))?;
                parameters = parameters.add_root_certificate(certificate);
            }
            parameters
                .build()
                .map_err(|e| NotifyError::Tls(e.to_string()))
        };
        let tls = match self.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut transport = SmtpTransport::builder_dangerous(&self.host)
            .port(self.port.unwrap_or(self.security.default_port()))
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some((user, password)) = self.credentials {
            transport = transport.credentials(Credentials::new(user, password));
        }
        Ok(Email {
            transport: transport.build(),
            from,
            to,
        })
    }
}

impl Transport for Email {
    fn send(&mut self, notification: &Notification) -> Result<(), TransportError> {
        let message = self.message(notification)?;
        self.transport.send(&message).map(drop).map_err(|e| {
            let text = format!("SMTP: {e}");
            if e.is_permanent() {
                TransportError::permanent(text)
            } else {
                TransportError::transient(text)
            }
        })
    }
}
