//! Where records go. The writer thread hands each sink a [`Batch`] of whole records, already
//! encoded once as JSON lines (by the worker, in `seq` order); a sink writes the lines (files,
//! stdout) or maps the records (OTLP).
//!
//! A sink runs on the log's writer thread only, so it needs `Send` but not `Sync`.
//!
//! # Files: rotation, retention, durability, failures
//!
//! A security team must be able to rely on the files: that they do not fill the disk, survive a
//! crash, carry no secrets in clear, and show any tampering. Each file sink is configured with a
//! `FileConfig`:
//!
//! ```no_run
//! use std::time::Duration;
//! use tracing_security_events::sink::{FileConfig, FsyncPolicy, RotationPeriod};
//!
//! let file = FileConfig::new("/var/log/myapp/security.jsonl")
//!     .rotate_at_size(100 * 1024 * 1024)          // and/or
//!     .rotate_every(RotationPeriod::Daily)
//!     .keep_files(30)                              // and/or
//!     .keep_for(Duration::from_secs(90 * 24 * 3600))
//!     .fsync(FsyncPolicy::Interval(Duration::from_secs(1)))
//!     .with_chain_key(std::fs::read("/etc/myapp/chain.key")?);
//! let (layer, guard) = tracing_security_events::builder()
//!     .with_file_config(file)
//!     .build::<tracing_subscriber::Registry>()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | setting | default |
//! |---|---|
//! | rotation | none; by size (`rotate_at_size`), by UTC hour or day (`rotate_every`), or both |
//! | retention | keep everything; `keep_files(n)` and/or `keep_for(age)` |
//! | fsync | `Interval(1 s)`; `Never`; `Always` |
//! | hash chain | on, SHA-256; keyed with `with_chain_key`; off with `without_chain` |
//!
//! **Rotation and retention.** The active file always has the configured name (so `tail -F`
//! works); a rotated file is renamed with the moment it was rotated,
//! `security.2026-11-22T10-15-30.123456Z.jsonl`, so names sort in write order. A record is never
//! split: a batch is cut between records when the size limit is reached, and a record larger than
//! the limit gets a file of its own. Time rotation follows the records' timestamps, so a file holds
//! the records of one period even when they are written a moment later. Retention prunes at
//! start-up and at every rotation, so files left by earlier runs are pruned too, and a restart in a
//! later period rotates the file left from the earlier one at once. Rotation, retention and record
//! timestamps read one clock, `Builder::with_clock`, which tests replace.
//!
//! **Durability.** `fsync` runs at most every interval after writes (group commit), after every
//! batch (`Always`: `security_event!` returns only once its record is on disk), or never. The
//! interval's sync runs on a thread of its own, so writing goes on while the disk works; a failed
//! one is counted and reported like a failed write, and the next write syncs again. `flush` and
//! rotation wait for it. A crash
//! (SIGKILL at any moment) leaves only whole lines, except possibly a last line cut short. The next
//! start finds it, closes it with a line feed (no record is ever glued to it), leaves it as
//! evidence, reports it on stderr and writes a `system.crash` record naming the file; the chain
//! continues from the last whole record. `e2e/tests/durability.rs` kills a writer under `fsync=always`
//! at random moments, twelve times over, and checks that every record the writer had reported
//! written is in the file and that the chain verifies.
//!
//! **When a sink cannot write** (a full disk, a removed directory), the batch is retried with
//! back-off (50 ms doubling to 2 s) until it is written, and writing resumes by itself when the
//! cause goes away. A write that failed midway is cut off again, so the retry writes whole lines.
//! The failures are counted (`Stats::sink_errors`) and reported on stderr. You choose:
//!
//! | policy | while the sink cannot write |
//! |---|---|
//! | `SinkFailurePolicy::FailOpen` (default) | `security_event!` returns at once; records wait in the queue; once it is full, the overflow policy applies (`Block`: callers wait, `Drop`: counted and reported) |
//! | `SinkFailurePolicy::FailClosed` | `security_event!` returns only once its record is written |
//!
//! At shutdown, a sink still failing after the flush timeout is given up on; its records are
//! counted as dropped, never lost silently. A file deleted or replaced under the log (a removed
//! directory, `logrotate`) is noticed at the next write, which goes to a new file at the same path.
//! For `logrotate`, call `guard.reopen()` (for example from a SIGHUP handler), with `create 0600` in
//! the `logrotate` configuration.
//!
//!

#[cfg(any(
    feature = "otlp",
    feature = "postgres",
    feature = "syslog",
    feature = "http-batch"
))]
mod delivery;
mod file;
#[cfg(feature = "http-batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-batch")))]
pub mod http_batch;
mod open;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
pub mod otlp;
mod otlp_settings;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(any(
    feature = "otlp",
    feature = "postgres",
    feature = "syslog",
    feature = "http-batch"
))]
mod spool;
mod stdout;
#[cfg(feature = "syslog")]
#[cfg_attr(docsrs, doc(cfg(feature = "syslog")))]
pub mod syslog;
mod syslog_settings;

use std::io;

pub(crate) use file::FileSink;
pub use file::{
    CheckpointConfig, FileConfig, FsyncPolicy, RotationPeriod, DEFAULT_CHECKPOINT_INTERVAL,
    DEFAULT_CHECKPOINT_RECORDS, DEFAULT_FSYNC_INTERVAL, DEFAULT_KEY_EPOCH,
};
pub use open::OpenError;
pub(crate) use open::{ConfiguredSink, OpenedSink, SinkSpec};
pub use otlp_settings::{OtlpCompression, OtlpProtocol};
#[cfg(any(
    feature = "otlp",
    feature = "postgres",
    feature = "syslog",
    feature = "http-batch"
))]
pub use spool::SpoolConfig;
pub(crate) use stdout::StdoutSink;
pub use syslog_settings::{Facility, SyslogTransportName};

