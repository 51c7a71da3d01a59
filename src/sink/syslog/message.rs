//! RFC 5424 messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`.
//!
//! MSG is the record's JSON line in the sink's form, with every non-ASCII character written as
//! a `\u` escape: still the same JSON, and plain ASCII, which RFC 5424 lets a message carry
//! without the byte-order mark a UTF-8 MSG must start with (a mark JSON readers trip on).

use std::io::Write;

use crate::event::Severity;
use crate::record::SecurityRecord;

/// The private enterprise number of the structured data element; 32473 is the one RFC 5612
/// reserves for documentation and examples, which a receiver's rules can name until a
/// deployment sets its own.
pub(crate) const SD_ID: &str = "security@32473";

/// The fields of the header that are the same for every record of a sink.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// `facility * 8`, to which the record's severity is added.
    pub(crate) facility_base: u8,
    pub(crate) hostname: String,
    pub(crate) app_name: String,
    pub(crate) procid: String,
}

impl Header {
    /// A header; each text cut to its RFC 5424 length and to printable ASCII (`-` when empty).
    pub(crate) fn new(facility: u8, hostname: &str, app_name: &str, procid: u32) -> Self {
        Header {
            facility_base: facility.min(23) * 8,
            hostname: header_field(hostname, 255),
            app_name: header_field(app_name, 48),
            procid: header_field(&procid.to_string(), 128),
        }
    }
}

/// The syslog severity of a catalog severity: critical 2, error 3, warning 4, informational
/// 6, debug 7.
pub(crate) const fn syslog_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::Error => 3,
        Severity::Warn => 4,
        Severity::Info => 6,
        Severity::Debug => 7,
    }
}

/// Appends the message of `record`, whose JSON line (without its line feed) is `line`, and a
/// line feed.
pub(crate) fn write_message(
    out: &mut Vec<u8>,
    header: &Header,
    record: &SecurityRecord,
    line: &[u8],
) {
    let pri = header.facility_base + syslog_severity(record.event.severity);
    let timestamp = record
        .timestamp
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "<{pri}>1 {timestamp} {} {} {} {} [{SD_ID} id=\"{}\" seq=\"{}\"] ",
        header.hostname,
        header.app_name,
        header.procid,
        header_field(&record.event.name, 32),
        record.id,
        record.seq,
    );
    ascii_json(out, line);
    out.push(b'\n');
}

/// `text` as a header field: printable US-ASCII without spaces, at most `max` bytes, `-` when
/// nothing is left.
fn header_field(text: &str, max: usize) -> String {
    let field: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if field.is_empty() {
        "-".to_owned()
    } else {
        field
    }
}

/// Appends `json` with each non-ASCII character as a `\u` escape (a surrogate pair beyond the
/// BMP). Outside strings JSON is ASCII, so each of them is inside a string, where the escape
/// means the same character.
fn ascii_json(out: &mut Vec<u8>, json: &[u8]) {
    let Some(first) = json.iter().position(|b| !b.is_ascii()) else {
        out.extend_from_slice(json);
        return;
    };
    out.extend_from_slice(&json[..first]);
    let rest = String::from_utf8_lossy(&json[first..]);
    let mut units = [0_u16; 2];
    for c in rest.chars() {
        if c.is_ascii() {
            out.push(c as u8);
        } else {
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_becomes_escapes_that_read_back_the_same() {
        let json = "{\"a\":\"é🦀x\",\"b\":1}";
        let mut out = Vec::new();
        ascii_json(&mut out, json.as_bytes());
        assert!(out.is_ascii());
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn header_fields_are_printable_ascii_within_their_length() {
        assert_eq!(header_field("my app\u{7}é", 48), "myapp");
        assert_eq!(header_field("", 48), "-");
        assert_eq!(header_field(&"x".repeat(60), 48).len(), 48);
        let header = Header::new(10, "host 1", "billing-api", 42);
        assert_eq!(header.facility_base, 80);
        assert_eq!(header.hostname, "host1");
    }
}
