//! A bad configuration fails at build time with a message naming the problem.

use tracing_security_events::{builder, BuildError};
use tracing_subscriber::Registry;

fn build_error(builder: tracing_security_events::Builder) -> BuildError {
    builder
        .build::<Registry>()
        .expect_err("the build should fail")
}

#[test]
fn an_unwritable_path_names_the_path_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("plain-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let path = not_a_dir.join("security.jsonl");
    let err = build_error(builder().with_file(&path));
    assert!(matches!(err, BuildError::OpenFile { .. }));
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.to_lowercase().contains("not a directory"),
        "{message}"
    );
}

#[test]
fn a_directory_as_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = build_error(builder().with_file(dir.path()));
    assert!(
        err.to_string().contains("cannot open security log file"),
        "{err}"
    );
}

#[test]
fn zero_capacity_no_sink_and_tiny_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");

    let err = build_error(builder().with_file(&file).with_queue_capacity(0));
    assert!(matches!(err, BuildError::ZeroCapacity));
    assert!(err.to_string().contains("queue_capacity"), "{err}");

    let err = build_error(builder());
    assert!(matches!(err, BuildError::NoSink));
    assert!(err.to_string().contains("with_file"), "{err}");

    let err = build_error(builder().with_file(&file).with_max_value_len(10));
    assert!(
        err.to_string().contains("max_value_len") && err.to_string().contains("10"),
        "{err}"
    );
}

#[test]
fn the_shortcut_creates_the_file_at_build_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/security.jsonl");
    let (_layer, guard) = tracing_security_events::layer::<Registry>(&path).unwrap();
    assert!(
        path.exists(),
        "problems surface before the service starts, not at the first event"
    );
    guard.shutdown().unwrap();
}

#[test]
fn alone_on_a_registry_the_layer_disables_every_other_callsite() {
    use tracing_subscriber::layer::SubscriberExt;
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = builder()
        .with_file(dir.path().join("security.jsonl"))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        assert!(
            !tracing::enabled!(tracing::Level::ERROR),
            "an ordinary callsite is never enabled: tracing skips it at the cost of one load"
        );
        assert!(!tracing::span_enabled!(tracing::Level::INFO));
        assert!(tracing::enabled!(tracing::Level::WARN, security_event));
    });
    guard.shutdown().unwrap();
}
