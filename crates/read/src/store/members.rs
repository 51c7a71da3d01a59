//! A record read for what a query needs: the top-level members it names are parsed (strings
//! borrowed from the line), the others are stepped over without being decoded. Grouping a
//! gigabyte by `event.name` then reads each record's `event` member, not its `integrity` hashes,
//! `service`, `user_agent` and the rest.

use super::raw::{skip_space, string_end, value_end};
use crate::json_view::{Json, Object};
use crate::query::{Expr, Field, Query};

/// The top-level members a reader needs, or all of them.
#[derive(Debug, Clone, Default)]
#[doc(hidden)]
pub struct Members {
    /// `None`: parse the whole record. A short list: a few names, compared in place.
    names: Option<Vec<String>>,
}

impl Members {
    /// What every stored record needs: `schema` and `id` (to be a record) and `timestamp`.
    pub fn of_record() -> Members {
        Members {
            names: Some(
                ["schema", "id", "timestamp"]
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            ),
        }
    }

    /// The whole record.
    #[cfg(test)]
    pub(crate) fn all() -> Members {
        Members { names: None }
    }

    /// Also reads the top-level member holding `field`.
    pub fn add_field(&mut self, field: &Field) {
        for path in field.paths() {
            self.add(&path.segments()[0]);
        }
    }

    /// Also reads the top-level member `name`.
    pub fn add(&mut self, name: &str) {
        if let Some(names) = &mut self.names {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }

    /// Also reads the members `query` looks at.
    pub fn add_query(&mut self, query: &Query) {
        self.add_expr(&query.expr);
    }

    fn add_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::All => {}
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| self.add_expr(e)),
            Expr::Not(inner) => self.add_expr(inner),
            Expr::Compare(comparison) => self.add_field(&comparison.field),
        }
    }

    /// The place of `name` among the wanted members (one place for the 64th and later).
    fn wanted_index(&self, name: &str) -> Option<usize> {
        self.names.as_ref()?.iter().position(|n| n == name)
    }

    /// The line's wanted members as an object; `None` when the line is not one JSON object.
    pub fn parse<'a>(&self, line: &'a str) -> Option<Json<'a>> {
        if self.names.is_none() {
            return serde_json::from_str(line).ok();
        }
        let bytes = line.as_bytes();
        let mut at = skip_space(bytes, 0);
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let mut members = Vec::new();
        // With more names than bits, the line is read to its end.
        let all_found: u64 = match self.names.as_ref().map_or(0, Vec::len) {
            wanted @ 0..=63 => (1u64 << wanted) - 1,
            _ => u64::MAX,
        };
        let mut found: u64 = 0;
        if bytes.get(at) == Some(&b'}') {
            return (skip_space(bytes, at + 1) == bytes.len())
                .then(|| Json::Object(Object::default()));
        }
        loop {
            // The key: plain keys are compared in place; one with an escape is decoded.
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let key_end = string_end(bytes, at)?;
            let raw_key = &line[at + 1..key_end - 1];
            let key: std::borrow::Cow<'a, str> = if raw_key.contains('\\') {
                std::borrow::Cow::Owned(serde_json::from_str::<String>(&line[at..key_end]).ok()?)
            } else {
                std::borrow::Cow::Borrowed(raw_key)
            };
            at = skip_space(bytes, key_end);
            if bytes.get(at) != Some(&b':') {
                return None;
            }
            at = skip_space(bytes, at + 1);
            if let Some(index) = self.wanted_index(&key) {
                let mut values =
                    serde_json::Deserializer::from_str(&line[at..]).into_iter::<Json<'a>>();
                let value = values.next()?.ok()?;
                at += values.byte_offset();
                members.push((key, value));
                found |= 1 << index.min(62);
                // Every wanted member read (the first of a name is the one a query sees): the
                // rest of the line is not looked at, but for its end.
                if found == all_found {
                    let end = line.trim_end();
                    return end
                        .ends_with('}')
                        .then(|| Json::Object(Object::from_members(members)));
                }
            } else {
                at = value_end(bytes, at)?;
            }
            at = skip_space(bytes, at);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') => {
                    return (skip_space(bytes, at + 1) == bytes.len())
                        .then(|| Json::Object(Object::from_members(members)));
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_members_are_those_serde_json_reads() {
        let line = r#"{"schema":1,"id":"a","event":{"name":"x.y","n":[1,{"}":"]"}]},"message":"q\"}{","k\"ey":{"a":"b"},"fields":{"authentication.method":"pass\u0077ord"},"integrity":{"prev":"0","hash":"1"}}"#;
        let full: Json<'_> = serde_json::from_str(line).unwrap();
        let Json::Object(full) = full else { panic!() };
        let mut members = Members::of_record();
        members.add("event");
        members.add("fields");
        members.add("k\"ey");
        let Some(Json::Object(partial)) = members.parse(line) else {
            panic!("parsed")
        };
        for key in ["schema", "id", "event", "fields", "k\"ey"] {
            assert_eq!(partial.get(key), full.get(key), "{key}");
        }
        assert!(partial.get("message").is_none() && partial.get("integrity").is_none());
        assert_eq!(Members::all().parse(line), Some(Json::Object(full)));
    }

    #[test]
    fn reading_stops_once_every_wanted_member_is_read() {
        let members = Members::of_record();
        // What follows the wanted members is not parsed, but the line must still end the object.
        let line = r#"{"schema":1,"id":"a","timestamp":"t","rest":[unparsed}"#;
        assert!(members.parse(line).is_some());
        assert!(members
            .parse(r#"{"schema":1,"id":"a","timestamp":"t"} x"#)
            .is_none());
        let mut many = Members::of_record();
        for n in 0..70 {
            many.add(&format!("k{n}"));
        }
        let Some(Json::Object(object)) =
            many.parse(r#"{"schema":1,"id":"a","timestamp":"t","k69":true}"#)
        else {
            panic!("parsed")
        };
        assert_eq!(object.get("k69"), Some(&Json::Bool(true)));
    }

    #[test]
    fn what_is_not_one_object_is_refused() {
        let members = Members::of_record();
        for line in [
            "",
            "[]",
            "{",
            "{\"id\":}",
            "{\"id\":\"a\"",
            "{\"id\":\"a\"} x",
            "{\"a\":{\"b\":1}",
            "{\"a\" 1}",
            "{\"a\":\"unterminated}",
            "not json",
        ] {
            assert!(members.parse(line).is_none(), "{line}");
        }
        assert!(members.parse("{}").is_some());
    }
}
