//! Writes a realistic security log through the layer itself, for the tests, the benchmarks and
//! for trying `security-log` on something that looks like production:
//!
//! ```text
//! cargo run --release --example generate_log -- DIR [--records N] [--rotate-mb M] [--seed S] [--days D] [--checkpoint-key FILE] [--actors N] [--index]
//! ```
//!
//! With `--checkpoint-key`, the file sink signs checkpoints with that key (made when missing).
//! With `--actors N`, N actors and addresses, most seldom seen (the default: 400 as active as
//! each other). With `--index`, the file sink leaves its index beside each rotated file.
//!
//! What it writes is described in `support/synthetic_log.rs`.

#![allow(clippy::print_stdout, reason = "an example says what it wrote")]

use std::path::PathBuf;

#[path = "support/synthetic_log.rs"]
mod synthetic_log;

use synthetic_log::SyntheticLog;

struct Options {
    dir: PathBuf,
    records: u64,
    rotate_mb: u64,
    seed: u64,
    days: u64,
    checkpoint_key: Option<PathBuf>,
    actors: Option<usize>,
    index: bool,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        dir: PathBuf::new(),
        records: 100_000,
        rotate_mb: 64,
        seed: 7,
        days: 30,
        checkpoint_key: None,
        actors: None,
        index: false,
    };
    let usage = "usage: generate_log DIR [--records N] [--rotate-mb M] [--seed S] [--days D] \
                 [--checkpoint-key FILE] [--actors N] [--index]";
    let mut dir = None;
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{usage}"))
        };
        match arg.as_str() {
            "--records" => options.records = number("--records")?,
            "--rotate-mb" => options.rotate_mb = number("--rotate-mb")?.max(1),
            "--seed" => options.seed = number("--seed")?,
            "--days" => options.days = number("--days")?.max(1),
            "--actors" => {
                options.actors =
                    Some(usize::try_from(number("--actors")?.max(1)).map_err(|e| e.to_string())?);
            }
            "--index" => options.index = true,
            "--checkpoint-key" => {
                let file = args
                    .next()
                    .ok_or(format!("--checkpoint-key needs a file\n{usage}"))?;
                options.checkpoint_key = Some(PathBuf::from(file));
            }
            other if !other.starts_with('-') && dir.is_none() => dir = Some(PathBuf::from(other)),
            other => return Err(format!("unknown argument {other}\n{usage}")),
        }
    }
    options.dir = dir.ok_or(usage)?;
    Ok(options)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let log = SyntheticLog {
        records: options.records,
        rotate_mb: options.rotate_mb,
        seed: options.seed,
        days: options.days,
        checkpoint_key: options.checkpoint_key,
        actors: options.actors,
        index: options.index,
    };
    let stats = log.write(&options.dir)?;
    println!(
        "wrote {} records to {} ({} dropped)",
        stats.written,
        options.dir.display(),
        stats.dropped
    );
    Ok(())
}
