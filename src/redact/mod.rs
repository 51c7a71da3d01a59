//! Redaction: secrets never leave in clear.
//!
//! Rules match field names, exactly or by glob (`*`, `?`), ignoring case and treating `-`, `_`
//! and `.` alike (`*api_key*` matches `x-api-key` and `http.request.header.x-api-key`); the first
//! rule that matches decides. They apply on the worker, before encoding, to every sink: to
//! `fields`, to every level of `changes`, and to the context parts (`actor.email`, `session.id`,
//! ...), whether recorded on the event or on a span. The message is rendered afterwards, so a
//! template never reveals a redacted value; a message the caller wrote itself is kept as written.
//!
//! A value recorded with `?` (its `Debug`) is masked or hashed without its quotes: `token =
//! ?"tok_live_abcdefgh"` and `token = "tok_live_abcdefgh"` give the same `***efgh`.
//!
//! Redaction finds secrets by their names, so `changes` must carry names: a [`Changes`](crate::Changes)
//! value (recorded with `%` or `?`, both write its JSON) or any JSON object or array. A `changes`
//! value that is neither (free text, the `Debug` of some other type, a value cut at the size
//! limit) could hold a secret no rule can see: while any rule is in force it is written as
//! [`WITHHELD_CHANGES`] instead.
//!
//! # The rules
//!
//! The service's rules come first, then the defaults.
//!
//! | action | result |
//! |---|---|
//! | `drop` | the field is removed |
//! | `mask` | `***` and the last 4 characters (`***1337`); values under 8 characters become `***` |
//! | `hmac` | `hmac-sha256:<hex>` of the value under `with_redaction_key`: equal values stay correlatable |
//!
//! | default rule | action |
//! |---|---|
//! | `*password*`, `*passwd*`, `*passphrase*`, `pwd`, `*secret*`, `*private_key*`, `*privatekey*`, `*credential*`, `*recovery_code*`, `*database_url*`, `*connection_string*` | drop |
//! | `*token*`, `*api_key*`, `*apikey*`, `*authorization*`, `*cookie*`, `*csrf*`, `*xsrf*`, `*auth_key*` | mask |
//! | `session.id`, `*session_id*`, `*sessionid*`, `*sessid*` | hmac with a redaction key, mask without |
//!
//! ```no_run
//! use tracing_security_events::redact::{RedactionAction, RedactionRule};
//!
//! let builder = tracing_security_events::builder()
//!     .with_redaction(RedactionRule::new("card.number", RedactionAction::Mask))
//!     .with_redaction(RedactionRule::new("*ssn*", RedactionAction::Hmac))
//!     .with_redaction_key(std::fs::read("/etc/myapp/redaction.key")?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::glob;
use crate::record::SecurityRecord;
use crate::value::FieldValue;

/// What a redaction rule does to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum RedactionAction {
    /// Remove the field.
    Drop,
    /// Keep only the last 4 characters: `***1337`. Values shorter than 8 characters become `***`.
    Mask,
    /// Replace by `hmac-sha256:<hex>` of the value under the redaction key: equal values stay
    /// correlatable without being readable. Needs [`Builder::with_redaction_key`](crate::Builder::with_redaction_key).
    Hmac,
}

/// One redaction rule: a field-name pattern and an action (in a configuration, one
/// `[[redaction.rules]]` entry: `field = "card.number"`, `action = "mask"`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "config",
    derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema),
    serde(deny_unknown_fields)
)]
pub struct RedactionRule {
    /// A field name or glob, matched ignoring case, with `-`, `_` and `.` alike.
    #[cfg_attr(feature = "config", serde(rename = "field"))]
    pattern: String,
    /// `drop`, `mask` or `hmac`.
    action: RedactionAction,
}

impl RedactionRule {
    /// A rule for names matching `pattern` (an exact name, or a glob with `*` and `?`).
    pub fn new(pattern: impl Into<String>, action: RedactionAction) -> Self {
        RedactionRule {
            pattern: pattern.into(),
            action,
        }
    }

    /// The pattern.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The action.
    pub fn action(&self) -> RedactionAction {
        self.action
    }

