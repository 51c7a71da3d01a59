//! A batched HTTP sink (feature `http-batch`): NDJSON POSTs, Splunk's HTTP Event Collector
//! (with indexer acknowledgement), or Elasticsearch/OpenSearch `_bulk`, each record in the
//! sink's form (native, ECS or OCSF).
//!
//! Records go the way of the other shipping sinks: they wait in memory, then in spool files,
//! in order, while the receiver is away; a batch goes when it holds
//! [`with_max_records`](HttpBatchConfig::with_max_records) records or
//! [`with_max_bytes`](HttpBatchConfig::with_max_bytes) bytes, or after
//! [`with_linger`](HttpBatchConfig::with_linger); a failed request is sent again after a
//! back-off (50 ms doubling to 5 s). What the limits give up is counted and recorded
//! (`audit.events_dropped`), and so is each record the receiver refuses for what it holds
//! (a batch refused whole, with a 400, 413 or 422, or HEC's data codes, is sent again in
//! halves down to the records refused; `_bulk` names them item by item).
//!
//! A batch is sent again whole when its request fails. `_bulk` then writes nothing twice
//! (`create` with `_id` = the record's id: a record already there answers 409, counted as
//! delivered); HEC and plain NDJSON have no such key, so a request that failed after the
//! receiver took it can leave copies there (with indexer acknowledgement, HEC says which
//! batches are indexed; each record carries its `id` for a search to drop copies).

mod config;
mod protocol;

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

pub use config::{HttpBatchConfig, HttpProtocol};

use self::protocol::{Failure, Item, Sender};
use super::delivery::{ship, BatchLimits, DeliveryCounters, Outbox, Refusals, ShipperThread};
use super::{Batch, Sink, SinkLoss};
use crate::forms::OutputForm;
use crate::record::{SecurityRecord, ServiceInfo};

/// Ships batches of records over HTTP; see [`HttpBatchConfig`].
pub(crate) struct HttpBatchSink {
    outbox: Outbox,
    protocol: HttpProtocol,
    form: OutputForm,
    host: Option<String>,
    entries: Vec<u8>,
}

impl fmt::Debug for HttpBatchSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBatchSink")
            .field("name", &self.outbox.name)
            .finish_non_exhaustive()
    }
}

/// Why a batched HTTP sink cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpBatchError {
    /// The HTTP client cannot be built (a CA file that cannot be read).
    #[error("HTTP sink {url}: {source}")]
    Client {
        /// The receiver.
        url: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The spool directory cannot be used.
    #[error("HTTP sink spool {}: {source}", dir.display())]
    Spool {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The thread cannot start.
    #[error("HTTP sink: cannot start its thread: {0}")]
    Thread(#[source] io::Error),
}

impl HttpBatchSink {
    pub(crate) fn open(
        config: HttpBatchConfig,
        service: &ServiceInfo,
    ) -> Result<Self, HttpBatchError> {
        let sender = Sender::new(config.clone()).map_err(|source| HttpBatchError::Client {
            url: config.url.clone(),
            source,
        })?;
        let backlog = config
            .spool
            .open()
            .map_err(|(dir, source)| HttpBatchError::Spool { dir, source })?;
        let counters = Arc::new(DeliveryCounters::default());
        let limits = BatchLimits {
            max: config.max_records,
            max_bytes: config.max_bytes,
            linger: config.linger,
        };
        let kind = match config.protocol {
            HttpProtocol::Ndjson => "ndjson",
            HttpProtocol::SplunkHec { .. } => "splunk-hec",
            HttpProtocol::ElasticBulk { .. } => "elasticsearch",
        };
        let shipper = {
            let (backlog, counters) = (backlog.clone(), counters.clone());
            ShipperThread::spawn("security-log-http", move |stop| {
                ship(&backlog, limits, &counters, stop, &mut |entries| {
                    let items: Vec<Item<'_>> =
                        entries.iter().map(|entry| item_of(&entry.line)).collect();
                    let of_data = |failure: &Failure| match failure {
                        Failure::Data(why) => Some(why.clone()),
                        Failure::Other(_) => None,
                    };
                    let id = |item: &Item<'_>| item.id.to_owned();
                    let refusals = Refusals {
                        destination: "the HTTP receiver",
                        of_data: &of_data,
                        id: &id,
                    };
                    refusals
                        .send(&items, &counters, &mut |items| {
                            sender.send(items, &counters)
                        })
                        .map_err(|failure| match failure {
                            Failure::Data(why) | Failure::Other(why) => why,
                        })
                });
            })
            .map_err(HttpBatchError::Thread)?
        };
        Ok(HttpBatchSink {
            outbox: Outbox {
                name: format!("http:{kind}:{}", config.url),
                backlog,
                counters,
                shipper,
                report_errors: config.report_errors,
                destination: "HTTP receiver",
            },
            protocol: config.protocol,
            form: config.form,
            host: service.instance.clone(),
            entries: Vec::new(),
        })
    }
}

/// Appends the queued entry of `record`: its id, a tab, its payload (the line, or HEC's
/// envelope around it), a line feed. (JSON holds no raw tab, so the first tab ends the id.)
fn entry(
    out: &mut Vec<u8>,
    protocol: &HttpProtocol,
    host: Option<&str>,
    record: &SecurityRecord,
    line: &[u8],
) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{}\t", record.id);
    match protocol {
        HttpProtocol::SplunkHec {
            index, sourcetype, ..
        } => {
            let micros = record.timestamp.timestamp_micros();
            let _ = write!(
                out,
                "{{\"time\":{}.{:06},",
                micros.div_euclid(1_000_000),
                micros.rem_euclid(1_000_000)
            );
            if let Some(host) = host {
                let _ = write!(out, "\"host\":{},", json_text(host));
            }
            let _ = write!(
                out,
                "\"source\":\"tracing-security-events\",\"sourcetype\":{},",
                json_text(sourcetype)
            );
            if let Some(index) = index {
                let _ = write!(out, "\"index\":{},", json_text(index));
            }
            out.extend_from_slice(b"\"event\":");
            out.extend_from_slice(line);
            out.push(b'}');
        }
        _ => out.extend_from_slice(line),
    }
    out.push(b'\n');
}

fn json_text(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The id and payload of a queued entry.
fn item_of(line: &[u8]) -> Item<'_> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let tab = memchr::memchr(b'\t', line).unwrap_or(0);
    Item {
        id: std::str::from_utf8(&line[..tab]).unwrap_or(""),
        payload: &line[(tab + 1).min(line.len())..],
    }
}

impl Sink for HttpBatchSink {
    fn name(&self) -> &str {
        &self.outbox.name
    }

    fn form(&self) -> OutputForm {
        self.form
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let (protocol, host) = (&self.protocol, self.host.as_deref());
        self.outbox
            .write_rendered(batch, self.form, &mut self.entries, |out, record, line| {
                entry(out, protocol, host, record, line);
            })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.outbox.flush()
    }

    fn take_losses(&mut self) -> Vec<SinkLoss> {
        self.outbox.take_losses()
    }
}
