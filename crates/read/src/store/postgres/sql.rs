//! The query language compiled to a SQL condition over the table of the PostgreSQL sink, every
//! value a bind parameter.
//!
//! A comparison on a column, or on a path the schema knows holds one text value, compiles to an
//! exact condition. Anything else (paths under `fields` and `changes`, arrays, text ordering of
//! times) compiles to a condition that every matching row passes (a superset: the path exists),
//! and the store checks those rows again with the file store's own matcher, so both stores
//! answer alike. A negation makes NULL (a comparison on what the record lacks) false before it
//! inverts, so `not` treats a missing value as the file store does.
//!
//! The table holds U+FFFD where a value held NUL (text cannot hold NUL): a comparison whose
//! value holds either is compared cleaned the same way and checked again. `~` and `like` fold
//! case as the query language does (`fold`) with `translate` over the ASCII letters and the
//! two other characters that fold into them, never with `lower()`, which follows the database's
//! locale. The translation is linear in the query: a path with dots is one jsonpath listing the
//! keys its first segment may hold.

use chrono::{DateTime, Utc};
use postgres::types::ToSql;

use crate::event::Severity;
use crate::postgres_table::{clean, severity_rank};
use crate::query::{fold, Expr, Operand, Operator, Query, Test, FOLDING_TO_ASCII};

/// A bind parameter.
pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

/// Alternatives of an `or` a page reads as one scan each (each on its own index), at most.
const MAX_UNION: usize = 16;
/// Bind parameters in one statement, at most (the protocol's limit is 65,535; the query
/// language's limits keep far below it).
const MAX_PARAMS: usize = 30_000;
/// `translate`'s arguments that fold what folds into ASCII (see `fold`).
const FOLD_FROM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ\u{17F}\u{212A}";
const FOLD_TO: &str = "abcdefghijklmnopqrstuvwxyzsk";

/// Where a field's value is.
enum Place {
    /// A text column.
    Text(&'static str),
    /// A text value at a path of the `record` column that the schema says is one string.
    TextPath(Vec<String>),
    Timestamp,
    Severity,
    ClientIp,
    Seq,
    Id,
    /// Anywhere else: only the path's existence can be asked in SQL.
    Other(Vec<String>),
}

/// Paths of the record that always hold one string when present.
const SCALAR_TEXT_PATHS: &[&str] = &[
    "actor.name",
    "actor.email",
    "actor.kind",
    "actor.anonymous_id",
    "tenant.name",
    "session.id",
    "message",
    "user_agent.original",
    "user_agent.name",
    "user_agent.version",
    "user_agent.os",
    "user_agent.device",
    "request.id",
    "request.method",
    "request.path",
    "target.kind",
    "target.id",
    "target.name",
    "client.geo.country",
    "client.geo.city",
    "service.name",
    "service.version",
    // Not the `instance` column: that holds "" for a record without one.
    "service.instance",
    "event.reason",
    "event.source",
    "event.owasp",
];

fn place(segments: &[String]) -> Place {
    let dotted = segments.join(".");
    match dotted.as_str() {
        "event.name" => Place::Text("event_name"),
        "event.category" => Place::Text("category"),
        "event.outcome" => Place::Text("outcome"),
        "tenant.id" => Place::Text("tenant_id"),
        "actor.id" => Place::Text("actor_id"),
        "event.severity" => Place::Severity,
        "timestamp" => Place::Timestamp,
        "client.ip" => Place::ClientIp,
        "seq" => Place::Seq,
        "id" => Place::Id,
        path if SCALAR_TEXT_PATHS.contains(&path) => Place::TextPath(segments.to_vec()),
        _ => Place::Other(segments.to_vec()),
    }
}

/// Compiles conditions; holds their parameters, numbered in the order bound.
pub(crate) struct Compiler {
    pub(crate) params: Vec<Param>,
    now: DateTime<Utc>,
}

impl Compiler {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Compiler {
            params: Vec::new(),
            now,
        }
    }

    /// Binds a value; its placeholder.
    pub(crate) fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    /// The condition of `query`, and whether it is exact.
    #[cfg(test)]
    pub(crate) fn condition(&mut self, query: &Query) -> (String, bool) {
        self.expr(&query.expr)
    }

