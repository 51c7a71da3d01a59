//! Records as rows: the columns taken from each line, and the one statement that writes a
//! batch of them.

use postgres::Transaction;
use serde_json::Value;

use crate::event::Severity;

/// A batch's columns, one vector per column (sent as arrays and unnested by the server: one
/// statement and one round trip per batch, every value a bind parameter).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    id: Vec<String>,
    instance: Vec<String>,
    seq: Vec<i64>,
    timestamp: Vec<String>,
    event_name: Vec<String>,
    category: Vec<String>,
    outcome: Vec<String>,
    severity: Vec<i16>,
    actor_id: Vec<Option<String>>,
    tenant_id: Vec<Option<String>>,
    client_ip: Vec<Option<String>>,
    service_name: Vec<Option<String>>,
    line: Vec<String>,
    /// The line for the `jsonb` column, which cannot hold U+0000: `\u0000` escapes become
    /// U+FFFD there (the `line` column keeps the record exactly as written).
    record: Vec<String>,
}

/// A severity as stored: its rank, least serious first (debug 0 ... critical 4).
pub(crate) fn severity_rank(severity: Severity) -> i16 {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .map_or(0, |rank| rank as i16)
}

impl Rows {
    pub(crate) fn len(&self) -> usize {
        self.id.len()
    }

    /// Adds the record `line` (sealed, without its line feed); `false` when it is not one of
    /// our records (it is then skipped and counted by the caller).
    pub(crate) fn push(&mut self, line: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(line) else {
            return false;
        };
        let Ok(record) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        let text_at = |pointer: &str| {
            record
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (Some(id), Some(seq), Some(timestamp), Some(name)) = (
            text_at("/id"),
            record.get("seq").and_then(Value::as_i64),
            text_at("/timestamp"),
            text_at("/event/name"),
        ) else {
            return false;
        };
        let severity = text_at("/event/severity")
            .and_then(|s| s.parse().ok())
            .map_or(1, severity_rank);
        self.id.push(id);
        self.instance
            .push(text_at("/service/instance").unwrap_or_default());
        self.seq.push(seq);
        self.timestamp.push(timestamp);
        self.event_name.push(name);
        self.category
            .push(text_at("/event/category").unwrap_or_default());
        self.outcome
            .push(text_at("/event/outcome").unwrap_or_else(|| "unknown".to_owned()));
        self.severity.push(severity);
        self.actor_id.push(text_at("/actor/id"));
        self.tenant_id.push(text_at("/tenant/id"));
        self.client_ip.push(text_at("/client/ip"));
        self.service_name.push(text_at("/service/name"));
        self.line.push(text.to_owned());
        self.record.push(if text.contains("\\u0000") {
            text.replace("\\u0000", "\\ufffd")
        } else {
            text.to_owned()
        });
        true
    }

    /// Writes the rows; a row whose id is already there is left as it is, so a batch sent
    /// again after a lost acknowledgement writes nothing twice. The rows written.
    pub(crate) fn insert(
        &self,
        transaction: &mut Transaction<'_>,
        table: &str,
    ) -> Result<u64, postgres::Error> {
        let statement = format!(
            "INSERT INTO {table} (id, instance, seq, timestamp, event_name, category, outcome, \
             severity, actor_id, tenant_id, client_ip, service_name, line, record) \
             SELECT id::uuid, instance, seq, timestamp::timestamptz, event_name, category, \
             outcome, severity, actor_id, tenant_id, client_ip::inet, service_name, line, \
             record::jsonb \
             FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::int2[], $9::text[], $10::text[], $11::text[], \
             $12::text[], $13::text[], $14::text[]) \
             AS r(id, instance, seq, timestamp, event_name, category, outcome, severity, \
             actor_id, tenant_id, client_ip, service_name, line, record) \
             ON CONFLICT (id) DO NOTHING"
        );
        transaction.execute(
            &statement,
            &[
                &self.id,
                &self.instance,
                &self.seq,
                &self.timestamp,
                &self.event_name,
                &self.category,
                &self.outcome,
                &self.severity,
                &self.actor_id,
                &self.tenant_id,
                &self.client_ip,
                &self.service_name,
                &self.line,
                &self.record,
            ],
        )
    }
}
