//! The path from the caller's thread to the sinks: one bounded queue, one worker thread that
//! owns ordering, and the guard that flushes it.

mod guard;
mod stats;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};

use crate::capture::CapturedEvent;
use crate::record::RecordAssembler;
use crate::sink::Sink;
pub use guard::{FlushError, FlushGuard, SinkFailure};
pub(crate) use stats::Counters;
pub use stats::{Stats, StatsHandle};

/// What to do with a new record when the queue is full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Wait for room: the caller of `security_event!` slows down, nothing is lost.
    #[default]
    Block,
    /// Drop the record, count it, and write an `audit.events_dropped` record with the count as
    /// soon as the worker catches up. The caller never waits.
    Drop,
}

/// A message to the worker.
enum Message {
    Event(Box<CapturedEvent>),
    /// Write everything queued before this, flush every sink, then answer.
    Flush(Sender<Result<(), Vec<SinkFailure>>>),
    /// As `Flush`, then stop.
    Shutdown(Sender<Result<(), Vec<SinkFailure>>>),
}

/// The caller-side handle of the queue, held by the layer.
#[derive(Clone)]
pub(crate) struct Pipeline {
    sender: Sender<Message>,
    overflow: OverflowPolicy,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("overflow", &self.overflow)
            .field("queued", &self.sender.len())
            .finish_non_exhaustive()
    }
}

/// The settings of a pipeline, from the builder.
pub(crate) struct PipelineSettings {
    pub(crate) sinks: Vec<Box<dyn Sink>>,
    pub(crate) assembler: RecordAssembler,
    pub(crate) capacity: usize,
    pub(crate) overflow: OverflowPolicy,
    pub(crate) flush_timeout: Duration,
    pub(crate) report_errors: bool,
}

impl Pipeline {
    /// Starts the worker thread.
    pub(crate) fn start(settings: PipelineSettings) -> std::io::Result<(Pipeline, FlushGuard)> {
        let (sender, receiver) = bounded(settings.capacity);
        let counters = Arc::new(Counters::default());
        let worker = worker::Worker::new(
            receiver,
            settings.sinks,
            settings.assembler,
            counters.clone(),
            settings.report_errors,
        );
        let handle = std::thread::Builder::new()
            .name("security-events".into())
            .spawn(move || worker.run())?;
        let guard = FlushGuard::new(
            sender.clone(),
            counters.clone(),
            handle,
            settings.flush_timeout,
        );
        let pipeline = Pipeline {
            sender,
            overflow: settings.overflow,
            counters,
        };
        Ok((pipeline, guard))
    }

    /// Queues a captured event, waiting for room or dropping it as the policy says.
    pub(crate) fn submit(&self, event: CapturedEvent) {
        let message = Message::Event(Box::new(event));
        // The worker must never wait on its own queue: events that sinks emit are never blocking.
        let sent = if self.overflow == OverflowPolicy::Block && !worker::on_worker_thread() {
            self.sender.send(message).is_ok()
        } else {
            self.sender.try_send(message).is_ok()
        };
        if !sent {
            Counters::add(&self.counters.dropped, 1);
        }
    }
}
