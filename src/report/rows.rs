//! The rows the report holds: one compact [`Row`] a job (40 bytes: seed,
//! shared typed parameters, final loss and accuracy, and the outcome's
//! rarer numbers out of line only when present), every job id front-coded
//! in one buffer (a few bytes an id), and a job's place only where it is
//! not the usual `jobs/<id>/`: a packed job's as its pack's number and its
//! slot there ([`SlotRuns`]: some 10 bytes a job; a whole [`JobRef`] held
//! per packed row was 200), a folder elsewhere whole. A [`SummaryRow`] is
//! about 250 bytes with its id and paths; at 100,000 jobs the report held
//! 25 MB of them.
//!
//! Only what the report reads is kept: not the files hash, not a status
//! other than `diverged`, not `min_loss`, not the curve's path (the report
//! reads every curve from the job's place, as `summary.csv` records it for
//! sweep's own folders).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::spec::Typed;
use crate::store::{self, JobRef, PackedJob, Params, SlotRuns, StoreError, SummaryRow, varint};

/// Bits of [`Outcome::flags`] (and [`Rare::flags`]).
const DIVERGED: u8 = 1;
const TEST_LOSS: u8 = 1 << 1;
const TEST_ACCURACY: u8 = 1 << 2;
const AT_TARGET: u8 = 1 << 3;
const DIVERGED_EPOCH: u8 = 1 << 4;

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

/// The parts of an outcome most jobs lack (a test split, an epoch at the
/// target accuracy, a divergence), held out of the row only when one is
/// present: 40 bytes and an allocation for such a job, none for the others.
#[derive(Debug, Clone, PartialEq)]
struct Rare {
    final_test_loss: f64,
    final_test_accuracy: f64,
    epoch_at_target: u64,
    diverged_epoch: u64,
    /// Bits of [`Outcome::flags`].
    flags: u8,
}

impl Rare {
    /// The rare parts of `o` (None: it has none).
    fn of(o: &store::JobOutcome) -> Option<Box<Rare>> {
        let bit = |present: bool, b: u8| if present { b } else { 0 };
        let flags = bit(o.diverged(), DIVERGED)
            | bit(o.final_test_loss.is_some(), TEST_LOSS)
            | bit(o.final_test_accuracy.is_some(), TEST_ACCURACY)
            | bit(o.epoch_at_target.is_some(), AT_TARGET)
            | bit(o.diverged_epoch.is_some(), DIVERGED_EPOCH);
        (flags != 0).then(|| {
            Box::new(Rare {
                final_test_loss: o.final_test_loss.unwrap_or_default(),
                final_test_accuracy: o.final_test_accuracy.unwrap_or_default(),
                epoch_at_target: o.epoch_at_target.unwrap_or_default(),
                diverged_epoch: o.diverged_epoch.unwrap_or_default(),
                flags,
            })
        })
    }
}

/// One job as the report holds it, 40 bytes: its seed, its configuration's
/// parameters (one allocation per configuration, shared), the two numbers
/// of the outcome every job has, and the rare ones ([`Rare`]) when
/// present. Its id and place are in its [`Rows`], found by its index.
#[derive(Debug)]
pub struct Row {
    pub seed: u64,
    /// Every parameter, typed (shared by the rows of one configuration).
    pub params: Arc<Params>,
    final_loss: f64,
    final_accuracy: f64,
    rare: Option<Box<Rare>>,
}

impl Row {
    /// The job's outcome.
    pub fn outcome(&self) -> Outcome {
        let mut o = Outcome {
            final_loss: self.final_loss,
            final_accuracy: self.final_accuracy,
            final_test_loss: 0.0,
            final_test_accuracy: 0.0,
            epoch_at_target: 0,
            diverged_epoch: 0,
            flags: 0,
        };
        if let Some(r) = &self.rare {
            o.final_test_loss = r.final_test_loss;
            o.final_test_accuracy = r.final_test_accuracy;
            o.epoch_at_target = r.epoch_at_target;
            o.diverged_epoch = r.diverged_epoch;
            o.flags = r.flags;
        }
        o
    }

