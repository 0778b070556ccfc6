//! One job's parameters: the table of SPEC 3 (each parameter once, with its
//! type, default, allowed values and documentation), and the validated,
//! typed [`JobSpec`] the trainer consumes.
//!
//! Everything about a parameter comes from its row in [`KEYS`]: manifest
//! validation (unknown keys, wrong types, out-of-range values, the "allowed"
//! text of every message), defaults, the canonical form used for hashing,
//! the columns of summary.csv and params.toml, the JSON types of `sweep
//! export`, and the key table in README.md (a test regenerates it and fails
//! when they differ). Adding a parameter is one row here plus the field it
//! fills in [`JobSpec::from_values`].
//!
//! Raw values (TOML, as written in a manifest or `--set`) and validated
//! settings are different types: once a `JobSpec` exists nothing re-checks it.

use std::path::{Path, PathBuf};

use toml::Value;

/// An enum whose variants have manifest names: `NAMES` (in order),
/// `name()`, `Display` and `FromStr` (with a "did you mean") all come from
/// the one list of `Variant = "name"` pairs.
macro_rules! named {
    ($(#[$meta:meta])* pub enum $T:ident { $($(#[$vmeta:meta])* $V:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $T { $($(#[$vmeta])* $V),+ }

        impl $T {
            /// Every variant, in the order of [`Self::NAMES`].
            pub const ALL: &'static [$T] = &[$($T::$V),+];
            /// The names a manifest may write, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($s),+];

            /// The name a manifest writes (and params.toml records).
            pub fn name(self) -> &'static str {
                match self { $($T::$V => $s),+ }
            }
        }

        impl std::fmt::Display for $T {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $T {
            /// "unknown value ..." with a "did you mean".
            type Err = String;
            fn from_str(s: &str) -> Result<$T, String> {
                match s {
                    $($s => Ok($T::$V),)+
                    other => Err(unknown_value(other, Self::NAMES)),
                }
            }
        }
    };
}

named! {
    /// A generated data set (SPEC 4).
    pub enum Generated {
        Linear = "linear",
        /// The lab's 21 fixed points.
        Xor = "xor",
        XorHard = "xor-hard",
        Circle = "circle",
        Spiral = "spiral",
    }
}

named! {
    /// What a missing cell of a CSV data set (empty, `NA`, `NaN`) does.
    pub enum Missing {
        /// Refuse the file, naming the line and column.
        Error = "error",
        /// Leave the row out (the run says how many).
        DropRows = "drop-rows",
    }
}

named! {
    /// Per-feature input scaling, fitted on the training split only.
    pub enum Scale {
        None = "none",
        /// (x - mean) / std, population std; a constant feature is divided by 1.
        Standard = "standard",
        /// (x - min) / (max - min); a constant feature is divided by 1.
        Minmax = "minmax",
    }
}

named! {
    /// A layer's activation.
    pub enum Activation {
        Sigmoid = "sigmoid",
        Tanh = "tanh",
        Relu = "relu",
        None = "none",
        /// Over the units of a layer: `exp(z_j) / sum_u exp(z_u)`. Output layer only.
        Softmax = "softmax",
    }
}

named! {
    /// Where the initial weights come from (or a weights file, see [`Init`]).
    pub enum InitKind {
        /// N(0, 1), the lab's.
        Normal = "normal",
        /// Glorot uniform.
        Xavier = "xavier",
    }
}

named! {
    pub enum Loss {
        Mse = "mse",
        Bce = "bce",
        /// Cross-entropy of a softmax output, from the logits.
        Ce = "ce",
    }
}

named! {
    pub enum Reduction {
        Sum = "sum",
        Mean = "mean",
    }
}

named! {
    pub enum Backprop {
        Exact = "exact",
        Lab = "lab",
    }
}

named! {
    /// The optimizer's name; [`Optimizer`] carries its hyper-parameters.
    pub enum OptimizerKind {
        Sgd = "sgd",
        Momentum = "momentum",
        Adam = "adam",
    }
}

/// The keys that only mean something for a CSV data set: a generated set
/// with any of them away from its default is refused.
pub const CSV_ONLY: [&str; 3] = ["label_column", "feature_columns", "missing"];

/// Every job parameter, in the order of SPEC 3 (and of summary.csv columns,
/// params.toml and the configuration hash): its name, type and default,
/// what it accepts, and what it means.
pub const KEYS: &[Key] = &[
    Key {
        name: "dataset",
        kind: Kind::Choice { names: Generated::NAMES, default: "linear", file: Some(CSV_FILE) },
        doc: "`xor` is the lab's 21 points; a CSV path is relative to the manifest",
    },
    Key {
        name: "label_column",
        kind: Kind::Text { default: "label" },
        doc: "CSV only: the column holding the class labels (integers or strings, trimmed; two that differ \
              only by spaces are refused), anywhere in the file",
    },
    Key {
        name: "feature_columns",
        kind: Kind::Texts { default: &[] },
        doc: "CSV only: the input columns, in this order; [] = every column but the label",
    },
    Key {
        name: "missing",
        kind: Kind::Choice { names: Missing::NAMES, default: "error", file: None },
        doc: "CSV only: a missing cell (empty, `NA`, `NaN`) is an error naming its line and column; \
              `drop-rows` drops such rows (the run says how many)",
    },
    Key {
        name: "scale",
        kind: Kind::Choice { names: Scale::NAMES, default: "none", file: None },
        doc: "`standard`: zero mean, unit variance; `minmax`: [0, 1]; fitted on the training split only, \
              after `conv`, and saved in model.json",
    },
    Key {
        name: "stratify",
        kind: Kind::Bool { default: false },
        doc: "hold out round(n_c * test_fraction) of each class c",
    },
    Key {
        name: "n_samples",
        kind: Kind::Int { default: 100, min: 1 },
        doc: "points of generated sets other than `\"xor\"`",
    },
    Key {
        name: "noise",
        kind: Kind::Float { default: 0.0, range: Range::AtLeast(0.0) },
        doc: "std-dev of Gaussian noise on generated inputs",
    },
    Key {
        name: "test_fraction",
        kind: Kind::Float { default: 0.0, range: Range::Closed(0.0, 0.9) },
        doc: "share of the samples held out for testing",
    },
    Key { name: "hidden", kind: Kind::Sizes { default: &[2, 2] }, doc: "hidden layer sizes" },
    Key {
        name: "activation",
        kind: Kind::Choice { names: &["sigmoid", "tanh", "relu", "none"], default: "sigmoid", file: None },
        doc: "hidden layers",
    },
    Key {
        name: "output_activation",
        kind: Kind::Choice { names: &["sigmoid", "none", "softmax"], default: "sigmoid", file: None },
        doc: "the output layer; `softmax`: one output unit per class",
    },
    Key { name: "bias", kind: Kind::Bool { default: false }, doc: "a bias on every layer" },
    Key {
        name: "init",
        kind: Kind::Choice { names: InitKind::NAMES, default: "normal", file: Some(JSON_FILE) },
        doc: "`normal`: N(0, 1), the lab's; `xavier`: Glorot uniform",
    },
    Key {
        name: "loss",
        kind: Kind::Choice { names: Loss::NAMES, default: "mse", file: None },
        doc: "`bce` is computed from the logit and needs `output_activation = \"sigmoid\"`; `ce` \
              (cross-entropy, from the logits) needs `output_activation = \"softmax\"`",
    },
    Key {
        name: "reduction",
        kind: Kind::Choice { names: Reduction::NAMES, default: "sum", file: None },
        doc: "of the per-sample loss over a batch; `sum` is the lab's",
    },
    Key {
        name: "backprop",
        kind: Kind::Choice { names: Backprop::NAMES, default: "exact", file: None },
        doc: "`lab`: the report's code, which hands the error down without the activation derivative",
    },
    Key {
        name: "optimizer",
        kind: Kind::Choice { names: OptimizerKind::NAMES, default: "sgd", file: None },
        doc: "PyTorch semantics",
    },
    Key { name: "lr", kind: Kind::Float { default: 0.01, range: Range::Above(0.0) }, doc: "learning rate" },
    Key {
        name: "momentum",
        kind: Kind::Float { default: 0.9, range: Range::HalfOpen(0.0, 1.0) },
        doc: "for `optimizer = \"momentum\"`",
    },
    Key {
        name: "beta1",
        kind: Kind::Float { default: 0.9, range: Range::HalfOpen(0.0, 1.0) },
        doc: "for `optimizer = \"adam\"`",
    },
    Key {
        name: "beta2",
        kind: Kind::Float { default: 0.999, range: Range::HalfOpen(0.0, 1.0) },
        doc: "for `optimizer = \"adam\"`",
    },
    Key {
        name: "eps",
        kind: Kind::Float { default: 1e-8, range: Range::Above(0.0) },
        doc: "for `optimizer = \"adam\"`",
    },
    Key {
        name: "l2",
        kind: Kind::Float { default: 0.0, range: Range::AtLeast(0.0) },
        doc: "adds `l2 * W` to each weight gradient (not biases)",
    },
    Key {
        name: "batch_size",
        kind: Kind::Int { default: 0, min: 0 },
        doc: "samples per step; 0 = full batch",
    },
    Key {
        name: "shuffle",
        kind: Kind::Bool { default: true },
        doc: "reshuffle the samples every epoch when `batch_size` > 0",
    },
    Key { name: "epochs", kind: Kind::Int { default: 5000, min: 1 }, doc: "" },
    Key {
        name: "conv",
        kind: Kind::Numbers { default: &[] },
        doc: "pre-filter kernel over consecutive samples, e.g. [0.2, 0.8]",
    },
    Key {
        name: "log_every",
        kind: Kind::Int { default: 1, min: 1 },
        doc: "a curve row every k epochs (the first and last always)",
    },
    Key {
        name: "target_loss",
        kind: Kind::Float { default: 0.01, range: Range::AtLeast(0.0) },
        doc: "for the summary's `epoch_at_target`",
    },
];

/// Keys that choose what a run writes, not what a job computes: set in
/// `[base]` (or `--set`) for the whole run, they are not part of any job's
/// configuration (its hash, params.toml, summary.csv), so the results of a
/// job do not depend on them.
pub const OUTPUT_KEYS: &[Key] = &[
    Key {
        name: "save",
        kind: Kind::Subset { names: SAVED_FILES, default: SAVED_FILES },
        doc: "the optional files each job writes (curve.csv and params.toml always); [] for large sweeps \
              that need only summary.csv and the curves",
    },
    Key {
        name: "layout",
        kind: Kind::Choice { names: Layout::NAMES, default: "folders", file: None },
        doc: "how jobs are stored: a folder per job in `jobs/`, or `packed`: the same files' bytes appended \
              to a few files in `packs/` (one pair per chunk of 16 to 64 jobs), for sweeps of 10,000 jobs \
              and more (no file per job; read them with `sweep export`, `report`, `diff`)",
    },
];

named! {
    /// How a run stores its jobs (the `layout` key).
    pub enum Layout {
        /// `jobs/<job_id>/`, four files each.
        Folders = "folders",
        /// `packs/<I>-<N>.<first index>.{data,index.csv}`: one pair per claim chunk.
        Packed = "packed",
    }
}

impl Layout {
    /// The layout of a checked `layout` value.
    pub fn from_value(value: &Value) -> Result<Layout, ParamError> {
        let key = find_key("layout").expect("layout is a key");
        let bad = |problem: String| ParamError {
            key: key.name.to_string(),
            value: value.to_string(),
            problem,
            allowed: key.allowed(),
        };
        match key.kind.check(value).map_err(bad)? {
            Typed::Str(name) => name.parse().map_err(bad),
            _ => unreachable!("a Choice checks to Str"),
        }
    }
}

/// The files `save` may name.
pub const SAVED_FILES: &[&str] = &["predictions", "model"];

/// Which optional files each job writes (the `save` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Save {
    /// predictions.csv.
    pub predictions: bool,
    /// model.json.
    pub model: bool,
}