    /// The default rules, applied after the service's own: credentials are dropped, bearer
    /// secrets masked, session identifiers hashed when a key is set (masked otherwise). Names
    /// match ignoring case, with `-`, `_` and `.` alike, so header names (`x-api-key`,
    /// `proxy-authorization`, `http.request.header.cookie`) are covered.
    ///
    /// | pattern | action |
    /// |---|---|
    /// | `*password*`, `*passwd*`, `*passphrase*`, `pwd`, `*secret*`, `*private_key*`, `*privatekey*`, `*credential*`, `*recovery_code*`, `*database_url*`, `*connection_string*` | drop |
    /// | `*token*`, `*api_key*`, `*apikey*`, `*authorization*`, `*cookie*`, `*csrf*`, `*xsrf*`, `*auth_key*` | mask |
    /// | `session.id` (also `session_id`), `*session_id*`, `*sessionid*`, `*sessid*` | hmac with a redaction key, mask without |
    pub fn defaults(with_key: bool) -> Vec<RedactionRule> {
        use RedactionAction::{Drop, Hmac, Mask};
        let session = if with_key { Hmac } else { Mask };
        [
            ("*password*", Drop),
            ("*passwd*", Drop),
            ("*passphrase*", Drop),
            ("pwd", Drop),
            ("*secret*", Drop),
            ("*private_key*", Drop),
            ("*privatekey*", Drop),
            ("*credential*", Drop),
            ("*recovery_code*", Drop),
            ("*database_url*", Drop),
            ("*connection_string*", Drop),
            ("*token*", Mask),
            ("*api_key*", Mask),
            ("*apikey*", Mask),
            ("*authorization*", Mask),
            ("*cookie*", Mask),
            ("*csrf*", Mask),
            ("*xsrf*", Mask),
            ("*auth_key*", Mask),
            ("session.id", session),
            ("*session_id*", session),
            ("*sessionid*", session),
            ("*sessid*", session),
        ]
        .into_iter()
        .map(|(pattern, action)| RedactionRule::new(pattern, action))
        .collect()
    }
}

/// What a `changes` value that is not a JSON object or array becomes while redaction is on: its
/// contents have no names a rule could match, so they are not written.
pub const WITHHELD_CHANGES: &str =
    "(withheld: changes must be a Changes value or a JSON object for redaction to see its names)";

/// The error of a rule set that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("redaction rule {pattern:?} uses hmac, which needs a redaction key (with_redaction_key)")]
pub struct MissingRedactionKey {
    pattern: String,
}

/// The redaction settings of one source (the code, or a configuration): its rules in order, the
/// key of `hmac` rules, and whether the default rules follow.
#[derive(Clone)]
pub(crate) struct RedactionSettings {
    pub(crate) rules: Vec<RedactionRule>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) defaults: bool,
}

impl Default for RedactionSettings {
    fn default() -> Self {
        RedactionSettings {
            rules: Vec::new(),
            key: None,
            defaults: true,
        }
    }
}

impl fmt::Debug for RedactionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactionSettings")
            .field("rules", &self.rules)
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl RedactionSettings {
    /// The redactor of these settings (the code's) over `configured` ones: the code's rules
    /// first, then the configuration's, then the defaults if both want them; the code's key
    /// wins over the configuration's.
    pub(crate) fn redactor(
        &self,
        configured: &RedactionSettings,
    ) -> Result<Redactor, MissingRedactionKey> {
        let key = self.key.as_deref().or(configured.key.as_deref());
        let mut rules = self.rules.clone();
        rules.extend(configured.rules.iter().cloned());
        if self.defaults && configured.defaults {
            rules.extend(RedactionRule::defaults(key.is_some()));
        }
        Redactor::new(rules, key)
    }
}

/// The context parts holding text, by the field name rules match.
const TEXT_PARTS: [&str; 13] = [
    "actor.id",
    "actor.name",
    "actor.email",
    "actor.anonymous_id",
    "session.id",
    "user_agent",
    "request.id",
    "http.method",
    "url.path",
    "target.kind",
    "target.id",
    "target.name",
    "reason",
];