    /// A parameter's typed value (None: absent).
    pub fn param(&self, key: &str) -> Option<&Typed> {
        self.params.get(key)
    }

    /// A parameter as displayed ([`Params::shown`]).
    pub fn shown(&self, key: &str) -> String {
        self.params.shown(key)
    }

    /// A choice-valued parameter as its enum ([`Params::choice`]).
    pub fn choice<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.params.choice(key)
    }
}

/// Configurations remembered to share their parameters between rows (a
/// configuration's jobs come together in plan order; a few more cover
/// seeds interleaved across configurations).
const RECENT: usize = 8;

/// The rows of a results folder, in the order [`store::each_row`] gives
/// them (plan order), with their ids and places.
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<Row>,
    /// Every job id, front-coded (as in LevelDB's blocks): an entry per
    /// id, the length of the prefix it shares with the previous id and the
    /// rest's length (LEB128 varints), then the rest's bytes. Ids of plan
    /// order share most of their text (`lr-0.1_activation-tanh_seed-` and
    /// the seed), so an id costs 3-5 bytes instead of its length and an
    /// allocation. Every [`RESTART`]-th entry shares nothing.
    ids: Vec<u8>,
    /// Where each entry that shares nothing starts in `ids`.
    restarts: Vec<usize>,
    /// Ids held, and the last one (to share its prefix).
    count: usize,
    last_id: Vec<u8>,
    /// Where packed jobs are, by their row's index: some 10 bytes a job
    /// (the id is the row's, the data file's path the pack's).
    packed: SlotRuns,
    /// The data files of the packs rows are in, by pack number.
    packs: Vec<Arc<Path>>,
    /// Pack numbers by data file (while reading).
    pack_numbers: HashMap<Arc<Path>, u32>,
    /// Where a job is stored when neither in the usual `jobs/<id>/` nor
    /// in a pack (a folder elsewhere: rare), by its row's index.
    elsewhere: HashMap<usize, JobRef>,
    /// The configurations last pushed, most recent last (while reading).
    recent: Vec<Arc<Params>>,
}

impl std::ops::Deref for Rows {
    type Target = [Row];
    fn deref(&self) -> &[Row] {
        &self.rows
    }
}

/// Ids front-coded between restarts ([`Rows::ids`]).
const RESTART: usize = 16;

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::slice::Iter<'a, Row>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

impl Rows {
    /// The folder's rows ([`store::each_row`]), room for `expected` made
    /// when the first row comes (at most 2^20: a larger plan of which few
    /// jobs ran reserves no more). Not before: while the folder is being
    /// opened, the store matches the listing of jobs/ to the plan's ids
    /// (16 bytes a plan job, freed once done), and the two need not be
    /// held at once.
    pub fn read(dir: &Path, expected: usize) -> Result<Rows, StoreError> {
        let mut rows = Rows::default();
        let usual = dir.join(store::JOBS);
        store::each_row(dir, &mut |row| {
            if rows.rows.capacity() == 0 {
                rows.rows.reserve_exact(expected.min(1 << 20));
            }
            rows.push(&row, &usual);
            Ok(())
        })?;
        rows.rows.shrink_to_fit();
        rows.ids.shrink_to_fit();
        rows.restarts.shrink_to_fit();
        rows.last_id = Vec::new();
        rows.recent = Vec::new();
        rows.pack_numbers = HashMap::new();
        rows.packed.finish();
        Ok(rows)
    }

