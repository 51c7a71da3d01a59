//! The settings of a syslog sink.

use std::path::PathBuf;

use crate::forms::OutputForm;
use crate::sink::{Facility, SpoolConfig};

/// How records travel to the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyslogTransport {
    /// TCP, each message framed by its length (RFC 6587 octet counting).
    Tcp,
    /// The same over TLS (RFC 5425).
    Tls(TlsFiles),
    /// One UDP datagram per message (RFC 5426): no delivery guarantee; a message longer than
    /// `max_datagram` bytes is cut, counted and recorded.
    Udp {
        /// The longest datagram sent (RFC 5426: at least 480 bytes must be accepted, 2048
        /// should be).
        max_datagram: usize,
    },
}

/// The files of a TLS connection: a private CA the receiver's certificate must chain to (the
/// system's roots without one), and a client certificate and key (PEM, PKCS#8) when the
/// receiver asks for one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// The CA certificate (PEM).
    pub ca_file: Option<PathBuf>,
    /// The client certificate (PEM).
    pub cert_file: Option<PathBuf>,
    /// Its private key (PEM, PKCS#8).
    pub key_file: Option<PathBuf>,
    /// The name the receiver's certificate must hold; the address's host without one.
    pub server_name: Option<String>,
}

/// A syslog sink: where, how, and in which form.
///
/// ```
/// use tracing_security_events::forms::OutputForm;
/// use tracing_security_events::sink::syslog::SyslogConfig;
/// use tracing_security_events::sink::{Facility, SpoolConfig};
///
/// let syslog = SyslogConfig::tls("siem.example.net:6514")
///     .with_ca_file("/etc/myapp/siem-ca.pem")
///     .with_client_certificate("/etc/myapp/client.pem", "/etc/myapp/client.key")
///     .with_facility(Facility::Authpriv)
///     .in_form(OutputForm::Ecs)
///     .with_spool(SpoolConfig::new().with_dir("/var/spool/myapp/syslog"));
/// let builder = tracing_security_events::builder().with_syslog(syslog);
/// # let _ = builder;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    pub(crate) address: String,
    pub(crate) transport: SyslogTransport,
    pub(crate) facility: Facility,
    pub(crate) app_name: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) form: OutputForm,
    pub(crate) spool: SpoolConfig,
    pub(crate) report_errors: bool,
}

/// The default longest UDP datagram: the size RFC 5426 says receivers should accept.
pub const DEFAULT_MAX_DATAGRAM: usize = 2048;

impl SyslogConfig {
    fn new(address: impl Into<String>, transport: SyslogTransport) -> Self {
        SyslogConfig {
            address: address.into(),
            transport,
            facility: Facility::Authpriv,
            app_name: None,
            hostname: None,
            form: OutputForm::Native,
            spool: SpoolConfig::new(),
            report_errors: true,
        }
    }

    /// To `address` (`host:port`, usually 514 or 601) over TCP, octet-counted.
    pub fn tcp(address: impl Into<String>) -> Self {
        SyslogConfig::new(address, SyslogTransport::Tcp)
    }

    /// To `address` (usually port 6514) over TLS, trusting the system's roots until
    /// [`with_ca_file`](Self::with_ca_file).
    pub fn tls(address: impl Into<String>) -> Self {
        SyslogConfig::new(address, SyslogTransport::Tls(TlsFiles::default()))
    }

    /// To `address` over UDP: datagrams of at most [`DEFAULT_MAX_DATAGRAM`] bytes.
    pub fn udp(address: impl Into<String>) -> Self {
        SyslogConfig::new(
            address,
            SyslogTransport::Udp {
                max_datagram: DEFAULT_MAX_DATAGRAM,
            },
        )
    }

    fn tls_files(&mut self) -> &mut TlsFiles {
        if !matches!(self.transport, SyslogTransport::Tls(_)) {
            self.transport = SyslogTransport::Tls(TlsFiles::default());
        }
        match &mut self.transport {
            SyslogTransport::Tls(files) => files,
            _ => unreachable!("set just above"),
        }
    }

    /// Trusts only the CA in `path` (PEM) for the receiver's certificate. Turns TLS on.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls_files().ca_file = Some(path.into());
        self
    }

    /// Presents the client certificate in `cert` with its key in `key` (PEM, PKCS#8). Turns
    /// TLS on.
    #[must_use]
    pub fn with_client_certificate(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        let files = self.tls_files();
        files.cert_file = Some(cert.into());
        files.key_file = Some(key.into());
        self
    }

    /// The name the receiver's certificate must hold, when not the address's host. Turns TLS
    /// on.
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_files().server_name = Some(name.into());
        self
    }

    /// The longest UDP datagram sent (UDP only).
    #[must_use]
    pub fn with_max_datagram(mut self, bytes: usize) -> Self {
        if let SyslogTransport::Udp { max_datagram } = &mut self.transport {
            *max_datagram = bytes.max(480);
        }
        self
    }

    /// The facility (default `authpriv`).
    #[must_use]
    pub fn with_facility(mut self, facility: Facility) -> Self {
        self.facility = facility;
        self
    }

    /// APP-NAME (default: the service's name).
    #[must_use]
    pub fn with_app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// HOSTNAME (default: the service's instance, else this machine's name).
    #[must_use]
    pub fn with_hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = Some(name.into());
        self
    }

    /// MSG in `form` (default native).
    #[must_use]
    pub fn in_form(mut self, form: OutputForm) -> Self {
        self.form = form;
        self
    }

    /// What the sink holds while the receiver is away (memory, then spool files).
    #[must_use]
    pub fn with_spool(mut self, spool: SpoolConfig) -> Self {
        self.spool = spool;
        self
    }

    /// Whether delivery errors are also printed on stderr (the builder's setting).
    pub(crate) fn report_errors(mut self, report: bool) -> Self {
        self.report_errors = report;
        self
    }

    /// The receiver's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The transport.
    pub fn transport(&self) -> &SyslogTransport {
        &self.transport
    }
}