impl Default for Save {
    fn default() -> Save {
        Save { predictions: true, model: true }
    }
}

impl Save {
    /// The files of a checked `save` value (a list of [`SAVED_FILES`]).
    pub fn from_value(value: &Value) -> Result<Save, ParamError> {
        let key = find_key("save").expect("save is a key");
        let names = match key.kind.check(value) {
            Ok(Typed::Texts(names)) => names,
            Ok(_) => unreachable!("a Subset checks to Texts"),
            Err(problem) => {
                return Err(ParamError {
                    key: key.name.to_string(),
                    value: value.to_string(),
                    problem,
                    allowed: key.allowed(),
                });
            }
        };
        let has = |n: &str| names.iter().any(|x| x == n);
        Ok(Save { predictions: has("predictions"), model: has("model") })
    }
}

/// A file a choice-valued key may name instead of one of its choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileChoice {
    /// The extension that marks a value as a path (a folder in it does too).
    pub extension: &'static str,
    /// How messages and the README call it.
    pub what: &'static str,
}

const CSV_FILE: FileChoice = FileChoice { extension: ".csv", what: "a path to a CSV file" };
const JSON_FILE: FileChoice = FileChoice { extension: ".json", what: "a path to a weights JSON file" };

/// One row of [`KEYS`]: a parameter.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    /// Its type, default and the values it accepts.
    pub kind: Kind,
    /// What it means, beyond the values it accepts (Markdown, for README).
    pub doc: &'static str,
}

