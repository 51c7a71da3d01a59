//! Reading a record back whatever its form: the parts the integrity checks read (`seq`, `id`,
//! the event's name, `fields`, the service's instance) where the native form has them.

use serde_json::{Map, Value};

use super::ecs::CUSTOM;
use super::OutputForm;

/// The form `record` is written in: native (`schema`), ECS (`@timestamp`) or OCSF
/// (`class_uid`); native when it is none of them.
pub fn form_of(record: &Value) -> OutputForm {
    if record.get("schema").is_some() {
        OutputForm::Native
    } else if record.get("@timestamp").is_some() {
        OutputForm::Ecs
    } else if record.get("class_uid").is_some() {
        OutputForm::Ocsf
    } else {
        OutputForm::Native
    }
}

/// `record` with the parts the checks read where the native form has them: a native record
/// as it is; an ECS record (`@timestamp`) or an OCSF event (`class_uid`) as a native record of
/// `seq`, `id`, `event.name`, `fields` and `service.instance`.
pub fn read_view(record: Value) -> Value {
    let Value::Object(mut members) = record else {
        return record;
    };
    if members.contains_key("schema") {
        return Value::Object(members);
    }
    let (seq, id, name, fields, instance) = if members.contains_key("@timestamp") {
        let mut event = take_object(&mut members, "event");
        let mut custom = take_object(&mut members, CUSTOM);
        let mut service = take_object(&mut members, "service");
        let mut node = take_object(&mut service, "node");
        (
            event.remove("sequence"),
            event.remove("id"),
            event.remove("action"),
            custom.remove("fields"),
            node.remove("name"),
        )
    } else if members.contains_key("class_uid") {
        let mut metadata = take_object(&mut members, "metadata");
        let mut unmapped = take_object(&mut members, "unmapped");
        (
            metadata.remove("sequence"),
            metadata.remove("uid"),
            metadata.remove("event_code"),
            unmapped.remove("fields"),
            unmapped.remove("service_instance"),
        )
    } else {
        return Value::Object(members);
    };
    let mut view = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            view.insert(key.to_owned(), value);
        }
    };
    put("seq", seq);
    put("id", id);
    put("event", name.map(|name| object([("name", name)])));
    put("fields", fields);
    put(
        "service",
        instance.map(|instance| object([("instance", instance)])),
    );
    Value::Object(view)
}

fn take_object(members: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match members.remove(key) {
        Some(Value::Object(inner)) => inner,
        _ => Map::new(),
    }
}

fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}
