//! The event vocabulary: the built-in [`SecurityEvent`] catalog, its classifications, and the
//! [`security_catalog!`](crate::security_catalog) macro that generates it and a service's own.

mod builtin;
mod catalog;
mod registry;
mod taxonomy;

pub use builtin::SecurityEvent;
pub use catalog::{Catalog, EventInfo, UnknownEventName};
pub(crate) use registry::EventRegistry;
pub use taxonomy::{Category, Outcome, ParseLabelError, Severity};