/// A parameter's type, with its default and its check.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// One of `names`, or with `file`, a path to such a file.
    Choice {
        names: &'static [&'static str],
        default: &'static str,
        file: Option<FileChoice>,
    },
    /// An integer >= `min`.
    Int {
        default: i64,
        min: i64,
    },
    /// A finite real number in `range` (an integer is read as a real).
    Float {
        default: f64,
        range: Range,
    },
    Bool {
        default: bool,
    },
    /// A non-empty list of layer sizes, each >= 1.
    Sizes {
        default: &'static [i64],
    },
    /// A list of finite real numbers, possibly empty.
    Numbers {
        default: &'static [f64],
    },
    /// A non-empty string (a column name).
    Text {
        default: &'static str,
    },
    /// A list of distinct non-empty strings (column names), possibly empty.
    Texts {
        default: &'static [&'static str],
    },
    /// A list of distinct entries of `names`, possibly empty.
    Subset {
        names: &'static [&'static str],
        default: &'static [&'static str],
    },
}

/// Where a real-valued parameter must lie.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// x >= a
    AtLeast(f64),
    /// x > a
    Above(f64),
    /// a <= x <= b
    Closed(f64, f64),
    /// a <= x < b
    HalfOpen(f64, f64),
}

impl Range {
    pub fn contains(self, x: f64) -> bool {
        match self {
            Range::AtLeast(a) => x >= a,
            Range::Above(a) => x > a,
            Range::Closed(a, b) => (a..=b).contains(&x),
            Range::HalfOpen(a, b) => (a..b).contains(&x),
        }
    }

    fn describe(self) -> String {
        match self {
            Range::AtLeast(a) => format!("a number >= {a}"),
            Range::Above(a) => format!("a number > {a}"),
            Range::Closed(a, b) => format!("a number in [{a}, {b}]"),
            Range::HalfOpen(a, b) => format!("a number in [{a}, {b})"),
        }
    }
}

/// A checked value, in the type its [`Kind`] says.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Str(String),
    Int(usize),
    Float(f64),
    Bool(bool),
    Sizes(Vec<usize>),
    Numbers(Vec<f64>),
    Texts(Vec<String>),
}

impl std::fmt::Display for Typed {
    /// As a person reads it in a table, and as summary.csv writes it:
    /// strings bare, reals in shortest round-trip form (`0.1`, `1.0`),
    /// lists inline (`[2, 2]`); the same text as [`display_value`] of the
    /// canonical TOML value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list<T>(f: &mut std::fmt::Formatter<'_>, items: &[T], one: fn(&T) -> String) -> std::fmt::Result {
            f.write_str("[")?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&one(x))?;
            }
            f.write_str("]")
        }
        match self {
            Typed::Str(s) => f.write_str(s),
            Typed::Int(i) => write!(f, "{i}"),
            Typed::Float(x) => write!(f, "{x:?}"),
            Typed::Bool(b) => write!(f, "{b}"),
            Typed::Sizes(v) => list(f, v, |i| i.to_string()),
            Typed::Numbers(v) => list(f, v, |x| format!("{x:?}")),
            Typed::Texts(v) => list(f, v, |t| list_element(t).into_owned()),
        }
    }
}

/// A text inside a displayed list: bare when that reads back as one
/// element (`alcohol`, `flavanoids`), else a TOML basic string (`"a, b"`,
/// `" a"`): a name holding the list's separator, a bracket, a quote or a
/// backslash, a control character, or leading or trailing space is
/// quoted, so two different lists never display alike.
pub fn list_element(text: &str) -> std::borrow::Cow<'_, str> {
    let plain = !text.is_empty()
        && text.trim() == text
        && !text.chars().any(|c| matches!(c, ',' | '[' | ']' | '"' | '\'' | '\\') || c.is_control());
    if plain {
        return text.into();
    }
    let mut q = String::with_capacity(text.len() + 2);
    q.push('"');
    for c in text.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() => q.push_str(&format!("\\u{:04X}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q.into()
}

/// The elements of a displayed list (`[a, "b, c"]` -> `a`, `"b, c"`), as
/// written (quoted ones with their quotes); None when `text` is not a list
/// as [`list_element`] writes them.
pub fn list_elements(text: &str) -> Option<Vec<&str>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let mut items = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            // Up to the first quote not escaped by a backslash.
            let mut escaped = false;
            let close = quoted.char_indices().find_map(|(i, c)| {
                let done = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                done.then_some(i)
            })?;
            close + 2
        } else {
            rest.find(',').unwrap_or(rest.len())
        };
        items.push(&rest[..end]);
        rest = &rest[end..];
        if !rest.is_empty() {
            rest = rest.strip_prefix(", ")?;
            if rest.is_empty() {
                return None;
            }
        }
    }
    Some(items)
}

/// One element of [`list_elements`] as the text it stands for (a quoted
/// one unescaped); None when a quoted element is not a TOML string.
pub fn list_element_value(shown: &str) -> Option<String> {
    if !shown.starts_with('"') {
        return Some(shown.to_string());
    }
    match toml::from_str::<toml::Table>(&format!("v = {shown}")).ok()?.remove("v")? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

impl Typed {
    /// The value as `sweep export --format json` writes it: numbers and
    /// booleans as JSON numbers and booleans, strings (choices, paths,
    /// column names) as strings; lists as their displayed text, as in the
    /// CSV (so a column has one JSON type).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Typed::Int(i) => (*i as u64).into(),
            Typed::Float(x) => (*x).into(),
            Typed::Bool(b) => (*b).into(),
            Typed::Str(s) => s.as_str().into(),
            Typed::Sizes(_) | Typed::Numbers(_) | Typed::Texts(_) => self.to_string().into(),
        }
    }

    /// The numbers in the value (`0.1` -> [0.1], `[2, 2]` -> [2, 2]), or None
    /// for text: what reading order sorts by (numeric order of numbers,
    /// lexicographic for lists of them).
    pub fn numbers(&self) -> Option<Vec<f64>> {
        match self {
            Typed::Int(i) => Some(vec![*i as f64]),
            Typed::Float(x) => Some(vec![*x]),
            Typed::Sizes(v) => Some(v.iter().map(|&i| i as f64).collect()),
            Typed::Numbers(v) => Some(v.clone()),
            Typed::Str(_) | Typed::Bool(_) | Typed::Texts(_) => None,
        }
    }
}

