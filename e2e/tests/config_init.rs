//! `init`: the file named by `SECURITY_LOG_CONFIG`, the environment over it, installed as
//! the global subscriber. A binary of its own: a process has one global subscriber.
#![cfg(feature = "config")]

mod common;

use tracing_security_events::{security_event, SecurityEvent};

#[test]
fn init_reads_the_file_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("security.jsonl");
    let config = dir.path().join("security-log.toml");
    let text = format!(
        "[service]\nname = \"from-file\"\n[[sinks]]\ntype = \"file\"\npath = {:?}\n[filter]\nmin_severity = \"warn\"\n",
        log.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    // This test is alone in its process, so changing the environment races with nothing.
    std::env::set_var("SECURITY_LOG_CONFIG", &config);
    std::env::set_var("SECURITY_LOG_SERVICE__NAME", "from-env");

    let (guard, reload) = tracing_security_events::init().unwrap();
    security_event!(SecurityEvent::LoginSucceeded); // info: below the file's filter
    security_event!(SecurityEvent::LoginFailed);
    assert_eq!(reload.current().service.name.as_deref(), Some("from-env"));
    assert!(
        tracing_security_events::init().is_err(),
        "a second global subscriber is refused"
    );
    guard.shutdown().unwrap();

    let records = common::read_records(&log);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"]["name"], "authentication.failed");
    assert_eq!(
        records[0]["service"]["name"], "from-env",
        "the environment wins over the file"
    );
}
