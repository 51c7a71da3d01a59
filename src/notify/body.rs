//! The JSON a webhook receives: `{"rule":"...","severity":"notice|warning|alert",
//! "suppressed":N,"record":{schema-v1 record}}`, the record exactly as written.

use super::NotifySeverity;

/// The webhook body for `record_line` (one record as written, without its line feed), built
/// without parsing the record again: it goes out byte for byte as every sink receives it (the
/// file sink's hash chain, `integrity`, belongs to its file and is not part of it).
pub(crate) fn webhook_body(
    rule: &str,
    severity: NotifySeverity,
    suppressed: u64,
    record_line: &str,
) -> String {
    let rule = serde_json::to_string(rule).unwrap_or_else(|_| "\"\"".to_owned());
    format!(
        "{{\"rule\":{rule},\"severity\":\"{}\",\"suppressed\":{suppressed},\"record\":{record_line}}}",
        severity.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::{webhook_body, NotifySeverity};

    #[test]
    fn the_record_goes_out_as_written_and_the_rule_escaped() {
        let body = webhook_body(
            "admin \"granted\"",
            NotifySeverity::Alert,
            2,
            r#"{"schema":1,"seq":7}"#,
        );
        assert_eq!(
            body,
            r#"{"rule":"admin \"granted\"","severity":"alert","suppressed":2,"record":{"schema":1,"seq":7}}"#
        );
    }
}
