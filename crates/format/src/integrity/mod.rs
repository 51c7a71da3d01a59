//! Tamper evidence: a hash chain across records, files and restarts, and its verification.
//!
//! Each record the file sink writes carries `integrity.prev`, the hash of the record before it
//! (the last record of the previous file for the first record of a file, 64 zeros for the first
//! record of a log), and `integrity.hash`, SHA-256 of `prev`, a line feed and the record's JSON
//! as written without its `integrity` member. Under a key ([`FileConfig::with_chain_key`]) the
//! hash is HMAC-SHA256, so that someone able to write the file cannot rebuild the chain.
//!
//! [`verify`] reads a file or a directory of rotated files and names the first record that was
//! changed, removed, inserted or moved, and whether the files end cleanly.
//!
//! [`FileConfig::with_chain_key`]: https://docs.rs/tracing-security-events/latest/tracing_security_events/sink/struct.FileConfig.html#method.with_chain_key
//!
//! # The chain
//!
//! **Tamper evidence.** Each record in a file carries
//! `"integrity":{"prev":"<hash of the previous record>","hash":"<its own>"}` as its last member.
//! `hash` is SHA-256 (HMAC-SHA256 under `with_chain_key`) of `prev`, a line feed, and the record's
//! JSON exactly as written without the `integrity` member. The first record of a log has 64 zeros
//! as `prev`; the first record of a rotated-to file, or of a restart, continues from the last record
//! before it. Under a key, someone able to write the file cannot rebuild the chain.
//!
//! ```no_run
//! use tracing_security_events::integrity::{verify_with, VerifyOptions};
//!
//! let key = std::fs::read("/etc/myapp/chain.key")?;
//! let report = verify_with("/var/log/myapp", &VerifyOptions::new().with_key(key))?;
//! if let Some(problem) = &report.problem {
//!     eprintln!("{problem}"); // /var/log/myapp/security.jsonl:4182: Modified: ...
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! or from a shell: `security-log verify [--key-file F]
//! [--expect-tip HASH] PATH` (exit status 0: intact, 1: a problem, named with its file and line).
//!
//! `verify` reads a file or a directory (each `*.jsonl` log's rotated files in order, then its active
//! file) and reports the first record that was changed (`Modified`), removed (`Missing`), added
//! (`Inserted`), moved (`Reordered`), a missing file (`MissingFile`), lines cut short by a crash
//! (`torn_lines`), and whether the log ends cleanly. What the chain alone cannot show: records removed
//! from the very end of the log (pass the last hash you kept elsewhere as `with_expected_tip` to
//! catch it: `Truncated`), and the removal of the oldest files, which looks like retention
//! (`starts_at_genesis` tells whether the chain starts at the beginning).
//!

#[doc(hidden)]
pub mod chain;
pub mod checkpoint;
mod epoch_key;
mod key_chain;
mod trail;
mod verify;

pub use chain::GENESIS;
/// An Ed25519 public key: epoch 0's, as `security-log keygen` prints it, verifies a log's
/// checkpoints.
pub use ed25519_dalek::VerifyingKey as PublicKey;
pub use checkpoint::{parse_public_key, Checkpoint, CHECKPOINT_EVENT};
pub use epoch_key::EpochKey;
pub use trail::FILES_REMOVED_EVENT;
pub use verify::{
    verify, verify_records, verify_with, Location, Problem, ProblemKind, VerifyOptions,
    VerifyReport,
};
