//! The one place where attacker-controlled text becomes bytes of the log.
//!
//! JSON already escapes `"`, `\` and the C0 controls (CR, LF, NUL, ESC, ...), so no value can end
//! a line or a string early. This module also escapes what JSON allows raw but readers trip
//! on: DEL, the C1 controls (U+0080..U+009F, where a terminal reads U+009B as the start of an ANSI
//! sequence) and U+2028/U+2029, which JavaScript-based viewers treat as line breaks.

use std::io::Write;

use crate::forms::{FormMappings, OutputForm};
use crate::record::{encode_record, SecurityRecord};

/// Characters JSON allows raw that the log writes as `\u` escapes.
pub fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
}

/// Appends `record` as one JSON line (the line feed included) to `out`.
pub fn write_record_line(out: &mut Vec<u8>, record: &SecurityRecord) -> serde_json::Result<()> {
    write_line_with(out, |out| encode_record(out, record))
}

/// Appends `record` in `form` as one JSON line (the line feed included) to `out`.
pub fn write_form_line(
    out: &mut Vec<u8>,
    record: &SecurityRecord,
    form: OutputForm,
    mappings: &FormMappings,
) -> serde_json::Result<()> {
    write_line_with(out, |out| form.encode(out, record, mappings))
}

/// Appends `value` as one JSON line, as [`write_record_line`] does a record.
#[cfg(test)]
pub fn write_json_line<T: serde::Serialize>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    write_line_with(out, |out| serde_json::to_writer(out, value))
}

fn write_line_with(
    out: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    let start = out.len();
    if let Err(err) = encode(out) {
        // Never leave half a record behind.
        out.truncate(start);
        return Err(err);
    }
    escape_for_readers(out, start);
    out.push(b'\n');
    Ok(())
}

/// Rewrites every DEL, C1 control and U+2028/U+2029 in `out[start..]` (compact JSON) as a `\u`
/// escape. Outside strings JSON is ASCII, so each of them is inside a string, where the escape
/// means the same character. One pass over the whole line, after serde_json's own escaping,
/// costs less than a second look at every string on its way out.
fn escape_for_readers(out: &mut Vec<u8>, start: usize) {
    // Every character to escape starts with one of three bytes (DEL; 0xC2 for U+0080..U+009F;
    // 0xE2 for U+2028/U+2029), so a byte search skips the rest without decoding.
    let first = memchr::memchr3_iter(0x7f, 0xc2, 0xe2, &out[start..])
        .map(|at| start + at)
        .find(|&at| char_at(out, at).is_some_and(needs_escape));
    let Some(first) = first else {
        return;
    };
    // Rare: rebuild the line from the first such character on.
    let tail = out.split_off(first);
    let mut copied = 0;
    for at in memchr::memchr3_iter(0x7f, 0xc2, 0xe2, &tail) {
        if at < copied {
            continue;
        }
        let Some(c) = char_at(&tail, at).filter(|&c| needs_escape(c)) else {
            continue;
        };
        out.extend_from_slice(&tail[copied..at]);
        // Writing to a Vec cannot fail.
        let _ = write!(out, "\\u{:04x}", c as u32);
        copied = at + c.len_utf8();
    }
    out.extend_from_slice(&tail[copied..]);
}

/// The character starting at byte `at` of `bytes` (UTF-8 from serde_json).
fn char_at(bytes: &[u8], at: usize) -> Option<char> {
    let end = (at + 4).min(bytes.len());
    let slice = &bytes[at..end];
    let text = match std::str::from_utf8(slice) {
        Ok(text) => text,
        // The four bytes may end inside the next character: keep the whole ones.
        Err(err) => std::str::from_utf8(&slice[..err.valid_up_to()]).ok()?,
    };
    text.chars().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(value: &str) -> String {
        let mut out = Vec::new();
        write_json_line(&mut out, &serde_json::json!({ "v": value })).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hostile_text_stays_on_one_line_and_round_trips() {
        let hostile = [
            "a\nb",
            "a\rb",
            "a\r\nb",
            "nul\0byte",
            "\u{1b}[31mred\u{1b}[0m",
            "csi\u{9b}31m",
            "del\u{7f}",
            "ls\u{2028}ps\u{2029}",
            "\"}\n{\"schema\":1,\"forged\":true}",
            "back\\slash",
        ];
        for value in hostile {
            let line = line(value);
            assert_eq!(line.matches('\n').count(), 1, "{line:?}");
            assert!(line.ends_with('\n'));
            assert!(
                !line
                    .chars()
                    .any(|c| c != '\n' && (c.is_control() || needs_escape(c))),
                "raw control in {line:?}"
            );
            let back: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(back["v"], value, "round trip of {value:?}");
        }
    }

    #[test]
    fn escapes_are_lowercase_unicode_escapes() {
        assert_eq!(line("\u{2028}\u{9b}"), "{\"v\":\"\\u2028\\u009b\"}\n");
    }

    #[test]
    fn lookalike_lead_bytes_are_left_alone_between_escapes() {
        // '€' and '…' start with 0xE2 and 'é' with 0xC3: not escaped, even right beside escapes
        // and at the very end of the line.
        let value = "€\u{2029}…\u{85}é\u{7f}€";
        assert_eq!(line(value), "{\"v\":\"€\\u2029…\\u0085é\\u007f€\"}\n");
        let mut out = Vec::new();
        write_json_line(&mut out, &"\u{2028}").unwrap();
        assert_eq!(out, b"\"\\u2028\"\n");
    }

    #[test]
    fn keys_are_escaped_too() {
        let mut out = Vec::new();
        write_json_line(&mut out, &serde_json::json!({ "k\u{9b}": 1 })).unwrap();
        assert_eq!(out, b"{\"k\\u009b\":1}\n");
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(line("héllo wörld 日本"), "{\"v\":\"héllo wörld 日本\"}\n");
    }
}
