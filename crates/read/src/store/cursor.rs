//! Where a page ended, as an opaque text handed to readers.
//!
//! Over files, a position in the log's files: the file (named by the id of its first record,
//! which a rotation does not change), the byte range of the last record returned, and that
//! record's id, checked when the cursor is used. Over a database, the key the rows are ordered
//! by: the last record's time and id. Paging from either while the log grows or rotates neither
//! repeats nor skips a record: the records before and after a position stay where they are.

use std::fmt;
use std::str::FromStr;

/// Where a page ended. Its text form is opaque: print it, hand it back, do not build one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub(crate) at: Position,
    /// The id of the last record returned.
    pub(crate) id: String,
}

/// Where the last record returned is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Position {
    /// In a file of the log: the id of the file's first record, and the record's byte range.
    File { file: String, start: u64, end: u64 },
    /// In a table ordered by (timestamp, id): the record's time in microseconds.
    Keyset { micros: i64 },
}

impl Cursor {
    pub(crate) fn in_file(file: String, start: u64, end: u64, id: String) -> Self {
        Cursor {
            at: Position::File { file, start, end },
            id,
        }
    }

    /// The file position, for a cursor of the file store.
    pub(crate) fn file_position(&self) -> Option<(&str, u64, u64)> {
        match &self.at {
            Position::File { file, start, end } => Some((file, *start, *end)),
            Position::Keyset { .. } => None,
        }
    }
}

/// A cursor text that is not one this store handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor of this log")]
pub struct BadCursor;

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = match &self.at {
            Position::File { file, start, end } => format!("1|{file}|{start}|{end}|{}", self.id),
            Position::Keyset { micros } => format!("2|{micros}|{}", self.id),
        };
        f.write_str(&crate::hex::encode(plain.as_bytes()))
    }
}

impl FromStr for Cursor {
    type Err = BadCursor;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = crate::hex::decode(text).ok_or(BadCursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| BadCursor)?;
        let parts: Vec<&str> = plain.split('|').collect();
        let cursor = match parts.as_slice() {
            ["1", file, start, end, id] => {
                let start: u64 = start.parse().map_err(|_| BadCursor)?;
                let end: u64 = end.parse().map_err(|_| BadCursor)?;
                if end <= start {
                    return Err(BadCursor);
                }
                Cursor::in_file((*file).to_owned(), start, end, (*id).to_owned())
            }
            ["2", micros, id] => Cursor {
                at: Position::Keyset {
                    micros: micros.parse().map_err(|_| BadCursor)?,
                },
                id: (*id).to_owned(),
            },
            _ => return Err(BadCursor),
        };
        if cursor.id.is_empty() {
            return Err(BadCursor);
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_prints_and_parses_back() {
        let cursor = Cursor::in_file(
            "0193a1b2-0000-7000-8000-000000000001".into(),
            1024,
            1800,
            "0193a1b2-0000-7000-8000-000000000009".into(),
        );
        assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
        let keyset = Cursor {
            at: Position::Keyset {
                micros: 1_764_000_000_123_456,
            },
            id: "0193a1b2-0000-7000-8000-000000000009".into(),
        };
        assert_eq!(keyset.to_string().parse::<Cursor>(), Ok(keyset));
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
