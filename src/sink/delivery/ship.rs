//! The shipping loop and the thread that runs it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::backlog::{Backlog, Entry};
use crate::sink::SinkLoss;

const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long the shipper waits for records before looking at its stop flag again.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Counters of one shipping sink.
#[derive(Debug, Default)]
pub(crate) struct DeliveryCounters {
    /// Records delivered.
    pub(crate) delivered: AtomicU64,
    /// Attempts that failed (each retried).
    pub(crate) failed_attempts: AtomicU64,
    /// Records the destination could not take in any form, skipped.
    pub(crate) unmappable: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
    /// Records skipped since the last look, with why (for `audit.events_dropped`).
    refused: Mutex<Vec<SinkLoss>>,
}

impl DeliveryCounters {
    /// One record the destination could not take (or the sink could not map), skipped: counted,
    /// and handed on with `reason` to be recorded.
    pub(crate) fn refuse(&self, reason: String) {
        self.unmappable.fetch_add(1, Ordering::Relaxed);
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        match refused.iter_mut().find(|loss| loss.reason == reason) {
            Some(loss) => loss.records += 1,
            None => refused.push(SinkLoss::new(1, reason)),
        }
    }

    /// The records refused since the last call.
    pub(crate) fn take_refused(&self) -> Vec<SinkLoss> {
        std::mem::take(&mut *self.refused.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// How a shipper forms its batches: at most `max` records and `max_bytes`, and how long it
/// waits for a batch to fill before sending a smaller one (zero: send what is there).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    pub(crate) max: usize,
    pub(crate) max_bytes: usize,
    pub(crate) linger: Duration,
}

/// The loop: takes up to `limits` of the oldest records, hands them to `deliver`, and
/// acknowledges them when it says how many it delivered; on an error puts them back and tries
/// again after a back-off (50 ms doubling to 5 s), until `stop`.
pub(crate) fn ship(
    backlog: &Backlog,
    limits: BatchLimits,
    counters: &DeliveryCounters,
    stop: &AtomicBool,
    deliver: &mut dyn FnMut(&[Entry]) -> Result<u64, String>,
) {
    let BatchLimits {
        max,
        max_bytes,
        linger,
    } = limits;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if !linger.is_zero() {
            backlog.wait_for_batch(max, max_bytes, linger);
        }
        let Some(batch) = backlog.take(max, max_bytes, IDLE_WAIT) else {
            break;
        };
        if stop.load(Ordering::Relaxed) {
            backlog.put_back(batch);
            break;
        }
        if batch.is_empty() {
            continue;
        }
        match deliver(&batch) {
            Ok(delivered) => {
                counters.delivered.fetch_add(delivered, Ordering::Relaxed);
                backlog.acknowledge(batch);
                backoff = FIRST_BACKOFF;
            }
            Err(error) => {
                counters.failed_attempts.fetch_add(1, Ordering::Relaxed);
                *counters
                    .last_error
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(error);
                backlog.put_back(batch);
                sleep_unless_stopped(backoff, stop);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sleeps `duration`, or less when `stop` is set meanwhile.
fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let deadline = std::time::Instant::now() + duration;
    while std::time::Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10).min(duration));
    }
}

/// A sink's shipping thread, and how to stop it.
#[derive(Debug)]
pub(crate) struct ShipperThread {
    thread: Option<JoinHandle<()>>,
    stop: std::sync::Arc<AtomicBool>,
}

impl ShipperThread {
    /// Runs `work` on a thread named `name`; `work` gets the stop flag to watch.
    pub(crate) fn spawn(
        name: &str,
        work: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || work(&thread_stop))?;
        Ok(ShipperThread {
            thread: Some(thread),
            stop,
        })
    }

    /// Stops the thread after its current attempt, and waits for it.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
