//! `security-log`: read a security log from a shell.
//!
//! ```text
//! security-log query  LOG [filters] [-n N] [--oldest-first] [--cursor C] [--count] [--format F] [-o FILE]
//! security-log export LOG [filters] [--format csv|jsonl|json] [-o FILE [--force]] [--verify]
//! security-log stats  LOG [filters] [--by event|category|user|ip|country|outcome|tenant|PATH]... [--every 1h|1d|1w]
//! security-log tail   LOG [filters] [-n N] [-f]
//! security-log verify LOG [--key-file F] [--expect-tip HASH] [--instance I]
//! security-log help query | completions SHELL | man
//! ```
//!
//! LOG is a log's active file, the directory that holds it, `-` for records on stdin, or (with
//! the `postgres` feature) a `postgres://` URL of the PostgreSQL sink's table (`--table T`).
//!
//! Filters: `-q EXPR` (the query language: `security-log help query`), `--since T`/`--from T`,
//! `--until T`/`--to T` (`-24h` and the like as written), `--event`, `--category`, `--user`
//! (comma-separated lists), `--outcome`, `--ip ADDR|CIDR`, `--tenant`; they combine with `and`.
//! Exit status: 0 something matched or verified, 1 nothing matched or a problem found, 2 a usage
//! or I/O error (one line on stderr). A closed pipe (`| head -1`) ends the command quietly, 0.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command line tool prints its results"
)]

mod colour;
mod failure;
mod filters;
mod help_query;
mod output;
mod pivot;
mod show;
mod source;
mod verify;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use tracing_security_events::query::{Field, Query};
use tracing_security_events::store::{
    Aggregate, Cursor, ExportFormat, ExportWriter, FileStore, LogStore, Order, Search,
};

use colour::ColourChoice;
use failure::Failure;
use filters::Filters;
use output::Output;
use show::{Format, Table};
use source::Source;

#[derive(Parser)]
#[command(
    name = "security-log",
    version,
    about = "Query, export, count, follow and verify a security log.",
    long_about = "Query, export, count, follow and verify a security log written by \
                  tracing-security-events: its JSON-lines files, records on stdin (-), or a \
                  PostgreSQL table (postgres://...).",
    disable_help_subcommand = true,
    after_help = "Examples:\n  \
        security-log query /var/log/app --since -24h --event authentication.failed\n  \
        security-log stats /var/log/app --by event --every 1d\n  \
        security-log help query"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// With a postgres:// URL: the table (default security_events).
    #[arg(long, global = true, value_name = "T")]
    table: Option<String>,
    /// Colours in tables: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    color: ColourChoice,
}

