//! The values a log index keeps of each line, read the way the query language reads them
//! (`query::visit` and `text_of`): a line the quick reading cannot be sure of is parsed, so the
//! keys of a line are every value a comparison on an indexed field could match.

use std::hash::Hasher;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::json_view::{text_of, visit, Json};
use crate::raw_json::{member, raw_text, skip_space, string_end, value_end, Place};

/// A field whose values a log index keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexedField {
    /// `actor.id`.
    ActorId,
    /// `actor.name`.
    ActorName,
    /// `actor.email`.
    ActorEmail,
    /// `tenant.id`.
    TenantId,
    /// `client.ip`, kept as the address it reads as (`ip = 10.0.0.1` compares addresses).
    ClientAddress,
    /// `event.name`.
    EventName,
    /// `request.id`.
    RequestId,
}

impl IndexedField {
    /// Every indexed field.
    pub const ALL: [IndexedField; 7] = [
        IndexedField::ActorId,
        IndexedField::ActorName,
        IndexedField::ActorEmail,
        IndexedField::TenantId,
        IndexedField::ClientAddress,
        IndexedField::EventName,
        IndexedField::RequestId,
    ];

    /// Its path in the record: a member of a top-level object.
    pub fn path(self) -> [&'static str; 2] {
        match self {
            IndexedField::ActorId => ["actor", "id"],
            IndexedField::ActorName => ["actor", "name"],
            IndexedField::ActorEmail => ["actor", "email"],
            IndexedField::TenantId => ["tenant", "id"],
            IndexedField::ClientAddress => ["client", "ip"],
            IndexedField::EventName => ["event", "name"],
            IndexedField::RequestId => ["request", "id"],
        }
    }

    /// The field at `segments`, if it is indexed.
    pub fn at(segments: &[impl AsRef<str>]) -> Option<IndexedField> {
        let [first, second] = segments else {
            return None;
        };
        IndexedField::ALL
            .into_iter()
            .find(|field| field.path() == [first.as_ref(), second.as_ref()])
    }

    /// The tag that keeps its keys apart from other fields' (part of the index format).
    fn tag(self) -> u8 {
        match self {
            IndexedField::ActorId => 1,
            IndexedField::ActorName => 2,
            IndexedField::ActorEmail => 3,
            IndexedField::TenantId => 4,
            IndexedField::ClientAddress => 5,
            IndexedField::EventName => 6,
            IndexedField::RequestId => 7,
        }
    }

    /// The key of the text value `text` of this field (for the address field, of the address
    /// it reads as; `None` when it reads as none).
    pub fn key_of_text(self, text: &str) -> Option<u128> {
        match self {
            IndexedField::ClientAddress => IpAddr::from_str(text).ok().map(address_key),
            _ => Some(key(self.tag(), text.as_bytes())),
        }
    }
}

/// The key of the address `ip` in the `client.ip` field.
pub fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => key(IndexedField::ClientAddress.tag(), &v4.octets()),
        IpAddr::V6(v6) => key(IndexedField::ClientAddress.tag() | 0x80, &v6.octets()),
    }
}

/// A key: the field's tag and the value, hashed (SipHash-1-3, 128 bits, zero keys: the same on
/// every machine and in every version of this format).
fn key(tag: u8, value: &[u8]) -> u128 {
    let mut hasher = SipHasher13::new();
    hasher.write_u8(tag);
    hasher.write(value);
    hasher.finish128().as_u128()
}

/// What a line holds for the index.
#[derive(Debug, Default)]
pub struct LineFacts {
    /// The keys of its indexed values (appended to).
    pub keys: Vec<u128>,
    /// The smallest and largest time a time comparison can find in it, in microseconds since
    /// 1970 (rounded down and up); `None` when none reads as a time.
    pub time: Option<(i64, i64)>,
    /// Its `id`, when text (the text kept from line to line, so as not to allocate for each).
    pub id: String,
    /// Whether it has one.
    pub has_id: bool,
}

/// Reads the facts of `line` (without its line feed) into `facts`, its keys appended.
pub fn read_line(line: &[u8], facts: &mut LineFacts) {
    facts.time = None;
    facts.has_id = false;
    let keys_before = facts.keys.len();
    if quick(line, facts).is_none() {
        facts.keys.truncate(keys_before);
        facts.time = None;
        facts.has_id = false;
        parsed(line, facts);
    }
}

/// The top-level members the quick reading looks for: `timestamp`, `id`, and the objects of
/// the indexed fields.
const OBJECTS: [&str; 5] = ["actor", "tenant", "client", "event", "request"];

