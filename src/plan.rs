//! Plan: a validated manifest -> the ordered list of jobs, their ids, and
//! shards. Deciding what to run is separate from running it, so `sweep plan`
//! shows exactly what `sweep run` would train.
//!
//! Order (SPEC 3): the zip (one axis), then grid axes in manifest order, the
//! last axis varying fastest, seeds innermost; then includes in order. The
//! order is part of the contract: shards and summary rows depend on it.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use toml::Value;

use crate::data;
use crate::manifest::{Errors, Manifest, ManifestError, Origin};
use crate::nn::Layout;
use crate::rng::{Fnv64, hex_hash};
use crate::spec::{self, DataSource, Generated, Init, JobSpec, KEYS, ParamError};
use crate::weights::WeightsFile;

/// A plan over this many jobs needs `--yes`.
pub const LARGE_PLAN: usize = 100_000;

/// The most jobs a manifest may expand to at all (before `[[exclude]]`):
/// past it, expanding would take gigabytes and minutes before anything ran.
pub const MAX_PLAN: u64 = 2_000_000;

/// A plan whose files would take more bytes than this needs `--yes`.
pub const LARGE_DISK: u64 = 5_000_000_000;

/// Bytes of one predictions.csv cell or model.json number, roughly
/// (`0.123456789012345678,`).
pub const CELL_BYTES: f64 = 20.0;

/// Bytes of one curve.csv row, roughly: `1234,0.6931471805599453,0.5,,\n`
/// is 30, with a test split about 60.
pub const CURVE_ROW_BYTES: u64 = 60;

/// One job of a plan: its position and its seed, 16 bytes. What it sets
/// beyond the base ([`Plan::swept`]) and its id ([`Plan::id`]) belong to its
/// configuration and are asked of the plan that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Position in the plan (shards are `index % n`); the job's
    /// configuration is `index / seeds`.
    pub index: usize,
    pub seed: u64,
}

/// A manifest expanded into jobs.
///
/// Jobs come in configurations (one combination of swept values, every
/// seed of it, consecutive in the plan): whatever does not depend on the
/// seed (validation, the configuration text, the id's prefix, the size
/// estimate) is done and kept once per configuration, so a plan costs 16
/// bytes ([`Job`]) and well under a microsecond per job; ids are built on
/// demand ([`Plan::id`]).
#[derive(Debug, Clone)]
pub struct Plan {
    pub manifest: Manifest,
    /// Every job, in plan order (`jobs[i].index == i`).
    pub jobs: Vec<Job>,
    /// Each configuration's validated parameters, built once by
    /// [`Plan::new`]: nothing re-checks them later. Configuration `c` holds
    /// the jobs `c * seeds .. (c + 1) * seeds`.
    configs: Vec<JobSpec>,
    /// Each configuration's axis values (zip then grid), or an include's
    /// keys, canonical.
    swept: Vec<Box<[(String, Value)]>>,
    /// What the ids of each configuration share: `dataset-xor_lr-0.1_`.
    prefixes: Vec<String>,
    /// The ids that are not `<prefix>seed-<seed>` (cut to [`MAX_ID`]
    /// aside): those given a suffix because another id names the same
    /// folder, by plan index. Empty in most plans.
    renamed: HashMap<usize, String>,
    /// `key = value\n` of every parameter from `[base]` or its default, in
    /// [`KEYS`] order: the lines a configuration does not sweep.
    base_lines: Vec<String>,
    /// What the user should hear about, though it is no error: an
    /// `[[exclude]]` that matches no job (a typo, or a `--set` that shrank
    /// an axis), with the values its axes have.
    pub warnings: Vec<String>,
}

/// Configuration hashes of a plan's jobs ([`Plan::config_hasher`]).
pub struct ConfigHasher<'p, 'c> {
    plan: &'p Plan,
    contents: &'c mut HashMap<PathBuf, Vec<u8>>,
    /// The configuration last hashed: its index, text without the seed, and
    /// input files.
    last: Option<(usize, String, Vec<PathBuf>)>,
}

impl ConfigHasher<'_, '_> {
    /// The hash of `seed = <seed>\n` and the configuration's text, then of
    /// each input file's bytes (as [`config_hash_of`], without the text of
    /// each job).
    pub fn hash(&mut self, job: &Job) -> u64 {
        let config = self.plan.config_of(job);
        if self.last.as_ref().is_none_or(|(c, _, _)| *c != config) {
            let files = self.plan.configs.get(config).map(input_files).unwrap_or_default();
            self.last = Some((config, self.plan.body(self.plan.swept(job)), files));
        }
        let (_, body, files) = self.last.as_ref().expect("set above");
        let mut digits = [0u8; 20];
        let h = Fnv64::default().bytes(b"seed = ").bytes(decimal(job.seed, &mut digits)).bytes(b"\n");
        hash_files(h.field(body), files, self.contents)
    }
}

/// The plan's jobs by id: 32 bits of a hash of each id with its plan
/// index, sorted (8 bytes a job, no string); the candidates under one key
/// are confirmed by comparing the ids themselves (a false candidate comes
/// once in 2^32 / plan-size lookups, and costs one id built).
pub struct IdLookup<'p> {
    plan: &'p Plan,
    ids: Ids,
}

/// (key, plan index) pairs, sorted: 32-bit indices for any plan that fits
/// them (every plan a machine can hold: a plan job alone is 16 bytes).
enum Ids {
    Narrow(Vec<(u32, u32)>),
    Wide(Vec<(u32, usize)>),
}

impl IdLookup<'_> {
    /// The plan index of the job whose id is `id`, if it is the plan's.
    pub fn find(&self, id: &str) -> Option<usize> {
        let key = id_key(id);
        let is = |i: usize| self.plan.id(&self.plan.jobs[i]) == id;
        match &self.ids {
            Ids::Narrow(ids) => {
                let first = ids.partition_point(|&(k, _)| k < key);
                ids[first..].iter().take_while(|&&(k, _)| k == key).map(|&(_, i)| i as usize).find(|&i| is(i))
            }
            Ids::Wide(ids) => {
                let first = ids.partition_point(|&(k, _)| k < key);
                ids[first..].iter().take_while(|&&(k, _)| k == key).map(|&(_, i)| i).find(|&i| is(i))
            }
        }
    }
}

/// [`IdLookup`]'s key of an id: the high half of its 64-bit FNV-1a hash.
fn id_key(id: &str) -> u32 {
    (Fnv64::default().bytes(id.as_bytes()).finish() >> 32) as u32
}

/// What a plan is estimated to need (bytes, as f64: no plan overflows it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlanSize {
    /// Every job's curve.csv, predictions.csv and model.json.
    pub curves: f64,
    pub predictions: f64,
    pub models: f64,
    /// The most memory one job needs, and that job's plan index.
    pub memory: f64,
    pub memory_job: usize,
    /// The most disk one job needs, and that job's plan index.
    pub largest_disk: f64,
    pub disk_job: usize,
}

