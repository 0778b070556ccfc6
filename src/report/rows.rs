//! The rows the report holds: one compact [`Row`] a job (88 bytes: seed,
//! shared typed parameters, the outcome's six numbers and a few flags),
//! every job id in one text, and a job's place only where it is not the
//! usual `jobs/<id>/`. A [`SummaryRow`] is about 250 bytes with its id and
//! paths; at 100,000 jobs the report held 25 MB of them.
//!
//! Only what the report reads is kept: not the files hash, not a status
//! other than `diverged`, not `min_loss`, not the curve's path (the report
//! reads every curve from the job's place, as `summary.csv` records it for
//! sweep's own folders).

use std::collections::HashMap;
use std::path::Path;

use crate::spec::Typed;
use crate::store::{self, JobRef, Params, StoreError, SummaryRow};

/// Bits of [`Outcome::flags`].
const DIVERGED: u8 = 1;
const TEST_LOSS: u8 = 1 << 1;
const TEST_ACCURACY: u8 = 1 << 2;
const AT_TARGET: u8 = 1 << 3;
const DIVERGED_EPOCH: u8 = 1 << 4;
/// The job is stored elsewhere than the usual `jobs/<id>/` (see
/// [`Rows::place`]).
const ELSEWHERE: u8 = 1 << 5;

/// What a finished job records, as the report reads it: the numbers of
/// [`store::JobOutcome`] it uses, an absent one flagged rather than held as
/// an `Option` (16 bytes each).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    final_loss: f64,
    final_accuracy: f64,
    final_test_loss: f64,
    final_test_accuracy: f64,
    epoch_at_target: u64,
    diverged_epoch: u64,
    flags: u8,
}

impl Outcome {
    fn of(o: &store::JobOutcome) -> Outcome {
        let bit = |present: bool, b: u8| if present { b } else { 0 };
        Outcome {
            final_loss: o.final_loss,
            final_accuracy: o.final_accuracy,
            final_test_loss: o.final_test_loss.unwrap_or_default(),
            final_test_accuracy: o.final_test_accuracy.unwrap_or_default(),
            epoch_at_target: o.epoch_at_target.unwrap_or_default(),
            diverged_epoch: o.diverged_epoch.unwrap_or_default(),
            flags: bit(o.diverged(), DIVERGED)
                | bit(o.final_test_loss.is_some(), TEST_LOSS)
                | bit(o.final_test_accuracy.is_some(), TEST_ACCURACY)
                | bit(o.epoch_at_target.is_some(), AT_TARGET)
                | bit(o.diverged_epoch.is_some(), DIVERGED_EPOCH),
        }
    }

    fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }

    /// Whether the job's status says it diverged (see also
    /// [`super::aggregate::diverged`], which counts a non-finite loss too).
    pub fn diverged(&self) -> bool {
        self.has(DIVERGED)
    }
    pub fn final_loss(&self) -> f64 {
        self.final_loss
    }
    pub fn final_accuracy(&self) -> f64 {
        self.final_accuracy
    }
    pub fn final_test_loss(&self) -> Option<f64> {
        self.has(TEST_LOSS).then_some(self.final_test_loss)
    }
    pub fn final_test_accuracy(&self) -> Option<f64> {
        self.has(TEST_ACCURACY).then_some(self.final_test_accuracy)
    }
    pub fn epoch_at_target(&self) -> Option<u64> {
        self.has(AT_TARGET).then_some(self.epoch_at_target)
    }
    pub fn diverged_epoch(&self) -> Option<u64> {
        self.has(DIVERGED_EPOCH).then_some(self.diverged_epoch)
    }
}

/// One job as the report holds it; its id and place are in its [`Rows`].
/// The outcome's numbers are fields of the row (an [`Outcome`] of its own
/// would pad its flags to 8 bytes): [`Row::outcome`] reads them.
#[derive(Debug, Clone)]
pub struct Row {
    pub seed: u64,
    /// Every parameter, typed (shared by the rows of one configuration).
    pub params: Params,
    final_loss: f64,
    final_accuracy: f64,
    final_test_loss: f64,
    final_test_accuracy: f64,
    epoch_at_target: u64,
    diverged_epoch: u64,
    /// The id's bytes in [`Rows::ids`].
    id_start: usize,
    id_len: u32,
    flags: u8,
}

impl Row {
    /// The job's outcome.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            final_loss: self.final_loss,
            final_accuracy: self.final_accuracy,
            final_test_loss: self.final_test_loss,
            final_test_accuracy: self.final_test_accuracy,
            epoch_at_target: self.epoch_at_target,
            diverged_epoch: self.diverged_epoch,
            flags: self.flags,
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

    /// A choice-valued parameter as its enum, as [`SummaryRow::choice`].
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

/// The rows of a results folder, in the order [`store::each_row`] gives
/// them (plan order), with their ids and places.
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<Row>,
    /// Every job id, each followed by a newline.
    ids: String,
    /// Where a job is stored when not in the usual `jobs/<id>/` (a packed
    /// job, a folder elsewhere), by its id's start in `ids`.
    places: HashMap<usize, JobRef>,
}

