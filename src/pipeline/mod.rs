//! The path from the caller's thread to the sinks: one bounded queue, one worker thread that
//! owns ordering and encodes, one writer thread that owns the sinks, and the guard that flushes
//! them.

mod assemble;
mod form_lines;
mod guard;
mod log_handle;
mod pending_pool;
mod queue_space;
#[cfg(feature = "config")]
mod reconfiguration;
mod stats;
mod worker;
mod writer;

use std::cell::Cell;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender, TrySendError};

use crate::capture::CapturedEvent;
use crate::gate::RecordGate;
use crate::pending::PendingEvent;
use crate::record::SecurityRecord;
use crate::sink::Sink;
pub(crate) use assemble::RecordAssembler;
use form_lines::{FormLines, WantedForms};
pub use guard::{FlushError, FlushGuard, ReopenHandle, SinkFailure};
pub use log_handle::{DerivedRecord, LogHandle};
pub(crate) use pending_pool::PendingEventPool;
use queue_space::QueueSpace;
#[cfg(feature = "config")]
pub(crate) use reconfiguration::{Reconfiguration, SinkSlot};
pub(crate) use stats::Counters;
pub use stats::{Stats, StatsHandle};

/// Records the queue holds by default (the builder's `with_queue_capacity`, `queue.capacity`).
pub const DEFAULT_QUEUE_CAPACITY: usize = 8192;
/// How long flushing at shutdown may take by default (`with_flush_timeout`,
/// `queue.flush_timeout`).
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Encoded batches waiting for the writer, at most: enough to keep both threads busy, few
/// enough that a sink that cannot write holds the worker back soon (and the queue's overflow
/// policy applies).
const WRITER_QUEUE: usize = 2;

/// What to do with a new record when the queue is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Wait for room: the caller of `security_event!` slows down, nothing is lost.
    #[default]
    Block,
    /// Drop the record, count it, and write an `audit.events_dropped` record with the count as
    /// soon as the worker catches up. The caller never waits.
    Drop,
}

/// What happens when a sink cannot write (a full disk, a removed directory).
///
/// Either way the sink retries the records with back-off (50 ms, doubling up to 2 s) until they
/// are written, and writing resumes by itself when the cause goes away; the failures are counted
/// in [`Stats::sink_errors`] and reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum SinkFailurePolicy {
    /// The service goes on: `security_event!` returns at once, records wait in the queue, and
    /// once it is full the [`OverflowPolicy`] applies.
    #[default]
    FailOpen,
    /// `security_event!` returns only once its record is written: callers wait while the sink
    /// cannot write.
    FailClosed,
}

/// The answer to a flush, shutdown or reopen: the sinks that failed.
type Reply = Sender<Result<(), Vec<SinkFailure>>>;

/// A message to the worker.
enum Message {
    Event {
        event: Submitted,
        /// Answered once the record is written, when the caller waits for it.
        written: Option<Sender<()>>,
    },
    /// Write everything queued before this, flush every sink, then answer.
    Flush(Reply),
    /// Write everything queued before this, reopen every sink, then answer.
    Reopen(Reply),
    /// As `Flush`, then stop.
    Shutdown(Reply),
    /// Write everything queued before this under the old settings, then switch.
    #[cfg(feature = "config")] // used by configuration reloads
    Reconfigure(Box<Reconfiguration>, Reply),
}

/// An event on its way to the worker. Boxed: a slot of the queue is then a pointer, not hundreds
/// of bytes the caller must copy into memory it has not touched (measured: the unboxed form cost
/// callers ~0.15-0.3 µs).
enum Submitted {
    /// From an event: the fields as recorded, sorted out on the worker; the pending event is reused.
    Pending(Box<PendingEvent>),
    /// Already sorted out: a span closing, the log's own notices.
    Captured(Box<CapturedEvent>),
}

/// How often idle threads look up: the worker writes pending loss notices, the writer gives
/// idle sinks a `tick` (a periodic fsync is due).
const TICK: Duration = Duration::from_millis(100);