impl PlanSize {
    pub fn disk(&self) -> f64 {
        self.curves + self.predictions + self.models
    }
}

/// `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn contains(&self, job: &Job) -> bool {
        job.index % self.count == self.index
    }
}

impl Plan {
    /// Expands and validates every job; errors point at the manifest line
    /// that set the offending value.
    /// Loads the manifest at `path` (with its `--set`s) and plans it,
    /// reporting every mistake at once, as a compiler does: when the
    /// manifest itself has mistakes (unknown keys, `save`/`layout` values, a
    /// bad axis) but is TOML, the jobs' values are still checked, on what is
    /// left of it, and both kinds come in one listing: the manifest's
    /// mistakes in the order it is read, then the jobs' values by place.
    ///
    /// A results folder's own manifest.toml (`sweep run R/manifest.toml
    /// --out R`) reads its data and weights files where the study ran: its
    /// relative paths are the original manifest's, and resolve against the
    /// folder a finished job recorded ([`stored_paths_base`]).
    pub fn load(path: &Path, sets: &[String]) -> Result<Plan, ManifestError> {
        let rejected = match Manifest::load_all(path, sets) {
            Ok(mut manifest) => {
                if let Some(dir) = stored_paths_base(&manifest.dir) {
                    manifest.dir = dir;
                }
                return Plan::new(manifest);
            }
            Err(rejected) => rejected,
        };
        let Some(rest) = rejected.rest else { return Err(rejected.error) };
        let mut errors = Errors::default();
        let first = rejected.error.clone();
        errors.push(rejected.error);
        // Only the jobs' values: an empty or oversized plan follows from
        // what was taken out.
        if let Err(mut found) = Plan::new(*rest) {
            let more = std::mem::take(&mut found.more);
            for e in std::iter::once(found).chain(more) {
                if e.key.as_deref().is_some_and(|k| spec::find_key(k).is_some()) {
                    errors.push(e);
                }
            }
        }
        Err(errors.into_result().err().unwrap_or(first))
    }

