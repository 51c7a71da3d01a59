//! RFC 3161 time-stamps of checkpoints (feature `timestamp`): a time-stamping authority signs the
//! SHA-256 of each checkpoint's message with the time, so that a checkpoint can be shown to
//! have existed then, whoever holds the signing key later.
//!
//! The file sink asks the authority at [`CheckpointConfig::timestamp_authority`] when it signs
//! a checkpoint (HTTP POST of a `TimeStampReq`, 5 s at most) and stores the token, base64 DER,
//! as `checkpoint.timestamp_token`; when the authority cannot answer, the checkpoint says why in
//! `checkpoint.timestamp_error`, the log goes on, and the authority is not asked again for a
//! minute (so one that hangs costs the writer 5 s a minute, not 5 s a checkpoint). Verification checks each token against
//! the authority's certificate ([`TsaCertificate`], `security-log verify --tsa-cert FILE`).
//!
//! ```no_run
//! use tracing_security_events::integrity::{verify_with, VerifyOptions};
//! use tracing_security_events::timestamp::TsaCertificate;
//!
//! let tsa = TsaCertificate::from_pem(&std::fs::read("/etc/myapp/tsa.crt")?)?;
//! let options = VerifyOptions::new().with_timestamps(std::sync::Arc::new(tsa));
//! let report = verify_with("/var/log/myapp", &options)?;
//! println!("{} checkpoints time-stamped", report.timestamps);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`CheckpointConfig::timestamp_authority`]: crate::sink::CheckpointConfig::timestamp_authority

use std::time::Duration;

use base64::Engine as _;
use cmpv2::status::PkiStatus;
use cms::cert::x509::spki::AlgorithmIdentifier;
use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509;
use sha2::{Digest, Sha256};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use crate::integrity::TimestampCheck;

/// The OID of SHA-256, the hash every request names.
const SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// How long a request to the authority may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How long after a failed request the authority is not asked again: the writer waits for a
/// request, and an authority that hangs must not make it wait at every checkpoint.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// A time-stamping authority the file sink asks.
pub(crate) struct TimestampAuthority {
    url: String,
    client: reqwest::blocking::Client,
    /// Not asked again before this, after a failure.
    quiet_until: std::cell::Cell<Option<std::time::Instant>>,
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TimestampAuthority {
    pub(crate) fn new(url: &str) -> std::io::Result<Self> {
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(TimestampAuthority {
            url: url.to_owned(),
            client,
            quiet_until: std::cell::Cell::new(None),
        })
    }

    /// A token for `message`: the authority's `TimeStampToken`, base64 DER. After a failure
    /// the authority is left alone for a minute (the checkpoints of that minute say so).
    pub(crate) fn stamp(&self, message: &[u8]) -> Result<String, String> {
        let now = std::time::Instant::now();
        if let Some(until) = self.quiet_until.get().filter(|&until| now < until) {
            return Err(format!(
                "not asked: the authority failed {}s ago",
                (RETRY_AFTER - (until - now)).as_secs()
            ));
        }
        let result = self.request(message);
        self.quiet_until
            .set(result.is_err().then(|| now + RETRY_AFTER));
        result
    }

    fn request(&self, message: &[u8]) -> Result<String, String> {
        let mut nonce = [0_u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| e.to_string())?;
        nonce[0] &= 0x7f; // a positive INTEGER
        let request = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: imprint(message)?,
            req_policy: None,
            nonce: Some(Int::new(&nonce).map_err(|e| e.to_string())?),
            cert_req: true,
            extensions: None,
        };
        let body = request.to_der().map_err(|e| e.to_string())?;
        let reply = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .body(body)
            .send()
            .map_err(|e| format!("{}: {e}", self.url))?;
        if !reply.status().is_success() {
            return Err(format!("{} answered {}", self.url, reply.status()));
        }
        let bytes = reply.bytes().map_err(|e| e.to_string())?;
        let response = TimeStampResp::from_der(&bytes)
            .map_err(|e| format!("not a time-stamp response: {e}"))?;
        let status = response.status.status;
        if !matches!(status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
            return Err(format!("the authority refused the request ({status:?})"));
        }
        let token = response
            .time_stamp_token
            .ok_or("a granted response without a token")?;
        let token = token.to_der().map_err(|e| e.to_string())?;
        if token_info(&token)?.nonce != request.nonce {
            return Err("the token answers another request (its nonce differs)".to_owned());
        }
        Ok(base64::engine::general_purpose::STANDARD.encode(token))
    }
}

/// What a request names: SHA-256, and the hash of `message`.
fn imprint(message: &[u8]) -> Result<MessageImprint, String> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier {
            oid: SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(Sha256::digest(message).to_vec())
            .map_err(|e| e.to_string())?,
    })
}

/// The `TSTInfo` inside a token, unverified.
fn token_info(token: &[u8]) -> Result<TstInfo, String> {
    let content = cms::content_info::ContentInfo::from_der(token).map_err(|e| e.to_string())?;
    let signed: cms::signed_data::SignedData =
        content.content.decode_as().map_err(|e| e.to_string())?;
    let info: OctetString = signed
        .encap_content_info
        .econtent
        .ok_or("a token without its content")?
        .decode_as()
        .map_err(|e| e.to_string())?;
    TstInfo::from_der(info.as_bytes()).map_err(|e| e.to_string())
}

/// The certificate of a time-stamping authority, trusted to check its tokens.
pub struct TsaCertificate {
    certificate: X509,
}

impl std::fmt::Debug for TsaCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaCertificate")
            .field("subject", &self.certificate.subject_name())
            .finish()
    }
}

impl TsaCertificate {
    /// The authority's certificate, PEM.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        X509::from_pem(pem)
            .map(|certificate| TsaCertificate { certificate })
            .map_err(|e| format!("not a PEM certificate: {e}"))
    }
}

impl TimestampCheck for TsaCertificate {
    fn check(&self, message: &[u8], token: &str) -> Result<String, String> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|e| format!("the token is not base64: {e}"))?;
        let mut content =
            CmsContentInfo::from_der(&der).map_err(|e| format!("not a token: {e}"))?;
        let mut signers = Stack::new().map_err(|e| e.to_string())?;
        signers
            .push(self.certificate.clone())
            .map_err(|e| e.to_string())?;
        let store = X509StoreBuilder::new().map_err(|e| e.to_string())?.build();
        let mut signed = Vec::new();
        // The signer must be the certificate given, which is trusted as given.
        content
            .verify(
                Some(&signers),
                Some(&store),
                None,
                Some(&mut signed),
                CMSOptions::NOINTERN | CMSOptions::NO_SIGNER_CERT_VERIFY,
            )
            .map_err(|_| "its signature does not verify under the authority's certificate")?;
        let info = TstInfo::from_der(&signed).map_err(|e| e.to_string())?;
        let expected = imprint(message)?;
        if info.message_imprint.hash_algorithm.oid != SHA256
            || info.message_imprint.hashed_message != expected.hashed_message
        {
            return Err("it stamps another message".to_owned());
        }
        Ok(info.gen_time.to_date_time().to_string())
    }
}
