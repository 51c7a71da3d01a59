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
//! (`torn_lines`), and whether the log ends cleanly. The chain alone cannot show records removed
//! from the very end of the log, the removal of the oldest files, or a chain recomputed from a
//! changed record by someone who can write the files: checkpoints can.
//!
//! # Checkpoints: evidence that survives the intruder
//!
//! With [`FileConfig::with_checkpoints`], the file sink writes `audit.checkpoint` records (after
//! every N records, N seconds after the first record not yet signed, after each rotation and at
//! shutdown). Each names the last record before it (`seq` and chain hash), the records since the
//! previous checkpoint, that checkpoint's digest, its own `id` and `seq`, the key epoch, and is
//! signed with Ed25519. The records go to every sink, so copies leave the host (OTLP,
//! PostgreSQL, stdout): those copies are the *anchors*, read back from a table, a file of
//! records, or a collector's OTLP/JSON file ([`checkpoints_in_otlp_json`]). Before retention removes a rotated file
//! it writes an `audit.files_removed` record naming the file and its last `seq` and hash; when
//! another program moves the active file away (`logrotate`, then `FlushGuard::reopen`), the
//! same record says so (`reason`: [`MOVED_AWAY`]), and verify names the file as moved, its
//! content not verified there.
//!
//! ```text
//! security-log keygen -o /etc/myapp/checkpoint.key > checkpoint.pub     # private file 0600
//! security-log verify /var/log/myapp --public-key "$(cat checkpoint.pub)" \
//!     --anchors postgres://audit@db/myapp
//! ```
//!
//! **The key evolves.** After a checkpoint, once the key epoch has passed (an hour by
//! default), the next epoch's secret is derived one-way (SHA-256) from the current one, which is
//! dropped from memory (zeroed) and replaced in the key file (written whole to a new file,
//! synced, renamed over the old); the new public key is signed by the old one and carried by
//! every checkpoint, so a verifier holding epoch 0's public key trusts each later key through
//! the unbroken line of signatures. A log's first checkpoint is signed in epoch 0 and the key
//! evolves at most once a checkpoint, so checkpoint n cannot carry an epoch of n or more.
//!
//! **Time-stamps** (the facade's feature `timestamp`). With a time-stamping authority's URL
//! (`CheckpointConfig::timestamp_authority`), each checkpoint also carries an RFC 3161 token over
//! the SHA-256 of what it signs (`checkpoint.timestamp_token`), or why the authority gave none
//! (`checkpoint.timestamp_error`; the log never waits more than 5 s for it). Verification with
//! the authority's certificate ([`VerifyOptions::with_timestamps`], `security-log verify
//! --tsa-cert FILE`) checks every token: a checkpoint then shows when it existed, which even
//! the holder of every signing key cannot move. `e2e/tests/timestamp.rs` runs a real authority
//! (`openssl ts -reply` behind HTTP on 127.0.0.1).
//!
//! **Threat model.** An intruder who owns the host can rewrite, cut and delete the files and
//! can read the key file. With the key of the current epoch they *can*: sign checkpoints for
//! this epoch and every later one (the future of a compromised host is lost), and so rewrite
//! the records that no checkpoint of an earlier epoch signed yet, that is at most one epoch
//! plus one checkpoint interval, unless a checkpoint of the current epoch already left the host.
//! They *cannot*: derive an earlier epoch's key, so they cannot sign anything that verifies for
//! an earlier epoch; rewrite a record any earlier checkpoint signed without that checkpoint's
//! tip no longer matching; remove a checkpoint without breaking the numbering and the digests
//! that link checkpoints; or change the copies that already left the host. A shorter epoch
//! (`key_epoch`, down to every checkpoint) narrows what a stolen key can reach; the
//! filesystem may keep an old key file's blocks until they are reused, which a forensic reader
//! of the raw disk could recover (keep the key file on an encrypted or `tmpfs` volume when
//! that matters).
//!
//! **What finds what.** `e2e/tests/tamper_battery.rs` does each of these to a log of rotated
//! files checkpointed under an evolving key and checks that verify names the kind and the place
//! (file and line):
//!
//! | tampering | what finds it | what it needs |
//! |---|---|---|
//! | a record edited | its seal no longer matches (`Modified`) | the files |
//! | a record edited, the chain recomputed | the next checkpoint's signed tip (`Recomputed`) | public key |
//! | a record deleted | the broken link and `seq` gap (`Missing`) | the files |
//! | a record deleted, the chain recomputed | the next checkpoint's count or tip (`Missing`, `Recomputed`) | public key |
//! | a forged record inserted | the broken link (`Inserted`) | the files |
//! | a forged record inserted, the chain recomputed | the next checkpoint's tip (`Recomputed`) | public key |
//! | a record copied after itself | the broken link (`Inserted`) | the files |
//! | two records swapped | the broken link and `seq` order (`Reordered`) | the files |
//! | two records swapped, the chain recomputed | the next checkpoint's tip (`Recomputed`) | public key |
//! | records cut from the end of the active file | a shipped checkpoint beyond the end (`Truncated`) | anchors |
//! | the active file emptied | the same (`Truncated`) | anchors |
//! | the active file deleted | the same (`Truncated`) | anchors |
//! | the active file renamed away | its checkpoints name the log it left (`Moved`) | the files |
//! | the oldest file deleted | no retention record for where the chain starts (`MissingFile`) | the files with checkpoints, or public key |
//! | the oldest file deleted, a retention record forged for it | the forged record is after the last signed checkpoint (`MissingFile`) | public key |
//! | a file in the middle deleted | the first record of the next file (`MissingFile`) | the files |
//! | two rotated files swapped by renaming | the same (`MissingFile`) | the files |
//! | the first line of a file given another `prev` | the same (`MissingFile`) | the files |
//! | a record spliced in from another log | the broken link | the files |
//! | another log's file spliced in, the chain recomputed | its checkpoints (another key, other numbers) or ours after it | public key |
//! | an old checkpoint replayed at the end | its number goes back (`Replayed`) | the files |
//! | a checkpoint deleted, the chain recomputed | the next checkpoint's count and tip (`Missing`, `Recomputed`) | public key |
//! | a checkpoint's signature changed | the signature (`Forged`) | public key |
//! | a checkpoint's tip moved to a recomputed chain | the signature (`Forged`) | public key |
//! | a checkpoint signed with the intruder's own key | the key does not descend from the public key (`Forged`) | public key |
//! | a stolen current key signing a rewritten past | the epoch is later than the checkpoint's number allows (`Forged`) | public key |
//! | every checkpoint removed, the chain recomputed | no checkpoint where a public key expects them (`Missing`) | public key |
//!
//! A verification reports what it could not check and what would check it
//! ([`VerifyReport::unchecked`]): without the public key, signatures (a chain recomputed by
//! someone without the key); without anchors (or an expected tip), records cut from the end.
//! Records after the last checkpoint are counted in [`VerifyReport::unsigned_tail`]. A process
//! crash never looks like tampering: a checkpoint signs only what the file already holds, the
//! file sink writes it before any other sink, and the key moves to the next epoch only once the
//! checkpoint is written (`e2e/tests/durability.rs` kills a writer twelve times and verifies
//! with the public key and the anchors each time). A machine crash under `fsync = interval` can
//! lose the last second of records, including ones an anchor already names: verify reports them
//! missing, which they are; `fsync = always` closes that window. Keep one key per log: the file sink refuses a key that
//! did not sign the log's last checkpoint.
//!
//! [`FileConfig::with_checkpoints`]: https://docs.rs/tracing-security-events/latest/tracing_security_events/sink/struct.FileConfig.html#method.with_checkpoints
//!

#[doc(hidden)]
pub mod chain;
pub mod checkpoint;
mod epoch_key;
mod key_chain;
mod otlp_anchors;
mod trail;
mod verify;

pub use chain::GENESIS;
pub use checkpoint::{parse_public_key, Checkpoint, TimestampCheck, CHECKPOINT_EVENT};
/// An Ed25519 public key: epoch 0's, as `security-log keygen` prints it, verifies a log's
/// checkpoints.
pub use ed25519_dalek::VerifyingKey as PublicKey;
pub use epoch_key::EpochKey;
pub use otlp_anchors::{checkpoints_in_otlp_json, is_otlp_json};
pub use trail::{FILES_REMOVED_EVENT, MOVED_AWAY};
pub use verify::{
    verify, verify_records, verify_records_after_removals, verify_with, Location, Problem,
    ProblemKind, RemovedRows, VerifyOptions, VerifyReport,
};
