//! How records and counts are printed: a readable table (coloured on a terminal, never a
//! terminal escape from the log itself), JSON lines, JSON or CSV.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use tracing_security_events::store::{Bucket, ExportFormat, ExportWriter, StoredRecord};

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// One record a line, exactly as written.
    Jsonl,
    /// One JSON array.
    Json,
    /// CSV with a header line (formula cells neutralised).
    Csv,
}

impl Format {
    /// A table for a person at a terminal, JSON lines for a pipe.
    pub(crate) fn default_for(terminal: bool) -> Format {
        if terminal {
            Format::Table
        } else {
            Format::Jsonl
        }
    }
}

/// Text from the log made safe for a terminal: control characters (ESC among them), the C1
/// controls and the bidirectional overrides shown as `\u{..}`, never sent as they are.
pub(crate) fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
        {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints records in a format.
pub(crate) fn records(
    out: &mut impl Write,
    format: Format,
    records: &[StoredRecord],
    colour: bool,
) -> io::Result<()> {
    let mut table = Table::new(format, colour);
    records_with(out, &mut table, records)
}

/// Prints records with a table that may print more later (`tail -f`).
pub(crate) fn records_with(
    out: &mut impl Write,
    table: &mut Table,
    records: &[StoredRecord],
) -> io::Result<()> {
    match table.format {
        Format::Table => {
            let values: Vec<Value> = records.iter().map(StoredRecord::value).collect();
            if !table.header_done {
                // The user column as wide as this batch needs (e-mails whole), within reason.
                table.user_width = values
                    .iter()
                    .map(|v| user(v).chars().count())
                    .max()
                    .unwrap_or(0)
                    .clamp(8, 40);
            }
            for value in &values {
                table.row(out, value)?;
            }
            Ok(())
        }
        Format::Jsonl | Format::Json | Format::Csv => {
            let export = match table.format {
                Format::Json => ExportFormat::Json,
                Format::Csv => ExportFormat::Csv,
                _ => ExportFormat::JsonLines,
            };
            if table.format == Format::Csv && table.header_done {
                // Later rows of a followed log: no second header.
                let mut writer = csv_rows(out);
                for record in records {
                    writer
                        .write_record(tracing_security_events::store::csv_row(&record.value()))
                        .map_err(tracing_security_events::store::csv_io_error)?;
                }
                return writer.flush();
            }
            table.header_done = true;
            let mut writer = ExportWriter::new(&mut *out, export)?;
            for record in records {
                writer.write(record)?;
            }
            writer.finish().map(|_| ())
        }
    }
}

fn csv_rows<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out)
}

/// The table's state: its format, whether colours are on, whether its header is printed, and
/// the user column's width.
pub(crate) struct Table {
    format: Format,
    colour: bool,
    header_done: bool,
    user_width: usize,
}

const RESET: &str = "\u{1b}[0m";

impl Table {
    pub(crate) fn new(format: Format, colour: bool) -> Table {
        Table {
            format,
            colour,
            header_done: false,
            user_width: 20,
        }
    }

    fn row(&mut self, out: &mut impl Write, record: &Value) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            let header = format!(
                "{:<27} {:<32} {:<8} {:<w$} {:<15} {}",
                "TIME",
                "EVENT",
                "OUTCOME",
                "USER",
                "IP",
                "MESSAGE",
                w = self.user_width
            );
            if self.colour {
                writeln!(out, "\u{1b}[1m{header}{RESET}")?;
            } else {
                writeln!(out, "{header}")?;
            }
        }
        let text = |path: &[&str]| text_at(record, path);
        let user = user(record);
        let event = clip(&text(&["event", "name"]), 32);
        let event = if self.colour {
            let colour = match text(&["event", "severity"]).as_str() {
                "warn" => "\u{1b}[33m",
                "error" | "critical" => "\u{1b}[31m",
                "debug" => "\u{1b}[2m",
                _ => "",
            };
            format!("{colour}{event:<32}{RESET}")
        } else {
            format!("{event:<32}")
        };
        writeln!(
            out,
            "{:<27} {event} {:<8} {:<w$} {:<15} {}",
            text(&["timestamp"]),
            clip(&text(&["event", "outcome"]), 8),
            clip(&user, self.user_width),
            clip(&text(&["client", "ip"]), 15),
            clip(&text(&["message"]), 120),
            w = self.user_width
        )?;
        // What changed, old -> new, one line a field under the record's row.
        if let Some(Value::Object(changes)) = record.get("changes") {
            for (name, change) in changes {
                let side = |key: &str| {
                    change.get(key).map_or_else(
                        || "-".to_owned(),
                        |v| clip(&terminal_safe(&v.to_string()), 60),
                    )
                };
                writeln!(
                    out,
                    "{:27} {}: {} -> {}",
                    "",
                    terminal_safe(name),
                    side("old"),
                    side("new")
                )?;
            }
        }
        Ok(())
    }
}

