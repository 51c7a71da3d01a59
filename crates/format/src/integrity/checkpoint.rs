//! A checkpoint: a record that signs the tip of the chain, so that a log rewritten by someone
//! without the signing key, or cut short, no longer matches what was signed and shipped.
//!
//! The checkpoint's fields live under the record's `fields` (`checkpoint.number`, ...); what is
//! signed is [`Checkpoint::message`], a fixed text form of those fields and of the record's own
//! `id` and `seq`, so that a checkpoint copied to another place in the log no longer verifies.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::forms::OutputForm;
use crate::value::FieldValue;

/// The event name of a checkpoint record.
pub const CHECKPOINT_EVENT: &str = "audit.checkpoint";

/// The names of a checkpoint's fields, under the record's `fields`.
pub mod field {
    /// The log's active file name (`security.jsonl`): which log the checkpoint signs.
    pub const LOG: &str = "checkpoint.log";
    /// 1 for a log's first checkpoint, then one more each time.
    pub const NUMBER: &str = "checkpoint.number";
    /// The `seq` of the last record written before the checkpoint (0: none yet).
    pub const TIP_SEQ: &str = "checkpoint.tip_seq";
    /// The chain hash of that record.
    pub const TIP_HASH: &str = "checkpoint.tip_hash";
    /// Records written since the previous checkpoint, its own record included.
    pub const RECORDS: &str = "checkpoint.records";
    /// [`Checkpoint::digest`](super::Checkpoint::digest) of the previous checkpoint (64 zeros for the first).
    pub const PREVIOUS: &str = "checkpoint.previous";
    /// The key epoch that signed it.
    pub const EPOCH: &str = "checkpoint.epoch";
    /// That epoch's public key (hex).
    pub const PUBLIC_KEY: &str = "checkpoint.public_key";
    /// The previous epoch's signature over this epoch's key (absent for epoch 0).
    pub const KEY_CERTIFICATE: &str = "checkpoint.key_certificate";
    /// The Ed25519 signature of [`Checkpoint::message`](super::Checkpoint::message) (hex).
    pub const SIGNATURE: &str = "checkpoint.signature";
    /// Written instead of the above when no sink could sign the checkpoint (after a
    /// reconfiguration removed the file sink that keeps checkpoints).
    pub const UNAVAILABLE: &str = "checkpoint.unavailable";
    /// An RFC 3161 time-stamp token over the SHA-256 of the message (base64 DER), when an
    /// authority is configured.
    pub const TIMESTAMP_TOKEN: &str = "checkpoint.timestamp_token";
    /// Why the authority gave no token this time.
    pub const TIMESTAMP_ERROR: &str = "checkpoint.timestamp_error";
    /// The form the signed log is written in, when not native (`ecs`, `ocsf`): a copy of the
    /// checkpoint in a log of another form is of another chain.
    pub const FORM: &str = "checkpoint.form";
}

/// Digests and hashes in a checkpoint: 64 zeros where there is none.
pub const NO_DIGEST: &str = super::chain::GENESIS;

/// What a checkpoint attests, as read from (or written into) its record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The log's active file name.
    pub log: String,
    /// The record's `service.instance` ("" when none).
    pub instance: String,
    /// 1 for the first, then one more each time.
    pub number: u64,
    /// The checkpoint record's own `id`.
    pub id: String,
    /// The checkpoint record's own `seq`.
    pub seq: u64,
    /// The `seq` of the last record before it (0: none yet).
    pub tip_seq: u64,
    /// The chain hash of that record.
    pub tip_hash: String,
    /// Records since the previous checkpoint, that checkpoint's own record included.
    pub records: u64,
    /// The digest of the previous checkpoint, [`NO_DIGEST`] for the first.
    pub previous: String,
    /// The key epoch.
    pub epoch: u64,
    /// The epoch's public key (hex).
    pub public_key: String,
    /// The previous epoch's signature over this epoch's key; `None` for epoch 0.
    pub key_certificate: Option<String>,
    /// The signature of [`message`](Self::message) (hex); empty until signed.
    pub signature: String,
    /// An authority's time-stamp token over the message (base64 DER), outside what is signed.
    pub timestamp_token: Option<String>,
    /// The form of the signed log's lines (signed when not native).
    pub form: OutputForm,
}

