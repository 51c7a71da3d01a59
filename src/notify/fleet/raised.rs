//! The windows a fleet raised: one row per detection window, so a window is raised once whoever
//! evaluates it.

use postgres::Client;
use sha2::{Digest, Sha256};

use super::streams::time_of;
use crate::notify::detection::Finding;

/// Microseconds since 1970 of `at`.
fn micros(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_micros()
}

/// The group's key as stored: a hash, so that any value (NUL, megabytes) fits and none is
/// kept in clear beside the log.
fn key_hash(key: &str) -> String {
    crate::hex::encode(&Sha256::digest(key.as_bytes()))
}

/// Records `finding`'s window unless one of the same detection and group already covers its
/// time; true when it is new (and its record is to be written).
pub(super) fn claim(
    client: &mut Client,
    table: &str,
    scope: &str,
    finding: &Finding,
) -> Result<bool, postgres::Error> {
    let statement = format!(
        "INSERT INTO {table}_raised (scope, detection, key_hash, first_at, quiet_until) \
         SELECT $1, $2, $3, {first}, {until} \
         WHERE NOT EXISTS (SELECT 1 FROM {table}_raised WHERE scope = $1 AND detection = $2 \
             AND key_hash = $3 AND first_at <= {last} AND quiet_until > {last}) \
         ON CONFLICT DO NOTHING",
        first = time_of("$4"),
        until = time_of("$5"),
        last = time_of("$6"),
    );
    let inserted = client.execute(
        &statement,
        &[
            &scope,
            &finding.detection,
            &key_hash(&finding.key),
            &micros(finding.first_at),
            &micros(finding.quiet_until),
            &micros(finding.last_at),
        ],
    )?;
    Ok(inserted == 1)
}

/// Forgets windows that ended before `before` (microseconds): nothing read again reaches them.
pub(super) fn forget(
    client: &mut Client,
    table: &str,
    scope: &str,
    before: i64,
) -> Result<u64, postgres::Error> {
    client.execute(
        &format!(
            "DELETE FROM {table}_raised WHERE scope = $1 AND quiet_until < {}",
            time_of("$2")
        ),
        &[&scope, &before],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_as_fixed_size_hashes() {
        let hash = key_hash("acme\u{0}203.0.113.7");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, key_hash("acme\u{0}203.0.113.8"));
    }
}
