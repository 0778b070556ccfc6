//! Manifest: TOML file (+ `--set` overrides) -> validated [`Manifest`].
//!
//! Every entry keeps where it came from (file, line, column, or the `--set`
//! that wrote it) so an error can point at it. Job-level checks (is this lr
//! allowed?) happen per job in `plan`, with the same origins.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::Value;
use toml::de::{DeTable, DeValue};

use crate::spec::{self, did_you_mean, shown};

/// Where a value was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    File { path: PathBuf, line: usize, col: usize },
    Set(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, col } => write!(f, "{}:{line}:{col}", path.display()),
            Origin::Set(arg) => write!(f, "--set {arg}"),
        }
    }
}

/// A bad manifest or override: where (file, line, column, or the `--set`
/// argument), which key, what is wrong, what is allowed, and a likely fix.
///
/// Displayed as `file:line:col: message (did you mean `x`?); allowed: ...`,
/// each part only when known.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestError {
    /// The manifest file (None for an error in a `--set` argument).
    pub file: Option<PathBuf>,
    /// 1-based line and column (None when the whole file is at fault).
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The `--set KEY=VALUE` argument at fault, when the value came from one.
    pub set: Option<String>,
    /// The key at fault (a parameter, or a top-level key such as `seeds`).
    pub key: Option<String>,
    /// What is wrong, as a sentence.
    pub message: String,
    /// What is allowed instead, e.g. a list of keys or a range.
    pub allowed: Option<String>,
    /// The closest allowed word, for a misspelling (`activaton` -> `activation`).
    pub suggestion: Option<String>,
    /// The errors found after this one: validation goes on past an error
    /// wherever what follows does not depend on it, as a compiler does.
    pub more: Vec<ManifestError>,
}

impl ManifestError {
    /// An error at `origin`; add the key, allowed values and a suggestion
    /// with the builder methods.
    pub fn at(origin: &Origin, message: impl Into<String>) -> Self {
        let (file, line, column, set) = match origin {
            Origin::File { path, line, col } => (Some(path.clone()), Some(*line), Some(*col), None),
            Origin::Set(arg) => (None, None, None, Some(arg.clone())),
        };
        ManifestError {
            file,
            line,
            column,
            set,
            key: None,
            message: message.into(),
            allowed: None,
            suggestion: None,
            more: Vec::new(),
        }
    }

    /// An error about a whole file (it cannot be read, say).
    pub fn in_file(path: &Path, message: impl Into<String>) -> Self {
        ManifestError {
            file: Some(path.to_path_buf()),
            line: None,
            column: None,
            set: None,
            key: None,
            message: message.into(),
            allowed: None,
            suggestion: None,
            more: Vec::new(),
        }
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    pub fn allowed(mut self, allowed: impl Into<String>) -> Self {
        self.allowed = Some(allowed.into());
        self
    }

    pub fn suggestion(mut self, suggestion: Option<impl Into<String>>) -> Self {
        self.suggestion = suggestion.map(Into::into);
        self
    }

    /// `file:line:col`, `file`, or `--set KEY=VALUE`.
    pub fn location(&self) -> String {
        match (&self.set, &self.file, self.line, self.column) {
            (Some(arg), ..) => format!("--set {arg}"),
            (None, Some(file), Some(line), Some(col)) => format!("{}:{line}:{col}", file.display()),
            (None, Some(file), ..) => file.display().to_string(),
            (None, None, ..) => "the manifest".to_string(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        if let Some(a) = &self.allowed {
            write!(f, "; allowed: {a}")?;
        }
        for e in &self.more {
            write!(f, "\nerror: {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestError {}

/// The errors found so far in a manifest, in the order found.
#[derive(Debug, Default)]
pub struct Errors(Vec<ManifestError>);

impl Errors {
    pub fn push(&mut self, mut e: ManifestError) {
        let more = std::mem::take(&mut e.more);
        self.0.push(e);
        self.0.extend(more);
    }

    /// The value, or None with the error kept.
    pub fn ok<T>(&mut self, r: Result<T, ManifestError>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }

    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// Orders the errors as a reader meets their causes: the manifest's
    /// lines top to bottom, then the `--set` arguments in the order given
    /// (a stable sort: errors of one place keep their order).
    pub fn sort_by_place(&mut self) {
        self.0.sort_by_key(|e| (e.set.is_some(), e.line.unwrap_or(0), e.column.unwrap_or(0)));
    }

    /// The first error, carrying the others in [`ManifestError::more`].
    pub fn into_result(self) -> Result<(), ManifestError> {
        let mut all = self.0.into_iter();
        match all.next() {
            None => Ok(()),
            Some(first) => Err(ManifestError { more: all.collect(), ..first }),
        }
    }
}

/// `key = value` and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub origin: Origin,
}

/// A swept parameter and its values (log/lin ranges already expanded).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<Value>,
    /// As written (`[..]` or `{ log = [..] }`), for the manifest as run.
    pub written: Value,
    pub origin: Origin,
}

/// An `[[exclude]]` or `[[include]]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub entries: Vec<Entry>,
    pub origin: Origin,
}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub path: PathBuf,
    /// Folder that relative data and weights paths resolve against.
    pub dir: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub seeds: Vec<u64>,
    seeds_written: SeedsWritten,
    pub base: Vec<Entry>,
    pub zip: Vec<Axis>,
    pub grid: Vec<Axis>,
    pub exclude: Vec<Group>,
    pub include: Vec<Group>,
}

const TOP_KEYS: &[&str] = &["name", "description", "seeds", "base", "grid", "zip", "exclude", "include"];

/// How `seeds` was written, for [`Manifest::to_toml`].
#[derive(Debug, Clone, PartialEq)]
enum SeedsWritten {
    /// A count, or anything else as it was read (a `--set`).
    Value(Value),
    /// A list of distinct integers >= 0: [`Manifest::seeds`] itself (a
    /// million seeds are not kept twice).
    List,
}

/// The raw document, before overrides and checks.
struct Raw {
    name: Option<Entry>,
    description: Option<Entry>,
    seeds: Option<Entry>,
    /// `seeds` written as a list, read straight from the document (no
    /// TOML value per seed), or the error at its first bad element;
    /// `seeds` is then None.
    seed_list: Option<Result<Vec<u64>, ManifestError>>,
    base: Vec<Entry>,
    zip: Vec<Entry>,
    grid: Vec<Entry>,
    exclude: Vec<Group>,
    include: Vec<Group>,
}

/// Turns byte offsets of one source text into origins.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn origin(&self, offset: usize) -> Origin {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Origin::File { path: self.path.to_path_buf(), line, col }
    }

    /// The value at `span`, re-read as plain TOML (spans cover the literal).
    fn value(&self, key: &str, v: &toml::Spanned<DeValue>) -> Result<Value, ManifestError> {
        self.check_inline(v)?;
        self.check_integers(key, v)?;
        let literal = self.text.get(v.span()).unwrap_or("");
        let doc: toml::Table = toml::from_str(&format!("v = {literal}"))
            .map_err(|e| ManifestError::at(&self.origin(v.span().start), e.message().to_string()))?;
        Ok(doc["v"].clone())
    }

    /// [`Source::value`] of a value the caller owns, converted in place:
    /// a list of a million seeds is not parsed twice.
    fn owned_value(&self, key: &str, v: toml::Spanned<DeValue>) -> Result<Value, ManifestError> {
        use serde::Deserialize as _;
        self.check_inline(&v)?;
        self.check_integers(key, &v)?;
        let at = v.span().start;
        Value::deserialize(toml::de::ValueDeserializer::from(v))
            .map_err(|e| ManifestError::at(&self.origin(at), e.message().to_string()))
    }

    /// `seeds` written as a list, read from the document as it is (a list
    /// of a million seeds would be a million TOML values): the seeds, or an
    /// error at the first element at fault, with its line and column. None
    /// for anything else, which is read as a value and checked by
    /// [`parse_seeds`].
    fn seed_list(&self, v: &toml::Spanned<DeValue>) -> Option<Result<Vec<u64>, ManifestError>> {
        let DeValue::Array(items) = v.get_ref() else { return None };
        let items: &[toml::Spanned<DeValue>] = items;
        let item = |i: usize| match items[i].get_ref() {
            DeValue::Integer(n) => SeedItem::Integer(i64::from_str_radix(n.as_str(), n.radix()).ok()),
            _ => SeedItem::Other,
        };
        let place = |i: usize| {
            let span = items[i].span();
            (shown(&self.text.get(span.clone()).unwrap_or("").trim()), self.origin(span.start))
        };
        Some(check_seed_list(items.len(), item, place, &self.origin(v.span().start)))
    }

    /// An integer that no TOML reader holds (beyond an i64), anywhere in
    /// `v`, as an error at its place; the TOML crate's own words for it
    /// ("u64 value was too large") name neither the value nor the range.
    fn check_integers(&self, key: &str, v: &toml::Spanned<DeValue>) -> Result<(), ManifestError> {
        match v.get_ref() {
            DeValue::Integer(n) if i64::from_str_radix(n.as_str(), n.radix()).is_err() => {
                let literal = self.text.get(v.span()).unwrap_or("").trim();
                Err(ManifestError::at(
                    &self.origin(v.span().start),
                    format!(
                        "`{key}`: the integer {} is out of range: TOML integers are from -2^63 to \
                         2^63 - 1 (-9223372036854775808 to 9223372036854775807)",
                        shown(&literal)
                    ),
                )
                .key(key))
            }
            DeValue::Array(items) => items.iter().try_for_each(|item| self.check_integers(key, item)),
            DeValue::Table(table) => table.values().try_for_each(|item| self.check_integers(key, item)),
            _ => Ok(()),
        }
    }

    /// A table written as one (`{ .. }`), not as dotted keys or a header.
    fn check_inline(&self, v: &toml::Spanned<DeValue>) -> Result<(), ManifestError> {
        let literal = self.text.get(v.span()).unwrap_or("");
        if matches!(v.get_ref(), DeValue::Table(_)) && !literal.trim_start().starts_with('{') {
            // `a.b = 1` or a `[base.a]` header: a table that is not written inline.
            return Err(ManifestError::at(
                &self.origin(v.span().start),
                "a dotted key (`key.x = ..`) or a sub-table header (`[section.key]`) is not allowed here; \
                 write `key = value`",
            ));
        }
        Ok(())
    }

    /// A table's entries in the order they were written.
    fn entries<'t>(&self, table: &'t DeTable) -> Vec<(&'t str, &'t toml::Spanned<DeValue<'t>>, Origin)> {
        let mut items: Vec<_> =
            table.iter().map(|(k, v)| (k.span().start, k.get_ref().as_ref(), v)).collect();
        items.sort_by_key(|(at, _, _)| *at);
        items.into_iter().map(|(at, k, v)| (k, v, self.origin(at))).collect()
    }