    /// The condition of `query` as alternatives any of which selects a row (the items of a
    /// top-level `or`, the columns of the `user` shortcut), so that a page can be one ordered,
    /// limited scan per alternative, each on its own index; and whether it is exact.
    pub(crate) fn alternatives(&mut self, query: &Query) -> (Vec<String>, bool) {
        let parts: Vec<(String, bool)> = match &query.expr {
            Expr::Or(items) => items.iter().map(|e| self.expr(e)).collect(),
            Expr::Compare(comparison) if comparison.field.paths().len() > 1 => {
                match &comparison.test {
                    Test::Compare(op, operand) if op.positive().is_none() => comparison
                        .field
                        .paths()
                        .iter()
                        .map(|p| self.compare(&place(p.segments()), *op, operand))
                        .collect(),
                    _ => vec![self.expr(&query.expr)],
                }
            }
            _ => vec![self.expr(&query.expr)],
        };
        let exact = parts.iter().all(|(_, e)| *e);
        let mut alternatives: Vec<String> = parts.into_iter().map(|(s, _)| s).collect();
        // A union of many scans costs more to plan than one condition costs to run.
        if alternatives.len() > MAX_UNION {
            alternatives = vec![alternatives
                .iter()
                .map(|a| format!("({a})"))
                .collect::<Vec<_>>()
                .join(" OR ")];
        }
        if self.params.len() > MAX_PARAMS {
            // Past what one statement can bind: every row, checked again.
            self.params.clear();
            return (vec!["TRUE".to_owned()], false);
        }
        (alternatives, exact)
    }

    fn expr(&mut self, expr: &Expr) -> (String, bool) {
        match expr {
            Expr::All => ("TRUE".to_owned(), true),
            Expr::And(items) => self.join(items, " AND "),
            Expr::Or(items) => self.join(items, " OR "),
            Expr::Not(inner) => {
                let mark = self.params.len();
                match self.expr(inner) {
                    (sql, true) => (negate(&sql), true),
                    // The negation of a superset is not one: every row goes on to be checked.
                    (_, false) => self.discard(mark),
                }
            }
            Expr::Compare(comparison) => {
                let paths = comparison.field.paths();
                let places: Vec<Place> = paths.iter().map(|p| place(p.segments())).collect();
                match &comparison.test {
                    Test::Exists => self.any(&places, |c, place| c.exists(place)),
                    Test::Compare(op, operand) => match op.positive() {
                        Some(positive) => {
                            let mark = self.params.len();
                            let (sql, exact) =
                                self.any(&places, |c, place| c.compare(place, positive, operand));
                            if exact {
                                (negate(&sql), true)
                            } else {
                                self.discard(mark)
                            }
                        }
                        None => self.any(&places, |c, place| c.compare(place, *op, operand)),
                    },
                    Test::In { negated, values } => {
                        let mark = self.params.len();
                        let (sql, exact) = self.any(&places, |c, place| {
                            if let Some(compiled) = c.text_in(place, values) {
                                return compiled;
                            }
                            let parts: Vec<(String, bool)> = values
                                .iter()
                                .map(|v| c.compare(place, Operator::Eq, v))
                                .collect();
                            let exact = parts.iter().all(|(_, e)| *e);
                            let sql = parts
                                .into_iter()
                                .map(|(s, _)| s)
                                .collect::<Vec<_>>()
                                .join(" OR ");
                            (format!("({sql})"), exact)
                        });
                        match (negated, exact) {
                            (false, _) => (sql, exact),
                            (true, true) => (negate(&sql), true),
                            (true, false) => self.discard(mark),
                        }
                    }
                }
            }
        }
    }

    /// Nothing SQL can say: every row is checked. The parameters bound since `mark` go.
    fn discard(&mut self, mark: usize) -> (String, bool) {
        self.params.truncate(mark);
        ("TRUE".to_owned(), false)
    }

    fn join(&mut self, items: &[Expr], with: &str) -> (String, bool) {
        let parts: Vec<(String, bool)> = items.iter().map(|e| self.expr(e)).collect();
        let exact = parts.iter().all(|(_, e)| *e);
        let sql = parts
            .into_iter()
            .map(|(s, _)| format!("({s})"))
            .collect::<Vec<_>>()
            .join(with);
        (sql, exact)
    }

    /// Holds when the test holds at any of the places.
    fn any(
        &mut self,
        places: &[Place],
        mut test: impl FnMut(&mut Self, &Place) -> (String, bool),
    ) -> (String, bool) {
        let parts: Vec<(String, bool)> = places.iter().map(|p| test(self, p)).collect();
        let exact = parts.iter().all(|(_, e)| *e);
        let sql = parts
            .into_iter()
            .map(|(s, _)| format!("({s})"))
            .collect::<Vec<_>>()
            .join(" OR ");
        (sql, exact)
    }