    pub fn new(manifest: Manifest) -> Result<Plan, ManifestError> {
        check_size(&manifest)?;
        let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
        if let Some(first) = manifest.zip.first() {
            combos = (0..first.values.len())
                .map(|i| manifest.zip.iter().map(|a| (a.key.clone(), a.values[i].clone())).collect())
                .collect();
        }
        for axis in &manifest.grid {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    axis.values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((axis.key.clone(), v.clone()));
                        c
                    })
                })
                .collect();
        }
        let before = combos.len();
        let mut used = vec![false; manifest.exclude.len()];
        combos.retain(|c| {
            let mut excluded = false;
            for (g, used) in manifest.exclude.iter().zip(&mut used) {
                if g.entries
                    .iter()
                    .all(|e| c.iter().any(|(k, v)| *k == e.key && spec::same_value(v, &e.value)))
                {
                    (*used, excluded) = (true, true);
                }
            }
            !excluded
        });
        let mut warnings = repeated_values(&manifest);
        warnings.extend(unused_excludes(&manifest, &used));
        let excluded_all = before > 0 && combos.is_empty() && !manifest.exclude.is_empty();
        if manifest.zip.is_empty() && manifest.grid.is_empty() && !manifest.include.is_empty() {
            combos.clear(); // only includes: no base job
        }
        let from_axes = combos.len();
        for g in &manifest.include {
            combos.push(g.entries.iter().map(|e| (e.key.clone(), e.value.clone())).collect());
        }

        let base_lines = KEYS
            .iter()
            .map(|k| {
                let v = match manifest.base_entry(k.name) {
                    Some(e) => spec::canonical(k.name, &e.value),
                    None => spec::default_value(k),
                };
                format!("{} = {v}\n", k.name)
            })
            .collect();
        let mut plan = Plan {
            manifest,
            jobs: Vec::new(),
            configs: Vec::new(),
            swept: Vec::new(),
            prefixes: Vec::new(),
            renamed: HashMap::new(),
            base_lines,
            warnings,
        };

        // An include that repeats a grid job is the same job: keep the
        // first. Seeds are distinct, so two jobs are one exactly when their
        // configurations are: compared once per configuration, by a hash of
        // its text, and by the text itself when the hashes agree.
        let mut kept: Vec<Box<[(String, Value)]>> = Vec::new();
        let mut by_hash: HashMap<u64, usize> = HashMap::new();
        let mut hash_collisions: HashSet<String> = HashSet::new();
        // Where each kept configuration came from: its combination's index.
        let mut source: Vec<usize> = Vec::new();
        for (c, combo) in combos.into_iter().enumerate() {
            let swept: Box<[(String, Value)]> =
                combo.into_iter().map(|(k, v)| (k.clone(), spec::canonical(&k, &v))).collect();
            let text = plan.body(&swept);
            let (new, same) = match by_hash.entry(Fnv64::default().bytes(text.as_bytes()).finish()) {
                Entry::Vacant(slot) => {
                    slot.insert(kept.len());
                    (true, None)
                }
                Entry::Occupied(first) => {
                    let same = plan.body(&kept[*first.get()]) == text;
                    (!same && hash_collisions.insert(text), same.then_some(*first.get()))
                }
            };
            if new {
                kept.push(swept);
                source.push(c);
            } else if let Some(include) = c.checked_sub(from_axes).map(|i| &plan.manifest.include[i]) {
                // As a value listed twice on an axis: said, not silent.
                let other = match same.map(|k| source[k]) {
                    Some(s) if s < from_axes => "a job the axes already make".to_string(),
                    Some(s) => format!("the [[include]] at {}", plan.manifest.include[s - from_axes].origin),
                    None => "a job already planned".to_string(),
                };
                let prefix = same.map(|k| id_prefix(&kept[k])).unwrap_or_default();
                let id = match prefix.trim_end_matches('_') {
                    "" => String::new(),
                    p => format!(" (`{p}`)"),
                };
                plan.warnings.push(format!(
                    "{}: this [[include]] is {other}{id}: the plan keeps it once",
                    include.origin
                ));
            }
        }

        let seeds = plan.manifest.seeds.len();
        plan.jobs.reserve_exact(kept.len() * seeds);
        for _ in &kept {
            for &seed in &plan.manifest.seeds {
                plan.jobs.push(Job { index: plan.jobs.len(), seed });
            }
        }
        plan.prefixes = kept.iter().map(|swept| id_prefix(swept)).collect();
        plan.swept = kept;
        plan.disambiguate_ids();
        if plan.jobs.is_empty() {
            let origin = Origin::File { path: plan.manifest.path.clone(), line: 1, col: 1 };
            let why = if excluded_all { "every combination is excluded by [[exclude]]" } else { "no jobs" };
            return Err(ManifestError::at(&origin, format!("the plan is empty: {why}")));
        }
        // The seed does not change whether a job is valid: its
        // configuration's first job speaks for every seed. Every problem is
        // reported, once per place, key and value.
        let mut errors = Errors::default();
        let mut reported = HashSet::new();
        plan.configs.reserve_exact(plan.swept.len());
        for c in 0..plan.swept.len() {
            let job = &plan.jobs[c * seeds];
            match JobSpec::from_values(job.seed, &|k| Some(plan.value(job, k)), &plan.manifest.dir) {
                Ok(spec) => plan.configs.push(spec),
                Err(first) => {
                    for e in plan.problems(job, first) {
                        let error = plan.param_error(job, &e);
                        if reported.insert((error.location(), e.key, e.value, e.problem)) {
                            errors.push(error);
                        }
                    }
                }
            }
        }
        errors.sort_by_place();
        errors.into_result()?;
        Ok(plan)
    }

    /// Ids that name one folder (equal, or differing only in case: one
    /// folder on macOS and Windows) all get a suffix from their own
    /// configuration, so every job's id depends on its configuration alone,
    /// never on which value the manifest lists first.
    fn disambiguate_ids(&mut self) {
        // Most plans have no such ids: a hash of each lower-case id, sorted,
        // shows it without a string per job.
        let mut hashes: Vec<u64> = self
            .jobs
            .iter()
            .map(|j| {
                self.id(j).bytes().fold(Fnv64::default(), |h, b| h.bytes(&[b.to_ascii_lowercase()])).finish()
            })
            .collect();
        hashes.sort_unstable();
        if hashes.windows(2).all(|w| w[0] != w[1]) {
            return;
        }
        drop(hashes);
        let mut count: HashMap<String, usize> = HashMap::new();
        for job in &self.jobs {
            *count.entry(self.id(job).to_ascii_lowercase()).or_default() += 1;
        }
        let mut seen = HashSet::new();
        for job in &self.jobs {
            let base = self.id(job);
            let mut id = base.clone();
            if count[&base.to_ascii_lowercase()] > 1 {
                let text = self.config_text(job);
                id = format!("{base}~{}", &hex_hash(text.as_bytes())[..8]);
            }
            // Two configurations whose hashes share 8 hex digits as well:
            // astronomically rare, settled in plan order.
            let mut salt = 0usize;
            while !seen.insert(id.to_ascii_lowercase()) {
                salt += 1;
                let text = self.config_text(job) + &"#".repeat(salt);
                id = format!("{base}~{}", &hex_hash(text.as_bytes())[..8]);
            }
            if id != base {
                self.renamed.insert(job.index, id);
            }
        }
    }

    /// A job's id, the name of its folder: `<configuration prefix>seed-<seed>`
    /// (cut to [`MAX_ID`] bytes and ended by a hash when longer, and given a
    /// suffix from its configuration when another id names the same folder).
    /// Built on demand: the plan keeps no string per job.
    pub fn id(&self, job: &Job) -> String {
        if let Some(id) = self.renamed.get(&job.index) {
            return id.clone();
        }
        id_with_prefix(self.prefixes.get(self.config_of(job)).map_or("", String::as_str), job.seed)
    }

    /// Finds jobs by id ([`IdLookup`]): for names read from a folder or an
    /// index, without a string per job.
    pub fn id_lookup(&self) -> IdLookup<'_> {
        let key = |j: &Job| id_key(&self.id(j));
        let ids = match u32::try_from(self.jobs.len()) {
            Ok(_) => {
                let mut ids = Vec::with_capacity(self.jobs.len());
                // Every index is below the plan's length, which fits.
                ids.extend(self.jobs.iter().map(|j| (key(j), j.index as u32)));
                ids.sort_unstable();
                Ids::Narrow(ids)
            }
            Err(_) => {
                let mut ids: Vec<(u32, usize)> = self.jobs.iter().map(|j| (key(j), j.index)).collect();
                ids.sort_unstable();
                Ids::Wide(ids)
            }
        };
        IdLookup { plan: self, ids }
    }

    /// What a job sets beyond the base: its configuration's axis values
    /// (zip then grid) or include keys, canonical; one list for every seed
    /// of a configuration (compare with `std::ptr::eq` to spot a new one).
    pub fn swept(&self, job: &Job) -> &[(String, Value)] {
        self.swept.get(self.config_of(job)).map_or(&[], |s| s)
    }

    /// The configuration a job belongs to: its index in plan order (jobs
    /// of one configuration have the same parameters, [`Plan::values`]).
    pub fn config_of(&self, job: &Job) -> usize {
        job.index / self.manifest.seeds.len().max(1)
    }

    /// The validated parameters of a job of this plan (with its seed), or
    /// None for a job from elsewhere.
    fn own_spec(&self, job: &Job) -> Option<&JobSpec> {
        let seeds = self.manifest.seeds.len().max(1);
        self.jobs.get(job.index).filter(|own| *own == job).and_then(|_| self.configs.get(job.index / seeds))
    }

    /// Each configuration's validated parameters and its first job, in plan
    /// order.
    fn configs(&self) -> impl Iterator<Item = (&JobSpec, &Job)> {
        let seeds = self.manifest.seeds.len();
        self.configs.iter().enumerate().map(move |(c, spec)| (spec, &self.jobs[c * seeds]))
    }

    /// Reads every data and weights file the plan names, once each, so a
    /// missing file, a bad CSV cell or a weights file of the wrong shape is a
    /// manifest error before anything trains. Returns notes for the user:
    /// rows a data file loses to `missing = "drop-rows"`.
    pub fn check_inputs(&self) -> Result<Vec<String>, ManifestError> {
        let mut notes = Vec::new();
        // A file is read once per way of reading it (label, inputs, missing).
        // (file, label column, feature columns, missing) -> (inputs, classes)
        type ReadAs = (PathBuf, String, Vec<String>, spec::Missing);
        // (inputs, classes, samples of each class); None: the file is at
        // fault, and said so once.
        type Shape = (usize, Vec<String>, Vec<usize>);
        let mut inputs: HashMap<ReadAs, Option<Shape>> = HashMap::new();
        let mut split_checked: HashSet<(ReadAs, u64, bool)> = HashSet::new();
        let mut checked: HashSet<(PathBuf, Vec<usize>, bool)> = HashSet::new();
        // Each file's mistakes are independent of the others': all are said.
        let mut errors = Errors::default();
        for (spec, job) in self.configs() {
            // The line of the key at fault, else of `dataset` (a default
            // `label_column` is at fault where the data set is named).
            let at = |key: &str, e: &dyn std::fmt::Display| {
                let message = format!("`{key}`: {e}");
                let error = match self.origin_of(job, key).or_else(|| self.origin_of(job, "dataset")) {
                    Some(origin) => ManifestError::at(&origin, message),
                    None => ManifestError::in_file(&self.manifest.path, message),
                };
                error.key(key)
            };
            let (width, classes) = match &spec.data.source {
                DataSource::Csv(path) => {
                    let d = &spec.data;
                    let key = (path.clone(), d.label_column.clone(), d.feature_columns.clone(), d.missing);
                    let shape = match inputs.get(&key) {
                        Some(w) => w.clone(),
                        None => {
                            let Some(table) = errors.ok(data::load_csv(path, d).map_err(|e| at(e.key(), &e)))
                            else {
                                inputs.insert(key, None);
                                continue;
                            };
                            if table.dropped_rows > 0 {
                                notes.push(format!(
                                    "{}: {} with a missing cell dropped (missing = \"drop-rows\"), {} kept",
                                    path.display(),
                                    crate::count(table.dropped_rows, "row"),
                                    table.data.len()
                                ));
                            }
                            let counts = data::class_counts(&table.data);
                            let shape = Some((table.data.x.ncols(), table.classes.clone(), counts));
                            inputs.insert(key.clone(), shape.clone());
                            shape
                        }
                    };
                    // Its layer sizes are unknown while the data file is at fault.
                    let Some((width, classes, counts)) = shape else { continue };
                    if split_checked.insert((key, d.test_fraction.to_bits(), d.stratify)) {
                        match data::check_split(path, &classes, &counts, d) {
                            Ok(more) => notes.extend(more),
                            Err(e) => {
                                let _ = errors.ok(Err::<(), _>(at(e.key(), &e)));
                            }
                        }
                    }
                    (width, classes.len())
                }
                DataSource::Generated(set) => {
                    // Class sizes are drawn; the count is known.
                    let d = &spec.data;
                    let n = if matches!(set, Generated::Xor) { 21 } else { d.n_samples };
                    if d.test_fraction > 0.0
                        && !d.stratify
                        && data::held_out(n, d.test_fraction) == 0
                        && let Err(e) = data::check_split(Path::new(set.name()), &[], &[n], d)
                    {
                        let _ = errors.ok(Err::<(), _>(at(e.key(), &e)));
                    }
                    (2, 2)
                }
            };
            if let Init::File(path) = &spec.model.init {
                let sizes = spec.layer_sizes(width, classes);
                if checked.insert((path.clone(), sizes.clone(), spec.model.bias)) {
                    let _ = errors.ok(WeightsFile::load_params(path, &Layout::new(&sizes, spec.model.bias))
                        .map_err(|e| at("init", &e)));
                }
            }
        }
        errors.into_result()?;
        Ok(notes)
    }

    /// A job's value for `key`: swept, else base, else the default; canonical.
    pub fn value(&self, job: &Job, key: &str) -> Value {
        if let Some((_, v)) = self.swept(job).iter().find(|(k, _)| k == key) {
            return v.clone();
        }
        match self.manifest.base_entry(key) {
            Some(e) => spec::canonical(key, &e.value),
            None => spec::default_value(spec::find_key(key).expect("known key")),
        }
    }

    /// Every parameter of a job, in [`KEYS`] order.
    pub fn values(&self, job: &Job) -> Vec<(&'static str, Value)> {
        KEYS.iter().map(|k| (k.name, self.value(job, k.name))).collect()
    }

    /// The job's validated parameters (built once, by [`Plan::new`], for the
    /// plan's own jobs).
    pub fn spec(&self, job: &Job) -> Result<JobSpec, ManifestError> {
        match self.own_spec(job) {
            Some(spec) => Ok(JobSpec { seed: job.seed, ..spec.clone() }),
            None => self.validate(job),
        }
    }

    /// Checks a job's values against the parameter table; errors point at
    /// the manifest line that set the offending value.
    fn validate(&self, job: &Job) -> Result<JobSpec, ManifestError> {
        JobSpec::from_values(job.seed, &|k| Some(self.value(job, k)), &self.manifest.dir)
            .map_err(|e| self.param_error(job, &e))
    }

    /// Every value of an invalid job that its key refuses, in [`KEYS`]
    /// order; `first` (what [`JobSpec::from_values`] said: the first of
    /// them, or a conflict between keys) when each value is fine alone.
    fn problems(&self, job: &Job, first: ParamError) -> Vec<ParamError> {
        let mut all: Vec<ParamError> = KEYS
            .iter()
            .filter_map(|k| {
                let value = self.value(job, k.name);
                let problem = k.kind.check(&value).err()?;
                Some(ParamError {
                    key: k.name.to_string(),
                    value: spec::shown(&value),
                    problem,
                    allowed: k.allowed(),
                })
            })
            .collect();
        if all.is_empty() {
            all.push(first);
        }
        all
    }

    /// A job's invalid value, at the manifest line that set it.
    fn param_error(&self, job: &Job, e: &ParamError) -> ManifestError {
        let context =
            if self.swept(job).is_empty() { String::new() } else { format!(" (in job {})", self.id(job)) };
        let message = format!("`{}` = {}: {}{context}", e.key, e.value, e.problem);
        let error = match self.origin_of(job, &e.key) {
            Some(origin) => ManifestError::at(&origin, message),
            None => ManifestError::in_file(&self.manifest.path, message),
        };
        error.key(&e.key).allowed(&e.allowed)
    }

    /// Where a job's value for `key` was written (None: a default).
    fn origin_of(&self, job: &Job, key: &str) -> Option<Origin> {
        if self.swept(job).iter().any(|(k, _)| k == key) {
            let axis = self.manifest.zip.iter().chain(&self.manifest.grid).find(|a| a.key == key);
            if let Some(a) = axis {
                return Some(a.origin.clone());
            }
            let entry = self.manifest.include.iter().flat_map(|g| &g.entries).find(|e| e.key == key);
            return entry.map(|e| e.origin.clone());
        }
        self.manifest.base_entry(key).map(|e| e.origin.clone())
    }

    /// A configuration's text without its seed: `key = value\n` of every
    /// parameter, in [`KEYS`] order (the swept values, else the base lines).
    fn body(&self, swept: &[(String, Value)]) -> String {
        let mut s = String::with_capacity(self.base_lines.iter().map(String::len).sum::<usize>() + 64);
        for (k, base) in KEYS.iter().zip(&self.base_lines) {
            match swept.iter().find(|(key, _)| key == k.name) {
                Some((_, v)) => {
                    let _ = writeln!(s, "{} = {v}", k.name);
                }
                None => s.push_str(base),
            }
        }
        s
    }

    /// The canonical text of a job's configuration: seed and every parameter.
    pub fn config_text(&self, job: &Job) -> String {
        format!("seed = {}\n{}", job.seed, self.body(self.swept(job)))
    }

    /// What computes the configuration hash recorded in params.toml
    /// (resume compares it; data and weights files are hashed by content, so
    /// editing one retrains) of any job of the plan, as a number (written as
    /// 16 hex digits). Each input file is read once into `contents` (by
    /// path; an unreadable one is empty), so the jobs train on the bytes
    /// hashed; each configuration's text is written once when its jobs are
    /// asked in plan order.
    pub fn config_hasher<'c>(&self, contents: &'c mut HashMap<PathBuf, Vec<u8>>) -> ConfigHasher<'_, 'c> {
        ConfigHasher { plan: self, contents, last: None }
    }

    /// Keys that vary across the plan, in order of first appearance.
    pub fn swept_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.manifest.axis_keys().map(str::to_string).collect();
        for g in &self.manifest.include {
            for e in &g.entries {
                if !keys.contains(&e.key) {
                    keys.push(e.key.clone());
                }
            }
        }
        keys
    }

    /// Jobs of one shard (all jobs for None), in plan order.
    pub fn shard(&self, shard: Option<Shard>) -> impl Iterator<Item = &Job> {
        let (first, step) = shard.map_or((0, 1), |s| (s.index, s.count));
        self.jobs.iter().skip(first).step_by(step)
    }

    /// Rows of a job's curve.csv: epoch 0, every `log_every`-th, and the last.
    pub fn curve_rows(&self, job: &Job) -> u64 {
        if let Some(spec) = self.own_spec(job) {
            return curve_rows_of(spec.train.epochs as u64, spec.train.log_every as u64);
        }
        let every = match self.value(job, "log_every") {
            Value::Integer(k) if k >= 1 => k as u64,
            _ => 1,
        };
        curve_rows_of(self.epochs_of(job), every)
    }

    /// Estimated bytes of every curve.csv of the plan: rows x [`CURVE_ROW_BYTES`].
    pub fn curve_bytes(&self) -> u64 {
        let seeds = self.manifest.seeds.len() as u64;
        self.configs
            .iter()
            .fold(0u64, |sum, spec| {
                let rows = curve_rows_of(spec.train.epochs as u64, spec.train.log_every as u64);
                sum.saturating_add(rows.saturating_mul(seeds))
            })
            .saturating_mul(CURVE_ROW_BYTES)
    }

    /// Estimated memory and disk of every job (SPEC 6, Size), from the
    /// parameters alone: nothing is allocated or trained. CSV files are read
    /// once each for their rows and columns. predictions.csv and model.json
    /// count only when the `save` key keeps them (an unreadable `save` counts
    /// both: the run refuses it anyway).
    pub fn size(&self) -> PlanSize {
        self.size_of(None)
    }

    /// [`Plan::size`] of the jobs of `shard` only (every job: None): a
    /// shard's run writes and holds its own jobs, not the plan's.
    pub fn size_of(&self, shard: Option<Shard>) -> PlanSize {
        let mut csv_shape: HashMap<PathBuf, (f64, f64)> = HashMap::new();
        let mut size = PlanSize::default();
        let save = self
            .jobs
            .first()
            .and_then(|job| spec::Save::from_value(&self.value(job, "save")).ok())
            .unwrap_or_default();
        for (spec, first) in self.configs() {
            // The configuration's jobs in the shard: seeds are innermost,
            // so they are plan indices first .. first + seeds.
            let seeds = self.manifest.seeds.len();
            let Some(job) = self.jobs[first.index..first.index + seeds]
                .iter()
                .find(|j| shard.is_none_or(|s| s.contains(j)))
            else {
                continue;
            };
            let in_shard = match shard {
                None => seeds,
                Some(s) => {
                    // Indices below `end` congruent to s.index mod s.count.
                    let below =
                        |end: usize| if end > s.index { (end - s.index - 1) / s.count + 1 } else { 0 };
                    below(first.index + seeds) - below(first.index)
                }
            };
            let (rows, inputs) = match &spec.data.source {
                DataSource::Csv(path) => *csv_shape.entry(path.clone()).or_insert_with(|| {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    let width = text.lines().next().map_or(1, |h| h.split(',').count()).max(2) - 1;
                    (text.lines().count().saturating_sub(1) as f64, width as f64)
                }),
                DataSource::Generated(Generated::Xor) => (21.0, 2.0),
                _ => (spec.data.n_samples as f64, 2.0),
            };
            // Two classes: the output layer is the smallest part of any estimate.
            let sizes: Vec<f64> = spec.layer_sizes(inputs as usize, 2).iter().map(|&n| n as f64).collect();
            let params: f64 = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
            let units: f64 = sizes.iter().sum();
            let batch =
                if spec.train.batch_size == 0 { rows } else { (spec.train.batch_size as f64).min(rows) };
            let curves = self.curve_rows(job) as f64 * CURVE_ROW_BYTES as f64;
            let predictions = if save.predictions { rows * (inputs + 4.0) * CELL_BYTES } else { 0.0 };
            let model = if save.model { params * CELL_BYTES } else { 0.0 };
            // The data (loaded, split, joined again for predictions), five
            // copies of the parameters (weights, gradients, optimizer state,
            // the model's text), three activations per unit and sample of a
            // batch (forward, backward) and of the whole set (predictions),
            // and the predictions' text.
            let memory = rows * (inputs + 1.0) * 8.0 * 3.0
                + params * 8.0 * 5.0
                + (batch + rows) * units * 8.0 * 3.0
                + predictions
                + model;
            // Every seed costs the same; summed job by job, as the totals
            // always were (the same floating-point sums).
            for _ in 0..in_shard {
                size.curves += curves;
                size.predictions += predictions;
                size.models += model;
            }
            let disk = curves + predictions + model;
            if memory > size.memory {
                (size.memory, size.memory_job) = (memory, job.index);
            }
            if disk > size.largest_disk {
                (size.largest_disk, size.disk_job) = (disk, job.index);
            }
        }
        size
    }

    /// Every job's epochs, summed (the plan's job-epochs); None when the sum
    /// is beyond u64 (`epochs = 4e18` on a few jobs), which `plan` and `run`
    /// refuse before anything else.
    pub fn total_epochs(&self) -> Option<u64> {
        let seeds = self.manifest.seeds.len() as u64;
        self.configs().try_fold(0u64, |sum, (spec, _)| {
            (spec.train.epochs as u64).checked_mul(seeds).and_then(|e| sum.checked_add(e))
        })
    }

    /// The epochs `job` trains (for progress and rates).
    pub fn epochs_of(&self, job: &Job) -> u64 {
        if let Some(spec) = self.own_spec(job) {
            return spec.train.epochs as u64;
        }
        match self.value(job, "epochs") {
            Value::Integer(e) => e.max(0) as u64,
            _ => 0,
        }
    }
}

