//! The worker thread: assembles records in queue order, encodes each once, hands batches of
//! whole records to every sink, retrying a failing sink until it recovers.

use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{
    Counters, Message, Reconfiguration, Reply, Room, ShellPool, SinkFailure, SinkSlot, Submitted,
};
use crate::capture::EventName;
use crate::escape::write_json_line;
use crate::gate::RecordGate;
use crate::record::{RecordAssembler, SecurityRecord};
use crate::sink::{Batch, Sink};

/// Records written to the sinks in one go, at most.
const MAX_BATCH: usize = 512;
/// How often idle sinks get a `tick` (a periodic fsync is due).
const TICK: Duration = Duration::from_millis(100);
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether this is the worker thread (which must never block on its own queue).
pub(super) fn on_worker_thread() -> bool {
    ON_WORKER.with(Cell::get)
}

enum Control {
    Flush(Reply),
    Reopen(Reply),
    Shutdown(Reply),
    Reconfigure(Box<Reconfiguration>, Reply),
}

/// What the worker reads from the callers: the queue, the pool their shells go back to, and
/// where callers wait for room.
pub(super) struct Inbox {
    pub(super) receiver: Receiver<Message>,
    pub(super) shells: Arc<ShellPool>,
    pub(super) room: Arc<Room>,
}

pub(super) struct Worker {
    receiver: Receiver<Message>,
    /// Where decoded events' shells go back to the callers.
    shells: Arc<ShellPool>,
    room: Arc<Room>,
    sinks: Vec<Box<dyn Sink>>,
    assembler: RecordAssembler,
    counters: Arc<Counters>,
    abandon: Arc<AtomicBool>,
    gate: RecordGate,
    reporter: ErrorReporter,
    records: Vec<SecurityRecord>,
    lines: Vec<u8>,
    /// Callers waiting for the records of this batch to be written.
    waiting: Vec<Sender<()>>,
    drops_reported: u64,
}

impl Worker {
    pub(super) fn new(
        Inbox {
            receiver,
            shells,
            room,
        }: Inbox,
        sinks: Vec<Box<dyn Sink>>,
        assembler: RecordAssembler,
        counters: Arc<Counters>,
        abandon: Arc<AtomicBool>,
        gate: RecordGate,
        report_errors: bool,
    ) -> Self {
        Worker {
            receiver,
            shells,
            room,
            sinks,
            assembler,
            counters,
            abandon,
            gate,
            reporter: ErrorReporter::new(report_errors),
            records: Vec::with_capacity(MAX_BATCH),
            lines: Vec::with_capacity(MAX_BATCH * 512),
            waiting: Vec::new(),
            drops_reported: 0,
        }
    }

