//! The guard that keeps the worker running and flushes it on the way out.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Counters, LogHandle, Message, Reply, Stats, StatsHandle};

/// A sink that failed an operation (a flush, a sync, a reopen), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SinkFailure {
    /// The sink returned an I/O error.
    #[error("{sink}: {message}")]
    Io {
        /// The sink's name (`"file:/var/log/security.jsonl"`).
        sink: String,
        /// The error's kind (`StorageFull`, `PermissionDenied`, ...).
        kind: std::io::ErrorKind,
        /// The error as it was reported.
        message: String,
    },
    /// The sink panicked; the writer caught it and went on.
    #[error("{sink}: panicked: {message}")]
    Panicked {
        /// The sink's name.
        sink: String,
        /// The panic's message.
        message: String,
    },
}

impl SinkFailure {
    pub(super) fn from_io(sink: &str, error: &std::io::Error) -> Self {
        SinkFailure::Io {
            sink: sink.to_owned(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    /// The sink's name.
    pub fn sink(&self) -> &str {
        match self {
            SinkFailure::Io { sink, .. } | SinkFailure::Panicked { sink, .. } => sink,
        }
    }

    /// The I/O error's kind, when the sink returned one.
    pub fn kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            SinkFailure::Io { kind, .. } => Some(*kind),
            SinkFailure::Panicked { .. } => None,
        }
    }

    /// What went wrong, without the sink's name.
    pub fn reason(&self) -> std::borrow::Cow<'_, str> {
        match self {
            SinkFailure::Io { message, .. } => message.into(),
            SinkFailure::Panicked { message, .. } => format!("panicked: {message}").into(),
        }
    }
}

/// Why a flush or a shutdown did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlushError {
    /// The worker did not finish within the flush timeout (a stalled sink, a full disk).
    #[error(
        "the security log did not flush within {timeout:?}: {queued} records were still queued"
    )]
    TimedOut {
        /// The timeout that ran out.
        timeout: Duration,
        /// Records accepted and not yet written at that moment (see [`Stats::queued`]).
        queued: usize,
    },
    /// Everything was handed to the sinks, but some could not make it durable or delivered.
    #[error("security log sinks failed to flush: {}", describe(.0))]
    Sinks(Vec<SinkFailure>),
    /// The worker is not running: the log was already shut down.
    #[error("the security log worker is not running (already shut down)")]
    WorkerGone,
}