use crate::forms::OutputForm;
use crate::record::SecurityRecord;

/// Records handed to the sinks together: the structured records and the same records encoded
/// as JSON lines, one per record, each ending in `\n`: in the native form always, and in the
/// ECS and OCSF forms when a sink of the log writes them.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    records: &'a [SecurityRecord],
    json_lines: &'a [u8],
    ecs: Option<&'a [u8]>,
    ocsf: Option<&'a [u8]>,
}

impl<'a> Batch<'a> {
    /// A batch; `json_lines` must hold exactly one line per record, in the same order.
    pub fn new(records: &'a [SecurityRecord], json_lines: &'a [u8]) -> Self {
        Batch {
            records,
            json_lines,
            ecs: None,
            ocsf: None,
        }
    }

    /// The batch with the same records in `form` too (one line per record, in order).
    pub fn with_form(mut self, form: OutputForm, lines: &'a [u8]) -> Self {
        match form {
            OutputForm::Native => self.json_lines = lines,
            OutputForm::Ecs => self.ecs = Some(lines),
            OutputForm::Ocsf => self.ocsf = Some(lines),
        }
        self
    }

    /// The records, in `seq` order.
    pub fn records(&self) -> &'a [SecurityRecord] {
        self.records
    }

    /// The records as JSON lines (schema v1), ready to append to a file.
    pub fn json_lines(&self) -> &'a [u8] {
        self.json_lines
    }

    /// The records as JSON lines in `form`; `None` when no sink of the log asked for it (the
    /// log encodes each form its sinks declare with [`Sink::form`]).
    pub fn lines_in(&self, form: OutputForm) -> Option<&'a [u8]> {
        match form {
            OutputForm::Native => Some(self.json_lines),
            OutputForm::Ecs => self.ecs,
            OutputForm::Ocsf => self.ocsf,
        }
    }

    /// [`lines_in`](Self::lines_in), or the error a sink returns when the batch lacks its form.
    pub(crate) fn require(&self, form: OutputForm) -> io::Result<&'a [u8]> {
        self.lines_in(form)
            .ok_or_else(|| io::Error::other(format!("the batch is not encoded in the {form} form")))
    }

    /// The JSON lines one by one, each with its `\n`.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        split_lines(self.json_lines)
    }

    /// The lines in `form` one by one (none when the batch does not hold that form).
    pub fn lines_of(&self, form: OutputForm) -> impl Iterator<Item = &'a [u8]> + 'a {
        split_lines(self.lines_in(form).unwrap_or_default())
    }

    /// The batch without its first `count` records.
    pub(crate) fn skip(&self, count: usize) -> Batch<'a> {
        let count = count.min(self.records.len());
        let rest = |lines: &'a [u8]| {
            let offset: usize = split_lines(lines).take(count).map(<[u8]>::len).sum();
            &lines[offset..]
        };
        Batch {
            records: &self.records[count..],
            json_lines: rest(self.json_lines),
            ecs: self.ecs.map(rest),
            ocsf: self.ocsf.map(rest),
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

/// `bytes` cut after each line feed.
pub(crate) fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut start = 0;
    memchr::memchr_iter(b'\n', bytes).map(move |end| {
        let line = &bytes[start..=end];
        start = end + 1;
        line
    })
}

/// Records a sink gave up, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkLoss {
    /// How many.
    pub records: u64,
    /// Why (`"past the memory and spool limits"`, the destination's refusal).
    pub reason: String,
}

impl SinkLoss {
    /// `records` given up for `reason`.
    pub fn new(records: u64, reason: impl Into<String>) -> Self {
        SinkLoss {
            records,
            reason: reason.into(),
        }
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

    /// The form this sink writes records in: the log encodes each batch in it
    /// ([`Batch::lines_in`]). Native unless the sink says otherwise.
    fn form(&self) -> OutputForm {
        OutputForm::Native
    }

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
    /// own was reached, the destination refused one), with why. The writer asks after every
    /// batch, and the worker then writes an `audit.events_dropped` record naming the sink and
    /// the reason.
    fn take_losses(&mut self) -> Vec<SinkLoss> {
        Vec::new()
    }

    /// The `seq` of the last record this sink holds from an earlier run of this instance, if it
    /// knows (the PostgreSQL sink reads it from its table): numbering continues after the
    /// largest any sink gives, so `seq` stays unique per instance across restarts.
    fn last_seq(&self) -> Option<u64> {
        None
    }

    /// Records this sink wants written now, which it then fills in when asked to
    /// [`complete`](Sink::complete) them: the file sink's checkpoints and retention records,
    /// whose content only the sink knows. Asked after every batch and at every tick.
    #[doc(hidden)]
    fn take_requests(&mut self) -> Vec<RecordRequest> {
        Vec::new()
    }

    /// Fills in a record this sink asked for, before any sink writes it; `false` when it is
    /// not this sink's to fill.
    #[doc(hidden)]
    fn complete(
        &mut self,
        _request: RecordRequest,
        _record: &mut SecurityRecord,
    ) -> io::Result<bool> {
        Ok(false)
    }

    /// The log is about to shut down: a last request may follow (the final checkpoint).
    #[doc(hidden)]
    fn closing(&mut self) {}
}

/// A record a sink asks the log to write and then fills in.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRequest {
    /// An `audit.checkpoint` record.
    Checkpoint,
    /// An `audit.files_removed` record.
    FilesRemoved,
    /// An `audit.key_rotated` record.
    KeyRotated,
}
