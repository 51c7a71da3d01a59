//! The layer the builder returns: the recording layer behind its per-layer filter, as one type
//! of its own, so the filter and the recorder stay private and can change.

use std::any::TypeId;
use std::fmt;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::filter::SecurityFilter;
use crate::layer::RecordingLayer;

/// The security layer: add it to a registry (`registry().with(layer)`). Only callsites that
/// carry a `security_event` field or a recognised context field are ever enabled for it; the
/// answer is cached per callsite by `tracing`, so other events cost next to nothing.
///
/// Made by [`Builder::build`](crate::Builder::build) or [`layer`](crate::layer).
pub struct SecurityLayer<S> {
    inner: Filtered<RecordingLayer, SecurityFilter, S>,
}

impl<S> SecurityLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    /// `recording` behind the security filter.
    pub(crate) fn new(recording: RecordingLayer) -> Self {
        SecurityLayer {
            inner: Filtered::new(recording, SecurityFilter::default()),
        }
    }
}

impl<S> fmt::Debug for SecurityLayer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityLayer").finish_non_exhaustive()
    }
}

/// Every method goes to the filtered layer, which keeps its per-layer filter state.
impl<S> Layer<S> for SecurityLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.inner.on_event(event, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // The one unsafe item of the crate. tracing-subscriber finds per-layer filters by asking a
    // layer to downcast itself to a private marker type; a wrapper that does not pass the
    // question on hides the filter, and the registry would then treat the security layer as
    // unfiltered. Passing it on is what tracing-subscriber's own wrappers (`Layered`,
    // `Option<L>`, `Box<L>`) do; the caller's contract goes through unchanged.
    #[doc(hidden)]
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else {
            // SAFETY: the same call, with the same `id`, on the layer this one wraps.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}
