//! What a job records: its params.toml ([`JobFile`]: parameters, outcome
//! and the SHA-256 of every file), a row of summary.csv, and how numbers are
//! written as text (shortest round-trip form, SPEC 6).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Value;

use super::layout::{CURVE, FILES_TABLE, HASHED_FILES, JOBS, PARAMS};
use std::sync::Arc;

use crate::spec::{KEYS, Key, Typed};
use crate::train::Summary;

/// Shortest text that reads back to the same f64; `NaN`, `inf`, `-inf` for
/// the rest (pandas reads all of them).
pub fn fmt_f64(v: f64) -> String {
    let mut s = String::new();
    write_f64(&mut s, v);
    s
}

pub(super) fn write_f64(out: &mut impl std::fmt::Write, v: f64) {
    let _ = if v.is_nan() {
        out.write_str("NaN")
    } else if v.is_infinite() {
        out.write_str(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        write!(out, "{v:?}")
    };
}

/// Appends [`fmt_f64`]'s text of `v` to `out` (no allocation).
pub fn write_f64_bytes(out: &mut Vec<u8>, v: f64) {
    use std::io::Write as _;
    let _ = if v.is_nan() {
        out.write_all(b"NaN")
    } else if v.is_infinite() {
        out.write_all(if v > 0.0 { b"inf" } else { b"-inf" })
    } else {
        write!(out, "{v:?}")
    };
}

/// Parses what [`fmt_f64`] writes (and plain numbers).
pub fn parse_f64(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// What a finished job records besides its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub status: String,
    pub final_loss: f64,
    pub final_accuracy: f64,
    pub final_test_loss: Option<f64>,
    pub final_test_accuracy: Option<f64>,
    pub min_loss: f64,
    pub epoch_at_target: Option<u64>,
    pub diverged_epoch: Option<u64>,
    /// SHA-256 of the [`JobFile::files`] hashes of curve.csv,
    /// predictions.csv and model.json (first 16 hex digits): one value that
    /// says whether two jobs wrote the same bytes (`diff` compares it).
    pub files_hash: String,
}

impl JobOutcome {
    pub fn new(summary: &Summary, files_hash: String) -> JobOutcome {
        let last = &summary.last;
        JobOutcome {
            status: if summary.diverged() { "diverged" } else { "ok" }.to_string(),
            final_loss: last.loss,
            final_accuracy: last.accuracy,
            final_test_loss: last.test_loss,
            final_test_accuracy: last.test_accuracy,
            min_loss: summary.min_loss,
            epoch_at_target: summary.epoch_at_target.map(|e| e as u64),
            diverged_epoch: summary.diverged_epoch.map(|e| e as u64),
            files_hash,
        }
    }

    pub fn diverged(&self) -> bool {
        self.status == "diverged"
    }
}

/// The contents of a job's params.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFile {
    pub job_id: String,
    pub seed: u64,
    pub config_hash: String,
    /// The folder that relative paths in `params` (a CSV data set, a weights
    /// file) resolve against: the manifest's, absolute. Only jobs that read a
    /// file have it, so other results do not depend on where they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths_relative_to: Option<String>,
    /// The classes of a CSV data set, as in the file (class i is target i).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Every parameter, in SPEC order.
    pub params: toml::Table,
    pub result: JobOutcome,
    /// SHA-256 (hex) of every file of the job, by file name; params.toml's
    /// covers its own text above the `[files]` table. Empty in folders
    /// written before hashes were recorded.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// A job file that does not match its recorded hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    Missing(&'static str),
    Changed(&'static str),
    /// params.toml records no hashes (written by an older sweep).
    Unrecorded,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Missing(name) => write!(f, "MISSING {name}"),
            Damage::Changed(name) => write!(f, "CHANGED {name}"),
            Damage::Unrecorded => write!(f, "UNRECORDED {PARAMS} records no file hashes"),
        }
    }
}

impl JobFile {
    /// A parameter as a person reads it (strings bare, lists inline).
    pub fn param(&self, key: &str) -> String {
        self.params.get(key).map(crate::spec::display_value).unwrap_or_default()
    }

    /// The configuration as text: seed and every parameter in SPEC order,
    /// as [`crate::plan::Plan::config_text`] writes it for the plan's jobs.
    pub fn config_text(&self) -> String {
        let mut s = format!("seed = {}\n", self.seed);
        for k in KEYS {
            if let Some(v) = self.params.get(k.name) {
                s.push_str(&format!("{} = {v}\n", k.name));
            }
        }
        s
    }

