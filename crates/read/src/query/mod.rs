//! The query language: one way to say which records to read, shared by the `security-log`
//! command, the stores, the read API and notification rules.
//!
//! # By example
//!
//! ```text
//! event = "authentication.failed" and user = "42"
//! event like "authentication.*" and time > -24h
//! category in (user, role) and outcome = failure
//! severity >= warn and not ip in (10.0.0.0/8, 2001:db8::/32)
//! fields."authentication.method" = password or fields.rows > 10000
//! changes.roles.new ~ admin
//! client.geo.country = "DE" and time >= 2026-11-10 and time < "2026-11-11 12:00"
//! message ~ "failed to sign in" and request.path startswith "/admin"
//! actor.email endswith "@example.com" and tenant = acme
//! user_agent.name exists and not user_agent.os = Linux
//! ```
//!
//! # The language
//!
//! A query is comparisons joined by `and`, `or` and `not` (precedence `not` > `and` > `or`;
//! keywords in lower case), with parentheses to group. The empty query matches every record.
//!
//! | comparison | holds when |
//! |---|---|
//! | `path = v`, `path != v` | equal (text exactly); `!=` is `not (path = v)` |
//! | `path > v`, `>=`, `<`, `<=` | numbers, times and severities in their order, other text by its bytes |
//! | `path ~ v`, `path !~ v` | the text contains `v`, ignoring case |
//! | `path startswith v`, `path endswith v` | the text begins or ends with `v` (case matters) |
//! | `path like v` | the text matches the glob `v` (`*` any run, `?` one character), ignoring case |
//! | `path in (a, b)`, `path not in (a, b)` | equal to one of the values |
//! | `path exists` | the record has the path |
//!
//! `not` may also stand before `like`, `startswith` and `endswith`. An address compared with a
//! network (`ip = 10.0.0.0/8`, `ip in (10.0.0.0/8, ::1)`) tests membership. Where a path holds a
//! list (`actor.roles`), a comparison holds when it holds for one of its items. A comparison on
//! a path the record lacks is false, so `not` of it, and `!=`, hold.
//!
//! **Paths** address the record as written: `event.name`, `actor.id`, `client.geo.country`,
//! `fields.rows`, `changes.roles.new`. A segment may be quoted (`fields."authentication.method"`);
//! unquoted, `fields.authentication.method` finds the same key. **Shortcuts**: `event`
//! (event.name), `type` and `category` (event.category), `outcome`, `severity`, `user`
//! (actor.id, actor.name or actor.email), `ip` (client.ip), `country` (client.geo.country),
//! `tenant` (tenant.id), `time` (timestamp), `message`.
//!
//! **Values** are quoted (`"..."` or `'...'`, with JSON's escapes) or bare when they hold no
//! space, comma, parenthesis, quote or operator character. A value is read as its field's kind:
//! times for `time` (RFC 3339, `2026-11-22`, `2026-11-22 10:15`, all UTC unless an offset is
//! written; `-15m`, `-24h`, `-7d`, `-2w`, `now`, `today`, `yesterday`), addresses or networks for
//! `ip`, severities (debug < info < warn < error < critical) for `severity`, numbers for `seq`
//! and `client.port`. Under `fields` and `changes`, a bare number, `true`, `false`, `null` or
//! network is read as one, anything quoted as text.
//!
//! **Text** is compared as written, its escapes decoded once: `"\u0000"` in a query is the NUL
//! character, which a value may hold like any other, and `"\\u0000"` is a backslash followed
//! by `u0000`. `=`, `startswith`, `endswith`, the orderings and `in` compare characters exactly.
//! `~` and `like` ignore case by one rule, whichever store answers: Unicode simple case folding
//! of each character (`A` and `a`, `Σ`, `σ` and `ς`, the Kelvin sign and `k` are alike; `İ`
//! folds to itself, so `~ istanbul` does not find "İstanbul"; `ß` is not `ss`). `like`'s `?`
//! is one character, whatever its size in bytes.
//!
//! **Limits**: a query is read only within [`MAX_QUERY_BYTES`] bytes, [`MAX_COMPARISONS`]
//! comparisons, [`MAX_IN_VALUES`] values in one `in` list, [`MAX_PATH_SEGMENTS`] segments in
//! one path, and [`MAX_NESTING`] levels of parentheses and `not`s; past one, the query is an
//! error naming the limit, for every reader. Each filter of a command line or request lists at
//! most [`MAX_FILTER_VALUES`] values.
//!
//! **Errors** name the column: an unknown field (with the known one it most resembles), a
//! malformed time or address, an operator that does not fit the field (`seq ~ "x"`,
//! `ip > 10.0.0.1`) are errors, never an empty result. **Warnings**: an event name or category
//! that no catalog holds is valid (a log may hold names of catalogs the reader does not know)
//! but is told, with the name it probably meant, by [`Vocabulary::check`].
//!
//! ```
//! use tracing_security_events::query::Query;
//!
//! let error = Query::parse("time > yesterdayish").unwrap_err();
//! assert_eq!(error.column(), 8);
//! assert!(error.message().starts_with("`yesterdayish` is not a time"));
//!
//! let error = Query::parse("seq ~ 12").unwrap_err();
//! assert_eq!(error.to_string(), "column 5: `~` compares text, and `seq` is a number");
//! ```
//!
//! # Printing and building
//!
//! [`Query`]'s `Display` prints the canonical text, which parses back to an equal query; the
//! typed builder gives the query the text would:
//!
//! ```
//! use tracing_security_events::query::Query;
//! use chrono::{TimeZone, Utc};
//!
//! let since = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
//! let built = Query::new().event("authentication.*").user("42").since(since);
//! assert_eq!(
//!     built.to_string(),
//!     r#"event.name like "authentication.*" and user = "42" and timestamp >= 2026-11-22T00:00:00Z"#
//! );
//! let typed: Query = r#"event like "authentication.*" and user = 42 and time >= 2026-11-22"#.parse()?;
//! assert_eq!(built, typed);
//! assert_eq!(built.to_string().parse::<Query>()?, built);
//! # Ok::<(), tracing_security_events::query::QueryError>(())
//! ```

mod builder;
mod check;
mod error;
mod eval;
mod expr;
mod field;
mod filters;
mod fold;
mod lexicon;
mod limits;
mod raw;
mod suggest;
mod syntax;
mod time;
mod vocabulary;

pub(crate) use check::number as number_text;
pub use error::QueryError;
pub use eval::Matcher;
pub(crate) use eval::{text_of, visit};
pub(crate) use expr::{Comparison, Expr, Operand, Test};
pub use expr::{Operator, Query};
pub use field::{known_paths, SHORTCUTS};
pub use field::{Field, FieldPath};
pub use filters::{Filter, FilterError, Filters};
#[cfg(feature = "postgres")]
pub(crate) use fold::{fold, FOLDING_TO_ASCII};
pub use limits::{
    MAX_COMPARISONS, MAX_FILTER_VALUES, MAX_IN_VALUES, MAX_NESTING, MAX_PATH_SEGMENTS,
    MAX_QUERY_BYTES,
};
pub use time::{TimeSpec, TimeUnit};
pub use vocabulary::{QueryWarning, Vocabulary};

#[cfg(test)]
mod tests;