    /// Appends `row`; `jobs` is the folder's `jobs/`, where a job's usual
    /// place is `jobs/<id>/`.
    pub fn push(&mut self, row: &SummaryRow, jobs: &Path) {
        self.push_id(row.job_id.as_bytes());
        match &row.at {
            JobRef::Folder(p) if *p == jobs.join(&row.job_id) => {}
            JobRef::Packed(p) if p.job_id == row.job_id => {
                let pack = self.pack_number(&p.data);
                self.packed.push(self.rows.len(), pack, p.slot());
            }
            elsewhere => {
                self.elsewhere.insert(self.rows.len(), elsewhere.clone());
            }
        }
        let params = self.shared(&row.params);
        self.rows.push(Row {
            seed: row.seed,
            params,
            final_loss: row.outcome.final_loss,
            final_accuracy: row.outcome.final_accuracy,
            rare: Rare::of(&row.outcome),
        });
    }

    /// The number of the pack whose data file is `data` (a new one when
    /// first seen).
    fn pack_number(&mut self, data: &Arc<Path>) -> u32 {
        if let Some(&n) = self.pack_numbers.get(data) {
            return n;
        }
        let n = self.packs.len() as u32;
        self.packs.push(Arc::clone(data));
        self.pack_numbers.insert(Arc::clone(data), n);
        n
    }

    /// `params` shared with a row pushed recently when equal, else held
    /// anew.
    fn shared(&mut self, params: &Params) -> Arc<Params> {
        if let Some(i) = self.recent.iter().rposition(|p| **p == *params) {
            let held = self.recent.remove(i);
            self.recent.push(held.clone());
            return held;
        }
        let held = Arc::new(params.clone());
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(held.clone());
        held
    }

    /// Rows made whole (tests and small callers): each job in its usual
    /// place under `dir` unless its `at` says otherwise.
    pub fn from_rows(dir: &Path, rows: &[SummaryRow]) -> Rows {
        let mut held = Rows::default();
        let jobs = dir.join(store::JOBS);
        for r in rows {
            held.push(r, &jobs);
        }
        held.packed.finish();
        held
    }

    /// Appends an id's entry.
    fn push_id(&mut self, id: &[u8]) {
        let shared = if self.count.is_multiple_of(RESTART) {
            self.restarts.push(self.ids.len());
            0
        } else {
            self.last_id.iter().zip(id).take_while(|(a, b)| a == b).count()
        };
        varint::put(&mut self.ids, shared);
        varint::put(&mut self.ids, id.len() - shared);
        self.ids.extend_from_slice(&id[shared..]);
        self.last_id.clear();
        self.last_id.extend_from_slice(id);
        self.count += 1;
    }

    /// A row's job id (decoded from the restart before it: at most
    /// [`RESTART`] entries; empty for a row not of these rows).
    pub fn id(&self, row: &Row) -> String {
        let Some(index) = self.index_of(row) else { return String::new() };
        let mut at = self.restarts.get(index / RESTART).copied().unwrap_or_default();
        let mut id: Vec<u8> = Vec::new();
        for _ in 0..=index % RESTART {
            let (Some(shared), Some(rest)) =
                (varint::get(&self.ids, &mut at), varint::get(&self.ids, &mut at))
            else {
                break;
            };
            id.truncate(shared);
            id.extend_from_slice(self.ids.get(at..at + rest).unwrap_or_default());
            at += rest;
        }
        // The bytes of a `String` pushed whole: valid UTF-8.
        String::from_utf8_lossy(&id).into_owned()
    }

    /// A row's index among these rows (None: a row of other rows).
    pub fn index_of(&self, row: &Row) -> Option<usize> {
        let size = std::mem::size_of::<Row>();
        let base = self.rows.as_ptr() as usize;
        let at = (row as *const Row as usize).checked_sub(base)?;
        (at % size == 0 && at / size < self.rows.len()).then_some(at / size)
    }