fn describe(failures: &[SinkFailure]) -> String {
    failures
        .iter()
        .map(SinkFailure::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Keeps the security log's worker running; flushes every sink and stops it when dropped.
///
/// Hold it for as long as the service runs, typically in `main`:
/// `let (layer, _guard) = ...;` keeps it, while `let _ = ...` or `let (layer, _) = ...` would
/// drop it at once, stopping the log before the first event. Dropping waits at most the flush
/// timeout (5 s by default, see [`Builder::with_flush_timeout`](crate::Builder::with_flush_timeout))
/// and reports on stderr whatever could not be flushed; call [`shutdown`](FlushGuard::shutdown)
/// to get that report as a value.
#[must_use = "dropping the guard stops the security log at once; bind it with `let _guard = ...`"]
#[derive(Debug)]
pub struct FlushGuard {
    sender: Sender<Message>,
    counters: Arc<Counters>,
    /// Tells a worker stuck retrying a failed sink to give up: set when shutdown times out.
    abandon: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
    timeout: Duration,
    report_errors: bool,
    /// For records the log raises itself.
    log: LogHandle,
}

impl FlushGuard {
    pub(super) fn new(
        sender: Sender<Message>,
        counters: Arc<Counters>,
        abandon: Arc<AtomicBool>,
        worker: JoinHandle<()>,
        timeout: Duration,
        report_errors: bool,
        log: LogHandle,
    ) -> Self {
        FlushGuard {
            sender,
            counters,
            abandon,
            worker: Some(worker),
            timeout,
            report_errors,
            log,
        }
    }

    /// A handle for records the log raises itself, outside any `tracing` event (see
    /// [`LogHandle`]).
    pub fn log_handle(&self) -> LogHandle {
        self.log.clone()
    }

    /// The counters as they are now.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot(self.sender.len())
    }

    /// A cloneable reader of the counters that stays valid after shutdown.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle::new(self.counters.clone(), self.sender.clone())
    }

    /// Waits until every record queued before this call is written and every sink flushed, for at
    /// most the flush timeout.
    pub fn flush(&self) -> Result<Stats, FlushError> {
        if self.worker.is_none() {
            return Err(FlushError::WorkerGone);
        }
        self.round_trip(Message::Flush)
    }

    /// A cloneable handle that does what [`reopen`](FlushGuard::reopen) does, for a signal
    /// handler thread.
    pub fn reopen_handle(&self) -> ReopenHandle {
        ReopenHandle {
            sender: self.sender.clone(),
            counters: self.counters.clone(),
            timeout: self.timeout,
        }
    }

    /// Writes everything queued, then closes and reopens every sink's destination: call it when
    /// an external tool (`logrotate` with `create`) has moved the file away, typically from a
    /// SIGHUP handler. Waits at most the flush timeout.
    pub fn reopen(&self) -> Result<Stats, FlushError> {
        if self.worker.is_none() {
            return Err(FlushError::WorkerGone);
        }
        self.round_trip(Message::Reopen)
    }

    /// Writes everything queued, flushes every sink and stops the worker, within the flush
    /// timeout; a sink still failing then is given up on, and its records counted as dropped.
    /// Records emitted afterwards are counted as dropped.
    pub fn shutdown(mut self) -> Result<Stats, FlushError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<Stats, FlushError> {
        let Some(worker) = self.worker.take() else {
            return Err(FlushError::WorkerGone);
        };
        let result = self.round_trip(Message::Shutdown);
        match result {
            // The worker has answered and is returning; joining cannot wait long.
            Ok(_) | Err(FlushError::Sinks(_)) => {
                let _ = worker.join();
            }
            // Let a worker retrying a broken sink give up rather than outlive the service.
            Err(_) => self.abandon.store(true, Ordering::Relaxed),
        }
        result
    }

    fn round_trip(&self, message: impl FnOnce(Reply) -> Message) -> Result<Stats, FlushError> {
        ask_worker(&self.sender, &self.counters, message, self.timeout).map(|()| self.stats())
    }
}

/// Sends the worker a message carrying a reply channel and waits for the answer, both within
/// `timeout`.
pub(super) fn ask_worker(
    sender: &Sender<Message>,
    counters: &Counters,
    message: impl FnOnce(Reply) -> Message,
    timeout: Duration,
) -> Result<(), FlushError> {
    let deadline = Instant::now() + timeout;
    let (reply, answer) = bounded(1);
    let timed_out = || FlushError::TimedOut {
        timeout,
        queued: counters.backlog(sender.len()),
    };
    sender
        .send_deadline(message(reply), deadline)
        .map_err(|err| match err {
            crossbeam_channel::SendTimeoutError::Timeout(_) => timed_out(),
            crossbeam_channel::SendTimeoutError::Disconnected(_) => FlushError::WorkerGone,
        })?;
    match answer.recv_deadline(deadline) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(failures)) => Err(FlushError::Sinks(failures)),
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(timed_out()),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(FlushError::WorkerGone),
    }
}

/// Reopens every sink's destination, from any thread; see [`FlushGuard::reopen`].
#[derive(Debug, Clone)]
pub struct ReopenHandle {
    sender: Sender<Message>,
    counters: Arc<Counters>,
    timeout: Duration,
}

impl ReopenHandle {
    /// Writes everything queued, then reopens every sink, within the flush timeout.
    pub fn reopen(&self) -> Result<(), FlushError> {
        ask_worker(&self.sender, &self.counters, Message::Reopen, self.timeout)
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if self.worker.is_some() {
            if let Err(err) = self.stop() {
                crate::report::report_line(self.report_errors, format_args!("{err}"));
            }
        }
    }
}
