//! Field values as captured on the caller's thread, and the size limit applied while capturing.

use std::fmt::{self, Write as _};

use serde::{Serialize, Serializer};

/// Default limit on one value, in bytes of UTF-8.
pub const DEFAULT_MAX_VALUE_LEN: usize = 16 * 1024;

/// One field value of a security event, typed as `tracing` recorded it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A wide signed integer.
    I128(i128),
    /// A wide unsigned integer.
    U128(u128),
    /// A float; NaN and infinities are written as strings (`"NaN"`, `"inf"`), JSON having no
    /// numbers for them.
    F64(f64),
    /// Text, from a `&str`, a `Display` (`%value`) or a `Debug` (`?value`) value.
    Str(String),
}

impl FieldValue {
    /// The value as text, for fields whose meaning is text (identifiers, names).
    pub fn to_text(&self) -> String {
        match self {
            FieldValue::Str(s) => s.clone(),
            FieldValue::Bool(v) => v.to_string(),
            FieldValue::I64(v) => v.to_string(),
            FieldValue::U64(v) => v.to_string(),
            FieldValue::I128(v) => v.to_string(),
            FieldValue::U128(v) => v.to_string(),
            FieldValue::F64(v) => v.to_string(),
        }
    }

    /// The value as text, borrowed when it is text already.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            FieldValue::Str(s) => std::borrow::Cow::Borrowed(s),
            other => std::borrow::Cow::Owned(other.to_text()),
        }
    }

    /// The value as text, without copying it when it is text already.
    pub fn into_text(self) -> String {
        match self {
            FieldValue::Str(s) => s,
            other => other.to_text(),
        }
    }

    /// The value as a finite float, when it is a number or text holding one.
    pub fn to_f64(&self) -> Option<f64> {
        let value = match self {
            FieldValue::F64(v) => *v,
            FieldValue::U64(v) => *v as f64,
            FieldValue::I64(v) => *v as f64,
            FieldValue::U128(v) => *v as f64,
            FieldValue::I128(v) => *v as f64,
            FieldValue::Str(s) => s.trim().parse().ok()?,
            FieldValue::Bool(_) => return None,
        };
        value.is_finite().then_some(value)
    }

    /// The value as an unsigned integer, when it is one or is text holding one.
    pub fn to_u64(&self) -> Option<u64> {
        match self {
            FieldValue::U64(v) => Some(*v),
            FieldValue::I64(v) => u64::try_from(*v).ok(),
            FieldValue::U128(v) => u64::try_from(*v).ok(),
            FieldValue::I128(v) => u64::try_from(*v).ok(),
            FieldValue::Str(s) => s.trim().parse().ok(),
            FieldValue::Bool(_) | FieldValue::F64(_) => None,
        }
    }
}

macro_rules! field_value_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for FieldValue {
            fn from(value: $ty) -> Self {
                FieldValue::$variant(value.into())
            }
        }
    )*};
}

field_value_from! {
    bool => Bool,
    i32 => I64,
    i64 => I64,
    u32 => U64,
    u64 => U64,
    i128 => I128,
    u128 => U128,
    f64 => F64,
    String => Str,
    &str => Str,
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Bool(v) => serializer.serialize_bool(*v),
            FieldValue::I64(v) => serializer.serialize_i64(*v),
            FieldValue::U64(v) => serializer.serialize_u64(*v),
            FieldValue::I128(v) => serializer.serialize_i128(*v),
            FieldValue::U128(v) => serializer.serialize_u128(*v),
            FieldValue::F64(v) if v.is_finite() => serializer.serialize_f64(*v),
            FieldValue::F64(v) => serializer.collect_str(v),
            FieldValue::Str(s) => serializer.serialize_str(s),
        }
    }
}

/// Text of at most `limit` bytes appended to a buffer, cut at a character boundary, with a
/// marker saying how long the whole value was. Keeping the writer bounded means a megabyte value
/// is never copied whole; appending to a caller's buffer lets one buffer hold many values.
#[derive(Debug)]
pub struct BoundedText<'a> {
    out: &'a mut String,
    /// Where this value starts in `out`.
    start: usize,
    limit: usize,
    total: usize,
}

impl<'a> BoundedText<'a> {
    /// A writer appending at most `limit` bytes to `out`.
    pub fn append_to(out: &'a mut String, limit: usize) -> Self {
        let start = out.len();
        BoundedText {
            out,
            start,
            limit,
            total: 0,
        }
    }

