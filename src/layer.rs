//! The `tracing` layer: reads fields and span context on the caller's thread, hands the rest to
//! the pipeline.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::capture::{CapturedEvent, CapturedFields};
use crate::clock::Clock;
use crate::context::ContextFields;
use crate::event_registry::EventRegistry;
use crate::gate::CallerGate;
use crate::pipeline::Pipeline;

/// The part of [`SecurityLayer`] that records, behind the per-layer filter; on its own it
/// would still record only security events, but see every callsite.
pub(crate) struct RecordingLayer {
    registry: Arc<EventRegistry>,
    pipeline: Pipeline,
    gate: Arc<CallerGate>,
    clock: Arc<dyn Clock>,
    max_value_len: usize,
    /// The subscriber the layer is part of, to ask `tracing-opentelemetry` for trace ids.
    #[cfg(feature = "trace-context")]
    dispatch: std::sync::OnceLock<tracing_core::dispatcher::WeakDispatch>,
}

impl fmt::Debug for RecordingLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingLayer")
            .field("pipeline", &self.pipeline)
            .field("max_value_len", &self.max_value_len)
            .finish_non_exhaustive()
    }
}

/// What the layer keeps in a span's extensions.
struct SpanState {
    /// Shared with the records of events inside the span; copied only if recorded into later.
    context: Arc<ContextFields>,
    /// The span's other fields; a record is made at close when they name a `security_event`.
    fields: CapturedFields,
    opened: Instant,
    /// The OpenTelemetry ids of the span, asked once: they are fixed from the first ask.
    #[cfg(feature = "trace-context")]
    trace: std::sync::OnceLock<Option<crate::context::TraceIds>>,
}

#[cfg(feature = "trace-context")]
impl SpanState {
    /// The span's OpenTelemetry ids, if they were asked before.
    #[allow(
        clippy::option_option,
        reason = "not asked yet, or asked and the span had none"
    )]
    fn known_otel_ids(&self) -> Option<Option<crate::context::TraceIds>> {
        self.trace.get().copied()
    }
}

impl RecordingLayer {
    pub(crate) fn new(
        registry: EventRegistry,
        pipeline: Pipeline,
        gate: Arc<CallerGate>,
        clock: Arc<dyn Clock>,
        max_value_len: usize,
    ) -> Self {
        RecordingLayer {
            registry: Arc::new(registry),
            pipeline,
            gate,
            clock,
            max_value_len,
            #[cfg(feature = "trace-context")]
            dispatch: std::sync::OnceLock::new(),
        }
    }

    /// The OpenTelemetry trace and span ids `tracing-opentelemetry` keeps for `span`.
    #[cfg(feature = "trace-context")]
    fn otel_ids(&self, span: &Id) -> Option<crate::context::TraceIds> {
        use opentelemetry::trace::TraceContextExt;
        let dispatch = self.dispatch.get()?.upgrade()?;
        let otel = tracing_opentelemetry::get_otel_context(span, &dispatch)?;
        let otel_span = otel.span();
        let ids = otel_span.span_context();
        ids.is_valid().then(|| crate::context::TraceIds {
            trace_id: ids.trace_id(),
            span_id: ids.span_id(),
        })
    }

    /// [`otel_ids`](Self::otel_ids) of a span this layer keeps state for, kept in its state so
    /// that only its first event asks. The answer cannot change afterwards: `tracing-opentelemetry`
    /// attaches its data when the span is created, and asking starts the OpenTelemetry span,
    /// fixing its ids. `known` is the answer the state held, if it was asked before.
    #[cfg(feature = "trace-context")]
    #[allow(
        clippy::option_option,
        reason = "not asked yet, or asked and the span had none"
    )]
    fn span_otel_ids<S>(
        &self,
        span: &SpanRef<'_, S>,
        known: Option<Option<crate::context::TraceIds>>,
    ) -> Option<crate::context::TraceIds>
    where
        S: for<'a> LookupSpan<'a>,
    {
        if let Some(ids) = known {
            return ids;
        }
        // Asked outside the extensions' lock, which tracing-opentelemetry takes to write.
        let ids = self.otel_ids(&span.id());
        if let Some(state) = span.extensions().get::<SpanState>() {
            let _ = state.trace.set(ids);
        }
        ids
    }

    /// Records `values` into a span's fields and typed context.
    fn record_span_fields(
        &self,
        values: &Record<'_>,
        fields: &mut CapturedFields,
        context: &mut ContextFields,
    ) {
        let mut pending = self.pipeline.empty_event();
        values.record(&mut pending.capture(&self.registry, self.max_value_len));
        pending.decode_into(fields, context);
        self.pipeline.recycle(pending);
    }
}