    fn exists(&mut self, place: &Place) -> (String, bool) {
        match place {
            Place::Text(column) => (format!("{column} IS NOT NULL"), true),
            Place::TextPath(segments) => (format!("{} IS NOT NULL", text_path(segments)), true),
            Place::Timestamp | Place::Severity | Place::Seq | Place::Id => {
                ("TRUE".to_owned(), true)
            }
            Place::ClientIp => ("client_ip IS NOT NULL".to_owned(), true),
            Place::Other(segments) => self.path_exists(segments),
        }
    }

    /// Rows where the path (or a key holding its dots) may lead to some value: a superset of any
    /// test on it, linear in the path. Under the first segment, one of the keys the rest may
    /// begin with (`b`, `b.c`, `b.c.d` for `a.b.c.d`) is there; the levels below are left to
    /// the check of the rows. (The record's top-level keys hold no dots.) An array there is
    /// always selected: the file store reads into arrays at any depth.
    fn path_exists(&mut self, segments: &[String]) -> (String, bool) {
        let Some((first, rest)) = segments.split_first() else {
            return ("TRUE".to_owned(), false);
        };
        let first_key = self.bind(clean(first).into_owned());
        if rest.is_empty() {
            return (format!("record ? {first_key}"), false);
        }
        let mut keys = Vec::with_capacity(rest.len());
        let mut key = String::new();
        for (n, segment) in rest.iter().enumerate() {
            if n > 0 {
                key.push('.');
            }
            key.push_str(segment);
            keys.push(format!("exists(@.{})", jsonpath_string(&clean(&key))));
        }
        let path = format!(
            "lax $.{} ? ({})",
            jsonpath_string(&clean(first)),
            keys.join(" || ")
        );
        let path = self.bind(path);
        (
            format!(
                "(jsonb_typeof(record -> {first_key}) = 'array' \
                 OR jsonb_path_exists(record, {path}::text::jsonpath))"
            ),
            false,
        )
    }

    fn compare(&mut self, place: &Place, op: Operator, operand: &Operand) -> (String, bool) {
        match place {
            Place::Text(column) => self.text(&|_| (*column).to_owned(), op, operand, place),
            Place::TextPath(segments) => self.text(&|_| text_path(segments), op, operand, place),
            Place::Timestamp => match operand {
                Operand::Time(spec) => {
                    let at = spec.resolve(self.now);
                    // Records are written with four-digit years: a time outside them is before
                    // or after every row (and PostgreSQL may not read it).
                    if let Some(before_all) = outside_record_years(at) {
                        let holds = match op {
                            Operator::Gt | Operator::Ge => before_all,
                            Operator::Lt | Operator::Le => !before_all,
                            _ => false,
                        };
                        return (holds.to_string().to_uppercase(), is_order(op));
                    }
                    let at = self.bind(at.to_rfc3339());
                    (
                        format!("timestamp {} {at}::text::timestamptz", sql_op(op)),
                        is_order(op),
                    )
                }
                _ => self.inexact(place),
            },
            Place::Severity => match operand {
                Operand::Severity(severity) => {
                    let rank = self.bind(severity_rank(*severity));
                    (format!("severity {} {rank}", sql_op(op)), is_order(op))
                }
                Operand::Text(text) if op == Operator::Eq => match text.parse::<Severity>() {
                    Ok(severity) => {
                        let rank = self.bind(severity_rank(severity));
                        (format!("severity = {rank}"), true)
                    }
                    Err(_) => ("FALSE".to_owned(), true),
                },
                _ => self.inexact(place),
            },
            Place::ClientIp => match operand {
                Operand::Address(ip) if op == Operator::Eq => {
                    let ip = self.bind(ip.to_string());
                    (format!("client_ip = {ip}::text::inet"), true)
                }
                Operand::Network(net) if op == Operator::Eq => {
                    let net = self.bind(net.trunc().to_string());
                    (format!("client_ip <<= {net}::text::cidr"), true)
                }
                _ => self.inexact(place),
            },
            Place::Seq => match operand {
                Operand::Number(n) => {
                    let n = self.bind(*n);
                    (format!("seq::float8 {} {n}", sql_op(op)), is_order(op))
                }
                Operand::Text(text) if op == Operator::Eq && !text.contains('\0') => {
                    let text = self.bind(text.clone());
                    (format!("seq::text = {text}"), true)
                }
                _ => self.inexact(place),
            },
            Place::Id => match operand {
                Operand::Text(text) if op == Operator::Eq && !text.contains('\0') => {
                    let text = self.bind(text.clone());
                    (format!("id::text = {text}"), true)
                }
                _ => self.inexact(place),
            },
            Place::Other(segments) => self.path_exists(segments),
        }
    }