/// The rules in force, with the key for `hmac`.
#[derive(Clone)]
pub(crate) struct Redactor {
    rules: Vec<RedactionRule>,
    key: Option<Hmac<Sha256>>,
    /// The action for each of [`TEXT_PARTS`], decided once.
    text_parts: [Option<RedactionAction>; 13],
    /// Whether any rule names `client.ip`, `client.port`, `actor.roles`.
    drop_typed: [bool; 3],
    /// The decision for each field name seen; `tracing` field names are a small, fixed set.
    /// Hashed with foldhash (seeded per process): SipHash showed in the worker's profile.
    by_field: HashMap<String, Option<RedactionAction>, foldhash::fast::RandomState>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("rules", &self.rules)
            .field("key", &self.key.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl Redactor {
    pub(crate) fn new(
        rules: Vec<RedactionRule>,
        key: Option<&[u8]>,
    ) -> Result<Self, MissingRedactionKey> {
        if key.is_none() {
            if let Some(rule) = rules.iter().find(|r| r.action == RedactionAction::Hmac) {
                return Err(MissingRedactionKey {
                    pattern: rule.pattern.clone(),
                });
            }
        }
        let key = key.map(|k| Hmac::<Sha256>::new_from_slice(k).expect("HMAC takes any key size"));
        let action_for = |name: &str| first_match(&rules, name);
        let text_parts = TEXT_PARTS.map(action_for);
        let drop_typed =
            ["client.ip", "client.port", "actor.roles"].map(|n| action_for(n).is_some());
        Ok(Redactor {
            rules,
            key,
            text_parts,
            drop_typed,
            by_field: HashMap::default(),
        })
    }

    fn action_for(&self, name: &str) -> Option<RedactionAction> {
        first_match(&self.rules, name)
    }

    /// [`action_for`](Self::action_for), remembered per field name.
    fn action_for_field(&mut self, name: &str) -> Option<RedactionAction> {
        if let Some(&action) = self.by_field.get(name) {
            return action;
        }
        let action = self.action_for(name);
        self.by_field.insert(name.to_owned(), action);
        action
    }

    pub(crate) fn apply(&mut self, record: &mut SecurityRecord) {
        if self.rules.is_empty() {
            return;
        }
        let mut fields = std::mem::take(&mut record.fields);
        fields.retain_mut(|name, value| match self.action_for_field(name) {
            None => true,
            Some(RedactionAction::Drop) => false,
            Some(action) => {
                *value = FieldValue::Str(self.transform(action, &value.to_text()));
                true
            }
        });
        record.fields = fields;
        if let Some(changes) = &mut record.changes {
            if changes.is_object() || changes.is_array() {
                self.apply_to_json(changes);
            } else {
                *changes = Value::String(WITHHELD_CHANGES.to_owned());
            }
        }
        self.apply_to_context(record);
    }

    fn apply_to_context(&self, record: &mut SecurityRecord) {
        let actor = &mut record.actor;
        let texts: [&mut Option<String>; 13] = [
            &mut actor.id,
            &mut actor.name,
            &mut actor.email,
            &mut actor.anonymous_id,
            &mut record.session.id,
            &mut record.user_agent.original,
            &mut record.request.id,
            &mut record.request.method,
            &mut record.request.path,
            &mut record.target.kind,
            &mut record.target.id,
            &mut record.target.name,
            &mut record.event.reason,
        ];
        for (slot, action) in texts.into_iter().zip(self.text_parts) {
            if let (Some(action), Some(value)) = (action, slot.as_deref()) {
                *slot = match action {
                    RedactionAction::Drop => None,
                    other => Some(self.transform(other, value)),
                };
            }
        }
        // Typed parts cannot hold a masked text: any rule naming them drops them.
        let [ip, port, roles] = self.drop_typed;
        if ip {
            record.client.ip = None;
        }
        if port {
            record.client.port = None;
        }
        if roles {
            record.actor.roles = None;
        }
    }

    /// Redacts inside a JSON value: an object key that matches a rule has its whole value dropped
    /// or transformed, at any depth.
    fn apply_to_json(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| self.action_for(key) != Some(RedactionAction::Drop));
                for (key, inner) in map.iter_mut() {
                    match self.action_for(key) {
                        Some(action) => self.transform_json(action, inner),
                        None => self.apply_to_json(inner),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.apply_to_json(item)),
            _ => {}
        }
    }

    /// Masks or hashes every leaf of `value` (`{"old": .., "new": ..}` both).
    fn transform_json(&self, action: RedactionAction, value: &mut Value) {
        match value {
            Value::Object(map) => map
                .values_mut()
                .for_each(|inner| self.transform_json(action, inner)),
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| self.transform_json(action, item)),
            Value::Null => {}
            Value::String(text) => *value = Value::String(self.transform(action, text)),
            other => *other = Value::String(self.transform(action, &other.to_string())),
        }
    }

    fn transform(&self, action: RedactionAction, value: &str) -> String {
        let unquoted = debug_unquoted(value);
        let value = unquoted.as_deref().unwrap_or(value);
        match action {
            RedactionAction::Mask => mask(value),
            RedactionAction::Hmac => match &self.key {
                Some(key) => hmac_hex(key.clone(), value),
                // Unreachable: `new` refuses hmac rules without a key. Never leak in clear.
                None => mask(value),
            },
            RedactionAction::Drop => String::new(),
        }
    }
}

