//! What a configuration reload hands the worker: the new settings and sinks, applied between
//! two records (feature `config`).

use crate::capture::CapturedEvent;
use crate::gate::EventFilter;
use crate::record::ServiceInfo;
use crate::redact::Redactor;
use crate::sink::Sink;

/// A sink of the new configuration: one the worker already has, or a newly opened one.
pub(crate) enum SinkSlot {
    Keep(usize),
    Open(Box<dyn Sink>),
}

/// New run-time settings, applied by the worker between two records.
pub(crate) struct Reconfiguration {
    pub(crate) enabled: bool,
    pub(crate) filter: EventFilter,
    pub(crate) redactor: Redactor,
    pub(crate) service: ServiceInfo,
    pub(crate) sinks: Vec<SinkSlot>,
    /// Written under the old settings (`audit.disabled`: before the log goes quiet).
    pub(crate) before: Vec<CapturedEvent>,
    /// Written under the new settings.
    pub(crate) after: Vec<CapturedEvent>,
}