    pub(super) fn run(mut self) {
        ON_WORKER.with(|on| on.set(true));
        loop {
            let first = match self.receiver.recv_timeout(TICK) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    self.tick_sinks();
                    // Writes the notices of losses found since the last batch, if any.
                    self.write_batch();
                    continue;
                }
                // Every sender is gone and the queue is empty.
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut control = self.take(first);
            while control.is_none() && self.records.len() < MAX_BATCH {
                match self.receiver.try_recv() {
                    Ok(message) => control = self.take(message),
                    Err(_) => break,
                }
            }
            // Callers blocked on a full queue refill it while this batch is written.
            self.room.made();
            self.write_batch();
            match control {
                None => {}
                Some(Control::Flush(reply)) => {
                    let _ = reply.send(self.flush_sinks());
                }
                Some(Control::Reopen(reply)) => {
                    let _ = reply.send(self.reopen_sinks());
                }
                Some(Control::Shutdown(reply)) => return self.shut_down(reply),
                Some(Control::Reconfigure(change, reply)) => {
                    let _ = reply.send(self.reconfigure(*change));
                }
            }
        }
        let _ = self.flush_sinks();
    }

    fn shut_down(mut self, reply: Reply) {
        // Events that raced with the shutdown are written too, not lost.
        let mut replies = vec![reply];
        while let Ok(message) = self.receiver.try_recv() {
            match self.take(message) {
                Some(Control::Flush(other) | Control::Shutdown(other)) => replies.push(other),
                Some(Control::Reopen(other)) | Some(Control::Reconfigure(_, other)) => {
                    let _ = other.send(Ok(()));
                }
                None => {}
            }
            if self.records.len() >= MAX_BATCH {
                self.room.made();
                self.write_batch();
            }
        }
        self.write_batch();
        let result = self.flush_sinks();
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }

    fn take(&mut self, message: Message) -> Option<Control> {
        match message {
            Message::Event { event, written } => {
                self.waiting.extend(written);
                let event = match event {
                    Submitted::Captured(event) => *event,
                    Submitted::Pending(mut shell) => {
                        let event = shell.decode();
                        self.shells.put(shell);
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
            Message::Reconfigure(change, reply) => Some(Control::Reconfigure(change, reply)),
        }
    }

    /// Switches to new settings between two records: what came before is written under the old
    /// ones, sinks that did not change are kept open, sinks no longer wanted are flushed.
    fn reconfigure(&mut self, change: Reconfiguration) -> Result<(), Vec<SinkFailure>> {
        self.write_batch();
        for notice in change.before {
            let record = self.assembler.assemble(notice);
            self.push(record);
        }
        self.write_batch();

        self.gate.enabled = change.enabled;
        self.gate.filter = change.filter;
        self.assembler.reconfigure(change.redactor, change.service);
        let mut old: Vec<Option<Box<dyn Sink>>> = self.sinks.drain(..).map(Some).collect();
        for slot in change.sinks {
            match slot {
                SinkSlot::Keep(index) => {
                    if let Some(sink) = old.get_mut(index).and_then(Option::take) {
                        self.sinks.push(sink);
                    }
                }
                SinkSlot::Open(sink) => self.sinks.push(sink),
            }
        }
        let retired: Vec<Box<dyn Sink>> = old.into_iter().flatten().collect();
        let mut failures = Vec::new();
        for mut sink in retired {
            if let Err(error) = call_sink(|| sink.flush()) {
                Counters::add(&self.counters.sink_errors, 1);
                failures.push(SinkFailure {
                    sink: sink.name().to_owned(),
                    error,
                });
            }
        }

        for notice in change.after {
            let record = self.assembler.assemble(notice);
            self.push(record);
        }
        self.write_batch();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
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

    /// Adds an `audit.events_dropped` record for each sink that gave up records it had
    /// accepted (the OTLP sink past its memory and spool limits); they count as dropped.
    fn note_sink_losses(&mut self) {
        let mut losses = Vec::new();
        for sink in &mut self.sinks {
            let lost = sink.take_losses();
            if lost > 0 {
                losses.push((sink.name().to_owned(), lost));
            }
        }
        for (sink, lost) in losses {
            Counters::add(&self.counters.dropped, lost);
            self.drops_reported += lost;
            self.reporter
                .report(format_args!("sink {sink} gave up {lost} records"));
            let record = self.assembler.sink_losses_notice(&sink, lost);
            self.push(record);
        }
    }

    fn write_batch(&mut self) {
        self.note_drops();
        self.note_sink_losses();
        if self.records.is_empty() {
            return;
        }
        let batch = Batch::new(&self.records, &self.lines);
        let mut delivered = true;
        for sink in &mut self.sinks {
            delivered &= write_until_done(
                sink.as_mut(),
                &batch,
                &self.counters,
                &self.abandon,
                &mut self.reporter,
            );
        }
        if delivered {
            Counters::add(&self.counters.written, batch.len() as u64);
        }
        self.records.clear();
        self.lines.clear();
        for caller in self.waiting.drain(..) {
            let _ = caller.send(());
        }
    }

    fn flush_sinks(&mut self) -> Result<(), Vec<SinkFailure>> {
        self.for_each_sink("flush", |sink| sink.flush())
    }

    fn reopen_sinks(&mut self) -> Result<(), Vec<SinkFailure>> {
        self.for_each_sink("reopen", |sink| sink.reopen())
    }

    fn tick_sinks(&mut self) {
        let _ = self.for_each_sink("tick", |sink| sink.tick());
    }

    fn for_each_sink(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut dyn Sink) -> std::io::Result<()>,
    ) -> Result<(), Vec<SinkFailure>> {
        let mut failures = Vec::new();
        for sink in &mut self.sinks {
            if let Err(err) = call_sink(|| op(sink.as_mut())) {
                Counters::add(&self.counters.sink_errors, 1);
                self.reporter
                    .report(format_args!("sink {} failed to {what}: {err}", sink.name()));
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
    loop {
        match call_sink(|| sink.write(batch)) {
            Ok(()) => {
                if failures > 0 {
                    reporter.force(format_args!(
                        "sink {} recovered after {failures} failed attempts",
                        sink.name()
                    ));
                }
                return true;
            }
            Err(err) => {
                failures += 1;
                Counters::add(&counters.sink_errors, 1);
                reporter.report(format_args!(
                    "sink {} failed to write {} records (retrying): {err}",
                    sink.name(),
                    batch.len()
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
        if self.enabled
            && self
                .last
                .is_some_and(|last| last.elapsed() < Self::INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        self.force(what);
    }

    /// Reports regardless of the rate limit (recoveries and losses are rare and matter).
    fn force(&mut self, what: fmt::Arguments<'_>) {
        if !self.enabled {
            return;
        }
        self.last = Some(Instant::now());
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