#[derive(Subcommand)]
enum Command {
    /// A page of the records that match, newest first.
    #[command(after_help = "Examples:\n  \
        security-log query /var/log/app --since -24h --user alice,bob\n  \
        security-log query /var/log/app -q 'event like \"authentication.*\" and outcome = failure' -n 20\n  \
        security-log query /var/log/app --event user.role_changed --count")]
    Query {
        /// The log: its active file, the directory that holds it, - for stdin, or a URL.
        log: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// Records in the page.
        #[arg(short = 'n', long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
        limit: u32,
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
        #[command(flatten)]
        output: Output,
    },
    /// Every record that matches, oldest first, to a file or stdout.
    #[command(after_help = "Examples:\n  \
        security-log export /var/log/app --format csv -q 'category = api_key' -o keys.csv\n  \
        security-log export /var/log/app --since -7d --verify > week.jsonl")]
    Export {
        /// The log: its active file, the directory that holds it, - for stdin, or a URL.
        log: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// csv, jsonl or json.
        #[arg(long, default_value = "jsonl", value_parser = parse_export_format)]
        format: ExportFormat,
        #[command(flatten)]
        output: Output,
        /// Check the hash chain of everything read while exporting; a problem makes the exit
        /// status 1 (the export is still written).
        #[arg(long)]
        verify: bool,
        /// With --verify: the chain was written with this key.
        #[arg(long, requires = "verify")]
        key_file: Option<PathBuf>,
    },
    /// Counts, grouped by fields and/or per period; as a table, one --by with --every is a
    /// table of periods by values.
    #[command(after_help = "Examples:\n  \
        security-log stats /var/log/app --by event --every 1d\n  \
        security-log stats /var/log/app --by country --since -7d --event authentication.failed")]
    Stats {
        /// The log: its active file, the directory that holds it, - for stdin, or a URL.
        log: PathBuf,
        #[command(flatten)]
        filters: Filters,
        /// Group by: event, category, user, ip, country, outcome, tenant or any field path.
        #[arg(long, value_parser = parse_field, value_delimiter = ',')]
        by: Vec<Field>,
        /// Count per period: 15m, 1h, 1d, 1w (weeks start on Monday).
        #[arg(long, value_parser = parse_every)]
        every: Option<Duration>,
        /// table, json, jsonl or csv.
        #[arg(long)]
        format: Option<Format>,
        #[command(flatten)]
        output: Output,
    },
    /// The newest records that match, then (with -f) each new one as it is written, across
    /// rotations.
    #[command(after_help = "Examples:\n  \
        security-log tail /var/log/app -n 20\n  \
        security-log tail /var/log/app -f -q 'severity >= warn'")]
    Tail {
        /// The log: its active file, the directory that holds it, or - for stdin.
        log: PathBuf,
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
    /// Verify the hash chain of the log's files (or of a table's instances).
    #[command(after_help = "Examples:\n  \
        security-log verify /var/log/app\n  \
        security-log verify - < /var/log/app/security.jsonl")]
    Verify {
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
    },
    /// Help: `help query` for the query language, `help COMMAND` for a command's options.
    Help {
        /// query, or a command.
        topic: Option<String>,
    },
    /// A completion script for a shell, to stdout.
    #[command(
        after_help = "Example (bash-completion reads ~/.local/share/bash-completion/completions/):\n  \
        security-log completions bash > security-log.bash"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// The manual page (roff), to stdout.
    #[command(after_help = "Example:\n  security-log man > security-log.1")]
    Man,
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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match run(cli.command, cli.table.as_deref(), cli.color) {
        Ok(true) | Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure::Error(message)) => {
            eprintln!("security-log: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs a command: whether something matched (or verified).
fn run(command: Command, table: Option<&str>, colour: ColourChoice) -> Result<bool, Failure> {
    match command {
        Command::Query {
            log,
            filters,
            limit,
            oldest_first,
            cursor,
            count,
            format,
            output,
        } => {
            let source = Source::new(&log)?;
            let store = source.store(table)?;
            let query = filters.query()?;
            let mut out = output.open()?;
            if count {
                let count = store.count(&Search::new(query))?;
                writeln!(out, "{}", count.records)?;
                out.flush()?;
                report_skipped(count.skipped_lines);
                return Ok(count.records > 0);
            }
            let cursor = cursor
                .map(|c| c.parse::<Cursor>())
                .transpose()
                .map_err(|e| Failure::context("--cursor", e))?;
            let order = if oldest_first {
                Order::OldestFirst
            } else {
                Order::NewestFirst
            };
            let search = Search::new(query)
                .with_order(order)
                .with_limit(limit as usize)
                .with_cursor(cursor);
            let page = store.search(&search)?;
            let terminal = output.is_terminal();
            let format = format.unwrap_or(Format::default_for(terminal));
            show::records(&mut out, format, &page.records, colour.enabled(terminal))?;
            out.flush()?;
            report_skipped(page.skipped_lines);
            if let Some(next) = &page.next_cursor {
                if !page.records.is_empty() && !source.is_stdin() {
                    eprintln!("next page: --cursor {next}");
                }
            }
            Ok(!page.records.is_empty())
        }
        Command::Export {
            log,
            filters,
            format,
            output,
            verify,
            key_file,
        } => {
            let source = Source::new(&log)?;
            let store = source.store(table)?;
            let mut search = Search::new(filters.query()?).with_order(Order::OldestFirst);
            if verify {
                search = search.with_chain_check(key_file.map(verify::read_key).transpose()?);
            }
            let terminal = output.is_terminal();
            let mut writer = ExportWriter::new(output.open()?, format)?;
            let progress = show::progress(output.file.is_some() || !terminal);
            let summary = store.export(&search, &mut |record| {
                progress.inc(1);
                writer.write(record)
            })?;
            let written = writer.finish()?;
            progress.finish_and_clear();
            report_skipped(summary.skipped_lines);
            if let Some(file) = &output.file {
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
            log,
            filters,
            by,
            every,
            format,
            output,
        } => {
            let source = Source::new(&log)?;
            let store = source.store(table)?;
            let mut aggregate = Aggregate::new(filters.query()?);
            for field in &by {
                aggregate = aggregate.by(field.clone());
            }
            if let Some(every) = every {
                aggregate = aggregate.every(every);
            }
            let aggregation = store.aggregate(&aggregate)?;
            let terminal = output.is_terminal();
            let format = format.unwrap_or(Format::Table);
            let mut out = output.open()?;
            if format == Format::Table && by.len() == 1 && every.is_some() {
                pivot::print(&mut out, &aggregation.buckets, every)?;
            } else {
                show::buckets(&mut out, format, &aggregation.buckets, terminal)?;
            }
            out.flush()?;
            report_skipped(aggregation.skipped_lines);
            Ok(!aggregation.buckets.is_empty())
        }
        Command::Tail {
            log,
            filters,
            lines,
            follow,
            format,
        } => {
            let source = Source::new(&log)?;
            if follow && source.is_stdin() {
                return Err(Failure::Error(
                    "-f follows a log's files: stdin cannot be followed".to_owned(),
                ));
            }
            let store = source.files()?;
            let query = filters.query()?;
            let terminal = io::IsTerminal::is_terminal(&io::stdout());
            let format = format.unwrap_or(Format::default_for(terminal));
            tail(
                &store,
                &query,
                lines,
                follow,
                format,
                colour.enabled(terminal),
            )
        }
        Command::Verify {
            log,
            key_file,
            expect_tip,
            instance,
        } => {
            let source = Source::new(&log)?;
            verify::run(&source, key_file, expect_tip, instance.as_deref(), table)
        }
        Command::Help { topic } => help(topic.as_deref()),
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics when its writer fails (a
            // closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "security-log", &mut script);
            let mut out = io::stdout().lock();
            out.write_all(&script)?;
            out.flush()?;
            Ok(true)
        }
        Command::Man => {
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            Ok(true)
        }
    }
}

/// `help`, `help query` (the language), `help COMMAND` (its options).
fn help(topic: Option<&str>) -> Result<bool, Failure> {
    let mut out = io::stdout().lock();
    let mut command = Cli::command();
    match topic {
        Some("query") => {
            help_query::print(&mut out)?;
        }
        Some(name) => {
            let Some(sub) = command.find_subcommand_mut(name) else {
                return Err(Failure::Error(format!(
                    "help: no command or topic `{name}` (query, export, stats, tail, verify, \
                     completions, man)"
                )));
            };
            write!(out, "{}", sub.render_long_help())?;
        }
        None => write!(out, "{}", command.render_long_help())?,
    }
    out.flush()?;
    Ok(true)
}

/// The newest `lines` records, then each new one as it is written when `follow`.
fn tail(
    store: &FileStore,
    query: &Query,
    lines: usize,
    follow: bool,
    format: Format,
    colour: bool,
) -> Result<bool, Failure> {
    let newest = store.search(&Search::new(query.clone()).with_limit(lines.max(1)))?;
    let mut records = newest.records;
    if lines == 0 {
        records.clear();
    }
    records.reverse();
    let mut out = io::stdout().lock();
    let mut table = Table::new(format, colour);
    show::records_with(&mut out, &mut table, &records)?;
    out.flush()?;
    if !follow {
        return Ok(!records.is_empty());
    }
    // Where to follow from: the newest record of the whole log, matching or not.
    let mut cursor = store
        .search(&Search::new(Query::new()).with_limit(1))?
        .next_cursor;
    // Ends when interrupted, as `tail -f` does, or when the reader closes the pipe.
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
        let matcher = query.matcher(chrono::Utc::now());
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

fn report_skipped(skipped: u64) {
    if skipped > 0 {
        eprintln!("security-log: {skipped} lines are not whole records and were skipped");
    }
}
