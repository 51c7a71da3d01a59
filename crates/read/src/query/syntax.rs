//! The grammar, parsed with winnow into a tree that keeps where each path and value was
//! written, so that the checks after it (unknown fields, values of the wrong kind) name the
//! column too.
//!
//! ```text
//! query      := or_expr
//! or_expr    := and_expr ("or" and_expr)*
//! and_expr   := not_expr ("and" not_expr)*
//! not_expr   := "not" not_expr | "(" query ")" | comparison
//! comparison := path op value | path "exists" | path ["not"] "in" "(" value ("," value)* ")"
//! ```

use std::cell::Cell;

use winnow::ascii::multispace0;
use winnow::combinator::{alt, cut_err, delimited, eof, not, peek, preceded, repeat};
use winnow::error::{ContextError, ErrMode, ModalResult, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::stream::{LocatingSlice, Location, Stateful};
use winnow::token::{any, one_of, take_while};

use super::error::QueryError;
use super::expr::Operator;
use super::lexicon::{is_segment_char, KEYWORDS};
use super::limits::{self, MAX_NESTING};
use super::raw::{Raw, RawComparison, RawTest, RawValue};

type Input<'a> = Stateful<LocatingSlice<&'a str>, &'a Nesting>;

/// How deep the parser is in parentheses and `not`s: the parser, the checks and the evaluation
/// recurse once a level, and a hostile query must get an error, not overflow the stack.
#[derive(Debug, Default)]
pub(super) struct Nesting {
    depth: Cell<usize>,
    /// Where the query first went deeper than [`MAX_NESTING`].
    too_deep_at: Cell<Option<usize>>,
}

/// Runs `inner` one level deeper, or fails (for good) past [`MAX_NESTING`].
/// `at` is where the level opens (its `(` or `not`), for the error.
fn nested<O>(
    input: &mut Input<'_>,
    at: usize,
    inner: impl FnOnce(&mut Input<'_>) -> ModalResult<O>,
) -> ModalResult<O> {
    let nesting = input.state;
    let depth = nesting.depth.get() + 1;
    if depth > MAX_NESTING {
        nesting.too_deep_at.set(Some(at));
        return Err(ErrMode::Cut(ContextError::new()));
    }
    nesting.depth.set(depth);
    let result = inner(input);
    nesting.depth.set(depth - 1);
    result
}

fn input<'a>(text: &'a str, nesting: &'a Nesting) -> Input<'a> {
    Stateful {
        input: LocatingSlice::new(text),
        state: nesting,
    }
}

/// Parses `text`; `None` for a query of nothing but white space.
pub(super) fn parse(text: &str) -> Result<Option<Raw>, QueryError> {
    limits::check_length(text)?;
    let nesting = Nesting::default();
    let raw = delimited(
        multispace0,
        alt((eof.value(None), cut_err(or_expr).map(Some))),
        multispace0,
    )
    .parse(input(text, &nesting))
    .map_err(|error| {
        if let Some(at) = nesting.too_deep_at.get() {
            return limits::too_deep(text, at);
        }
        let offset = error.offset();
        QueryError::new(text, offset, describe(text, offset, error.inner()))
    })?;
    if let Some(raw) = &raw {
        limits::check_size(text, raw)?;
    }
    Ok(raw)
}

/// Parses a path alone, with where it ends.
pub(super) fn parse_path(text: &str) -> Result<Vec<String>, QueryError> {
    limits::check_length(text)?;
    let nesting = Nesting::default();
    let segments = delimited(multispace0, path, multispace0)
        .parse(input(text, &nesting))
        .map_err(|error| {
            let offset = error.offset();
            QueryError::new(text, offset, describe(text, offset, error.inner()))
        })?;
    let start = text.len() - text.trim_start().len();
    limits::check_path(text, segments.len(), start)?;
    Ok(segments)
}

/// The message of a syntax error: what the innermost rule expected, and what was found instead.
fn describe(text: &str, offset: usize, error: &ContextError) -> String {
    let found = found_at(text, offset);
    // Contexts are added as the error travels outwards: the first is the most precise.
    let expected = error.context().find_map(|context| match context {
        StrContext::Expected(StrContextValue::Description(d)) => Some((*d).to_owned()),
        StrContext::Expected(StrContextValue::StringLiteral(s)) => Some(format!("`{s}`")),
        StrContext::Expected(StrContextValue::CharLiteral(c)) => Some(format!("`{c}`")),
        _ => None,
    });
    match expected {
        Some(expected) => format!("expected {expected}, found {found}"),
        None => format!("unexpected {found}"),
    }
}

/// What stands at `offset`, for messages: a word, a character, or the end.
fn found_at(text: &str, offset: usize) -> String {
    let rest = &text[offset.min(text.len())..];
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(20)
        .collect();
    match rest.chars().next() {
        None => "the end of the query".into(),
        Some(c) if is_segment_char(c) || c == '"' => format!("`{word}`"),
        Some(c) => format!("`{c}`"),
    }
}

fn expected(what: &'static str) -> StrContext {
    StrContext::Expected(StrContextValue::Description(what))
}

fn ws(input: &mut Input<'_>) -> ModalResult<()> {
    multispace0.void().parse_next(input)
}

/// A keyword: the word, not the start of a longer one.
fn keyword<'a>(word: &'static str) -> impl Parser<Input<'a>, (), ErrMode<ContextError>> {
    (word, not(one_of(is_segment_char))).void()
}

