//! Checkpoints as an OpenTelemetry collector keeps them: OTLP/JSON, one `ExportLogsServiceRequest`
//! a line (what the OTLP sink sends over `http/json`, and what the Collector's file exporter
//! writes). The OTLP sink flattens a record into attributes (`security_event.seq`,
//! `security_event.fields.checkpoint.number`, ...) and puts `service.instance.id` on the
//! resource; this takes them back to the record's shape and reads the checkpoint from it.

use serde_json::{Map, Value};

use super::checkpoint::{Checkpoint, CHECKPOINT_EVENT};

/// Whether `line` looks like OTLP/JSON logs rather than a record.
pub fn is_otlp_json(line: &str) -> bool {
    line.trim_start().starts_with("{\"resourceLogs\"")
}

/// The checkpoints in one OTLP/JSON `ExportLogsServiceRequest`; `Err` for a line that is not
/// one, or a checkpoint in it that cannot be read.
pub fn checkpoints_in_otlp_json(line: &str) -> Result<Vec<Checkpoint>, String> {
    let request: Value = serde_json::from_str(line).map_err(|e| format!("not OTLP/JSON: {e}"))?;
    let resources = request
        .get("resourceLogs")
        .and_then(Value::as_array)
        .ok_or("not OTLP/JSON logs: no resourceLogs")?;
    let mut checkpoints = Vec::new();
    for resource in resources {
        let instance = attributes(resource.pointer("/resource/attributes"))
            .remove("service.instance.id")
            .unwrap_or(Value::Null);
        let scopes = resource.get("scopeLogs").and_then(Value::as_array);
        for log in scopes.into_iter().flatten().flat_map(|scope| {
            scope
                .get("logRecords")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        }) {
            let attributes = attributes(log.get("attributes"));
            if attributes
                .get("security_event.name")
                .and_then(Value::as_str)
                != Some(CHECKPOINT_EVENT)
            {
                continue;
            }
            let record = record_of(attributes, &instance);
            if let Some(checkpoint) = Checkpoint::from_record(&record)? {
                checkpoints.push(checkpoint);
            }
        }
    }
    Ok(checkpoints)
}

/// The record's shape again: `id`, `seq`, `event.name`, `service.instance`, `fields`.
fn record_of(attributes: Map<String, Value>, instance: &Value) -> Value {
    let mut record = Map::new();
    let mut fields = Map::new();
    for (key, value) in attributes {
        if let Some(field) = key.strip_prefix("security_event.fields.") {
            fields.insert(field.to_owned(), value);
        } else if key == "security_event.name" {
            record.insert("event".to_owned(), serde_json::json!({ "name": value }));
        } else if let Some(member) = key.strip_prefix("security_event.") {
            if matches!(member, "id" | "seq") {
                record.insert(member.to_owned(), value);
            }
        }
    }
    record.insert("fields".to_owned(), Value::Object(fields));
    if !instance.is_null() {
        record.insert(
            "service".to_owned(),
            serde_json::json!({ "instance": instance }),
        );
    }
    Value::Object(record)
}

/// OTLP attributes (`[{"key": k, "value": {"stringValue": v}}]`) as plain JSON values; 64-bit
/// integers, which OTLP/JSON writes as strings, as numbers.
fn attributes(list: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for attribute in list.and_then(Value::as_array).into_iter().flatten() {
        let (Some(key), Some(value)) = (
            attribute.get("key").and_then(Value::as_str),
            attribute.get("value").and_then(Value::as_object),
        ) else {
            continue;
        };
        let plain = if let Some(text) = value.get("stringValue") {
            text.clone()
        } else if let Some(number) = value.get("intValue") {
            match number {
                Value::String(text) => text.parse::<u64>().map_or(Value::Null, Value::from),
                other => other.clone(),
            }
        } else if let Some(other) = value.get("boolValue").or_else(|| value.get("doubleValue")) {
            other.clone()
        } else {
            continue;
        };
        out.insert(key.to_owned(), plain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_comes_back_from_its_otlp_attributes() {
        let line = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.instance.id","value":{"stringValue":"app-1"}}]},"scopeLogs":[{"logRecords":[
            {"attributes":[{"key":"security_event.name","value":{"stringValue":"user.created"}}]},
            {"attributes":[
              {"key":"security_event.name","value":{"stringValue":"audit.checkpoint"}},
              {"key":"security_event.id","value":{"stringValue":"0193-id"}},
              {"key":"security_event.seq","value":{"intValue":"43"}},
              {"key":"security_event.fields.checkpoint.log","value":{"stringValue":"security.jsonl"}},
              {"key":"security_event.fields.checkpoint.number","value":{"intValue":3}},
              {"key":"security_event.fields.checkpoint.tip_seq","value":{"intValue":"42"}},
              {"key":"security_event.fields.checkpoint.tip_hash","value":{"stringValue":"ab"}},
              {"key":"security_event.fields.checkpoint.records","value":{"intValue":"10"}},
              {"key":"security_event.fields.checkpoint.previous","value":{"stringValue":"cd"}},
              {"key":"security_event.fields.checkpoint.epoch","value":{"intValue":"0"}},
              {"key":"security_event.fields.checkpoint.public_key","value":{"stringValue":"ef"}},
              {"key":"security_event.fields.checkpoint.signature","value":{"stringValue":"01"}}]}
        ]}]}]}"#
            .replace('\n', "");
        assert!(is_otlp_json(&line));
        let checkpoints = checkpoints_in_otlp_json(&line).unwrap();
        assert_eq!(checkpoints.len(), 1);
        let checkpoint = &checkpoints[0];
        assert_eq!(
            (
                checkpoint.seq,
                checkpoint.number,
                checkpoint.tip_seq,
                checkpoint.records
            ),
            (43, 3, 42, 10)
        );
        assert_eq!(checkpoint.instance, "app-1");
        assert_eq!(checkpoint.id, "0193-id");
        assert!(checkpoints_in_otlp_json("{}").is_err());
    }
}
