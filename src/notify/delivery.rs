//! One delivery thread per transport: a bounded queue of notifications, each sent with retries
//! and back-off, a failure counted and recorded.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use super::log_link::LogLink;
use super::rule::Notification;
use super::stats::NotifyCounters;
use super::transport::{Transport, TransportError};
use crate::pipeline::Counters;

/// Notifications waiting for one transport, at most.
pub(crate) const DELIVERY_QUEUE: usize = 1024;

/// How a notification that could not be sent is tried again.
///
/// The default: three retries, 0.5 s then 1 s then 2 s apart (doubling, at most `max_backoff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries after the first.
    pub retries: u32,
    /// The wait before the first retry.
    pub backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What a delivery thread is asked.
pub(crate) enum ToDelivery {
    Send(Arc<Notification>),
    /// Answer once everything before it is delivered or given up.
    Flush(Sender<()>),
}

/// The rule thread's handle of one delivery thread.
pub(crate) struct Delivery {
    pub(crate) name: String,
    sender: Sender<ToDelivery>,
}

impl Delivery {
    /// Starts the delivery thread of `transport`, named `name`.
    pub(crate) fn start(
        name: String,
        transport: Box<dyn Transport>,
        retry: Retry,
        log: LogLink,
        counters: Arc<NotifyCounters>,
    ) -> std::io::Result<Delivery> {
        let (sender, inbox) = bounded(DELIVERY_QUEUE);
        let worker = Deliverer {
            name: name.clone(),
            transport,
            retry,
            log,
            counters,
        };
        std::thread::Builder::new()
            .name(format!("security-notify-{name}"))
            .spawn(move || worker.run(&inbox))?;
        Ok(Delivery { name, sender })
    }

    /// Queues `notification`; false when the queue is full (the caller records the failure).
    pub(crate) fn offer(&self, notification: Arc<Notification>) -> bool {
        !matches!(
            self.sender.try_send(ToDelivery::Send(notification)),
            Err(TrySendError::Full(_))
        )
    }

    /// Asks for an answer once what is queued now is done; the receiver gets it.
    pub(crate) fn flush(&self, timeout: Duration) -> Option<Receiver<()>> {
        let (reply, answer) = bounded(1);
        self.sender
            .send_timeout(ToDelivery::Flush(reply), timeout)
            .ok()
            .map(|()| answer)
    }
}

/// The delivery thread's side.
struct Deliverer {
    name: String,
    transport: Box<dyn Transport>,
    retry: Retry,
    log: LogLink,
    counters: Arc<NotifyCounters>,
}

impl Deliverer {
    fn run(mut self, inbox: &Receiver<ToDelivery>) {
        crate::pipeline::mark_log_thread();
        // Ends when the rule thread drops its sender, after what was queued.
        for message in inbox {
            match message {
                ToDelivery::Send(notification) => self.deliver(&notification),
                ToDelivery::Flush(reply) => {
                    let _ = reply.send(());
                }
            }
        }
    }

    fn deliver(&mut self, notification: &Notification) {
        let mut backoff = self.retry.backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            // A transport that panics (a callback's bug) fails this notification, not the log.
            let result = catch_unwind(AssertUnwindSafe(|| self.transport.send(notification)))
                .unwrap_or_else(|_| Err(TransportError::permanent("the transport panicked")));
            match result {
                Ok(()) => {
                    Counters::add(&self.counters.delivered, 1);
                    return;
                }
                Err(error) if error.is_transient() && attempts <= self.retry.retries => {
                    Counters::add(&self.counters.retries, 1);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                }
                Err(error) => {
                    Counters::add(&self.counters.failed, 1);
                    self.log.notification_failed(
                        &notification.rule,
                        &self.name,
                        &error.to_string(),
                        attempts,
                        notification.record_id().as_deref(),
                    );
                    return;
                }
            }
        }
    }
}