impl Checkpoint {
    /// A checkpoint of the record `id`/`seq`, to be signed; `signature` empty.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    pub fn unsigned(
        log: String,
        instance: String,
        number: u64,
        (id, seq): (String, u64),
        (tip_seq, tip_hash): (u64, String),
        records: u64,
        previous: String,
        (epoch, public_key, key_certificate): (u64, String, Option<String>),
    ) -> Self {
        Checkpoint {
            log,
            instance,
            number,
            id,
            seq,
            tip_seq,
            tip_hash,
            records,
            previous,
            epoch,
            public_key,
            key_certificate,
            signature: String::new(),
            timestamp_token: None,
            form: OutputForm::Native,
        }
    }

    /// The text that is signed: every field but the signature, one per line, strings as JSON
    /// strings so that no value can run into the next line.
    pub fn message(&self) -> Vec<u8> {
        let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut message = format!(
            "tracing-security-events checkpoint 1\nlog {}\ninstance {}\nnumber {}\nid {}\nseq {}\n\
             tip {} {}\nrecords {}\nprevious {}\nepoch {}\npublic_key {}\n",
            text(&self.log),
            text(&self.instance),
            self.number,
            text(&self.id),
            self.seq,
            self.tip_seq,
            text(&self.tip_hash),
            self.records,
            text(&self.previous),
            self.epoch,
            text(&self.public_key),
        )
        .into_bytes();
        // Native checkpoints sign what they signed before forms existed.
        if self.form != OutputForm::Native {
            message.extend_from_slice(format!("form {}\n", self.form).as_bytes());
        }
        message
    }

    /// SHA-256 of the message and the signature (hex): what the next checkpoint names as
    /// `previous`.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.message());
        hasher.update(self.signature.as_bytes());
        crate::hex::encode(&hasher.finalize())
    }

    /// Whether `signature` is this checkpoint's message signed by `key`.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        verify_hex_signature(key, &self.message(), &self.signature)
    }

    /// The fields the writer puts in the record.
    #[doc(hidden)]
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut fields = vec![
            (field::LOG, FieldValue::Str(self.log.clone())),
            (field::NUMBER, FieldValue::U64(self.number)),
            (field::TIP_SEQ, FieldValue::U64(self.tip_seq)),
            (field::TIP_HASH, FieldValue::Str(self.tip_hash.clone())),
            (field::RECORDS, FieldValue::U64(self.records)),
            (field::PREVIOUS, FieldValue::Str(self.previous.clone())),
            (field::EPOCH, FieldValue::U64(self.epoch)),
            (field::PUBLIC_KEY, FieldValue::Str(self.public_key.clone())),
        ];
        if let Some(certificate) = &self.key_certificate {
            fields.push((field::KEY_CERTIFICATE, FieldValue::Str(certificate.clone())));
        }
        fields.push((field::SIGNATURE, FieldValue::Str(self.signature.clone())));
        if let Some(token) = &self.timestamp_token {
            fields.push((field::TIMESTAMP_TOKEN, FieldValue::Str(token.clone())));
        }
        if self.form != OutputForm::Native {
            fields.push((field::FORM, FieldValue::Str(self.form.to_string())));
        }
        fields
    }

    /// The checkpoint a record (parsed JSON) carries: `Ok(None)` when the record is no
    /// checkpoint, `Err` naming what is missing when it is one that cannot be read.
    pub fn from_record(record: &Value) -> Result<Option<Checkpoint>, String> {
        if record.pointer("/event/name").and_then(Value::as_str) != Some(CHECKPOINT_EVENT) {
            return Ok(None);
        }
        let fields = record.get("fields").and_then(Value::as_object);
        let get = |name: &str| fields.and_then(|f| f.get(name));
        if fields.is_some_and(|f| f.contains_key(field::UNAVAILABLE)) {
            return Ok(None);
        }
        let text = |name: &str| -> Result<String, String> {
            get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("a checkpoint without {name}"))
        };
        let number = |name: &str| -> Result<u64, String> {
            get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("a checkpoint without {name}"))
        };
        Ok(Some(Checkpoint {
            log: text(field::LOG)?,
            instance: record
                .pointer("/service/instance")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            number: number(field::NUMBER)?,
            id: record
                .get("id")
                .and_then(Value::as_str)
                .ok_or("a checkpoint record without an id")?
                .to_owned(),
            seq: record
                .get("seq")
                .and_then(Value::as_u64)
                .ok_or("a checkpoint record without a seq")?,
            tip_seq: number(field::TIP_SEQ)?,
            tip_hash: text(field::TIP_HASH)?,
            records: number(field::RECORDS)?,
            previous: text(field::PREVIOUS)?,
            epoch: number(field::EPOCH)?,
            public_key: text(field::PUBLIC_KEY)?,
            key_certificate: get(field::KEY_CERTIFICATE)
                .and_then(Value::as_str)
                .map(str::to_owned),
            signature: text(field::SIGNATURE)?,
            timestamp_token: get(field::TIMESTAMP_TOKEN)
                .and_then(Value::as_str)
                .map(str::to_owned),
            form: match get(field::FORM) {
                None => OutputForm::Native,
                Some(form) => form
                    .as_str()
                    .and_then(|form| form.parse().ok())
                    .ok_or_else(|| format!("a checkpoint of an unknown form {form}"))?,
            },
        }))
    }
}

