//! The pipeline's side of a shipping sink: records pushed into the backlog, a flush that waits
//! for the destination, losses handed back, and a shutdown that counts what is left.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::backlog::Backlog;
use super::ship::{DeliveryCounters, ShipperThread};
use crate::sink::SinkLoss;
use crate::{FieldValue, SecurityEvent};

/// How long a flush waits for the destination to take what is waiting: well under the guard's
/// flush timeout, so that a missing destination is reported as this sink's failure while the
/// other sinks' flushes complete.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// What a shipping sink holds: its name, backlog, counters and thread.
#[derive(Debug)]
pub(crate) struct Outbox {
    pub(crate) name: String,
    pub(crate) backlog: Arc<Backlog>,
    pub(crate) counters: Arc<DeliveryCounters>,
    pub(crate) shipper: ShipperThread,
    pub(crate) report_errors: bool,
    /// What the destination is, for messages ("collector", "database").
    pub(crate) destination: &'static str,
}

impl Outbox {
    /// Queues the batch for the shipper.
    #[cfg(any(feature = "otlp", feature = "postgres"))]
    pub(crate) fn write(&self, batch: &crate::sink::Batch<'_>) -> io::Result<()> {
        self.write_lines(batch.records(), batch.lines())
    }

    /// Queues the records of `batch` in `form` as `render` writes each (one line, its line
    /// feed included) into `buffer` (kept for the next batch).
    #[cfg(any(feature = "syslog", feature = "http-batch"))]
    pub(crate) fn write_rendered(
        &self,
        batch: &crate::sink::Batch<'_>,
        form: crate::forms::OutputForm,
        buffer: &mut Vec<u8>,
        mut render: impl FnMut(&mut Vec<u8>, &crate::record::SecurityRecord, &[u8]),
    ) -> io::Result<()> {
        batch.require(form)?;
        buffer.clear();
        for (record, line) in batch.records().iter().zip(batch.lines_of(form)) {
            render(buffer, record, line.strip_suffix(b"\n").unwrap_or(line));
        }
        self.write_lines(batch.records(), crate::sink::split_lines(buffer))
    }

    /// Queues `lines`, one per record of `records` (the sink's own rendering of them: a
    /// syslog message), for the shipper.
    pub(crate) fn write_lines<'a>(
        &self,
        records: &[crate::record::SecurityRecord],
        lines: impl Iterator<Item = &'a [u8]>,
    ) -> io::Result<()> {
        // A notice of this sink's own losses, lost in turn, is not a new loss: counting it would
        // make a notice every tick for as long as the destination stays away with the spool
        // full.
        let entries = records.iter().zip(lines).map(|(record, line)| {
            let own_loss_notice = record.event.name == SecurityEvent::AuditEventsDropped.as_str()
                && matches!(record.fields.get("sink"), Some(FieldValue::Str(sink)) if *sink == self.name);
            (line, !own_loss_notice)
        });
        self.backlog.push(entries)
    }

    /// Waits for the destination to take what is waiting.
    pub(crate) fn flush(&self) -> io::Result<()> {
        if self.backlog.wait_until_empty(FLUSH_WAIT) {
            return Ok(());
        }
        let (in_memory, _, on_disk) = self.backlog.pending();
        Err(io::Error::other(format!(
            "{in_memory} records in memory and {on_disk} bytes on disk not yet delivered (last \
             error: {})",
            self.counters.last_error().as_deref().unwrap_or("none")
        )))
    }

    /// Records given up since the last call, and why: past the limits, or refused by the
    /// destination (each refusal with its reason).
    pub(crate) fn take_losses(&self) -> Vec<SinkLoss> {
        let mut losses = Vec::new();
        let given_up = self.backlog.take_given_up();
        if given_up > 0 {
            losses.push(SinkLoss::new(
                given_up,
                format!(
                    "the {} was unreachable past the sink's memory and spool limits",
                    self.destination
                ),
            ));
        }
        losses.extend(self.counters.take_refused());
        losses
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.backlog.close();
        self.shipper.stop();
        let lost = self.backlog.spill_remaining() + self.backlog.take_given_up();
        if lost > 0 {
            crate::report::report_line(
                self.report_errors,
                format_args!(
                    "sink {}: {lost} records given up at shutdown ({} unreachable, no spool \
                     room)",
                    self.name, self.destination
                ),
            );
        }
    }
}
