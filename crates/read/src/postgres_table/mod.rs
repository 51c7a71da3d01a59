//! The PostgreSQL table the sink writes and the store reads (feature `postgres`): its
//! migrations and checks, how values are put in its columns, its name, connecting to it, and
//! what goes wrong. Both sides import it; neither imports the other.

mod columns;
mod error;
mod names;
pub mod partitions;
pub mod schema;

pub use columns::{clean, severity_rank};
pub use error::PostgresError;
pub use names::{check_table_name, redacted_url, DEFAULT_TABLE};

/// What the database said: its own message and code when it sent one (`postgres::Error`'s
/// `Display` says only "db error"), otherwise the driver's.
pub fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
