//! The file sink's signer: when a checkpoint is due, what it signs, and the key's epochs.

use std::fs::File;
use std::io;
use std::time::Instant;

use crate::integrity::chain::unseal;
use crate::integrity::checkpoint::{key_message, NO_DIGEST};
use crate::integrity::{parse_public_key, Checkpoint, EpochKey, CHECKPOINT_EVENT};
use crate::log_files::LogName;
use crate::record::SecurityRecord;
use crate::value::FieldValue;

use super::config::CheckpointConfig;
use super::recovery::last_sealed_line_with;

/// The signing state of one log.
pub(super) struct Checkpointer {
    config: CheckpointConfig,
    key: EpochKey,
    epoch_started: Instant,
    /// The log's active file name, which checkpoints name.
    log: String,
    /// The number and digest of the last checkpoint (0 and no digest before the first).
    number: u64,
    previous: String,
    /// Records written since the last checkpoint, its own record included.
    records_since: u64,
    /// Records written that no checkpoint covers yet, and since when.
    unsigned: u64,
    unsigned_since: Option<Instant>,
    /// A checkpoint is wanted now (a rotation, the shutdown), whatever the counts say.
    wanted: bool,
    /// A checkpoint was asked of the worker and has not been signed yet.
    requested: bool,
    /// The key evolves once the checkpoint just signed is written.
    evolve_after_write: bool,
    /// The next record written is the checkpoint just signed, which needs no signing itself.
    own_record_next: bool,
    /// The key moved to a new epoch, which an `audit.key_rotated` record is to announce.
    rotated: bool,
    #[cfg(feature = "timestamp")]
    authority: Option<crate::timestamp::TimestampAuthority>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("key_file", &self.config.key_file)
            .field("epoch", &self.key.epoch())
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

/// The checkpoint a sealed line holds, in whichever form it is written; `Ok(None)` for any
/// other record.
fn checkpoint_in(line: &[u8]) -> Result<Option<Checkpoint>, String> {
    let Some(sealed) = unseal(line) else {
        return Ok(None);
    };
    let record = serde_json::from_slice(&sealed.record)
        .map_err(|e| format!("the log's last checkpoint cannot be read: {e}"))?;
    Checkpoint::from_record(&crate::forms::read_view(record))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl Checkpointer {
    /// Loads the key and picks up the log's last checkpoint, in the active file or the newest
    /// rotated file that has one.
    pub(super) fn open(
        config: CheckpointConfig,
        log: &LogName,
        active: &mut File,
        log_name: String,
    ) -> io::Result<Self> {
        let mut key = EpochKey::load(&config.key_file).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("checkpoint key {}: {e}", config.key_file.display()),
            )
        })?;
        // The event's name as any form writes it; a value holding the same text is not taken
        // for a checkpoint.
        let needle = format!("\"{CHECKPOINT_EVENT}\"");
        let accept = |line: &[u8]| !matches!(checkpoint_in(line), Ok(None));
        let (mut found, mut after) = last_sealed_line_with(active, needle.as_bytes(), accept)?;
        if found.is_none() {
            for (path, _) in log.rotated_files()?.into_iter().rev() {
                let (line, lines) =
                    last_sealed_line_with(&mut File::open(path)?, needle.as_bytes(), accept)?;
                after += lines;
                if line.is_some() {
                    found = line;
                    break;
                }
            }
        }
        let last = match found.as_deref() {
            Some(line) => checkpoint_in(line).map_err(invalid)?,
            None => None,
        };
        let (number, previous, records_since) = match &last {
            Some(last) => {
                key = reconcile(key, last, &config)?;
                (last.number, last.digest(), after + 1)
            }
            None if key.epoch() > 0 => {
                return Err(invalid(format!(
                    "checkpoint key {} has signed another log (it is at epoch {}): make a key \
                     for this log with `security-log keygen`",
                    config.key_file.display(),
                    key.epoch()
                )))
            }
            None => (0, NO_DIGEST.to_owned(), 0),
        };
        #[cfg(feature = "timestamp")]
        let authority = config
            .timestamp_authority
            .as_deref()
            .map(crate::timestamp::TimestampAuthority::new)
            .transpose()?;
        Ok(Checkpointer {
            config,
            key,
            epoch_started: Instant::now(),
            log: log_name,
            number,
            previous,
            records_since,
            unsigned: after,
            unsigned_since: (after > 0).then(Instant::now),
            wanted: false,
            requested: false,
            evolve_after_write: false,
            own_record_next: false,
            rotated: false,
            #[cfg(feature = "timestamp")]
            authority,
        })
    }

    /// `records` more were written.
    pub(super) fn wrote(&mut self, records: u64) {
        if records == 0 {
            return;
        }
        self.records_since += records;
        let own = u64::from(std::mem::take(&mut self.own_record_next));
        self.unsigned += records - own;
        if self.unsigned > 0 {
            self.unsigned_since.get_or_insert_with(Instant::now);
        }
    }

    /// Asks for a checkpoint as soon as possible (at a rotation, at shutdown), if any record is
    /// not covered yet.
    pub(super) fn want(&mut self) {
        self.wanted = true;
    }

    /// Whether to ask the worker for a checkpoint record now.
    pub(super) fn due(&mut self) -> bool {
        if self.requested || self.unsigned == 0 {
            return false;
        }
        let late = self
            .unsigned_since
            .is_some_and(|since| since.elapsed() >= self.config.every);
        if self.wanted || late || self.unsigned >= self.config.every_records {
            self.requested = true;
            self.wanted = false;
            return true;
        }
        false
    }

    /// Fills the checkpoint record `record` in, signing the chain's tip `(seq, hash)`.
    pub(super) fn sign(
        &mut self,
        record: &mut SecurityRecord,
        tip: (u64, &str),
        form: crate::forms::OutputForm,
    ) {
        let mut checkpoint = Checkpoint::unsigned(
            self.log.clone(),
            record.service.instance.clone().unwrap_or_default(),
            self.number + 1,
            (record.id.to_string(), record.seq),
            (tip.0, tip.1.to_owned()),
            self.records_since,
            self.previous.clone(),
            (
                self.key.epoch(),
                self.key.public_key(),
                self.key.certificate().map(str::to_owned),
            ),
        );
        checkpoint.form = form;
        checkpoint.signature = self.key.sign(&checkpoint.message());
        #[cfg(feature = "timestamp")]
        if let Some(authority) = &self.authority {
            match authority.stamp(&checkpoint.message()) {
                Ok(token) => checkpoint.timestamp_token = Some(token),
                Err(why) => record.fields.push(
                    crate::integrity::checkpoint::field::TIMESTAMP_ERROR,
                    FieldValue::Str(why),
                ),
            }
        }
        for (name, value) in checkpoint.fields() {
            record.fields.push(name, value);
        }
        self.number = checkpoint.number;
        self.previous = checkpoint.digest();
        // The checkpoint's own record opens the next count.
        self.records_since = 0;
        self.unsigned = 0;
        self.unsigned_since = None;
        self.requested = false;
        self.own_record_next = true;
        self.evolve_after_write = self.epoch_started.elapsed() >= self.config.key_epoch;
    }

    /// After the record of a checkpoint is written: the next epoch's key, if this one's time is
    /// up, saved before this one is dropped (and so erased).
    pub(super) fn written(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.evolve_after_write) {
            return Ok(());
        }
        let next = self.key.next();
        next.save(&self.config.key_file)?;
        self.key = next;
        self.epoch_started = Instant::now();
        self.rotated = true;
        Ok(())
    }

    /// Whether the key moved to a new epoch since the last checkpoint (an `audit.key_rotated`
    /// record is then due before the next).
    pub(super) fn take_rotated(&mut self) -> bool {
        std::mem::take(&mut self.rotated)
    }

    /// Fills in the `audit.key_rotated` record of the current epoch.
    pub(super) fn announce(&self, record: &mut SecurityRecord) {
        let epoch = self.key.epoch();
        record.message = format!("the checkpoint signing key moved to epoch {epoch}");
        record.fields.push("epoch", FieldValue::U64(epoch));
        record
            .fields
            .push("public_key", FieldValue::Str(self.key.public_key()));
        if let Some(certificate) = self.key.certificate() {
            record
                .fields
                .push("key_certificate", FieldValue::Str(certificate.to_owned()));
        }
    }
}

