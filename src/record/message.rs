//! Filling in a catalog row's message template.

use std::fmt::Write as _;

use super::SecurityRecord;

/// What `{actor}` becomes when the record names no actor.
const NOBODY: &str = "someone";
/// What any other placeholder becomes when the record has no value for it.
const UNKNOWN: &str = "(unknown)";

/// Replaces `{actor}`, `{target}`, `{reason}` and `{field.name}` in `template` with the record's
/// values. An unclosed `{` is copied as it is.
pub(super) fn render(template: &str, record: &SecurityRecord) -> String {
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
        "actor" => actor
            .name
            .as_deref()
            .or(actor.id.as_deref())
            .map(str::to_owned)
            .or_else(|| {
                actor
                    .anonymous_id
                    .as_ref()
                    .map(|id| format!("anonymous visitor {id}"))
            })
            .or_else(|| Some(NOBODY.to_owned())),
        "target" => target.name.clone().or_else(|| target.id.clone()),
        "reason" => record.event.reason.clone(),
        field => record.fields.get(field).map(|value| value.to_text()),
    };
    let _ = write!(out, "{}", known.as_deref().unwrap_or(UNKNOWN));
}
