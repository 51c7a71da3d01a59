//! `security_event!` and `security_span!`: the catalog's level, a fixed target, and the
//! `security_event` field, so callers need no `tracing` import and cannot misspell a name.

/// Emits a security event.
///
/// The first argument is a catalog variant (`SecurityEvent::LoginFailed`, or a variant of a
/// catalog of your own); it must be a constant, since it decides the event's level, which
/// `tracing` fixes per callsite. The rest is ordinary `tracing` field syntax: `name = value`,
/// `%display`, `?debug`, dotted names, then an optional format message.
///
/// ```
/// use tracing_security_events::{security_event, SecurityEvent};
///
/// let user_id = 42;
/// security_event!(SecurityEvent::LoginFailed, actor.id = user_id, authentication.method = "password");
/// security_event!(SecurityEvent::UserInvited, actor.id = %"admin-1", target.id = %"bob@example.com");
/// security_event!(SecurityEvent::SignedOut, actor.id = 42, "signed out after {} minutes", 30);
/// security_event!(SecurityEvent::SystemStartup);
/// ```
///
/// A misspelled variant does not compile.
#[macro_export]
macro_rules! security_event {
    ($event:expr $(,)?) => {
        $crate::_private::tracing::event!(
            target: $crate::TARGET,
            $crate::__security_level!($event),
            security_event = $event.as_str()
        )
    };
    ($event:expr, $($fields:tt)+) => {
        $crate::_private::tracing::event!(
            target: $crate::TARGET,
            $crate::__security_level!($event),
            security_event = $event.as_str(),
            $($fields)+
        )
    };
}

/// Opens a span for a security event that takes time (an export, an admin action); one record is
/// written when the span closes, with its duration.
///
/// The span declares `outcome` and `reason` (empty until recorded), so the code can say how it
/// ended with `span.record("outcome", "failure")`; other fields follow `tracing`'s span syntax.
/// Context fields on the span are inherited by events inside it, like on any span.
///
/// ```
/// use tracing_security_events::{security_span, SecurityEvent};
///
/// let span = security_span!(SecurityEvent::DataExported, target.kind = "report", target.id = 7);
/// let _entered = span.enter();
/// // ... the export ...
/// span.record("outcome", "success");
/// ```
#[macro_export]
macro_rules! security_span {
    ($event:expr $(,)?) => {
        $crate::security_span!($event,)
    };
    ($event:expr, $($fields:tt)*) => {
        $crate::_private::tracing::span!(
            target: $crate::TARGET,
            $crate::__security_level!($event),
            $event.as_str(),
            security_event = $event.as_str(),
            outcome = $crate::_private::tracing::field::Empty,
            reason = $crate::_private::tracing::field::Empty,
            $($fields)*
        )
    };
}

/// The level of a catalog event, as a constant: `tracing` would otherwise compute
/// `$event.level()` on every call to compare it with the level filter.
#[doc(hidden)]
#[macro_export]
macro_rules! __security_level {
    ($event:expr) => {{
        const LEVEL: $crate::_private::Level = $event.level();
        LEVEL
    }};
}
