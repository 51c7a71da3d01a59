//! The checkpoints of one log as verification meets them: each signature traced to the public
//! key, each tip against the chain, each checkpoint against the one before, and at the end the
//! copies shipped elsewhere (anchors) and the retention records against what the files hold.

use std::collections::BTreeMap;

use serde_json::Value;

use super::checkpoint::{Checkpoint, NO_DIGEST};
use super::key_chain::KeyChain;
use super::verify::{ProblemKind, VerifyOptions};

/// The event name of the record retention writes before it removes a rotated file.
pub const FILES_REMOVED_EVENT: &str = "audit.files_removed";

/// The `reason` of an `audit.files_removed` record written when another program (`logrotate`)
/// moved the active file away: the log records where its chain went, not that it is safe.
pub const MOVED_AWAY: &str = "moved away by another program";

/// A problem the trail found: its kind and what was seen.
pub(super) type Found = (ProblemKind, String);

/// The last checkpoint read.
struct Last {
    number: u64,
    digest: String,
    epoch: u64,
    seq: u64,
}

/// A file retention says it removed.
struct Removal {
    file: String,
    last_seq: u64,
    last_hash: String,
    /// Moved away by another program rather than removed by retention.
    moved: bool,
    /// Whether a checkpoint that verified came after it (a removal record in the unsigned tail
    /// could have been written by anyone).
    signed: bool,
}

/// How the log's chain looked from end to end.
pub(super) struct LogEnds<'a> {
    /// The `prev` of its first record, when it is not the genesis.
    pub(super) starts_after: Option<&'a str>,
    pub(super) first_seq: u64,
    pub(super) last_seq: u64,
}

/// What the trail adds to the report of a log that verified.
#[derive(Default)]
pub(super) struct TrailSummary {
    pub(super) checkpoints: u64,
    pub(super) anchors: u64,
    pub(super) unsigned_tail: u64,
    pub(super) removed_by_retention: Vec<String>,
    pub(super) moved_away: Vec<String>,
    pub(super) timestamps: u64,
    pub(super) unstamped: u64,
    pub(super) other_chains: u64,
}

pub(super) struct Trail {
    /// The log's active file name, which its checkpoints carry.
    log: String,
    keys: Option<KeyChain>,
    /// The anchors of this log by number, and whether each verified yet (one whose key only
    /// the files can trace, after a crash kept its predecessor from the anchors, waits).
    anchors: BTreeMap<u64, (Checkpoint, bool)>,
    last: Option<Last>,
    records_since: u64,
    /// The checkpoints in the files: number -> signature.
    seen: BTreeMap<u64, String>,
    removals: Vec<Removal>,
    checkpoints: u64,
    stamps: Option<std::sync::Arc<dyn super::TimestampCheck>>,
    timestamps: u64,
    unstamped: u64,
    /// Checkpoints of a log in another form (this file is a copy in its own form).
    other_chains: u64,
}

impl Trail {
    /// The trail of the log whose active file is `log`, written by `instance`; the anchors that
    /// name it are checked first (they may carry keys of epochs whose files retention removed).
    /// Anchors of several instances (a fleet shipping to one table, each with its own
    /// `security.jsonl`) are narrowed to this log's instance.
    pub(super) fn new(
        log: &str,
        instance: Option<&str>,
        options: &VerifyOptions,
    ) -> Result<Self, Found> {
        let mut trail = Trail {
            log: log.to_owned(),
            keys: options.public_key.map(KeyChain::new),
            anchors: BTreeMap::new(),
            last: None,
            records_since: 0,
            seen: BTreeMap::new(),
            removals: Vec::new(),
            checkpoints: 0,
            stamps: options.timestamps.clone(),
            timestamps: 0,
            unstamped: 0,
            other_chains: 0,
        };
        let mut anchors: Vec<&Checkpoint> = options
            .anchors
            .iter()
            .filter(|anchor| anchor.log == log)
            .collect();
        let several = anchors
            .iter()
            .any(|anchor| anchors[0].instance != anchor.instance);
        if let (true, Some(instance)) = (several, instance) {
            anchors.retain(|anchor| anchor.instance == instance);
        }
        anchors.sort_by_key(|anchor| anchor.number);
        for anchor in anchors {
            let verified = match &trail.keys {
                Some(keys) if keys.can_trace(anchor.epoch) => {
                    trail.verify_anchor(anchor)?;
                    true
                }
                Some(_) => false,
                None => true,
            };
            trail
                .anchors
                .insert(anchor.number, (anchor.clone(), verified));
        }
        Ok(trail)
    }