    /// Where a row's job is stored, under the results folder `dir`.
    pub fn place(&self, dir: &Path, row: &Row) -> std::borrow::Cow<'_, JobRef> {
        let index =
            if self.elsewhere.is_empty() && self.packed.is_empty() { None } else { self.index_of(row) };
        if let Some(at) = index.and_then(|i| self.elsewhere.get(&i)) {
            return std::borrow::Cow::Borrowed(at);
        }
        let at = match index.and_then(|i| self.packed.get(i)) {
            Some((pack, slot)) => {
                JobRef::Packed(PackedJob::new(Arc::clone(&self.packs[pack as usize]), self.id(row), slot))
            }
            None => JobRef::Folder(dir.join(store::JOBS).join(self.id(row))),
        };
        std::borrow::Cow::Owned(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_what_the_report_reads_in_40_bytes() {
        assert!(std::mem::size_of::<Row>() <= 40, "{}", std::mem::size_of::<Row>());
        let dir = Path::new("results/baseline");
        let full = store::load_rows(dir).unwrap();
        let rows = Rows::read(dir, 4).unwrap();
        assert_eq!(rows.len(), full.len());
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(rows.index_of(r), Some(i));
        }
        let copy = Row { params: rows[0].params.clone(), rare: rows[0].rare.clone(), ..rows[0] };
        assert_eq!(rows.index_of(&copy), None, "a copy is not one of the rows");
        assert_eq!(rows.id(&copy), "", "a copy has no id here");
        for (r, f) in rows.iter().zip(&full) {
            assert_eq!((rows.id(r), r.seed, &*r.params), (f.job_id.clone(), f.seed, &f.params));
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
            assert!(rows.elsewhere.is_empty() && rows.packed.is_empty(), "{}", f.job_id);
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
        assert_eq!((held.id(&held[0]).as_str(), held.id(&held[1]).as_str()), ("", ""));
        assert_eq!(held.place(dir, &held[0]).as_ref(), &a.at);
        assert_eq!(held.place(dir, &held[1]).as_ref(), &b.at);
    }

    /// Packed rows of many packs (64 jobs a pack, as the runner packs
    /// chunks), among rows in their usual folder and rows elsewhere: each
    /// row's place comes back as pushed, and a packed row's place costs a
    /// few bytes, not a held path and id.
    #[test]
    fn packed_rows_of_many_packs_find_their_place() {
        let dir = Path::new("r");
        let template = store::load_rows(Path::new("results/baseline")).unwrap().remove(0);
        let mut pushed = Vec::new();
        let mut offset = 0;
        for i in 0..10_000u32 {
            let mut r = template.clone();
            r.job_id = format!("lr-0.1_activation-tanh_seed-{i}");
            let pack = i / 64;
            if i % 64 == 0 {
                offset = 0;
            }
            r.at = match i % 1000 {
                7 => JobRef::folder(dir.join(store::JOBS).join(&r.job_id)),
                8 => JobRef::folder("/elsewhere"),
                _ => {
                    let slot = store::Slot::of(
                        offset,
                        [Some(300 + i % 7), (i % 5 != 0).then_some(2000), None, Some(400)],
                    );
                    offset = slot.end();
                    let data: Arc<Path> = Arc::from(Path::new(&format!("r/packs/0-1.{}.data", pack * 64)));
                    JobRef::Packed(PackedJob::new(data, r.job_id.clone(), slot))
                }
            };
            pushed.push(r);
        }
        let rows = Rows::from_rows(dir, &pushed);
        for (r, f) in rows.iter().zip(&pushed) {
            assert_eq!(rows.place(dir, r).as_ref(), &f.at, "{}", f.job_id);
        }
        assert_eq!(rows.packs.len(), 10_000usize.div_ceil(64));
        assert_eq!(rows.elsewhere.len(), 10);
        let per_row = rows.packed.heap_bytes() as f64 / 10_000.0;
        assert!(per_row < 12.0, "{per_row} bytes a packed row");
    }

    /// Ids come back as pushed through the front coding: shared prefixes,
    /// none, empty ids, multi-byte characters split by a shared prefix,
    /// lengths past one varint byte, across restarts.
    #[test]
    fn ids_come_back_whole_through_the_front_coding() {
        let mut ids: Vec<String> = Vec::new();
        for c in 0..5 {
            for seed in [0, 1, 2, 9, 10, 11, 99, 100, 1000] {
                ids.push(format!("lr-0.{c}_activation-tanh_seed-{seed}"));
            }
        }
        ids.extend(["", "", "a", "ab", "a", "é", "éa", "èa", "日本", "日本語", "x"].map(String::from));
        ids.push("y".repeat(300));
        ids.push(format!("{}z", "y".repeat(299)));
        ids.push("w".repeat(20_000));
        let mut rows = Rows::default();
        let jobs = Path::new("r/jobs");
        let template = store::load_rows(Path::new("results/baseline")).unwrap().remove(0);
        for id in &ids {
            let mut r = template.clone();
            r.job_id = id.clone();
            rows.push(&r, jobs);
        }
        let back: Vec<String> = rows.iter().map(|r| rows.id(r)).collect();
        assert_eq!(back, ids);
        assert!(rows.restarts.len() == ids.len().div_ceil(RESTART));
        // Plan-order ids cost a few bytes each, not their length.
        let mut plan_order = Rows::default();
        for id in &ids[..45] {
            plan_order.push_id(id.as_bytes());
        }
        assert!(plan_order.ids.len() < 45 * 12, "{} bytes for 45 ids", plan_order.ids.len());
    }

    /// The rare parts of an outcome (a test split, an epoch at target, a
    /// divergence) come back as pushed, alone or together; a row without
    /// them holds none; rows of one configuration share their parameters,
    /// interleaved or not.
    #[test]
    fn rare_outcomes_and_shared_parameters_come_back_as_pushed() {
        let dir = Path::new("results/baseline");
        let full = store::load_rows(dir).unwrap();
        let (a, b) = (full[0].clone(), full.iter().find(|r| r.params != full[0].params).unwrap().clone());
        let mut pushed = Vec::new();
        for i in 0..40u64 {
            let mut r = if i % 3 == 0 { b.clone() } else { a.clone() };
            r.job_id = format!("job-{i}");
            r.seed = i;
            let o = &mut r.outcome;
            o.final_test_loss = (i & 1 != 0).then_some(i as f64 / 7.0);
            o.final_test_accuracy = (i & 2 != 0).then_some(1.0 / (i as f64 + 1.0));
            o.epoch_at_target = (i & 4 != 0).then_some(i * 3);
            o.diverged_epoch = (i & 8 != 0).then_some(i + 1);
            if i & 16 != 0 {
                o.status = "diverged".into();
            }
            pushed.push(r);
        }
        let rows = Rows::from_rows(dir, &pushed);
        for (r, f) in rows.iter().zip(&pushed) {
            let (o, ro) = (&f.outcome, r.outcome());
            assert_eq!(rows.id(r), f.job_id);
            assert_eq!(ro.diverged(), o.diverged(), "{}", f.job_id);
            assert_eq!(ro.final_loss().to_bits(), o.final_loss.to_bits());
            assert_eq!(ro.final_accuracy().to_bits(), o.final_accuracy.to_bits());
            assert_eq!(ro.final_test_loss().map(f64::to_bits), o.final_test_loss.map(f64::to_bits));
            assert_eq!(ro.final_test_accuracy().map(f64::to_bits), o.final_test_accuracy.map(f64::to_bits));
            assert_eq!(ro.epoch_at_target(), o.epoch_at_target);
            assert_eq!(ro.diverged_epoch(), o.diverged_epoch);
            assert_eq!(r.rare.is_none(), f.seed & 31 == 0 && !o.diverged(), "{}", f.job_id);
            assert_eq!(*r.params, f.params);
            let first = if f.seed % 3 == 0 { &rows[0] } else { &rows[1] };
            assert!(
                Arc::ptr_eq(&r.params, &first.params),
                "{} shares its configuration's parameters",
                f.job_id
            );
        }
    }
}
