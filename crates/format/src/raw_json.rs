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

pub fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Where the string starting at `at` (its opening quote) ends, past its closing quote.
pub fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
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