    /// Checks an anchor's signature and key against the public key.
    fn verify_anchor(&mut self, anchor: &Checkpoint) -> Result<(), Found> {
        let Some(keys) = &mut self.keys else {
            return Ok(());
        };
        let key = keys.key_for(anchor).map_err(|why| {
            let detail = format!("anchored checkpoint {}: {why}", anchor.number);
            (ProblemKind::Forged, detail)
        })?;
        if !anchor.is_signed_by(&key) {
            let detail = format!(
                "anchored checkpoint {}'s signature does not verify: forged or changed",
                anchor.number
            );
            return Err((ProblemKind::Forged, detail));
        }
        Ok(())
    }

    /// A sealed record; `before` is the seq and hash of the record before it in the chain.
    pub(super) fn record(
        &mut self,
        record: &[u8],
        before: Option<(u64, &str)>,
    ) -> Result<(), Found> {
        let named = |name: &str| memchr::memmem::find(record, name.as_bytes()).is_some();
        let (is_checkpoint, is_removal) = (
            named(super::checkpoint::CHECKPOINT_EVENT),
            named(FILES_REMOVED_EVENT),
        );
        if !is_checkpoint && !is_removal {
            self.records_since += 1;
            return Ok(());
        }
        let Ok(value) = serde_json::from_slice::<Value>(record) else {
            self.records_since += 1;
            return Ok(());
        };
        let form = crate::forms::form_of(&value);
        let value = crate::forms::read_view(value);
        if let Some(removal) = removal_of(&value) {
            self.removals.push(removal);
        }
        match Checkpoint::from_record(&value) {
            // A copy, in this file's form, of a checkpoint that signs the chain of a log in
            // another form: another chain, not this one's.
            Ok(Some(checkpoint)) if checkpoint.form != form => {
                self.other_chains += 1;
                self.records_since += 1;
                Ok(())
            }
            Ok(Some(checkpoint)) => self.checkpoint(&checkpoint, before),
            Ok(None) => {
                self.records_since += 1;
                Ok(())
            }
            Err(why) => Err((ProblemKind::Malformed, why)),
        }
    }

