//! Parsing of the forwarding headers: `X-Forwarded-For` and RFC 7239 `Forwarded`.
//!
//! Both are attacker-controlled until a trusted proxy is known to have written them, so the parser
//! is total: any input gives a list of hops or a refusal, never a panic, and its work is bounded.

use std::net::{IpAddr, SocketAddr};

use http::header::{HeaderMap, HeaderName};

/// `X-Forwarded-For`: not in RFC 9110, so not among `http`'s constants.
pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Longer forwarding headers (all lines together) are refused rather than parsed.
pub(crate) const MAX_FORWARDED_BYTES: usize = 8 * 1024;
/// Chains with more hops are refused rather than walked.
pub(crate) const MAX_HOPS: usize = 64;

/// One entry of a forwarding chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hop {
    /// An address, with the port when the header gave one.
    Address(IpAddr, Option<u16>),
    /// `unknown`, an obfuscated node (`_hidden`), or something that is not an address: the chain
    /// cannot be followed past it.
    Opaque,
}

/// Why a chain was not parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    TooLong,
    TooManyHops,
    NotText,
}

/// The values of every `name` header line, joined with `, ` as RFC 9110 allows; `None` when the
/// header is absent. Bytes that are not UTF-8 are replaced, so the result can be recorded.
pub(crate) fn raw_chain(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut joined: Option<String> = None;
    for value in headers.get_all(name) {
        let text = String::from_utf8_lossy(value.as_bytes());
        let joined = joined.get_or_insert_with(String::new);
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        // Recorded values are cut at the record's limit anyway; this keeps the copy bounded.
        if joined.len() + text.len() > 4 * MAX_FORWARDED_BYTES {
            joined.push_str("...");
            break;
        }
        joined.push_str(&text);
    }
    joined
}

/// The hops of `X-Forwarded-For` lines, left (client side) to right (nearest proxy).
pub(crate) fn x_forwarded_for(headers: &HeaderMap) -> Result<Vec<Hop>, Refused> {
    let mut hops = Vec::new();
    for line in header_lines(headers, &X_FORWARDED_FOR)? {
        for item in line.split(',') {
            push_hop(&mut hops, node(item.trim()))?;
        }
    }
    Ok(hops)
}

/// The `for=` hops of RFC 7239 `Forwarded` lines, left to right. An element without `for=`
/// counts as an opaque hop: some proxy added it, and we do not know for whom.
pub(crate) fn forwarded(headers: &HeaderMap) -> Result<Vec<Hop>, Refused> {
    let mut hops = Vec::new();
    for line in header_lines(headers, &http::header::FORWARDED)? {
        for element in split_unquoted(line, b',') {
            if element.trim().is_empty() {
                continue;
            }
            let hop = split_unquoted(element, b';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .map_or(Hop::Opaque, |(_, value)| node(unquote(value.trim())));
            push_hop(&mut hops, hop)?;
        }
    }
    Ok(hops)
}

/// The header lines as text, within the size limit.
fn header_lines<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Result<Vec<&'a str>, Refused> {
    let mut total = 0;
    let mut lines = Vec::new();
    for value in headers.get_all(name) {
        total += value.len();
        if total > MAX_FORWARDED_BYTES {
            return Err(Refused::TooLong);
        }
        lines.push(value.to_str().map_err(|_| Refused::NotText)?);
    }
    Ok(lines)
}

fn push_hop(hops: &mut Vec<Hop>, hop: Hop) -> Result<(), Refused> {
    if hops.len() == MAX_HOPS {
        return Err(Refused::TooManyHops);
    }
    hops.push(hop);
    Ok(())
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn node(text: &str) -> Hop {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Hop::Address(ip.to_canonical(), None);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Hop::Address(socket.ip().to_canonical(), Some(socket.port()));
    }
    // RFC 7239 allows an obfuscated port (`[2001:db8::1]:_abc`) and a bracketed IPv6 without one.
    if let Some(rest) = text.strip_prefix('[') {
        if let Some((inside, _)) = rest.split_once(']') {
            if let Ok(ip) = inside.parse::<IpAddr>() {
                return Hop::Address(ip.to_canonical(), None);
            }
        }
    }
    if let Some((host, port)) = text.rsplit_once(':') {
        if port.starts_with('_') {
            if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
                return Hop::Address(IpAddr::V4(ip), None);
            }
        }
    }
    Hop::Opaque
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(value)
}

