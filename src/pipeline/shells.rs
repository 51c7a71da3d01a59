//! Reused [`PendingEvent`] shells: callers take one, the worker gives it back emptied, so that in
//! steady state no event allocates on the caller's thread or frees caller memory on the worker.

use crossbeam_queue::ArrayQueue;

use crate::pending::PendingEvent;

/// Shells kept for reuse, at most.
const KEPT: usize = 8192;

/// A bounded, lock-free queue of empty shells shared by the callers and the worker.
#[derive(Debug)]
pub(crate) struct ShellPool {
    free: ArrayQueue<Box<PendingEvent>>,
}

impl ShellPool {
    /// A pool keeping at most as many shells as the queue holds events (and at most 8192): a
    /// burst that filled the queue is followed by one that allocates nothing.
    pub(crate) fn new(queue_capacity: usize) -> Self {
        ShellPool {
            free: ArrayQueue::new(queue_capacity.clamp(1, KEPT)),
        }
    }

    /// An empty shell: a reused one if any is free.
    pub(crate) fn take(&self) -> Box<PendingEvent> {
        self.free.pop().unwrap_or_default()
    }

    /// Empties `shell` and keeps it for reuse, unless the pool is full or it grew too big.
    pub(crate) fn put(&self, mut shell: Box<PendingEvent>) {
        if shell.reset() {
            // A full pool drops the shell: memory stays bounded.
            let _ = self.free.push(shell);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_are_reused_up_to_the_bound() {
        let pool = ShellPool::new(2);
        let shells: Vec<_> = (0..3).map(|_| pool.take()).collect();
        let addresses: Vec<*const PendingEvent> = shells.iter().map(|s| &**s as *const _).collect();
        for shell in shells {
            pool.put(shell);
        }
        // Two kept, the third dropped; the kept ones come back.
        let again = [pool.take(), pool.take()];
        for shell in &again {
            assert!(addresses.contains(&(&**shell as *const _)));
        }
        assert!(pool.free.is_empty());
    }
}