    fn checkpoint(
        &mut self,
        checkpoint: &Checkpoint,
        before: Option<(u64, &str)>,
    ) -> Result<(), Found> {
        let number = checkpoint.number;
        if checkpoint.log != self.log {
            let detail = format!(
                "this file holds checkpoint {number} of the log {}, not of {}: moved or renamed",
                checkpoint.log, self.log
            );
            return Err((ProblemKind::Moved, detail));
        }
        // A log's first checkpoint is signed in epoch 0 and the key evolves at most once a
        // checkpoint: a later epoch signing an early checkpoint is a later key signing the past.
        if checkpoint.epoch >= number {
            let detail = format!(
                "checkpoint {number} is signed with the key of epoch {}, which cannot exist                  before checkpoint {}: a later (stolen) key signing the past",
                checkpoint.epoch,
                checkpoint.epoch + 1
            );
            return Err((ProblemKind::Forged, detail));
        }
        if let Some(keys) = &mut self.keys {
            let key = keys
                .key_for(checkpoint)
                .map_err(|why| (ProblemKind::Forged, format!("checkpoint {number}: {why}")))?;
            if !checkpoint.is_signed_by(&key) {
                let detail = format!(
                    "checkpoint {number}'s signature does not verify: forged, or changed after it \
                     was signed"
                );
                return Err((ProblemKind::Forged, detail));
            }
        }
        if let Some(stamps) = &self.stamps {
            match &checkpoint.timestamp_token {
                Some(token) => {
                    stamps.check(&checkpoint.message(), token).map_err(|why| {
                        let detail = format!(
                            "checkpoint {number}'s time-stamp token does not verify: {why}"
                        );
                        (ProblemKind::Forged, detail)
                    })?;
                    self.timestamps += 1;
                }
                None => self.unstamped += 1,
            }
        }
        match &self.last {
            Some(last) => self.follows(checkpoint, last)?,
            None if number == 1 && checkpoint.previous != NO_DIGEST => {
                let detail = "checkpoint 1 names a previous checkpoint".to_owned();
                return Err((ProblemKind::Forged, detail));
            }
            None => {}
        }
        if let Some((tip_seq, tip_hash)) = before {
            if (checkpoint.tip_seq, checkpoint.tip_hash.as_str()) != (tip_seq, tip_hash) {
                let detail = format!(
                    "checkpoint {number} signed the chain at seq {} with hash {}, but the record \
                     before it is seq {tip_seq} with hash {tip_hash}: records before it were \
                     changed and the chain recomputed by someone without the signing key",
                    checkpoint.tip_seq, checkpoint.tip_hash
                );
                return Err((ProblemKind::Recomputed, detail));
            }
        }
        self.last = Some(Last {
            number,
            digest: checkpoint.digest(),
            epoch: checkpoint.epoch,
            seq: checkpoint.seq,
        });
        self.seen.insert(number, checkpoint.signature.clone());
        self.records_since = 1;
        self.checkpoints += 1;
        if self.keys.is_some() {
            for removal in &mut self.removals {
                removal.signed = true;
            }
        }
        Ok(())
    }

    /// Whether `checkpoint` is the one that must come after `last`.
    fn follows(&self, checkpoint: &Checkpoint, last: &Last) -> Result<(), Found> {
        let number = checkpoint.number;
        if number <= last.number {
            let detail = format!(
                "checkpoint {number} comes again after checkpoint {}: a checkpoint replayed",
                last.number
            );
            return Err((ProblemKind::Replayed, detail));
        }
        if number > last.number + 1 {
            let detail = format!(
                "checkpoint {number} follows checkpoint {}: checkpoint(s) {} to {} and the \
                 records they signed are missing",
                last.number,
                last.number + 1,
                number - 1
            );
            return Err((ProblemKind::Missing, detail));
        }
        if checkpoint.previous != last.digest {
            let detail = format!(
                "checkpoint {number} does not name checkpoint {} as its previous: one of them \
                 was replaced",
                last.number
            );
            return Err((ProblemKind::Replayed, detail));
        }
        if checkpoint.epoch != last.epoch && checkpoint.epoch != last.epoch + 1 {
            let detail = format!(
                "checkpoint {number} is signed in epoch {} right after epoch {}: a later key \
                 signing the past (a stolen key?)",
                checkpoint.epoch, last.epoch
            );
            return Err((ProblemKind::Forged, detail));
        }
        if checkpoint.records != self.records_since {
            let detail = format!(
                "checkpoint {number} signed {} records since checkpoint {}, the log holds {}",
                checkpoint.records, last.number, self.records_since
            );
            let kind = if checkpoint.records > self.records_since {
                ProblemKind::Missing
            } else {
                ProblemKind::Inserted
            };
            return Err((kind, detail));
        }
        Ok(())
    }

