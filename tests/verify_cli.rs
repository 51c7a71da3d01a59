//! The `security-log-verify` command on a real log: 0 when intact, 1 with the place when not.
#![cfg(feature = "cli")]

#[path = "../e2e/tests/common/mod.rs"]
mod common;

use std::process::Command;

use common::{run, TempLog};
use tracing_security_events::{security_event, SecurityEvent};

fn verify_command(path: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_security-log-verify"))
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap(), text)
}

#[test]
fn the_command_verifies_and_names_the_changed_line() {
    let log = TempLog::new();
    run(&log, log.builder(), || {
        for i in 0..5 {
            security_event!(SecurityEvent::ApiKeyRotated, i);
        }
    });
    let (code, text) = verify_command(&log.path);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("records  5") && text.contains("ok"), "{text}");

    let content = std::fs::read_to_string(&log.path).unwrap();
    std::fs::write(&log.path, content.replacen("\"i\":3", "\"i\":9", 1)).unwrap();
    let (code, text) = verify_command(&log.path);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!("PROBLEM  {}:4: Modified", log.path.display())),
        "{text}"
    );
}
