//! The rule thread: reads the records the log wrote, evaluates the rules and detections, and
//! hands notifications to the delivery threads. It runs beside the log, never in its way: the
//! log's writer only queues lines for it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::delivery::Delivery;
use super::detection::Detector;
use super::log_link::LogLink;
use super::rule::{LazyRecord, Rules};
use super::stats::NotifyCounters;
use crate::pipeline::Counters;
use crate::SecurityEvent;

/// What the rule thread is given.
pub(crate) enum ToRules {
    /// Records as written, one JSON line each.
    Lines { lines: Vec<u8>, records: usize },
    /// Answer once everything before it is evaluated and delivered (or the time is up).
    Flush(Sender<()>),
}

/// The rule thread's state.
pub(crate) struct RuleThread {
    pub(crate) rules: Rules,
    /// For each rule, the deliveries it sends through.
    pub(crate) routes: Vec<Vec<usize>>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) detectors: Vec<Box<dyn Detector>>,
    pub(crate) log: LogLink,
    pub(crate) counters: Arc<NotifyCounters>,
    /// Records queued for this thread, which the sink bounds.
    pub(crate) queued: Arc<AtomicUsize>,
    pub(crate) flush_timeout: Duration,
    /// What the rules and detections read of a record.
    pub(crate) members: crate::store::Members,
    /// `"audit.notification_failed"`, quoted, to find in a line before parsing it.
    pub(crate) failure_name: memchr::memmem::Finder<'static>,
}

impl RuleThread {
    pub(crate) fn run(mut self, inbox: &Receiver<ToRules>) {
        crate::pipeline::mark_log_thread();
        for message in inbox {
            match message {
                ToRules::Lines { lines, records } => {
                    for line in lines.split(|&byte| byte == b'\n') {
                        if line.is_empty() {
                            continue;
                        }
                        // A bug in a rule or detection loses that record's evaluation, not
                        // the rule thread (and every notification after it).
                        let evaluated = catch_unwind(AssertUnwindSafe(|| self.process(line)));
                        if evaluated.is_err() {
                            Counters::add(&self.counters.panics, 1);
                        }
                    }
                    self.queued.fetch_sub(records, Ordering::Relaxed);
                }
                ToRules::Flush(reply) => {
                    self.flush();
                    let _ = reply.send(());
                }
            }
        }
    }

    /// Evaluates one record.
    pub(crate) fn process(&mut self, line: &[u8]) {
        let Ok(text) = std::str::from_utf8(line) else {
            return;
        };
        Counters::add(&self.counters.records, 1);
        let record = LazyRecord::new(text, &self.members);
        // A notification about a failed notification could fail the same way, and so on:
        // these records are never notified nor counted.
        let failed = SecurityEvent::AuditNotificationFailed.as_str();
        if self.failure_name.find(line).is_some()
            && record.get().and_then(|r| r.str_at(&["event", "name"])) == Some(failed)
        {
            return;
        }
        let now = self.log.now();
        for (rule, notification) in self.rules.evaluate_record(&record, now) {
            let notification = Arc::new(notification);
            for &delivery in &self.routes[rule] {
                Counters::add(&self.counters.notifications, 1);
                let delivery = &self.deliveries[delivery];
                if !delivery.offer(notification.clone()) {
                    Counters::add(&self.counters.failed, 1);
                    self.log.notification_failed(
                        &notification.rule,
                        &delivery.name,
                        "the transport's queue is full",
                        0,
                        notification.record_id().as_deref(),
                    );
                }
            }
        }
        for detector in &mut self.detectors {
            if !detector.may_match(line) {
                continue;
            }
            let Some(record) = record.get() else {
                return;
            };
            if let Some(finding) = detector.observe(record, self.log.now()) {
                Counters::add(&self.counters.detections, 1);
                self.log
                    .record(finding.writes, finding.fields, Some(record));
            }
        }
    }

    /// Waits, at most the flush timeout, for every delivery queued so far.
    fn flush(&self) {
        let deadline = Instant::now() + self.flush_timeout;
        let answers: Vec<_> = self
            .deliveries
            .iter()
            .filter_map(|delivery| delivery.flush(self.flush_timeout))
            .collect();
        for answer in answers {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = answer.recv_timeout(left);
        }
    }
}