fn or_expr(input: &mut Input<'_>) -> ModalResult<Raw> {
    joined(input, "or", and_expr, Raw::Or)
}

fn and_expr(input: &mut Input<'_>) -> ModalResult<Raw> {
    joined(input, "and", not_expr, Raw::And)
}

/// `item (word item)*`: the item alone, or `join` of them all.
fn joined(
    input: &mut Input<'_>,
    word: &'static str,
    mut item: impl FnMut(&mut Input<'_>) -> ModalResult<Raw>,
    join: fn(Vec<Raw>) -> Raw,
) -> ModalResult<Raw> {
    let first = item(input)?;
    let rest: Vec<Raw> =
        repeat(0.., preceded((ws, keyword(word), ws), cut_err(&mut item))).parse_next(input)?;
    Ok(if rest.is_empty() {
        first
    } else {
        join(std::iter::once(first).chain(rest).collect())
    })
}

fn not_expr(input: &mut Input<'_>) -> ModalResult<Raw> {
    let start = input.current_token_start();
    alt((
        preceded(
            (keyword("not"), ws),
            cut_err(move |input: &mut Input<'_>| nested(input, start, not_expr)),
        )
        .map(|inner| Raw::Not(Box::new(inner))),
        preceded(
            ('(', ws),
            cut_err(move |input: &mut Input<'_>| {
                nested(input, start, |input| {
                    (
                        or_expr.context(expected("a comparison")),
                        ws,
                        ')'.context(StrContext::Expected(')'.into())),
                    )
                        .parse_next(input)
                })
            }),
        )
        .map(|(inner, (), _)| inner),
        comparison.map(Raw::Compare),
    ))
    .context(expected("a comparison"))
    .parse_next(input)
}

fn comparison(input: &mut Input<'_>) -> ModalResult<RawComparison> {
    let (path, path_span) = path.with_span().parse_next(input)?;
    ws.parse_next(input)?;
    let test = cut_err(test)
        .context(expected(
            "an operator (= != > >= < <= ~ !~ like startswith endswith in exists)",
        ))
        .parse_next(input)?;
    Ok(RawComparison {
        path,
        path_span,
        test,
    })
}

fn test(input: &mut Input<'_>) -> ModalResult<RawTest> {
    alt((
        keyword("exists").value(RawTest::Exists),
        preceded((keyword("in"), ws), cut_err(list)).map(|values| RawTest::In {
            negated: false,
            values,
        }),
        preceded((keyword("not"), ws), cut_err(negated_test)),
        (operator.with_span(), ws, cut_err(value))
            .map(|((op, op_span), (), value)| RawTest::Compare { op, op_span, value }),
    ))
    .parse_next(input)
}

/// What may follow `not` after a path.
fn negated_test(input: &mut Input<'_>) -> ModalResult<RawTest> {
    let start = input.current_token_start();
    alt((
        preceded((keyword("in"), ws), cut_err(list)).map(|values| RawTest::In {
            negated: true,
            values,
        }),
        (
            alt((
                keyword("startswith").value(Operator::NotStartsWith),
                keyword("endswith").value(Operator::NotEndsWith),
                keyword("like").value(Operator::NotLike),
            ))
            .with_span(),
            ws,
            cut_err(value),
        )
            .map(move |((op, span), (), value)| RawTest::Compare {
                op,
                op_span: start..span.end,
                value,
            }),
    ))
    .context(expected(
        "`in`, `like`, `startswith` or `endswith` after `not`",
    ))
    .parse_next(input)
}

fn operator(input: &mut Input<'_>) -> ModalResult<Operator> {
    alt((
        alt((
            ">=".value(Operator::Ge),
            "<=".value(Operator::Le),
            "!=".value(Operator::Ne),
            "!~".value(Operator::NotContains),
            "=".value(Operator::Eq),
            ">".value(Operator::Gt),
            "<".value(Operator::Lt),
            "~".value(Operator::Contains),
        )),
        alt((
            keyword("startswith").value(Operator::StartsWith),
            keyword("endswith").value(Operator::EndsWith),
            keyword("like").value(Operator::Like),
        )),
    ))
    .parse_next(input)
}

fn list(input: &mut Input<'_>) -> ModalResult<Vec<RawValue>> {
    '('.context(StrContext::Expected('('.into()))
        .parse_next(input)?;
    ws.parse_next(input)?;
    let first = value.parse_next(input)?;
    let mut values: Vec<RawValue> =
        repeat(0.., preceded((ws, ',', ws), cut_err(value))).parse_next(input)?;
    values.insert(0, first);
    (ws, cut_err(')').context(expected("`,` or `)`"))).parse_next(input)?;
    Ok(values)
}

fn path(input: &mut Input<'_>) -> ModalResult<Vec<String>> {
    let first = segment(true).parse_next(input)?;
    // After a dot a keyword is a name like any other (`changes.or.new`).
    let rest: Vec<String> = repeat(
        0..,
        preceded(
            '.',
            cut_err(segment(false)).context(expected("a field name after `.`")),
        ),
    )
    .parse_next(input)?;
    Ok(std::iter::once(first).chain(rest).collect())
}

/// A segment of a path: a bare name (not a keyword, when `first`) or a quoted one.
fn segment<'a>(first: bool) -> impl Parser<Input<'a>, String, ErrMode<ContextError>> {
    alt((
        (
            one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
            take_while(0.., is_segment_char),
        )
            .take()
            .verify(move |word: &str| !first || !KEYWORDS.contains(&word))
            .map(str::to_owned),
        quoted,
    ))
}

fn value(input: &mut Input<'_>) -> ModalResult<RawValue> {
    alt((
        quoted.with_span().map(|(text, span)| RawValue {
            text,
            quoted: true,
            span,
        }),
        take_while(1.., is_bare_char)
            .with_span()
            .map(|(text, span): (&str, _)| RawValue {
                text: text.to_owned(),
                quoted: false,
                span,
            }),
    ))
    .context(expected("a value"))
    .parse_next(input)
}

/// A character of a bare value: anything but white space, quotes, `,`, parentheses and the
/// operators' characters.
fn is_bare_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            ',' | '(' | ')' | '=' | '!' | '<' | '>' | '~' | '"' | '\''
        )
}