/// The text an epoch's key is certified with, by the key of the epoch before.
#[doc(hidden)]
pub fn key_message(epoch: u64, public_key: &str) -> Vec<u8> {
    format!("tracing-security-events epoch key 1\nepoch {epoch}\npublic_key {public_key}\n")
        .into_bytes()
}

/// Whether `signature` (hex) is `message` signed by `key`.
#[doc(hidden)]
pub fn verify_hex_signature(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    let Some(bytes) = crate::hex::decode(signature).and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&bytes)).is_ok()
}

/// Checks an RFC 3161 time-stamp token: that it stamps `message` (its SHA-256) and is signed by
/// the authority trusted; the time it gives, as text. The facade's `timestamp` feature has one
/// over an authority's certificate (`TsaCertificate`).
pub trait TimestampCheck: Send + Sync {
    /// `Ok(time)` when `token` (base64 DER) is a valid stamp of `message`; why not otherwise.
    fn check(&self, message: &[u8], token: &str) -> Result<String, String>;
}

/// A public key as `security-log keygen` prints it (64 hex digits).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = crate::hex::decode(text.trim())?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(bytes).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::EpochKey;

    fn sample(key: &EpochKey) -> Checkpoint {
        let mut checkpoint = Checkpoint::unsigned(
            "security.jsonl".into(),
            "host-1".into(),
            3,
            ("0193-id".into(), 43),
            (42, "ab".repeat(32)),
            10,
            NO_DIGEST.into(),
            (key.epoch(), key.public_key(), None),
        );
        checkpoint.signature = key.sign(&checkpoint.message());
        checkpoint
    }

    #[test]
    fn a_signed_checkpoint_reads_back_from_its_record_and_verifies() {
        let key = EpochKey::from_seed(0, [7; 32], None);
        let checkpoint = sample(&key);
        let fields: serde_json::Map<String, Value> = checkpoint
            .fields()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), serde_json::to_value(&value).unwrap()))
            .collect();
        let record = serde_json::json!({
            "id": "0193-id", "seq": 43, "event": {"name": CHECKPOINT_EVENT},
            "service": {"instance": "host-1"}, "fields": fields,
        });
        let read = Checkpoint::from_record(&record).unwrap().unwrap();
        assert_eq!(read, checkpoint);
        let public = parse_public_key(&key.public_key()).unwrap();
        assert!(read.is_signed_by(&public));
    }

    #[test]
    fn any_change_to_what_is_signed_breaks_the_signature() {
        let key = EpochKey::from_seed(0, [7; 32], None);
        let public = parse_public_key(&key.public_key()).unwrap();
        let checkpoint = sample(&key);
        let changes: [fn(&mut Checkpoint); 6] = [
            |c| c.seq += 1,
            |c| c.tip_seq -= 1,
            |c| c.tip_hash = "cd".repeat(32),
            |c| c.number += 1,
            |c| c.id.push('x'),
            |c| c.log = "other.jsonl".into(),
        ];
        for change in changes {
            let mut changed = checkpoint.clone();
            change(&mut changed);
            assert!(!changed.is_signed_by(&public));
        }
        let other = EpochKey::from_seed(0, [8; 32], None);
        assert!(!checkpoint.is_signed_by(&parse_public_key(&other.public_key()).unwrap()));
    }

    #[test]
    fn other_records_are_not_checkpoints() {
        let record = serde_json::json!({"event": {"name": "user.created"}});
        assert_eq!(Checkpoint::from_record(&record), Ok(None));
        let half = serde_json::json!({"event": {"name": CHECKPOINT_EVENT}, "fields": {}});
        assert!(Checkpoint::from_record(&half).is_err());
    }
}
