//! The keys a verifier trusts: epoch 0's public key, given by the person verifying, and each
//! later epoch's key once the epoch before has signed it.

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;

use super::checkpoint::{key_message, parse_public_key, verify_hex_signature, Checkpoint};

/// Trusted keys by epoch.
#[derive(Debug, Clone)]
pub(crate) struct KeyChain {
    keys: BTreeMap<u64, VerifyingKey>,
}

impl KeyChain {
    pub(crate) fn new(root: VerifyingKey) -> Self {
        KeyChain {
            keys: BTreeMap::from([(0, root)]),
        }
    }

    /// Whether the key of `epoch` is trusted, or can be from the trusted key of the epoch
    /// before.
    pub(crate) fn can_trace(&self, epoch: u64) -> bool {
        self.keys.contains_key(&epoch)
            || epoch
                .checked_sub(1)
                .is_some_and(|e| self.keys.contains_key(&e))
    }

    /// The key `checkpoint` must be signed with, learning it from the checkpoint's certificate
    /// when the epoch before is trusted; `Err` says why it cannot be trusted.
    pub(crate) fn key_for(&mut self, checkpoint: &Checkpoint) -> Result<VerifyingKey, String> {
        let epoch = checkpoint.epoch;
        let claimed = parse_public_key(&checkpoint.public_key)
            .ok_or_else(|| format!("epoch {epoch}'s public key is not a key"))?;
        if let Some(known) = self.keys.get(&epoch) {
            return if *known == claimed {
                Ok(claimed)
            } else if epoch == 0 {
                Err("it is signed by another key than the public key given".to_owned())
            } else {
                Err(format!(
                    "it names another key for epoch {epoch} than the one certified before: \
                     epoch {}'s key signed two keys",
                    epoch - 1
                ))
            };
        }
        let Some(previous) = epoch.checked_sub(1).and_then(|e| self.keys.get(&e)) else {
            return Err(format!(
                "epoch {epoch}'s key cannot be traced to the public key given: no checkpoint \
                 of epoch {} was seen",
                epoch.saturating_sub(1)
            ));
        };
        let certified = checkpoint
            .key_certificate
            .as_deref()
            .is_some_and(|certificate| {
                verify_hex_signature(
                    previous,
                    &key_message(epoch, &checkpoint.public_key),
                    certificate,
                )
            });
        if !certified {
            return Err(format!(
                "epoch {epoch}'s key is not certified by epoch {}'s: a key that does not descend \
                 from the public key given",
                epoch - 1
            ));
        }
        self.keys.insert(epoch, claimed);
        Ok(claimed)
    }
}
