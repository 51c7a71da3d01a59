//! `security-log`: read a security log from a shell.
//!
//! ```text
//! security-log query  PATH|URL [filters] [--limit N] [--oldest-first] [--cursor C] [--count] [--format table|jsonl|json|csv]
//! security-log export PATH|URL [filters] --format csv|jsonl|json [-o FILE]
//! security-log stats  PATH|URL [filters] [--by event|category|user|ip|country|outcome|tenant|PATH]... [--every 1h|1d]
//! security-log tail   PATH [filters] [-n N] [-f]
//! security-log verify PATH|URL [--key-file F] [--expect-tip HASH] [--instance I]
//! ```
//!
//! A URL (`postgres://user@host/db`, with the `postgres` feature) reads the PostgreSQL sink's
//! table (`--table T`, default `security_events`).
//!
//! Filters: `-q EXPR` (the query language), `--from T`, `--to T`, `--event NAME|GLOB`...,
//! `--category C`..., `--user U`..., `--outcome O`, `--ip ADDR|CIDR`, `--tenant T`; they
//! combine with `and`. Exit status: 0 something matched or verified, 1 nothing matched or a
//! problem found, 2 a usage or I/O error (one line on stderr).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command line tool prints its results"
)]

mod filters;
mod show;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tracing_security_events::integrity::{verify_with, VerifyOptions};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::store::{
    Aggregate, Cursor, ExportFormat, ExportWriter, FileStore, LogStore, Order, Search,
};

use filters::Filters;
use show::{Format, Table};

#[derive(Parser)]
#[command(
    name = "security-log",
    version,
    about = "Query, export, count, follow and verify a security log."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// With a postgres:// URL: the table (default security_events).
    #[arg(long, global = true, value_name = "T")]
    table: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// A page of the records that match, newest first.
    Query {
        /// The log: its active file, or the directory that holds it.
        path: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// Records in the page.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Oldest first.
        #[arg(long)]
        oldest_first: bool,
        /// Resume after the page that printed this cursor.
        #[arg(long)]
        cursor: Option<String>,
        /// Print only the number of records that match.
        #[arg(long)]
        count: bool,
        /// How to print the records (a table on a terminal, JSON lines otherwise).
        #[arg(long)]
        format: Option<Format>,
    },
    /// Every record that matches, oldest first, to a file or stdout.
    Export {
        /// The log: its active file, or the directory that holds it.
        path: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// csv, jsonl or json.
        #[arg(long, default_value = "jsonl", value_parser = parse_export_format)]
        format: ExportFormat,
        /// Where to write (stdout when not given).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Check the hash chain of everything read while exporting; a problem makes the exit
        /// status 1 (the export is still written).
        #[arg(long)]
        verify: bool,
        /// With --verify: the chain was written with this key.
        #[arg(long, requires = "verify")]
        key_file: Option<PathBuf>,
    },
    /// Counts, grouped by fields and/or per hour or day.
    Stats {
        /// The log: its active file, or the directory that holds it.
        path: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// Group by: event, category, user, ip, country, outcome, tenant or any field path.
        #[arg(long, value_parser = parse_field)]
        by: Vec<Field>,
        /// Count per time bucket: 1h, 1d, 15m...
        #[arg(long, value_parser = parse_every)]
        every: Option<Duration>,
        /// table, or json.
        #[arg(long)]
        format: Option<Format>,
    },
    /// The newest records that match, then (with -f) each new one as it is written, across
    /// rotations.
    Tail {
        /// The log: its active file, or the directory that holds it.
        path: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// How many of the newest to print first.
        #[arg(short = 'n', long, default_value_t = 10)]
        lines: usize,
        /// Keep following the log.
        #[arg(short, long)]
        follow: bool,
        /// How to print the records (a table on a terminal, JSON lines otherwise).
        #[arg(long)]
        format: Option<Format>,
    },
    /// Verify the hash chain of the log's files.
    Verify {
        /// A log file, or a directory of rotated files.
        path: PathBuf,
        /// The chain was written with this key (HMAC-SHA256).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// The hash the log must end with, kept elsewhere.
        #[arg(long)]
        expect_tip: Option<String>,
        /// With a postgres:// URL: only this instance's chain (default: each instance's).
        #[arg(long, value_name = "I")]
        instance: Option<String>,
    },
}

fn parse_export_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

fn parse_field(text: &str) -> Result<Field, String> {
    Field::parse(text).map_err(|e| e.message().to_owned())
}

/// `15m`, `1h`, `1d`, `1w`.
fn parse_every(text: &str) -> Result<Duration, String> {
    tracing_security_events::store::bucket_length(text)
}

