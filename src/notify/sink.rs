//! The notification rules' place among the sinks: the writer hands it every batch it writes,
//! and it queues the lines for the rule thread without waiting.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};

use super::runner::ToRules;
use super::stats::NotifyCounters;
use crate::pipeline::Counters;
use crate::sink::{Batch, Sink};

/// The sink feeding the rule thread.
pub(crate) struct NotifySink {
    sender: Option<Sender<ToRules>>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
    losses: u64,
    counters: Arc<NotifyCounters>,
    thread: Option<JoinHandle<()>>,
    flush_timeout: Duration,
    /// The fleet evaluator's thread, its stop flag, and word that it ended, when detections
    /// run over a fleet.
    fleet: Option<(
        Arc<AtomicBool>,
        JoinHandle<()>,
        crossbeam_channel::Receiver<()>,
    )>,
}

impl NotifySink {
    pub(crate) fn new(
        sender: Sender<ToRules>,
        queued: Arc<AtomicUsize>,
        capacity: usize,
        counters: Arc<NotifyCounters>,
        thread: JoinHandle<()>,
        flush_timeout: Duration,
    ) -> Self {
        NotifySink {
            sender: Some(sender),
            queued,
            capacity,
            losses: 0,
            counters,
            thread: Some(thread),
            flush_timeout,
            fleet: None,
        }
    }

    /// Stops and waits for the fleet evaluator when the sink goes.
    #[cfg(feature = "postgres")]
    pub(crate) fn with_fleet(
        mut self,
        stop: Arc<AtomicBool>,
        thread: JoinHandle<()>,
        ended: crossbeam_channel::Receiver<()>,
    ) -> Self {
        self.fleet = Some((stop, thread, ended));
        self
    }
}

impl Sink for NotifySink {
    fn name(&self) -> &str {
        "notify"
    }

    /// Queues the batch for the rules, or counts it lost when their queue is full: the rules
    /// never hold back the log.
    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let records = batch.len();
        let Some(sender) = &self.sender else {
            return Ok(());
        };
        if self.queued.load(Ordering::Relaxed) + records > self.capacity {
            self.losses += records as u64;
            Counters::add(&self.counters.overflowed, records as u64);
            return Ok(());
        }
        self.queued.fetch_add(records, Ordering::Relaxed);
        let lines = batch.json_lines().to_vec();
        if sender.send(ToRules::Lines { lines, records }).is_err() {
            self.queued.fetch_sub(records, Ordering::Relaxed);
            self.losses += records as u64;
        }
        Ok(())
    }

    /// Waits, at most the notification flush timeout, until the rules have seen everything
    /// written so far and their notifications are delivered or given up on.
    fn flush(&mut self) -> io::Result<()> {
        let Some(sender) = &self.sender else {
            return Ok(());
        };
        let (reply, answer) = bounded(1);
        if sender.send(ToRules::Flush(reply)).is_ok() {
            // The rule thread's own wait for deliveries is bounded by the same timeout; what
            // it has not finished by then goes on after the flush returns.
            let _ = answer.recv_timeout(self.flush_timeout);
        }
        Ok(())
    }

    fn take_losses(&mut self) -> Vec<crate::sink::SinkLoss> {
        match std::mem::take(&mut self.losses) {
            0 => Vec::new(),
            lost => vec![crate::sink::SinkLoss::new(
                lost,
                "the notification rules' queue was full",
            )],
        }
    }
}

impl Drop for NotifySink {
    fn drop(&mut self) {
        // The fleet evaluator first: it writes into the log through the rule thread's sinks.
        // A database that stopped answering mid-statement must not hold shutdown: past the
        // flush timeout the thread is left to end on its own (its statements time out).
        if let Some((stop, thread, ended)) = self.fleet.take() {
            stop.store(true, Ordering::Relaxed);
            if ended.recv_timeout(self.flush_timeout).is_ok() {
                let _ = thread.join();
            }
        }
        // The rule thread ends after what is queued; its delivery threads after theirs.
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
