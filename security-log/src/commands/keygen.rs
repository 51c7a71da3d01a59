//! `security-log keygen`: a key pair for signed checkpoints. The private key goes to a file
//! only its owner can read; the public key is printed, for whoever verifies the log.

use std::path::PathBuf;

use clap::Args;
use tracing_security_events::integrity::EpochKey;

use crate::failure::Failure;

/// Make an Ed25519 key pair for signed checkpoints; print the public key.
#[derive(Args)]
#[command(after_help = "Example:\n  \
    security-log keygen -o checkpoint.key > checkpoint.pub\n\n\
    Give the key file to the log (checkpoints = { key_file = ... }) and the public key to\n\
    whoever verifies: security-log verify LOG --public-key K.")]
pub(crate) struct KeygenArgs {
    /// The private key file (created with mode 0600; the log's file sink reads and evolves it).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "checkpoint.key"
    )]
    file: PathBuf,
    /// Replace the file if it exists (the old key is then lost: verify what it signed first).
    #[arg(long)]
    force: bool,
}

impl KeygenArgs {
    pub(crate) fn run(self) -> Result<bool, Failure> {
        if !self.force && self.file.exists() {
            return Err(Failure::Error(format!(
                "{} exists: give --force to replace it (and lose the key it holds)",
                self.file.display()
            )));
        }
        let key = EpochKey::generate()
            .map_err(|e| Failure::context("cannot draw a random key".to_owned(), e))?;
        key.save(&self.file)
            .map_err(|e| Failure::context(format!("cannot write {}", self.file.display()), e))?;
        println!("{}", key.public_key());
        Ok(true)
    }
}
