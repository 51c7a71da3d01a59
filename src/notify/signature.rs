//! The webhook signature: `Security-Log-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key,
//! t + "." + body)>`, so a receiver can reject forged bodies and, by the time, replays.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Security-Log-Signature";

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
///
/// ```
/// use tracing_security_events::notify::{sign, verify_signature};
/// use std::time::Duration;
///
/// let body = br#"{"rule":"admin granted","severity":"alert","suppressed":0,"record":{}}"#;
/// let header = sign(b"the shared key", 1_764_000_000, body);
/// assert!(header.starts_with("t=1764000000,v1="));
/// let now = 1_764_000_030;
/// assert!(verify_signature(b"the shared key", &header, body, now, Duration::from_secs(300)).is_ok());
/// assert!(verify_signature(b"another key", &header, body, now, Duration::from_secs(300)).is_err());
/// ```
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(key, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", crate::hex::encode(&tag))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is not `t=<seconds>,v1=<hex>`.
    #[error("the signature header is not t=<unix seconds>,v1=<hex>")]
    Malformed,
    /// The time is further from now than the tolerance: a replay, or a clock far off.
    #[error("the signature's time is {0} s from now, more than allowed")]
    Stale(u64),
    /// The body or the key is not the one signed.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a signature header for `body` received at `now` (Unix seconds), allowing its time to
/// be `tolerance` away: what a receiver written in Rust does (the comparison is constant-time).
pub fn verify_signature(
    key: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => {
                tags.push(crate::hex::decode(hex).ok_or(SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let off = now.abs_diff(timestamp);
    if off > tolerance.as_secs() {
        return Err(SignatureError::Stale(off));
    }
    // Any of the tags may match (a receiver rotating keys sees two).
    let matches = tags
        .iter()
        .any(|tag| mac(key, timestamp, body).verify_slice(tag).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(key: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_replayed_and_malformed_signatures_are_refused() {
        let key = b"k";
        let body = b"{\"rule\":\"x\"}";
        let header = sign(key, 1000, body);
        let five_minutes = Duration::from_secs(300);
        assert_eq!(
            verify_signature(key, &header, body, 1100, five_minutes),
            Ok(())
        );
        assert_eq!(
            verify_signature(key, &header, b"{\"rule\":\"y\"}", 1100, five_minutes),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(key, &header, body, 2000, five_minutes),
            Err(SignatureError::Stale(1000))
        );
        let moved = header.replace("t=1000", "t=1001");
        assert_eq!(
            verify_signature(key, &moved, body, 1100, five_minutes),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "v1=00", "t=x,v1=00", "t=1000", "t=1000,v1=zz"] {
            assert_eq!(
                verify_signature(key, bad, body, 1100, five_minutes),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        // The HMAC of "1000.{body}" under "k", computed independently.
        let expected = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"k").unwrap();
            mac.update(b"1000.{\"rule\":\"x\"}");
            crate::hex::encode(&mac.finalize().into_bytes())
        };
        assert_eq!(header, format!("t=1000,v1={expected}"));
    }
}
