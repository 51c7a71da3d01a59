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
mod commands;
mod failure;
mod filters;
mod output;
mod pivot;
mod show;
mod source;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use colour::ColourChoice;
use commands::Context;
use failure::Failure;

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
    Query(commands::QueryArgs),
    Export(commands::ExportArgs),
    Stats(commands::StatsArgs),
    Tail(commands::TailArgs),
    Verify(commands::VerifyArgs),
    Keygen(commands::KeygenArgs),
    Index(commands::IndexArgs),
    Help(commands::HelpArgs),
    Completions(commands::CompletionsArgs),
    /// The manual page (roff), to stdout.
    #[command(after_help = "Example:\n  security-log man > security-log.1")]
    Man,
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
    let context = Context {
        table: cli.table.as_deref(),
        colour: cli.color,
    };
    let result = match cli.command {
        Command::Query(args) => args.run(&context),
        Command::Export(args) => args.run(&context),
        Command::Stats(args) => args.run(&context),
        Command::Tail(args) => args.run(&context),
        Command::Verify(args) => args.run(&context),
        Command::Keygen(args) => args.run(),
        Command::Index(args) => args.run(),
        Command::Help(args) => args.run(),
        Command::Completions(args) => args.run(),
        Command::Man => commands::man(),
    };
    match result {
        // Something matched or verified.
        Ok(true) | Err(Failure::ClosedPipe) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure::Error(message)) => {
            eprintln!("security-log: {message}");
            ExitCode::from(2)
        }
    }
}
