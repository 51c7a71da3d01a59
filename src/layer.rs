//! The `tracing` layer: reads fields and span context on the caller's thread, hands the rest to
//! the pipeline.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::capture::{CapturedEvent, CapturedFields};
use crate::clock::Clock;
use crate::context::ContextFields;
use crate::event::EventRegistry;
use crate::filter::SecurityFilter;
use crate::gate::CallerGate;
use crate::pipeline::Pipeline;

/// The security layer as the builder returns it: [`RecordingLayer`] behind its
/// [`SecurityFilter`], ready for `registry().with(layer)`.
pub type SecurityLayer<S> = Filtered<RecordingLayer, SecurityFilter, S>;

/// The part of [`SecurityLayer`] that records. You get it already filtered from
/// [`Builder::build`](crate::Builder::build); used without the filter it still records only
/// security events, but sees every callsite.
pub struct RecordingLayer {
    registry: Arc<EventRegistry>,
    pipeline: Pipeline,
    gate: Arc<CallerGate>,
    clock: Arc<dyn Clock>,
    max_value_len: usize,
    /// The subscriber the layer is part of, to ask `tracing-opentelemetry` for trace ids.
    #[cfg(feature = "otlp")]
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
            #[cfg(feature = "otlp")]
            dispatch: std::sync::OnceLock::new(),
        }
    }

    /// The trace and span ids of the OpenTelemetry span the event runs in, when
    /// `tracing-opentelemetry`'s layer is part of the same subscriber.
    #[cfg(feature = "otlp")]
    fn trace_context<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
    ) -> Option<crate::context::TraceContext>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        // The innermost span, whether or not it carries context fields (this layer's filter
        // hides those that do not).
        let span = if event.is_contextual() {
            ctx.current_span().id()?.clone()
        } else {
            event.parent()?.clone()
        };
        self.otel_ids(&span)
    }

    /// The OpenTelemetry trace and span ids `tracing-opentelemetry` keeps for `span`.
    #[cfg(feature = "otlp")]
    fn otel_ids(&self, span: &Id) -> Option<crate::context::TraceContext> {
        use opentelemetry::trace::TraceContextExt;
        let dispatch = self.dispatch.get()?.upgrade()?;
        let otel = tracing_opentelemetry::get_otel_context(span, &dispatch)?;
        let otel_span = otel.span();
        let ids = otel_span.span_context();
        ids.is_valid().then(|| crate::context::TraceContext {
            trace_id: ids.trace_id().to_string(),
            span_id: ids.span_id().to_string(),
        })
    }

    pub(crate) fn with_filter<S>(self) -> SecurityLayer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        Filtered::new(self, SecurityFilter::default())
    }

    /// Records `values` into a span's fields and typed context.
    fn record_span_fields(
        &self,
        values: &Record<'_>,
        fields: &mut CapturedFields,
        context: &mut ContextFields,
    ) {
        let mut shell = self.pipeline.shell();
        values.record(&mut shell.capture(&self.registry, self.max_value_len));
        shell.decode_into(fields, context);
        self.pipeline.recycle(shell);
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
    #[cfg(feature = "otlp")]
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
        let mut pending = self.pipeline.shell();
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
        if let Some(scope) = ctx.event_scope(event) {
            contexts_of(scope, &mut pending.ancestors);
        }
        #[cfg(feature = "otlp")]
        {
            pending.trace = self.trace_context(event, &ctx);
        }
        self.pipeline.submit_pending(pending);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        #[cfg_attr(not(feature = "otlp"), allow(unused_mut))]
        let (name, own, mut context, duration) = {
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
        #[cfg(feature = "otlp")]
        {
            context.trace = self.otel_ids(&id);
        }
        self.pipeline.submit(CapturedEvent {
            time: self.clock.now(),
            level: *span.metadata().level(),
            name,
            own,
            context,
            ancestors,
            duration: Some(duration),
            from_the_log: false,
        });
    }
}