/// The text at `path` of a record, safe for a terminal ("" when absent).
fn text_at(record: &Value, path: &[&str]) -> String {
    let value = path.iter().try_fold(record, |v, key| v.get(*key));
    terminal_safe(&match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    })
}

/// Who acted: the actor's name, else e-mail, else id.
fn user(record: &Value) -> String {
    [["actor", "name"], ["actor", "email"], ["actor", "id"]]
        .iter()
        .map(|path| text_at(record, path))
        .find(|u| !u.is_empty())
        .unwrap_or_default()
}

/// At most `width` characters, with `…` when cut.
pub(crate) fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

/// Prints grouped counts.
pub(crate) fn buckets(
    out: &mut impl Write,
    format: Format,
    buckets: &[Bucket],
    terminal: bool,
) -> io::Result<()> {
    let start = |b: &Bucket| b.start.map(|s| s.to_rfc3339()).unwrap_or_default();
    match format {
        Format::Json | Format::Jsonl => {
            let rows: Vec<Value> = buckets
                .iter()
                .map(|b| {
                    let key: serde_json::Map<String, Value> = b
                        .key
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.clone(),
                                value.clone().map_or(Value::Null, Value::String),
                            )
                        })
                        .collect();
                    let mut row = serde_json::json!({ "key": key, "count": b.count });
                    if let Some(s) = b.start {
                        row["start"] = Value::String(s.to_rfc3339());
                    }
                    row
                })
                .collect();
            if format == Format::Json {
                writeln!(out, "{}", serde_json::json!({ "buckets": rows }))
            } else {
                rows.iter().try_for_each(|row| writeln!(out, "{row}"))
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            let mut header = vec!["start".to_owned()];
            if let Some(first) = buckets.first() {
                header.extend(first.key.iter().map(|(name, _)| name.clone()));
            }
            header.push("count".into());
            writer
                .write_record(&header)
                .map_err(tracing_security_events::store::csv_io_error)?;
            for b in buckets {
                let mut row = vec![start(b)];
                row.extend(b.key.iter().map(|(_, v)| {
                    tracing_security_events::store::neutralize_csv_cell(
                        v.clone().unwrap_or_default(),
                    )
                }));
                row.push(b.count.to_string());
                writer
                    .write_record(&row)
                    .map_err(tracing_security_events::store::csv_io_error)?;
            }
            writer.flush()
        }
        Format::Table => {
            let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
            let width = buckets.first().map_or(0, |b| b.key.len());
            let mut widths: Vec<usize> = (0..width).map(|n| buckets[0].key[n].0.len()).collect();
            for b in buckets {
                for (n, (_, v)) in b.key.iter().enumerate() {
                    let shown = terminal_safe(v.as_deref().unwrap_or("-"));
                    widths[n] = widths[n].max(clip(&shown, 40).chars().count());
                }
            }
            let timed = buckets.iter().any(|b| b.start.is_some());
            let mut line = String::new();
            if timed {
                line.push_str(&format!("{:<25} ", "START"));
            }
            if let Some(first) = buckets.first() {
                for (n, (name, _)) in first.key.iter().enumerate() {
                    line.push_str(&format!("{:<w$} ", name.to_uppercase(), w = widths[n]));
                }
            }
            line.push_str(&format!("{:>10}", "COUNT"));
            writeln!(out, "{line}")?;
            for b in buckets {
                let mut line = String::new();
                if timed {
                    line.push_str(&format!("{:<25} ", start(b)));
                }
                for (n, (_, v)) in b.key.iter().enumerate() {
                    let shown = clip(&terminal_safe(v.as_deref().unwrap_or("-")), 40);
                    line.push_str(&format!("{shown:<w$} ", w = widths[n]));
                }
                line.push_str(&format!("{:>10}", b.count));
                if terminal {
                    let bar = (b.count * 40).div_ceil(max) as usize;
                    line.push_str(&format!(" {}", "█".repeat(bar)));
                }
                writeln!(out, "{line}")?;
            }
            Ok(())
        }
    }
}

/// A progress line on stderr while exporting, when stderr is a terminal.
pub(crate) fn progress(quiet_stdout: bool) -> ProgressBar {
    // With the records on stdout of a terminal, a progress line would mix with them.
    if !quiet_stdout || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {human_pos} records exported ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Says on stderr how many lines were not whole records.
pub(crate) fn report_skipped(skipped: u64) {
    if skipped > 0 {
        eprintln!("security-log: {skipped} lines are not whole records and were skipped");
    }
}
