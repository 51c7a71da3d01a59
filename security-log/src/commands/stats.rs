//! `security-log stats`: counts grouped by fields and/or per period.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tracing_security_events::query::Field;
use tracing_security_events::store::Aggregate;

use super::Context;
use crate::failure::Failure;
use crate::filters::Filters;
use crate::output::Output;
use crate::show::{self, Format};
use crate::source::Source;

/// Counts, grouped by fields and/or per period; as a table, one --by with --every is a table of
/// periods by values.
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log stats /var/log/app --by event --every 1d\n  \
    security-log stats /var/log/app --by country --since -7d --event authentication.failed")]
pub(crate) struct StatsArgs {
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
}

fn parse_field(text: &str) -> Result<Field, String> {
    Field::parse(text).map_err(|e| e.message().to_owned())
}

/// `15m`, `1h`, `1d`, `1w`.
fn parse_every(text: &str) -> Result<Duration, String> {
    tracing_security_events::store::bucket_length(text)
}

impl StatsArgs {
    pub(crate) fn run(self, context: &Context<'_>) -> Result<bool, Failure> {
        let source = Source::new(&self.log)?;
        let store = source.store(context.table)?;
        let mut aggregate = Aggregate::new(self.filters.query()?);
        for field in &self.by {
            aggregate = aggregate.by(field.clone());
        }
        if let Some(every) = self.every {
            aggregate = aggregate.every(every);
        }
        let aggregation = store.aggregate(&aggregate)?;
        let terminal = self.output.is_terminal();
        let format = self.format.unwrap_or(Format::Table);
        let mut out = self.output.open()?;
        if format == Format::Table && self.by.len() == 1 && self.every.is_some() {
            crate::pivot::print(&mut out, &aggregation.buckets, self.every)?;
        } else {
            show::buckets(&mut out, format, &aggregation.buckets, terminal)?;
        }
        out.flush()?;
        show::report_skipped(aggregation.skipped_lines);
        Ok(!aggregation.buckets.is_empty())
    }
}
