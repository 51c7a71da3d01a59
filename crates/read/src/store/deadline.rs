//! How long a read may take, and whether its reader is still there: every store checks both as
//! it goes, so that a costly query ends with an error instead of holding a core, and a reader
//! who has gone stops the work it started.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::StoreError;

/// The time a read has, and the flag its reader sets by going away.
///
/// ```
/// use std::time::Duration;
/// use tracing_security_events::store::Deadline;
///
/// let deadline = Deadline::after(Duration::from_secs(5));
/// assert!(deadline.check().is_ok());
/// let cancel = deadline.canceller();
/// cancel.cancel(); // the reader went away
/// assert!(deadline.check().is_err());
/// ```
#[derive(Clone, Default)]
pub struct Deadline {
    at: Option<(Instant, Duration)>,
    cancel: Arc<Cancel>,
}

#[derive(Default)]
struct Cancel {
    cancelled: AtomicBool,
    /// What to run when the read is cancelled (a database's cancel request), by key.
    hooks: Mutex<Vec<(u64, Box<dyn FnOnce() + Send>)>>,
}

impl fmt::Debug for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadline")
            .field("limit", &self.at.map(|(_, limit)| limit))
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Deadline {
    /// No limit in time; cancelled only through a [`canceller`](Deadline::canceller).
    pub fn none() -> Self {
        Deadline::default()
    }

    /// `limit` from now.
    pub fn after(limit: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(limit).map(|at| (at, limit)),
            cancel: Arc::default(),
        }
    }

    /// A handle that cancels this read (and its clones) from elsewhere: the read API cancels
    /// when the client disconnects.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            cancel: self.cancel.clone(),
        }
    }

    /// Whether the read was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.cancelled.load(Ordering::Relaxed)
    }

    /// The time the read was given; `None` without a limit.
    pub fn limit(&self) -> Option<Duration> {
        self.at.map(|(_, limit)| limit)
    }

    /// The time left; `None` without a limit.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|(at, _)| at.saturating_duration_since(Instant::now()))
    }

    /// An error once the read is cancelled or out of time.
    pub fn check(&self) -> Result<(), StoreError> {
        if self.is_cancelled() {
            return Err(StoreError::Cancelled);
        }
        match self.at {
            Some((at, limit)) if Instant::now() >= at => Err(StoreError::DeadlineExceeded(limit)),
            _ => Ok(()),
        }
    }

    /// Runs `hook` if the read is cancelled while `work` runs (a database statement's cancel
    /// request), and not after.
    #[cfg(feature = "postgres")]
    pub(crate) fn while_cancellable<T>(
        &self,
        hook: impl FnOnce() + Send + 'static,
        work: impl FnOnce() -> T,
    ) -> T {
        static KEYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let key = KEYS.fetch_add(1, Ordering::Relaxed);
        self.cancel
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((key, Box::new(hook)));
        if self.is_cancelled() {
            self.cancel.run_hooks();
        }
        let result = work();
        self.cancel
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(k, _)| *k != key);
        result
    }

    /// A counter that looks at the clock only every so many calls, for loops over lines.
    pub(crate) fn every(&self, calls: u32) -> Ticker<'_> {
        let calls = calls.max(1);
        Ticker {
            deadline: self,
            calls,
            left: calls,
        }
    }
}

impl Cancel {
    fn run_hooks(&self) {
        let hooks: Vec<_> =
            std::mem::take(&mut *self.hooks.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, hook) in hooks {
            hook();
        }
    }
}

/// Cancels a read: see [`Deadline::canceller`].
#[derive(Clone)]
pub struct Canceller {
    cancel: Arc<Cancel>,
}

impl fmt::Debug for Canceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canceller").finish_non_exhaustive()
    }
}

impl Canceller {
    /// Cancels the read: its next check fails, and a statement it is waiting for is cancelled.
    pub fn cancel(&self) {
        if !self.cancel.cancelled.swap(true, Ordering::Relaxed) {
            self.cancel.run_hooks();
        }
    }
}

/// Checks a deadline every so many calls.
pub(crate) struct Ticker<'d> {
    deadline: &'d Deadline,
    calls: u32,
    left: u32,
}

impl Ticker<'_> {
    /// Counts a call; checks the deadline every `calls` calls.
    pub(crate) fn tick(&mut self) -> Result<(), StoreError> {
        self.left -= 1;
        if self.left == 0 {
            self.left = self.calls;
            return self.deadline.check();
        }
        Ok(())
    }
}
