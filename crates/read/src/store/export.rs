//! Records written out for other tools: JSON lines (each record exactly as written), a JSON
//! array, or CSV with a fixed set of columns, nested parts flattened, and cells that a
//! spreadsheet would run as a formula neutralised (OWASP CSV injection).

use std::io::{self, Write};

use serde_json::Value;

use super::request::StoredRecord;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportFormat {
    /// One record a line, exactly as written (re-verifiable).
    JsonLines,
    /// One JSON array of the records.
    Json,
    /// CSV with the columns of [`CSV_COLUMNS`] and a header line.
    Csv,
}

impl ExportFormat {
    /// Its name, as `FromStr` reads it (`csv`, `jsonl`, `json`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::JsonLines => "jsonl",
            ExportFormat::Json => "json",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "jsonl" | "ndjson" => Ok(ExportFormat::JsonLines),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(format!("unknown format `{other}` (csv, jsonl, json)")),
        }
    }
}

/// The CSV columns, each with the record path it holds. `fields` and `changes` hold their
/// JSON; `actor.roles` its items joined by `;`.
#[doc(hidden)]
pub const CSV_COLUMNS: [(&str, &str); 26] = [
    ("timestamp", "timestamp"),
    ("id", "id"),
    ("seq", "seq"),
    ("event", "event.name"),
    ("category", "event.category"),
    ("outcome", "event.outcome"),
    ("severity", "event.severity"),
    ("reason", "event.reason"),
    ("message", "message"),
    ("actor_id", "actor.id"),
    ("actor_name", "actor.name"),
    ("actor_email", "actor.email"),
    ("actor_kind", "actor.kind"),
    ("actor_roles", "actor.roles"),
    ("tenant_id", "tenant.id"),
    ("session_id", "session.id"),
    ("client_ip", "client.ip"),
    ("client_port", "client.port"),
    ("country", "client.geo.country"),
    ("user_agent", "user_agent.original"),
    ("request_method", "request.method"),
    ("request_path", "request.path"),
    ("target", "target.id"),
    ("fields", "fields"),
    ("changes", "changes"),
    ("service", "service.name"),
];

/// Writes records in a format, one at a time.
#[derive(Debug)]
pub struct ExportWriter<W: Write> {
    out: Output<W>,
    format: ExportFormat,
    written: u64,
}

#[derive(Debug)]
enum Output<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Raw(W),
}

/// A CSV writer's error as the I/O error it carries when it is one, so that a closed pipe stays
/// a closed pipe (`csv::Error` does not expose it as its source); any other kind, wrapped.
#[doc(hidden)]
pub fn csv_io_error(error: csv::Error) -> io::Error {
    if !error.is_io_error() {
        return io::Error::other(error);
    }
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> ExportWriter<W> {
    /// Starts an export to `out` (a CSV header, a JSON array's bracket).
    pub fn new(mut out: W, format: ExportFormat) -> io::Result<Self> {
        let out = match format {
            ExportFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer
                    .write_record(CSV_COLUMNS.iter().map(|(name, _)| *name))
                    .map_err(csv_io_error)?;
                Output::Csv(Box::new(writer))
            }
            ExportFormat::Json => {
                out.write_all(b"[")?;
                Output::Raw(out)
            }
            ExportFormat::JsonLines => Output::Raw(out),
        };
        Ok(ExportWriter {
            out,
            format,
            written: 0,
        })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &StoredRecord) -> io::Result<()> {
        match &mut self.out {
            Output::Csv(csv) => csv
                .write_record(csv_row(&record.value()))
                .map_err(csv_io_error)?,
            Output::Raw(out) => {
                if self.format == ExportFormat::Json {
                    out.write_all(if self.written > 0 { b",\n" } else { b"\n" })?;
                }
                out.write_all(record.line().as_bytes())?;
                if self.format == ExportFormat::JsonLines {
                    out.write_all(b"\n")?;
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the export (a JSON array's bracket) and flushes it; the records written.
    pub fn finish(self) -> io::Result<u64> {
        match self.out {
            Output::Csv(mut csv) => csv.flush()?,
            Output::Raw(mut out) => {
                if self.format == ExportFormat::Json {
                    out.write_all(b"\n]\n")?;
                }
                out.flush()?;
            }
        }
        Ok(self.written)
    }
}

/// A record as CSV cells, in the order of [`CSV_COLUMNS`].
#[doc(hidden)]
pub fn csv_row(record: &Value) -> Vec<String> {
    CSV_COLUMNS
        .iter()
        .map(|(_, path)| {
            let value = path.split('.').try_fold(record, |v, key| v.get(key));
            let text = match value {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(items)) if *path == "actor.roles" => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map_or_else(|| item.to_string(), str::to_owned)
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                Some(other) => other.to_string(),
            };
            neutralize_csv_cell(text)
        })
        .collect()
}

/// A cell that begins with `=`, `+`, `-`, `@`, tab or carriage return is read as a formula by
/// spreadsheets: it gets a leading `'`, which they show as text.
pub fn neutralize_csv_cell(cell: String) -> String {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (cell, expected) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("alice", "alice"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralize_csv_cell(cell.to_owned()), expected);
        }
    }

    #[test]
    fn nested_parts_are_flattened() {
        let record = serde_json::json!({
            "timestamp": "2026-11-22T10:15:30.123456Z", "seq": 3,
            "event": {"name": "user.role_changed"},
            "actor": {"id": "=1+1", "roles": ["admin", "-x"]},
            "client": {"ip": "203.0.113.7", "port": 443, "geo": {"country": "DE"}},
            "changes": {"roles": {"old": ["viewer"], "new": ["admin"]}},
        });
        let row = csv_row(&record);
        let cell = |name: &str| &row[CSV_COLUMNS.iter().position(|(n, _)| *n == name).unwrap()];
        assert_eq!(cell("seq"), "3");
        assert_eq!(cell("actor_id"), "'=1+1");
        assert_eq!(cell("actor_roles"), "admin;-x");
        assert_eq!(cell("client_port"), "443");
        assert_eq!(cell("country"), "DE");
        assert_eq!(
            cell("changes"),
            r#"{"roles":{"old":["viewer"],"new":["admin"]}}"#
        );
        assert_eq!(cell("tenant_id"), "");
    }
}
