use tracing_security_events::{security_event, SecurityEvent};

fn main() {
    // The level of a tracing callsite is fixed at compile time, so the event must be a constant.
    let event = SecurityEvent::LoginFailed;
    security_event!(event, actor.id = 42);
}
