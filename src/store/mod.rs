//! The results folder (SPEC 6), in four parts:
//!
//! - [`layout`]: every file and folder name of a results folder, and which
//!   folders are sweep's to write into (ownership, links, the marker);
//! - [`record`]: what a job records (params.toml, its outcome, the file
//!   hashes, a summary row) and how numbers are written as text;
//! - [`write`]: writing job folders whole and committing them durably;
//! - [`pack`]: the packed layout (a chunk's jobs appended to one data file
//!   and its index) and [`JobRef`], where a job is, which every reader takes;
//! - [`read`]: reading them back and checking them against their hashes.
//!
//! ```text
//! <out>/manifest.toml  summary.csv  timing.csv  report.md  report.html
//! <out>/jobs/<job_id>/{params.toml, curve.csv, predictions.csv, model.json}
//! <out>/packs/<I>-<N>.<first>.{data,index.csv}   the packed layout's jobs
//! <out>/figures/       the report's figures (and .sweep-figures, their list)
//! <out>/slurm/         the scripts `sweep slurm` submits
//! <out>/.sweep/results-folder   the marker: this folder is sweep's own
//! <out>/.sweep/tmp/              sweep's temporary place: job folders and
//!                                files being written (renamed when whole)
//! ```
//!
//! Ownership (SPEC 6): sweep writes into a folder only once it carries the
//! marker, which it adds to a new or empty folder (or a results folder of an
//! older sweep: `manifest.toml` and `jobs/` and nothing foreign). It cleans
//! up only inside its own temporary place, never through a symbolic link.

use std::io;
use std::path::{Path, PathBuf};

pub mod layout;
pub mod pack;
pub mod read;
pub mod record;
pub mod varint;
pub mod write;

pub use layout::*;
pub use pack::{JobIndex, JobRef, PackWriter, PackedJob, Slot, SlotRuns};
pub use read::*;
pub use record::*;
pub use write::*;

/// An I/O failure, with the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A folder sweep may not write into (not a results folder, or a link
    /// where sweep keeps its own files): a usage error, nothing was changed.
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
}

impl StoreError {
    /// The same error again (for each of several jobs it stops).
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Io { path, source } => StoreError::Io {
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            StoreError::Format { path, message } => {
                StoreError::Format { path: path.clone(), message: message.clone() }
            }
            StoreError::Refused { path, message } => {
                StoreError::Refused { path: path.clone(), message: message.clone() }
            }
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}