    /// A comparison on a text value (a column or `record #>> path`: `value` writes it, binding
    /// what it needs, only when the comparison is expressed).
    fn text(
        &mut self,
        value: &dyn Fn(&mut Self) -> String,
        op: Operator,
        operand: &Operand,
        place: &Place,
    ) -> (String, bool) {
        let text = match operand {
            Operand::Text(text) => text.clone(),
            // Numbers, booleans and the rest never equal a text value.
            _ if op == Operator::Eq && !matches!(operand, Operand::Null) => {
                return ("FALSE".to_owned(), true);
            }
            _ if op.is_textual() => operand.to_string(),
            _ => return self.inexact(place),
        };
        // The table holds U+FFFD for NUL: a value holding either is compared cleaned (a
        // superset) and checked again.
        let exact = !text.contains(['\0', REPLACEMENT]);
        let text = clean(&text).into_owned();
        let value = value(self);
        match op {
            Operator::Eq => {
                let text = self.bind(text);
                (format!("{value} = {text}"), exact)
            }
            Operator::Contains => self.contains(&value, &text, exact),
            Operator::StartsWith => {
                let prefix = self.bind(text);
                (format!("starts_with({value}, {prefix})"), exact)
            }
            Operator::EndsWith => {
                let length = text.chars().count();
                let suffix = self.bind(text);
                (format!("right({value}, {length}) = {suffix}"), exact)
            }
            Operator::Like => {
                let glob = fold(&text);
                // A character other than ASCII stands for any one in the pattern: a superset.
                let exact = exact && glob.is_ascii();
                let pattern = self.bind(like_pattern(&glob));
                (format!("{} LIKE {pattern}", folded(&value)), exact)
            }
            // A bound holding NUL orders differently once cleaned: every row is checked.
            Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le if !exact => {
                self.inexact(place)
            }
            Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le => {
                // A U+FFFD in the table may have been a NUL, which orders first: such rows are
                // checked again.
                let bound = self.bind(text);
                (
                    format!(
                        "({value} COLLATE \"C\" {} {bound} OR strpos({value}, '\u{FFFD}') > 0)",
                        sql_op(op)
                    ),
                    false,
                )
            }
            _ => self.inexact(place),
        }
    }

    /// `~`: the folded needle in the value folded as far as ASCII goes; exact for a needle of
    /// ASCII, otherwise each run of ASCII in it (a superset).
    fn contains(&mut self, value: &str, text: &str, exact: bool) -> (String, bool) {
        let needle = fold(text).into_owned();
        if needle.is_ascii() {
            let needle = self.bind(needle);
            return (format!("strpos({}, {needle}) > 0", folded(value)), exact);
        }
        let runs: Vec<String> = needle
            .split(|c: char| !c.is_ascii())
            .filter(|run| !run.is_empty())
            .map(str::to_owned)
            .collect();
        if runs.is_empty() {
            return (format!("{value} IS NOT NULL"), false);
        }
        let tests: Vec<String> = runs
            .into_iter()
            .map(|run| {
                let run = self.bind(run);
                format!("strpos({}, {run}) > 0", folded(value))
            })
            .collect();
        (tests.join(" AND "), false)
    }

    /// `in (...)` on a text place with text values: one array parameter, whatever the list's
    /// length.
    fn text_in(&mut self, place: &Place, values: &[Operand]) -> Option<(String, bool)> {
        let value = match place {
            Place::Text(column) => (*column).to_owned(),
            Place::TextPath(segments) => text_path(segments),
            _ => return None,
        };
        let mut texts = Vec::with_capacity(values.len());
        let mut exact = true;
        for value in values {
            let Operand::Text(text) = value else {
                return None;
            };
            exact &= !text.contains(['\0', REPLACEMENT]);
            texts.push(clean(text).into_owned());
        }
        let texts = self.bind(texts);
        Some((format!("{value} = ANY({texts}::text[])"), exact))
    }

    /// What SQL can say of a test it cannot express: the place has a value.
    fn inexact(&mut self, place: &Place) -> (String, bool) {
        let (sql, _) = self.exists(place);
        (sql, false)
    }
}

/// `record #>> '{a,b}'` for a path of [`SCALAR_TEXT_PATHS`]: written into the SQL (the paths
/// are this file's constants, never a reader's text), so that expression indexes apply.
fn text_path(segments: &[String]) -> String {
    debug_assert!(SCALAR_TEXT_PATHS.contains(&segments.join(".").as_str()));
    format!("(record #>> '{{{}}}')", segments.join(","))
}

