//! `security-log verify`: the hash chain of a log's files, or of each instance's rows in a
//! table, and a report that is only "ok" when there was something to verify.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use tracing_security_events::integrity::{
    checkpoints_in_otlp_json, is_otlp_json, parse_public_key, verify_with, Checkpoint,
    VerifyOptions, VerifyReport, CHECKPOINT_EVENT,
};
use tracing_security_events::query;
use tracing_security_events::store::{Order, Search};

use super::Context;
use crate::failure::Failure;
use crate::source::Source;

/// Verify the hash chain of the log's files (or of a table's instances).
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log verify /var/log/app\n  \
    security-log verify - < /var/log/app/security.jsonl\n\n\
    With signed checkpoints: --public-key K (what keygen printed) checks every signature, and\n\
    --anchors postgres://... (or the file another sink wrote) the copies that left the host.")]
pub(crate) struct VerifyArgs {
    /// A log file, a directory of rotated files, - for stdin, or a URL.
    log: PathBuf,
    /// The chain was written with this key (HMAC-SHA256).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The hash the log must end with, kept elsewhere.
    #[arg(long)]
    expect_tip: Option<String>,
    /// Check every checkpoint's signature: the public key `keygen` printed (64 hex digits),
    /// or a file holding it.
    #[arg(long, value_name = "K")]
    public_key: Option<String>,
    /// The log's checkpoints as another sink received them: a file or directory of JSON
    /// lines (stdout, an export), an OpenTelemetry collector's OTLP/JSON file, or a
    /// postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    anchors: Option<PathBuf>,
    /// Check each checkpoint's RFC 3161 time-stamp against this authority's certificate (PEM).
    #[arg(long, value_name = "FILE")]
    tsa_cert: Option<PathBuf>,
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
        let source = Source::new(&self.log)?;
        let checks_checkpoints =
            self.public_key.is_some() || self.anchors.is_some() || self.tsa_cert.is_some();
        if source.url().is_some() && checks_checkpoints {
            // Checkpoints sign the file's chain; a table's rows are chained per instance.
            return Err(Failure::Error(
                "--public-key, --anchors and --tsa-cert check a log's files (the checkpoints \
                 sign the file's chain): give the log's directory, and the table as --anchors"
                    .to_owned(),
            ));
        }
        let mut options = VerifyOptions::new();
        if let Some(file) = self.key_file {
            options = options.with_key(read_key(file)?);
        }
        if let Some(tip) = self.expect_tip {
            options = options.with_expected_tip(tip);
        }
        if let Some(key) = &self.public_key {
            options = options.with_public_key(read_public_key(key)?);
        }
        if let Some(file) = &self.tsa_cert {
            options = options.with_timestamps(read_tsa_cert(file)?);
        }
        if let Some(anchors) = &self.anchors {
            // Whatever goes wrong with the anchors says it was the anchors.
            let named = |failure| match failure {
                Failure::Error(message) => Failure::Error(format!("--anchors {message}")),
                other @ Failure::ClosedPipe => other,
            };
            let source = Source::new(anchors).map_err(named)?;
            let checkpoints = read_anchors(&source, context.table).map_err(named)?;
            options = options.with_anchors(source.shown(), checkpoints);
        }
        verify(&source, self.instance.as_deref(), context.table, &options)
    }
}

/// The time-stamping authority's certificate, to check the checkpoints' tokens with.
#[cfg(feature = "timestamp")]
fn read_tsa_cert(
    file: &std::path::Path,
) -> Result<std::sync::Arc<dyn tracing_security_events::integrity::TimestampCheck>, Failure> {
    let pem = std::fs::read(file)
        .map_err(|e| Failure::context(format!("cannot read {}", file.display()), e))?;
    let certificate = tracing_security_events::timestamp::TsaCertificate::from_pem(&pem)
        .map_err(|e| Failure::Error(format!("--tsa-cert {}: {e}", file.display())))?;
    Ok(std::sync::Arc::new(certificate))
}

#[cfg(not(feature = "timestamp"))]
fn read_tsa_cert(
    _file: &std::path::Path,
) -> Result<std::sync::Arc<dyn tracing_security_events::integrity::TimestampCheck>, Failure> {
    Err(Failure::Error(
        "--tsa-cert needs security-log built with the `timestamp` feature".to_owned(),
    ))
}

/// A public key given as its hex digits, or as a file holding them.
fn read_public_key(given: &str) -> Result<tracing_security_events::integrity::PublicKey, Failure> {
    if let Some(key) = parse_public_key(given) {
        return Ok(key);
    }
    let text = std::fs::read_to_string(given).map_err(|e| {
        Failure::context(
            format!("--public-key {given}: neither 64 hex digits nor a readable file"),
            e,
        )
    })?;
    parse_public_key(&text).ok_or_else(|| {
        Failure::Error(format!(
            "--public-key {given}: the file does not hold a public key (64 hex digits)"
        ))
    })
}

