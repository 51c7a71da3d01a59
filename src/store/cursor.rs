//! Where a page ended, as an opaque text handed to readers.
//!
//! A position in the log's files: the file (named by the id of its first record, which a
//! rotation does not change), the byte range of the last record returned, and that record's id,
//! checked when the cursor is used. Paging from it while the log grows or rotates neither
//! repeats nor skips a record: the records before and after a position stay where they are.

use std::fmt;
use std::str::FromStr;

/// Where a page ended. Its text form is opaque: print it, hand it back, do not build one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) file: String,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) id: String,
}

/// A cursor text that is not one this store handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor of this log")]
pub struct BadCursor;

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = format!("1|{}|{}|{}|{}", self.file, self.start, self.end, self.id);
        f.write_str(&crate::hex::encode(plain.as_bytes()))
    }
}

impl FromStr for Cursor {
    type Err = BadCursor;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = crate::hex::decode(text).ok_or(BadCursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| BadCursor)?;
        let mut parts = plain.split('|');
        let (Some("1"), Some(file), Some(start), Some(end), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(BadCursor);
        };
        let start: u64 = start.parse().map_err(|_| BadCursor)?;
        let end: u64 = end.parse().map_err(|_| BadCursor)?;
        if end <= start || id.is_empty() {
            return Err(BadCursor);
        }
        Ok(Cursor {
            file: file.to_owned(),
            start,
            end,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_prints_and_parses_back() {
        let cursor = Cursor {
            file: "0193a1b2-0000-7000-8000-000000000001".into(),
            start: 1024,
            end: 1800,
            id: "0193a1b2-0000-7000-8000-000000000009".into(),
        };
        assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
        for bad in [
            "",
            "zz",
            "31",
            &crate::hex::encode(b"1|f|9|3|id"),
            "7c7c7c7c",
        ] {
            assert_eq!(bad.parse::<Cursor>(), Err(BadCursor), "{bad}");
        }
    }
}