/// A string in double (or single) quotes, with JSON's escapes.
fn quoted(input: &mut Input<'_>) -> ModalResult<String> {
    let quote = one_of(['"', '\'']).parse_next(input)?;
    let mut out = String::new();
    loop {
        let plain = take_while(0.., |c: char| c != quote && c != '\\').parse_next(input)?;
        out.push_str(plain);
        let next = cut_err(any)
            .context(expected("a closing quote"))
            .parse_next(input)?;
        if next == quote {
            return Ok(out);
        }
        out.push(cut_err(escape).parse_next(input)?);
    }
}

/// The character after a backslash.
fn escape(input: &mut Input<'_>) -> ModalResult<char> {
    let c = peek(any).context(expected("an escape")).parse_next(input)?;
    let plain = match c {
        '"' | '\'' | '\\' | '/' => c,
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'u' => {
            any.parse_next(input)?;
            return unicode_escape(input);
        }
        _ => return Err(cut_with(r#"an escape (\" \' \\ \/ \n \r \t \b \f \uXXXX)"#)),
    };
    any.parse_next(input)?;
    Ok(plain)
}

fn hex4(input: &mut Input<'_>) -> ModalResult<u32> {
    take_while(4, |c: char| c.is_ascii_hexdigit())
        .try_map(|digits: &str| u32::from_str_radix(digits, 16))
        .context(expected("four hex digits after \\u"))
        .parse_next(input)
}

/// `\uXXXX`, with a surrogate pair written as two.
fn unicode_escape(input: &mut Input<'_>) -> ModalResult<char> {
    let first = cut_err(hex4).parse_next(input)?;
    let code = if (0xD800..0xDC00).contains(&first) {
        let low = cut_err(preceded("\\u", hex4).verify(|low| (0xDC00..0xE000).contains(low)))
            .context(expected("the second half of a surrogate pair"))
            .parse_next(input)?;
        0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
    } else {
        first
    };
    char::from_u32(code).ok_or_else(|| cut_with("a Unicode character"))
}

/// A final error saying what was expected.
fn cut_with(what: &'static str) -> ErrMode<ContextError> {
    let mut error = ContextError::new();
    error.push(expected(what));
    ErrMode::Cut(error)
}
