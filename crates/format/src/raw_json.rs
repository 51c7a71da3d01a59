//! Values found in a line of JSON by stepping over it, without parsing it: what counting by
//! `event.name` over a whole log, and indexing one, need of each record, at the speed of a
//! byte search. Every answer is certain or says it is not ([`Lookup::Unknown`]): the callers
//! parse the line then.

/// What a path holds in a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The value's text, as written (a string with its quotes).
    Found(&'a [u8]),
    /// The path is not there.
    Absent,
    /// Not known without parsing (a key written with an escape, a list on the way).
    Unknown,
}

/// The value at `path` (object keys) in `line`, a JSON object.
pub fn lookup<'a, S: AsRef<str>>(line: &'a [u8], path: &[S]) -> Lookup<'a> {
    lookup_at(line, skip_space(line, 0), path)
}

/// The value at `path` below the value starting at `at` in `line`.
fn lookup_at<'a, S: AsRef<str>>(line: &'a [u8], mut at: usize, path: &[S]) -> Lookup<'a> {
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

/// The values at each of `paths` in `line`, into `found`: what [`lookup`] gives for each,
/// found in one walk over the line's members instead of one walk per path.
pub fn lookup_each<'a, S: AsRef<str>>(line: &'a [u8], paths: &[&[S]], found: &mut [Lookup<'a>]) {
    debug_assert_eq!(paths.len(), found.len());
    if paths.len() > 64 {
        for (path, slot) in paths.iter().zip(found.iter_mut()) {
            *slot = lookup(line, path);
        }
        return;
    }
    // The paths not found yet, one bit each; the empty path is the line itself.
    let mut open: u64 = 0;
    for (n, (path, slot)) in paths.iter().zip(found.iter_mut()).enumerate() {
        if path.is_empty() {
            *slot = Lookup::Found(line);
        } else {
            open |= 1 << n;
        }
    }
    // What the paths left open turn out to be when the walk ends early or finds no more.
    let mut rest = Lookup::Unknown;
    let mut at = skip_space(line, 0);
    'walk: {
        if line.get(at) != Some(&b'{') {
            if line.get(at) != Some(&b'[') {
                rest = Lookup::Absent;
            }
            break 'walk;
        }
        at = skip_space(line, at + 1);
        if line.get(at) == Some(&b'}') {
            rest = Lookup::Absent;
            break 'walk;
        }
        while open != 0 {
            // As `member` steps: a key with an escape, or anything unexpected, leaves the
            // paths not yet found unknown.
            if line.get(at) != Some(&b'"') {
                break 'walk;
            }
            let Some(key_end) = string_end(line, at) else {
                break 'walk;
            };
            let name = &line[at + 1..key_end - 1];
            if name.contains(&b'\\') {
                break 'walk;
            }
            at = skip_space(line, key_end);
            if line.get(at) != Some(&b':') {
                break 'walk;
            }
            at = skip_space(line, at + 1);
            for (n, path) in paths.iter().enumerate() {
                if open & (1 << n) != 0 && path[0].as_ref().as_bytes() == name {
                    found[n] = if path.len() == 1 {
                        value_end(line, at)
                            .map_or(Lookup::Unknown, |end| Lookup::Found(&line[at..end]))
                    } else {
                        lookup_at(line, at, &path[1..])
                    };
                    open &= !(1 << n);
                }
            }
            if open == 0 {
                // Nothing left to find: the rest of the line is not stepped over.
                break 'walk;
            }
            let Some(end) = value_end(line, at) else {
                break 'walk;
            };
            at = skip_space(line, end);
            match line.get(at) {
                Some(b',') => at = skip_space(line, at + 1),
                Some(b'}') => {
                    rest = Lookup::Absent;
                    break 'walk;
                }
                _ => break 'walk,
            }
        }
    }
    for (n, slot) in found.iter_mut().enumerate() {
        if open & (1 << n) != 0 {
            *slot = rest;
        }
    }
}

/// Only parsing the line can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsParsing;