    /// A table's entries; each bad one is an error in `errors`, and left out.
    fn flat_table(
        &self,
        key: &str,
        v: &toml::Spanned<DeValue>,
        at: &Origin,
        errors: &mut Errors,
    ) -> Vec<Entry> {
        let DeValue::Table(table) = v.get_ref() else {
            errors.push(ManifestError::at(
                at,
                format!("`{key}` must be a table ([{key}] with `key = value` lines)"),
            ));
            return Vec::new();
        };
        self.entries(table)
            .into_iter()
            .filter_map(|(k, v, origin)| {
                Some(Entry { key: k.to_string(), value: errors.ok(self.value(k, v))?, origin })
            })
            .collect()
    }

    /// `[[key]]` tables; one with a bad entry is an error, and left out.
    fn groups(&self, key: &str, v: &toml::Spanned<DeValue>, at: &Origin, errors: &mut Errors) -> Vec<Group> {
        let DeValue::Array(items) = v.get_ref() else {
            errors.push(ManifestError::at(
                at,
                format!("`{key}` must be a list of tables: write [[{key}]] sections"),
            ));
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let origin = self.origin(item.span().start);
                let before = errors.count();
                let entries = self.flat_table(key, item, &origin, errors);
                (errors.count() == before).then_some(Group { entries, origin })
            })
            .collect()
    }
}

/// A manifest with mistakes: every one of them (the first, carrying the
/// others), and what is left of the manifest once the entries at fault are
/// taken out (None when it cannot be read or is not TOML), on which the
/// plan can still check the jobs' values ([`crate::plan::Plan::load`]).
#[derive(Debug)]
pub struct Rejected {
    pub error: ManifestError,
    pub rest: Option<Box<Manifest>>,
}

impl From<Rejected> for ManifestError {
    fn from(r: Rejected) -> ManifestError {
        r.error
    }
}

impl Manifest {
    /// Reads, overrides (`--set KEY=VALUE`, in order) and validates a manifest.
    pub fn load(path: &Path, sets: &[String]) -> Result<Manifest, ManifestError> {
        Ok(Manifest::load_all(path, sets)?)
    }

    /// As [`Manifest::load`], from text already read.
    pub fn parse(path: &Path, text: &str, sets: &[String]) -> Result<Manifest, ManifestError> {
        Ok(Manifest::parse_all(path, text, sets)?)
    }

    /// As [`Manifest::load`]; a manifest with mistakes also gives what is
    /// left of it ([`Rejected`]).
    pub fn load_all(path: &Path, sets: &[String]) -> Result<Manifest, Rejected> {
        let text = std::fs::read_to_string(path).map_err(|e| Rejected {
            error: ManifestError::in_file(path, format!("cannot read the manifest: {e}")),
            rest: None,
        })?;
        Manifest::parse_all(path, &text, sets)
    }

    /// As [`Manifest::parse`]; a manifest with mistakes also gives what is
    /// left of it ([`Rejected`]).
    pub fn parse_all(path: &Path, text: &str, sets: &[String]) -> Result<Manifest, Rejected> {
        // A long seed list is read here, and the TOML parser is given `0`
        // and blanks in its place (the same lines and columns): its lexer
        // holds every token of the document, some 120 bytes a seed. Its
        // result stands when the TOML parser found that `0` as the value of
        // the top-level `seeds` (so the list was no part of a string or a
        // table) and the manifest is valid; otherwise the text is parsed as
        // it is, for the same result and errors as ever.
        if let Some((blanked, at, seeds)) = lift_seed_list(text) {
            let mut lifted = Some((at, seeds));
            let parsed = Manifest::parse_text(path, &blanked, sets, &mut lifted);
            if lifted.is_none() && parsed.is_ok() {
                return parsed;
            }
        }
        Manifest::parse_text(path, text, sets, &mut None)
    }