/// The facts read without parsing; `None` when the line has anything the quick reading cannot
/// be sure of (an escaped key, a list or a number where a value is, a key with a dot that
/// could name an indexed field's path, before the last member looked for).
///
/// It stops at the last of the members it looks for: the rest of a record (its `fields`, its
/// `integrity`) is not stepped over. A top-level key with a dot after them (`"actor.id"`, which
/// the query language also reads as `actor.id`) is then not seen; the file store, the only
/// reader of the index, never reads one either: it reads a record's members by the first
/// segment of the paths a question names (`store::Members`).
fn quick(line: &[u8], facts: &mut LineFacts) -> Option<()> {
    let at = skip_space(line, 0);
    if line.get(at) != Some(&b'{') {
        return None;
    }
    let mut seen = [false; OBJECTS.len() + 2];
    let mut left = seen.len();
    each_member(line, at, &mut |name, start| {
        if let Some(dot) = memchr::memchr(b'.', name) {
            if OBJECTS
                .iter()
                .any(|object| object.as_bytes() == &name[..dot])
            {
                return None;
            }
            return Some(true);
        }
        match name {
            b"timestamp" if !seen[0] => {
                seen[0] = true;
                facts.time = match line.get(start) {
                    Some(b'"') => {
                        let end = value_end(line, start)?;
                        time_of(&raw_text(&line[start..end]).ok()??)
                    }
                    // Only text reads as a time.
                    Some(b'[') => return None,
                    _ => None,
                };
            }
            b"id" if !seen[1] => {
                seen[1] = true;
                if line.get(start) == Some(&b'"') {
                    let end = value_end(line, start)?;
                    facts.id.clear();
                    facts.id.push_str(&raw_text(&line[start..end]).ok()??);
                    facts.has_id = true;
                }
            }
            _ => {
                let Some(n) = OBJECTS.iter().position(|o| o.as_bytes() == name) else {
                    return Some(true);
                };
                if seen[n + 2] {
                    // A repeated member: the query reads the first.
                    return Some(true);
                }
                seen[n + 2] = true;
                match line.get(start) {
                    Some(b'{') => object_keys(line, start, OBJECTS[n], facts)?,
                    Some(b'[') => return None,
                    _ => {}
                }
            }
        }
        left -= 1;
        Some(left > 0)
    })
}

/// The keys of the indexed fields in the object `object` of the record, starting at `at`.
fn object_keys(line: &[u8], at: usize, object: &str, facts: &mut LineFacts) -> Option<()> {
    let fields = IndexedField::ALL
        .into_iter()
        .filter(|field| field.path()[0] == object);
    for field in fields {
        let name = field.path()[1];
        match member(line, at, name.as_bytes()) {
            Place::At(start) => {
                let end = value_end(line, start)?;
                let raw = &line[start..end];
                if let [b'"', inner @ .., b'"'] = raw {
                    if field != IndexedField::ClientAddress && !inner.contains(&b'\\') {
                        // Text as written: its bytes are the key's (a line that is not UTF-8
                        // matches no question, so its keys are never asked for).
                        facts.keys.push(key(field.tag(), inner));
                        continue;
                    }
                }
                let text = raw_text(raw).ok()?;
                if let Some(key) = text.and_then(|t| field.key_of_text(&t)) {
                    facts.keys.push(key);
                }
            }
            Place::Absent => {}
            Place::Unknown => return None,
        }
    }
    Some(())
}

/// Calls `f` with each member of the object at `at`: its name (`None` if it has an escape)
/// and where its value starts, until `f` says to stop (`Some(false)`) or that the line is not
/// for it (`None`).
fn each_member(
    line: &[u8],
    at: usize,
    f: &mut dyn FnMut(&[u8], usize) -> Option<bool>,
) -> Option<()> {
    let mut at = skip_space(line, at + 1);
    if line.get(at) == Some(&b'}') {
        return Some(());
    }
    loop {
        if line.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(line, at)?;
        let name = &line[at + 1..key_end - 1];
        if name.contains(&b'\\') {
            return None;
        }
        at = skip_space(line, key_end);
        if line.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_space(line, at + 1);
        if !f(name, start)? {
            return Some(());
        }
        at = skip_space(line, value_end(line, start)?);
        match line.get(at) {
            Some(b',') => at = skip_space(line, at + 1),
            Some(b'}') => return Some(()),
            _ => return None,
        }
    }
}

/// The facts of a line read by parsing it, as the query reads it.
fn parsed(line: &[u8], facts: &mut LineFacts) {
    let Ok(record) = serde_json::from_slice::<Json<'_>>(line) else {
        // Not JSON: no query matches it.
        return;
    };
    if let Json::Object(object) = &record {
        if let Some(id) = object.get_str("id") {
            facts.id.clear();
            facts.id.push_str(id);
            facts.has_id = true;
        }
    }
    let mut time: Option<(i64, i64)> = None;
    visit(&record, &["timestamp"], &mut |value| {
        if let Json::Str(text) = value {
            if let Some((low, high)) = time_of(text) {
                time = Some(time.map_or((low, high), |(a, b)| (a.min(low), b.max(high))));
            }
        }
        false
    });
    facts.time = time;
    for field in IndexedField::ALL {
        visit(&record, &field.path(), &mut |value| {
            if let Some(key) = text_of(value).and_then(|text| field.key_of_text(&text)) {
                facts.keys.push(key);
            }
            false
        });
    }
}

