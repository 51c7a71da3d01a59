//! Values found in a record's line by stepping over its JSON, without parsing it: what counting
//! by `event.name` over a whole log needs of each record, at the speed of a byte search.

use std::borrow::Cow;

pub(crate) use crate::raw_json::{
    lookup_each, raw_text, skip_space, string_end, value_end, Lookup,
};

/// The text of a value looked up, as the query's `text_of` gives it: `Ok(None)` when absent or
/// null, `Err(())` when only parsing can tell.
pub(crate) fn found_text(found: Lookup<'_>) -> Result<Option<Cow<'_, str>>, ()> {
    match found {
        Lookup::Unknown => Err(()),
        Lookup::Absent => Ok(None),
        Lookup::Found(raw) => raw_text(raw).map_err(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Field, FieldPath};
    use crate::raw_json::{is_plain_integer, lookup};

    /// A grouping field's value in `line`, as the query's `text_of` gives it for the parsed record:
    /// `Ok(None)` when absent or not text, `Err(())` when only parsing can tell.
    fn group_text<'a>(line: &'a [u8], paths: &[FieldPath]) -> Result<Option<Cow<'a, str>>, ()> {
        for path in paths {
            if let Some(text) = found_text(lookup(line, path.segments()))? {
                return Ok(Some(text));
            }
        }
        Ok(None)
    }

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
