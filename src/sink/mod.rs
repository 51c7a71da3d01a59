//! Where records go. The writer thread hands each sink a [`Batch`] of whole records, already
//! encoded once as JSON lines (by the worker, in `seq` order); a sink writes the lines (files,
//! stdout) or maps the records (OTLP).
//!
//! A sink runs on the log's writer thread only, so it needs `Send` but not `Sync`.

mod file;
mod open;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
mod otlp_settings;
mod stdout;

use std::io;

pub(crate) use file::FileSink;
pub use file::{FileConfig, FsyncPolicy, RotationPeriod, DEFAULT_FSYNC_INTERVAL};
pub use open::OpenError;
pub(crate) use open::{ConfiguredSink, OpenedSink, SinkSpec};
pub use otlp_settings::{
    OtlpCompression, OtlpProtocol, DEFAULT_OTLP_MEMORY_LIMIT, DEFAULT_OTLP_SPOOL_LIMIT,
};
pub(crate) use stdout::StdoutSink;

use crate::record::SecurityRecord;

/// Records handed to the sinks together: the structured records and the same records encoded
/// as JSON lines, one per record, each ending in `\n`.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    records: &'a [SecurityRecord],
    json_lines: &'a [u8],
}

impl<'a> Batch<'a> {
    /// A batch; `json_lines` must hold exactly one line per record, in the same order.
    pub fn new(records: &'a [SecurityRecord], json_lines: &'a [u8]) -> Self {
        Batch {
            records,
            json_lines,
        }
    }

    /// The records, in `seq` order.
    pub fn records(&self) -> &'a [SecurityRecord] {
        self.records
    }

    /// The records as JSON lines (schema v1), ready to append to a file.
    pub fn json_lines(&self) -> &'a [u8] {
        self.json_lines
    }

    /// The JSON lines one by one, each with its `\n`.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let bytes = self.json_lines;
        let mut start = 0;
        memchr::memchr_iter(b'\n', bytes).map(move |end| {
            let line = &bytes[start..=end];
            start = end + 1;
            line
        })
    }

    /// The batch without its first `count` records.
    pub(crate) fn skip(&self, count: usize) -> Batch<'a> {
        let count = count.min(self.records.len());
        let offset = self.lines().take(count).map(<[u8]>::len).sum();
        Batch {
            records: &self.records[count..],
            json_lines: &self.json_lines[offset..],
        }
    }

    /// How many records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// A destination for security records.
///
/// Errors are counted in [`Stats::sink_errors`](crate::Stats::sink_errors) and reported; they
/// never reach the code that emitted the event.
pub trait Sink: Send + 'static {
    /// A short name for error reports (`"file:/var/log/security.jsonl"`).
    fn name(&self) -> &str;

    /// Writes a batch of whole records.
    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()>;

    /// Makes what was written durable or delivered; called on [`FlushGuard::flush`] and at
    /// shutdown.
    ///
    /// [`FlushGuard::flush`]: crate::FlushGuard::flush
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Called on the writer thread when no batch came for 100 ms, for work due by time (a
    /// periodic fsync); a busy sink sees writes instead.
    fn tick(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes and reopens the destination, for external rotation tools (`logrotate` moves the
    /// file, then asks the service to reopen it); see [`FlushGuard::reopen`](crate::FlushGuard::reopen).
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Records this sink accepted and then had to give up since the last call (a limit of its
    /// own was reached). The writer asks after every batch, and the worker then writes an
    /// `audit.events_dropped` record naming the sink.
    fn take_losses(&mut self) -> u64 {
        0
    }
}