    /// Appends `value` formatted with `Display`, bounded.
    pub fn append_display(out: &mut String, value: &dyn fmt::Display, limit: usize) {
        let mut writer = BoundedText::append_to(out, limit);
        // Our writer never fails; a failing Display impl leaves what it wrote so far.
        let _ = write!(writer, "{value}");
        writer.finish();
    }

    /// Appends `value` formatted with `Debug`, bounded.
    pub fn append_debug(out: &mut String, value: &dyn fmt::Debug, limit: usize) {
        let mut writer = BoundedText::append_to(out, limit);
        let _ = write!(writer, "{value:?}");
        writer.finish();
    }

    /// Appends `value`, bounded.
    pub fn append_str(out: &mut String, value: &str, limit: usize) {
        if value.len() <= limit {
            // The common case, without the writer.
            return out.push_str(value);
        }
        let mut writer = BoundedText::append_to(out, limit);
        let _ = writer.write_str(value);
        writer.finish();
    }

    /// Copies `value`, bounded.
    pub fn copy(value: &str, limit: usize) -> String {
        let mut out = String::with_capacity(value.len().min(limit));
        BoundedText::append_str(&mut out, value, limit);
        out
    }

    fn written(&self) -> usize {
        self.out.len() - self.start
    }

    /// Adds the marker if the value was cut.
    pub fn finish(self) {
        if self.total > self.written() {
            let _ = write!(self.out, "…[truncated: {} bytes in all]", self.total);
        }
    }
}

impl fmt::Write for BoundedText<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.total = self.total.saturating_add(s.len());
        let room = self.limit.saturating_sub(self.written());
        if room == 0 {
            return Ok(());
        }
        if s.len() <= room {
            self.out.push_str(s);
        } else {
            // Stop at the last character boundary that fits; the rest only counts.
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push_str(&s[..end]);
            // A later, shorter write must not slip in after the cut.
            self.limit = self.written();
        }
        Ok(())
    }
}

/// Whether a captured text was cut at the value size limit (it ends with the truncation marker).
pub fn is_truncated(text: &str) -> bool {
    text.ends_with(" bytes in all]") && text.contains("…[truncated: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(value: &dyn fmt::Display, limit: usize) -> String {
        let mut out = String::new();
        BoundedText::append_display(&mut out, value, limit);
        out
    }

    #[test]
    fn short_values_are_kept_whole() {
        assert_eq!(BoundedText::copy("hello", 16), "hello");
        assert_eq!(display(&42, 16), "42");
        assert!(!is_truncated("hello"));
    }

    #[test]
    fn long_values_are_cut_and_marked() {
        let big = "x".repeat(1 << 20);
        let cut = BoundedText::copy(&big, 16);
        assert_eq!(
            cut,
            format!("{}…[truncated: {} bytes in all]", "x".repeat(16), 1 << 20)
        );
        assert!(is_truncated(&cut));
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        // 'é' is two bytes: a limit of 3 keeps one 'é' and never half of the second.
        let cut = BoundedText::copy("éé", 3);
        assert!(cut.starts_with("é…"), "{cut}");
        let cut = display(&"日本語", 4);
        assert!(cut.starts_with("日…"), "{cut}");
    }

    #[test]
    fn a_short_write_after_the_cut_is_not_appended() {
        struct Pieces;
        impl fmt::Display for Pieces {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("abcé")?;
                f.write_str("z")
            }
        }
        // "abc" fits, 'é' does not, and "z" must not follow it.
        assert!(display(&Pieces, 4).starts_with("abc…"));
    }

    #[test]
    fn appended_values_are_bounded_one_by_one() {
        let mut buffer = String::from("before|");
        BoundedText::append_str(&mut buffer, "0123456789", 4);
        buffer.push('|');
        BoundedText::append_display(&mut buffer, &42, 4);
        assert_eq!(buffer, "before|0123…[truncated: 10 bytes in all]|42");
    }

    #[test]
    fn non_finite_floats_become_strings() {
        let json =
            serde_json::to_string(&[FieldValue::F64(f64::NAN), FieldValue::F64(1.5)]).unwrap();
        assert_eq!(json, r#"["NaN",1.5]"#);
    }
}
