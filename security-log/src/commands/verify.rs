//! `security-log verify`: the hash chain of a log's files, or of each instance's rows in a
//! table, and a report that is only "ok" when there was something to verify.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use tracing_security_events::integrity::{verify_with, VerifyOptions, VerifyReport};

use super::Context;
use crate::failure::Failure;
use crate::source::Source;

/// Verify the hash chain of the log's files (or of a table's instances).
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log verify /var/log/app\n  \
    security-log verify - < /var/log/app/security.jsonl")]
pub(crate) struct VerifyArgs {
    /// A log file, a directory of rotated files, - for stdin, or a URL.
    log: PathBuf,
    /// The chain was written with this key (HMAC-SHA256).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The hash the log must end with, kept elsewhere.
    #[arg(long)]
    expect_tip: Option<String>,
    /// With a postgres:// URL: only this instance's chain (default: each instance's).
    #[arg(long, value_name = "I")]
    instance: Option<String>,
}

pub(crate) fn read_key(file: PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(&file)
        .map_err(|e| Failure::context(format!("cannot read key file {}", file.display()), e))
}

impl VerifyArgs {
    /// Verifies the log; whether its chain (every instance's) verified.
    pub(crate) fn run(self, context: &Context<'_>) -> Result<bool, Failure> {
        let mut options = VerifyOptions::new();
        if let Some(file) = self.key_file {
            options = options.with_key(read_key(file)?);
        }
        if let Some(tip) = self.expect_tip {
            options = options.with_expected_tip(tip);
        }
        verify(
            &Source::new(&self.log)?,
            self.instance.as_deref(),
            context.table,
            &options,
        )
    }
}

fn verify(
    source: &Source,
    instance: Option<&str>,
    table: Option<&str>,
    options: &VerifyOptions,
) -> Result<bool, Failure> {
    if let Some(url) = source.url() {
        return verify_database(url, table, instance, options);
    }
    let report = verify_with(&source.path, options)
        .map_err(|e| Failure::context(format!("cannot read {}", source.shown()), e))?;
    if report.records == 0 && report.problem.is_none() {
        // "0 records, ok" about a path that holds no log would be a dangerous answer.
        return Err(Failure::Error(format!(
            "{}: no records to verify (an empty log, or not a log)",
            source.shown()
        )));
    }
    if !source.is_stdin() {
        return Ok(print_report(&mut io::stdout().lock(), &report)?);
    }
    // The report names the private copy of stdin; the reader knows it as stdin.
    let mut text = Vec::new();
    let verified = print_report(&mut text, &report)?;
    let text = String::from_utf8_lossy(&text).replace(&source.path.display().to_string(), "stdin");
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(verified)
}

/// Each instance's chain (or the one asked for), from the table's rows.
#[cfg(feature = "postgres")]
fn verify_database(
    url: &str,
    table: Option<&str>,
    instance: Option<&str>,
    options: &VerifyOptions,
) -> Result<bool, Failure> {
    let store = crate::source::open_database(url, table)?;
    let instances = match instance {
        Some(instance) => vec![instance.to_owned()],
        None => store.instances()?,
    };
    let mut out = io::stdout().lock();
    let mut ok = true;
    for instance in instances {
        let report = store.verify_instance(&instance, options)?;
        if report.records == 0 && report.problem.is_none() {
            return Err(Failure::Error(format!("no records of instance {instance}")));
        }
        ok &= print_report(&mut out, &report)?;
    }
    Ok(ok)
}

#[cfg(not(feature = "postgres"))]
fn verify_database(
    url: &str,
    table: Option<&str>,
    _instance: Option<&str>,
    _options: &VerifyOptions,
) -> Result<bool, Failure> {
    crate::source::open_database(url, table).map(|_| false)
}

/// Prints what verification found; whether the chain verified.
fn print_report(out: &mut impl Write, report: &VerifyReport) -> io::Result<bool> {
    for file in &report.files {
        writeln!(out, "file     {}", file.display())?;
    }
    writeln!(out, "records  {}", report.records)?;
    if let Some(tip) = &report.tip {
        writeln!(out, "tip      {tip}")?;
    }
    if !report.starts_at_genesis && report.records > 0 {
        writeln!(
            out,
            "note     the chain starts mid-way: older files were removed (retention?)"
        )?;
    }
    for torn in &report.torn_lines {
        writeln!(
            out,
            "torn     {torn}: Torn: a line cut short, not a whole record (a crash, or a cut)"
        )?;
    }
    if !report.ends_cleanly {
        writeln!(out, "note     the log does not end with a whole record")?;
    }
    let verified = match &report.problem {
        None if !report.torn_lines.is_empty() => {
            let last = &report.torn_lines[report.torn_lines.len() - 1];
            eprintln!("security-log: {last}: a torn line (not a whole record)");
            writeln!(
                out,
                "ok       the chain verifies, apart from {} torn line(s) (see above)",
                report.torn_lines.len()
            )?;
            true
        }
        None => {
            writeln!(out, "ok       the chain verifies")?;
            true
        }
        Some(problem) => {
            writeln!(out, "PROBLEM  {problem}")?;
            false
        }
    };
    out.flush()?;
    Ok(verified)
}
