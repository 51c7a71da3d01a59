//! Waiting for space in a full queue, woken once per batch the worker takes rather than once per
//! record.
//!
//! A caller blocked in the channel's own `send` spins, then parks, and is woken by every single
//! `recv`: against a full queue the worker paid a futex wake-up per record and the spinning
//! caller competed with it for the cores (measured: the spinning alone was a quarter of the CPU
//! time in the throughput bench). Here a caller that finds the queue full sleeps until the worker
//! has taken a whole batch, then refills it in one go.

use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How long a waiting caller sleeps before looking again by itself: a safety net only, the
/// worker wakes it as soon as there is space.
const RECHECK: Duration = Duration::from_millis(10);

/// Where callers wait for space in the queue, and where the worker says there is some.
#[derive(Debug, Default)]
pub(crate) struct QueueSpace {
    waiting: AtomicUsize,
    lock: Mutex<()>,
    freed: Condvar,
}

impl QueueSpace {
    /// Sleeps until the worker has made space, unless `still_full` says there already is some.
    pub(crate) fn wait(&self, still_full: impl Fn() -> bool) {
        let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // Pairs with the fence in `made`: either the worker sees this caller waiting, or this
        // caller sees the space the worker made.
        fence(Ordering::SeqCst);
        if still_full() {
            let _ = self
                .freed
                .wait_timeout(guard, RECHECK)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }

    /// Called by the worker after taking messages off the queue: wakes the callers waiting for
    /// space, if any (one atomic load when none is).
    pub(crate) fn freed(&self) {
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn a_waiting_caller_is_woken_when_space_is_freed() {
        let space = Arc::new(QueueSpace::default());
        let full = Arc::new(AtomicBool::new(true));
        let waiter = {
            let (space, full) = (space.clone(), full.clone());
            std::thread::spawn(move || {
                let mut rounds = 0;
                while full.load(Ordering::SeqCst) {
                    space.wait(|| full.load(Ordering::SeqCst));
                    rounds += 1;
                }
                rounds
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        full.store(false, Ordering::SeqCst);
        space.freed();
        let rounds = waiter.join().unwrap();
        // It slept (in rounds of RECHECK at most) until then; a spinning caller would have
        // looked millions of times.
        assert!((1..10_000).contains(&rounds), "{rounds} rounds");
    }

    #[test]
    fn a_caller_that_finds_space_does_not_stay_counted_as_waiting() {
        let space = QueueSpace::default();
        space.wait(|| false);
        assert_eq!(space.waiting.load(Ordering::SeqCst), 0);
    }
}
