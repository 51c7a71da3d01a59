//! Reused [`PendingEvent`]s: callers take one, the worker gives it back emptied, so that in
//! steady state no event allocates on the caller's thread or frees caller memory on the worker.

use crossbeam_queue::ArrayQueue;

use crate::pending::PendingEvent;

/// Pending events kept for reuse, at most.
const KEPT: usize = 8192;

/// A bounded, lock-free queue of empty pending events shared by the callers and the worker.
#[derive(Debug)]
pub(crate) struct PendingEventPool {
    free: ArrayQueue<Box<PendingEvent>>,
}

impl PendingEventPool {
    /// A pool keeping at most as many pending events as the queue holds events (and at most 8192): a
    /// burst that filled the queue is followed by one that allocates nothing.
    pub(crate) fn new(queue_capacity: usize) -> Self {
        PendingEventPool {
            free: ArrayQueue::new(queue_capacity.clamp(1, KEPT)),
        }
    }

    /// An empty pending event: a reused one if any is free.
    pub(crate) fn take(&self) -> Box<PendingEvent> {
        self.free.pop().unwrap_or_default()
    }

    /// Empties `pending` and keeps it for reuse, unless the pool is full or it grew too big.
    pub(crate) fn put(&self, mut pending: Box<PendingEvent>) {
        if pending.reset() {
            // A full pool drops the pending event: memory stays bounded.
            let _ = self.free.push(pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_events_are_reused_up_to_the_bound() {
        let pool = PendingEventPool::new(2);
        let taken: Vec<_> = (0..3).map(|_| pool.take()).collect();
        let addresses: Vec<*const PendingEvent> = taken.iter().map(|s| &**s as *const _).collect();
        for pending in taken {
            pool.put(pending);
        }
        // Two kept, the third dropped; the kept ones come back.
        let again = [pool.take(), pool.take()];
        for pending in &again {
            assert!(addresses.contains(&(&**pending as *const _)));
        }
        assert!(pool.free.is_empty());
    }
}