/// A time as a query reads it (RFC 3339), in microseconds since 1970 rounded down and up.
pub fn time_of(text: &str) -> Option<(i64, i64)> {
    if let Some(micros) = record_time(text.as_bytes()) {
        return Some((micros, micros));
    }
    let at = DateTime::parse_from_rfc3339(text).ok()?;
    let low = at.timestamp_micros();
    let high = low + i64::from(at.timestamp_subsec_nanos() % 1000 != 0);
    Some((low, high))
}

/// The time of `2026-11-22T10:15:30.123456Z`, the form every record is written in, read digit
/// by digit (the RFC 3339 parser for any other form).
fn record_time(b: &[u8]) -> Option<i64> {
    if b.len() != 27
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[26] != b'Z'
    {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0_u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0, 4)?).ok()?,
        number(5, 7)?,
        number(8, 10)?,
    )?;
    let time = date.and_hms_micro_opt(
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 26)?,
    )?;
    Some(time.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(line: &str) -> (Vec<u128>, Option<(i64, i64)>, Option<String>) {
        let id = |facts: &LineFacts| facts.has_id.then(|| facts.id.clone());
        let mut quick_facts = LineFacts::default();
        read_line(line.as_bytes(), &mut quick_facts);
        let mut parsed_facts = LineFacts::default();
        parsed(line.as_bytes(), &mut parsed_facts);
        let (mut a, mut b) = (quick_facts.keys.clone(), parsed_facts.keys.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{line}");
        assert_eq!(quick_facts.time, parsed_facts.time, "{line}");
        assert_eq!(id(&quick_facts), id(&parsed_facts), "{line}");
        let quick_id = id(&quick_facts);
        (quick_facts.keys, quick_facts.time, quick_id)
    }

    fn text(field: IndexedField, value: &str) -> u128 {
        field.key_of_text(value).unwrap()
    }

    #[test]
    fn the_quick_reading_finds_what_parsing_finds() {
        let (keys, time, id) = facts(
            r#"{"schema":1,"id":"r1","timestamp":"2026-11-22T10:15:30.123456Z","event":{"name":"authentication.failed"},"actor":{"id":"u\u00e9","email":"a@b"},"tenant":{"id":7},"client":{"ip":"10.0.0.1"},"request":{"id":null}}"#,
        );
        assert_eq!(id.as_deref(), Some("r1"));
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:15:30.123456Z").unwrap();
        assert_eq!(time, Some((at.timestamp_micros(), at.timestamp_micros())));
        for key in [
            text(IndexedField::EventName, "authentication.failed"),
            text(IndexedField::ActorId, "u\u{e9}"),
            text(IndexedField::ActorEmail, "a@b"),
            text(IndexedField::TenantId, "7"),
            address_key("10.0.0.1".parse().unwrap()),
        ] {
            assert!(keys.contains(&key));
        }
        assert_eq!(keys.len(), 5);
        // What the quick reading leaves to the parser, and the parser's answer.
        for line in [
            r#"{"id":"a","actor.id":"x","actor":{"id":"y"}}"#,
            r#"{"id":"a","actor":[{"id":"x"},{"id":"y"}]}"#,
            r#"{"id":"a","actor":{"id":["x","y"]}}"#,
            r#"{"id":"a","actor":{"id":1.5e3}}"#,
            r#"{"id":"a","actor":{"i\u0064":"x"}}"#,
            r#"{"id":"a","timestamp":["2026-01-01T00:00:00Z","2027-01-01T00:00:00.0000001+01:00"]}"#,
            r#"{"id":"a","timestamp":"2026-01-01T00:00:00.5+02:00","client":{"ip":"::ffff:1.2.3.4"}}"#,
            r#"{"id":"a","actor":{"id":"x"},"actor":{"id":"y"}}"#,
            r#"{"id":"a","client":{"ip":"not an address"},"tenant":{"id":true}}"#,
            r#"{"id":1,"timestamp":"2026-02-30T00:00:00.000000Z"}"#,
            r#"not json"#,
            r#"{"id":"a""#,
        ] {
            facts(line);
        }
    }

    #[test]
    fn an_address_has_one_key_whatever_its_form() {
        assert_eq!(
            IndexedField::ClientAddress.key_of_text("2001:db8::1"),
            IndexedField::ClientAddress.key_of_text("2001:0db8:0:0:0:0:0:1")
        );
        assert_ne!(
            IndexedField::ClientAddress.key_of_text("1.2.3.4"),
            IndexedField::ClientAddress.key_of_text("::ffff:1.2.3.4")
        );
        assert_ne!(
            text(IndexedField::ActorId, "x"),
            text(IndexedField::ActorName, "x")
        );
    }
}