    pub(super) fn to_toml(&self) -> String {
        // Written by hand so parameters keep SPEC order (toml::Table sorts).
        let mut s = String::from("# One sweep job: its parameters, configuration hash and outcome.\n");
        s.push_str(&format!("job_id = {}\n", Value::String(self.job_id.clone())));
        s.push_str(&format!("seed = {}\n", self.seed));
        s.push_str(&format!("config_hash = \"{}\"\n", self.config_hash));
        if let Some(dir) = &self.paths_relative_to {
            s.push_str(&format!("paths_relative_to = {}\n", Value::String(dir.clone())));
        }
        if let Some(classes) = &self.classes {
            let list = Value::Array(classes.iter().map(|c| Value::String(c.clone())).collect());
            s.push_str(&format!("classes = {list}\n"));
        }
        s.push_str("\n[params]\n");
        for k in KEYS {
            if let Some(v) = self.params.get(k.name) {
                s.push_str(&format!("{} = {v}\n", k.name));
            }
        }
        s.push_str("\n[result]\n");
        s.push_str(&toml::to_string(&self.result).expect("outcome serializes"));
        let own = sha256_hex(s.as_bytes());
        s.push_str(FILES_TABLE);
        s.push_str(&format!("# SHA-256 of each file; {PARAMS}'s covers the lines above [files]\n"));
        for name in HASHED_FILES {
            let hash = if name == PARAMS { Some(&own) } else { self.files.get(name) };
            if let Some(h) = hash {
                s.push_str(&format!("\"{name}\" = \"{h}\"\n"));
            }
        }
        s
    }
}

/// The parameters of a summary row: one typed value per row of [`KEYS`],
/// in that order, checked once when the row is read (None where an older
/// sweep's params.toml lacks the key). Readers take values as they are
/// (numbers as numbers, choices by name) and never parse displayed text.
///
/// Rows of one configuration can share one set (cloning is a reference
/// count): a reader holding many rows holds each configuration once.
#[derive(Debug, Clone, PartialEq)]
pub struct Params(Arc<[Option<Typed>]>);

impl Params {
    /// The parameters of a params.toml's `[params]` table. A value the table
    /// no longer accepts (written by an older sweep) is kept as its text.
    pub fn from_table(table: &toml::Table) -> Params {
        Params(
            KEYS.iter()
                .map(|k| {
                    let v = table.get(k.name)?;
                    Some(k.typed(v).unwrap_or_else(|_| Typed::Str(crate::spec::display_value(v))))
                })
                .collect(),
        )
    }

    /// Values in [`KEYS`] order (None: absent).
    pub fn from_values(values: Vec<Option<Typed>>) -> Params {
        Params(values.into())
    }

    /// A parameter's value (None: not a key, or absent from the row).
    pub fn get(&self, key: &str) -> Option<&Typed> {
        let i = KEYS.iter().position(|k| k.name == key)?;
        self.0.get(i)?.as_ref()
    }

    /// Every key with its value, in [`KEYS`] order.
    pub fn typed(&self) -> impl Iterator<Item = (&'static Key, Option<&Typed>)> {
        KEYS.iter().zip(self.0.iter().map(Option::as_ref))
    }

    /// (key, cell of summary.csv) in [`KEYS`] order: the value displayed
    /// ([`Typed`]'s `Display`), empty when absent.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.typed().map(|(k, v)| (k.name, v.map(ToString::to_string).unwrap_or_default()))
    }
}

/// One row of summary.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub job_id: String,
    pub seed: u64,
    /// Every parameter, typed, [`KEYS`] order.
    pub params: Params,
    pub outcome: JobOutcome,
    /// curve.csv relative to the results folder.
    pub curve: String,
}

impl SummaryRow {
    pub fn from_job(job: &JobFile) -> SummaryRow {
        SummaryRow::with_params(job, Params::from_table(&job.params))
    }

    /// The row of `job`, with its parameters already typed (shared).
    pub fn with_params(job: &JobFile, params: Params) -> SummaryRow {
        SummaryRow {
            job_id: job.job_id.clone(),
            seed: job.seed,
            params,
            outcome: job.result.clone(),
            curve: format!("{JOBS}/{}/{CURVE}", job.job_id),
        }
    }

    /// A parameter's typed value (None: absent).
    pub fn param(&self, key: &str) -> Option<&Typed> {
        self.params.get(key)
    }

    /// A parameter as displayed (summary.csv's cell; empty when absent).
    pub fn shown(&self, key: &str) -> String {
        self.param(key).map(ToString::to_string).unwrap_or_default()
    }

    /// A choice-valued parameter as its enum: absent, the key's default
    /// (what a job of an older sweep without the key trained with). None:
    /// not one of the enum's names (a file path), or not a choice.
    pub fn choice<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        match self.param(key) {
            Some(Typed::Str(name)) => name.parse().ok(),
            Some(_) => None,
            None => match crate::spec::find_key(key)?.kind {
                crate::spec::Kind::Choice { default, .. } => default.parse().ok(),
                _ => None,
            },
        }
    }
}
