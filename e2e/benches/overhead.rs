//! The cost our layer adds to events that are not security events, counted in instructions.
//!
//! `cargo bench --bench overhead`
//!
//! Wall-clock timing on a small shared machine varies by more than the few percent measured
//! here, so this bench runs the same loop of ordinary events twice under callgrind (a fmt layer
//! alone, then the fmt layer with the security layer beside it) and compares the instruction
//! counts, which repeat exactly from run to run. Needs `valgrind`; without it, it says so and
//! measures nothing.

#[path = "support/callgrind.rs"]
mod callgrind;

use callgrind::instructions;
use tracing_subscriber::prelude::*;

const EVENTS: u64 = 200_000;

fn ordinary_events() {
    for i in 0..EVENTS {
        tracing::info!(order.id = i, "order shipped");
    }
}

/// The measured program: one variant, then exit.
fn probe(with_security_layer: bool) {
    if with_security_layer {
        let dir = tempfile::tempdir().unwrap();
        let (layer, guard) = tracing_security_events::layer(dir.path().join("s.jsonl")).unwrap();
        let subscriber = tracing_subscriber::registry()
            .with(layer)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
        tracing::subscriber::with_default(subscriber, ordinary_events);
        assert_eq!(guard.shutdown().unwrap().written, 0);
    } else {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
        tracing::subscriber::with_default(subscriber, ordinary_events);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--probe") {
        return probe(args.get(at + 1).map(String::as_str) == Some("security"));
    }
    let (Some(fmt_only), Some(with_security)) =
        (instructions("fmt", None), instructions("security", None))
    else {
        println!("overhead: valgrind is not available; nothing measured");
        return;
    };
    let per_event = |total: u64| total as f64 / EVENTS as f64;
    println!(
        "non-security event beside a fmt layer, {EVENTS} events:\n  \
         fmt only:             {fmt_only} instructions ({:.0} per event)\n  \
         fmt + security layer: {with_security} instructions ({:.0} per event)\n  \
         overhead:             {:+.2}%",
        per_event(fmt_only),
        per_event(with_security),
        (with_security as f64 / fmt_only as f64 - 1.0) * 100.0
    );
}
