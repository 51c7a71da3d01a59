//! The per-layer filter: which callsites the security layer ever sees.

use tracing_core::subscriber::Interest;
use tracing_core::Metadata;
use tracing_subscriber::layer::{Context, Filter};

use crate::capture::EVENT_FIELD;
use crate::context::ContextKey;

/// Enables, for the security layer only, the events that carry a `security_event` field and the
/// spans that carry it or a recognised context field. Other layers beside it are unaffected.
///
/// The decision reads callsite metadata only, so `tracing` caches it per callsite: an event that
/// is not a security event costs the layer next to nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SecurityFilter {
    _private: (),
}

impl SecurityFilter {
    fn wants(metadata: &Metadata<'_>) -> bool {
        let fields = metadata.fields();
        if metadata.is_event() {
            fields.field(EVENT_FIELD).is_some()
        } else {
            fields.iter().any(|field| {
                field.name() == EVENT_FIELD || ContextKey::from_field_name(field.name()).is_some()
            })
        }
    }
}

impl<S> Filter<S> for SecurityFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        Self::wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
}