/// The key brought to the epoch after `last`'s, checked to be the key that signed it.
fn reconcile(
    mut key: EpochKey,
    last: &Checkpoint,
    config: &CheckpointConfig,
) -> io::Result<EpochKey> {
    let not_ours = || {
        invalid(format!(
            "checkpoint key {} did not sign this log's last checkpoint ({}): the key of \
             another log, or a new one (verify the log so far with the old public key, and \
             start a new log for the new key)",
            config.key_file.display(),
            last.number
        ))
    };
    if key.epoch() < last.epoch {
        // A key file older than the log (restored from a backup): derive forward.
        while key.epoch() < last.epoch {
            key = key.next();
        }
        key.save(&config.key_file)?;
    }
    let ours = if key.epoch() == last.epoch {
        key.public_key() == last.public_key
    } else if key.epoch() == last.epoch + 1 {
        parse_public_key(&last.public_key).is_some_and(|previous| {
            key.certificate().is_some_and(|certificate| {
                crate::integrity::checkpoint::verify_hex_signature(
                    &previous,
                    &key_message(key.epoch(), &key.public_key()),
                    certificate,
                )
            })
        })
    } else {
        false
    };
    if ours {
        Ok(key)
    } else {
        Err(not_ours())
    }
}

/// The fields of an `audit.files_removed` record.
pub(super) fn removal_fields(
    file: &str,
    last: Option<(u64, String)>,
) -> Vec<(&'static str, FieldValue)> {
    let mut fields = vec![("file", FieldValue::Str(file.to_owned()))];
    if let Some((seq, hash)) = last {
        fields.push(("last_seq", FieldValue::U64(seq)));
        fields.push(("last_hash", FieldValue::Str(hash)));
    }
    fields
}
