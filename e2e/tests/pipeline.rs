//! The queue and the worker: nothing lost under back-pressure, losses under the drop policy
//! counted and reported, the guard flushes, sink failures never reach the caller.

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{read_records, run, TempLog};
use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Deserialize;
use tracing_security_events::sink::{Batch, Sink};
use tracing_security_events::{security_event, FlushError, OverflowPolicy, SecurityEvent};
use tracing_subscriber::prelude::*;

#[derive(Deserialize)]
struct Line {
    seq: u64,
    fields: LineFields,
}

#[derive(Deserialize)]
struct LineFields {
    thread: u64,
    i: u64,
}

#[test]
fn eight_threads_of_100k_events_under_block_lose_nothing() {
    const THREADS: u64 = 8;
    const EACH: u64 = 100_000;
    let log = TempLog::new();
    // A small queue, so that the callers really do wait for the worker.
    let (layer, guard) = log.builder().with_queue_capacity(1024).build().unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..EACH {
                        security_event!(SecurityEvent::SensitiveDataRead, thread, i);
                    }
                })
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let stats = guard.shutdown().unwrap();
    assert_eq!(stats.written, THREADS * EACH);
    assert_eq!(stats.dropped, 0);

    let text = std::fs::read_to_string(&log.path).unwrap();
    let mut next_i = vec![0; THREADS as usize];
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        let line: Line = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        assert_eq!(line.seq, n as u64 + 1, "seq is gap-free and in file order");
        let expected = &mut next_i[line.fields.thread as usize];
        assert_eq!(
            line.fields.i, *expected,
            "each thread's events stay in order"
        );
        *expected += 1;
        lines += 1;
    }
    assert_eq!(lines, THREADS * EACH);
}

/// A sink that blocks inside `write` until the test opens the gate; says when it is blocked.
struct GateSink {
    entered: Sender<()>,
    open: Receiver<()>,
    opened: bool,
}

/// A stalled sink; the receiver tells when it is stuck, the sender releases it.
fn gate_sink() -> (GateSink, Receiver<()>, Sender<()>) {
    let (entered_tx, entered) = bounded(1);
    let (open, open_rx) = bounded(1);
    let gate = GateSink {
        entered: entered_tx,
        open: open_rx,
        opened: false,
    };
    (gate, entered, open)
}

impl Sink for GateSink {
    fn name(&self) -> &str {
        "gate"
    }

    fn write(&mut self, _: &Batch<'_>) -> io::Result<()> {
        if !self.opened {
            let _ = self.entered.send(());
            let _ = self.open.recv();
            self.opened = true;
        }
        Ok(())
    }
}

#[test]
fn the_drop_policy_counts_losses_and_writes_an_audit_record() {
    let log = TempLog::new();
    let (gate, entered, open) = gate_sink();
    let builder = log
        .builder()
        .with_sink(gate)
        .with_queue_capacity(16)
        .with_overflow(OverflowPolicy::Drop);
    let (layer, guard) = builder.build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut total = 0;
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed, i = 0);
        // The writer is now stuck in the gate sink, after the file sink wrote record 1.
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        // The worker takes what it can off the queue until the writer's channel is full too;
        // how much depends on when it wakes, so the callers go on until 50 were dropped (the
        // worker holds three batches at most), and the file tells which were kept.
        let mut emitted = 1;
        while guard.stats().dropped < 50 {
            assert!(emitted < 10_000, "nothing dropped with the sink stalled");
            security_event!(SecurityEvent::LoginFailed, i = emitted);
            emitted += 1;
        }
        total = emitted;
        open.send(()).unwrap();
    });
    let stats = guard.shutdown().unwrap();

    let records = read_records(&log.path);
    let (notices, kept): (Vec<_>, Vec<_>) = records
        .iter()
        .partition(|r| r["event"]["name"] == "audit.events_dropped");
    let kept: Vec<u64> = kept
        .iter()
        .map(|r| r["fields"]["i"].as_u64().unwrap())
        .collect();
    let dropped = total - kept.len() as u64;
    assert_eq!(
        stats.dropped, dropped,
        "every record not in the file is counted"
    );
    assert!(kept.len() >= 17, "the queue's 16 slots were kept: {kept:?}");
    assert_eq!(kept[0], 0);
    assert!(
        kept.windows(2).all(|w| w[0] < w[1]),
        "kept in the order written, none twice: {kept:?}"
    );
    // One notice, or a few when the worker noted losses before it was stuck: together they
    // count every loss.
    assert!(!notices.is_empty());
    let mut noticed = 0;
    for notice in &notices {
        assert_eq!(notice["event"]["severity"], "error");
        let n = notice["fields"]["dropped"].as_u64().unwrap();
        assert_eq!(
            notice["message"],
            format!("{n} security events were dropped")
        );
        noticed += n;
    }
    assert_eq!(noticed, dropped);
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=records.len() as u64).collect::<Vec<_>>(),
        "drops leave no gap in seq"
    );
}