    /// Checks the start of the log against retention and its end against the anchors.
    pub(super) fn finish(&mut self, ends: &LogEnds<'_>) -> Result<TrailSummary, Found> {
        let waiting: Vec<Checkpoint> = self
            .anchors
            .values()
            .filter(|(anchor, verified)| {
                !verified && self.seen.get(&anchor.number) != Some(&anchor.signature)
            })
            .map(|(anchor, _)| anchor.clone())
            .collect();
        for anchor in &waiting {
            self.verify_anchor(anchor)?;
        }
        if self.keys.is_some() && self.checkpoints == 0 && ends.last_seq > 0 {
            let detail = "no checkpoint in the log, and a public key to check them with: they \
                          were removed (with the chain recomputed), the log does not sign \
                          checkpoints, or it is too young to have signed one yet"
                .to_owned();
            return Err((ProblemKind::Missing, detail));
        }
        let enforced = self.keys.is_some() || self.checkpoints > 0 || !self.anchors.is_empty();
        let mut summary = TrailSummary {
            checkpoints: self.checkpoints,
            timestamps: self.timestamps,
            unstamped: self.unstamped,
            other_chains: self.other_chains,
            unsigned_tail: match &self.last {
                Some(last) => ends.last_seq.saturating_sub(last.seq),
                None => ends
                    .last_seq
                    .saturating_sub(ends.first_seq.saturating_sub(1)),
            },
            ..TrailSummary::default()
        };
        let trusted = |removal: &&Removal| removal.signed || self.keys.is_none();
        for removal in self.removals.iter().filter(trusted) {
            let list = if removal.moved {
                &mut summary.moved_away
            } else {
                &mut summary.removed_by_retention
            };
            list.push(removal.file.clone());
        }
        if let (Some(prev), true) = (ends.starts_after, enforced) {
            if !self
                .removals
                .iter()
                .filter(trusted)
                .any(|r| r.last_hash == prev)
            {
                let detail = "the log starts after records that no retention record accounts \
                              for: older files were deleted"
                    .to_owned();
                return Err((ProblemKind::MissingFile, detail));
            }
        }
        for (number, (anchor, _)) in &self.anchors {
            match self.seen.get(number) {
                Some(signature) if *signature == anchor.signature => summary.anchors += 1,
                Some(_) => {
                    let detail = format!(
                        "checkpoint {number} differs from its copy shipped to the anchors: \
                         replaced"
                    );
                    return Err((ProblemKind::Modified, detail));
                }
                None if anchor.seq > ends.last_seq => {
                    let detail = format!(
                        "the log ends at seq {}, but checkpoint {number} shipped to the anchors \
                         signed records up to seq {} and is seq {}: records at its end are \
                         missing (cut, emptied or deleted)",
                        ends.last_seq, anchor.tip_seq, anchor.seq
                    );
                    return Err((ProblemKind::Truncated, detail));
                }
                None if anchor.seq < ends.first_seq => {
                    let removed = self
                        .removals
                        .iter()
                        .filter(trusted)
                        .any(|r| r.last_seq >= anchor.seq);
                    if !removed {
                        let detail = format!(
                            "checkpoint {number} shipped to the anchors (seq {}) is before the \
                             log's first record, and no retention record accounts for it: \
                             older files were deleted",
                            anchor.seq
                        );
                        return Err((ProblemKind::MissingFile, detail));
                    }
                }
                None => {
                    let detail = format!(
                        "checkpoint {number} shipped to the anchors (seq {}) is not in the log: \
                         removed",
                        anchor.seq
                    );
                    return Err((ProblemKind::Missing, detail));
                }
            }
        }
        Ok(summary)
    }
}

fn removal_of(record: &Value) -> Option<Removal> {
    if record.pointer("/event/name").and_then(Value::as_str) != Some(FILES_REMOVED_EVENT) {
        return None;
    }
    let fields = record.get("fields")?;
    Some(Removal {
        file: fields.get("file")?.as_str()?.to_owned(),
        last_seq: fields.get("last_seq")?.as_u64()?,
        last_hash: fields.get("last_hash")?.as_str()?.to_owned(),
        moved: fields.get("reason").and_then(Value::as_str) == Some(MOVED_AWAY),
        signed: false,
    })
}