/// An error for the one line on stderr, exit status 2.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match run(cli.command, cli.table.as_deref()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure(message)) => {
            eprintln!("security-log: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command: whether something matched (or verified).
fn run(command: Command, table: Option<&str>) -> Result<bool, Failure> {
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    match command {
        Command::Query {
            path,
            filters,
            limit,
            oldest_first,
            cursor,
            count,
            format,
        } => {
            let store = open(&path, table)?;
            let query = filters.query()?;
            if count {
                let count = store.count(&Search::new(query.clone()))?;
                println!("{}", count.records);
                report_skipped(count.skipped_lines);
                return Ok(count.records > 0);
            }
            let cursor = cursor
                .map(|c| c.parse::<Cursor>())
                .transpose()
                .map_err(|e| format!("--cursor: {e}"))?;
            let order = if oldest_first {
                Order::OldestFirst
            } else {
                Order::NewestFirst
            };
            let search = Search::new(query)
                .with_order(order)
                .with_limit(limit)
                .with_cursor(cursor);
            let page = store.search(&search)?;
            let format = format.unwrap_or(Format::default_for(terminal));
            let mut out = stdout.lock();
            show::records(&mut out, format, &page.records, terminal)?;
            out.flush()?;
            report_skipped(page.skipped_lines);
            if let Some(next) = &page.next_cursor {
                if !page.records.is_empty() {
                    eprintln!("next page: --cursor {next}");
                }
            }
            Ok(!page.records.is_empty())
        }
        Command::Export {
            path,
            filters,
            format,
            output,
            verify,
            key_file,
        } => {
            let store = open(&path, table)?;
            let mut search = Search::new(filters.query()?).with_order(Order::OldestFirst);
            if verify {
                search = search.with_chain_check(key_file.map(read_key).transpose()?);
            }
            let sink: Box<dyn Write> = match &output {
                Some(file) => Box::new(io::BufWriter::new(
                    std::fs::File::create(file)
                        .map_err(|e| format!("cannot create {}: {e}", file.display()))?,
                )),
                None => Box::new(io::BufWriter::new(stdout.lock())),
            };
            let mut writer = ExportWriter::new(sink, format)?;
            let progress = show::progress(output.is_some() || !terminal);
            let summary = store.export(&search, &mut |record| {
                progress.inc(1);
                writer.write(record)
            })?;
            let written = writer.finish()?;
            progress.finish_and_clear();
            report_skipped(summary.skipped_lines);
            if let Some(file) = &output {
                eprintln!("{written} records written to {}", file.display());
            }
            if let Some(chain) = summary.chain {
                if let Some(problem) = chain.problem {
                    eprintln!("security-log: the chain does not verify: {problem}");
                    return Ok(false);
                }
                eprintln!("chain verified over {} records", chain.records);
            }
            Ok(written > 0)
        }
        Command::Stats {
            path,
            filters,
            by,
            every,
            format,
        } => {
            let store = open(&path, table)?;
            let mut aggregate = Aggregate::new(filters.query()?);
            for field in by {
                aggregate = aggregate.by(field);
            }
            if let Some(every) = every {
                aggregate = aggregate.every(every);
            }
            let aggregation = store.aggregate(&aggregate)?;
            let format = format.unwrap_or(Format::Table);
            let mut out = stdout.lock();
            show::buckets(&mut out, format, &aggregation.buckets, terminal)?;
            out.flush()?;
            report_skipped(aggregation.skipped_lines);
            Ok(!aggregation.buckets.is_empty())
        }
        Command::Tail {
            path,
            filters,
            lines,
            follow,
            format,
        } => {
            let store = FileStore::open(&path)?;
            let query = filters.query()?;
            let format = format.unwrap_or(Format::default_for(terminal));
            tail(&store, &query, lines, follow, format, terminal)
        }
        Command::Verify {
            path,
            key_file,
            expect_tip,
            instance,
        } => verify(&path, key_file, expect_tip, instance.as_deref(), table),
    }
}

/// The newest `lines` records, then each new one as it is written when `follow`.
fn tail(
    store: &FileStore,
    query: &Query,
    lines: usize,
    follow: bool,
    format: Format,
    terminal: bool,
) -> Result<bool, Failure> {
    let newest = store.search(&Search::new(query.clone()).with_limit(lines.max(1)))?;
    let mut records = newest.records;
    if lines == 0 {
        records.clear();
    }
    records.reverse();
    let mut out = io::stdout().lock();
    let mut table = Table::new(format, terminal);
    show::records_with(&mut out, &mut table, &records)?;
    out.flush()?;
    if !follow {
        return Ok(!records.is_empty());
    }
    // Where to follow from: the newest record of the whole log, matching or not.
    let mut cursor = store
        .search(&Search::new(Query::new()).with_limit(1))?
        .next_cursor;
    // Ends when interrupted, as `tail -f` does.
    loop {
        let page = store.search(
            &Search::new(Query::new())
                .with_order(Order::OldestFirst)
                .with_limit(1000)
                .with_cursor(cursor.clone()),
        )?;
        if page.next_cursor.is_some() {
            cursor = page.next_cursor.clone();
        }
        let now = chrono::Utc::now();
        let matcher = query.matcher(now);
        let new: Vec<_> = page
            .records
            .into_iter()
            .filter(|r| matcher.matches_line(r.line()).unwrap_or(false))
            .collect();
        if !new.is_empty() {
            show::records_with(&mut out, &mut table, &new)?;
            out.flush()?;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn read_key(file: PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(&file)
        .map_err(|e| Failure(format!("cannot read key file {}: {e}", file.display())))
}

/// The store at `path`: a log's files, or a database's table for a `postgres://` URL.
fn open(path: &std::path::Path, table: Option<&str>) -> Result<Box<dyn LogStore>, Failure> {
    match database_url(path) {
        Some(url) => open_database(url, table).map(|store| Box::new(store) as Box<dyn LogStore>),
        None => Ok(Box::new(FileStore::open(path)?)),
    }
}

fn database_url(path: &std::path::Path) -> Option<&str> {
    path.to_str()
        .filter(|p| p.starts_with("postgres://") || p.starts_with("postgresql://"))
}

#[cfg(feature = "postgres")]
fn open_database(
    url: &str,
    table: Option<&str>,
) -> Result<tracing_security_events::store::PostgresStore, Failure> {
    let table =
        table.unwrap_or(tracing_security_events::sink::postgres::PostgresConfig::DEFAULT_TABLE);
    tracing_security_events::store::PostgresStore::connect_to_table(url, table)
        .map_err(|e| Failure(e.to_string()))
}

#[cfg(not(feature = "postgres"))]
fn open_database(_url: &str, _table: Option<&str>) -> Result<FileStore, Failure> {
    Err(Failure(
        "this security-log was built without the postgres feature: it reads files only".to_owned(),
    ))
}

fn verify(
    path: &std::path::Path,
    key_file: Option<PathBuf>,
    expect_tip: Option<String>,
    instance: Option<&str>,
    table: Option<&str>,
) -> Result<bool, Failure> {
    let mut options = VerifyOptions::new();
    if let Some(file) = key_file {
        options = options.with_key(read_key(file)?);
    }
    if let Some(tip) = expect_tip {
        options = options.with_expected_tip(tip);
    }
    if let Some(url) = database_url(path) {
        return verify_database(url, table, instance, &options);
    }
    let report =
        verify_with(path, &options).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if report.records == 0 && report.problem.is_none() {
        // "0 records, ok" about a path that holds no log would be a dangerous answer.
        return Err(Failure(format!(
            "{}: no records to verify (an empty log, or not a log)",
            path.display()
        )));
    }
    Ok(print_report(&report))
}

/// Each instance's chain (or the one asked for), from the table's rows.
#[cfg(feature = "postgres")]
fn verify_database(
    url: &str,
    table: Option<&str>,
    instance: Option<&str>,
    options: &VerifyOptions,
) -> Result<bool, Failure> {
    let store = open_database(url, table)?;
    let instances = match instance {
        Some(instance) => vec![instance.to_owned()],
        None => store.instances()?,
    };
    let mut ok = true;
    for instance in instances {
        let report = store.verify_instance(&instance, options)?;
        if report.records == 0 && report.problem.is_none() {
            return Err(Failure(format!("no records of instance {instance}")));
        }
        ok &= print_report(&report);
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
    open_database(url, table).map(|_| false)
}

/// Prints what verification found; whether the chain verified.
fn print_report(report: &tracing_security_events::integrity::VerifyReport) -> bool {
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
        println!("torn     {torn}: Torn: a line cut short, not a whole record (a crash, or a cut)");
    }
    if !report.ends_cleanly {
        println!("note     the log does not end with a whole record");
    }
    match &report.problem {
        None if !report.torn_lines.is_empty() => {
            let last = &report.torn_lines[report.torn_lines.len() - 1];
            eprintln!("security-log: {last}: a torn line (not a whole record)");
            println!(
                "ok       the chain verifies, apart from {} torn line(s) (see above)",
                report.torn_lines.len()
            );
            true
        }
        None => {
            println!("ok       the chain verifies");
            true
        }
        Some(problem) => {
            println!("PROBLEM  {problem}");
            false
        }
    }
}

fn report_skipped(skipped: u64) {
    if skipped > 0 {
        eprintln!("security-log: {skipped} lines are not whole records and were skipped");
    }
}
