//! Lines skipped before they are parsed: the literal texts a matching record must contain,
//! derived from the query. Conservative: a line is skipped only when it certainly cannot match,
//! so a line holding any escape (`\`) is always parsed, in case the literal is written escaped.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use memchr::memmem::Finder;

use crate::escape::needs_escape;
use crate::query::{Expr, Operand, Operator, Query, Test};

/// Literal texts a line must contain: every clause holds at least one of its alternatives.
#[derive(Debug, Default)]
#[doc(hidden)]
pub struct Prefilter {
    clauses: Vec<Vec<Literal>>,
}

/// A text a matching line contains.
#[derive(Debug)]
enum Literal {
    /// As it is.
    Exact(Box<Finder<'static>>),
    /// Ignoring ASCII case (`~`, `like`), in lower case.
    Caseless(Box<Finder<'static>>),
}

impl Literal {
    fn of(text: Text) -> Literal {
        match text {
            Text::Exact(text) => {
                Literal::Exact(Box::new(Finder::new(text.as_bytes()).into_owned()))
            }
            Text::Caseless(text) => Literal::Caseless(Box::new(
                Finder::new(text.to_ascii_lowercase().as_bytes()).into_owned(),
            )),
        }
    }

    fn found_in(&self, line: &[u8]) -> bool {
        match self {
            Literal::Exact(finder) => finder.find(line).is_some(),
            // A line with other than ASCII is parsed: the query lowers its case by Unicode.
            Literal::Caseless(finder) => !line.is_ascii() || found_caseless(line, finder),
        }
    }
}

/// Texts one of which a matching line holds.
pub(crate) struct Needles<'a> {
    /// The texts (in lower case when `caseless`).
    pub(crate) finders: Vec<&'a Finder<'static>>,
    /// Whether they are to be found ignoring ASCII case: in the text lowered; a line with
    /// other than ASCII is always one to read (the query lowers case by Unicode).
    pub(crate) caseless: bool,
    /// The clause of the prefilter they are: a line found by them holds it, or is one the
    /// clause lets through anyway (an escape, other than ASCII).
    pub(crate) clause: usize,
}

/// Whether `line` holds the lower-case text of `finder`, ignoring ASCII case: found in a
/// lowered copy (anchoring on the text's first letter in either case, as before, found every
/// `a` of a line for `authentication.`).
fn found_caseless(line: &[u8], finder: &Finder<'_>) -> bool {
    thread_local! {
        static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    LOWERED.with(|lowered| {
        let mut lowered = lowered.borrow_mut();
        lowered.clear();
        lowered.extend(line.iter().map(u8::to_ascii_lowercase));
        finder.find(&lowered).is_some()
    })
}

/// A text derived from the query.
enum Text {
    Exact(String),
    Caseless(String),
}

impl Prefilter {
    /// The texts a line must hold for `query` to match it.
    pub fn of(query: &Query) -> Prefilter {
        let clauses = required(&query.expr)
            .into_iter()
            .map(|clause| clause.into_iter().map(Literal::of).collect())
            .collect();
        Prefilter { clauses }
    }

    /// Texts one of which every matching line holds, to look for in whole blocks: the first
    /// clause of exact ones, else the first of texts ignoring case; `None` when the query has
    /// neither.
    pub(crate) fn needles(&self) -> Option<Needles<'_>> {
        let of_kind = |caseless: bool| {
            self.clauses
                .iter()
                .enumerate()
                .find_map(|(clause_index, clause)| {
                    let finders = clause
                        .iter()
                        .map(|literal| match literal {
                            Literal::Exact(finder) if !caseless => Some(&**finder),
                            Literal::Caseless(finder) if caseless => Some(&**finder),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()?;
                    Some(Needles {
                        finders,
                        caseless,
                        clause: clause_index,
                    })
                })
        };
        of_kind(false).or_else(|| of_kind(true))
    }

    /// Whether the line may match (and must be parsed to know).
    pub fn may_match(&self, line: &[u8]) -> bool {
        self.may_match_but(line, None)
    }

    /// Whether the line may match, its clause `known` (that of [`Needles`], searched in the
    /// whole block the line came from) not looked at again.
    pub(crate) fn may_match_but(&self, line: &[u8], known: Option<usize>) -> bool {
        self.clauses.is_empty()
            || memchr::memchr(b'\\', line).is_some()
            || self
                .clauses
                .iter()
                .enumerate()
                .filter(|(n, _)| Some(*n) != known)
                .all(|(_, clause)| clause.iter().any(|literal| literal.found_in(line)))
    }
}

/// The clauses `expr` requires (an empty list: none known).
fn required(expr: &Expr) -> Vec<Vec<Text>> {
    match expr {
        Expr::And(items) => items.iter().flat_map(required).collect(),
        Expr::Or(items) => {
            // One alternative from each side: any of them must be there.
            let mut any = Vec::new();
            for item in items {
                match required(item).into_iter().next() {
                    Some(clause) => any.extend(clause),
                    None => return Vec::new(),
                }
            }
            vec![any]
        }
        Expr::Compare(comparison) => {
            let texts: Option<Vec<Text>> = match &comparison.test {
                Test::Compare(Operator::Eq, operand) => equal_texts(operand),
                Test::Compare(Operator::Contains, operand) => literal(operand)
                    .filter(|t| t.is_ascii())
                    .map(|t| vec![Text::Caseless(t)]),
                // Case matters: the prefix or suffix is in the line as it is.
                Test::Compare(Operator::StartsWith | Operator::EndsWith, operand) => {
                    literal(operand).map(|t| vec![Text::Exact(t)])
                }
                Test::Compare(Operator::Like, operand) => glob_text(operand).map(|t| vec![t]),
                Test::In {
                    negated: false,
                    values,
                } => values
                    .iter()
                    .map(equal_texts)
                    .collect::<Option<Vec<Vec<Text>>>>()
                    .map(|alternatives| alternatives.into_iter().flatten().collect()),
                _ => None,
            };
            texts.into_iter().collect()
        }
        Expr::All | Expr::Not(_) => Vec::new(),
    }
}

/// Texts one of which a value equal to `operand` shows in the line.
fn equal_texts(operand: &Operand) -> Option<Vec<Text>> {
    address_texts(operand).or_else(|| literal(operand).map(|text| vec![Text::Exact(text)]))
}

/// The longest run of a `like` pattern between its wildcards, as a text the line holds
/// ignoring case; none when no run is plain ASCII of 3 characters or more.
fn glob_text(operand: &Operand) -> Option<Text> {
    let Operand::Text(pattern) = operand else {
        return None;
    };
    pattern
        .split(['*', '?'])
        .filter(|run| run.len() >= 3 && run.is_ascii())
        .filter_map(|run| literal(&Operand::Text(run.to_owned())))
        .max_by_key(String::len)
        .map(Text::Caseless)
}

/// Most alternatives an address range is turned into.
const MAX_RANGE_TEXTS: u32 = 256;

/// The starts of the values an IPv4 address or network matches, each after its opening quote:
/// a value matches only when it reads as an IPv4 address, and an IPv4 address reads only in
/// its one dotted-decimal form (no leading zeros), so the network's fixed octets begin it. A
/// prefix that ends inside an octet lists that octet's values (`172.16.0.0/12`: `"172.16.` to
/// `"172.31.`). IPv6 text has many forms of one address: no literal.
fn address_texts(operand: &Operand) -> Option<Vec<Text>> {
    let (octets, prefix) = match operand {
        Operand::Address(IpAddr::V4(ip)) => {
            return Some(vec![Text::Exact(format!("\"{ip}\""))]);
        }
        Operand::Network(IpNet::V4(net)) => (net.network().octets(), net.prefix_len()),
        _ => return None,
    };
    if prefix == 0 {
        return None;
    }
    if prefix == 32 {
        return Some(vec![Text::Exact(format!("\"{}\"", Ipv4Addr::from(octets)))]);
    }
    // The octets the prefix fixes whole, then the values of the one it cuts, if any.
    let whole = usize::from(prefix / 8);
    let cut_bits = u32::from(prefix % 8);
    let fixed: Vec<String> = octets[..whole].iter().map(u8::to_string).collect();
    // After the fourth octet comes the closing quote, after the others a dot.
    let start = |octets: &[String]| {
        let end = if octets.len() == 4 { '"' } else { '.' };
        format!("\"{}{end}", octets.join("."))
    };
    if cut_bits == 0 {
        return Some(vec![Text::Exact(start(&fixed))]);
    }
    let count = 1_u32 << (8 - cut_bits);
    if count > MAX_RANGE_TEXTS {
        return None;
    }
    let first = u32::from(octets[whole]);
    Some(
        (first..first + count)
            .map(|value| {
                let mut octets = fixed.clone();
                octets.push(value.to_string());
                Text::Exact(start(&octets))
            })
            .collect(),
    )
}

/// The text an equal value shows in the line, when it is written as is: text of characters JSON
/// and the log's escaping leave alone.
fn literal(operand: &Operand) -> Option<String> {
    let Operand::Text(text) = operand else {
        return None;
    };
    // What JSON escapes (quotes, backslashes, controls), and what the log escapes beyond it.
    // Text that reads as a number also equals such a value, whose written form may differ
    // (`1e300` is equal to a text of 301 digits); short integers are written as they read.
    let short_integer = text.strip_prefix('-').unwrap_or(text).len() <= 15
        && text
            .strip_prefix('-')
            .unwrap_or(text)
            .bytes()
            .all(|b| b.is_ascii_digit());
    let plain = !text.is_empty()
        && (short_integer || crate::query::number_text(text).is_none())
        && text
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '"' | '\\') && !needs_escape(c));
    plain.then(|| text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skips(query: &str, line: &str) -> bool {
        !Prefilter::of(&Query::parse(query).unwrap()).may_match(line.as_bytes())
    }

    #[test]
    fn skips_only_lines_that_cannot_match() {
        let line = r#"{"event":{"name":"user.invited"},"actor":{"id":"42"}}"#;
        assert!(skips("event = authentication.failed", line));
        assert!(!skips("event = user.invited", line));
        assert!(skips("event = user.invited and user = 43", line));
        assert!(!skips("event = user.invited and user = 42", line));
        assert!(!skips("event = x or user = 42", line));
        assert!(skips("event = x or user = 43", line));
        assert!(
            !skips("event = x or seq > 3", line),
            "an `or` side without literal"
        );
        assert!(!skips("not event = user.invited", line));
        assert!(!skips("event in (other, user.invited)", line));
        assert!(skips("event in (other, another)", line));
        assert!(
            !skips("event ~ INVITED", line),
            "no literal for case-insensitive tests"
        );
        assert!(
            !skips(r#"event = "a\"b""#, line),
            "no literal for escaped text"
        );
        let addressed = r#"{"client":{"ip":"172.20.1.9"},"fields":{"peer":"10.9.8.7"}}"#;
        assert!(!skips("ip = 172.16.0.0/12", addressed));
        assert!(skips("ip = 172.32.0.0/12", addressed));
        assert!(!skips("ip = 172.20.1.0/24", addressed));
        assert!(skips("ip = 172.20.2.0/24", addressed));
        assert!(!skips("ip = 172.20.1.9", addressed));
        assert!(
            skips("ip = 172.20.1.90", addressed),
            "the closing quote ends it"
        );
        assert!(!skips("fields.peer = 10.0.0.0/8", addressed));
        assert!(!skips("ip in (192.168.0.0/16, 172.20.0.0/20)", addressed));
        assert!(skips("ip in (192.168.0.0/16, 172.21.0.0/16)", addressed));
        assert!(
            !skips("ip = 0.0.0.0/0", addressed),
            "every address: no literal"
        );
        assert!(
            !skips("ip = 2001:db8::/32", addressed),
            "IPv6 has many forms: no literal"
        );
        assert!(!skips("not ip = 172.20.0.0/16", addressed));
        let named = r#"{"event":{"name":"Authentication.Failed"},"message":"alice signed in"}"#;
        assert!(
            !skips(r#"event like "authentication.*""#, named),
            "like ignores case"
        );
        assert!(!skips(r#"event like "*.FAIL?d""#, named));
        assert!(skips(r#"event like "user.*""#, named));
        assert!(
            !skips(r#"event like "a*""#, named),
            "runs under 3 characters: no literal"
        );
        assert!(!skips(r#"not event like "user.*""#, named));
        assert!(!skips("message startswith alice", named));
        assert!(
            skips("message startswith Alice", named),
            "startswith: case matters"
        );
        assert!(!skips(r#"message endswith "in""#, named));
        // What the literals rest on: an IPv4 address reads in one form only.
        for other_form in [
            "010.1.2.3",
            "10.1.2.03",
            "10.1.2.3 ",
            "+10.1.2.3",
            "10.1.258",
        ] {
            assert!(other_form.parse::<IpAddr>().is_err(), "{other_form}");
        }
        let escaped = r#"{"event":{"name":"user\u002einvited"}}"#;
        assert!(
            !skips("event = user.invited", escaped),
            "escapes are parsed"
        );
    }

    /// Over 20,000 random addresses and networks: a line whose address is in the network is
    /// never skipped; most that are not are.
    #[test]
    fn an_address_range_never_skips_an_address_in_it() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut skipped = 0;
        for _ in 0..20_000 {
            let address = Ipv4Addr::from(next() as u32);
            // Networks near the address, of every prefix length.
            let prefix = (next() % 33) as u8;
            let base = if next() % 2 == 0 {
                u32::from(address)
            } else {
                next() as u32
            };
            let net = ipnet::Ipv4Net::new(Ipv4Addr::from(base), prefix)
                .unwrap()
                .trunc();
            let line = format!(r#"{{"client":{{"ip":"{address}"}}}}"#);
            let skips = skips(&format!("ip = {net}"), &line);
            if net.contains(&address) {
                assert!(!skips, "{address} in {net} was skipped");
            } else if skips {
                skipped += 1;
            }
        }
        assert!(skipped > 5_000, "{skipped}");
    }
}