thread_local! {
    static ON_LOG_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as one of the log's own (the worker, the writer).
pub(crate) fn mark_log_thread() {
    ON_LOG_THREAD.with(|on| on.set(true));
}

/// Whether this is one of the log's own threads, which must never block on the queue they
/// empty (a sink's own `tracing` events come back through the layer on the writer thread).
fn on_log_thread() -> bool {
    ON_LOG_THREAD.with(Cell::get)
}

/// Encoded records on their way to the sinks, and their buffers on their way back.
#[derive(Default)]
struct EncodedBatch {
    records: Vec<SecurityRecord>,
    lines: FormLines,
    /// Records a sink asked for, which it fills in before any sink writes them: their index
    /// in `records`, in order.
    requested: Vec<(usize, crate::sink::RecordRequest)>,
    /// Callers waiting for these records to be written.
    waiting: Vec<Sender<()>>,
}

/// What the worker asks of the writer, answered in order after every batch sent before it.
enum ToWriter {
    Write(EncodedBatch),
    Flush(Reply),
    Reopen(Reply),
    /// Switch to these sinks, flushing those no longer wanted.
    #[cfg(feature = "config")]
    Swap(Vec<SinkSlot>),
    /// A reconfiguration is written: answer with the failures of the last `Swap`.
    #[cfg(feature = "config")]
    Reconfigured(Reply),
    /// Answer once everything before it is written or given up.
    Drained(Sender<()>),
    /// Flush, answer every reply with the result, and stop.
    Shutdown(Vec<Reply>),
}

/// The caller-side handle of the queue, held by the layer.
#[derive(Clone)]
pub(crate) struct Pipeline {
    sender: Sender<Message>,
    overflow: OverflowPolicy,
    /// Callers wait for their record to be written (fail-closed, or fsync on every write).
    wait_for_write: bool,
    counters: Arc<Counters>,
    pool: Arc<PendingEventPool>,
    space: Arc<QueueSpace>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("overflow", &self.overflow)
            .field("queued", &self.counters.backlog(self.sender.len()))
            .finish_non_exhaustive()
    }
}

/// The settings of a pipeline, from the builder.
pub(crate) struct PipelineSettings {
    pub(crate) sinks: Vec<Box<dyn Sink>>,
    pub(crate) assembler: RecordAssembler,
    pub(crate) capacity: usize,
    pub(crate) overflow: OverflowPolicy,
    pub(crate) wait_for_write: bool,
    pub(crate) flush_timeout: Duration,
    pub(crate) report_errors: bool,
    pub(crate) gate: RecordGate,
    /// The time of the log's own records.
    pub(crate) clock: Arc<dyn crate::clock::Clock>,
    /// How names map to the ECS and OCSF forms.
    pub(crate) mappings: Arc<crate::forms::FormMappings>,
}

impl Pipeline {
    /// Starts the worker and writer threads.
    pub(crate) fn start(settings: PipelineSettings) -> std::io::Result<(Pipeline, FlushGuard)> {
        let (sender, receiver) = bounded(settings.capacity);
        let counters = Arc::new(Counters::default());
        let abandon = Arc::new(AtomicBool::new(false));
        let pool = Arc::new(PendingEventPool::new(settings.capacity));
        let space = Arc::new(QueueSpace::default());

        let (to_writer, writer_inbox) = bounded(WRITER_QUEUE);
        let (returned, returned_inbox) = bounded(WRITER_QUEUE + 2);
        let (losses, losses_inbox) = crossbeam_channel::unbounded();
        let (requests, requests_inbox) = crossbeam_channel::unbounded();
        let forms = WantedForms::default();
        forms.set(&settings.sinks);
        let writer = writer::Writer::new(
            writer_inbox,
            writer::WriterLinks {
                returned,
                losses,
                requests,
                #[cfg(feature = "config")]
                forms: forms.clone(),
                mappings: settings.mappings.clone(),
            },
            settings.sinks,
            counters.clone(),
            abandon.clone(),
            settings.report_errors,
        );
        let writer_thread = std::thread::Builder::new()
            .name("security-writer".into())
            .spawn(move || writer.run())?;

        let worker = worker::Worker::new(
            worker::Inbox {
                receiver,
                pool: pool.clone(),
                space: space.clone(),
            },
            worker::WriterHandle {
                sender: to_writer,
                returned: returned_inbox,
                losses: losses_inbox,
                requests: requests_inbox,
                thread: writer_thread,
                forms,
                mappings: settings.mappings,
            },
            settings.assembler,
            counters.clone(),
            settings.gate,
            settings.report_errors,
        );
        let handle = std::thread::Builder::new()
            .name("security-events".into())
            .spawn(move || worker.run())?;
        let pipeline = Pipeline {
            sender: sender.clone(),
            overflow: settings.overflow,
            wait_for_write: settings.wait_for_write,
            counters: counters.clone(),
            pool,
            space,
        };
        let guard = FlushGuard::new(
            sender,
            counters,
            abandon,
            handle,
            settings.flush_timeout,
            settings.report_errors,
            LogHandle::new(pipeline.clone(), settings.clock),
        );
        Ok((pipeline, guard))
    }