/// A warning for each value a `[grid]` axis lists again (`lr = [0.1, 1e-1]`,
/// `hidden = [[2,2], [2, 2]]`): the plan keeps one job per configuration,
/// so the axis has fewer values than it seems to.
fn repeated_values(m: &Manifest) -> Vec<String> {
    let mut warnings = Vec::new();
    for axis in &m.grid {
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(axis.values.len());
        for (i, v) in axis.values.iter().enumerate() {
            let text = spec::canonical(&axis.key, v).to_string();
            if let Some(first) = seen.get(&text) {
                warnings.push(format!(
                    "{}: `{}` lists {} again (values #{} and #{}): the plan keeps it once",
                    axis.origin,
                    axis.key,
                    axis.values[*first],
                    first + 1,
                    i + 1
                ));
            } else {
                seen.insert(text, i);
            }
        }
    }
    warnings
}

/// A warning for each `[[exclude]]` that matched no combination of the
/// axes (`used[i]` false): where it is, its keys, and each value that is not
/// among its axis's values, with those values.
fn unused_excludes(m: &Manifest, used: &[bool]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, (g, _)) in m.exclude.iter().zip(used).enumerate().filter(|(_, (_, used))| !**used) {
        let keys: Vec<String> = g.entries.iter().map(|e| format!("{} = {}", e.key, e.value)).collect();
        let mut why: Vec<String> = Vec::new();
        for e in &g.entries {
            let Some(axis) = m.zip.iter().chain(&m.grid).find(|a| a.key == e.key) else { continue };
            if !axis.values.iter().any(|v| spec::same_value(v, &e.value)) {
                let values: Vec<String> = axis.values.iter().map(Value::to_string).collect();
                why.push(format!(
                    "`{}` = {} is not a value of its axis (allowed: {})",
                    e.key,
                    e.value,
                    values.join(", ")
                ));
            }
        }
        if why.is_empty() {
            why.push("no combination of the axes has all these values".to_string());
        }
        warnings.push(format!(
            "{}: [[exclude]] #{} ({}) matches no job: {}",
            g.origin,
            i + 1,
            keys.join(", "),
            why.join("; ")
        ));
    }
    warnings
}

