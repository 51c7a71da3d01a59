//! Values found in a record's line by stepping over its JSON, without parsing it: what counting
//! by `event.name` over a whole log needs of each record, at the speed of a byte search.

use std::borrow::Cow;

pub(crate) use crate::raw_json::{lookup, skip_space, string_end, value_end, Lookup};

#[cfg(test)]
use crate::query::Field;
use crate::query::FieldPath;

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
