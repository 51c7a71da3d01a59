//! Verifies the hash chain of a security log.
//!
//! ```text
//! security-log-verify [--key-file FILE] [--expect-tip HASH] PATH
//! ```
//!
//! PATH is a log file or a directory of rotated files. Exit status: 0 when the chain verifies,
//! 1 when a problem is found (named with its file and line), 2 for a usage or read error.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command line tool prints its results"
)]

use std::process::ExitCode;

use tracing_security_events::integrity::{verify_with, VerifyOptions};

const USAGE: &str = "usage: security-log-verify [--key-file FILE] [--expect-tip HASH] PATH";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("security-log-verify: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let mut options = VerifyOptions::new();
    let mut path = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--key-file" => {
                let file = args.next().ok_or(USAGE)?;
                let key = std::fs::read(&file)
                    .map_err(|e| format!("cannot read key file {file}: {e}"))?;
                options = options.with_key(key);
            }
            "--expect-tip" => options = options.with_expected_tip(args.next().ok_or(USAGE)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}\n{USAGE}"))
            }
            other if path.is_none() => path = Some(other.to_owned()),
            _ => return Err(USAGE.to_owned()),
        }
    }
    let path = path.ok_or(USAGE)?;
    let report = verify_with(&path, &options).map_err(|e| format!("cannot read {path}: {e}"))?;

    for file in &report.files {
        println!("file     {}", file.display());
    }
    println!("records  {}", report.records);
    if let Some(tip) = &report.tip {
        println!("tip      {tip}");
    }
    if !report.starts_at_genesis && report.records > 0 {
        println!("note     the chain starts mid-way: older files were removed (retention?)");
    }
    for torn in &report.torn_lines {
        println!("torn     {torn} (a line cut short by a crash)");
    }
    if !report.ends_cleanly {
        println!("note     the log does not end with a whole record");
    }
    match &report.problem {
        None => {
            println!("ok       the chain verifies");
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!("PROBLEM  {problem}");
            Ok(ExitCode::from(1))
        }
    }
}