impl Key {
    /// A stored value (params.toml) typed by this key's kind, in canonical
    /// form (an integer for a real-valued key is a real). Err: the problem,
    /// for a value the table does not accept (a folder of an older sweep).
    pub fn typed(&self, value: &Value) -> Result<Typed, String> {
        self.kind.check(&canonical(self.name, value))
    }
}

/// The largest layer size accepted (a million units is already absurd here).
const MAX_LAYER: i64 = 1 << 20;

impl Kind {
    /// The default, as the TOML value a manifest would write.
    pub fn default_value(&self) -> Value {
        match *self {
            Kind::Choice { default, .. } => Value::String(default.to_string()),
            Kind::Int { default, .. } => Value::Integer(default),
            Kind::Float { default, .. } => Value::Float(default),
            Kind::Bool { default } => Value::Boolean(default),
            Kind::Sizes { default } => Value::Array(default.iter().map(|&i| Value::Integer(i)).collect()),
            Kind::Numbers { default } => Value::Array(default.iter().map(|&f| Value::Float(f)).collect()),
            Kind::Text { default } => Value::String(default.to_string()),
            Kind::Texts { default } | Kind::Subset { default, .. } => {
                Value::Array(default.iter().map(|s| Value::String(s.to_string())).collect())
            }
        }
    }

    /// What the parameter accepts, as messages and README say it.
    pub fn allowed(&self) -> String {
        match self {
            Kind::Choice { names, file, .. } => {
                let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                match file {
                    Some(f) => format!("{}, or {}", names.join(", "), f.what),
                    None => names.join(", "),
                }
            }
            Kind::Int { min, .. } => format!("an integer >= {min}"),
            Kind::Float { range, .. } => range.describe(),
            Kind::Bool { .. } => "true or false".to_string(),
            Kind::Sizes { .. } => {
                format!("a non-empty list of layer sizes, each >= 1 and <= {MAX_LAYER} (2^20)")
            }
            Kind::Numbers { .. } => "a list of numbers, or [] for none".to_string(),
            Kind::Text { .. } => "a column name".to_string(),
            Kind::Texts { .. } => "a list of distinct column names, or []".to_string(),
            Kind::Subset { names, .. } => {
                let names: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                format!("a list of {}, or []", names.join(", "))
            }
        }
    }

    /// Whether values are real numbers, so `1` and `1.0` are one value.
    pub fn is_real(&self) -> bool {
        matches!(self, Kind::Float { .. } | Kind::Numbers { .. })
    }

    /// Checks a raw value; the problem otherwise (without the allowed text).
    pub fn check(&self, value: &Value) -> Result<Typed, String> {
        let found = |what: &str| format!("expected {what}, found {}", value.type_str());
        match (*self, value) {
            (Kind::Choice { names, file, .. }, Value::String(s)) => {
                if names.contains(&s.as_str()) || file.is_some_and(|f| looks_like_path(s, f.extension)) {
                    Ok(Typed::Str(s.clone()))
                } else {
                    Err(unknown_value(s, names))
                }
            }
            (Kind::Choice { .. }, _) => Err(found("a string")),
            (Kind::Int { min, .. }, Value::Integer(i)) if *i >= min => Ok(Typed::Int(*i as usize)),
            (Kind::Int { min, .. }, Value::Integer(_)) => Err(format!("must be >= {min}")),
            (Kind::Int { .. }, _) => Err(found("an integer")),
            (Kind::Float { range, .. }, Value::Float(_) | Value::Integer(_)) => {
                let f = match value {
                    Value::Integer(i) => *i as f64,
                    Value::Float(f) if f.is_finite() => *f,
                    _ => return Err("not a finite number".to_string()),
                };
                if range.contains(f) { Ok(Typed::Float(f)) } else { Err("out of range".to_string()) }
            }
            (Kind::Float { .. }, _) => Err(found("a number")),
            (Kind::Bool { .. }, Value::Boolean(b)) => Ok(Typed::Bool(*b)),
            (Kind::Bool { .. }, _) => Err(found("true or false")),
            (Kind::Sizes { .. }, Value::Array(items)) if items.is_empty() => {
                Err("needs at least one hidden layer".to_string())
            }
            (Kind::Sizes { .. }, Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Integer(i) if (1..=MAX_LAYER).contains(i) => Ok(*i as usize),
                    other => Err(format!(
                        "every layer size must be an integer >= 1 and <= {MAX_LAYER} (2^20), found {}",
                        shown(other)
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Typed::Sizes),
            (Kind::Sizes { .. }, Value::Integer(_)) => {
                Err("expected a list of layer sizes (write [n] for one layer)".to_string())
            }
            (Kind::Numbers { .. }, Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Float(f) if f.is_finite() => Ok(*f),
                    Value::Integer(i) => Ok(*i as f64),
                    _ => Err("every entry must be a finite number".to_string()),
                })
                .collect::<Result<_, _>>()
                .map(Typed::Numbers),
            (Kind::Text { .. }, Value::String(s)) if s.is_empty() => Err("must not be empty".to_string()),
            (Kind::Text { .. }, Value::String(s)) => Ok(Typed::Str(s.clone())),
            (Kind::Text { .. }, _) => Err(found("a string")),
            (Kind::Texts { .. }, Value::Array(items)) => {
                let mut names: Vec<String> = Vec::with_capacity(items.len());
                for v in items {
                    match v {
                        Value::String(s) if s.is_empty() => {
                            return Err("a name must not be empty".to_string());
                        }
                        Value::String(s) if names.contains(s) => {
                            return Err(format!("\"{s}\" is listed twice"));
                        }
                        Value::String(s) => names.push(s.clone()),
                        other => {
                            return Err(format!("every entry must be a string, found {}", other.type_str()));
                        }
                    }
                }
                Ok(Typed::Texts(names))
            }
            (Kind::Subset { names, .. }, Value::Array(items)) => {
                let mut chosen: Vec<String> = Vec::with_capacity(items.len());
                for v in items {
                    match v {
                        Value::String(s) if !names.contains(&s.as_str()) => {
                            return Err(unknown_value(s, names));
                        }
                        Value::String(s) if chosen.contains(s) => {
                            return Err(format!("\"{s}\" is listed twice"));
                        }
                        Value::String(s) => chosen.push(s.clone()),
                        other => {
                            return Err(format!("every entry must be a string, found {}", other.type_str()));
                        }
                    }
                }
                Ok(Typed::Texts(chosen))
            }
            (Kind::Sizes { .. } | Kind::Numbers { .. } | Kind::Texts { .. } | Kind::Subset { .. }, _) => {
                Err(found("a list"))
            }
        }
    }
}

impl Key {
    /// The default as TOML text (`"linear"`, `100`, `[2, 2]`).
    pub fn default_text(&self) -> String {
        self.kind.default_value().to_string()
    }

