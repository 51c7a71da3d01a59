//! End-to-end tests of `tracing-security-events`: this package has no code of its own. Its
//! `tests/` drive the library's public API against real files, a real OTLP receiver and a real
//! HTTP server, its `benches/` measure the library beside the alternatives, and its `examples/`
//! are the ones that need a server or a collector.
//!
//! ```text
//! cargo test --workspace --all-features      # from the repository root
//! cargo bench -p tracing-security-events-e2e --bench throughput
//! ```
