//! Records as rows: the columns taken from each line, cleaned of what the database refuses, and
//! the one statement that writes a batch of them.

use std::borrow::Cow;

use postgres::Transaction;
use serde_json::Value;

use crate::postgres_table::partitions::class_value;
use crate::postgres_table::{clean, severity_rank};

/// One record's columns.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    instance: String,
    seq: i64,
    timestamp: String,
    event_name: String,
    category: String,
    outcome: String,
    severity: i16,
    actor_id: Option<String>,
    tenant_id: Option<String>,
    client_ip: Option<String>,
    service_name: Option<String>,
    line: String,
    /// The line for the `jsonb` column, which cannot hold U+0000: `\u0000` escapes become
    /// U+FFFD there (the `line` column keeps the record exactly as written).
    record: String,
    /// Its retention class: the days it is kept, `''` for ever.
    pub(crate) retention: String,
}

/// The record's JSON text for the `jsonb` column: each `\u0000` escape (a NUL in a string or a
/// key) written `\ufffd`. Escape-aware: `\\u0000` (a backslash, then `u0000`) stays.
pub(crate) fn jsonb_text(line: &str) -> Cow<'_, str> {
    if !line.contains("\\u0000") {
        return Cow::Borrowed(line);
    }
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        if bytes[at + 1..].starts_with(b"u0000") {
            out.push_str(&line[copied..at]);
            out.push_str("\\ufffd");
            at += 6;
            copied = at;
        } else {
            // The escaped character, whatever it is, is not the start of an escape.
            at += 2;
        }
    }
    out.push_str(&line[copied.min(line.len())..]);
    Cow::Owned(out)
}

impl Row {
    /// The row of the record `line` (sealed, without its line feed) kept `days` days (`None`:
    /// for ever); `None` when it is not one of our records (it is then skipped and counted by
    /// the caller).
    pub(crate) fn of(line: &[u8], days: Option<u32>) -> Option<Row> {
        let text = std::str::from_utf8(line).ok()?;
        let record = serde_json::from_str::<Value>(text).ok()?;
        let text_at = |pointer: &str| {
            record
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(|text| clean(text).into_owned())
        };
        let (Some(id), Some(seq), Some(timestamp), Some(event_name)) = (
            text_at("/id"),
            record.get("seq").and_then(Value::as_i64),
            text_at("/timestamp"),
            text_at("/event/name"),
        ) else {
            return None;
        };
        let severity = text_at("/event/severity")
            .and_then(|s| s.parse().ok())
            .map_or(1, severity_rank);
        Some(Row {
            id,
            instance: text_at("/service/instance").unwrap_or_default(),
            seq,
            timestamp,
            event_name,
            category: text_at("/event/category").unwrap_or_default(),
            outcome: text_at("/event/outcome").unwrap_or_else(|| "unknown".to_owned()),
            severity,
            actor_id: text_at("/actor/id"),
            tenant_id: text_at("/tenant/id"),
            client_ip: text_at("/client/ip"),
            service_name: text_at("/service/name"),
            record: jsonb_text(text).into_owned(),
            line: text.to_owned(),
            retention: class_value(days),
        })
    }
}

/// Writes `rows`; a row whose id is already there is left as it is, so a batch sent again after
/// a lost acknowledgement writes nothing twice. The rows written.
pub(crate) fn insert(
    transaction: &mut Transaction<'_>,
    table: &str,
    rows: &[Row],
) -> Result<u64, postgres::Error> {
    let column = |f: fn(&Row) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let optional = |f: fn(&Row) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let statement = format!(
        "INSERT INTO {table} (id, instance, seq, timestamp, event_name, category, outcome, \
         severity, actor_id, tenant_id, client_ip, service_name, line, record, retention) \
         SELECT id::uuid, instance, seq, timestamp::timestamptz, event_name, category, \
         outcome, severity, actor_id, tenant_id, client_ip::inet, service_name, line, \
         record::jsonb, retention \
         FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], \
         $6::text[], $7::text[], $8::int2[], $9::text[], $10::text[], $11::text[], \
         $12::text[], $13::text[], $14::text[], $15::text[]) \
         AS r(id, instance, seq, timestamp, event_name, category, outcome, severity, \
         actor_id, tenant_id, client_ip, service_name, line, record, retention) \
         ON CONFLICT (id, timestamp, retention) DO NOTHING"
    );
    transaction.execute(
        &statement,
        &[
            &column(|r| r.id.clone()),
            &column(|r| r.instance.clone()),
            &rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
            &column(|r| r.timestamp.clone()),
            &column(|r| r.event_name.clone()),
            &column(|r| r.category.clone()),
            &column(|r| r.outcome.clone()),
            &rows.iter().map(|r| r.severity).collect::<Vec<_>>(),
            &optional(|r| r.actor_id.clone()),
            &optional(|r| r.tenant_id.clone()),
            &optional(|r| r.client_ip.clone()),
            &optional(|r| r.service_name.clone()),
            &column(|r| r.line.clone()),
            &column(|r| r.record.clone()),
            &column(|r| r.retention.clone()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nul_escapes_change_for_jsonb() {
        assert_eq!(jsonb_text(r#"{"a":"x\u0000y"}"#), r#"{"a":"x\ufffdy"}"#);
        assert_eq!(
            jsonb_text(r#"{"a\u0000":"\\u0000 literal"}"#),
            r#"{"a\ufffd":"\\u0000 literal"}"#
        );
        assert_eq!(jsonb_text(r#"{"a":"\\\u0000"}"#), r#"{"a":"\\\ufffd"}"#);
        assert!(matches!(jsonb_text(r#"{"a":"plain"}"#), Cow::Borrowed(_)));
        assert_eq!(clean("a\0b"), "a\u{FFFD}b");
    }
}
