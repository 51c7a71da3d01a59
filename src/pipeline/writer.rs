//! The writer thread: owns the sinks and writes the batches the worker encoded, in the order it
//! sent them, retrying a failing sink until it recovers.
//!
//! Encoding (on the worker) and writing (here: sealing, the write itself, fsync, OTLP mapping)
//! run on two cores at once; ordering stays with the worker, which assigns `seq` and sends
//! batches through one FIFO channel. The channel holds few batches, so a sink that cannot write
//! stops the worker soon after, and the queue's overflow policy applies as before.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

#[cfg(feature = "config")]
use super::SinkSlot;
#[cfg(feature = "config")]
use super::WantedForms;
use super::{Counters, EncodedBatch, FormLines, SinkFailure, ToWriter, TICK};
use crate::forms::FormMappings;
use crate::integrity::checkpoint::field;
use crate::record::SecurityRecord;
use crate::report::ErrorReporter;
use crate::sink::{Batch, RecordRequest, Sink};
use crate::value::FieldValue;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Where the writer tells the worker about its sinks.
pub(super) struct WriterLinks {
    /// Buffers of written batches, for the worker to reuse (their records are dropped there,
    /// on the thread that allocated them).
    pub(super) returned: Sender<EncodedBatch>,
    /// Records a sink had accepted and later gave up, by sink name.
    pub(super) losses: Sender<(String, crate::sink::SinkLoss)>,
    /// Records a sink asks to have written (checkpoints, retention's records).
    pub(super) requests: Sender<RecordRequest>,
    /// Where the writer says which forms its sinks write, when a reload changes them.
    #[cfg(feature = "config")]
    pub(super) forms: WantedForms,
    pub(super) mappings: Arc<FormMappings>,
}

pub(super) struct Writer {
    receiver: Receiver<ToWriter>,
    links: WriterLinks,
    sinks: Vec<Box<dyn Sink>>,
    counters: Arc<Counters>,
    abandon: Arc<AtomicBool>,
    reporter: ErrorReporter,
    /// Retired sinks that failed to flush at the last `Swap`, until it is answered.
    #[cfg(feature = "config")]
    swap_failures: Vec<SinkFailure>,
}

impl Writer {
    pub(super) fn new(
        receiver: Receiver<ToWriter>,
        links: WriterLinks,
        sinks: Vec<Box<dyn Sink>>,
        counters: Arc<Counters>,
        abandon: Arc<AtomicBool>,
        report_errors: bool,
    ) -> Self {
        Writer {
            receiver,
            links,
            sinks,
            counters,
            abandon,
            reporter: ErrorReporter::new(report_errors),
            #[cfg(feature = "config")]
            swap_failures: Vec::new(),
        }
    }