/// `not`: a comparison on what the record lacks is NULL in SQL and false in the query language,
/// so NULL is made false before it is inverted. (Elsewhere NULL and false select the same rows:
/// `NULL OR x` and `NULL AND x` are false or NULL exactly when `false OR x` and `false AND x` are
/// false, and WHERE keeps neither; keeping bare comparisons lets the indexes serve them.)
fn negate(sql: &str) -> String {
    format!("NOT coalesce(({sql}), FALSE)")
}

/// Whether `op` is one SQL expresses as the query language means it.
fn is_order(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq | Operator::Gt | Operator::Ge | Operator::Lt | Operator::Le
    )
}

fn sql_op(op: Operator) -> &'static str {
    match op {
        Operator::Gt => ">",
        Operator::Ge => ">=",
        Operator::Lt => "<",
        Operator::Le => "<=",
        _ => "=",
    }
}

/// A folded glob (`*`, `?`) as a LIKE pattern: `%`, `_` and `\` escaped, `*` as `%`, `?` as
/// `_` (one character, as in the glob), and a character other than ASCII as `_` too (a
/// superset: the text is folded by `translate` for ASCII only).
fn like_pattern(glob: &str) -> String {
    let mut pattern = String::with_capacity(glob.len() + 4);
    for c in glob.chars() {
        match c {
            '%' | '_' | '\\' => {
                pattern.push('\\');
                pattern.push(c);
            }
            '*' => pattern.push('%'),
            '?' => pattern.push('_'),
            c if !c.is_ascii() => pattern.push('_'),
            c => pattern.push(c),
        }
    }
    pattern
}

/// The character the table holds where a value held NUL.
const REPLACEMENT: char = '\u{FFFD}';

/// `value` folded as far as ASCII goes: the ASCII letters and the characters folding into them
/// (`FOLDING_TO_ASCII`); exact for a needle or pattern of ASCII.
fn folded(value: &str) -> String {
    debug_assert!(FOLDING_TO_ASCII
        .iter()
        .all(|(from, to)| FOLD_FROM.contains(*from) && FOLD_TO.contains(*to)));
    format!("translate({value}, '{FOLD_FROM}', '{FOLD_TO}')")
}

/// For a time outside the years records are written with (0001 to 9999): whether it is before
/// them all (`Some(true)`) or after (`Some(false)`).
fn outside_record_years(at: DateTime<Utc>) -> Option<bool> {
    use chrono::Datelike;
    match at.year() {
        year if year < 1 => Some(true),
        year if year > 9999 => Some(false),
        _ => None,
    }
}

/// A key as a jsonpath string literal.
fn jsonpath_string(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> (String, bool, usize) {
        let mut compiler = Compiler::new(Utc::now());
        let (sql, exact) = compiler.condition(&Query::parse(text).unwrap());
        (sql, exact, compiler.params.len())
    }

    #[test]
    fn values_are_parameters_and_common_filters_are_exact() {
        let (sql, exact, params) =
            compile("event = \"x'; DROP TABLE t; --\" and user = alice and tenant = acme");
        assert!(exact, "{sql}");
        assert!(
            !sql.contains("DROP") && !sql.contains("alice") && !sql.contains("acme"),
            "{sql}"
        );
        assert_eq!(params, 5, "{sql}");
        assert!(compile("ip in (10.0.0.0/8) and severity >= warn and time > -24h").1);
        assert!(compile("event like \"authentication.*\" and message ~ failed").1);
        assert!(!compile("fields.rows > 100").1);
        assert!(!compile("not changes.roles.new ~ admin").1);
    }

    #[test]
    fn dotted_paths_are_linear() {
        let segments = vec!["a"; crate::query::MAX_PATH_SEGMENTS - 1].join(".");
        let (sql, exact, params) = compile(&format!("fields.{segments} exists"));
        assert!(!exact);
        assert_eq!(params, 2, "{sql}");
        assert_eq!(jsonpath_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(like_pattern("auth_*.x%?é"), "auth\\_%.x\\%__");
    }

    #[test]
    fn nul_and_replacement_are_checked_again() {
        assert!(compile("message = \"plain\"").1);
        assert!(!compile("message = \"a\\u0000b\"").1);
        assert!(!compile("message = \"a\\ufffdb\"").1);
        assert!(!compile("user in (a, \"b\\u0000\")").1);
        assert!(compile("user in (a, b)").1);
        assert!(compile("message ~ \"\u{212A} sign\"").1);
        assert!(!compile("message ~ \"café\"").1);
        assert!(!compile("message > m").1);
    }
}