fn first_match(rules: &[RedactionRule], name: &str) -> Option<RedactionAction> {
    rules
        .iter()
        .find(|rule| glob::matches_field_name(&rule.pattern, name))
        .map(|rule| rule.action)
}

/// The text of a string recorded with `?`: Rust's `Debug` of a `str` quotes and escapes it, and a
/// mask must keep the secret's last characters, not the closing quote. `None` when `text` is not
/// such a literal.
fn debug_unquoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => out.push(match chars.next()? {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                '0' => '\0',
                c @ ('\\' | '"' | '\'') => c,
                'u' => {
                    let rest = chars.as_str().strip_prefix('{')?;
                    let (hex, after) = rest.split_once('}')?;
                    chars = after.chars();
                    char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                }
                _ => return None,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}

fn mask(value: &str) -> String {
    let count = value.chars().count();
    if count < 8 {
        return "***".to_owned();
    }
    let tail: String = value.chars().skip(count - 4).collect();
    format!("***{tail}")
}

fn hmac_hex(mut mac: Hmac<Sha256>, value: &str) -> String {
    mac.update(value.as_bytes());
    format!(
        "hmac-sha256:{}",
        crate::hex::encode(&mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_only_the_last_four_of_long_values() {
        assert_eq!(mask("sk_live_abcdef1337"), "***1337");
        assert_eq!(mask("1234567"), "***");
        assert_eq!(mask("ééééééé1337"), "***1337");
    }

    #[test]
    fn hmac_needs_a_key() {
        let rules = vec![RedactionRule::new("session.id", RedactionAction::Hmac)];
        let err = Redactor::new(rules.clone(), None).unwrap_err();
        assert!(err.to_string().contains("session.id"));
        assert!(Redactor::new(rules, Some(b"k")).is_ok());
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let mut rules = vec![RedactionRule::new("password_hint", RedactionAction::Mask)];
        rules.extend(RedactionRule::defaults(false));
        let redactor = Redactor::new(rules, None).unwrap();
        assert_eq!(
            redactor.action_for("password_hint"),
            Some(RedactionAction::Mask)
        );
        assert_eq!(
            redactor.action_for("new_Password"),
            Some(RedactionAction::Drop)
        );
        assert_eq!(
            redactor.action_for("Set-Cookie"),
            Some(RedactionAction::Mask)
        );
        assert_eq!(
            redactor.action_for("session.id"),
            Some(RedactionAction::Mask)
        );
        assert_eq!(redactor.action_for("actor.name"), None);
    }

    #[test]
    fn debug_strings_are_unquoted_before_masking() {
        assert_eq!(debug_unquoted(r#""abc""#).as_deref(), Some("abc"));
        assert_eq!(
            debug_unquoted(r#""a\"b\\c\n\u{1b}""#).as_deref(),
            Some("a\"b\\c\n\u{1b}")
        );
        assert_eq!(
            debug_unquoted(&format!("{:?}", "tab\there é")).as_deref(),
            Some("tab\there é")
        );
        assert_eq!(debug_unquoted("abc"), None);
        assert_eq!(debug_unquoted(r#""a"b""#), None);
        assert_eq!(debug_unquoted(r#""bad \q""#), None);
        assert_eq!(debug_unquoted("\""), None);
        let redactor = Redactor::new(RedactionRule::defaults(false), None).unwrap();
        assert_eq!(
            redactor.transform(
                RedactionAction::Mask,
                &format!("{:?}", "tok_live_abcd@mail")
            ),
            "***mail"
        );
    }

    #[test]
    fn nested_changes_are_redacted_at_any_depth() {
        let redactor = Redactor::new(RedactionRule::defaults(false), None).unwrap();
        let mut value = serde_json::json!({
            "email": {"old": "a@x", "new": "b@x"},
            "password": {"old": "hunter2", "new": "correct horse"},
            "integration": {"api_key": {"old": "ak_live_00001111", "new": "ak_live_22223333"}, "n": 1},
            "list": [{"token": "tok_abcdefgh"}]
        });
        redactor.apply_to_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "email": {"old": "a@x", "new": "b@x"},
                "integration": {"api_key": {"old": "***1111", "new": "***3333"}, "n": 1},
                "list": [{"token": "***efgh"}]
            })
        );
    }
}