/// A value's text as the query's `text_of` gives it for the parsed value: `Ok(None)` when it
/// has none (null), `Err(())` when only parsing can tell (a number other than a plain integer,
/// a list, an object, text that is not UTF-8).
pub fn raw_text(raw: &[u8]) -> Result<Option<std::borrow::Cow<'_, str>>, NeedsParsing> {
    use std::borrow::Cow;
    match raw.first().ok_or(NeedsParsing)? {
        b'"' => {
            let inner = raw
                .get(1..raw.len().saturating_sub(1))
                .ok_or(NeedsParsing)?;
            if inner.contains(&b'\\') {
                serde_json::from_slice::<String>(raw)
                    .map(|s| Some(Cow::Owned(s)))
                    .map_err(|_| NeedsParsing)
            } else {
                std::str::from_utf8(inner)
                    .map(|s| Some(Cow::Borrowed(s)))
                    .map_err(|_| NeedsParsing)
            }
        }
        b'n' if raw == b"null" => Ok(None),
        b't' if raw == b"true" => Ok(Some(Cow::Borrowed("true"))),
        b'f' if raw == b"false" => Ok(Some(Cow::Borrowed("false"))),
        // A plain integer reads as the query's number text does; any other number is left to
        // the parser.
        b'-' | b'0'..=b'9' if is_plain_integer(raw) => std::str::from_utf8(raw)
            .map(|s| Some(Cow::Borrowed(s)))
            .map_err(|_| NeedsParsing),
        _ => Err(NeedsParsing),
    }
}

/// Whether `raw` is an integer JSON writes as the query's number text does.
pub fn is_plain_integer(raw: &[u8]) -> bool {
    let digits = raw.strip_prefix(b"-").unwrap_or(raw);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0')
        && raw != b"-0"
}

/// Where a member's value starts, or why it is not known.
#[derive(Debug)]
pub enum Place {
    At(usize),
    Absent,
    Unknown,
}

/// The member `key` of the object starting at `at`.
pub fn member(line: &[u8], at: usize, key: &[u8]) -> Place {
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

#[inline]
pub fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Where the string starting at `at` (its opening quote) ends, past its closing quote.
#[inline]
pub fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    // Most strings of a record are short: eight bytes at a time finds their end before a
    // vector search would have started.
    let short_until = bytes.len().min(i + 64);
    while i + 8 <= short_until {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
        let special = zero_byte(word ^ QUOTES) | zero_byte(word ^ BACKSLASHES);
        if special == 0 {
            i += 8;
            continue;
        }
        // The lowest flag is the first quote or backslash (flags above it may be false).
        i += (special.trailing_zeros() / 8) as usize;
        if bytes[i] == b'"' {
            return Some(i + 1);
        }
        break;
    }
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        if bytes[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);

/// The high bit of each zero byte of `word` set (exact for the lowest zero byte; a byte above
/// one may be flagged too).
fn zero_byte(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// Where the value starting at `at` ends, stepped over without decoding it.
pub fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
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

    #[test]
    fn string_ends_where_a_byte_loop_finds_it() {
        let slow = |bytes: &[u8], at: usize| -> Option<usize> {
            let mut i = at + 1;
            loop {
                match bytes.get(i)? {
                    b'"' => return Some(i + 1),
                    b'\\' => i += 2,
                    _ => i += 1,
                }
            }
        };
        let mut state = 3_u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 40) as usize % 150;
            let text: Vec<u8> = (0..len)
                .map(|n| {
                    let pick = (state >> (n % 50)) as usize % 40;
                    match pick {
                        0 => b'"',
                        1 => b'\\',
                        2 => 0xe9,
                        _ => b'a' + (pick % 26) as u8,
                    }
                })
                .collect();
            let mut line = vec![b'"'];
            line.extend_from_slice(&text);
            assert_eq!(
                string_end(&line, 0),
                slow(&line, 0),
                "{:?}",
                String::from_utf8_lossy(&line)
            );
        }
    }

    #[test]
    fn one_walk_finds_what_each_lookup_finds() {
        let lines: [&[u8]; 6] = [
            br#"{"schema":1,"id":"a","event":{"name":"x.y","n":[1]},"actor":{"id":"42"},"tenant":{"id":"t"},"k\"ey":1,"client":{"ip":"1.2.3.4"}}"#,
            br#"{"schema":1,"id":"a","tenant":[{"id":"t"}],"event":{"name":"x"}}"#,
            br#"{"id":"a","id":"b","event":{"na\u006de":"x"}}"#,
            br#"  {}  "#,
            br#"[1,2]"#,
            br#"{"schema":1,"id":"a","timestamp":"2026-01-01T00:00:00.000000Z"}"#,
        ];
        let paths: Vec<Vec<&str>> = [
            "schema",
            "id",
            "timestamp",
            "event.name",
            "actor.id",
            "tenant.id",
            "client.ip",
            "event.n.x",
        ]
        .iter()
        .map(|p| p.split('.').collect())
        .collect();
        let slices: Vec<&[&str]> = paths.iter().map(Vec::as_slice).collect();
        for line in lines {
            let mut found = vec![Lookup::Absent; slices.len()];
            lookup_each(line, &slices, &mut found);
            for (path, got) in slices.iter().zip(&found) {
                assert_eq!(
                    *got,
                    lookup(line, path),
                    "{} {path:?}",
                    String::from_utf8_lossy(line)
                );
            }
        }
    }
}
