//! `security-log help [TOPIC]`, `completions SHELL` and `man`: what the command says of itself,
//! all generated from its clap definition (and the query language's own tables).

use std::io::{self, Write};

use clap::{Args, CommandFactory};

use crate::failure::Failure;
use crate::Cli;

/// Help: `help query` for the query language, `help COMMAND` for a command's options.
#[derive(Args)]
pub(crate) struct HelpArgs {
    /// query, or a command.
    topic: Option<String>,
}

impl HelpArgs {
    pub(crate) fn run(self) -> Result<bool, Failure> {
        let mut out = io::stdout().lock();
        let mut command = Cli::command();
        match self.topic.as_deref() {
            Some("query") => super::help_query::print(&mut out)?,
            Some(name) => {
                let known: Vec<String> = command
                    .get_subcommands()
                    .map(|sub| sub.get_name().to_owned())
                    .filter(|sub| sub != "help")
                    .collect();
                let Some(sub) = command.find_subcommand_mut(name) else {
                    return Err(Failure::Error(format!(
                        "help: no command or topic `{name}` ({})",
                        known.join(", ")
                    )));
                };
                write!(out, "{}", sub.render_long_help())?;
            }
            None => write!(out, "{}", command.render_long_help())?,
        }
        out.flush()?;
        Ok(true)
    }
}

/// A completion script for a shell, to stdout.
#[derive(Args)]
#[command(
    after_help = "Example (bash-completion reads ~/.local/share/bash-completion/completions/):\n  \
    security-log completions bash > security-log.bash"
)]
pub(crate) struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    shell: clap_complete::Shell,
}

impl CompletionsArgs {
    pub(crate) fn run(self) -> Result<bool, Failure> {
        // Generated into memory first: clap_complete panics when its writer fails (a closed
        // pipe).
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "security-log", &mut script);
        let mut out = io::stdout().lock();
        out.write_all(&script)?;
        out.flush()?;
        Ok(true)
    }
}

/// The manual page (roff), to stdout.
pub(crate) fn man() -> Result<bool, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    let mut out = io::stdout().lock();
    out.write_all(&page)?;
    out.flush()?;
    Ok(true)
}
