//! The webhook transport: an HTTP POST of the notification's JSON body, signed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};

use super::{Transport, TransportError, WebhookFormat};
use crate::notify::rule::Notification;
use crate::notify::summary::Summary;
use crate::notify::{sign, NotifyError, SIGNATURE_HEADER};

/// How long a webhook request may take by default, connection included.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A webhook: each notification is POSTed as JSON, with the [`SIGNATURE_HEADER`] when a
/// signing key is set.
///
/// Answers 2xx are delivered; 408, 429, 5xx, timeouts and refused connections are retried;
/// other answers (4xx, and redirects, which are not followed) are failures retrying cannot
/// cure.
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::notify::Webhook;
///
/// let webhook = Webhook::new("https://hooks.example.com/security")?
///     .with_header("Authorization", "Bearer s3cr3t")?
///     .with_signing_key(b"a shared key of 32 bytes or more".to_vec())
///     .with_timeout(Duration::from_secs(5));
/// # let _ = webhook;
/// # Ok::<(), tracing_security_events::notify::NotifyError>(())
/// ```
pub struct Webhook {
    url: reqwest::Url,
    headers: HeaderMap,
    signing_key: Option<Vec<u8>>,
    timeout: Duration,
    format: WebhookFormat,
    /// Made on the delivery thread at the first send: a blocking client runs a runtime of its
    /// own, which must not be made or dropped inside the service's async code.
    client: Option<Client>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL and headers may hold credentials: only the host is shown.
        f.debug_struct("Webhook")
            .field("host", &self.url.host_str())
            .field("signed", &self.signing_key.is_some())
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A webhook POSTing to `url` (`http` or `https`).
    pub fn new(url: &str) -> Result<Webhook, NotifyError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| NotifyError::Url(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(NotifyError::Url(
                "a webhook URL is http:// or https:// with a host".to_owned(),
            ));
        }
        Ok(Webhook {
            url: parsed,
            headers: HeaderMap::new(),
            signing_key: None,
            timeout: DEFAULT_TIMEOUT,
            format: WebhookFormat::Record,
            client: None,
        })
    }

    /// One more header on every request (an `Authorization`, a routing key).
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Webhook, NotifyError> {
        let invalid = |reason: String| NotifyError::Header {
            name: name.to_owned(),
            reason,
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
        let mut value = HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?;
        value.set_sensitive(true);
        self.headers.append(header, value);
        Ok(self)
    }

    /// Signs every body with `key` (HMAC-SHA256, see [`sign`]).
    #[must_use]
    pub fn with_signing_key(mut self, key: Vec<u8>) -> Webhook {
        self.signing_key = Some(key);
        self
    }

    /// How long one request may take, connection included (10 s by default).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Webhook {
        self.timeout = timeout;
        self
    }

    /// The body's format.
    #[must_use]
    pub fn with_format(mut self, format: WebhookFormat) -> Webhook {
        self.format = format;
        self
    }

    fn body(&self, notification: &Notification) -> String {
        match self.format {
            WebhookFormat::Record => notification.webhook_body(),
            WebhookFormat::Slack => {
                let text = Summary::of(notification)
                    .text()
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                serde_json::json!({ "text": text }).to_string()
            }
        }
    }

    fn client(&mut self) -> Result<&Client, TransportError> {
        if self.client.is_none() {
            let client = Client::builder()
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| TransportError::permanent(format!("cannot make a client: {e}")))?;
            self.client = Some(client);
        }
        Ok(self.client.as_ref().expect("made above"))
    }
}

impl Transport for Webhook {
    fn send(&mut self, notification: &Notification) -> Result<(), TransportError> {
        let body = self.body(notification);
        let (url, headers) = (self.url.clone(), self.headers.clone());
        let mut request = self
            .client()?
            .post(url)
            .headers(headers)
            .header(CONTENT_TYPE, "application/json");
        if let Some(key) = &self.signing_key {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            request = request.header(SIGNATURE_HEADER, sign(key, now, body.as_bytes()));
        }
        let response = request.body(body).send().map_err(|e| {
            // Without the URL, which may carry a token.
            TransportError::transient(e.without_url().to_string())
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let message = format!("the webhook answered {status}");
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(TransportError::transient(message))
        } else {
            Err(TransportError::permanent(message))
        }
    }
}
