//! What a job records: its params.toml ([`JobFile`]: parameters, outcome
//! and the SHA-256 of every file), a row of summary.csv, and how numbers are
//! written as text (shortest round-trip form, SPEC 6).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Value;

use super::layout::{CURVE, FILES_TABLE, HASHED_FILES, JOBS, PARAMS};
use super::pack::JobRef;
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
    let _ = out.write_str(f64_text(v, &mut F64Buffers::new()));
}

/// Appends [`fmt_f64`]'s text of `v` to `out` (no allocation).
pub fn write_f64_bytes(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(f64_text(v, &mut F64Buffers::new()).as_bytes());
}

/// Where [`f64_text`] writes: zmij's and ryu's buffers (uninitialised
/// until written: free to make), and its own.
struct F64Buffers {
    zmij: zmij::Buffer,
    ryu: ryu::Buffer,
    text: [u8; F64_TEXT_MAX],
}

impl F64Buffers {
    fn new() -> F64Buffers {
        F64Buffers { zmij: zmij::Buffer::new(), ryu: ryu::Buffer::new(), text: [0; F64_TEXT_MAX] }
    }
}

/// Longest text [`f64_text`] writes: `-` + 17 digits + `.` + `e-324`, or
/// `-0.` + 4 zeros + 17 digits, or `-` + 16 digits + `.0`.
const F64_TEXT_MAX: usize = 32;

