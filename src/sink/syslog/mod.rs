//! A syslog sink (feature `syslog`): RFC 5424 messages over TCP with octet-counting framing
//! (RFC 6587), over TLS (RFC 5425) or over UDP (RFC 5426), for SIEMs and relays that take
//! syslog (rsyslog, syslog-ng, Splunk's and QRadar's syslog inputs).
//!
//! Each record is one message: PRI from the facility (`authpriv` by default) and the catalog's
//! severity (critical 2, error 3, warn 4, info 6, debug 7), the record's time, HOSTNAME (the
//! service's instance, else the machine's name), APP-NAME (the service), PROCID (the process),
//! MSGID the event's name, the structured data `[security@32473 id="<record id>"
//! seq="<seq>"]`, and MSG the record's JSON line in the sink's form (native, ECS or OCSF), its
//! non-ASCII characters as `\u` escapes.
//!
//! Delivery goes the way of the other shipping sinks: records wait in memory, then in spool
//! files, in order, while the receiver is away, and what the limits give up is counted and
//! recorded (`audit.events_dropped`). The connection is looked at before each batch, so a
//! receiver that stopped (and closed it) gets its records on the next connection instead of
//! into a dead one. Plain syslog has no acknowledgement: a receiver that dies between that
//! look and the write loses the batch; for a stronger promise, ship OTLP or use PostgreSQL.
//! Over UDP nothing is acknowledged at all, and a message longer than the datagram limit is
//! cut, counted and recorded.
//!
//! Receivers cut long messages too: rsyslog at its `maxMessageSize` (8 KiB by default), which
//! a record with long values passes. Set it above the longest record the service writes (each
//! value is at most the builder's `max_value_len`, 16 KiB by default).

mod config;
mod connection;
mod message;

use std::fmt;
use std::io;
use std::sync::Arc;

pub use crate::sink::Facility;
pub use config::{SyslogConfig, SyslogTransport, TlsFiles, DEFAULT_MAX_DATAGRAM};

use self::connection::{Connection, TlsSetup};
use self::message::{write_message, Header};
use super::delivery::{ship, Backlog, BatchLimits, DeliveryCounters, Outbox, ShipperThread};
use super::{Batch, Sink, SinkLoss};
use crate::forms::OutputForm;
use crate::record::ServiceInfo;

/// Messages per write, and bytes, at most.
const MAX_BATCH: usize = 512;
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// Ships records to a syslog receiver; see [`SyslogConfig`].
pub(crate) struct SyslogSink {
    outbox: Outbox,
    header: Header,
    form: OutputForm,
    messages: Vec<u8>,
}

impl fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogSink")
            .field("name", &self.outbox.name)
            .finish_non_exhaustive()
    }
}

/// Why a syslog sink cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyslogError {
    /// A TLS file cannot be read or used.
    #[error("syslog sink {address}: {source}")]
    Tls {
        /// The receiver.
        address: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The spool directory cannot be used.
    #[error("syslog sink spool {}: {source}", dir.display())]
    Spool {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The thread cannot start.
    #[error("syslog sink: cannot start its thread: {0}")]
    Thread(#[source] io::Error),
}

impl SyslogSink {
    /// Starts the sink's thread; the first connection is made when the first records wait.
    pub(crate) fn open(config: SyslogConfig, service: &ServiceInfo) -> Result<Self, SyslogError> {
        let host = host_of(&config.address);
        let tls =
            match &config.transport {
                SyslogTransport::Tls(files) => Some(TlsSetup::new(files, host).map_err(
                    |source| SyslogError::Tls {
                        address: config.address.clone(),
                        source,
                    },
                )?),
                _ => None,
            };
        let backlog = config
            .spool
            .open()
            .map_err(|(dir, source)| SyslogError::Spool { dir, source })?;
        let counters = Arc::new(DeliveryCounters::default());
        let hostname = config
            .hostname
            .clone()
            .or_else(|| service.instance.clone())
            .or_else(|| {
                hostname::get()
                    .ok()
                    .map(|name| name.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
        let app_name = config
            .app_name
            .clone()
            .or_else(|| service.name.clone())
            .unwrap_or_default();
        let header = Header::new(
            config.facility.code(),
            &hostname,
            &app_name,
            std::process::id(),
        );
        let transport_name = match config.transport {
            SyslogTransport::Tcp => "tcp",
            SyslogTransport::Tls(_) => "tls",
            SyslogTransport::Udp { .. } => "udp",
        };
        let shipper = {
            let (backlog, counters) = (backlog.clone(), counters.clone());
            let (address, transport) = (config.address.clone(), config.transport.clone());
            ShipperThread::spawn("security-log-syslog", move |stop| {
                deliver_all(
                    &address,
                    &transport,
                    tls.as_ref(),
                    &backlog,
                    &counters,
                    stop,
                );
            })
            .map_err(SyslogError::Thread)?
        };
        Ok(SyslogSink {
            outbox: Outbox {
                name: format!("syslog:{transport_name}:{}", config.address),
                backlog,
                counters,
                shipper,
                report_errors: config.report_errors,
                destination: "syslog receiver",
            },
            header,
            form: config.form,
            messages: Vec::new(),
        })
    }
}

/// The host part of `host:port` (`[v6]:port` too).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The shipper's loop: connects when records wait, sends them, reconnects after a failure or
/// once the receiver closed the connection.
fn deliver_all(
    address: &str,
    transport: &SyslogTransport,
    tls: Option<&TlsSetup>,
    backlog: &Backlog,
    counters: &DeliveryCounters,
    stop: &std::sync::atomic::AtomicBool,
) {
    let max_datagram = match transport {
        SyslogTransport::Udp { max_datagram } => *max_datagram,
        _ => usize::MAX,
    };
    let mut connection: Option<Connection> = None;
    let limits = BatchLimits {
        max: MAX_BATCH,
        max_bytes: MAX_BATCH_BYTES,
        linger: std::time::Duration::ZERO,
    };
    ship(backlog, limits, counters, stop, &mut |entries| {
        if connection.as_mut().is_some_and(Connection::closed_by_peer) {
            connection = None;
        }
        let open = match &mut connection {
            Some(open) => open,
            None => connection.insert(
                Connection::open(address, transport, tls)
                    .map_err(|e| format!("cannot connect to {address}: {e}"))?,
            ),
        };
        let messages: Vec<&[u8]> = entries
            .iter()
            .map(|entry| entry.line.strip_suffix(b"\n").unwrap_or(&entry.line))
            .collect();
        match open.send(&messages, max_datagram) {
            Ok(cut) => {
                for _ in 0..cut {
                    counters.refuse(format!(
                        "a message longer than {max_datagram} bytes was cut to fit a UDP \
                         datagram (the whole record is in the log's other sinks)"
                    ));
                }
                Ok(entries.len() as u64)
            }
            Err(err) => {
                connection = None;
                Err(format!("sending to {address}: {err}"))
            }
        }
    });
}

impl Sink for SyslogSink {
    fn name(&self) -> &str {
        &self.outbox.name
    }

    fn form(&self) -> OutputForm {
        self.form
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let header = &self.header;
        self.outbox
            .write_rendered(batch, self.form, &mut self.messages, |out, record, line| {
                write_message(out, header, record, line);
            })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.outbox.flush()
    }

    fn take_losses(&mut self) -> Vec<SinkLoss> {
        self.outbox.take_losses()
    }
}
