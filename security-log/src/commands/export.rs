//! `security-log export`: every record that matches, oldest first, optionally checking the
//! chain on the way.

use std::path::PathBuf;

use clap::Args;
use tracing_security_events::store::{ExportFormat, ExportWriter, Order, Search};

use super::Context;
use crate::failure::Failure;
use crate::filters::Filters;
use crate::output::Output;
use crate::show;
use crate::source::Source;

/// Every record that matches, oldest first, to a file or stdout.
#[derive(Args)]
#[command(after_help = "Examples:\n  \
    security-log export /var/log/app --format csv -q 'category = api_key' -o keys.csv\n  \
    security-log export /var/log/app --since -7d --verify > week.jsonl")]
pub(crate) struct ExportArgs {
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
}

fn parse_export_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

impl ExportArgs {
    pub(crate) fn run(self, context: &Context<'_>) -> Result<bool, Failure> {
        let source = Source::new(&self.log)?;
        let store = source.store(context.table)?;
        let mut search = Search::new(self.filters.query()?).with_order(Order::OldestFirst);
        if self.verify {
            let key = self.key_file.map(super::verify::read_key).transpose()?;
            search = search.with_chain_check(key);
        }
        let terminal = self.output.is_terminal();
        let mut writer = ExportWriter::new(self.output.open()?, self.format)?;
        let progress = show::progress(self.output.file.is_some() || !terminal);
        let summary = store.export(&search, &mut |record| {
            progress.inc(1);
            writer.write(record)
        })?;
        let written = writer.finish()?;
        progress.finish_and_clear();
        show::report_skipped(summary.skipped_lines);
        if let Some(file) = &self.output.file {
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
}
