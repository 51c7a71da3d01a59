//! The event and span the caller-cost benches measure, and the chunked timing they share.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tracing_security_events::{security_event, SecurityEvent};

/// Events timed between two untimed flushes: well below the queue capacity, so the time is the
/// caller's work only, never waiting for the worker.
pub(crate) const CHUNK: u64 = 4096;

/// One security event with three fields.
pub(crate) fn one_security_event() {
    security_event!(
        SecurityEvent::LoginFailed,
        actor.name = "alice",
        authentication.method = "password",
        attempt = black_box(3_u64),
    );
}

/// The context span the event runs in.
pub(crate) fn context_span() -> tracing::Span {
    tracing::info_span!(
        "request",
        client.ip = "203.0.113.7",
        user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        request.id = "req-9f1c",
    )
}

/// Times `iters` events in chunks of [`CHUNK`], calling `flush` untimed after each chunk.
pub(crate) fn chunked(iters: u64, flush: &dyn Fn()) -> Duration {
    let start = Instant::now();
    chunked_by(iters, flush, &|| start.elapsed())
}

/// [`chunked`], reading the time from `clock` (the time since some fixed start).
pub(crate) fn chunked_by(iters: u64, flush: &dyn Fn(), clock: &dyn Fn() -> Duration) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        let start = clock();
        for _ in 0..n {
            one_security_event();
        }
        timed += clock() - start;
        flush();
        left -= n;
    }
    timed
}
