//! `security-log query`: a page of the records that match, or their number.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use tracing_security_events::store::{Cursor, Order, Search};

use super::Context;
use crate::failure::Failure;
use crate::filters::Filters;
use crate::output::Output;
use crate::show::{self, Format};
use crate::source::Source;

/// A page of the records that match, newest first.
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log query /var/log/app --since -24h --user alice,bob\n  \
    security-log query /var/log/app -q 'event like \"authentication.*\" and outcome = failure' -n 20\n  \
    security-log query /var/log/app --event user.role_changed --count")]
pub(crate) struct QueryArgs {
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
}

impl QueryArgs {
    pub(crate) fn run(self, context: &Context<'_>) -> Result<bool, Failure> {
        let source = Source::new(&self.log)?;
        let store = source.store(context.table)?;
        let query = self.filters.query()?;
        let mut out = self.output.open()?;
        if self.count {
            let count = store.count(&Search::new(query))?;
            writeln!(out, "{}", count.records)?;
            out.flush()?;
            show::report_skipped(count.skipped_lines);
            return Ok(count.records > 0);
        }
        let cursor = self
            .cursor
            .map(|c| c.parse::<Cursor>())
            .transpose()
            .map_err(|e| Failure::context("--cursor", e))?;
        let order = if self.oldest_first {
            Order::OldestFirst
        } else {
            Order::NewestFirst
        };
        let search = Search::new(query)
            .with_order(order)
            .with_limit(self.limit as usize)
            .with_cursor(cursor);
        let page = store.search(&search)?;
        let terminal = self.output.is_terminal();
        let format = self.format.unwrap_or(Format::default_for(terminal));
        show::records(
            &mut out,
            format,
            &page.records,
            context.colour.enabled(terminal),
        )?;
        out.flush()?;
        show::report_skipped(page.skipped_lines);
        if let Some(next) = &page.next_cursor {
            if !page.records.is_empty() && !source.is_stdin() {
                eprintln!("next page: --cursor {next}");
            }
        }
        Ok(!page.records.is_empty())
    }
}
