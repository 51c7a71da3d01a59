//! What the sinks that ship records elsewhere share (OTLP, PostgreSQL): a [`Backlog`] in
//! memory then in spool files, the [`Outbox`] the pipeline's writer thread pushes into, and
//! the [`ship`] loop of the sink's own thread that takes the oldest records, delivers them and
//! retries with back-off until they are delivered or the sink stops. A slow or absent
//! destination never holds up the pipeline; what the limits give up is counted and recorded.

mod backlog;
mod outbox;
#[cfg(any(feature = "otlp", feature = "postgres", feature = "http-batch"))]
mod refusals;
mod ship;

pub(crate) use backlog::Backlog;
pub(crate) use outbox::Outbox;
#[cfg(any(feature = "otlp", feature = "postgres", feature = "http-batch"))]
pub(crate) use refusals::Refusals;
pub(crate) use ship::{ship, BatchLimits, DeliveryCounters, ShipperThread};