/// Rows of a curve.csv of `epochs` epochs logged every `every` (>= 1).
fn curve_rows_of(epochs: u64, every: u64) -> u64 {
    let every = every.max(1);
    epochs / every + 1 + u64::from(!epochs.is_multiple_of(every))
}

/// The files a job reads besides its parameters: a CSV data set, a weights
/// file.
pub fn input_files(spec: &JobSpec) -> Vec<PathBuf> {
    let data = match &spec.data.source {
        DataSource::Csv(p) => Some(p.clone()),
        _ => None,
    };
    let init = match &spec.model.init {
        Init::File(p) => Some(p.clone()),
        _ => None,
    };
    data.into_iter().chain(init).collect()
}

/// A configuration hash: the seed and every parameter (in [`KEYS`] order),
/// then the contents of each input file (`contents` caches the reads; an
/// unreadable file counts as empty).
pub fn config_hash_of(
    seed: u64,
    values: &[(&str, Value)],
    files: &[PathBuf],
    contents: &mut HashMap<PathBuf, Vec<u8>>,
) -> String {
    let mut text = format!("seed = {seed}\n");
    for (k, v) in values {
        let _ = writeln!(text, "{k} = {v}");
    }
    hash_text(&text, files, contents)
}

/// [`config_hash_of`] from the configuration text already written.
fn hash_text(text: &str, files: &[PathBuf], contents: &mut HashMap<PathBuf, Vec<u8>>) -> String {
    format!("{:016x}", hash_files(Fnv64::default().field(text), files, contents))
}

