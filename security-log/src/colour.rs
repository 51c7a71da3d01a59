//! `--color auto|always|never`, with the conventions other tools follow: `auto` colours a
//! terminal only, and not when `NO_COLOR` is set (<https://no-color.org>) or `TERM=dumb`.

use clap::ValueEnum;

/// When tables are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColourChoice {
    /// On a terminal that can show colours.
    Auto,
    /// Always, even into a pipe (`| less -R`).
    Always,
    /// Never.
    Never,
}

impl ColourChoice {
    /// Whether to colour output going to a terminal (`terminal`) or not.
    pub(crate) fn enabled(self, terminal: bool) -> bool {
        match self {
            ColourChoice::Always => true,
            ColourChoice::Never => false,
            ColourChoice::Auto => {
                terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
            }
        }
    }
}
