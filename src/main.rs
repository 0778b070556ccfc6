//! `sweep`: parse the command line, dispatch, print errors in one place and
//! map them to exit codes by their kind (0 ok, or a reader closed stdout;
//! 1 a run-time failure; 2 bad usage, a bad manifest or a refusal; 130 an
//! interrupted run, returned by `run` itself).

use std::process::ExitCode;

use clap::Parser;
use sweep::cli::{Cli, Command};
use sweep::commands;
use sweep::error::{Error, Kind};

fn main() -> ExitCode {
    let command = Cli::parse().into_command().unwrap_or_else(|e| e.exit());
    let result = match command {
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
        Err(e) => report(&e),
    }
}

/// The one place a failure is printed: `error: ...`, then one `caused by:`
/// line per inner link; the exit code is the error's kind's. A closed stdout
/// (`sweep plan m.toml | head`) ends quietly.
fn report(e: &Error) -> ExitCode {
    if e.kind() != Kind::ClosedOutput {
        let mut chain = e.chain();
        if let Some(first) = chain.next() {
            eprintln!("error: {first}");
        }
        for cause in chain {
            eprintln!("caused by: {cause}");
        }
    }
    ExitCode::from(e.kind().exit_code())
}