    /// [`Manifest::parse_all`]; `lifted`: a seed list read from the text, and
    /// the offset of the `0` standing for it (taken when found there).
    fn parse_text(
        path: &Path,
        text: &str,
        sets: &[String],
        lifted: &mut Option<(usize, Vec<u64>)>,
    ) -> Result<Manifest, Rejected> {
        let src = Source { path, text };
        let doc = DeTable::parse(text).map_err(|e| {
            let origin = src.origin(e.span().map_or(0, |s| s.start));
            let error = ManifestError::at(&origin, format!("TOML syntax error: {}", e.message().trim()));
            Rejected { error, rest: None }
        })?;
        let mut raw = Raw {
            name: None,
            description: None,
            seeds: None,
            seed_list: None,
            base: Vec::new(),
            zip: Vec::new(),
            grid: Vec::new(),
            exclude: Vec::new(),
            include: Vec::new(),
        };
        // Every error is collected, in the order of the file, then of the
        // `--set`s, then of the checks.
        let mut errors = Errors::default();
        // Owned, in the order written: top-level values are converted, not re-read.
        let mut top: Vec<_> = doc.into_inner().into_iter().collect();
        top.sort_by_key(|(k, _)| k.span().start);
        for (k, v) in top {
            let (key, origin): (&str, Origin) = (k.get_ref().as_ref(), src.origin(k.span().start));
            match key {
                "seeds" if lifted.as_ref().is_some_and(|(at, _)| *at == v.span().start) => {
                    raw.seeds = None;
                    raw.seed_list = lifted.take().map(|(_, seeds)| Ok(seeds));
                }
                "seeds" if let Some(list) = src.seed_list(&v) => {
                    raw.seeds = None;
                    raw.seed_list = Some(list);
                }
                "name" | "description" | "seeds" => {
                    let Some(value) = errors.ok(src.owned_value(key, v)) else { continue };
                    let e = Some(Entry { key: key.to_string(), value, origin });
                    match key {
                        "name" => raw.name = e,
                        "description" => raw.description = e,
                        _ => (raw.seeds, raw.seed_list) = (e, None),
                    }
                }
                "base" => raw.base = src.flat_table(key, &v, &origin, &mut errors),
                "grid" => raw.grid = src.flat_table(key, &v, &origin, &mut errors),
                "zip" => raw.zip = src.flat_table(key, &v, &origin, &mut errors),
                "exclude" => raw.exclude = src.groups(key, &v, &origin, &mut errors),
                "include" => raw.include = src.groups(key, &v, &origin, &mut errors),
                other => errors.push(unknown_top_key(other, &origin)),
            }
        }
        for set in sets {
            let _ = errors.ok(apply_set(&mut raw, set));
        }
        let (manifest, errors) = validate(path, raw, errors);
        match errors.into_result() {
            Ok(()) => Ok(manifest),
            Err(error) => Err(Rejected { error, rest: Some(Box::new(manifest)) }),
        }
    }

    /// The manifest as run (after `--set`), as TOML that loads back to the
    /// same plan.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, k: &str, v: &Value| out.push_str(&format!("{} = {}\n", toml_key(k), v));
        // No source path here: the folder must not depend on how the
        // manifest's path was spelled (relative locally, absolute on Slurm).
        out.push_str("# The manifest as run (after --set); `sweep summarize` reads it for the job order.\n");
        line(&mut out, "name", &Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            line(&mut out, "description", &Value::String(d.clone()));
        }
        match &self.seeds_written {
            SeedsWritten::Value(v) => line(&mut out, "seeds", v),
            SeedsWritten::List => {
                // As toml displays a list of integers: `[0, 7, 42]`.
                out.push_str("seeds = [");
                for (i, s) in self.seeds.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&s.to_string());
                }
                out.push_str("]\n");
            }
        }
        let section = |out: &mut String, title: &str, entries: &mut dyn Iterator<Item = (&str, &Value)>| {
            out.push_str(&format!("\n{title}\n"));
            for (k, v) in entries {
                line(out, k, v);
            }
        };
        if !self.base.is_empty() {
            section(&mut out, "[base]", &mut self.base.iter().map(|e| (e.key.as_str(), &e.value)));
        }
        if !self.zip.is_empty() {
            section(&mut out, "[zip]", &mut self.zip.iter().map(|a| (a.key.as_str(), &a.written)));
        }
        if !self.grid.is_empty() {
            section(&mut out, "[grid]", &mut self.grid.iter().map(|a| (a.key.as_str(), &a.written)));
        }
        for (title, groups) in [("[[exclude]]", &self.exclude), ("[[include]]", &self.include)] {
            for g in groups {
                section(&mut out, title, &mut g.entries.iter().map(|e| (e.key.as_str(), &e.value)));
            }
        }
        out
    }

    /// The axes in plan order: the zip (as one axis) first, then the grid.
    pub fn axis_keys(&self) -> impl Iterator<Item = &str> {
        self.zip.iter().chain(&self.grid).map(|a| a.key.as_str())
    }

    /// Where a base key was set, if it was.
    pub fn base_entry(&self, key: &str) -> Option<&Entry> {
        self.base.iter().find(|e| e.key == key)
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn unknown_top_key(key: &str, origin: &Origin) -> ManifestError {
    let (hint, suggestion) = if spec::OUTPUT_KEYS.iter().any(|k| k.name == key) {
        (format!(" (`{key}` chooses for the whole run: put it under [base])"), None)
    } else if spec::find_key(key).is_some() {
        (format!(" (`{key}` is a job parameter: put it under [base] or [grid])"), None)
    } else {
        (String::new(), did_you_mean(key, TOP_KEYS))
    };
    ManifestError::at(origin, format!("unknown key `{key}`{hint}"))
        .key(key)
        .suggestion(suggestion)
        .allowed(TOP_KEYS.join(", "))
}

/// `KEY=VALUE`, VALUE in TOML syntax; a bare word is taken as a string so
/// `--set dataset=xor` works. A bare KEY means `base.KEY`.
fn apply_set(raw: &mut Raw, arg: &str) -> Result<(), ManifestError> {
    let origin = Origin::Set(arg.to_string());
    let Some((key, text)) = arg.split_once('=') else {
        return Err(ManifestError::at(
            &origin,
            "expected KEY=VALUE, e.g. --set epochs=500 or --set grid.lr=[0.1,0.01]",
        ));
    };
    let (key, text) = (key.trim(), text.trim());
    let value = match toml::from_str::<toml::Table>(&format!("v = {text}")) {
        Ok(doc) => doc["v"].clone(),
        Err(_) if !text.is_empty() && !text.contains(['[', ']', '{', '}', '"', '\'', '=', ',']) => {
            Value::String(text.to_string())
        }
        Err(e) => {
            let axis = key.starts_with("grid.") || key.starts_with("zip.");
            // The fix says it when there is one (the parser's own words,
            // "string values must be quoted", would say it twice).
            let why = match quote_bare_words(text, axis) {
                Some(fixed) => format!(
                    "strings must be quoted: --set {}",
                    crate::slurm::shell_quote(&format!("{key}={fixed}"))
                ),
                None => e.message().trim().to_string(),
            };
            return Err(ManifestError::at(&origin, format!("VALUE is not TOML: {why}")));
        }
    };
    let (section, name) = match key.split_once('.') {
        Some((s, n)) => (s, n),
        None if matches!(key, "name" | "description" | "seeds") => ("", key),
        None => ("base", key),
    };
    let entry = Entry { key: name.to_string(), value, origin: origin.clone() };
    let upsert = |list: &mut Vec<Entry>, entry: Entry| match list.iter_mut().find(|e| e.key == entry.key) {
        Some(old) => *old = entry,
        None => list.push(entry),
    };
    match section {
        "" => match name {
            "name" => raw.name = Some(entry),
            "description" => raw.description = Some(entry),
            _ => (raw.seeds, raw.seed_list) = (Some(entry), None),
        },
        "base" => {
            if let Some(table) = axis_table(raw, name) {
                return Err(ManifestError::at(
                    &origin,
                    format!("`{name}` is swept by the manifest's [{table}]; override the axis with --set {table}.{name}=[..]"),
                )
                .key(name));
            }
            upsert(&mut raw.base, entry);
        }
        "grid" | "zip" => {
            // An axis lives in one table: `--set zip.lr` for a [grid] axis
            // would make it both.
            if let Some(table) = axis_table(raw, name).filter(|t| *t != section) {
                return Err(ManifestError::at(
                    &origin,
                    format!(
                        "`{name}` is an axis of the manifest's [{table}], not [{section}]; override it with \
                         --set {table}.{name}=[..]"
                    ),
                )
                .key(name));
            }
            // The command line sweeps a key the manifest fixes in [base]:
            // the axis replaces the base value, as `--set KEY=..` replaces
            // it (Hydra's multirun overrides a config value the same way).
            raw.base.retain(|e| e.key != name);
            upsert(if section == "grid" { &mut raw.grid } else { &mut raw.zip }, entry);
        }
        other => {
            return Err(ManifestError::at(&origin, format!("unknown section `{other}`"))
                .key(key)
                .suggestion(did_you_mean(other, &["base", "grid", "zip"]))
                .allowed("base.KEY, grid.KEY, zip.KEY, seeds, name or description"));
        }
    }
    Ok(())
}

/// The table (`grid` or `zip`) in which `key` is an axis, if it is one.
fn axis_table(raw: &Raw, key: &str) -> Option<&'static str> {
    if raw.grid.iter().any(|e| e.key == key) {
        Some("grid")
    } else if raw.zip.iter().any(|e| e.key == key) {
        Some("zip")
    } else {
        None
    }
}