impl std::ops::Deref for Rows {
    type Target = [Row];
    fn deref(&self) -> &[Row] {
        &self.rows
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::slice::Iter<'a, Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

impl Rows {
    /// The folder's rows ([`store::each_row`]), room for `expected` made up
    /// front (at most 2^20: a larger plan of which few jobs ran reserves no
    /// more).
    pub fn read(dir: &Path, expected: usize) -> Result<Rows, StoreError> {
        let mut rows = Rows { rows: Vec::with_capacity(expected.min(1 << 20)), ..Rows::default() };
        let usual = dir.join(store::JOBS);
        store::each_row(dir, &mut |row| {
            rows.push(&row, &usual);
            Ok(())
        })?;
        rows.rows.shrink_to_fit();
        rows.ids.shrink_to_fit();
        Ok(rows)
    }

    /// Appends `row`; `jobs` is the folder's `jobs/`, where a job's usual
    /// place is `jobs/<id>/`.
    pub fn push(&mut self, row: &SummaryRow, jobs: &Path) {
        let id_start = self.ids.len();
        self.ids.push_str(&row.job_id);
        // A separator after each id: every row's start is its own (a key
        // of `places`), empty ids included.
        self.ids.push('\n');
        let mut o = Outcome::of(&row.outcome);
        let usual = matches!(&row.at, JobRef::Folder(p) if *p == jobs.join(&row.job_id));
        if !usual {
            o.flags |= ELSEWHERE;
            self.places.insert(id_start, row.at.clone());
        }
        self.rows.push(Row {
            seed: row.seed,
            params: row.params.clone(),
            final_loss: o.final_loss,
            final_accuracy: o.final_accuracy,
            final_test_loss: o.final_test_loss,
            final_test_accuracy: o.final_test_accuracy,
            epoch_at_target: o.epoch_at_target,
            diverged_epoch: o.diverged_epoch,
            id_start,
            id_len: u32::try_from(row.job_id.len()).unwrap_or(u32::MAX),
            flags: o.flags,
        });
    }

    /// Rows made whole (tests and small callers): each job in its usual
    /// place under `dir` unless its `at` says otherwise.
    pub fn from_rows(dir: &Path, rows: &[SummaryRow]) -> Rows {
        let mut held = Rows::default();
        let jobs = dir.join(store::JOBS);
        for r in rows {
            held.push(r, &jobs);
        }
        held
    }

    /// A row's job id.
    pub fn id(&self, row: &Row) -> &str {
        let end = row.id_start + row.id_len as usize;
        self.ids.get(row.id_start..end).unwrap_or_default()
    }

    /// Where a row's job is stored, under the results folder `dir`.
    pub fn place(&self, dir: &Path, row: &Row) -> std::borrow::Cow<'_, JobRef> {
        match self.places.get(&row.id_start) {
            Some(at) if row.flags & ELSEWHERE != 0 => std::borrow::Cow::Borrowed(at),
            _ => std::borrow::Cow::Owned(JobRef::Folder(dir.join(store::JOBS).join(self.id(row)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_what_the_report_reads_in_88_bytes() {
        assert!(std::mem::size_of::<Row>() <= 88, "{}", std::mem::size_of::<Row>());
        let dir = Path::new("results/baseline");
        let full = store::load_rows(dir).unwrap();
        let rows = Rows::read(dir, 4).unwrap();
        assert_eq!(rows.len(), full.len());
        for (r, f) in rows.iter().zip(&full) {
            assert_eq!((rows.id(r), r.seed, &r.params), (f.job_id.as_str(), f.seed, &f.params));
            let (o, ro) = (&f.outcome, r.outcome());
            assert_eq!(ro.diverged(), o.diverged());
            assert_eq!(ro.final_loss().to_bits(), o.final_loss.to_bits());
            assert_eq!(ro.final_accuracy().to_bits(), o.final_accuracy.to_bits());
            assert_eq!(ro.final_test_loss(), o.final_test_loss);
            assert_eq!(ro.final_test_accuracy(), o.final_test_accuracy);
            assert_eq!(ro.epoch_at_target(), o.epoch_at_target);
            assert_eq!(ro.diverged_epoch(), o.diverged_epoch);
            // The usual folder is not held, and is found where the row's
            // place and curve path point.
            assert!(!ro.has(ELSEWHERE), "{}", f.job_id);
            match rows.place(dir, r).as_ref() {
                JobRef::Folder(job) => {
                    assert_eq!(job, &dir.join(store::JOBS).join(&f.job_id));
                    assert_eq!(job.join(store::CURVE), dir.join(&f.curve));
                }
                other => panic!("{} is a folder job, not {other:?}", f.job_id),
            }
        }
        // A job stored elsewhere keeps its place.
        let mut moved = full[0].clone();
        moved.at = JobRef::folder("/somewhere/else");
        let held = Rows::from_rows(dir, &[moved.clone()]);
        assert_eq!(held.place(dir, &held[0]).as_ref(), &moved.at);
        // Two jobs elsewhere with empty ids keep their own places.
        let (mut a, mut b) = (moved.clone(), moved);
        (a.job_id, b.job_id) = (String::new(), String::new());
        b.at = JobRef::folder("/another/place");
        let held = Rows::from_rows(dir, &[a.clone(), b.clone()]);
        assert_eq!((held.id(&held[0]), held.id(&held[1])), ("", ""));
        assert_eq!(held.place(dir, &held[0]).as_ref(), &a.at);
        assert_eq!(held.place(dir, &held[1]).as_ref(), &b.at);
    }
}