/// [`fmt_f64`]'s text of `v`, in one of `bufs`: the bytes of Rust's `{v:?}` for a
/// finite `v` (shortest digits that read back to `v`, the closest of them,
/// ties away from zero; scientific notation below 1e-4 and from 1e16 on,
/// `.0` after an integer), at zmij's or ryu's speed rather than `core::fmt`'s.
///
/// zmij and ryu find the same shortest digits but write them in their own
/// layouts (zmij's is `{:?}`'s in [1e-4, 1e16), where most numbers of a
/// results file are, ryu's outside [1e-5, 1e-4)), and break an exact tie
/// between two shortest candidates towards the even one where Rust's
/// Dragon4 fallback rounds up: both are undone here
/// (`f64_text_matches_debug` checks random bit patterns, values of every
/// binary exponent of the fixed range, and every kind of tie against `{:?}`).
fn f64_text(v: f64, bufs: &mut F64Buffers) -> &str {
    if v.is_nan() {
        return "NaN";
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" };
    }
    // Only values with few significant bits can be ties: every other value
    // is zmij's text as it is in [1e-4, 1e16) (decimal exponents -4 to 15,
    // written without an exponent) and ryu's elsewhere outside [1e-5, 1e-4)
    // (where ryu writes `0.0000ddd`).
    let abs = v.abs();
    if !may_be_tie(v) {
        if (1e-4..1e16).contains(&abs) {
            return bufs.zmij.format_finite(v);
        }
        if !(1e-5..1e-4).contains(&abs) {
            return bufs.ryu.format_finite(v);
        }
    }
    let (ryu_buf, buf) = (&mut bufs.ryu, &mut bufs.text);
    // Digits and exponent: v = ±digits × 10^exp10, from ryu's text.
    let text = ryu_buf.format_finite(v).as_bytes();
    let mut digits = [0u8; 17];
    let mut n = 0usize;
    let mut exp10: i32 = 0;
    let mut after_point = false;
    let mut i = usize::from(text.first() == Some(&b'-'));
    while i < text.len() {
        match text[i] {
            b'.' => after_point = true,
            b'e' | b'E' => {
                exp10 += text[i + 1..]
                    .iter()
                    .try_fold((1i32, 0i32), |(sign, acc), &c| match c {
                        b'-' => Some((-1, acc)),
                        b'0'..=b'9' => Some((sign, acc * 10 + i32::from(c - b'0'))),
                        _ => None,
                    })
                    .map_or(0, |(sign, acc)| sign * acc);
                break;
            }
            c => {
                // Leading zeros (`0.0001`) are no digits; a digit beyond 17
                // can only be a trailing zero (`1000000000000000.0`).
                if n < digits.len() && !(n == 0 && c == b'0') {
                    digits[n] = c - b'0';
                    n += 1;
                    exp10 -= i32::from(after_point);
                } else if n == 0 {
                    exp10 -= i32::from(after_point);
                } else if !after_point {
                    exp10 += 1;
                }
            }
        }
        i += 1;
    }
    // `digits[..n]` now stands for an integer; drop its trailing zeros.
    while n > 1 && digits[n - 1] == 0 {
        n -= 1;
        exp10 += 1;
    }
    if n > 0 && rounded_down_at_tie(v, &digits[..n], exp10) {
        // ryu chose the even candidate (the last digit is even, so adding
        // one carries nowhere); Rust chooses the larger magnitude.
        digits[n - 1] += 1;
    }

    let mut len = 0usize;
    let mut push = |b: u8, buf: &mut [u8; F64_TEXT_MAX]| {
        buf[len] = b;
        len += 1;
    };
    if v.is_sign_negative() {
        push(b'-', buf);
    }
    if n == 0 {
        for &b in b"0.0" {
            push(b, buf);
        }
    } else {
        // Position of the decimal point after the first digit: v = d.ddd × 10^point.
        let point = exp10 + n as i32 - 1;
        let abs = v.abs();
        if !(1e-4..1e16).contains(&abs) {
            push(b'0' + digits[0], buf);
            if n > 1 {
                push(b'.', buf);
                for &d in &digits[1..n] {
                    push(b'0' + d, buf);
                }
            }
            push(b'e', buf);
            if point < 0 {
                push(b'-', buf);
            }
            let mut e = point.unsigned_abs();
            let mut rev = [0u8; 3];
            let mut k = 0;
            loop {
                rev[k] = (e % 10) as u8;
                k += 1;
                e /= 10;
                if e == 0 {
                    break;
                }
            }
            for j in (0..k).rev() {
                push(b'0' + rev[j], buf);
            }
        } else if point < 0 {
            push(b'0', buf);
            push(b'.', buf);
            for _ in 0..(-point - 1) {
                push(b'0', buf);
            }
            for &d in &digits[..n] {
                push(b'0' + d, buf);
            }
        } else {
            let int_digits = point as usize + 1;
            for (j, &d) in digits[..n].iter().enumerate() {
                if j == int_digits {
                    push(b'.', buf);
                }
                push(b'0' + d, buf);
            }
            if int_digits >= n {
                for _ in n..int_digits {
                    push(b'0', buf);
                }
                push(b'.', buf);
                push(b'0', buf);
            }
        }
    }
    // Only ASCII digits, signs, `.` and `e` were written.
    std::str::from_utf8(&buf[..len]).unwrap_or("NaN")
}

/// |v| = m × 2^q with m odd (None for 0).
fn odd_mantissa(v: f64) -> Option<(u64, i32)> {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (m, q) = if biased == 0 { (fraction, -1074) } else { (fraction | (1u64 << 52), biased - 1075) };
    (m != 0).then(|| (m >> m.trailing_zeros(), q + m.trailing_zeros() as i32))
}

/// Whether [`rounded_down_at_tie`] can hold for some digits: q = -(f + 1)
/// with f = 1..=27.
fn may_be_tie(v: f64) -> bool {
    odd_mantissa(v).is_some_and(|(_, q)| (-28..=-2).contains(&q))
}