/// A `--set` VALUE that is not TOML because of unquoted words
/// (`[tanh, relu]`), with those words quoted, if that makes it TOML; else,
/// for an `axis` (`grid.KEY`, `zip.KEY`), the words as a list, and for
/// another key, a value that is no list or table as one string.
fn quote_bare_words(text: &str, axis: bool) -> Option<String> {
    let parses = |t: &str| toml::from_str::<toml::Table>(&format!("v = {t}")).is_ok();
    let mut out = String::new();
    let mut word = String::new();
    let mut quoted = 0;
    let mut flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            if parses(word) {
                out.push_str(word);
            } else {
                out.push_str(&Value::String(word.clone()).to_string());
                quoted += 1;
            }
            word.clear();
        }
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                flush(&mut word, &mut out);
                // A string as written, up to its closing quote.
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '[' | ']' | '{' | '}' | ',' | '=' => {
                flush(&mut word, &mut out);
                out.push(c);
            }
            c if c.is_whitespace() => {
                flush(&mut word, &mut out);
                out.push(c);
            }
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    if quoted == 0 {
        None
    } else if parses(&out) {
        Some(out)
    } else if axis && parses(&format!("[{out}]")) {
        // `grid.dataset=xor,linear`: an axis is a list.
        Some(format!("[{out}]"))
    } else if !axis && !text.starts_with(['[', '{', '"', '\'']) {
        // One string with a comma or an `=` in it: `description=lr, 4A`.
        Some(Value::String(text.to_string()).to_string())
    } else {
        None
    }
}

/// A parameter key, or an error with a "did you mean".
fn check_param_key(e: &Entry, section: &str) -> Result<(), ManifestError> {
    if spec::find_key(&e.key).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = spec::KEYS.iter().map(|k| k.name).collect();
    // `seeds`, `name`, `description` belong above every section.
    let hint = if matches!(e.key.as_str(), "seeds" | "name" | "description") {
        format!(" (`{}` is a top-level key: move it above the first [section])", e.key)
    } else {
        String::new()
    };
    Err(ManifestError::at(&e.origin, format!("[{section}] unknown key `{}`{hint}", e.key))
        .key(&e.key)
        .suggestion(did_you_mean(&e.key, &names).or_else(|| spec::known_as(&e.key)))
        .allowed(names.join(", ")))
}

