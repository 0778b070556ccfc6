//! What a failed command reports: the library error, the context the command
//! adds, and a [`Kind`] that decides the exit code.
//!
//! Each library boundary has its own error type (`ManifestError`,
//! `StoreError`, `RunError`, `DiffError`, `ReportError`, `SlurmError`); each
//! says its own [`Kind`] through [`Classify`], so `?` in a command keeps the
//! kind the library chose instead of one picked at the call site. `main.rs`
//! prints an [`Error`] once, outermost context first:
//!
//! ```text
//! error: cannot compare results/a and results/b
//! caused by: results/a: no finished jobs (no rows in summary.csv and no jobs/*/params.toml)
//! ```
//!
//! A library error's message is complete: it names its own cause (the
//! operating system's words for an I/O error, say), so the chain is the
//! contexts the commands add, then that message, and nothing is said twice.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use crate::diff::DiffError;
use crate::manifest::ManifestError;
use crate::report::ReportError;
use crate::runner::RunError;
use crate::slurm::SlurmError;
use crate::store::StoreError;

/// How a failure ends the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something failed while working (I/O above all): exit 1.
    Runtime,
    /// Bad usage, a bad manifest, or a refusal (a huge plan without `--yes`,
    /// a folder with nothing to compare): exit 2. Nothing was written.
    Usage,
    /// Standard output was closed by its reader (`sweep plan m.toml | head`):
    /// a quiet exit 0, as the reader asked for no more.
    ClosedOutput,
}

impl Kind {
    /// The process exit code.
    pub const fn exit_code(self) -> u8 {
        match self {
            Kind::ClosedOutput => 0,
            Kind::Runtime => 1,
            Kind::Usage => 2,
        }
    }

    /// The kind of an I/O error: a closed pipe is the reader leaving, anything
    /// else a run-time failure.
    pub fn of_io(e: &io::Error) -> Kind {
        if e.kind() == io::ErrorKind::BrokenPipe { Kind::ClosedOutput } else { Kind::Runtime }
    }
}

/// A library error that knows which [`Kind`] of failure it is.
pub trait Classify: StdError + Send + Sync + 'static {
    fn kind(&self) -> Kind;
}

impl Classify for ManifestError {
    fn kind(&self) -> Kind {
        Kind::Usage
    }
}

/// A [`StoreError`] returned as is comes from writing standard output
/// (`sweep export`), where a closed pipe is the reader leaving; inside the
/// other library errors it comes from the results folder, a run-time failure.
impl Classify for StoreError {
    fn kind(&self) -> Kind {
        match self {
            StoreError::Io { source, .. } => Kind::of_io(source),
            StoreError::Format { .. } => Kind::Runtime,
            // A folder sweep will not write into (not its own, another
            // study's): nothing was changed, and the user must choose.
            StoreError::Refused { .. } => Kind::Usage,
        }
    }
}

impl Classify for RunError {
    fn kind(&self) -> Kind {
        match self {
            // A refusal keeps its kind (exit 2, nothing changed); a closed
            // pipe inside a run is a results file failing, not a reader leaving.
            RunError::Store(e) if e.kind() == Kind::Usage => Kind::Usage,
            RunError::Store(_) | RunError::Pool { .. } => Kind::Runtime,
        }
    }
}

impl Classify for DiffError {
    fn kind(&self) -> Kind {
        match self {
            // A refusal (a results folder whose study is unknown) keeps its kind.
            DiffError::Store(e) if e.kind() == Kind::Usage => Kind::Usage,
            DiffError::Store(_) => Kind::Runtime,
            DiffError::NotAFolder { .. }
            | DiffError::NoJobs { .. }
            | DiffError::Alpha { .. }
            | DiffError::UnknownChoice { .. }
            | DiffError::NotAMetric { .. }
            | DiffError::NoTestSplit { .. } => Kind::Usage,
        }
    }
}

impl Classify for ReportError {
    fn kind(&self) -> Kind {
        match self {
            ReportError::NoJobs { .. } => Kind::Usage,
            ReportError::Store(e) if e.kind() == Kind::Usage => Kind::Usage,
            ReportError::Store(_) | ReportError::Write { .. } | ReportError::Figure { .. } => Kind::Runtime,
        }
    }
}

impl Classify for SlurmError {
    fn kind(&self) -> Kind {
        match self {
            SlurmError::Unscriptable { .. } => Kind::Usage,
            SlurmError::Store(e) => e.kind(),
            _ => Kind::Runtime,
        }
    }
}

impl Classify for io::Error {
    fn kind(&self) -> Kind {
        Kind::of_io(self)
    }
}

/// A command's failure: its kind, what the command was doing (outermost
/// first) and the error that stopped it.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
    context: Vec<String>,
    cause: Box<dyn StdError + Send + Sync>,
}

