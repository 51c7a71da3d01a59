//! The table's name, checked before it is written into SQL, and a database URL as it may be
//! shown (without its password).

use super::PostgresError;

/// The table's default name.
pub const DEFAULT_TABLE: &str = "security_events";

/// The table name, checked: it is written into SQL (names cannot be bind parameters).
pub fn check_table_name(table: &str) -> Result<(), PostgresError> {
    let bytes = table.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 50
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    if ok {
        Ok(())
    } else {
        Err(PostgresError::BadTable(table.to_owned()))
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
pub fn redacted_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((credentials, host)) = rest.rsplit_once('@') {
            let user = credentials.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
        return url.to_owned();
    }
    // The key-value form: hide `password=...`.
    url.split_whitespace()
        .map(|pair| {
            if pair.starts_with("password=") {
                "password=***"
            } else {
                pair
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for good in ["security_events", "audit_2026", "_x"] {
            assert!(check_table_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1x",
            "Security",
            "a-b",
            "x; drop table y",
            "a\"b",
            &"a".repeat(51),
        ] {
            assert!(check_table_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redacted_url("postgres://app:s3cret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            redacted_url("host=db user=app password=s3cret"),
            "host=db user=app password=***"
        );
    }
}