/// Ends a configuration hash (its text hashed into `h`) with the contents of
/// each input file.
fn hash_files(mut h: Fnv64, files: &[PathBuf], contents: &mut HashMap<PathBuf, Vec<u8>>) -> u64 {
    for path in files {
        let bytes = contents.entry(path.clone()).or_insert_with(|| std::fs::read(path).unwrap_or_default());
        h = h.bytes(bytes).field("");
    }
    h.finish()
}

/// Job folders [`stored_paths_base`] reads at most (a study of generated
/// data sets records no folder: its 100,000 params.toml are not all read).
const PATHS_BASE_SCAN: usize = 256;

/// When `dir` is a results folder, the folder its jobs' relative data and
/// weights paths resolve against (the original manifest's), as the first
/// job folder that records one says (`paths_relative_to` in params.toml:
/// relative to `dir`, or absolute in older folders); None otherwise, or
/// when none of the first [`PATHS_BASE_SCAN`] job folders records one (no
/// job reads a file; packed jobs are not read).
fn stored_paths_base(dir: &Path) -> Option<PathBuf> {
    let root = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if !root.join(crate::store::OWN).join(crate::store::MARKER).is_file() {
        return None;
    }
    for entry in std::fs::read_dir(root.join(crate::store::JOBS)).ok()?.flatten().take(PATHS_BASE_SCAN) {
        let Ok(text) = std::fs::read_to_string(entry.path().join(crate::store::PARAMS)) else { continue };
        let line =
            text.lines().take_while(|l| !l.starts_with('[')).find(|l| l.starts_with("paths_relative_to"));
        let Some(Value::String(base)) = line
            .and_then(|l| toml::from_str::<toml::Table>(l).ok())
            .and_then(|t| t.get("paths_relative_to").cloned())
        else {
            continue;
        };
        return Some(root.join(base));
    }
    None
}

/// Refuses, before expanding anything, a manifest of over [`MAX_PLAN`] jobs.
fn check_size(m: &Manifest) -> Result<(), ManifestError> {
    // In f64: 30 axes of a million values overflow any integer.
    let axes = m.zip.first().into_iter().chain(&m.grid);
    let product: f64 = axes.map(|a| a.values.len() as f64).product();
    let only_includes = m.zip.is_empty() && m.grid.is_empty() && !m.include.is_empty();
    let combos = if only_includes { 0.0 } else { product } + m.include.len() as f64;
    let jobs = combos * m.seeds.len() as f64;
    if jobs <= MAX_PLAN as f64 {
        return Ok(());
    }
    let count = if jobs < 1e15 { format!("{jobs:.0}") } else { format!("{jobs:.2e}") };
    let origin = Origin::File { path: m.path.clone(), line: 1, col: 1 };
    Err(ManifestError::at(
        &origin,
        format!(
            "the plan would have {count} jobs (before [[exclude]]), over the limit of {MAX_PLAN}; \
             split it into several manifests, or use fewer values or seeds"
        ),
    ))
}

/// Longest job id kept as is; longer ones have their longest values cut
/// (every axis name and the seed stay) and end in a hash: [`shortened`].
const MAX_ID: usize = 100;

/// `dataset-xor_lr-0.1_seed-3`: readable, filesystem-safe (ASCII letters,
/// digits, `.`, `-`, `+`, `_`, `~` only), and never `.` or `..` since it
/// starts with a key name or `seed`.
pub fn job_id(swept: &[(String, Value)], seed: u64) -> String {
    id_with_prefix(&id_prefix(swept), seed)
}

/// What the ids of one configuration share: `dataset-xor_lr-0.1_`.
fn id_prefix(swept: &[(String, Value)]) -> String {
    let mut id = String::new();
    for (k, v) in swept {
        id.push_str(&safe(k));
        id.push('-');
        id.push_str(&id_value(v));
        id.push('_');
    }
    id
}

/// [`job_id`] from the configuration's [`id_prefix`].
fn id_with_prefix(prefix: &str, seed: u64) -> String {
    let mut id = String::with_capacity(prefix.len() + 25);
    id.push_str(prefix);
    id.push_str("seed-");
    let mut digits = [0u8; 20];
    id.extend(decimal(seed, &mut digits).iter().map(|&d| char::from(d)));
    if id.len() > MAX_ID {
        let hash = hex_hash(id.as_bytes());
        id = shortened(prefix, &id[prefix.len()..], &hash).unwrap_or_else(|| {
            // More axis names than fit: cut, then the hash.
            let mut cut = MAX_ID - hash.len() - 1;
            while !id.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}~{hash}", &id[..cut])
        });
    }
    id
}

