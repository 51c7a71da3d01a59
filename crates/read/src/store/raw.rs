//! Values found in a record's line by stepping over its JSON, without parsing it: what counting
//! by `event.name` over a whole log needs of each record, at the speed of a byte search.

use std::borrow::Cow;

#[cfg(test)]
use crate::query::Field;
use crate::query::FieldPath;

/// What a path holds in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    /// The value's text, as written (a string with its quotes).
    Found(&'a [u8]),
    /// The path is not there.
    Absent,
    /// Not known without parsing (a key written with an escape, a list on the way).
    Unknown,
}

/// The value at `path` (object keys) in `line`, a JSON object.
pub(crate) fn lookup<'a, S: AsRef<str>>(line: &'a [u8], path: &[S]) -> Lookup<'a> {
    let mut at = skip_space(line, 0);
    for (n, segment) in path.iter().enumerate() {
        if line.get(at) != Some(&b'{') {
            return if line.get(at) == Some(&b'[') {
                Lookup::Unknown
            } else {
                Lookup::Absent
            };
        }
        match member(line, at, segment.as_ref().as_bytes()) {
            Place::At(start) if n + 1 == path.len() => {
                return match value_end(line, start) {
                    Some(end) => Lookup::Found(&line[start..end]),
                    None => Lookup::Unknown,
                };
            }
            // Only where it starts matters on the way: it is not stepped over.
            Place::At(start) => at = start,
            Place::Absent => return Lookup::Absent,
            Place::Unknown => return Lookup::Unknown,
        }
    }
    Lookup::Absent
}

/// Where a member's value starts.
enum Place {
    At(usize),
    Absent,
    Unknown,
}

/// The member `key` of the object starting at `at`.
fn member(line: &[u8], at: usize, key: &[u8]) -> Place {
    let mut at = skip_space(line, at + 1);
    if line.get(at) == Some(&b'}') {
        return Place::Absent;
    }
    loop {
        if line.get(at) != Some(&b'"') {
            return Place::Unknown;
        }
        let Some(key_end) = string_end(line, at) else {
            return Place::Unknown;
        };
        let name = &line[at + 1..key_end - 1];
        if name.contains(&b'\\') {
            return Place::Unknown;
        }
        at = skip_space(line, key_end);
        if line.get(at) != Some(&b':') {
            return Place::Unknown;
        }
        at = skip_space(line, at + 1);
        if name == key {
            return Place::At(at);
        }
        let Some(end) = value_end(line, at) else {
            return Place::Unknown;
        };
        at = skip_space(line, end);
        match line.get(at) {
            Some(b',') => at = skip_space(line, at + 1),
            Some(b'}') => return Place::Absent,
            _ => return Place::Unknown,
        }
    }
}

/// A grouping field's value in `line`, as the query's `text_of` gives it for the parsed record:
/// `Ok(None)` when absent or not text, `Err(())` when only parsing can tell.
pub(crate) fn group_text<'a>(
    line: &'a [u8],
    paths: &[FieldPath],
) -> Result<Option<Cow<'a, str>>, ()> {
    for path in paths {
        match lookup(line, path.segments()) {
            Lookup::Unknown => return Err(()),
            Lookup::Absent => {}
            Lookup::Found(raw) => match raw.first() {
                Some(b'"') => {
                    let inner = &raw[1..raw.len() - 1];
                    if inner.contains(&b'\\') {
                        return serde_json::from_slice::<String>(raw)
                            .map(|s| Some(Cow::Owned(s)))
                            .map_err(|_| ());
                    }
                    return std::str::from_utf8(inner)
                        .map(|s| Some(Cow::Borrowed(s)))
                        .map_err(|_| ());
                }
                Some(b't' | b'f') if raw == b"true" || raw == b"false" => {
                    return Ok(Some(Cow::Borrowed(if raw == b"true" {
                        "true"
                    } else {
                        "false"
                    })));
                }
                Some(b'n') => {}
                // A plain integer reads as the query's number text does; any other number,
                // a list or an object is left to the parser.
                Some(b'-' | b'0'..=b'9') if is_plain_integer(raw) => {
                    return std::str::from_utf8(raw)
                        .map(|s| Some(Cow::Borrowed(s)))
                        .map_err(|_| ());
                }
                _ => return Err(()),
            },
        }
    }
    Ok(None)
}

fn is_plain_integer(raw: &[u8]) -> bool {
    let digits = raw.strip_prefix(b"-").unwrap_or(raw);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0')
        && raw != b"-0"
}

pub(super) fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Where the string starting at `at` (its opening quote) ends, past its closing quote.
pub(super) fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    // Most strings of a record are short: a plain loop finds their end before a vector search
    // would have started.
    for (n, &b) in bytes.get(i..)?.iter().take(64).enumerate() {
        match b {
            b'"' => return Some(i + n + 1),
            b'\\' => {
                i += n;
                break;
            }
            _ => {}
        }
        if n == 63 {
            i += 64;
        }
    }
    loop {
        i += memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        if bytes[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// Where the value starting at `at` ends, stepped over without decoding it.
pub(super) fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(bytes.len() - at);
            (len > 0).then_some(at + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn finds_what_the_parser_finds() {
        let line = br#"{"schema":1,"id":"a","event":{"name":"x.y","n":[1,{"}":"]"}]},"message":"q\"}{","actor":{"id":"42","roles":["a"]},"client":{"geo":{"asn":3320,"ok":true,"no":null}},"k\"ey":1,"s":"\u00e9"}"#;
        assert_eq!(
            lookup(line, &path("event.name")),
            Lookup::Found(br#""x.y""#)
        );
        assert_eq!(
            lookup(line, &path("client.geo.asn")),
            Lookup::Found(b"3320")
        );
        assert_eq!(lookup(line, &path("actor.name")), Lookup::Absent);
        assert_eq!(
            lookup(line, &path("tenant.id")),
            Lookup::Unknown,
            "an escaped key on the way"
        );
        assert_eq!(
            lookup(line, &path("event.n.x")),
            Lookup::Unknown,
            "a list on the way"
        );
        assert_eq!(lookup(line, &path("message.x")), Lookup::Absent);
        let text = |p: &str| {
            let field = Field::parse(p).unwrap();
            group_text(line, &field.paths()).map(|t| t.map(Cow::into_owned))
        };
        assert_eq!(text("event"), Ok(Some("x.y".into())));
        assert_eq!(text("client.geo.asn"), Ok(Some("3320".into())));
        assert_eq!(text("user"), Ok(Some("42".into())));
        assert_eq!(text("actor.roles"), Err(()));
    }

    #[test]
    fn plain_integers_only() {
        for (raw, plain) in [
            ("0", true),
            ("-12", true),
            ("012", false),
            ("1e3", false),
            ("1.5", false),
            ("-0", false),
            ("-", false),
        ] {
            assert_eq!(is_plain_integer(raw.as_bytes()), plain, "{raw}");
        }
    }
}