/// The innermost span `event` runs in, whether or not this layer's filter shows it (the
/// OpenTelemetry span is the innermost of all).
fn innermost_span<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Option<Id>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if event.is_root() {
        None
    } else if event.is_contextual() {
        ctx.current_span().id().cloned()
    } else {
        event.parent().cloned()
    }
}

/// Appends the context of `spans` to `out`, nearest first.
fn contexts_of<'a, S, I>(spans: I, out: &mut Vec<Arc<ContextFields>>)
where
    S: for<'l> LookupSpan<'l> + 'a,
    I: Iterator<Item = SpanRef<'a, S>>,
{
    out.extend(spans.filter_map(|span| {
        let extensions = span.extensions();
        extensions
            .get::<SpanState>()
            .map(|state| state.context.clone())
    }));
}

impl<S> Layer<S> for RecordingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    #[cfg(feature = "trace-context")]
    fn on_register_dispatch(&self, subscriber: &tracing_core::Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        // A second security layer on the same registry reads the same fields: keep the first.
        if extensions.get_mut::<SpanState>().is_some() {
            return;
        }
        let mut fields = CapturedFields::default();
        let mut context = ContextFields::default();
        self.record_span_fields(&Record::new(attrs.values()), &mut fields, &mut context);
        extensions.insert(SpanState {
            context: Arc::new(context),
            fields,
            opened: Instant::now(),
            #[cfg(feature = "trace-context")]
            trace: std::sync::OnceLock::new(),
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(state) = extensions.get_mut::<SpanState>() else {
            return;
        };
        let context = Arc::make_mut(&mut state.context);
        self.record_span_fields(values, &mut state.fields, context);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut pending = self.pipeline.empty_event();
        pending.time = self.clock.now_system_time();
        event.record(&mut pending.capture(&self.registry, self.max_value_len));
        let skip = match &pending.name {
            Some(name) => self.gate.skips(name),
            None => true,
        };
        if skip {
            return self.pipeline.recycle(pending);
        }
        pending.level = *event.metadata().level();
        // The innermost span is looked up once, for the context and the trace ids.
        if let Some(id) = innermost_span(event, &ctx) {
            if let Some(span) = ctx.span(&id) {
                // One look at the innermost span's state, for its context and its trace ids.
                #[cfg(feature = "trace-context")]
                let known_ids;
                {
                    let extensions = span.extensions();
                    let state = extensions.get::<SpanState>();
                    if let Some(state) = state {
                        pending.ancestors.push(state.context.clone());
                    }
                    #[cfg(feature = "trace-context")]
                    {
                        known_ids = state.and_then(SpanState::known_otel_ids);
                    }
                }
                // Walked from parent to parent: `scope()` would look the span up again.
                let outer = std::iter::successors(span.parent(), SpanRef::parent);
                contexts_of(outer, &mut pending.ancestors);
                #[cfg(feature = "trace-context")]
                {
                    pending.trace = self.span_otel_ids(&span, known_ids);
                }
            } else {
                // Hidden by this layer's filter: tracing-subscriber finds the nearest it shows.
                if let Some(scope) = ctx.event_scope(event) {
                    contexts_of(scope, &mut pending.ancestors);
                }
                #[cfg(feature = "trace-context")]
                {
                    pending.trace = self.otel_ids(&id);
                }
            }
        }
        self.pipeline.submit_pending(pending);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let (name, own, context, duration) = {
            let extensions = span.extensions();
            let Some(state) = extensions.get::<SpanState>() else {
                return;
            };
            let Some(name) = state.fields.name.clone() else {
                return;
            };
            if self.gate.skips(&name) {
                return;
            }
            (
                name,
                state.fields.clone(),
                ContextFields::clone(&state.context),
                state.opened.elapsed(),
            )
        };
        let mut ancestors = Vec::new();
        contexts_of(span.scope().skip(1), &mut ancestors);
        #[cfg(feature = "trace-context")]
        let context = {
            let known = span
                .extensions()
                .get::<SpanState>()
                .and_then(SpanState::known_otel_ids);
            ContextFields {
                trace: self.span_otel_ids(&span, known).map(Into::into),
                ..context
            }
        };
        self.pipeline.submit(CapturedEvent {
            time: self.clock.now(),
            level: *span.metadata().level(),
            name,
            own,
            context,
            ancestors,
            duration: Some(duration),
            is_log_notice: false,
        });
    }
}