/// Whether `|v|` is exactly halfway between `digits × 10^exp10` and the
/// next candidate up (then ryu rounded to the even `digits`, Rust rounds up).
///
/// |v| = m × 2^q with m odd; the tie value is (2D + 1) × 10^exp10 / 2, an
/// odd number times 5^f / 2^(f + 1) with f = -exp10. They are equal only
/// when q = -(f + 1) and m × 5^f = 2D + 1 (for exp10 >= 0 the tie value has
/// fewer factors of two than any f64 with two shortest candidates).
fn rounded_down_at_tie(v: f64, digits: &[u8], exp10: i32) -> bool {
    let last_even = digits.last().is_some_and(|d| d % 2 == 0);
    if !(-27..0).contains(&exp10) || !last_even {
        return false;
    }
    let Some((m, q)) = odd_mantissa(v) else {
        return false;
    };
    let f = -exp10;
    if q != -(f + 1) {
        return false;
    }
    let d = digits.iter().fold(0u128, |acc, &x| acc * 10 + u128::from(x));
    u128::from(m) * 5u128.pow(f as u32) == 2 * d + 1
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

    /// Appends the outcome as `toml::to_string` serializes it (one `key =
    /// value` line per field, in declaration order, `None` left out), the
    /// same bytes without serde.
    pub(super) fn write_toml(&self, s: &mut String) {
        let mut line = |key: &str, write: &mut dyn FnMut(&mut String)| {
            s.push_str(key);
            s.push_str(" = ");
            write(s);
            s.push('\n');
        };
        line("status", &mut |s| write_toml_string(s, &self.status));
        line("final_loss", &mut |s| write_toml_float(s, self.final_loss));
        line("final_accuracy", &mut |s| write_toml_float(s, self.final_accuracy));
        if let Some(v) = self.final_test_loss {
            line("final_test_loss", &mut |s| write_toml_float(s, v));
        }
        if let Some(v) = self.final_test_accuracy {
            line("final_test_accuracy", &mut |s| write_toml_float(s, v));
        }
        line("min_loss", &mut |s| write_toml_float(s, self.min_loss));
        if let Some(v) = self.epoch_at_target {
            line("epoch_at_target", &mut |s| write_u64(s, v));
        }
        if let Some(v) = self.diverged_epoch {
            line("diverged_epoch", &mut |s| write_u64(s, v));
        }
        line("files_hash", &mut |s| write_toml_string(s, &self.files_hash));
    }
}

/// Appends `v` as toml's `Display` of a value writes it (`"text"`, `1.0`,
/// `[2, 2]`): the bytes of `v.to_string()`, which builds every value's
/// text through serde. Strings of printable ASCII without quotes or
/// backslashes, integers, booleans, floats written alike by `{:?}` and
/// toml (0 and 1e-4 <= |x| < 1e16) and arrays of them are written here;
/// anything else (escapes, `nan`, floats toml writes without an exponent
/// far from 1, tables, dates) by toml itself.
pub fn write_toml_value(s: &mut String, v: &Value) {
    match v {
        Value::String(text) => write_toml_string(s, text),
        Value::Integer(i) => write_i64(s, *i),
        Value::Float(x) => write_toml_float(s, *x),
        Value::Boolean(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Array(items) => {
            s.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_toml_value(s, item);
            }
            s.push(']');
        }
        other => {
            use std::fmt::Write as _;
            let _ = write!(s, "{other}");
        }
    }
}

/// A TOML string as toml writes it: `"text"` when nothing in it needs an
/// escape or another quoting style, else toml's own choice.
fn write_toml_string(s: &mut String, text: &str) {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' && b != b'\'') {
        s.push('"');
        s.push_str(text);
        s.push('"');
    } else {
        use std::fmt::Write as _;
        let _ = write!(s, "{}", Value::String(text.to_string()));
    }
}

/// A TOML float as toml writes it (`Display` of the value, `.0` after an
/// integer): that is [`fmt_f64`]'s text for 0 and 1e-4 <= |x| < 1e16,
/// where neither uses an exponent.
fn write_toml_float(s: &mut String, x: f64) {
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        write_f64(s, x);
    } else {
        use std::fmt::Write as _;
        let _ = write!(s, "{}", Value::Float(x));
    }
}

fn write_i64(s: &mut String, i: i64) {
    if i < 0 {
        s.push('-');
    }
    write_u64(s, i.unsigned_abs());
}