#[test]
fn dropping_the_guard_leaves_nothing_unwritten() {
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..20_000 {
            security_event!(SecurityEvent::SensitiveDataRead, i);
        }
    });
    drop(guard);
    assert_eq!(read_records(&log.path).len(), 20_000);
}

#[test]
fn flush_makes_everything_before_it_readable() {
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..500 {
            security_event!(SecurityEvent::TokenCreated);
        }
        let stats = guard.flush().unwrap();
        assert_eq!(stats.written, 500);
        assert_eq!(read_records(&log.path).len(), 500);
        security_event!(SecurityEvent::TokenRevoked);
    });
    assert_eq!(guard.shutdown().unwrap().written, 501);
}

/// A sink failing (or panicking) on its first writes, remembering what it accepted.
#[derive(Clone, Default)]
struct FlakySink {
    failing_writes: Arc<Mutex<usize>>,
    panic: bool,
    fail_flush: bool,
    accepted: Arc<Mutex<usize>>,
}

impl Sink for FlakySink {
    fn name(&self) -> &str {
        "flaky"
    }

    fn write(&mut self, batch: &Batch<'_>) -> io::Result<()> {
        let mut failing = self.failing_writes.lock().unwrap();
        if *failing > 0 {
            *failing -= 1;
            drop(failing);
            if self.panic {
                panic!("sink bug");
            }
            return Err(io::Error::other("disk on fire"));
        }
        *self.accepted.lock().unwrap() += batch.len();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.fail_flush {
            return Err(io::Error::other("cannot sync"));
        }
        Ok(())
    }
}

#[test]
fn failing_or_panicking_sinks_are_retried_until_they_recover_and_counted() {
    for panic in [false, true] {
        let flaky = FlakySink {
            failing_writes: Arc::new(Mutex::new(3)),
            panic,
            ..Default::default()
        };
        let log = TempLog::new();
        let builder = log
            .builder()
            .with_sink(flaky.clone())
            .with_error_reporting(false);
        let (records, stats) = run(&log, builder, || {
            for _ in 0..10 {
                security_event!(SecurityEvent::LoginFailed);
            }
        });
        assert_eq!(records.len(), 10);
        assert_eq!(
            *flaky.accepted.lock().unwrap(),
            10,
            "nothing lost to the failures"
        );
        assert_eq!(stats.sink_errors, 3, "each failed attempt is counted");
        assert_eq!(stats.written, 10);
        assert_eq!(stats.dropped, 0);
    }
}

#[test]
fn a_sink_that_never_recovers_is_given_up_at_shutdown_and_counted() {
    let flaky = FlakySink {
        failing_writes: Arc::new(Mutex::new(usize::MAX)),
        ..Default::default()
    };
    let log = TempLog::new();
    let (layer, guard) = log
        .builder()
        .with_sink(flaky)
        .with_error_reporting(false)
        .with_flush_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let stats = guard.stats_handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..5 {
            // Fail-open: the caller does not wait for the broken sink.
            security_event!(SecurityEvent::LoginFailed);
        }
    });
    let err = guard.shutdown().unwrap_err();
    assert!(matches!(err, FlushError::TimedOut { .. }), "{err}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // The 5 events, then the audit.events_dropped record about them, which cannot reach the
    // broken sink either.
    while stats.get().dropped < 6 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        stats.get().dropped,
        6,
        "the lost records are counted, not silent"
    );
    assert!(stats.get().sink_errors >= 1);
}

#[test]
fn shutdown_reports_the_sinks_that_could_not_flush() {
    let log = TempLog::new();
    let flaky = FlakySink {
        fail_flush: true,
        ..Default::default()
    };
    let (layer, guard) = log
        .builder()
        .with_sink(flaky)
        .with_error_reporting(false)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || security_event!(SecurityEvent::LoginFailed));
    match guard.shutdown() {
        Err(FlushError::Sinks(failures)) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].sink(), "flaky");
            assert_eq!(failures[0].kind(), Some(io::ErrorKind::Other));
            assert!(failures[0].reason().contains("cannot sync"));
        }
        other => panic!("expected a sink failure, got {other:?}"),
    }
    assert_eq!(read_records(&log.path).len(), 1);
}

