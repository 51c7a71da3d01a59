//! The worker thread: assembles records in queue order and encodes each once, then hands
//! batches of whole records to the writer thread, which owns the sinks.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

#[cfg(feature = "config")]
use super::Reconfiguration;
use super::RecordAssembler;
use super::{
    mark_log_thread, Counters, EncodedBatch, Message, PendingEventPool, QueueSpace, Reply,
    Submitted, ToWriter, TICK,
};
use super::{FormLines, WantedForms};
use crate::capture::EventName;
use crate::forms::FormMappings;
use crate::gate::RecordGate;
use crate::record::SecurityRecord;
use crate::report::ErrorReporter;

/// Records handed to the writer in one go, at most.
const MAX_BATCH: usize = 512;

/// Rounds of the sinks' last requests at shutdown, at most.
const SHUTDOWN_ROUNDS: usize = 4;

enum Control {
    Flush(Reply),
    Reopen(Reply),
    Shutdown(Reply),
    #[cfg(feature = "config")]
    Reconfigure(Box<Reconfiguration>, Reply),
}

/// What the worker reads from the callers: the queue, the pool their pending events go back to, and
/// where callers wait for space.
pub(super) struct Inbox {
    pub(super) receiver: Receiver<Message>,
    pub(super) pool: Arc<PendingEventPool>,
    pub(super) space: Arc<QueueSpace>,
}

/// The worker's side of the writer thread.
pub(super) struct WriterHandle {
    pub(super) sender: Sender<ToWriter>,
    /// Buffers of written batches, back for reuse.
    pub(super) returned: Receiver<EncodedBatch>,
    /// Records a sink gave up after accepting them, by sink name.
    pub(super) losses: Receiver<(String, crate::sink::SinkLoss)>,
    /// Records the sinks asked for (checkpoints, retention's records).
    pub(super) requests: Receiver<crate::sink::RecordRequest>,
    pub(super) thread: JoinHandle<()>,
    /// The forms the sinks write, which each batch is encoded in.
    pub(super) forms: WantedForms,
    pub(super) mappings: Arc<FormMappings>,
}

pub(super) struct Worker {
    receiver: Receiver<Message>,
    /// Where decoded pending events go back to the callers.
    pool: Arc<PendingEventPool>,
    space: Arc<QueueSpace>,
    writer: WriterHandle,
    assembler: RecordAssembler,
    counters: Arc<Counters>,
    gate: RecordGate,
    reporter: ErrorReporter,
    /// The batch being filled.
    batch: EncodedBatch,
    /// Records of a written batch, dropped one before each new record is assembled: the memory
    /// one frees is what the next allocates, from the allocator's per-thread cache. Dropped a
    /// batch at a time, they overflowed that cache and cost a tenth of the worker's time.
    written_records: Vec<SecurityRecord>,
    drops_reported: u64,
}

impl Worker {
    pub(super) fn new(
        Inbox {
            receiver,
            pool,
            space,
        }: Inbox,
        writer: WriterHandle,
        assembler: RecordAssembler,
        counters: Arc<Counters>,
        gate: RecordGate,
        report_errors: bool,
    ) -> Self {
        let batch = new_batch(&writer.forms);
        Worker {
            receiver,
            pool,
            space,
            writer,
            assembler,
            counters,
            gate,
            reporter: ErrorReporter::new(report_errors),
            batch,
            written_records: Vec::new(),
            drops_reported: 0,
        }
    }

