//! The worker thread: assembles records in queue order, encodes each once, hands batches of
//! whole records to every sink.

use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::{Counters, Message, SinkFailure};
use crate::capture::EventName;
use crate::escape::write_json_line;
use crate::record::{RecordAssembler, SecurityRecord};
use crate::sink::{Batch, Sink};

/// Records written to the sinks in one go, at most.
const MAX_BATCH: usize = 512;

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether this is the worker thread (which must never block on its own queue).
pub(super) fn on_worker_thread() -> bool {
    ON_WORKER.with(Cell::get)
}

type Reply = Sender<Result<(), Vec<SinkFailure>>>;

enum Control {
    Flush(Reply),
    Shutdown(Reply),
}

pub(super) struct Worker {
    receiver: Receiver<Message>,
    sinks: Vec<Box<dyn Sink>>,
    assembler: RecordAssembler,
    counters: Arc<Counters>,
    reporter: ErrorReporter,
    records: Vec<SecurityRecord>,
    lines: Vec<u8>,
    drops_reported: u64,
}

impl Worker {
    pub(super) fn new(
        receiver: Receiver<Message>,
        sinks: Vec<Box<dyn Sink>>,
        assembler: RecordAssembler,
        counters: Arc<Counters>,
        report_errors: bool,
    ) -> Self {
        Worker {
            receiver,
            sinks,
            assembler,
            counters,
            reporter: ErrorReporter::new(report_errors),
            records: Vec::with_capacity(MAX_BATCH),
            lines: Vec::with_capacity(MAX_BATCH * 512),
            drops_reported: 0,
        }
    }

    pub(super) fn run(mut self) {
        ON_WORKER.with(|on| on.set(true));
        while let Ok(first) = self.receiver.recv() {
            let mut control = self.take(first);
            while control.is_none() && self.records.len() < MAX_BATCH {
                match self.receiver.try_recv() {
                    Ok(message) => control = self.take(message),
                    Err(_) => break,
                }
            }
            self.write_batch();
            match control {
                None => {}
                Some(Control::Flush(reply)) => {
                    let _ = reply.send(self.flush_sinks());
                }
                Some(Control::Shutdown(reply)) => {
                    // Events that raced with the shutdown are written too, not lost.
                    let mut waiting = vec![reply];
                    while let Ok(message) = self.receiver.try_recv() {
                        if let Some(Control::Flush(other) | Control::Shutdown(other)) =
                            self.take(message)
                        {
                            waiting.push(other);
                        }
                        if self.records.len() >= MAX_BATCH {
                            self.write_batch();
                        }
                    }
                    self.write_batch();
                    let result = self.flush_sinks();
                    for reply in waiting {
                        let _ = reply.send(result.clone());
                    }
                    return;
                }
            }
        }
        // Every sender is gone and the queue is empty.
        let _ = self.flush_sinks();
    }

    fn take(&mut self, message: Message) -> Option<Control> {
        match message {
            Message::Event(captured) => {
                if matches!(captured.name, EventName::Unrecognised(_)) {
                    Counters::add(&self.counters.unrecognised, 1);
                }
                let record = self.assembler.assemble(*captured);
                self.push(record);
                None
            }
            Message::Flush(reply) => Some(Control::Flush(reply)),
            Message::Shutdown(reply) => Some(Control::Shutdown(reply)),
        }
    }

    fn push(&mut self, record: SecurityRecord) {
        match write_json_line(&mut self.lines, &record) {
            Ok(()) => self.records.push(record),
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

    fn write_batch(&mut self) {
        self.note_drops();
        if self.records.is_empty() {
            return;
        }
        let batch = Batch::new(&self.records, &self.lines);
        let mut all_ok = true;
        for sink in &mut self.sinks {
            if let Err(err) = call_sink(|| sink.write(&batch)) {
                all_ok = false;
                Counters::add(&self.counters.sink_errors, 1);
                self.reporter.report(format_args!(
                    "sink {} failed to write {} records: {err}",
                    sink.name(),
                    batch.len()
                ));
            }
        }
        if all_ok {
            Counters::add(&self.counters.written, batch.len() as u64);
        }
        self.records.clear();
        self.lines.clear();
    }

    fn flush_sinks(&mut self) -> Result<(), Vec<SinkFailure>> {
        let mut failures = Vec::new();
        for sink in &mut self.sinks {
            if let Err(err) = call_sink(|| sink.flush()) {
                Counters::add(&self.counters.sink_errors, 1);
                self.reporter
                    .report(format_args!("sink {} failed to flush: {err}", sink.name()));
                failures.push(SinkFailure {
                    sink: sink.name().to_owned(),
                    error: err,
                });
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        }
    }
}

/// Runs a sink operation; a panic in a sink becomes an error, and the worker lives on.
fn call_sink(op: impl FnOnce() -> std::io::Result<()>) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(op)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)")
        )),
    }
}

/// Writes internal errors to stderr, at most one line a second so a broken sink cannot flood it.
struct ErrorReporter {
    enabled: bool,
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorReporter {
    const INTERVAL: Duration = Duration::from_secs(1);

    fn new(enabled: bool) -> Self {
        ErrorReporter {
            enabled,
            last: None,
            suppressed: 0,
        }
    }

    fn report(&mut self, what: fmt::Arguments<'_>) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < Self::INTERVAL) {
            self.suppressed += 1;
            return;
        }
        self.last = Some(now);
        if self.suppressed > 0 {
            eprintln!(
                "tracing-security-events: {what} ({} similar errors not shown)",
                self.suppressed
            );
            self.suppressed = 0;
        } else {
            eprintln!("tracing-security-events: {what}");
        }
    }
}