/// Checks the raw document; every independent mistake is added to `errors`.
/// The manifest returned is whole when there is none; else it is what is
/// left once each entry at fault is taken out (a bad `seeds` gives seed 0,
/// a bad `name` the file's stem), so that the jobs' values can still be
/// checked and reported with the rest.
fn validate(path: &Path, raw: Raw, mut errors: Errors) -> (Manifest, Errors) {
    let stem = path.file_stem().map_or("sweep".to_string(), |s| s.to_string_lossy().into_owned());
    let (name, name_origin) = match raw.name {
        None => (stem, Origin::File { path: path.to_path_buf(), line: 1, col: 1 }),
        Some(Entry { value: Value::String(s), origin, .. }) if !s.trim().is_empty() => (s, origin),
        Some(e) => {
            errors.push(ManifestError::at(&e.origin, "`name` must be a non-empty string").key("name"));
            (stem, e.origin)
        }
    };
    // It names the default results folder, results/<name>: one folder, inside.
    if name == "." || name == ".." || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        errors.push(
            ManifestError::at(
                &name_origin,
                format!(
                    "`name` = {}: the name is the results folder's (results/<name>), so it must be one \
                     folder name: no `/`, `\\` or control characters, and not `.` or `..`",
                    shown(&Value::String(name.clone()))
                ),
            )
            .key("name"),
        );
    }
    let description = match raw.description {
        None => None,
        Some(Entry { value: Value::String(s), .. }) => Some(s),
        Some(e) => {
            errors.push(ManifestError::at(&e.origin, "`description` must be a string").key("description"));
            None
        }
    };
    let (seeds, seeds_written) = match (raw.seeds, raw.seed_list) {
        (_, Some(Ok(list))) => (list, SeedsWritten::List),
        (_, Some(Err(e))) => {
            errors.push(e);
            (vec![0], SeedsWritten::Value(Value::Integer(1)))
        }
        (None, None) => (vec![0], SeedsWritten::Value(Value::Integer(1))),
        (Some(e), None) => {
            (errors.ok(parse_seeds(&e)).unwrap_or_else(|| vec![0]), SeedsWritten::Value(e.value))
        }
    };

    // Output keys (`save`, `layout`) choose for the whole run, so they are
    // checked here, where their line is known, with every other mistake (a
    // job parameter's value is checked per configuration by the plan).
    let output_key = |e: &&Entry| spec::OUTPUT_KEYS.iter().any(|k| k.name == e.key);
    let mut base = raw.base;
    base.retain(|e| {
        let before = errors.count();
        let _ = errors.ok(check_param_key(e, "base"));
        let kind = spec::find_key(&e.key).map(|k| k.kind).filter(|_| output_key(&e));
        if let Some(Err(problem)) = kind.map(|k| k.check(&e.value)) {
            errors.push(
                ManifestError::at(&e.origin, format!("`{}` = {}: {problem}", e.key, shown(&e.value)))
                    .key(&e.key)
                    .allowed(kind.map(|k| k.allowed()).unwrap_or_default()),
            );
        }
        errors.count() == before
    });
    let swept = raw.zip.iter().map(|e| ("[zip]", e)).chain(raw.grid.iter().map(|e| ("[grid]", e)));
    let included = raw.include.iter().flat_map(|g| g.entries.iter().map(|e| ("[[include]]", e)));
    for (section, e) in swept.chain(included).filter(|(_, e)| output_key(e)) {
        errors.push(
            ManifestError::at(
                &e.origin,
                format!(
                    "`{}` chooses for every job of the run: set it in [base] (or --set {}=..), not in {section}",
                    e.key, e.key
                ),
            )
            .key(&e.key),
        );
    }
    // [[exclude]] may name any axis, even one with a mistake of its own.
    let axis_keys: Vec<String> = raw.zip.iter().chain(&raw.grid).map(|e| e.key.clone()).collect();
    let mut axis = |e: Entry, section: &str| -> Option<Axis> {
        errors.ok(check_param_key(&e, section))?;
        if output_key(&&e) {
            return None; // said above
        }
        let values = errors.ok(expand_axis(&e, section))?;
        Some(Axis { key: e.key, values, written: e.value, origin: e.origin })
    };
    let mut zip: Vec<Axis> = raw.zip.into_iter().filter_map(|e| axis(e, "zip")).collect();
    let mut grid: Vec<Axis> = raw.grid.into_iter().filter_map(|e| axis(e, "grid")).collect();
    // A key both in [base] and on an axis: every job takes the axis's
    // values, so the base value would be lost without a word (`--set
    // KEY=..` on an axis is refused the same way).
    for (section, a) in zip.iter().map(|a| ("zip", a)).chain(grid.iter().map(|a| ("grid", a))) {
        if let Some(b) = base.iter().find(|b| b.key == a.key) {
            errors.push(
                ManifestError::at(
                    &a.origin,
                    format!(
                        "`{}` is swept by [{section}] and also set in [base] ({}): every job takes the \
                         axis's values, so the base value {} would be ignored; keep one: remove it from \
                         [base] (the axis then sets it), or remove the axis (`--set {section}.{}=[..]` \
                         replaces the base value from the command line)",
                        a.key,
                        b.origin,
                        shown(&b.value),
                        a.key
                    ),
                )
                .key(&a.key),
            );
        }
    }
    if let Some(first) = zip.first()
        && let Some(other) = zip.iter().find(|a| a.values.len() != first.values.len())
    {
        errors.push(
            ManifestError::at(
                &other.origin,
                format!(
                    "[zip] lists must have one length: `{}` has {}, `{}` has {}",
                    first.key,
                    first.values.len(),
                    other.key,
                    other.values.len()
                ),
            )
            .key(&other.key),
        );
        zip.clear();
    }
    grid.retain(|dup| {
        let both = zip.iter().any(|z| z.key == dup.key);
        if both {
            errors.push(
                ManifestError::at(
                    &dup.origin,
                    format!("`{}` is both in [zip] and [grid]; keep one", dup.key),
                )
                .key(&dup.key),
            );
        }
        !both
    });

    let axis_keys: Vec<&str> = axis_keys.iter().map(String::as_str).collect();
    let mut exclude = raw.exclude;
    exclude.retain(|g| {
        let before = errors.count();
        if g.entries.is_empty() {
            errors.push(ManifestError::at(&g.origin, "[[exclude]] is empty: it would drop every job"));
        }
        for e in g.entries.iter().filter(|e| !axis_keys.contains(&e.key.as_str())) {
            errors.push(
                ManifestError::at(
                    &e.origin,
                    format!(
                        "[[exclude]] key `{}` is not swept: [[exclude]] matches values of the swept axes",
                        e.key
                    ),
                )
                .key(&e.key)
                .suggestion(did_you_mean(&e.key, &axis_keys))
                .allowed(if axis_keys.is_empty() {
                    "(no axis is swept)".to_string()
                } else {
                    axis_keys.join(", ")
                }),
            );
        }
        errors.count() == before
    });
    let mut include = raw.include;
    for g in &mut include {
        // An output key here was said above.
        g.entries.retain(|e| errors.ok(check_param_key(e, "[include]")).is_some() && !output_key(&e));
    }

    // "" for a manifest in the working folder, so paths print as written.
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let manifest = Manifest {
        path: path.to_path_buf(),
        dir,
        name,
        description,
        seeds,
        seeds_written,
        base,
        zip,
        grid,
        exclude,
        include,
    };
    (manifest, errors)
}

/// Seed lists shorter than this (in bytes of text) are left to the TOML
/// parser.
const LIFTED_LIST_BYTES: usize = 16 * 1024;

