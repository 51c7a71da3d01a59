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
//! [`FileConfig::with_chain_key`]: crate::sink::FileConfig::with_chain_key

pub(crate) mod chain;
mod verify;

pub use chain::GENESIS;
pub use verify::{
    verify, verify_with, Location, Problem, ProblemKind, VerifyOptions, VerifyReport,
};
