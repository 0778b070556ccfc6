//! `sweep`: parse the command line, dispatch, print errors in one place and
//! map them to exit codes (0 ok, 1 run-time failure, 2 bad usage/manifest).

use std::process::ExitCode;

use clap::Parser;
use sweep::cli::{Cli, Command, SUBCOMMANDS};
use sweep::commands::{self, Failure};

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args_os().collect()));
    let result = match cli.command {
        Command::Run(args) => commands::run(&args),
        Command::Plan(args) => commands::plan(&args),
        Command::Report(args) => commands::report(&args),
        Command::Diff(args) => commands::diff(&args),
        Command::Summarize { dir } => commands::summarize(&dir),
        Command::Verify { dir, sample, threads } => commands::verify(&dir, sample, threads),
        Command::Export(args) => commands::export(&args),
        Command::Prune { dir, delete } => commands::prune(&dir, delete),
        Command::Slurm(args) => commands::slurm(&args),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `sweep MANIFEST...` means `sweep run MANIFEST...`.
fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).map(|a| a.to_string_lossy().into_owned());
    if let Some(first) = first
        && !first.starts_with('-')
        && !SUBCOMMANDS.contains(&first.as_str())
    {
        args.insert(1, "run".into());
    }
    args
}