/// A long top-level `seeds = [..]` list, before any `[section]`, written
/// plainly: decimal integers from 0 to 2^63 - 1 without leading zeros,
/// commas, blanks and line breaks (a trailing comma allowed), distinct,
/// then nothing but blanks or a comment on the line of its `]`. Returns
/// the text with the list replaced by `0` and blanks (line breaks kept),
/// the offset of that `0`, and the seeds. None for anything else (a
/// short list, a comment or an underscore inside it, ...): the TOML
/// parser reads it.
fn lift_seed_list(text: &str) -> Option<(String, usize, Vec<u64>)> {
    let bytes = text.as_bytes();
    let mut line_start = 0;
    let open = loop {
        let line = &text[line_start..];
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.starts_with('[') {
            return None; // a section: `seeds` is not top-level below
        }
        if let Some(rest) = trimmed.strip_prefix("seeds") {
            let rest = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?;
            let rest = rest.trim_start_matches([' ', '\t']);
            if !rest.starts_with('[') {
                return None;
            }
            break text.len() - rest.len();
        }
        line_start += line.find('\n')? + 1;
    };
    let mut seeds = Vec::new();
    let mut i = open + 1;
    let blank =
        |b: u8, next: Option<&u8>| matches!(b, b' ' | b'\t' | b'\n') || (b == b'\r' && next == Some(&b'\n'));
    let close = loop {
        while i < bytes.len() && blank(bytes[i], bytes.get(i + 1)) {
            i += 1;
        }
        match bytes.get(i)? {
            b']' => break i,
            b'0'..=b'9' => {
                let start = i;
                let mut seed: u64 = 0;
                while let Some(d @ b'0'..=b'9') = bytes.get(i) {
                    seed = seed.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
                    i += 1;
                }
                if (bytes[start] == b'0' && i - start > 1) || seed > i64::MAX as u64 {
                    return None;
                }
                seeds.push(seed);
                while i < bytes.len() && blank(bytes[i], bytes.get(i + 1)) {
                    i += 1;
                }
                match bytes.get(i)? {
                    b',' => i += 1,
                    b']' => break i,
                    _ => return None,
                }
            }
            _ => return None,
        }
    };
    let after = text[close + 1..].split('\n').next().unwrap_or("").trim_start_matches([' ', '\t']);
    if !(after.is_empty() || after == "\r" || after.starts_with('#')) || close - open < LIFTED_LIST_BYTES {
        return None;
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if seeds.is_empty() || sorted.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    drop(sorted);
    let mut blanked = String::with_capacity(text.len());
    blanked.push_str(&text[..open]);
    blanked.push('0');
    blanked.extend(text[open + 1..=close].chars().map(|c| if c == '\n' || c == '\r' { c } else { ' ' }));
    blanked.push_str(&text[close + 1..]);
    Some((blanked, open, seeds))
}

/// What `seeds` may be, for its errors.
const SEEDS_ALLOWED: &str = "a count from 1 to 1000000 (seeds 0..n-1) or a list of distinct integers from 0 to 2^63 - 1, e.g. [0, 7, 42]";

/// One element of a seed list, as far as its check needs it.
enum SeedItem {
    /// An integer; None when it does not fit in an i64.
    Integer(Option<i64>),
    /// Anything else (a float, a string, a list, ...).
    Other,
}

/// The seeds of a list of `n` elements, `item(i)` each; or an error at the
/// first element at fault (`place(i)`: as written, and where), saying what
/// is wrong with it, or at `whole` for an empty list.
fn check_seed_list(
    n: usize,
    item: impl Fn(usize) -> SeedItem,
    place: impl Fn(usize) -> (String, Origin),
    whole: &Origin,
) -> Result<Vec<u64>, ManifestError> {
    let error = |origin: &Origin, message: String| {
        ManifestError::at(origin, message).key("seeds").allowed(SEEDS_ALLOWED)
    };
    if n == 0 {
        return Err(error(whole, "`seeds` is an empty list: a list needs at least one seed".to_string()));
    }
    let mut seeds = Vec::with_capacity(n);
    // seed -> the index of the element that gave it
    let mut seen = std::collections::HashMap::with_capacity(n);
    for i in 0..n {
        let problem = match item(i) {
            SeedItem::Integer(Some(s)) if s >= 0 => match seen.insert(s as u64, i) {
                None => {
                    seeds.push(s as u64);
                    continue;
                }
                Some(first) => format!("repeats `seeds[{first}]`: seeds must be distinct"),
            },
            SeedItem::Integer(Some(_)) => "is negative".to_string(),
            SeedItem::Integer(None) => "is out of range".to_string(),
            SeedItem::Other => "is not an integer".to_string(),
        };
        let (written, origin) = place(i);
        return Err(error(&origin, format!("`seeds[{i}]` = {written} {problem}")));
    }
    Ok(seeds)
}

/// `seeds` as a value (a count, or a list from `--set`).
fn parse_seeds(e: &Entry) -> Result<Vec<u64>, ManifestError> {
    match &e.value {
        Value::Integer(n) if *n >= 1 && *n <= 1_000_000 => Ok((0..*n as u64).collect()),
        Value::Array(items) => check_seed_list(
            items.len(),
            |i| match items[i] {
                Value::Integer(s) => SeedItem::Integer(Some(s)),
                _ => SeedItem::Other,
            },
            |i| (shown(&items[i]), e.origin.clone()),
            &e.origin,
        ),
        other => Err(ManifestError::at(
            &e.origin,
            format!("`seeds` must be a seed count or a list of distinct seeds, not {}", shown(other)),
        )
        .key("seeds")
        .allowed(SEEDS_ALLOWED)),
    }
}

/// Rounds to 12 significant digits so generated values print as written
/// (`0.001`, not `0.0009999999999999998`).
fn round12(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// Most values a `{ log = .. }` / `{ lin = .. }` axis may generate.
const MAX_AXIS_COUNT: f64 = 1e6;

/// An axis's values: a non-empty list, or `{ log = [a, b, n] }` / `{ lin = [a, b, n] }`.
fn expand_axis(e: &Entry, section: &str) -> Result<Vec<Value>, ManifestError> {
    let here =
        |msg: String| ManifestError::at(&e.origin, format!("[{section}] `{}`: {msg}", e.key)).key(&e.key);
    match &e.value {
        Value::Array(items) if items.is_empty() => {
            Err(here("empty list: an axis needs at least one value".into()))
        }
        Value::Array(items) => Ok(items.clone()),
        Value::Table(t) if t.len() == 1 && (t.contains_key("log") || t.contains_key("lin")) => {
            let (kind, spec) = t.iter().next().expect("one entry");
            let nums: Option<Vec<f64>> = match spec {
                Value::Array(a) if a.len() == 3 => a
                    .iter()
                    .map(|v| match v {
                        Value::Float(f) => Some(*f),
                        Value::Integer(i) => Some(*i as f64),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            };
            let usage = format!("{kind} = [start, stop, count], e.g. {{ {kind} = [1e-4, 1.0, 5] }}");
            let Some(nums) = nums else { return Err(here(format!("expected {usage}"))) };
            let (a, b, n) = (nums[0], nums[1], nums[2]);
            if n < 1.0 || n.fract() != 0.0 || n > MAX_AXIS_COUNT {
                return Err(here(format!(
                    "count must be an integer from 1 to {MAX_AXIS_COUNT}, found {n}; {usage}"
                )));
            }
            if kind == "log" && (a <= 0.0 || b <= 0.0) {
                return Err(here(format!("log ranges need start and stop > 0; {usage}")));
            }
            let n = n as usize;
            let at = |i: usize| {
                let t = if n == 1 { 0.0 } else { i as f64 / (n - 1) as f64 };
                if kind == "log" { (a.ln() + t * (b.ln() - a.ln())).exp() } else { a + t * (b - a) }
            };
            Ok((0..n).map(|i| Value::Float(round12(at(i)))).collect())
        }
        Value::Table(t) => {
            const FORMS: &str = "{ log = [start, stop, count] } (log-spaced) or { lin = [start, stop, count] } \
                                 (evenly spaced)";
            let problem = match t.keys().find(|k| !["log", "lin"].contains(&k.as_str())) {
                Some(k) => {
                    let hint = crate::spec::did_you_mean(k, &["log", "lin"])
                        .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                    format!("unknown key `{k}` in the axis table{hint}")
                }
                None if t.is_empty() => "an empty table".to_string(),
                None => "both `log` and `lin`: write one".to_string(),
            };
            Err(here(format!("{problem}; allowed: a list of values, {FORMS}")))
        }
        other => Err(here(format!(
            "an axis must be a list of values, found {} (write [{}] for one value)",
            other.type_str(),
            shown(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, sets: &[&str]) -> Result<Manifest, ManifestError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        Manifest::parse(Path::new("exp/m.toml"), text, &sets)
    }

    /// A valid seed list is read straight from the document; it gives the
    /// seeds and manifest.toml line that the list as a TOML value gives,
    /// and every other `seeds` is read (and refused) as before.
    #[test]
    fn a_seed_list_read_from_the_document_is_the_list_as_a_value() {
        let mut state = 3u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut lists: Vec<String> = [
            "[0]",
            "[0, 7, 42]",
            "[ 5 ,3,\n 1 , # a comment\n 2, ]",
            "[0x10, 0o7, 0b11, 1_000, +5]",
            "[9223372036854775807, 0]",
        ]
        .map(String::from)
        .to_vec();
        for n in 1..200 {
            let mut seeds: Vec<u64> = (0..n).map(|_| next() % 1000).collect();
            seeds.sort_unstable();
            seeds.dedup();
            seeds.reverse();
            let items: Vec<String> = seeds.iter().map(u64::to_string).collect();
            lists.push(format!("[{}]", items.join(if n % 2 == 0 { ", " } else { ",\n  " })));
        }
        for list in &lists {
            let text = format!("seeds = {list}\n[base]\nepochs = 1\n");
            let m = parse(&text, &[]).unwrap();
            let value: Value = toml::from_str::<toml::Table>(&text).unwrap()["seeds"].clone();
            let entry = Entry { key: "seeds".into(), value: value.clone(), origin: m.base[0].origin.clone() };
            assert_eq!(m.seeds, parse_seeds(&entry).unwrap(), "{list}");
            assert!(m.to_toml().contains(&format!("\nseeds = {value}\n")), "{list}: {}", m.to_toml());
            assert_eq!(Manifest::parse(Path::new("exp/m.toml"), &m.to_toml(), &[]).unwrap().seeds, m.seeds);
        }
        for bad in ["[]", "[1, 1]", "[-1]", "[-0]", "[1.0]", "[\"1\"]", "[[1]]", "[9223372036854775808]"] {
            let text = format!("seeds = {bad}\n");
            // Refused with the errors of the value path (`-0` is 0).
            match parse(&text, &[]) {
                Err(e) => assert!(bad != "[-0]" && e.to_string().starts_with("exp/m.toml:1:"), "{bad}: {e}"),
                Ok(m) => assert_eq!((bad, m.seeds), ("[-0]", vec![0])),
            }
        }
        // `--set seeds=..` replaces a list read from the document.
        assert_eq!(parse("seeds = [4, 5]\n", &["seeds=2"]).unwrap().seeds, vec![0, 1]);
        assert_eq!(parse("seeds = 2\n", &["seeds=[9, 8]"]).unwrap().seeds, vec![9, 8]);
    }

    /// A bad seed list names its first bad element (value, index, line and
    /// column) and what is allowed, and never echoes the whole list.
    #[test]
    fn a_bad_seed_is_named_with_its_index_and_place() {
        let error = |text: &str, sets: &[&str]| parse(text, sets).unwrap_err();
        for (list, at, says) in [
            (
                "[0, 1, 17, 17]",
                "exp/m.toml:1:20",
                "`seeds[3]` = 17 repeats `seeds[2]`: seeds must be distinct",
            ),
            ("[0, -1, 2]", "exp/m.toml:1:13", "`seeds[1]` = -1 is negative"),
            ("[0, 3005.5]", "exp/m.toml:1:13", "`seeds[1]` = 3005.5 is not an integer"),
            ("[0, \"a\"]", "exp/m.toml:1:13", "`seeds[1]` = \"a\" is not an integer"),
            (
                "[0, 9223372036854775808]",
                "exp/m.toml:1:13",
                "`seeds[1]` = 9223372036854775808 is out of range",
            ),
            (
                "[0, 18446744073709551616]",
                "exp/m.toml:1:13",
                "`seeds[1]` = 18446744073709551616 is out of range",
            ),
            ("[0,\n  1, 1]", "exp/m.toml:2:6", "`seeds[2]` = 1 repeats `seeds[1]`"),
            ("[]", "exp/m.toml:1:9", "`seeds` is an empty list"),
        ] {
            let e = error(&format!("seeds = {list}\n[base]\nepochs = 1\n"), &[]);
            assert_eq!(e.location(), at, "{list}: {e}");
            assert!(e.message.contains(says), "{list}: {e}");
            assert_eq!(e.key.as_deref(), Some("seeds"));
            assert!(e.allowed.as_deref().is_some_and(|a| a.contains("distinct integers from 0 to 2^63 - 1")));
        }
        // From `--set`: the element by its index.
        let e = error("", &["seeds=[4, 5, 4]"]);
        assert_eq!(
            (e.location().as_str(), e.message.as_str()),
            ("--set seeds=[4, 5, 4]", "`seeds[2]` = 4 repeats `seeds[0]`: seeds must be distinct")
        );
        // A `--set` still replaces a bad list of the file.
        assert_eq!(parse("seeds = [1, 1]\n", &["seeds=2"]).unwrap().seeds, vec![0, 1]);
        // An integer beyond an i64 is named with its range, not the TOML crate's words.
        let e = error("seeds = 9223372036854775808\n", &[]);
        assert_eq!(e.location(), "exp/m.toml:1:9");
        assert!(e.message.contains("`seeds`: the integer 9223372036854775808 is out of range"), "{e}");
        let e = error("[grid]\nlr = [1, -99999999999999999999]\n", &[]);
        assert_eq!((e.location().as_str(), e.key.as_deref()), ("exp/m.toml:2:10", Some("lr")));
        // A long list with one duplicate, a bad value at its end: one short line.
        let long: Vec<String> = (0..200_000).map(|i| i.to_string()).collect();
        for (last, says) in
            [("5", "`seeds[200000]` = 5 repeats `seeds[5]`"), ("-5", "`seeds[200000]` = -5 is negative")]
        {
            let text = format!("seeds = [{}, {last}]\n[base]\nepochs = 1\n", long.join(", "));
            let e = error(&text, &[]);
            assert!(e.message.contains(says), "{}", shown(&e));
            assert!(e.to_string().len() < 300, "{}", shown(&e));
            assert_eq!((e.line, e.column), (Some(1), Some(text.find(&format!(", {last}]")).unwrap() + 3)));
        }
        // A count is shown capped too.
        let e = error(&format!("seeds = \"{}\"\n", "x".repeat(10_000)), &[]);
        assert!(e.to_string().len() < 300 && e.message.contains("x…"), "{e}");
    }

    /// A value shown in a message is cut at 80 characters, ending in `…`.
    #[test]
    fn values_shown_in_messages_are_capped() {
        assert_eq!(shown(&"abc"), "abc");
        let eighty = "é".repeat(80);
        assert_eq!(shown(&eighty), eighty);
        let long = shown(&"é".repeat(81));
        assert_eq!((long.chars().count(), long.ends_with("é…")), (80, true));
    }

    /// A long seed list read by hand gives the manifest (or the errors)
    /// that the TOML parser gives, and only stands where it is the
    /// top-level `seeds`.
    #[test]
    fn a_long_seed_list_read_by_hand_is_what_toml_reads() {
        let path = Path::new("exp/m.toml");
        let by_toml =
            |text: &str| Manifest::parse_text(path, text, &[], &mut None).map_err(ManifestError::from);
        let same = |text: &str| {
            let (ours, theirs) = (Manifest::parse(path, text, &[]), by_toml(text));
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("{ours:?} against {theirs:?}"),
            }
            ours
        };
        let mut state = 11u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 20
        };
        for round in 0..12 {
            let mut seeds: Vec<u64> = (0..3000 + round * 500).map(|_| next() % 1_000_000_000).collect();
            seeds.sort_unstable();
            seeds.dedup();
            let sep = [", ", ",\n", " ,\t", ",\r\n  "][round % 4];
            let items: Vec<String> = seeds.iter().map(u64::to_string).collect();
            let trailing = if round % 3 == 0 { "," } else { "" };
            let list = format!("[{}{trailing}]", items.join(sep));
            let end = ["\n", "  # the seeds\n", "\r\n", " \t\n"][round % 4];
            let text = format!("name = \"n\"\n  seeds = {list}{end}[base]\nepochs = 1\n");
            assert!(lift_seed_list(&text).is_some(), "round {round}: the list is read by hand");
            assert_eq!(same(&text).unwrap().seeds, seeds);
            // An error elsewhere is the TOML parser's, at the same line and column.
            let bad = text.replace("epochs = 1", "epochs = \"x\"\nfoo = 2");
            assert!(same(&bad).is_err());
            // The same list as the text of a string, before the real `seeds`.
            let inside =
                format!("description = '''\nseeds = {list}\n'''\nseeds = 3{end}[base]\nepochs = 1\n");
            let m = same(&inside).unwrap();
            assert_eq!(m.seeds, vec![0, 1, 2]);
            assert!(m.description.unwrap().contains(&items[0]));
            // Refused lists: a duplicate, a line that goes on after `]`.
            let dup = text.replacen(&format!("[{}", items[0]), &format!("[{0}{sep}{0}", items[0]), 1);
            assert!(lift_seed_list(&dup).is_none() && same(&dup).is_err());
            let on = format!("seeds = {list} name = \"n\"\n");
            assert!(lift_seed_list(&on).is_none() && same(&on).is_err());
        }
        // Written otherwise (leading zeros, underscores, a comment inside,
        // a sign, a quoted key): the TOML parser reads it.
        let long: Vec<String> = (0..5000).map(|i| (i * 3).to_string()).collect();
        for list in [
            format!("[{}, 007]", long.join(", ")),
            format!("[{}, 1_000_001]", long.join(", ")),
            format!("[{}, # x\n 99999]", long.join(", ")),
            format!("[{}, +99999]", long.join(", ")),
        ] {
            let text = format!("seeds = {list}\n");
            assert!(lift_seed_list(&text).is_none(), "{}", &list[list.len() - 20..]);
            same(&text).ok();
        }
        let quoted = format!("\"seeds\" = [{}]\n", long.join(", "));
        assert!(lift_seed_list(&quoted).is_none());
        assert_eq!(same(&quoted).unwrap().seeds.len(), 5000);
    }

    #[test]
    fn reads_every_section_in_written_order() {
        let m = parse(
            "seeds = [0, 7]\n[base]\nepochs = 10\n[grid]\nlr = [1.0, 0.1]\ndataset = [\"linear\", \"xor\"]\n\
             [zip]\nhidden = [[2], [4]]\nbias = [false, true]\n[[exclude]]\nlr = 1.0\n[[include]]\nlr = 0.5\n",
            &[],
        )
        .unwrap();
        assert_eq!(m.name, "m");
        assert_eq!(m.seeds, vec![0, 7]);
        assert_eq!(m.grid.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["lr", "dataset"]);
        assert_eq!(m.zip.iter().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["hidden", "bias"]);
        assert_eq!(m.exclude.len(), 1);
        assert_eq!(m.include.len(), 1);
        assert_eq!(m.dir, PathBuf::from("exp"));
    }

    #[test]
    fn errors_name_file_line_column_and_suggest() {
        let e = parse("[grid]\nlr = [0.1]\nactivaton = [\"tanh\"]\n", &[]).unwrap_err();
        assert_eq!(e.location(), "exp/m.toml:3:1");
        assert_eq!((e.file.as_deref(), e.line, e.column), (Some(Path::new("exp/m.toml")), Some(3), Some(1)));
        assert_eq!(e.key.as_deref(), Some("activaton"));
        assert_eq!(e.suggestion.as_deref(), Some("activation"));
        assert!(e.allowed.as_deref().is_some_and(|a| a.contains("activation, ")), "{e}");
        assert!(e.to_string().contains("did you mean `activation`"), "{e}");
        let e = parse("sed = 3\n", &[]).unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("seeds"));
        assert!(e.to_string().contains("did you mean `seeds`"), "{e}");
        let e = parse("lr = 0.1\n", &[]).unwrap_err();
        assert!(e.message.contains("job parameter"), "{e}");
        assert_eq!((e.key.as_deref(), e.suggestion.as_deref()), (Some("lr"), None));
        let e = parse("[grid]\nlr = [0.1\n", &[]).unwrap_err();
        assert!(e.message.contains("TOML syntax error") && e.location().starts_with("exp/m.toml:"), "{e}");
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn log_and_lin_axes_expand_to_round_values() {
        let m = parse("[grid]\nlr = { log = [1e-4, 1.0, 5] }\nl2 = { lin = [0.0, 1.0, 11] }\n", &[]).unwrap();
        let show = |a: &Axis| a.values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ");
        assert_eq!(show(&m.grid[0]), "0.0001 0.001 0.01 0.1 1.0");
        assert_eq!(show(&m.grid[1]), "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0");
    }

    #[test]
    fn set_overrides_base_grid_and_seeds() {
        let m =
            parse("[grid]\nlr = [0.1]\n", &["epochs=500", "grid.lr=[1.0, 2.0]", "seeds=3", "dataset=xor"])
                .unwrap();
        assert_eq!(m.base_entry("epochs").unwrap().value, Value::Integer(500));
        assert_eq!(m.base_entry("dataset").unwrap().value, Value::String("xor".into()));
        assert_eq!(m.grid[0].values.len(), 2);
        assert_eq!(m.seeds, vec![0, 1, 2]);
        let e = parse("", &["epochs"]).unwrap_err();
        assert!(e.location().starts_with("--set"), "{e}");
        assert_eq!((e.set.as_deref(), e.file.as_deref()), (Some("epochs"), None));
        let e = parse("[grid]\nlr = [0.1]\n", &["lr=0.5"]).unwrap_err();
        assert!(e.message.contains("grid.lr"), "{e}");
    }

    #[test]
    fn zip_lengths_must_agree_and_excludes_must_name_axes() {
        let e = parse("[zip]\nlr = [1, 2]\nepochs = [1]\n", &[]).unwrap_err();
        assert!(e.message.contains("one length"), "{e}");
        let e = parse("[grid]\nlr = [1]\n[[exclude]]\nepoch = 3\n", &[]).unwrap_err();
        assert!(e.message.contains("not swept"), "{e}");
        assert_eq!(e.key.as_deref(), Some("epoch"));
        assert_eq!(e.allowed.as_deref(), Some("lr"));
        assert_eq!(e.suggestion, None, "`epoch` is not close to `lr`");
        let e = parse("[grid]\nlr = []\n", &[]).unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
    }

    #[test]
    fn manifest_as_run_loads_back_to_the_same_manifest() {
        let m = parse(
            "description = \"d\"\nseeds = 2\n[base]\nepochs = 10\n[grid]\nlr = { log = [0.01, 1, 3] }\n[[exclude]]\nlr = 1.0\n",
            &["grid.lr=[0.5, 1.0]"],
        )
        .unwrap();
        let again = Manifest::parse(Path::new("exp/m.toml"), &m.to_toml(), &[]).unwrap();
        assert_eq!(again.grid[0].values, m.grid[0].values);
        assert_eq!(again.seeds, m.seeds);
        assert_eq!(again.base[0].value, m.base[0].value);
        assert_eq!(again.exclude[0].entries[0].value, m.exclude[0].entries[0].value);
    }
}
