//! The subcommands, one file each, and what they share.

mod export;
mod help;
mod help_query;
mod index;
mod keygen;
mod query;
mod stats;
mod tail;
mod verify;

pub(crate) use export::ExportArgs;
pub(crate) use help::{man, CompletionsArgs, HelpArgs};
pub(crate) use index::IndexArgs;
pub(crate) use keygen::KeygenArgs;
pub(crate) use query::QueryArgs;
pub(crate) use stats::StatsArgs;
pub(crate) use tail::TailArgs;
pub(crate) use verify::VerifyArgs;

use crate::colour::ColourChoice;

/// The global options every subcommand reads.
pub(crate) struct Context<'a> {
    /// With a postgres:// URL: the table.
    pub(crate) table: Option<&'a str>,
    /// When tables are coloured.
    pub(crate) colour: ColourChoice,
}
