//! `with_error_reporting(false)` silences every line the crate would print on stderr: a crash
//! found at start-up, a failing sink, a refused reload. Run in a child process, whose stderr
//! the test reads.

mod common;

use std::io;
use std::process::Command;

use common::TempLog;
use tracing_security_events::sink::{Batch, Sink};
use tracing_security_events::{security_event, SecurityEvent};
use tracing_subscriber::prelude::*;

const CHILD: &str = "TRACING_SECURITY_EVENTS_QUIET_CHILD";

/// A sink whose first writes fail, then recover.
struct FailingTwice(u32);

impl Sink for FailingTwice {
    fn name(&self) -> &str {
        "failing-twice"
    }

    fn write(&mut self, _: &Batch<'_>) -> io::Result<()> {
        self.0 += 1;
        if self.0 <= 2 {
            return Err(io::Error::other("disk on fire"));
        }
        Ok(())
    }
}

/// A sink slower than the flush timeout.
struct Slow;

impl Sink for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn write(&mut self, _: &Batch<'_>) -> io::Result<()> {
        std::thread::sleep(std::time::Duration::from_millis(600));
        Ok(())
    }
}

/// Everything that makes the crate speak, with reporting on or off.
fn noisy_run(report: bool) {
    // A guard dropped while a sink is still busy: the drop says what it could not flush.
    let slow = TempLog::new();
    let (layer, guard) = slow
        .builder()
        .with_sink(Slow)
        .with_flush_timeout(std::time::Duration::from_millis(100))
        .with_error_reporting(report)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        security_event!(SecurityEvent::LoginFailed);
    });
    drop(guard);

    let log = TempLog::new();
    std::fs::write(&log.path, "{\"schema\":1,\"torn").unwrap();
    let builder = log
        .builder()
        .with_sink(FailingTwice(0))
        .with_error_reporting(report);
    #[cfg(feature = "config")]
    {
        let file = log.dir.path().join("config.toml");
        std::fs::write(&file, "sinks = [ broken").unwrap();
        let (layer, guard, reload) = builder.build_with_reload().unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            security_event!(SecurityEvent::LoginFailed);
            assert!(reload.reload_from_file(&file).is_err());
        });
        guard.shutdown().unwrap();
    }
    #[cfg(not(feature = "config"))]
    {
        let (layer, guard) = builder.build().unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            security_event!(SecurityEvent::LoginFailed);
        });
        guard.shutdown().unwrap();
    }
}

fn stderr_of_child(report: bool) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, if report { "on" } else { "off" })
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn child() {
    match std::env::var(CHILD).as_deref() {
        Ok("on") => noisy_run(true),
        Ok("off") => noisy_run(false),
        _ => {} // run directly: nothing to do
    }
}

#[test]
fn without_error_reporting_nothing_is_printed() {
    let loud = stderr_of_child(true);
    for expected in [
        "did not flush within",
        "unfinished line",
        "failing-twice failed to write",
        "recovered",
    ] {
        assert!(loud.contains(expected), "{expected:?} not reported: {loud}");
    }
    #[cfg(feature = "config")]
    assert!(loud.contains("reload refused"), "{loud}");
    let quiet = stderr_of_child(false);
    assert!(
        !quiet.contains("tracing-security-events"),
        "printed with reporting off: {quiet}"
    );
}