    pub(super) fn run(mut self) {
        super::mark_log_thread();
        loop {
            match self.receiver.recv_timeout(TICK) {
                Ok(ToWriter::Write(encoded)) => self.write(encoded),
                Ok(ToWriter::Flush(reply)) => {
                    let _ = reply.send(self.flush_sinks());
                }
                Ok(ToWriter::Reopen(reply)) => {
                    let _ = reply.send(self.reopen_sinks());
                }
                #[cfg(feature = "config")]
                Ok(ToWriter::Swap(slots)) => self.swap_failures = self.swap(slots),
                #[cfg(feature = "config")]
                Ok(ToWriter::Reconfigured(reply)) => {
                    let failures = std::mem::take(&mut self.swap_failures);
                    let _ = reply.send(if failures.is_empty() {
                        Ok(())
                    } else {
                        Err(failures)
                    });
                }
                Ok(ToWriter::Drained(done)) => {
                    // The last checkpoint is asked for before the worker writes its last batch.
                    for sink in &mut self.sinks {
                        let _ = call_sink("closing", || {
                            sink.closing();
                            Ok(())
                        });
                    }
                    self.forward_requests();
                    let _ = done.send(());
                }
                Ok(ToWriter::Shutdown(replies)) => {
                    let result = self.flush_sinks();
                    for reply in replies {
                        let _ = reply.send(result.clone());
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.for_each_sink("tick", |sink| sink.tick());
                    self.report_losses();
                    self.forward_requests();
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.flush_sinks();
                    return;
                }
            }
        }
    }

    fn write(&mut self, mut encoded: EncodedBatch) {
        let count = encoded.records.len();
        // With no sink a record would be written nowhere and still look written. Reloads and
        // the builder refuse a configuration without sinks; this keeps the count honest anyway.
        let delivered = if self.sinks.is_empty() {
            Counters::add(&self.counters.dropped, count as u64);
            self.reporter.report(format_args!(
                "no sink is configured: {count} records not written"
            ));
            false
        } else if encoded.requested.is_empty() {
            self.encode_missing_forms(&mut encoded);
            let batch = encoded.lines.batch(&encoded.records);
            self.write_to_sinks(&batch, None)
        } else {
            self.write_filling_in(&mut encoded)
        };
        if delivered {
            Counters::add(&self.counters.written, count as u64);
        }
        self.counters.release(count as u64);
        for caller in encoded.waiting.drain(..) {
            let _ = caller.send(());
        }
        self.report_losses();
        self.forward_requests();
        // A full return channel drops the buffers here instead: the worker makes new ones.
        let _ = self.links.returned.try_send(encoded);
    }

    /// Writes `batch` to every sink, `first` before the others; whether all wrote it.
    fn write_to_sinks(&mut self, batch: &Batch<'_>, first: Option<usize>) -> bool {
        let mut order: Vec<usize> = first.into_iter().collect();
        order.extend((0..self.sinks.len()).filter(|&i| Some(i) != first));
        let mut delivered = true;
        for index in order {
            delivered &= write_until_done(
                self.sinks[index].as_mut(),
                batch,
                &self.counters,
                &self.abandon,
                &mut self.reporter,
            );
        }
        delivered
    }

    /// Encodes the batch in the forms of sinks the worker did not know of when it encoded it
    /// (a reload added them).
    fn encode_missing_forms(&self, encoded: &mut EncodedBatch) {
        for sink in &self.sinks {
            encoded
                .lines
                .ensure(sink.form(), &encoded.records, &self.links.mappings);
        }
    }

    /// Writes a batch holding records the sinks asked for: the records before each are written
    /// first, then its sink fills it in (a checkpoint signs what is now written) and writes it
    /// before the other sinks do, so no copy leaves before the log holds it.
    fn write_filling_in(&mut self, encoded: &mut EncodedBatch) -> bool {
        self.encode_missing_forms(encoded);
        let starts = encoded.lines.starts();
        let requested = std::mem::take(&mut encoded.requested);
        let mut delivered = true;
        // The segment being written starts at `from`; its first line, when it is a record
        // just filled in, is `filled` (re-encoded in every form), to be written by its sink
        // first.
        let (mut from, mut filled) = (0, None::<(FormLines, Option<usize>)>);
        let ends = requested.iter().map(|&(index, _)| index);
        for end in ends.chain([encoded.records.len()]) {
            if end > from {
                let (first, first_sink) = match filled.take() {
                    Some((lines, sink)) => (Some(lines), sink),
                    None => (None, None),
                };
                let rest = if first.is_some() { from + 1 } else { from };
                let lines = encoded.lines.segment(&starts, rest, end, first);
                let batch = lines.batch(&encoded.records[from..end]);
                delivered &= self.write_to_sinks(&batch, first_sink);
            }
            from = end;
            let Some(&(_, request)) = requested.iter().find(|&&(index, _)| index == end) else {
                continue;
            };
            let sink = self.fill_in(request, &mut encoded.records[end]);
            let lines = match encoded
                .lines
                .single(&encoded.records[end], &self.links.mappings)
            {
                Ok(lines) => lines,
                Err(err) => {
                    self.reporter
                        .report(format_args!("a requested record not encoded: {err}"));
                    encoded.lines.segment(&starts, end, end + 1, None)
                }
            };
            filled = Some((lines, sink));
        }
        encoded.requested = requested;
        delivered
    }

    /// Has the sink that asked for `record` fill it in; the index of that sink. When none can
    /// (the sink was removed by a reload, or failed), the record says so instead.
    fn fill_in(&mut self, request: RecordRequest, record: &mut SecurityRecord) -> Option<usize> {
        let mut failure = None;
        for (index, sink) in self.sinks.iter_mut().enumerate() {
            let name = sink.name().to_owned();
            let mut filled = false;
            match call_sink(&name, || {
                filled = sink.complete(request, record)?;
                Ok(())
            }) {
                Ok(()) if filled => return Some(index),
                Ok(()) => {}
                Err(err) => {
                    Counters::add(&self.counters.sink_errors, 1);
                    self.reporter.force(format_args!(
                        "sink {name} could not fill in a {request:?} record: {}",
                        err.reason()
                    ));
                    failure = Some(err.reason().into_owned());
                    break;
                }
            }
        }
        let why = failure.unwrap_or_else(|| "no sink keeps this log's checkpoints".to_owned());
        record.fields.push(field::UNAVAILABLE, FieldValue::Str(why));
        None
    }

    /// Passes on to the worker the records the sinks ask for.
    fn forward_requests(&mut self) {
        for sink in &mut self.sinks {
            let mut requests = Vec::new();
            let _ = call_sink("requests", || {
                requests = sink.take_requests();
                Ok(())
            });
            for request in requests {
                let _ = self.links.requests.send(request);
            }
        }
    }

    /// Tells the worker which sinks gave up records they had accepted (the OTLP sink past its
    /// memory and spool limits).
    fn report_losses(&mut self) {
        for sink in &mut self.sinks {
            for loss in sink.take_losses() {
                if loss.records > 0 {
                    let _ = self.links.losses.send((sink.name().to_owned(), loss));
                }
            }
        }
    }

    #[cfg(feature = "config")]
    /// Switches to a new set of sinks: those kept stay open, those no longer wanted are flushed.
    fn swap(&mut self, slots: Vec<SinkSlot>) -> Vec<SinkFailure> {
        let mut old: Vec<Option<Box<dyn Sink>>> = self.sinks.drain(..).map(Some).collect();
        for slot in slots {
            match slot {
                SinkSlot::Keep(index) => {
                    if let Some(sink) = old.get_mut(index).and_then(Option::take) {
                        self.sinks.push(sink);
                    }
                }
                SinkSlot::Open(sink) => self.sinks.push(sink),
            }
        }
        self.links.forms.set(&self.sinks);
        let mut failures = Vec::new();
        for mut sink in old.into_iter().flatten() {
            let name = sink.name().to_owned();
            if let Err(failure) = call_sink(&name, || sink.flush()) {
                Counters::add(&self.counters.sink_errors, 1);
                failures.push(failure);
            }
        }
        failures
    }

    fn flush_sinks(&mut self) -> Result<(), Vec<SinkFailure>> {
        self.for_each_sink("flush", |sink| sink.flush())
    }

    fn reopen_sinks(&mut self) -> Result<(), Vec<SinkFailure>> {
        self.for_each_sink("reopen", |sink| sink.reopen())
    }

    fn for_each_sink(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut dyn Sink) -> std::io::Result<()>,
    ) -> Result<(), Vec<SinkFailure>> {
        let mut failures = Vec::new();
        for sink in &mut self.sinks {
            let name = sink.name().to_owned();
            if let Err(failure) = call_sink(&name, || op(sink.as_mut())) {
                Counters::add(&self.counters.sink_errors, 1);
                self.reporter.report(format_args!(
                    "sink {name} failed to {what}: {}",
                    failure.reason()
                ));
                failures.push(failure);
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }
}

/// Writes `batch` to `sink`, retrying with back-off until it succeeds; gives up only when the
/// guard's shutdown has timed out, counting the batch as dropped. Returns whether it was written.
fn write_until_done(
    sink: &mut dyn Sink,
    batch: &Batch<'_>,
    counters: &Counters,
    abandon: &AtomicBool,
    reporter: &mut ErrorReporter,
) -> bool {
    let mut backoff = FIRST_BACKOFF;
    let mut failures = 0_u64;
    let name = sink.name().to_owned();
    loop {
        match call_sink(&name, || sink.write(batch)) {
            Ok(()) => {
                if failures > 0 {
                    reporter.force(format_args!(
                        "sink {} recovered after {failures} failed attempts",
                        sink.name()
                    ));
                }
                return true;
            }
            Err(failure) => {
                failures += 1;
                Counters::add(&counters.sink_errors, 1);
                reporter.report(format_args!(
                    "sink {name} failed to write {} records (retrying): {}",
                    batch.len(),
                    failure.reason()
                ));
            }
        }
        let deadline = Instant::now() + backoff;
        while Instant::now() < deadline {
            if abandon.load(Ordering::Relaxed) {
                Counters::add(&counters.dropped, batch.len() as u64);
                reporter.force(format_args!(
                    "sink {} given up at shutdown: {} records not written",
                    sink.name(),
                    batch.len()
                ));
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Runs an operation of the sink `name`; a panic in a sink becomes a failure, and the writer
/// lives on.
fn call_sink(name: &str, op: impl FnOnce() -> std::io::Result<()>) -> Result<(), SinkFailure> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(SinkFailure::from_io(name, &err)),
        Err(panic) => Err(SinkFailure::Panicked {
            sink: name.to_owned(),
            message: panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)")
                .to_owned(),
        }),
    }
}