#[test]
fn a_stalled_sink_makes_shutdown_time_out_instead_of_hanging() {
    let log = TempLog::new();
    let (gate, entered, open) = gate_sink();
    let (layer, guard) = log
        .builder()
        .with_sink(gate)
        .with_flush_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed);
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        security_event!(SecurityEvent::LoginFailed);
    });
    let err = guard.shutdown().unwrap_err();
    assert!(matches!(err, FlushError::TimedOut { .. }), "{err}");
    assert!(err.to_string().contains("200ms"), "{err}");
    open.send(()).unwrap();
}

#[test]
fn events_after_shutdown_are_counted_as_dropped_and_harmless() {
    let log = TempLog::new();
    let (layer, guard) = log.builder().build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _default = tracing::subscriber::set_default(subscriber);
    let stats = guard.stats_handle();
    security_event!(SecurityEvent::SystemShutdown);
    assert_eq!(guard.shutdown().unwrap().written, 1);
    for _ in 0..3 {
        security_event!(SecurityEvent::LoginFailed);
    }
    assert_eq!(stats.get().dropped, 3);
    assert_eq!(read_records(&log.path).len(), 1);
}

/// Emits one record on another thread; returns what tells that `security_event!` returned.
fn emit_on_another_thread(dispatch: &tracing::Dispatch) -> Receiver<()> {
    let (returned, done) = bounded(1);
    let dispatch = dispatch.clone();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            security_event!(SecurityEvent::LoginFailed, i = 1);
        });
        let _ = returned.send(());
    });
    done
}

#[test]
fn fail_closed_callers_wait_until_their_record_is_written() {
    use tracing_security_events::SinkFailurePolicy;
    for policy in [SinkFailurePolicy::FailClosed, SinkFailurePolicy::FailOpen] {
        let log = TempLog::new();
        let (gate, entered, open) = gate_sink();
        let (layer, guard) = log
            .builder()
            .with_sink(gate)
            .with_sink_failure(policy)
            .build()
            .unwrap();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let returned = emit_on_another_thread(&dispatch);
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        // The record is stuck in the stalled sink.
        let early = returned.recv_timeout(Duration::from_millis(300));
        match policy {
            SinkFailurePolicy::FailClosed => assert!(early.is_err(), "returned before written"),
            _ => assert!(early.is_ok(), "fail-open callers do not wait"),
        }
        open.send(()).unwrap();
        if policy == SinkFailurePolicy::FailClosed {
            returned.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        assert_eq!(guard.shutdown().unwrap().written, 1);
    }
}

#[test]
fn queued_counts_every_record_accepted_and_not_yet_written() {
    const EVENTS: u64 = 3000;
    let log = TempLog::new();
    let (gate, entered, open) = gate_sink();
    let builder = log.builder().with_sink(gate).with_queue_capacity(256);
    let (layer, guard) = builder.build().unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let accepted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let producer = {
        let (dispatch, accepted) = (dispatch.clone(), accepted.clone());
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..EVENTS {
                    security_event!(SecurityEvent::LoginFailed, i);
                    accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        })
    };
    entered.recv_timeout(Duration::from_secs(10)).unwrap();
    // The producer stops once the queue, the worker's batch and the writer's are all full.
    let mut last = u64::MAX;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = accepted.load(std::sync::atomic::Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    let stats = guard.stats();
    assert!(last < EVENTS, "the stalled sink held the producer back");
    assert!(
        last > 256,
        "more than the queue's capacity is waiting: {last}"
    );
    assert_eq!(stats.written, 0, "the first batch is the stalled one");
    assert_eq!(
        stats.queued as u64, last,
        "every accepted record is waiting somewhere: {stats:?}"
    );
    open.send(()).unwrap();
    producer.join().unwrap();
    let stats = guard.shutdown().unwrap();
    assert_eq!(stats.queued, 0, "nothing waits once all is written");
    assert_eq!((stats.written, stats.dropped), (EVENTS, 0));
    let records = read_records(&log.path);
    assert_eq!(records.len() as u64, EVENTS);
    let waiting_at_snapshot = records
        .iter()
        .filter(|r| r["fields"]["i"].as_u64().unwrap() < last)
        .count() as u64;
    assert_eq!(waiting_at_snapshot, last);
}