/// The checkpoints in the anchors; none at all is an error, not an anchor that agrees.
fn read_anchors(source: &Source, table: Option<&str>) -> Result<Vec<Checkpoint>, Failure> {
    if let Some(anchors) = read_otlp_anchors(source)? {
        return nonempty(anchors, source);
    }
    let store = source.store(table)?;
    let filters = query::Filters {
        events: vec![CHECKPOINT_EVENT.to_owned()],
        ..query::Filters::default()
    };
    let query = filters
        .to_query()
        .map_err(|e| Failure::Error(e.to_string()))?;
    let mut anchors = Vec::new();
    let mut unreadable = 0_u64;
    store.export(
        &Search::new(query).with_order(Order::OldestFirst),
        &mut |record| {
            match serde_json::from_str(record.line()).map(|value| Checkpoint::from_record(&value)) {
                Ok(Ok(Some(checkpoint))) => anchors.push(checkpoint),
                Ok(Ok(None)) => {}
                _ => unreadable += 1,
            }
            Ok(())
        },
    )?;
    if unreadable > 0 {
        eprintln!(
            "security-log: warning: {unreadable} checkpoint record(s) in {} cannot be read",
            source.shown()
        );
    }
    nonempty(anchors, source)
}

fn nonempty(anchors: Vec<Checkpoint>, source: &Source) -> Result<Vec<Checkpoint>, Failure> {
    if anchors.is_empty() {
        return Err(Failure::Error(format!(
            "{}: no checkpoint records there (an anchor that holds nothing proves nothing)",
            source.shown()
        )));
    }
    Ok(anchors)
}

/// The checkpoints of a file of OTLP/JSON lines (what an OpenTelemetry collector's file exporter
/// writes), or `None` when the file holds records instead.
fn read_otlp_anchors(source: &Source) -> Result<Option<Vec<Checkpoint>>, Failure> {
    use std::io::BufRead;
    if source.url().is_some() || !source.path.is_file() {
        return Ok(None);
    }
    let file = std::fs::File::open(&source.path)
        .map_err(|e| Failure::context(format!("cannot read {}", source.shown()), e))?;
    let mut lines = std::io::BufReader::new(file).lines().peekable();
    let first = match lines.peek() {
        Some(Ok(line)) => line,
        _ => return Ok(None),
    };
    if !is_otlp_json(first) {
        return Ok(None);
    }
    let mut anchors = Vec::new();
    for (number, line) in lines.enumerate() {
        let line =
            line.map_err(|e| Failure::context(format!("cannot read {}", source.shown()), e))?;
        if line.trim().is_empty() {
            continue;
        }
        let found = checkpoints_in_otlp_json(&line)
            .map_err(|e| Failure::Error(format!("{}:{}: {e}", source.shown(), number + 1)))?;
        anchors.extend(found);
    }
    Ok(Some(anchors))
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
    if report.checkpoints > 0 {
        writeln!(out, "signed   {} checkpoint(s)", report.checkpoints)?;
        if report.unsigned_tail > 0 {
            writeln!(
                out,
                "note     {} record(s) after the last checkpoint are not signed yet",
                report.unsigned_tail
            )?;
        }
    }
    if report.timestamps > 0 {
        writeln!(
            out,
            "stamped  {} checkpoint(s) carry a valid time-stamp",
            report.timestamps
        )?;
    }
    if report.unstamped > 0 {
        writeln!(
            out,
            "note     {} checkpoint(s) have no time-stamp (the authority did not answer then)",
            report.unstamped
        )?;
    }
    if report.other_chains > 0 {
        writeln!(
            out,
            "note     {} checkpoint(s) are copies from a log in another form: they sign that \
             log's chain, verify it there",
            report.other_chains
        )?;
    }
    if report.anchors > 0 {
        writeln!(
            out,
            "anchored {} checkpoint(s) match their copies",
            report.anchors
        )?;
    }
    for file in &report.removed_by_retention {
        writeln!(out, "removed  {file} (by retention, as the log records)")?;
    }
    for file in &report.moved_away {
        writeln!(
            out,
            "moved    {file} (by another program, as the log records: what it held is not verified here)"
        )?;
    }
    if !report.starts_at_genesis
        && report.records > 0
        && report.removed_by_retention.is_empty()
        && report.moved_away.is_empty()
    {
        writeln!(
            out,
            "note     the chain starts mid-way: older files were removed (retention?)"
        )?;
    }
    for unchecked in &report.unchecked {
        writeln!(out, "unchecked {unchecked}")?;
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