/// Splits on `separator` outside double quotes (a backslash escapes inside quotes).
fn split_unquoted(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut cuts = Vec::new();
    for (i, &byte) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if in_quotes && byte == b'\\' {
            escaped = true;
        } else if byte == b'"' {
            in_quotes = !in_quotes;
        } else if byte == separator && !in_quotes {
            cuts.push(&text[start..i]);
            start = i + 1;
        }
    }
    cuts.push(&text[start..]);
    cuts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn addr(text: &str, port: Option<u16>) -> Hop {
        Hop::Address(text.parse().unwrap(), port)
    }

    #[test]
    fn x_forwarded_for_lines_are_one_list() {
        let map = headers(
            "x-forwarded-for",
            &["203.0.113.7, 10.0.0.1", " 2001:db8::1 ,bogus"],
        );
        assert_eq!(
            x_forwarded_for(&map).unwrap(),
            [
                addr("203.0.113.7", None),
                addr("10.0.0.1", None),
                addr("2001:db8::1", None),
                Hop::Opaque
            ]
        );
        assert_eq!(
            raw_chain(&map, &HeaderName::from_static("x-forwarded-for")).as_deref(),
            Some("203.0.113.7, 10.0.0.1,  2001:db8::1 ,bogus")
        );
    }

    #[test]
    fn forwarded_elements_give_their_for_node() {
        let map = headers(
            "forwarded",
            &[
                r#"for=192.0.2.43:47011;proto=https, For="[2001:db8:cafe::17]:4711""#,
                r#"by=10.0.0.1, for=unknown, for=_hidden, for="[2001:db8::1]:_port";host="a,b""#,
            ],
        );
        assert_eq!(
            forwarded(&map).unwrap(),
            [
                addr("192.0.2.43", Some(47011)),
                addr("2001:db8:cafe::17", Some(4711)),
                Hop::Opaque,
                Hop::Opaque,
                Hop::Opaque,
                addr("2001:db8::1", None),
            ]
        );
    }

    #[test]
    fn mapped_ipv4_is_read_as_ipv4() {
        let map = headers("x-forwarded-for", &["::ffff:192.0.2.1"]);
        assert_eq!(x_forwarded_for(&map).unwrap(), [addr("192.0.2.1", None)]);
    }

    #[test]
    fn oversized_and_endless_chains_are_refused() {
        let long = "1.2.3.4, ".repeat(MAX_FORWARDED_BYTES / 9 + 1);
        assert_eq!(
            x_forwarded_for(&headers("x-forwarded-for", &[&long])),
            Err(Refused::TooLong)
        );
        let many = vec!["1.2.3.4"; MAX_HOPS + 1].join(",");
        assert_eq!(
            x_forwarded_for(&headers("x-forwarded-for", &[&many])),
            Err(Refused::TooManyHops)
        );
        let mut map = HeaderMap::new();
        map.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"1.2.3.4\xff").unwrap(),
        );
        assert_eq!(x_forwarded_for(&map), Err(Refused::NotText));
        assert_eq!(
            raw_chain(&map, &HeaderName::from_static("x-forwarded-for")).as_deref(),
            Some("1.2.3.4\u{fffd}")
        );
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            ",",
            ";;;",
            "\"",
            "for=\"",
            "for=\"[",
            "for=[::1",
            "for=\"\\\"",
            "=",
            "for==",
            "[]:",
            "::::::::",
            "1.2.3.4:99999",
            "for=\"[::1]:\"",
        ] {
            let map = headers("forwarded", &[text]);
            let _ = forwarded(&map);
            let map = headers("x-forwarded-for", &[text]);
            let _ = x_forwarded_for(&map);
        }
    }
}