    /// What the key accepts, as messages say it.
    pub fn allowed(&self) -> String {
        self.kind.allowed()
    }
}

/// Looks a key up by name.
pub fn find_key(name: &str) -> Option<&'static Key> {
    KEYS.iter().chain(OUTPUT_KEYS).find(|k| k.name == name)
}

/// The canonical form of a (valid) value: integers become floats where the
/// key is real-valued, so equal configurations hash and print alike.
pub fn canonical(name: &str, value: &Value) -> Value {
    let real = find_key(name).is_some_and(|k| k.kind.is_real());
    match value {
        Value::Integer(i) if real => Value::Float(*i as f64),
        Value::Array(items) if real => Value::Array(items.iter().map(|v| canonical(name, v)).collect()),
        other => other.clone(),
    }
}

/// A value as a person reads it in a table: strings bare, lists inline
/// (their texts quoted only where [`list_element`] must).
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Float(f) => format!("{f:?}"),
        Value::Array(items) => {
            let item = |v: &Value| match v {
                Value::String(s) => list_element(s).into_owned(),
                other => display_value(other),
            };
            format!("[{}]", items.iter().map(item).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

/// Numeric-aware equality (`1` matches `1.0`), for `[[exclude]]`.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => *x as f64 == *y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        _ => a == b,
    }
}

/// The default value of a key.
pub fn default_value(key: &Key) -> Value {
    key.kind.default_value()
}

/// The README's key table, generated from [`KEYS`]: one row per key.
pub fn readme_table() -> String {
    let mut s = String::from("| key | default | values |\n|---|---|---|\n");
    for k in KEYS.iter().chain(OUTPUT_KEYS) {
        let default = match k.kind {
            Kind::Choice { .. } | Kind::Text { .. } => format!("`{}`", k.default_text()),
            _ => display_value(&k.kind.default_value()),
        };
        let values = match k.kind {
            Kind::Choice { names, file, .. } => {
                let names: Vec<String> = names.iter().map(|n| format!("`\"{n}\"`")).collect();
                let mut v = names.join(", ");
                if let Some(f) = file {
                    v.push_str(&format!(", or {}", f.what));
                }
                v
            }
            _ => k.allowed(),
        };
        let sep = if k.doc.is_empty() { "" } else { ": " };
        s.push_str(&format!("| `{}` | {default} | {values}{sep}{} |\n", k.name, k.doc));
    }
    s
}

/// A value that is not allowed for a key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}` = {value}: {problem}; allowed: {allowed}")]
pub struct ParamError {
    pub key: String,
    pub value: String,
    pub problem: String,
    pub allowed: String,
}

/// Where the data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    Generated(Generated),
    /// A CSV file (path resolved against the manifest's folder).
    Csv(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    pub source: DataSource,
    pub n_samples: usize,
    pub noise: f64,
    pub test_fraction: f64,
    pub conv: Vec<f64>,
    /// CSV: the column of class labels.
    pub label_column: String,
    /// CSV: the input columns in order; empty = every column but the label.
    pub feature_columns: Vec<String>,
    pub missing: Missing,
    pub scale: Scale,
    pub stratify: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    Normal,
    Xavier,
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Only `Sigmoid`, `None` or `Softmax` (validated).
    pub output_activation: Activation,
    pub bias: bool,
    pub init: Init,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    Sgd,
    Momentum { momentum: f64 },
    Adam { beta1: f64, beta2: f64, eps: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    pub loss: Loss,
    pub reduction: Reduction,
    pub backprop: Backprop,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub l2: f64,
    /// 0 = full batch.
    pub batch_size: usize,
    pub shuffle: bool,
    pub epochs: usize,
    pub log_every: usize,
    pub target_loss: f64,
}

/// A validated job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    pub seed: u64,
    pub data: DataSpec,
    pub model: ModelSpec,
    pub train: TrainSpec,
}

/// Reads each key's value, checked against its row of [`KEYS`]; absent keys
/// take their default.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<Value>,
}

impl Reader<'_> {
    fn key(name: &str) -> &'static Key {
        find_key(name).unwrap_or_else(|| panic!("`{name}` is not in KEYS"))
    }

    fn value(&self, name: &str) -> Value {
        (self.get)(name).unwrap_or_else(|| Self::key(name).kind.default_value())
    }

    fn err(&self, name: &str, problem: impl Into<String>) -> ParamError {
        ParamError {
            key: name.to_string(),
            value: self.value(name).to_string(),
            problem: problem.into(),
            allowed: find_key(name).map_or_else(String::new, Key::allowed),
        }
    }

    fn typed(&self, name: &str) -> Result<Typed, ParamError> {
        Self::key(name).kind.check(&self.value(name)).map_err(|p| self.err(name, p))
    }

    /// A value of the wrong type for its key's kind: a mistake in this file
    /// (the table and `from_values` disagree), not in the manifest.
    fn mismatch(name: &str, got: &Typed) -> ! {
        panic!("`{name}` read as the wrong type ({got:?}): KEYS and JobSpec::from_values disagree")
    }

    fn string(&self, name: &str) -> Result<String, ParamError> {
        match self.typed(name)? {
            Typed::Str(s) => Ok(s),
            other => Self::mismatch(name, &other),
        }
    }

    /// One of an enum's names (the table checked it is one).
    fn choice<T: std::str::FromStr<Err = String>>(&self, name: &str) -> Result<T, ParamError> {
        let s = self.string(name)?;
        s.parse().map_err(|p| self.err(name, p))
    }

    fn float(&self, name: &str) -> Result<f64, ParamError> {
        match self.typed(name)? {
            Typed::Float(f) => Ok(f),
            other => Self::mismatch(name, &other),
        }
    }

    fn int(&self, name: &str) -> Result<usize, ParamError> {
        match self.typed(name)? {
            Typed::Int(i) => Ok(i),
            other => Self::mismatch(name, &other),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool, ParamError> {
        match self.typed(name)? {
            Typed::Bool(b) => Ok(b),
            other => Self::mismatch(name, &other),
        }
    }

    fn sizes(&self, name: &str) -> Result<Vec<usize>, ParamError> {
        match self.typed(name)? {
            Typed::Sizes(v) => Ok(v),
            other => Self::mismatch(name, &other),
        }
    }

    fn texts(&self, name: &str) -> Result<Vec<String>, ParamError> {
        match self.typed(name)? {
            Typed::Texts(v) => Ok(v),
            other => Self::mismatch(name, &other),
        }
    }

    fn numbers(&self, name: &str) -> Result<Vec<f64>, ParamError> {
        match self.typed(name)? {
            Typed::Numbers(v) => Ok(v),
            other => Self::mismatch(name, &other),
        }
    }
}

/// A value names a file when it has the expected extension or a folder in
/// it (`data/points.txt`); a bare word is a misspelt choice instead, which
/// gets a "did you mean".
fn looks_like_path(value: &str, extension: &str) -> bool {
    value.to_ascii_lowercase().ends_with(extension) || value.contains('/') || value.contains('\\')
}

/// "unknown value `x`" plus "did you mean `y`?" when one choice is close.
pub fn unknown_value(got: &str, choices: &[&str]) -> String {
    let got = shown(&got);
    match did_you_mean(&got, choices) {
        Some(m) => format!("unknown value \"{got}\" (did you mean \"{m}\"?)"),
        None => format!("unknown value \"{got}\""),
    }
}

/// Longest value a message shows; a longer one is cut and ends in `…`.
const SHOWN_CHARS: usize = 80;

/// `value` as an error message shows it: at most [`SHOWN_CHARS`]
/// characters, a longer one cut and ending in `…` (a list of a million
/// seeds is not echoed whole).
pub fn shown(value: &impl std::fmt::Display) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text,
        Some(_) => {
            let cut = text.char_indices().nth(SHOWN_CHARS - 1).map_or(text.len(), |(at, _)| at);
            format!("{}…", &text[..cut])
        }
    }
}

