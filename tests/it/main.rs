//! The integration tests, as one test binary: one link step instead of one
//! per file, so an edit to the library rebuilds the suite once.
//!
//! Run a group by its module path: `cargo test --test it golden::`,
//! `cargo test --test it slurm::` (its job-array test needs a running
//! Slurm, see `scripts/slurm-local.sh`, or SWEEP_SKIP_SLURM=1).

mod bad_input;
mod cli;
mod column_names;
mod common;
mod diff;
mod fuzz;
mod golden;
mod lab_outcomes;
mod messages;
mod ncrun;
mod no_alloc;
mod out_file;
mod packed;
mod real_data;
mod reliability;
mod report;
mod report_html;
mod run;
mod runsafe;
mod save;
mod save_report;
mod slurm;
mod study_manifest;
mod trial;
mod trust;
