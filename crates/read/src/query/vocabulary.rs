//! Warnings about a valid query that names what no catalog holds: `event =
//! authentication.faild` would answer "0 failed sign-ins", a dangerous answer to a security
//! question, so the reader is told, with the name it probably meant.

use std::fmt;

use super::expr::{Expr, Operand, Operator, Query, Test};
use super::field::{Field, FieldPath};
use crate::event::{Catalog, SecurityEvent};

/// The event names and categories a reader can expect in a log: the built-in catalog's, and
/// those of the catalogs the service registers ([`Vocabulary::with_catalog`]).
///
/// ```
/// use tracing_security_events::query::{Query, Vocabulary};
///
/// let query = Query::parse("event = authentication.faild or category = api_keys")?;
/// let warnings = Vocabulary::builtin().check(&query);
/// assert_eq!(
///     warnings[0].to_string(),
///     "no event in the catalog is named `authentication.faild` (did you mean `authentication.failed`?)"
/// );
/// assert_eq!(warnings[1].suggestion(), Some("api_key"));
/// # Ok::<(), tracing_security_events::query::QueryError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Vocabulary {
    events: Vec<&'static str>,
    categories: Vec<&'static str>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary::builtin()
    }
}

impl Vocabulary {
    /// The names of the built-in catalog, [`SecurityEvent`].
    pub fn builtin() -> Self {
        Vocabulary {
            events: Vec::new(),
            categories: Vec::new(),
        }
        .with_catalog::<SecurityEvent>()
    }

    /// Adds the names and categories of a service's own catalog.
    #[must_use]
    pub fn with_catalog<C: Catalog>(mut self) -> Self {
        for event in C::ALL {
            let info = event.info();
            self.events.push(info.name());
            let category = info.category().as_str();
            if !self.categories.contains(&category) {
                self.categories.push(category);
            }
        }
        self
    }

    /// What the query names that no catalog holds: an event name or category compared with
    /// `=`, `!=` or `in`, or a `like` pattern that matches none of them.
    pub fn check(&self, query: &Query) -> Vec<QueryWarning> {
        let mut warnings = Vec::new();
        self.visit(&query.expr, &mut warnings);
        warnings
    }

    fn visit(&self, expr: &Expr, warnings: &mut Vec<QueryWarning>) {
        match expr {
            Expr::All => {}
            Expr::And(items) | Expr::Or(items) => {
                items.iter().for_each(|item| self.visit(item, warnings));
            }
            Expr::Not(inner) => self.visit(inner, warnings),
            Expr::Compare(comparison) => {
                let Field::Path(path) = &comparison.field else {
                    return;
                };
                let Some(kind) = NameKind::of(path) else {
                    return;
                };
                let names = match kind {
                    NameKind::Event => &self.events,
                    NameKind::Category => &self.categories,
                };
                let (values, glob): (Vec<&Operand>, bool) = match &comparison.test {
                    Test::Compare(Operator::Eq | Operator::Ne, value) => (vec![value], false),
                    Test::Compare(Operator::Like | Operator::NotLike, value) => (vec![value], true),
                    Test::In { values, .. } => (values.iter().collect(), false),
                    _ => return,
                };
                for value in values {
                    let Operand::Text(text) = value else { continue };
                    let known = if glob {
                        let pattern = super::fold::fold(text);
                        names
                            .iter()
                            .any(|name| super::fold::glob_matches(&pattern, name))
                    } else {
                        names.contains(&text.as_str())
                    };
                    if !known {
                        let suggestion = super::suggest::closest(text, names.iter().copied());
                        warnings.push(QueryWarning {
                            kind,
                            value: text.clone(),
                            glob,
                            suggestion: suggestion.map(str::to_owned),
                        });
                    }
                }
            }
        }
    }
}

/// Which list of names a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameKind {
    Event,
    Category,
}

impl NameKind {
    fn of(path: &FieldPath) -> Option<NameKind> {
        match path.segments() {
            [event, name] if event == "event" && name == "name" => Some(NameKind::Event),
            [event, name] if event == "event" && name == "category" => Some(NameKind::Category),
            _ => None,
        }
    }
}

/// A name in a query that no catalog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWarning {
    kind: NameKind,
    value: String,
    glob: bool,
    suggestion: Option<String>,
}

impl QueryWarning {
    /// The path compared: `event.name` or `event.category`.
    pub fn field(&self) -> &'static str {
        match self.kind {
            NameKind::Event => "event.name",
            NameKind::Category => "event.category",
        }
    }

    /// The name (or pattern) as the query wrote it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The known name most like it, if one is near.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

impl fmt::Display for QueryWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            NameKind::Event => "event",
            NameKind::Category => "category",
        };
        if self.glob {
            write!(f, "no {what} in the catalog matches `{}`", self.value)?;
        } else if self.kind == NameKind::Event {
            write!(f, "no event in the catalog is named `{}`", self.value)?;
        } else {
            write!(f, "no category in the catalog is `{}`", self.value)?;
        }
        if let Some(suggestion) = &self.suggestion {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        Ok(())
    }
}