/// Decimal digits of `v` (no allocation, no `core::fmt`).
pub(super) fn write_u64(s: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        s.push(char::from(d));
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
    /// SHA-256 (hex) of the contents of each input file the job read (a CSV
    /// data set, a weights file), by the parameter naming it (`dataset`,
    /// `init`): what the job read, known wherever the folder or the file
    /// moves (`sweep diff` pairs folders by it). Written as `[inputs]`;
    /// empty when the job reads no file, and in folders written before it
    /// was recorded.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub inputs: std::collections::BTreeMap<String, String>,
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
    /// A packed job's row in its pack's index (`file`, line `line`) no
    /// longer meets the rows around it (`why`): an edited offset or length,
    /// which makes whole files read as changed.
    Index {
        file: String,
        line: usize,
        why: String,
    },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Missing(name) => write!(f, "MISSING {name}"),
            Damage::Changed(name) => write!(f, "CHANGED {name}"),
            Damage::Unrecorded => write!(f, "UNRECORDED {PARAMS} records no file hashes"),
            Damage::Index { file, line, why } => write!(
                f,
                "CHANGED {file} line {line}: {why}, so the job's files are read at the wrong places \
                 (the index was edited; its files may be whole)"
            ),
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
                s.push_str(k.name);
                s.push_str(" = ");
                write_toml_value(&mut s, v);
                s.push('\n');
            }
        }
        s
    }

    pub(super) fn to_toml(&self) -> String {
        // Written by hand so parameters keep SPEC order (toml::Table sorts),
        // straight into one String, each value as toml writes it
        // ([`write_toml_value`]: the same bytes, without serde per value).
        use std::fmt::Write as _;
        let mut s = String::with_capacity(2048);
        s.push_str("# One sweep job: its parameters, configuration hash and outcome.\n");
        s.push_str("job_id = ");
        write_toml_string(&mut s, &self.job_id);
        let _ = writeln!(s, "\nseed = {}", self.seed);
        let _ = writeln!(s, "config_hash = \"{}\"", self.config_hash);
        if let Some(dir) = &self.paths_relative_to {
            s.push_str("paths_relative_to = ");
            write_toml_string(&mut s, dir);
            s.push('\n');
        }
        if let Some(classes) = &self.classes {
            s.push_str("classes = [");
            for (i, c) in classes.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_toml_string(&mut s, c);
            }
            s.push_str("]\n");
        }
        s.push_str("\n[params]\n");
        for k in KEYS {
            if let Some(v) = self.params.get(k.name) {
                s.push_str(k.name);
                s.push_str(" = ");
                write_toml_value(&mut s, v);
                s.push('\n');
            }
        }
        if !self.inputs.is_empty() {
            s.push_str("\n[inputs]\n# SHA-256 of the contents of each file the job read, by the parameter naming it\n");
            for (key, hash) in &self.inputs {
                let _ = writeln!(s, "{key} = \"{hash}\"");
            }
        }
        s.push_str("\n[result]\n");
        self.result.write_toml(&mut s);
        let own = sha256_hex(s.as_bytes());
        write_files_table(&mut s, &own, &self.files);
        s
    }
}