/// The parameter that other tools' name for it means: scikit-learn's
/// `MLPClassifier` (`learning_rate_init`, `hidden_layer_sizes`, `alpha`,
/// `max_iter`, `test_size`), PyTorch's optimizers (`weight_decay`) and the
/// usual spellings (`learning_rate`, `n_epochs`). Asked only when no key is
/// within [`did_you_mean`]'s distance.
pub fn known_as(other: &str) -> Option<&'static str> {
    const SYNONYMS: &[(&str, &str)] = &[
        ("learning_rate", "lr"),
        ("learning_rate_init", "lr"),
        ("eta", "lr"),
        ("step_size", "lr"),
        ("weight_decay", "l2"),
        ("alpha", "l2"),
        ("max_iter", "epochs"),
        ("n_epochs", "epochs"),
        ("num_epochs", "epochs"),
        ("hidden_layer_sizes", "hidden"),
        ("hidden_sizes", "hidden"),
        ("layers", "hidden"),
        ("test_size", "test_fraction"),
        ("batch", "batch_size"),
        ("solver", "optimizer"),
        ("criterion", "loss"),
        ("data", "dataset"),
        ("target", "label_column"),
        ("label", "label_column"),
        ("features", "feature_columns"),
        ("beta_1", "beta1"),
        ("beta_2", "beta2"),
        ("epsilon", "eps"),
    ];
    let key = other.to_ascii_lowercase();
    SYNONYMS.iter().find(|(name, _)| *name == key).map(|(_, ours)| *ours)
}

