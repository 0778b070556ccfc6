//! `sweep`: train many small neural networks from a TOML manifest and compare
//! them.
//!
//! Data flow, one module per step:
//!
//! ```text
//! manifest (TOML -> validated)  ->  plan (ordered jobs, ids, shards)
//!   -> spec (one job's typed parameters)
//!   -> train (data, nn, optim: one job's epoch loop -> records)
//!   -> runner (rayon; progress events) -> store (every file and CSV column)
//!   -> report / diff (read the files back)
//! ```
//!
//! The math lives in [`nn`] (forward, back-propagation, losses) and [`optim`];
//! nn's matrix products in `kernels`, on the instruction sets of `simd`.

pub mod cli;
pub mod commands;
pub mod data;
pub mod diff;
pub mod error;
pub mod export;
pub mod fastmath;
pub mod interrupt;
mod kernels;
pub mod lock;
pub mod manifest;
pub mod nn;
pub mod optim;
pub mod plan;
pub mod progress;
pub mod report;
pub mod rng;
pub mod runner;
mod simd;
pub mod slurm;
pub mod spec;
pub mod stats;
pub mod store;
pub mod train;
pub mod weights;

/// `n` and a noun that takes an `s` in the plural: `1 job`, `2 jobs`, `0 rows`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
