//! Starts from a configuration file, rewrites it while running, and shows how the output changed.
//!
//! ```text
//! cargo run --example config_reload --features config
//! ```
//!
//! The file is watched: a stricter filter takes effect without a restart, a broken edit is
//! refused (and recorded) while the running configuration stays in force.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example shows what it does"
)]

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing_security_events::config::Config;
use tracing_security_events::{security_event, Builder, SecurityEvent, Severity};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("security.jsonl");
    let config_file = dir.path().join("security-log.toml");
    let sink = format!(
        "[[sinks]]\ntype = \"file\"\npath = {:?}\n",
        log.display().to_string()
    );
    std::fs::write(
        &config_file,
        format!("{sink}[filter]\nmin_severity = \"info\"\n"),
    )?;

    let config = Config::from_file(&config_file)?;
    let (layer, guard, reload) = Builder::from_config(&config)
        .with_service_name("config-reload-example")
        .build_with_reload()?;
    tracing_subscriber::registry().with(layer).init();
    let _watcher = reload.watch_file(&config_file, Duration::from_millis(50));

    println!("== configuration 1: min_severity = \"info\"");
    emit_a_few_events();
    show_new_lines(&guard, &log, 0)?;

    let seen = count_lines(&log);
    std::fs::write(
        &config_file,
        format!("{sink}[filter]\nmin_severity = \"warn\"\nexclude = [\"authorization.*\"]\n"),
    )?;
    wait_for(|| reload.current().filter.min_severity == Severity::Warn);
    println!("\n== configuration 2 (file rewritten, reloaded by the watcher): min_severity = \"warn\", exclude authorization.*");
    emit_a_few_events();
    show_new_lines(&guard, &log, seen)?;

    std::fs::write(&config_file, "[filter]\nmin_severity = \"loud\"\n")?;
    let seen = count_lines(&log);
    wait_for(|| {
        let _ = guard.flush();
        count_lines(&log) > seen
    });
    println!("\n== configuration 3 (broken edit): refused, configuration 2 stays in force");
    emit_a_few_events();
    show_new_lines(&guard, &log, seen)?;

    guard.shutdown()?;
    Ok(())
}

fn emit_a_few_events() {
    security_event!(SecurityEvent::LoginSucceeded, actor.name = "alice");
    security_event!(SecurityEvent::LoginFailed, actor.name = "mallory");
    security_event!(
        SecurityEvent::AuthorizationDenied,
        actor.name = "mallory",
        target.id = "admin-panel"
    );
}

fn count_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Prints the name, outcome and message of the records written since line `from`.
fn show_new_lines(
    guard: &tracing_security_events::FlushGuard,
    path: &Path,
    from: usize,
) -> Result<(), Box<dyn Error>> {
    guard.flush()?;
    for line in std::fs::read_to_string(path)?.lines().skip(from) {
        let record: serde_json::Value = serde_json::from_str(line)?;
        let event = &record["event"];
        let detail = event["reason"]
            .as_str()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        println!(
            "  seq {:>2}  {:<26} {:<8} {}{detail}",
            record["seq"],
            event["name"].as_str().unwrap_or(""),
            event["severity"].as_str().unwrap_or(""),
            record["message"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}