/// params.toml's `[files]` table, from [`FILES_TABLE`] to the end of the
/// file: `own` is the hash of the text above it, `files` the other files'
/// hashes (a file not listed was not saved). Its bytes follow from what the
/// text above records (`own`, and `files_hash`, the digest of the others),
/// so a reader rebuilds it to check that nothing in it was changed.
pub(super) fn write_files_table(
    s: &mut String,
    own: &str,
    files: &std::collections::BTreeMap<String, String>,
) {
    use std::fmt::Write as _;
    s.push_str(FILES_TABLE);
    let _ = writeln!(s, "# SHA-256 of each file; {PARAMS}'s covers the lines above [files]");
    for name in HASHED_FILES {
        let hash = if name == PARAMS { Some(own) } else { files.get(name).map(String::as_str) };
        if let Some(h) = hash {
            let _ = writeln!(s, "\"{name}\" = \"{h}\"");
        }
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

    /// A parameter as displayed (summary.csv's cell; empty when absent).
    pub fn shown(&self, key: &str) -> String {
        self.get(key).map(ToString::to_string).unwrap_or_default()
    }

    /// A choice-valued parameter as its enum: absent, the key's default
    /// (what a job of an older sweep without the key trained with). None:
    /// not one of the enum's names (a file path), or not a choice.
    pub fn choice<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        match self.get(key) {
            Some(Typed::Str(name)) => name.parse().ok(),
            Some(_) => None,
            None => match crate::spec::find_key(key)?.kind {
                crate::spec::Kind::Choice { default, .. } => default.parse().ok(),
                _ => None,
            },
        }
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

/// One row of summary.csv (rows are equal when their cells are: `at` is
/// where the job is stored, not a column).
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub job_id: String,
    pub seed: u64,
    /// Every parameter, typed, [`KEYS`] order.
    pub params: Params,
    pub outcome: JobOutcome,
    /// curve.csv relative to the results folder (`jobs/<id>/curve.csv`
    /// in both layouts: summary.csv is the same whatever the layout).
    pub curve: String,
    /// Where the job's files are (not a column).
    pub at: JobRef,
}

impl PartialEq for SummaryRow {
    fn eq(&self, other: &SummaryRow) -> bool {
        (&self.job_id, self.seed, &self.params, &self.outcome, &self.curve)
            == (&other.job_id, other.seed, &other.params, &other.outcome, &other.curve)
    }
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
            at: JobRef::folder(format!("{JOBS}/{}", job.job_id)),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: reproducible bit patterns without a seeded-RNG dependency.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn check(v: f64) {
        let mut bufs = F64Buffers::new();
        let ours = f64_text(v, &mut bufs);
        let expected = if v.is_nan() {
            "NaN".to_string()
        } else if v.is_infinite() {
            if v > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            format!("{v:?}")
        };
        assert_eq!(ours, expected, "bits {:#018x}", v.to_bits());
        if !v.is_nan() {
            assert_eq!(parse_f64(ours).map(f64::to_bits), Some(v.to_bits()), "{ours}");
        }
    }

    #[test]
    fn f64_text_matches_debug_on_edge_cases() {
        let mut cases = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            f64::from_bits(1),
            f64::from_bits(0x000f_ffff_ffff_ffff),
            1e16,
            1e-7,
            1e-4,
            // 9.999999999999999e22 as written in source is 1e23 itself.
            1e23f64.next_down(),
            1e23,
            0.1,
            0.3,
            2.0f64.powi(53),
            2.0f64.powi(53) + 2.0,
            2.0f64.powi(64),
            123456789012345680.0,
            0.5 + 2.0f64.powi(-17),
            2.0f64.powi(51) + 0.25,
            2.0f64.powi(51) + 0.75,
        ];
        for e in -325..=310 {
            let p = format!("1e{e}").parse::<f64>().unwrap_or(0.0);
            cases.extend([p, p.next_up(), p.next_down(), 5.0 * p, 9.5 * p]);
        }
        for v in cases {
            check(v);
            check(-v);
        }
    }

    #[test]
    fn f64_text_matches_debug_on_random_bits() {
        let mut state = 17;
        for _ in 0..2_000_000 {
            check(f64::from_bits(splitmix(&mut state)));
        }
        // Where ryu's layout differs from `{:?}` (0.0000ddd against d.ddde-5).
        for _ in 0..200_000 {
            check(1e-5 + (splitmix(&mut state) >> 11) as f64 * 2.0f64.powi(-53) * 9e-5);
        }
    }

    /// zmij's range, [1e-4, 1e16): random bits of every binary exponent
    /// there and around (random bit patterns land in it one time in 30).
    #[test]
    fn f64_text_matches_debug_where_zmij_writes() {
        let mut state = 29;
        for biased in 1009..=1080u64 {
            for _ in 0..20_000 {
                let fraction = splitmix(&mut state) >> 12;
                check(f64::from_bits(biased << 52 | fraction));
            }
        }
        // Values a results file holds: losses, accuracies, outputs, features.
        for _ in 0..500_000 {
            let u = (splitmix(&mut state) >> 11) as f64 * 2.0f64.powi(-53);
            check(u);
            check(u * 100.0);
            check(1.0 - u);
        }
    }

    /// Every kind of value params.toml holds, and the ones it might.
    fn toml_values(state: &mut u64) -> Vec<Value> {
        let strings = [
            "",
            "relu",
            "a b",
            "../data/x.csv",
            "it's",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "new\nline",
            "cr\rhere",
            "bell\u{7}",
            "del\u{7f}",
            "ü x.csv",
            "''",
            "'''",
            "\"\"\"",
            "a'b\"c",
            "C:\\data",
            "#hash",
            "=",
            "[x]",
            "{y}",
            "日本",
        ];
        let mut values: Vec<Value> = strings.iter().map(|t| Value::String(t.to_string())).collect();
        for i in [0i64, 1, -1, 7, 10, 100, 12345, -98765, i64::MAX, i64::MIN, 1 << 40] {
            values.push(Value::Integer(i));
        }
        values.extend([Value::Boolean(true), Value::Boolean(false)]);
        let mut floats = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            1e-4,
            9.99e-5,
            1e-5,
            1e-7,
            1e15,
            1e16,
            1e17,
            1e20,
            1e300,
            123456789.0,
            0.5 + 2.0f64.powi(-17),
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::from_bits(1),
            2.5e-3,
            3e-5,
        ];
        for e in -30..=30 {
            let p = format!("1e{e}").parse::<f64>().unwrap_or(0.0);
            floats.extend([p, p.next_up(), p.next_down(), 3.0 * p, -7.5 * p]);
        }
        for _ in 0..20_000 {
            floats.push(f64::from_bits(splitmix(state)));
            let m = (splitmix(state) >> 40) as f64;
            floats.push(m * 2.0f64.powi((splitmix(state) % 40) as i32 - 30));
        }
        values.extend(floats.into_iter().map(Value::Float));
        let n = values.len();
        for k in 0..200 {
            let len = k % 5;
            values.push(Value::Array((0..len).map(|j| values[(k * 31 + j * 7) % n].clone()).collect()));
        }
        values.push(Value::Array(vec![
            Value::Array(vec![Value::Integer(2), Value::Float(0.5)]),
            Value::Array(vec![]),
        ]));
        let mut table = toml::Table::new();
        table.insert("a".into(), Value::Integer(1));
        values.push(Value::Table(table.clone()));
        values.push(Value::Array(vec![Value::Table(table)]));
        values
    }

    #[test]
    fn toml_values_are_written_as_toml_writes_them() {
        let mut state = 99;
        for v in toml_values(&mut state) {
            let mut ours = String::new();
            write_toml_value(&mut ours, &v);
            assert_eq!(ours, v.to_string(), "{v:?}");
        }
    }

    /// params.toml as it was written before [`write_toml_value`]: toml's
    /// `Display` per value and serde for the outcome.
    fn to_toml_by_toml(job: &JobFile) -> String {
        use std::fmt::Write as _;
        let mut s = String::from("# One sweep job: its parameters, configuration hash and outcome.\n");
        let _ = writeln!(s, "job_id = {}", Value::String(job.job_id.clone()));
        let _ = writeln!(s, "seed = {}", job.seed);
        let _ = writeln!(s, "config_hash = \"{}\"", job.config_hash);
        if let Some(dir) = &job.paths_relative_to {
            let _ = writeln!(s, "paths_relative_to = {}", Value::String(dir.clone()));
        }
        if let Some(classes) = &job.classes {
            let list = Value::Array(classes.iter().map(|c| Value::String(c.clone())).collect());
            let _ = writeln!(s, "classes = {list}");
        }
        s.push_str("\n[params]\n");
        for k in KEYS {
            if let Some(v) = job.params.get(k.name) {
                let _ = writeln!(s, "{} = {v}", k.name);
            }
        }
        s.push_str("\n[result]\n");
        s.push_str(&toml::to_string(&job.result).expect("outcome serializes"));
        let own = sha256_hex(s.as_bytes());
        s.push_str(FILES_TABLE);
        let _ = writeln!(s, "# SHA-256 of each file; {PARAMS}'s covers the lines above [files]");
        for name in HASHED_FILES {
            let hash = if name == PARAMS { Some(&own) } else { job.files.get(name) };
            if let Some(h) = hash {
                let _ = writeln!(s, "\"{name}\" = \"{h}\"");
            }
        }
        s
    }

    #[test]
    fn params_toml_is_the_bytes_toml_wrote() {
        let mut state = 5;
        let values = toml_values(&mut state);
        let float = |state: &mut u64| match splitmix(state) % 4 {
            0 => f64::NAN,
            1 => f64::from_bits(splitmix(state)),
            _ => (splitmix(state) >> 11) as f64 * 2.0f64.powi(-53),
        };
        let texts = ["ok", "diverged", "a\"b", "ü", "x y,z", "line\nbreak", "", "it's"];
        for n in 0..3000usize {
            let mut params = toml::Table::new();
            for (i, k) in KEYS.iter().enumerate() {
                if (n + i) % 3 != 0 {
                    params.insert(k.name.to_string(), values[(n * 17 + i * 101) % values.len()].clone());
                }
            }
            let some = |state: &mut u64| splitmix(state).is_multiple_of(2);
            let text = |state: &mut u64| texts[(splitmix(state) % texts.len() as u64) as usize].to_string();
            let job = JobFile {
                job_id: text(&mut state) + "-00" + &n.to_string(),
                seed: splitmix(&mut state) >> (n % 64),
                config_hash: format!("{:016x}", splitmix(&mut state)),
                paths_relative_to: some(&mut state).then(|| text(&mut state) + "/../data"),
                classes: some(&mut state).then(|| (0..n % 4).map(|_| text(&mut state)).collect()),
                params,
                inputs: Default::default(),
                result: JobOutcome {
                    status: text(&mut state),
                    final_loss: float(&mut state),
                    final_accuracy: float(&mut state),
                    final_test_loss: some(&mut state).then(|| float(&mut state)),
                    final_test_accuracy: some(&mut state).then(|| float(&mut state)),
                    min_loss: float(&mut state),
                    epoch_at_target: some(&mut state).then(|| splitmix(&mut state) >> (n % 64)),
                    diverged_epoch: some(&mut state).then(|| splitmix(&mut state) % 1000),
                    files_hash: format!("{:016x}", splitmix(&mut state)),
                },
                files: [(CURVE.to_string(), "ab".repeat(32))].into_iter().collect(),
            };
            assert_eq!(job.to_toml(), to_toml_by_toml(&job), "job {n}");
        }
    }

    /// Values with few significant bits: the only ones whose exact value
    /// can lie halfway between two shortest candidates.
    #[test]
    fn f64_text_matches_debug_on_ties() {
        let mut state = 4;
        for q in -90..=12 {
            for bits in 1..=53u32 {
                for _ in 0..40 {
                    let m = (splitmix(&mut state) >> (64 - bits)) | (1 << (bits - 1)) | 1;
                    check(m as f64 * 2.0f64.powi(q));
                }
            }
        }
        // x.25 and x.75 with a 0.25 or 0.125 unit in the last place.
        for _ in 0..200_000 {
            let x = (splitmix(&mut state) >> 14) as f64;
            check(x + 0.25);
            check(x + 0.75);
            check(x / 2.0 + 0.125);
        }
    }
}
