//! The fleet evaluator's thread: takes the lease when it is free, then reads the fleet's rows in
//! order and runs the detections over them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::Client;

use super::raised::{claim, forget};
use super::streams::Streams;
use super::FleetDetections;
use crate::notify::detection::{Detection, Detector};
use crate::notify::log_link::LogLink;
use crate::notify::rule::LazyRecord;
use crate::notify::stats::NotifyCounters;
use crate::pipeline::Counters;
use crate::postgres_table::schema;
use crate::store::Members;

/// Rows evaluated between two saves of the cursors.
const ROWS_PER_SAVE: usize = 5000;
/// How often windows too old to matter are forgotten.
const FORGET_EVERY: Duration = Duration::from_secs(600);

/// Everything the thread needs; see [the module](super).
pub(crate) struct FleetEvaluator {
    pub(crate) settings: FleetDetections,
    pub(crate) url: String,
    /// The detections, started afresh each time this instance takes the lease.
    pub(crate) detections: Vec<Detection>,
    pub(crate) log: LogLink,
    pub(crate) counters: Arc<NotifyCounters>,
    pub(crate) stop: Arc<AtomicBool>,
    /// Whether this instance holds the lease now (for tests and stats).
    pub(crate) leading: Arc<AtomicBool>,
}

/// What the evaluator holds while it leads.
struct Lead {
    detectors: Vec<Box<dyn Detector>>,
    members: Members,
    streams: Streams,
    memory: i64,
    forgotten: Instant,
}

impl FleetEvaluator {
    pub(crate) fn run(self) {
        crate::pipeline::mark_log_thread();
        let mut client: Option<Client> = None;
        let mut lead: Option<Lead> = None;
        while !self.stop.load(Ordering::Relaxed) {
            let worked = match self.round(&mut client, &mut lead) {
                Ok(worked) => worked,
                Err(_) => {
                    // The session is gone or unsure: so is the lease. Start again.
                    client = None;
                    lead = None;
                    false
                }
            };
            self.leading.store(lead.is_some(), Ordering::Relaxed);
            if !worked {
                self.sleep(self.settings.poll);
            }
        }
    }

    /// Sleeps `period`, waking early when told to stop.
    fn sleep(&self, period: Duration) {
        let end = Instant::now() + period;
        while !self.stop.load(Ordering::Relaxed) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10).min(period));
        }
    }

    /// One round: connects, takes the lease if free, evaluates what is new. Whether it did
    /// work (and should go on at once).
    fn round(
        &self,
        client: &mut Option<Client>,
        lead: &mut Option<Lead>,
    ) -> Result<bool, postgres::Error> {
        if client.as_ref().is_none_or(Client::is_closed) {
            *lead = None;
            let Ok(mut connection) = schema::connect(&self.url) else {
                return Ok(false);
            };
            // A vanished machine's lease ends when the server stops hearing from it; a
            // statement that hangs ends too, and the session is made again.
            connection.batch_execute(
                "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
                 SET tcp_keepalives_count = 2; SET statement_timeout = '30s'",
            )?;
            if schema::migrate(&mut connection, &self.settings.table).is_err() {
                return Ok(false);
            }
            *client = Some(connection);
        }
        let connection = client.as_mut().expect("connected just above");
        if lead.is_none() {
            let lease = format!(
                "{}/fleet-detections/{}",
                self.settings.table, self.settings.scope
            );
            let taken: bool = connection
                .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&lease])?
                .get(0);
            if !taken {
                return Ok(false);
            }
            *lead = Some(self.take_over(connection)?);
            Counters::add(&self.counters.leases_taken, 1);
        }
        let lead = lead.as_mut().expect("leading just above");
        self.evaluate(connection, lead)
    }

    /// Starts the detections afresh and the streams where the previous evaluator stopped,
    /// less what the detections' memory reaches.
    fn take_over(&self, client: &mut Client) -> Result<Lead, postgres::Error> {
        let now = self.log.now();
        let detectors: Vec<Box<dyn Detector>> = self
            .detections
            .iter()
            .filter_map(|detection| detection.clone().start(now).ok())
            .collect();
        let mut members = Members::of_record();
        for detector in &detectors {
            detector.add_members(&mut members);
        }
        let memory = detectors
            .iter()
            .map(|d| d.memory())
            .chain([self.settings.lookback])
            .max()
            .unwrap_or_default();
        let memory = i64::try_from(memory.as_micros()).unwrap_or(i64::MAX);
        let streams = Streams::resume(
            client,
            &self.settings.table,
            &self.settings.scope,
            now.timestamp_micros(),
            memory,
        )?;
        Ok(Lead {
            detectors,
            members,
            streams,
            memory,
            forgotten: Instant::now(),
        })
    }

    /// Evaluates the settled rows not yet seen, saving the cursors as it goes. Whether there
    /// were any.
    fn evaluate(&self, client: &mut Client, lead: &mut Lead) -> Result<bool, postgres::Error> {
        lead.streams.discover(client)?;
        lead.streams.wake();
        let now = self.log.now();
        let settled = now.timestamp_micros()
            - i64::try_from(self.settings.settle.as_micros()).unwrap_or(i64::MAX);
        let mut evaluated = 0;
        while evaluated < ROWS_PER_SAVE && !self.stop.load(Ordering::Relaxed) {
            let Some((_, row)) = lead.streams.next(client, settled)? else {
                break;
            };
            evaluated += 1;
            self.process(client, lead, &row.line)?;
        }
        lead.streams.save(client)?;
        if lead.forgotten.elapsed() >= FORGET_EVERY {
            let before = settled.saturating_sub(lead.memory.saturating_mul(2));
            forget(client, &self.settings.table, &self.settings.scope, before)?;
            lead.forgotten = Instant::now();
        }
        Ok(evaluated == ROWS_PER_SAVE)
    }

    /// Runs the detections over one row; raises what they find unless the fleet already did.
    fn process(
        &self,
        client: &mut Client,
        lead: &mut Lead,
        line: &str,
    ) -> Result<(), postgres::Error> {
        Counters::add(&self.counters.fleet_rows, 1);
        let record = LazyRecord::new(line, &lead.members);
        for detector in &mut lead.detectors {
            if !detector.may_match(line.as_bytes()) {
                continue;
            }
            let Some(parsed) = record.get() else {
                return Ok(());
            };
            // A bug in a detection loses that record's evaluation, not the evaluator.
            let found = catch_unwind(AssertUnwindSafe(|| {
                detector.observe(parsed, self.log.now())
            }));
            let finding = match found {
                Ok(Some(finding)) => finding,
                Ok(None) => continue,
                Err(_) => {
                    Counters::add(&self.counters.panics, 1);
                    continue;
                }
            };
            if claim(client, &self.settings.table, &self.settings.scope, &finding)? {
                Counters::add(&self.counters.detections, 1);
                self.log
                    .record(finding.writes, finding.fields, Some(parsed));
            }
        }
        Ok(())
    }
}