/// The closest of `choices` to `got`, if it is within a small edit distance.
pub fn did_you_mean<'a>(got: &str, choices: &[&'a str]) -> Option<&'a str> {
    let limit = (got.chars().count() / 3).max(2);
    choices
        .iter()
        .map(|c| (edit_distance(&got.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl JobSpec {
    /// Validates a job from its raw values; `get(key)` returns the value set
    /// for `key` (None = default). Every key is checked against its row of
    /// [`KEYS`], in table order, even one the job does not use (a `momentum`
    /// out of range is a mistake with any optimizer). Relative paths resolve
    /// against `base_dir`.
    pub fn from_values(
        seed: u64,
        get: &dyn Fn(&str) -> Option<Value>,
        base_dir: &Path,
    ) -> Result<JobSpec, ParamError> {
        let r = Reader { get };
        for k in KEYS {
            r.typed(k.name)?;
        }

        let dataset = r.string("dataset")?;
        let source = match dataset.parse::<Generated>() {
            Ok(set) => DataSource::Generated(set),
            Err(_) => DataSource::Csv(base_dir.join(dataset)),
        };
        if let DataSource::Generated(set) = &source {
            // A CSV-only key would do nothing here: a mistake, not a default.
            for name in CSV_ONLY {
                if r.value(name) != Reader::key(name).kind.default_value() {
                    return Err(r.err(
                        name,
                        format!(
                            "CSV only: dataset = \"{}\" is generated and has no columns to name or cells to miss; \
                             set it only where dataset is a CSV file (a [zip] with dataset, or an [[include]])",
                            set.name()
                        ),
                    ));
                }
            }
        }
        let data = DataSpec {
            source,
            n_samples: r.int("n_samples")?,
            noise: r.float("noise")?,
            test_fraction: r.float("test_fraction")?,
            conv: r.numbers("conv")?,
            label_column: r.string("label_column")?,
            feature_columns: r.texts("feature_columns")?,
            missing: r.choice("missing")?,
            scale: r.choice("scale")?,
            stratify: r.boolean("stratify")?,
        };

        let output_activation: Activation = r.choice("output_activation")?;
        let init = match r.string("init")?.parse::<InitKind>() {
            Ok(InitKind::Normal) => Init::Normal,
            Ok(InitKind::Xavier) => Init::Xavier,
            Err(_) => Init::File(base_dir.join(r.string("init")?)),
        };
        let model = ModelSpec {
            hidden: r.sizes("hidden")?,
            activation: r.choice("activation")?,
            output_activation,
            bias: r.boolean("bias")?,
            init,
        };

        let loss: Loss = r.choice("loss")?;
        if loss == Loss::Bce && output_activation != Activation::Sigmoid {
            return Err(r.err("loss", "bce needs output_activation = \"sigmoid\""));
        }
        if loss == Loss::Ce && output_activation != Activation::Softmax {
            return Err(r.err("loss", "ce needs output_activation = \"softmax\""));
        }
        let optimizer = match r.choice::<OptimizerKind>("optimizer")? {
            OptimizerKind::Sgd => Optimizer::Sgd,
            OptimizerKind::Momentum => Optimizer::Momentum { momentum: r.float("momentum")? },
            OptimizerKind::Adam => {
                Optimizer::Adam { beta1: r.float("beta1")?, beta2: r.float("beta2")?, eps: r.float("eps")? }
            }
        };
        let train = TrainSpec {
            loss,
            reduction: r.choice("reduction")?,
            backprop: r.choice("backprop")?,
            optimizer,
            lr: r.float("lr")?,
            l2: r.float("l2")?,
            batch_size: r.int("batch_size")?,
            shuffle: r.boolean("shuffle")?,
            epochs: r.int("epochs")?,
            log_every: r.int("log_every")?,
            target_loss: r.float("target_loss")?,
        };
        Ok(JobSpec { seed, data, model, train })
    }

    /// A job with every parameter at its default (the lab's network).
    pub fn default_with_seed(seed: u64) -> JobSpec {
        JobSpec::from_values(seed, &|_| None, Path::new(".")).expect("defaults are valid")
    }

    /// Layer sizes from input to output: `[inputs, hidden.., outputs]` for
    /// data with `classes` classes (see [`ModelSpec::output_units`]).
    pub fn layer_sizes(&self, inputs: usize, classes: usize) -> Vec<usize> {
        let mut sizes = Vec::with_capacity(self.model.hidden.len() + 2);
        sizes.push(inputs);
        sizes.extend_from_slice(&self.model.hidden);
        sizes.push(self.model.output_units(classes));
        sizes
    }
}

impl ModelSpec {
    /// Output units (SPEC 4): one for two classes and a sigmoid or no output
    /// activation (the lab's network: the output is the second class's
    /// score); one per class otherwise (three or more classes, or softmax).
    pub fn output_units(&self, classes: usize) -> usize {
        if classes <= 2 && self.output_activation != Activation::Softmax { 1 } else { classes.max(2) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<JobSpec, ParamError> {
        let table: toml::Table =
            toml::from_str(&pairs.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()).unwrap();
        JobSpec::from_values(0, &|k| table.get(k).cloned(), Path::new("/m"))
    }

    #[test]
    fn ce_needs_softmax_and_softmax_is_for_the_output_only() {
        for out in ["\"sigmoid\"", "\"none\""] {
            let e = with(&[("loss", "\"ce\""), ("output_activation", out)]).unwrap_err();
            assert_eq!(e.key, "loss", "{e}");
            assert!(e.problem.contains("ce needs output_activation = \"softmax\""), "{e}");
        }
        let e = with(&[("loss", "\"bce\""), ("output_activation", "\"softmax\"")]).unwrap_err();
        assert_eq!(e.key, "loss");
        assert_eq!(with(&[("activation", "\"softmax\"")]).unwrap_err().key, "activation");
    }

    #[test]
    fn softmax_takes_one_output_unit_per_class_and_sigmoid_one_for_two_classes() {
        let sigmoid = with(&[]).unwrap();
        assert_eq!(sigmoid.layer_sizes(4, 2), vec![4, 2, 2, 1]);
        assert_eq!(sigmoid.layer_sizes(4, 3), vec![4, 2, 2, 3]);
        let none = with(&[("output_activation", "\"none\"")]).unwrap();
        assert_eq!(none.model.output_units(2), 1);
        assert_eq!(none.model.output_units(10), 10);
        let softmax = with(&[("output_activation", "\"softmax\""), ("loss", "\"ce\"")]).unwrap();
        assert_eq!(softmax.train.loss, Loss::Ce);
        assert_eq!(softmax.model.output_units(2), 2);
        assert_eq!(softmax.model.output_units(3), 3);
    }

    #[test]
    fn defaults_are_the_labs_network() {
        let j = JobSpec::default_with_seed(0);
        assert_eq!(j.model.hidden, vec![2, 2]);
        assert_eq!(j.model.activation, Activation::Sigmoid);
        assert!(!j.model.bias);
        assert_eq!(j.train.lr, 0.01);
        assert_eq!(j.train.epochs, 5000);
        assert_eq!(j.layer_sizes(2, 2), vec![2, 2, 2, 1]);
    }

    /// Every default passes its own key's check, and is already canonical.
    #[test]
    fn every_key_default_is_valid_and_canonical() {
        for k in KEYS {
            let v = default_value(k);
            assert!(k.kind.check(&v).is_ok(), "{}: default {v} fails its check", k.name);
            assert_eq!(canonical(k.name, &v), v, "{}", k.name);
        }
    }

    #[test]
    fn save_names_a_subset_of_the_optional_files() {
        let list =
            |names: &[&str]| Value::Array(names.iter().map(|n| Value::String(n.to_string())).collect());
        assert_eq!(Save::from_value(&default_value(find_key("save").unwrap())), Ok(Save::default()));
        assert_eq!(Save::from_value(&list(&[])), Ok(Save { predictions: false, model: false }));
        assert_eq!(Save::from_value(&list(&["model"])), Ok(Save { predictions: false, model: true }));
        let e = Save::from_value(&list(&["curve"])).unwrap_err();
        assert_eq!(e.key, "save");
        assert!(e.allowed.contains("\"predictions\", \"model\""), "{e}");
        assert!(Save::from_value(&list(&["model", "model"])).unwrap_err().problem.contains("twice"));
        assert!(Save::from_value(&Value::String("model".into())).is_err());
        // Not a parameter of the job: no column, no hash, no params.toml line.
        assert!(KEYS.iter().all(|k| k.name != "save"));
        assert!(readme_table().contains("| `save` | [predictions, model] |"), "{}", readme_table());
    }

    /// The defaults as TOML text, as they enter every configuration hash.
    #[test]
    fn default_texts_are_unchanged() {
        let texts: Vec<String> = KEYS.iter().map(|k| format!("{} = {}", k.name, k.default_text())).collect();
        let want = "dataset = \"linear\"|label_column = \"label\"|feature_columns = []|missing = \"error\"|\
                    scale = \"none\"|stratify = false|n_samples = 100|noise = 0.0|test_fraction = 0.0|hidden = [2, 2]|\
                    activation = \"sigmoid\"|output_activation = \"sigmoid\"|bias = false|init = \"normal\"|\
                    loss = \"mse\"|reduction = \"sum\"|backprop = \"exact\"|optimizer = \"sgd\"|lr = 0.01|\
                    momentum = 0.9|beta1 = 0.9|beta2 = 0.999|eps = 0.00000001|l2 = 0.0|batch_size = 0|\
                    shuffle = true|epochs = 5000|conv = []|log_every = 1|target_loss = 0.01";
        assert_eq!(texts.join("|"), want);
    }

    #[test]
    fn names_round_trip_through_from_str_and_display() {
        for a in Activation::ALL {
            assert_eq!(a.to_string().parse::<Activation>(), Ok(*a));
        }
        for o in OptimizerKind::ALL {
            assert_eq!(o.name().parse::<OptimizerKind>(), Ok(*o));
        }
        assert_eq!(Generated::NAMES, ["linear", "xor", "xor-hard", "circle", "spiral"]);
        assert!("sigmod".parse::<Activation>().unwrap_err().contains("did you mean \"sigmoid\""));
    }

    #[test]
    fn near_miss_values_suggest_the_right_one() {
        let e = with(&[("activation", "\"sigmod\"")]).unwrap_err();
        assert_eq!(e.key, "activation");
        assert!(e.problem.contains("did you mean \"sigmoid\""), "{e}");
        assert_eq!(e.allowed, "\"sigmoid\", \"tanh\", \"relu\", \"none\"");
    }

    #[test]
    fn bad_values_are_rejected_with_their_key() {
        for (k, v) in [
            ("lr", "-1.0"),
            ("hidden", "[2, 0]"),
            ("hidden", "[]"),
            ("epochs", "0"),
            ("test_fraction", "0.95"),
            ("bias", "1"),
            ("conv", "[\"a\"]"),
            ("dataset", "\"lineer\""),
            ("momentum", "1.0"),
            ("output_activation", "\"tanh\""),
            ("label_column", "\"\""),
            ("feature_columns", "[\"a\", \"a\"]"),
            ("feature_columns", "\"a\""),
            ("missing", "\"drop\""),
            ("scale", "\"std\""),
            ("stratify", "\"yes\""),
        ] {
            let e = with(&[(k, v)]).unwrap_err();
            assert_eq!(e.key, k, "{e}");
        }
        let e = with(&[("loss", "\"bce\""), ("output_activation", "\"none\"")]).unwrap_err();
        assert_eq!(e.key, "loss");
        let e = with(&[("lr", "-0.1")]).unwrap_err();
        assert_eq!(e.to_string(), "`lr` = -0.1: out of range; allowed: a number > 0");
    }

    #[test]
    fn integers_for_real_keys_are_the_same_value() {
        assert_eq!(canonical("lr", &Value::Integer(1)), Value::Float(1.0));
        assert_eq!(
            canonical("conv", &Value::Array(vec![Value::Integer(1)])),
            Value::Array(vec![Value::Float(1.0)])
        );
        assert_eq!(canonical("epochs", &Value::Integer(3)), Value::Integer(3));
        assert_eq!(with(&[("lr", "1")]).unwrap().train.lr, 1.0);
    }

    #[test]
    fn export_types_follow_the_table() {
        let json = |key: &str, toml_text: &str| {
            let v: toml::Table = toml::from_str(&format!("v = {toml_text}")).unwrap();
            find_key(key).unwrap().typed(&v["v"]).unwrap().to_json()
        };
        assert_eq!(json("lr", "0.1"), serde_json::json!(0.1));
        assert_eq!(json("lr", "1"), serde_json::json!(1.0));
        assert_eq!(json("epochs", "300"), serde_json::json!(300));
        assert_eq!(json("bias", "true"), serde_json::json!(true));
        // A data-set file named like a number stays a string.
        assert_eq!(json("dataset", "\"1.csv\""), serde_json::json!("1.csv"));
        assert_eq!(json("hidden", "[2, 2]"), serde_json::json!("[2, 2]"));
    }

    /// A typed value prints as summary.csv always printed its TOML value.
    #[test]
    fn typed_values_display_as_their_toml_values() {
        let cases = [
            ("lr", "0.1"),
            ("lr", "1"),
            ("epochs", "300"),
            ("bias", "false"),
            ("hidden", "[8, 4]"),
            ("conv", "[0.2, 1]"),
            ("conv", "[]"),
            ("feature_columns", "[\"a b\", \"c\"]"),
            ("dataset", "\"data/x.csv\""),
        ];
        for (key, text) in cases {
            let v: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
            let typed = find_key(key).unwrap().typed(&v["v"]).unwrap();
            assert_eq!(typed.to_string(), display_value(&canonical(key, &v["v"])), "{key} = {text}");
        }
        for k in KEYS {
            let typed = k.typed(&k.kind.default_value()).unwrap();
            assert_eq!(
                typed.to_string(),
                display_value(&canonical(k.name, &k.kind.default_value())),
                "{}",
                k.name
            );
        }
    }

    /// Two different lists of names never display alike: a name that
    /// holds the separator, a bracket, a quote or outer space is quoted;
    /// ordinary names print bare, as before. The display reads back.
    #[test]
    fn lists_of_names_display_unambiguously_and_read_back() {
        let texts = |v: &[&str]| Typed::Texts(v.iter().map(|s| s.to_string()).collect());
        let one = texts(&["a, b", "c"]);
        let other = texts(&["a", "b", "c"]);
        assert_eq!(other.to_string(), "[a, b, c]");
        assert_eq!(one.to_string(), "[\"a, b\", c]");
        assert_ne!(one.to_string(), other.to_string());
        assert_eq!(texts(&["color intensity", "pH"]).to_string(), "[color intensity, pH]");
        let odd =
            ["a, b", " lead", "trail ", "[x]", "say \"hi\"", "back\\slash", "it's", "tab\there", "plain"];
        let shown = texts(&odd).to_string();
        let back: Vec<String> =
            list_elements(&shown).unwrap().into_iter().map(|e| list_element_value(e).unwrap()).collect();
        assert_eq!(back, odd, "{shown}");
        // The TOML value displays the same way.
        let v: toml::Table = toml::from_str("v = [\"a, b\", \"c\"]").unwrap();
        assert_eq!(display_value(&v["v"]), one.to_string());
        assert_eq!(list_elements("[]"), Some(vec![]));
        assert_eq!(list_elements("[a, \"b"), None);
    }

    #[test]
    fn paths_resolve_against_the_manifest_folder() {
        let j = with(&[("dataset", "\"data/x.csv\"")]).unwrap();
        assert_eq!(j.data.source, DataSource::Csv(PathBuf::from("/m/data/x.csv")));
        let j = with(&[("dataset", "\"data/points.txt\""), ("init", "\"w/start\"")]).unwrap();
        assert_eq!(j.data.source, DataSource::Csv(PathBuf::from("/m/data/points.txt")));
        assert_eq!(j.model.init, Init::File(PathBuf::from("/m/w/start")));
        assert_eq!(with(&[("dataset", "\"points\"")]).unwrap_err().key, "dataset");
    }

    /// README's key table is generated from [`KEYS`]; this fails when they
    /// differ. `SWEEP_BLESS=1 cargo test readme` rewrites it.
    #[test]
    fn readme_key_table_matches_the_code() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- keys:begin (generated from src/spec.rs KEYS) -->\n", "<!-- keys:end -->");
        let start = readme.find(begin).expect("README has the keys:begin marker") + begin.len();
        let stop = start + readme[start..].find(end).expect("README has the keys:end marker");
        let want = readme_table();
        if readme[start..stop] != want && std::env::var_os("SWEEP_BLESS").is_some() {
            std::fs::write(&path, format!("{}{want}{}", &readme[..start], &readme[stop..])).unwrap();
            return;
        }
        assert_eq!(
            readme[start..stop],
            want,
            "README.md's key table differs from KEYS (SWEEP_BLESS=1 rewrites it)"
        );
    }
}
