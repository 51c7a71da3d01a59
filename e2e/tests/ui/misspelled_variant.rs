use tracing_security_events::{security_event, SecurityEvent};

fn main() {
    security_event!(SecurityEvent::LoginFaild, actor.id = 42);
}