    pub(super) fn run(mut self) {
        mark_log_thread();
        loop {
            let first = match self.receiver.recv_timeout(TICK) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    // Writes the notices of losses found since the last batch, if any.
                    self.write_batch();
                    // Idle: nothing to hand the memory on to.
                    self.written_records.clear();
                    continue;
                }
                // Every sender is gone and the queue is empty.
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut control = self.take(first);
            while control.is_none() && self.batch.records.len() < MAX_BATCH {
                match self.receiver.try_recv() {
                    Ok(message) => control = self.take(message),
                    Err(_) => break,
                }
            }
            // Callers blocked on a full queue refill it while this batch is written.
            self.space.freed();
            self.write_batch();
            match control {
                None => {}
                Some(Control::Flush(reply)) => self.tell_writer(ToWriter::Flush(reply)),
                Some(Control::Reopen(reply)) => self.tell_writer(ToWriter::Reopen(reply)),
                Some(Control::Shutdown(reply)) => return self.shut_down(reply),
                #[cfg(feature = "config")]
                Some(Control::Reconfigure(change, reply)) => self.reconfigure(*change, reply),
            }
        }
        self.write_batch();
        // The writer flushes its sinks when its channel closes.
        self.stop_writer(None);
    }

    fn shut_down(mut self, reply: Reply) {
        // Events that raced with the shutdown are written too, not lost.
        let mut replies = vec![reply];
        while let Ok(message) = self.receiver.try_recv() {
            match self.take(message) {
                Some(Control::Flush(other) | Control::Shutdown(other)) => replies.push(other),
                Some(Control::Reopen(other)) => {
                    let _ = other.send(Ok(()));
                }
                #[cfg(feature = "config")]
                Some(Control::Reconfigure(_, other)) => {
                    let _ = other.send(Ok(()));
                }
                None => {}
            }
            if self.batch.records.len() >= MAX_BATCH {
                self.space.freed();
                self.write_batch();
            }
        }
        self.write_batch();
        // Records the writer gives up at shutdown (a sink still failing when the guard's time
        // ran out) are counted there; wait for that, so their notice goes to the other sinks.
        // The sinks' last requests (the final checkpoint, retention's records, and what writing
        // those asks for in turn) come the same way, a few rounds at most: a removal left
        // unrecorded waits for the next start.
        for _ in 0..SHUTDOWN_ROUNDS {
            let (done, drained) = crossbeam_channel::bounded(1);
            self.tell_writer(ToWriter::Drained(done));
            let _ = drained.recv();
            let asked = !self.writer.requests.is_empty();
            if !(self.write_batch() && asked) {
                break;
            }
        }
        self.stop_writer(Some(ToWriter::Shutdown(replies)));
    }

    /// Sends `last`, closes the writer's channel and waits for the writer to finish.
    fn stop_writer(self, last: Option<ToWriter>) {
        let WriterHandle { sender, thread, .. } = self.writer;
        if let Some(last) = last {
            let _ = sender.send(last);
        }
        drop(sender);
        let _ = thread.join();
    }

    fn tell_writer(&mut self, message: ToWriter) {
        // Fails only if the writer thread is gone; the replies inside then report it.
        let _ = self.writer.sender.send(message);
    }

    fn take(&mut self, message: Message) -> Option<Control> {
        match message {
            Message::Event { event, written } => {
                drop(self.written_records.pop());
                self.batch.waiting.extend(written);
                let event = match event {
                    Submitted::Captured(event) => *event,
                    Submitted::Pending(mut pending) => {
                        let event = pending.decode();
                        self.pool.put(pending);
                        event?
                    }
                };
                if !self.gate.admits(&event) {
                    return None;
                }
                if matches!(event.name, EventName::Unrecognised(_)) {
                    Counters::add(&self.counters.unrecognised, 1);
                }
                let record = self.assembler.assemble(event);
                self.push(record);
                None
            }
            Message::Flush(reply) => Some(Control::Flush(reply)),
            Message::Reopen(reply) => Some(Control::Reopen(reply)),
            Message::Shutdown(reply) => Some(Control::Shutdown(reply)),
            #[cfg(feature = "config")]
            Message::Reconfigure(change, reply) => Some(Control::Reconfigure(change, reply)),
        }
    }

    #[cfg(feature = "config")]
    /// Switches to new settings between two records: what came before is written under the old
    /// ones, sinks that did not change are kept open, sinks no longer wanted are flushed.
    fn reconfigure(&mut self, change: Reconfiguration, reply: Reply) {
        self.write_batch();
        for notice in change.before {
            let record = self.assembler.assemble(notice);
            self.push(record);
        }
        self.write_batch();

        self.gate.enabled = change.enabled;
        self.gate.filter = change.filter;
        self.assembler.reconfigure(change.redactor, change.service);
        self.tell_writer(ToWriter::Swap(change.sinks));

        for notice in change.after {
            let record = self.assembler.assemble(notice);
            self.push(record);
        }
        self.write_batch();
        self.tell_writer(ToWriter::Reconfigured(reply));
    }

    fn push(&mut self, record: SecurityRecord) {
        match self.batch.lines.push(&record, &self.writer.mappings) {
            Ok(()) => self.batch.records.push(record),
            Err(err) => {
                Counters::add(&self.counters.dropped, 1);
                self.reporter
                    .report(format_args!("record seq {} not encoded: {err}", record.seq));
            }
        }
    }

    /// Adds an `audit.events_dropped` record when records were dropped since the last one.
    fn note_drops(&mut self) {
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        if dropped > self.drops_reported {
            let record = self.assembler.dropped_notice(dropped - self.drops_reported);
            self.drops_reported = dropped;
            self.push(record);
        }
    }

    /// Adds an `audit.events_dropped` record for each loss the writer reported: records a sink
    /// had accepted and later gave up (the OTLP sink past its memory and spool limits).
    fn note_sink_losses(&mut self) {
        while let Ok((sink, loss)) = self.writer.losses.try_recv() {
            let lost = loss.records;
            Counters::add(&self.counters.dropped, lost);
            self.drops_reported += lost;
            self.reporter.report(format_args!(
                "sink {sink} gave up {lost} records: {}",
                loss.reason
            ));
            let record = self.assembler.sink_losses_notice(&sink, lost, &loss.reason);
            self.push(record);
        }
    }

    /// Adds the records the sinks asked for, each to be filled in by its sink on the writer
    /// thread (the checkpoint signs what was written before it).
    fn note_requests(&mut self) {
        while let Ok(request) = self.writer.requests.try_recv() {
            let record = self.assembler.requested_record(request);
            let index = self.batch.records.len();
            self.push(record);
            if self.batch.records.len() > index {
                self.batch.requested.push((index, request));
            }
        }
    }

    /// Hands the batch filled so far to the writer, with the notices of losses since the last
    /// and the records the sinks asked for; whether there was anything to hand.
    fn write_batch(&mut self) -> bool {
        self.note_drops();
        self.note_sink_losses();
        self.note_requests();
        if self.batch.records.is_empty() {
            return false;
        }
        let spare = match self.writer.returned.try_recv() {
            Ok(mut returned) => {
                // Dropped here, where their memory was allocated, as new records come.
                self.written_records.clear();
                std::mem::swap(&mut self.written_records, &mut returned.records);
                returned.lines.reset(&self.writer.forms.get());
                returned.requested.clear();
                returned
            }
            Err(_) => new_batch(&self.writer.forms),
        };
        let batch = std::mem::replace(&mut self.batch, spare);
        let records = batch.records.len() as u64;
        // Counted before the send, which is where the worker waits while a sink is stalled.
        Counters::add(&self.counters.held, records);
        if self.writer.sender.send(ToWriter::Write(batch)).is_err() {
            Counters::add(&self.counters.dropped, records);
            self.counters.release(records);
        }
        true
    }
}

fn new_batch(forms: &WantedForms) -> EncodedBatch {
    EncodedBatch {
        records: Vec::with_capacity(MAX_BATCH),
        lines: FormLines::for_forms(&forms.get(), MAX_BATCH * 512),
        requested: Vec::new(),
        waiting: Vec::new(),
    }
}