    /// Hands new settings to the worker, in queue order, and waits (at most `timeout`) until
    /// they are in force.
    #[cfg(feature = "config")] // used by configuration reloads
    pub(crate) fn reconfigure(
        &self,
        change: Reconfiguration,
        timeout: Duration,
    ) -> Result<(), FlushError> {
        guard::ask_worker(
            &self.sender,
            &self.counters,
            |reply| Message::Reconfigure(Box::new(change), reply),
            timeout,
        )
    }

    /// An empty pending event for an event's fields, reused when one is free.
    pub(crate) fn empty_event(&self) -> Box<PendingEvent> {
        self.pool.take()
    }

    /// Gives back a pending event that will not be submitted.
    pub(crate) fn recycle(&self, pending: Box<PendingEvent>) {
        self.pool.put(pending);
    }

    /// Queues an event as recorded (see [`submit`](Self::submit)).
    pub(crate) fn submit_pending(&self, event: Box<PendingEvent>) {
        self.send(Submitted::Pending(event));
    }

    /// Queues an event already sorted out (see [`submit`](Self::submit)).
    pub(crate) fn submit(&self, event: CapturedEvent) {
        self.send(Submitted::Captured(Box::new(event)));
    }

    /// Queues an event already sorted out without ever waiting, for threads that the log's own
    /// threads may be waiting on (the notification rules): when the queue is full, the event is
    /// dropped and counted (and an `audit.events_dropped` record says so).
    pub(crate) fn submit_nonblocking(&self, event: CapturedEvent) {
        let message = Message::Event {
            event: Submitted::Captured(Box::new(event)),
            written: None,
        };
        if self.sender.try_send(message).is_err() {
            Counters::add(&self.counters.dropped, 1);
        }
    }

    /// Queues an event, waiting for space or dropping it as the policy says, then for its record
    /// to be written when the policy says so.
    fn send(&self, event: Submitted) {
        // The worker must never wait on its own queue: events that sinks emit never block.
        let on_worker = on_log_thread();
        let (written, wait) = if self.wait_for_write && !on_worker {
            let (tx, rx) = bounded(1);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let message = Message::Event { event, written };
        let sent = if self.overflow == OverflowPolicy::Block && !on_worker {
            self.send_waiting_for_space(message)
        } else {
            self.sender.try_send(message).is_ok()
        };
        if !sent {
            Counters::add(&self.counters.dropped, 1);
        } else if let Some(wait) = wait {
            // An error means the worker stopped; the record was then counted as lost.
            let _ = wait.recv();
        }
    }

    /// Queues `message`, sleeping while the queue is full; false when the worker is gone.
    fn send_waiting_for_space(&self, mut message: Message) -> bool {
        loop {
            match self.sender.try_send(message) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => message = back,
            }
            self.space.wait(|| self.sender.is_full());
        }
    }
}