/// An id over [`MAX_ID`] bytes, shortened so that every axis name and the
/// seed stay: the longest values are cut to one length, each keeping its
/// start and end around a `~` (`feature~columns-a~very~lo~c~d_seed-3`),
/// and `~<hash of the whole id>` ends it. None when the names, the seed
/// and the hash alone leave less than 3 bytes a value. (Ids are ASCII:
/// see [`safe`].)
fn shortened(prefix: &str, seed: &str, hash: &str) -> Option<String> {
    let parts: Vec<(&str, &str)> =
        prefix.split_terminator('_').map(|p| p.split_once('-').unwrap_or((p, ""))).collect();
    // Each name with its `-` and `_`, the seed, `~` and the hash.
    let fixed = parts.iter().map(|(k, _)| k.len() + 2).sum::<usize>() + seed.len() + 1 + hash.len();
    let budget = MAX_ID.checked_sub(fixed)?;
    // The longest length every value may keep, all of them within budget.
    let kept = |cap: usize| parts.iter().map(|(_, v)| v.len().min(cap)).sum::<usize>();
    let mut cap = parts.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    while cap > 0 && kept(cap) > budget {
        cap -= 1;
    }
    if cap < 3 {
        return None;
    }
    let mut id = String::with_capacity(MAX_ID);
    for (k, v) in &parts {
        id.push_str(k);
        id.push('-');
        if v.len() <= cap {
            id.push_str(v);
        } else {
            let tail = (cap - 1) / 2;
            let head = cap - 1 - tail;
            id.push_str(&v[..head]);
            id.push('~');
            id.push_str(&v[v.len() - tail..]);
        }
        id.push('_');
    }
    id.push_str(seed);
    id.push('~');
    id.push_str(hash);
    Some(id)
}

/// `n`'s decimal digits, without the formatting machinery (this runs once
/// per job, or more).
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[start..]
}

fn id_value(v: &Value) -> String {
    match v {
        Value::Array(items) if items.is_empty() => "none".to_string(),
        Value::Array(items) => items.iter().map(id_value).collect::<Vec<_>>().join("x"),
        other => safe(&spec::display_value(other)),
    }
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') { c } else { '~' })
        .collect()
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with 0 <= I < N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let parsed =
            s.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && index < count => Ok(Shard { index, count }),
            Some((index, count)) => Err(format!("shard {index}/{count}: need 0 <= I < N and N >= 1")),
            None => Err(format!("`{s}` is not I/N (e.g. 0/4)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(text: &str) -> Result<Plan, ManifestError> {
        Plan::new(Manifest::parse(Path::new("m.toml"), text, &[])?)
    }

    fn ids(p: &Plan) -> Vec<String> {
        p.jobs.iter().map(|j| p.id(j)).collect()
    }

    #[test]
    fn order_is_zip_then_grid_last_axis_fastest_seeds_innermost_then_includes() {
        // Pinned because shards, summary rows and resume all depend on it.
        let p = plan(
            "seeds = 2\n[zip]\nepochs = [10, 20]\nbias = [false, true]\n[grid]\nlr = [1.0, 0.1]\n\
             dataset = [\"linear\", \"xor\"]\n[[include]]\nactivation = \"tanh\"\n",
        )
        .unwrap();
        assert_eq!(p.jobs.len(), 2 * 2 * 2 * 2 + 2);
        assert_eq!(
            &ids(&p)[..5],
            [
                "epochs-10_bias-false_lr-1.0_dataset-linear_seed-0",
                "epochs-10_bias-false_lr-1.0_dataset-linear_seed-1",
                "epochs-10_bias-false_lr-1.0_dataset-xor_seed-0",
                "epochs-10_bias-false_lr-1.0_dataset-xor_seed-1",
                "epochs-10_bias-false_lr-0.1_dataset-linear_seed-0",
            ]
        );
        assert_eq!(ids(&p)[16..], ["activation-tanh_seed-0", "activation-tanh_seed-1"]);
        assert!(p.jobs.iter().enumerate().all(|(i, j)| j.index == i));
    }

    #[test]
    fn exclude_drops_matching_combinations_with_numeric_equality() {
        let p = plan("[grid]\nlr = [1.0, 0.1]\ndataset = [\"linear\", \"xor\"]\n[[exclude]]\nlr = 1\ndataset = \"xor\"\n")
            .unwrap();
        assert_eq!(
            ids(&p),
            ["lr-1.0_dataset-linear_seed-0", "lr-0.1_dataset-linear_seed-0", "lr-0.1_dataset-xor_seed-0"]
        );
        let e = plan("[grid]\nlr = [1.0]\n[[exclude]]\nlr = 1.0\n").unwrap_err();
        assert!(e.message.contains("every combination is excluded"), "{e}");
    }

    #[test]
    fn an_include_equal_to_a_grid_job_is_not_run_twice() {
        let p = plan("[grid]\nlr = [0.5, 0.1]\n[[include]]\nlr = 0.5\n").unwrap();
        assert_eq!(p.jobs.len(), 2);
    }

    #[test]
    fn invalid_job_values_point_at_the_axis_that_set_them() {
        let e = plan("[base]\nepochs = 5\n[grid]\nlr = [0.1, -1.0]\n").unwrap_err();
        assert_eq!(e.location(), "m.toml:4:1");
        assert_eq!((e.line, e.column, e.key.as_deref()), (Some(4), Some(1), Some("lr")));
        assert!(e.allowed.is_some(), "{e}");
        assert!(e.message.contains("`lr`") && e.message.contains("lr--1.0_seed-0"), "{e}");
        let e = plan("[base]\nhidden = [2, 0]\n").unwrap_err();
        assert_eq!(e.location(), "m.toml:2:1");
    }

    #[test]
    fn integer_and_float_spellings_are_one_configuration() {
        let a = plan("[base]\nlr = 1\n").unwrap();
        let b = plan("[base]\nlr = 1.0\n").unwrap();
        assert_eq!(a.config_text(&a.jobs[0]), b.config_text(&b.jobs[0]));
    }

    #[test]
    fn ids_spell_the_seed_in_decimal() {
        for seed in [0, 7, 10, 99, 100, 123_456_789, u64::MAX] {
            assert_eq!(job_id(&[], seed), format!("seed-{seed}"));
        }
    }

    #[test]
    fn job_ids_are_filesystem_safe_and_bounded() {
        let swept = vec![("dataset".to_string(), Value::String("../data/ü x.csv".into()))];
        assert_eq!(job_id(&swept, 3), "dataset-..~data~~~x.csv_seed-3");
        let long =
            vec![("conv".to_string(), Value::Array((0..200).map(|i| Value::Float(i as f64)).collect()))];
        let id = job_id(&long, 0);
        assert!(id.len() <= MAX_ID, "{id}");
        assert_ne!(
            id,
            job_id(
                &[("conv".to_string(), Value::Array((0..201).map(|i| Value::Float(i as f64)).collect()))],
                0
            )
        );
    }

    #[test]
    fn job_ids_do_not_depend_on_the_order_of_values() {
        // `a b` and `a_b` both read `a~b` in an id; `X` and `x` are one
        // folder on macOS: each job keeps its id whichever value comes first.
        let by_config = |text: &str| -> Vec<(String, String)> {
            let p = plan(text).unwrap();
            let mut v: Vec<(String, String)> = p.jobs.iter().map(|j| (p.config_text(j), p.id(j))).collect();
            v.sort();
            v
        };
        let a = by_config("[grid]\ninit = [\"a b.json\", \"a_b.json\", \"W.json\", \"w.json\"]\n");
        let b = by_config("[grid]\ninit = [\"w.json\", \"a_b.json\", \"W.json\", \"a b.json\"]\n");
        assert_eq!(a, b);
        let ids: HashSet<String> = a.iter().map(|(_, id)| id.to_ascii_lowercase()).collect();
        assert_eq!(ids.len(), 4, "{a:?}");
    }

    #[test]
    fn shards_partition_the_plan() {
        let p = plan("seeds = 7\n[grid]\nlr = [1.0, 0.1]\n").unwrap();
        let mut all: Vec<usize> = (0..3)
            .flat_map(|i| p.shard(Some(Shard { index: i, count: 3 })).map(|j| j.index).collect::<Vec<_>>())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..14).collect::<Vec<_>>());
        assert!("3/3".parse::<Shard>().is_err() && "a/2".parse::<Shard>().is_err());
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
    }
}

