//! The one place where attacker-controlled text becomes bytes of the log.
//!
//! JSON already escapes `"`, `\` and the C0 controls (CR, LF, NUL, ESC, ...), so no value can end
//! a line or a string early. This formatter also escapes what JSON allows raw but readers trip
//! on: DEL, the C1 controls (U+0080..U+009F, where a terminal reads U+009B as the start of an ANSI
//! sequence) and U+2028/U+2029, which JavaScript-based viewers treat as line breaks.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// A compact JSON formatter (the trait's defaults are compact) that escapes every character a log reader could mistake for a
/// control or a line break.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineSafeFormatter;

fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}')
}

impl Formatter for LineSafeFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        // Every character to escape starts with one of three bytes (DEL; 0xC2 for U+0080..U+009F;
        // 0xE2 for U+2028/U+2029), so a byte search skips the common case without decoding.
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for at in memchr::memchr3_iter(0x7f, 0xc2, 0xe2, bytes) {
            let Some(c) = fragment[at..].chars().next().filter(|&c| needs_escape(c)) else {
                continue;
            };
            writer.write_all(&bytes[start..at])?;
            write!(writer, "\\u{:04x}", c as u32)?;
            start = at + c.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }
}

/// Appends `value` as one JSON line (the line feed included) to `out`.
pub(crate) fn write_json_line<T: Serialize>(
    out: &mut Vec<u8>,
    value: &T,
) -> serde_json::Result<()> {
    let start = out.len();
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, LineSafeFormatter);
    if let Err(err) = value.serialize(&mut serializer) {
        // Never leave half a record behind.
        out.truncate(start);
        return Err(err);
    }
    out.push(b'\n');
    Ok(())
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
    fn plain_text_is_untouched() {
        assert_eq!(line("héllo wörld 日本"), "{\"v\":\"héllo wörld 日本\"}\n");
    }
}
