//! A JSON document read without copying its text: strings and keys borrow from the line unless
//! they hold escapes. The OTLP mapping reads every record this way; `serde_json::Value` made a
//! `String` of every key and value first.

// The OTLP mapping takes members out; the query language only reads them.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// One JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    I64(i64),
    /// Only above `i64::MAX`.
    U64(u64),
    F64(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

/// A JSON object, its members in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object<'a>(Vec<(Cow<'a, str>, Json<'a>)>);

impl<'a> Object<'a> {
    /// Removes and returns the member `key`.
    pub fn take(&mut self, key: &str) -> Option<Json<'a>> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// Removes and returns the member `key` if it is an object.
    pub fn take_object(&mut self, key: &str) -> Option<Object<'a>> {
        match self.take(key)? {
            Json::Object(object) => Some(object),
            _ => None,
        }
    }

    /// Removes and returns the member `key` if it is a string.
    pub fn take_str(&mut self, key: &str) -> Option<Cow<'a, str>> {
        match self.take(key)? {
            Json::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The member `key`, if it is an object, to take from in place.
    pub fn object_mut(&mut self, key: &str) -> Option<&mut Object<'a>> {
        self.0.iter_mut().find_map(|(k, v)| match v {
            Json::Object(object) if k == key => Some(object),
            _ => None,
        })
    }

    /// An object of these members.
    pub fn from_members(members: Vec<(Cow<'a, str>, Json<'a>)>) -> Self {
        Object(members)
    }

    /// The member `key`.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.0.iter().find_map(|(k, v)| (k == key).then_some(v))
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            Json::Str(text) if k == key => Some(text.as_ref()),
            _ => None,
        })
    }

    pub fn into_members(self) -> impl Iterator<Item = (Cow<'a, str>, Json<'a>)> {
        self.0.into_iter()
    }
}

impl<'a> Json<'a> {
    /// The value at `path` (`["client", "geo", "lat"]`), through objects.
    pub fn at(&self, path: &[&str]) -> Option<&Json<'a>> {
        path.iter().try_fold(self, |value, key| match value {
            Json::Object(object) => object.get(key),
            _ => None,
        })
    }

    /// The text at `path`, when it is a string.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        match self.at(path)? {
            Json::Str(text) => Some(text),
            _ => None,
        }
    }

    /// The number at `path`, as a float.
    pub fn f64_at(&self, path: &[&str]) -> Option<f64> {
        match *self.at(path)? {
            Json::I64(n) => Some(n as f64),
            Json::U64(n) => Some(n as f64),
            Json::F64(n) => Some(n),
            _ => None,
        }
    }
}

/// A string that borrows from the input when it can.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Json::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Json::U64(v), Json::I64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Json::F64(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((Text(key), value)) = map.next_entry::<Text<'de>, Json<'de>>()? {
            members.push((key, value));
        }
        Ok(Json::Object(Object(members)))
    }
}

/// Written back as compact JSON (the `changes` attribute carries its object as text).
impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(v) => serializer.serialize_bool(*v),
            Json::I64(v) => serializer.serialize_i64(*v),
            Json::U64(v) => serializer.serialize_u64(*v),
            Json::F64(v) => serializer.serialize_f64(*v),
            Json::Str(v) => serializer.serialize_str(v),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(Object(members)) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Calls `f` on each value at `segments` below `value` until it returns true; an array stands
/// for each of its items. A key holding dots (`fields."authentication.method"`) is also found
/// from the segments written without quotes (`fields.authentication.method`).
pub fn visit<'v, 'a, S: AsRef<str>>(
    value: &'v Json<'a>,
    segments: &[S],
    f: &mut dyn FnMut(&'v Json<'a>) -> bool,
) -> bool {
    match value {
        Json::Array(items) => items.iter().any(|item| visit(item, segments, f)),
        _ if segments.is_empty() => f(value),
        Json::Object(object) => {
            if let Some(child) = object.get(segments[0].as_ref()) {
                if visit(child, &segments[1..], f) {
                    return true;
                }
            }
            if segments.len() > 1 {
                let mut key = segments[0].as_ref().to_owned();
                for (n, segment) in segments.iter().enumerate().skip(1) {
                    key.push('.');
                    key.push_str(segment.as_ref());
                    if let Some(child) = object.get(&key) {
                        if visit(child, &segments[n + 1..], f) {
                            return true;
                        }
                    }
                }
            }
            false
        }
        _ => false,
    }
}

/// A value as text: strings as they are, numbers and booleans as JSON writes them.
pub fn text_of<'v>(value: &'v Json<'_>) -> Option<Cow<'v, str>> {
    match value {
        Json::Str(text) => Some(Cow::Borrowed(text.as_ref())),
        Json::I64(n) => Some(Cow::Owned(n.to_string())),
        Json::U64(n) => Some(Cow::Owned(n.to_string())),
        Json::F64(n) => Some(Cow::Owned(n.to_string())),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_borrow_and_escaped_ones_are_decoded() {
        let line =
            br#"{"a":"plain","b\n":"esc\"aped","n":[1,-2,18446744073709551615,1.5,true,null]}"#;
        let Json::Object(mut object) = serde_json::from_slice::<Json<'_>>(line).unwrap() else {
            panic!("not an object");
        };
        assert!(matches!(
            object.take("a"),
            Some(Json::Str(Cow::Borrowed("plain")))
        ));
        assert_eq!(object.take_str("b\n").as_deref(), Some("esc\"aped"));
        assert_eq!(
            object.take("n"),
            Some(Json::Array(vec![
                Json::I64(1),
                Json::I64(-2),
                Json::U64(u64::MAX),
                Json::F64(1.5),
                Json::Bool(true),
                Json::Null,
            ]))
        );
        assert!(object.take("a").is_none(), "taken once");
    }

    #[test]
    fn writes_back_what_serde_json_reads() {
        let text =
            r#"{"role":{"old":"viewer","new":"admin"},"list":[1,"two",null],"q":"\"\u2028"}"#;
        let view: Json<'_> = serde_json::from_str(text).unwrap();
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&view).unwrap(), value.to_string());
    }
}
