//! Filling in a catalog row's message template.

use super::SecurityRecord;
use crate::value::FieldValue;

/// What `{actor}` becomes when the record names no actor.
const NOBODY: &str = "someone";
/// What any other placeholder becomes when the record has no value for it.
const UNKNOWN: &str = "(unknown)";

/// Replaces `{actor}`, `{target}`, `{reason}` and `{field.name}` in `template` with the record's
/// values. An unclosed `{` is copied as it is.
pub fn render(template: &str, record: &SecurityRecord) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        fill(&mut out, &after[..close], record);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn fill(out: &mut String, placeholder: &str, record: &SecurityRecord) {
    let actor = &record.actor;
    let target = &record.target;
    let known = match placeholder {
        "actor" => {
            match (
                actor.name.as_deref().or(actor.id.as_deref()),
                &actor.anonymous_id,
            ) {
                (Some(actor), _) => out.push_str(actor),
                (None, Some(id)) => {
                    out.push_str("anonymous visitor ");
                    out.push_str(id);
                }
                (None, None) => out.push_str(NOBODY),
            }
            return;
        }
        "target" => target.name.as_deref().or(target.id.as_deref()),
        "reason" => record.event.reason.as_deref(),
        field => match record.fields.get(field) {
            Some(FieldValue::Str(text)) => Some(text.as_str()),
            Some(value) => {
                out.push_str(&value.to_text());
                return;
            }
            None => None,
        },
    };
    out.push_str(known.unwrap_or(UNKNOWN));
}
