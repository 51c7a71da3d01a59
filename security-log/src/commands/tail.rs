//! `security-log tail`: the newest records, then each new one as it is written.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tracing_security_events::query::Query;
use tracing_security_events::store::{FileStore, LogStore, Order, Search};

use super::Context;
use crate::failure::Failure;
use crate::filters::Filters;
use crate::show::{self, Format, Table};
use crate::source::Source;

/// The newest records that match, then (with -f) each new one as it is written, across
/// rotations.
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log tail /var/log/app -n 20\n  \
    security-log tail /var/log/app -f -q 'severity >= warn'")]
pub(crate) struct TailArgs {
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
}

impl TailArgs {
    pub(crate) fn run(self, context: &Context<'_>) -> Result<bool, Failure> {
        let source = Source::new(&self.log)?;
        if self.follow && source.is_stdin() {
            return Err(Failure::Error(
                "-f follows a log's files: stdin cannot be followed".to_owned(),
            ));
        }
        let store = source.files()?;
        let query = self.filters.query()?;
        let terminal = io::IsTerminal::is_terminal(&io::stdout());
        let format = self.format.unwrap_or(Format::default_for(terminal));
        let mut table = Table::new(format, context.colour.enabled(terminal));
        let mut out = io::stdout().lock();
        let newest = newest(&store, &query, self.lines)?;
        show::records_with(&mut out, &mut table, &newest)?;
        out.flush()?;
        if self.follow {
            follow(&store, &query, &mut table, &mut out)?;
        }
        Ok(!newest.is_empty())
    }
}

/// The newest `lines` records that match, oldest of them first.
fn newest(
    store: &FileStore,
    query: &Query,
    lines: usize,
) -> Result<Vec<tracing_security_events::store::StoredRecord>, Failure> {
    if lines == 0 {
        return Ok(Vec::new());
    }
    let mut records = store
        .search(&Search::new(query.clone()).with_limit(lines))?
        .records;
    records.reverse();
    Ok(records)
}

/// Prints each new record that matches, until interrupted (as `tail -f`) or until the reader
/// closes the pipe.
fn follow(
    store: &FileStore,
    query: &Query,
    table: &mut Table,
    out: &mut impl Write,
) -> Result<(), Failure> {
    // Where to follow from: the newest record of the whole log, matching or not.
    let mut cursor = store
        .search(&Search::new(Query::new()).with_limit(1))?
        .next_cursor;
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
            show::records_with(out, table, &new)?;
            out.flush()?;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