/// A failure the command itself detects (a flag that contradicts another).
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

impl Error {
    /// Bad usage or a refusal, said by the command: exit 2.
    pub fn usage(message: impl Into<String>) -> Error {
        Error { kind: Kind::Usage, context: Vec::new(), cause: Box::new(Message(message.into())) }
    }

    /// A run-time failure said by the command: exit 1.
    pub fn runtime(message: impl Into<String>) -> Error {
        Error { kind: Kind::Runtime, context: Vec::new(), cause: Box::new(Message(message.into())) }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Adds what the command was doing, outside what is already there.
    pub fn context(mut self, what: impl Into<String>) -> Error {
        self.context.insert(0, what.into());
        self
    }

    /// The messages to print, outermost first: the contexts, then the cause.
    pub fn chain(&self) -> impl Iterator<Item = String> + '_ {
        self.context.iter().cloned().chain(std::iter::once(self.cause.to_string()))
    }

    /// The library error that stopped the command, to inspect its fields.
    pub fn cause(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.cause
    }
}

/// One line: the chain joined by ": " (for logs and tests; `main` prints
/// one line per link).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for link in self.chain() {
            if !first {
                f.write_str(": ")?;
            }
            f.write_str(&link)?;
            first = false;
        }
        Ok(())
    }
}

/// Every library error converts with the kind it says; there is no
/// conversion from an error that does not know its kind.
impl<E: Classify> From<E> for Error {
    fn from(e: E) -> Error {
        Error { kind: e.kind(), context: Vec::new(), cause: Box::new(e) }
    }
}

/// `.context(..)` and `.with_context(..)` on a library result.
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T, Error>;
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T, Error>;
}

impl<T, E: Into<Error>> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|e| e.into().context(what))
    }

    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T, Error> {
        self.map_err(|e| e.into().context(what()))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn the_kind_decides_the_exit_code() {
        assert_eq!(Kind::Runtime.exit_code(), 1);
        assert_eq!(Kind::Usage.exit_code(), 2);
        assert_eq!(Kind::ClosedOutput.exit_code(), 0);
    }

    #[test]
    fn a_library_error_keeps_its_kind_through_question_mark() {
        fn refuse() -> Result<(), Error> {
            Err(DiffError::NoJobs { path: PathBuf::from("a") })?;
            Ok(())
        }
        fn fail() -> Result<(), Error> {
            Err(StoreError::Io { path: PathBuf::from("a"), source: io::Error::other("disk on fire") })?;
            Ok(())
        }
        assert_eq!(refuse().unwrap_err().kind(), Kind::Usage);
        assert_eq!(fail().unwrap_err().kind(), Kind::Runtime);
    }

    #[test]
    fn a_closed_pipe_on_standard_output_is_its_own_kind() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(Error::from(pipe()).kind(), Kind::ClosedOutput);
        let store = || StoreError::Io { path: PathBuf::from("-"), source: pipe() };
        assert_eq!(Error::from(store()).kind(), Kind::ClosedOutput);
        // Inside a run, a broken pipe is a results file's failure, not a reader leaving.
        assert_eq!(Error::from(RunError::Store(store())).kind(), Kind::Runtime);
    }

    #[test]
    fn bad_input_is_usage_and_a_failed_submission_run_time() {
        let origin = crate::manifest::Origin::Set("x".into());
        assert_eq!(Error::from(ManifestError::at(&origin, "bad")).kind(), Kind::Usage);
        let unscriptable = SlurmError::Unscriptable { what: "--time", value: "\n".into(), why: "a newline" };
        assert_eq!(Error::from(unscriptable).kind(), Kind::Usage);
        assert_eq!(Error::from(SlurmError::NoSbatch).kind(), Kind::Runtime);
        assert_eq!(Error::from(ReportError::NoJobs { dir: PathBuf::from("r") }).kind(), Kind::Usage);
        assert_eq!(Error::usage("x").kind(), Kind::Usage);
        assert_eq!(Error::runtime("x").kind(), Kind::Runtime);
    }

    #[test]
    fn context_goes_outside_and_each_message_is_said_once() {
        let e = Err::<(), _>(DiffError::NoJobs { path: PathBuf::from("a") })
            .context("cannot compare a and b")
            .unwrap_err()
            .context("diff");
        let chain: Vec<String> = e.chain().collect();
        assert_eq!(chain.len(), 3, "{chain:?}");
        assert_eq!(chain[0], "diff");
        assert_eq!(chain[1], "cannot compare a and b");
        assert!(chain[2].starts_with("a: no finished jobs"), "{chain:?}");
        assert_eq!(e.to_string(), chain.join(": "));
        assert!(e.cause().downcast_ref::<DiffError>().is_some());
    }
}