#[cfg(test)]
mod pinned {
    use super::*;
    use std::path::Path;

    /// Ids with a disambiguation suffix, cut long ids, an include, a seed
    /// list out of order: every way an id or a hash is made.
    const MANIFEST: &str = "seeds = [3, 0, 17]\n[zip]\nepochs = [5, 6]\nbias = [false, true]\n[grid]\n\
        lr = [1.0, 0.1]\ninit = [\"a b.json\", \"a_b.json\", \"W.json\", \"w.json\"]\n\
        [[include]]\nactivation = \"tanh\"\nhidden = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, \
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]\n";

    /// `index id config_hash fnv(config_text)` of every job, a line each.
    fn lines(p: &Plan) -> String {
        let mut contents = HashMap::new();
        let mut hasher = p.config_hasher(&mut contents);
        let mut s = String::new();
        for j in &p.jobs {
            let hash = hasher.hash(j);
            let _ =
                writeln!(s, "{} {} {hash:016x} {}", j.index, p.id(j), hex_hash(p.config_text(j).as_bytes()));
        }
        s
    }

    fn plan(text: &str) -> Plan {
        Plan::new(Manifest::parse(Path::new("m.toml"), text, &[]).unwrap()).unwrap()
    }

    #[test]
    fn a_plan_keeps_sixteen_bytes_a_job() {
        // Everything else (ids, swept values, texts) is per configuration
        // or built on demand: 100,000 jobs are 1.6 MB of plan.
        assert!(std::mem::size_of::<Job>() <= 16, "{}", std::mem::size_of::<Job>());
        let p = plan("seeds = 5000\n[grid]\nlr = [1.0, 0.3]\nactivation = [\"sigmoid\", \"tanh\"]\n");
        assert_eq!((p.jobs.len(), p.jobs.capacity()), (20_000, 20_000));
        assert_eq!((p.swept.len(), p.prefixes.len(), p.configs.len(), p.renamed.len()), (4, 4, 4, 0));
        assert_eq!(p.id(&p.jobs[19_999]), "lr-0.3_activation-tanh_seed-4999");
    }

    /// [`IdLookup`] keeps 32 bits of each id's hash: among a million ids some
    /// keys are shared, and every id must still find its own job, and an id
    /// of no job none.
    #[test]
    fn the_id_lookup_finds_every_job_though_keys_collide() {
        let p = plan("seeds = 500000\n[grid]\nlr = [1.0, 0.3]\n");
        let mut keys: Vec<u32> = p.jobs.iter().map(|j| id_key(&p.id(j))).collect();
        keys.sort_unstable();
        assert!(keys.windows(2).any(|w| w[0] == w[1]), "no shared key: the test would test nothing");
        let ids = p.id_lookup();
        for j in &p.jobs {
            assert_eq!(ids.find(&p.id(j)), Some(j.index));
        }
        for other in ["lr-1.0_seed-500000", "lr-0.1_seed-0", "", "lr-1.0_seed-0 "] {
            assert_eq!(ids.find(other), None, "{other}");
        }
    }

    #[test]
    fn ids_and_hashes_are_those_of_earlier_versions() {
        // Fixed values from the plan before jobs were made small (commit
        // 61477d5): results folders written then must resume now.
        let s = lines(&plan(MANIFEST));
        let line = |i: usize| s.lines().nth(i).unwrap_or_default().to_string();
        assert_eq!(
            line(0),
            "0 epochs-5_bias-false_lr-1.0_init-a~b.json_seed-3~f9e070ec 45292fab32295f5f f9e070ecfbbe7cc1"
        );
        assert_eq!(
            line(17),
            "17 epochs-5_bias-false_lr-0.1_init-a~b.json_seed-17~22d9001e 7f665644e12848f5 22d9001e988ccc67"
        );
        assert_eq!(
            line(21),
            "21 epochs-5_bias-false_lr-0.1_init-w.json_seed-3~7ac5ff09 c2f4241199c567bf 7ac5ff091c454e21"
        );
        // An id over 100 bytes keeps its seed since the long values are
        // shortened instead (it was cut at 100 bytes, seed and later axes
        // lost): its hash is the one of the whole id, as before.
        assert_eq!(
            line(50),
            "50 activation-tanh_hidden-3x3x3x3x3x3x3x3x3x3x3x3x3x~3x3x3x3x3x3x3x3x3x3x3x3x3_seed-17~54cdce7fcc8ec631 \
             b759e350437d0beb cfabc1044dd68016"
        );
        assert_eq!(s.lines().count(), 51);
        // (The three long ids of the include changed, nothing else.)
        assert_eq!(hex_hash(s.as_bytes()), "44b05fe752374f83");
        // scripts/bench-jobs.sh's manifest at 1,000 jobs.
        let tiny = "name = \"tiny\"\nseeds = 100\n[base]\nepochs = 10\nn_samples = 100\nhidden = [2, 2]\n\
            [grid]\nlr = [1.0, 0.3, 0.1, 0.03, 0.01]\nactivation = [\"sigmoid\", \"tanh\"]\n";
        let s = lines(&plan(tiny));
        assert_eq!(
            s.lines().nth(999),
            Some("999 lr-0.01_activation-tanh_seed-99 0b1060b056c19b82 047747bfab746189")
        );
        assert_eq!(hex_hash(s.as_bytes()), "57919cff6c5c7aa0");
    }
}
