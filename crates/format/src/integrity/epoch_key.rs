//! The signing key of checkpoints, and how it evolves: each epoch's secret is derived one-way
//! from the one before (SHA-256), which is then erased, and each epoch's public key is signed
//! by the key before it. A key stolen in epoch n can sign for epoch n and later, never for an
//! earlier one, and a verifier holding epoch 0's public key trusts a later key only through the
//! unbroken line of signatures.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::checkpoint::key_message;

const HEADER: &str = "tracing-security-events signing key 1";

/// One epoch's signing key, with the certificate of its public key.
pub struct EpochKey {
    epoch: u64,
    signing: SigningKey,
    /// The previous epoch's signature over this epoch's public key (hex); `None` for epoch 0.
    certificate: Option<String>,
}

impl fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochKey")
            .field("epoch", &self.epoch)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl EpochKey {
    /// A new key pair, epoch 0, from the operating system's random source.
    pub fn generate() -> io::Result<Self> {
        let mut seed = Zeroizing::new([0_u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(io::Error::other)?;
        Ok(EpochKey::from_seed(0, *seed, None))
    }

    #[doc(hidden)]
    pub fn from_seed(epoch: u64, mut seed: [u8; 32], certificate: Option<String>) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        seed.zeroize();
        EpochKey {
            epoch,
            signing,
            certificate,
        }
    }

    /// The epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The epoch's public key, as 64 hex digits.
    pub fn public_key(&self) -> String {
        crate::hex::encode(self.signing.verifying_key().as_bytes())
    }

    /// The previous epoch's signature over this epoch's public key (hex).
    pub fn certificate(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    /// `message` signed (hex).
    pub fn sign(&self, message: &[u8]) -> String {
        crate::hex::encode(&self.signing.sign(message).to_bytes())
    }

    /// The next epoch's key: its secret derived one-way from this one's, its public key signed
    /// by this one. Dropping `self` then erases this epoch's secret from memory.
    pub fn next(&self) -> EpochKey {
        let mut hasher = Sha256::new();
        hasher.update(b"tracing-security-events next epoch\n");
        hasher.update(self.signing.as_bytes());
        let mut seed: [u8; 32] = hasher.finalize().into();
        let epoch = self.epoch + 1;
        let mut next = EpochKey::from_seed(epoch, seed, None);
        seed.zeroize();
        next.certificate = Some(self.sign(&key_message(epoch, &next.public_key())));
        next
    }

    /// Reads a key file written by [`save`](Self::save).
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path)?);
        let invalid = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a signing key file ({what})", path.display()),
            )
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(invalid("its first line is not the header"));
        }
        let (mut epoch, mut seed, mut certificate) = (None, None, None);
        for line in lines {
            match line.split_once(' ') {
                Some(("epoch", value)) => epoch = value.parse::<u64>().ok(),
                Some(("seed", value)) => {
                    seed = crate::hex::decode(value)
                        .map(Zeroizing::new)
                        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
                }
                Some(("certificate", value)) => certificate = Some(value.to_owned()),
                _ => return Err(invalid("an unknown line")),
            }
        }
        let epoch = epoch.ok_or_else(|| invalid("no epoch"))?;
        let seed = seed.ok_or_else(|| invalid("no 32-byte seed"))?;
        if epoch > 0 && certificate.is_none() {
            return Err(invalid("no certificate for an epoch after 0"));
        }
        Ok(EpochKey::from_seed(epoch, seed, certificate))
    }

    /// Writes the key to `path`, private to the owner (0600), replacing what was there only
    /// once the new content is on disk: a crash leaves the old key or the new one, whole.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut text = Zeroizing::new(format!(
            "{HEADER}\nepoch {}\nseed {}\n",
            self.epoch,
            crate::hex::encode(self.signing.as_bytes())
        ));
        if let Some(certificate) = &self.certificate {
            text.push_str(&format!("certificate {certificate}\n"));
        }
        let file_name = path
            .file_name()
            .ok_or_else(|| io::Error::other("a key file path needs a file name"))?;
        let mut temporary_name = file_name.to_os_string();
        temporary_name.push(".new");
        let temporary = path.with_file_name(temporary_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)?;
        // The rename itself is durable once the directory is.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::checkpoint::{parse_public_key, verify_hex_signature};

    #[test]
    fn each_epoch_key_is_certified_by_the_one_before() {
        let first = EpochKey::from_seed(0, [1; 32], None);
        let second = first.next();
        let third = second.next();
        assert_eq!((second.epoch(), third.epoch()), (1, 2));
        assert_ne!(first.public_key(), second.public_key());
        let public = |key: &EpochKey| parse_public_key(&key.public_key()).unwrap();
        assert!(verify_hex_signature(
            &public(&first),
            &key_message(1, &second.public_key()),
            second.certificate().unwrap()
        ));
        assert!(verify_hex_signature(
            &public(&second),
            &key_message(2, &third.public_key()),
            third.certificate().unwrap()
        ));
        // Derivation is deterministic: the same seed gives the same next key.
        assert_eq!(
            EpochKey::from_seed(0, [1; 32], None).next().public_key(),
            second.public_key()
        );
    }

    #[test]
    fn a_saved_key_loads_back_private_to_its_owner() {
        let dir = std::env::temp_dir().join(format!("epoch-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("checkpoint.key");
        let key = EpochKey::from_seed(0, [3; 32], None).next();
        key.save(&path).unwrap();
        let loaded = EpochKey::load(&path).unwrap();
        assert_eq!(loaded.epoch(), 1);
        assert_eq!(loaded.public_key(), key.public_key());
        assert_eq!(loaded.certificate(), key.certificate());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key\n").unwrap();
        let err = EpochKey::load(&path).unwrap_err();
        assert!(err.to_string().contains("not a signing key file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
