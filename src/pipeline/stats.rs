//! Counters readable while the log runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::Message;

/// The live counters, shared by the layer, the worker and the guard.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) unrecognised: AtomicU64,
    pub(crate) sink_errors: AtomicU64,
    /// Records taken from the queue and not yet written or given up: the batch the worker is
    /// handing over, the batches waiting for the writer, and the write under way. Kept by the
    /// two log threads, a batch at a time, so callers pay nothing for it.
    pub(crate) held: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records accepted and not yet written, with `in_queue` messages waiting in the queue.
    pub(crate) fn backlog(&self, in_queue: usize) -> usize {
        let held = usize::try_from(self.held.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        in_queue.saturating_add(held)
    }

    /// Takes `n` records off [`held`](Self::held): written, or given up.
    pub(crate) fn release(&self, n: u64) {
        self.held.fetch_sub(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, in_queue: usize) -> Stats {
        Stats {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            unrecognised: self.unrecognised.load(Ordering::Relaxed),
            sink_errors: self.sink_errors.load(Ordering::Relaxed),
            queued: self.backlog(in_queue),
        }
    }
}

/// A snapshot of the log's counters, from [`FlushGuard::stats`](crate::FlushGuard::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Records that every sink accepted.
    pub written: u64,
    /// Records lost: the queue was full under [`OverflowPolicy::Drop`](crate::OverflowPolicy),
    /// or the log was already shut down.
    pub dropped: u64,
    /// Records whose `security_event` name is in no registered catalog (written all the same).
    pub unrecognised: u64,
    /// Failed sink operations (a write or a flush that returned an error or panicked).
    pub sink_errors: u64,
    /// Records accepted and not yet written when the snapshot was taken: waiting in the queue,
    /// being encoded, or handed to the sinks and not yet written by all of them (the log's own
    /// notices included). While a sink cannot write this is the backlog it will have to catch up
    /// on; it comes back to 0 once everything accepted is written, or counted in `dropped`.
    pub queued: usize,
}

/// A cloneable reader of the counters, for a metrics exporter; it outlives the guard, so losses
/// after shutdown stay visible.
#[derive(Clone)]
pub struct StatsHandle {
    counters: Arc<Counters>,
    queue: Sender<Message>,
}

impl StatsHandle {
    pub(super) fn new(counters: Arc<Counters>, queue: Sender<Message>) -> Self {
        StatsHandle { counters, queue }
    }

    /// The counters as they are now.
    pub fn get(&self) -> Stats {
        self.counters.snapshot(self.queue.len())
    }
}

impl std::fmt::Debug for StatsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("StatsHandle").field(&self.get()).finish()
    }
}
