//! One job's parameters: the key table of SPEC 3, its defaults, and the
//! validated, typed [`JobSpec`] the trainer consumes.
//!
//! Raw values (TOML, as written in a manifest or `--set`) and validated
//! settings are different types: once a `JobSpec` exists nothing re-checks it.

use std::path::{Path, PathBuf};

use toml::Value;

/// Every job parameter, in the order of SPEC 3 (and of summary.csv columns),
/// with its default as TOML and what it accepts.
pub const KEYS: &[Key] = &[
    key(
        "dataset",
        "\"linear\"",
        "\"linear\", \"xor\", \"xor-hard\", \"circle\", \"spiral\", or a path to a CSV file",
    ),
    key("n_samples", "100", "an integer >= 1 (points of generated sets other than \"xor\")"),
    key("noise", "0.0", "a number >= 0 (std-dev of Gaussian input noise)"),
    key("test_fraction", "0.0", "a number in [0, 0.9]"),
    key("hidden", "[2, 2]", "a non-empty list of layer sizes, each >= 1"),
    key("activation", "\"sigmoid\"", "\"sigmoid\", \"tanh\", \"relu\", \"none\""),
    key("output_activation", "\"sigmoid\"", "\"sigmoid\", \"none\", \"softmax\" (one output unit per class)"),
    key("bias", "false", "true or false"),
    key("init", "\"normal\"", "\"normal\", \"xavier\", or a path to a weights JSON file"),
    key(
        "loss",
        "\"mse\"",
        "\"mse\", \"bce\" (needs output_activation = \"sigmoid\"), \"ce\" (needs output_activation = \"softmax\")",
    ),
    key("reduction", "\"sum\"", "\"sum\", \"mean\""),
    key("backprop", "\"exact\"", "\"exact\", \"lab\""),
    key("optimizer", "\"sgd\"", "\"sgd\", \"momentum\", \"adam\""),
    key("lr", "0.01", "a number > 0"),
    key("momentum", "0.9", "a number in [0, 1)"),
    key("beta1", "0.9", "a number in [0, 1)"),
    key("beta2", "0.999", "a number in [0, 1)"),
    key("eps", "1e-8", "a number > 0"),
    key("l2", "0.0", "a number >= 0"),
    key("batch_size", "0", "an integer >= 0 (0 = full batch)"),
    key("shuffle", "true", "true or false"),
    key("epochs", "5000", "an integer >= 1"),
    key("conv", "[]", "a list of numbers (a kernel), or [] for none"),
    key("log_every", "1", "an integer >= 1"),
    key("target_loss", "0.01", "a number >= 0"),
];

/// One row of [`KEYS`].
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub default: &'static str,
    pub allowed: &'static str,
}

const fn key(name: &'static str, default: &'static str, allowed: &'static str) -> Key {
    Key { name, default, allowed }
}

/// Looks a key up by name.
pub fn find_key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Keys whose values are real numbers (an integer written for them is the
/// same value: `lr = 1` and `lr = 1.0` are one configuration).
const FLOAT_KEYS: &[&str] =
    &["noise", "test_fraction", "lr", "momentum", "beta1", "beta2", "eps", "l2", "target_loss"];

/// The canonical form of a (valid) value: integers become floats where the
/// key is real-valued, so equal configurations hash and print alike.
pub fn canonical(name: &str, value: &Value) -> Value {
    let float = |v: &Value| match v {
        Value::Integer(i) => Value::Float(*i as f64),
        other => other.clone(),
    };
    match value {
        Value::Integer(_) if FLOAT_KEYS.contains(&name) => float(value),
        Value::Array(items) if name == "conv" => Value::Array(items.iter().map(float).collect()),
        other => other.clone(),
    }
}

/// A value as a person reads it in a table: strings bare, lists inline.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Float(f) => format!("{f:?}"),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(display_value).collect::<Vec<_>>().join(", "))
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

/// The default value of a key. Parsed once: planning asks for defaults of
/// every key of every job.
pub fn default_value(key: &Key) -> Value {
    static DEFAULTS: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    let all = DEFAULTS.get_or_init(|| {
        KEYS.iter()
            .map(|k| {
                let doc: toml::Table = toml::from_str(&format!("v = {}", k.default)).expect("default parses");
                doc["v"].clone()
            })
            .collect()
    });
    let i = KEYS.iter().position(|k| k.name == key.name).expect("a key of the table");
    all[i].clone()
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
    Linear,
    Xor,
    XorHard,
    Circle,
    Spiral,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    None,
    /// Over the units of a layer: `exp(z_j) / sum_u exp(z_u)`. Output layer only.
    Softmax,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    Mse,
    Bce,
    /// Cross-entropy of a softmax output.
    Ce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backprop {
    Exact,
    Lab,
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

/// Reads one value per key in [`KEYS`] order; absent keys take their default.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<Value>,
}

impl Reader<'_> {
    fn value(&self, name: &str) -> Value {
        (self.get)(name).unwrap_or_else(|| default_value(find_key(name).expect("known key")))
    }

    fn err(&self, name: &str, problem: impl Into<String>) -> ParamError {
        ParamError {
            key: name.to_string(),
            value: self.value(name).to_string(),
            problem: problem.into(),
            allowed: find_key(name).map_or("", |k| k.allowed).to_string(),
        }
    }

    fn string(&self, name: &str) -> Result<String, ParamError> {
        match self.value(name) {
            Value::String(s) => Ok(s),
            other => Err(self.err(name, format!("expected a string, found {}", other.type_str()))),
        }
    }

    /// A string that must be one of `choices`, with a "did you mean".
    fn choice<T: Copy>(&self, name: &str, choices: &[(&str, T)]) -> Result<T, ParamError> {
        let s = self.string(name)?;
        if let Some((_, v)) = choices.iter().find(|(c, _)| *c == s) {
            return Ok(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(c, _)| *c).collect();
        Err(self.err(name, unknown_value(&s, &names)))
    }

    fn float(&self, name: &str) -> Result<f64, ParamError> {
        match self.value(name) {
            Value::Float(f) if f.is_finite() => Ok(f),
            Value::Float(_) => Err(self.err(name, "not a finite number")),
            Value::Integer(i) => Ok(i as f64),
            other => Err(self.err(name, format!("expected a number, found {}", other.type_str()))),
        }
    }

    fn float_where(&self, name: &str, ok: impl Fn(f64) -> bool) -> Result<f64, ParamError> {
        let f = self.float(name)?;
        if ok(f) { Ok(f) } else { Err(self.err(name, "out of range")) }
    }

    fn int(&self, name: &str, min: i64) -> Result<usize, ParamError> {
        match self.value(name) {
            Value::Integer(i) if i >= min => Ok(i as usize),
            Value::Integer(_) => Err(self.err(name, format!("must be >= {min}"))),
            other => Err(self.err(name, format!("expected an integer, found {}", other.type_str()))),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool, ParamError> {
        match self.value(name) {
            Value::Boolean(b) => Ok(b),
            other => Err(self.err(name, format!("expected true or false, found {}", other.type_str()))),
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
    match did_you_mean(got, choices) {
        Some(m) => format!("unknown value \"{got}\" (did you mean \"{m}\"?)"),
        None => format!("unknown value \"{got}\""),
    }
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

const ACTIVATIONS: &[(&str, Activation)] = &[
    ("sigmoid", Activation::Sigmoid),
    ("tanh", Activation::Tanh),
    ("relu", Activation::Relu),
    ("none", Activation::None),
];

const DATASETS: &[&str] = &["linear", "xor", "xor-hard", "circle", "spiral"];

impl JobSpec {
    /// Validates a job from its raw values; `get(key)` returns the value set
    /// for `key` (None = default). Relative paths resolve against `base_dir`.
    pub fn from_values(
        seed: u64,
        get: &dyn Fn(&str) -> Option<Value>,
        base_dir: &Path,
    ) -> Result<JobSpec, ParamError> {
        let r = Reader { get };

        let dataset = r.string("dataset")?;
        let source = match dataset.as_str() {
            "linear" => DataSource::Linear,
            "xor" => DataSource::Xor,
            "xor-hard" => DataSource::XorHard,
            "circle" => DataSource::Circle,
            "spiral" => DataSource::Spiral,
            path if looks_like_path(path, ".csv") => DataSource::Csv(base_dir.join(path)),
            other => return Err(r.err("dataset", unknown_value(other, DATASETS))),
        };
        let conv = match r.value("conv") {
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::Float(f) if f.is_finite() => Ok(*f),
                    Value::Integer(i) => Ok(*i as f64),
                    _ => Err(r.err("conv", "every kernel entry must be a finite number")),
                })
                .collect::<Result<Vec<f64>, _>>()?,
            other => return Err(r.err("conv", format!("expected a list, found {}", other.type_str()))),
        };
        let data = DataSpec {
            source,
            n_samples: r.int("n_samples", 1)?,
            noise: r.float_where("noise", |f| f >= 0.0)?,
            test_fraction: r.float_where("test_fraction", |f| (0.0..=0.9).contains(&f))?,
            conv,
        };

        let hidden = match r.value("hidden") {
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|v| match v {
                    Value::Integer(i) if *i >= 1 && *i <= 1 << 20 => Ok(*i as usize),
                    _ => Err(r.err("hidden", "every layer size must be an integer >= 1")),
                })
                .collect::<Result<Vec<usize>, _>>()?,
            Value::Array(_) => return Err(r.err("hidden", "needs at least one hidden layer")),
            Value::Integer(_) => {
                return Err(r.err("hidden", "expected a list of layer sizes (write [n] for one layer)"));
            }
            other => return Err(r.err("hidden", format!("expected a list, found {}", other.type_str()))),
        };
        let output_activation = r.choice(
            "output_activation",
            &[("sigmoid", Activation::Sigmoid), ("none", Activation::None), ("softmax", Activation::Softmax)],
        )?;
        let init = match r.string("init")?.as_str() {
            "normal" => Init::Normal,
            "xavier" => Init::Xavier,
            path if looks_like_path(path, ".json") => Init::File(base_dir.join(path)),
            other => return Err(r.err("init", unknown_value(other, &["normal", "xavier"]))),
        };
        let model = ModelSpec {
            hidden,
            activation: r.choice("activation", ACTIVATIONS)?,
            output_activation,
            bias: r.boolean("bias")?,
            init,
        };

        let loss = r.choice("loss", &[("mse", Loss::Mse), ("bce", Loss::Bce), ("ce", Loss::Ce)])?;
        if loss == Loss::Bce && output_activation != Activation::Sigmoid {
            return Err(r.err("loss", "bce needs output_activation = \"sigmoid\""));
        }
        if loss == Loss::Ce && output_activation != Activation::Softmax {
            return Err(r.err("loss", "ce needs output_activation = \"softmax\""));
        }
        let optimizer = match r.choice("optimizer", &[("sgd", 0), ("momentum", 1), ("adam", 2)])? {
            0 => Optimizer::Sgd,
            1 => Optimizer::Momentum { momentum: r.float_where("momentum", |f| (0.0..1.0).contains(&f))? },
            _ => Optimizer::Adam {
                beta1: r.float_where("beta1", |f| (0.0..1.0).contains(&f))?,
                beta2: r.float_where("beta2", |f| (0.0..1.0).contains(&f))?,
                eps: r.float_where("eps", |f| f > 0.0)?,
            },
        };
        let train = TrainSpec {
            loss,
            reduction: r.choice("reduction", &[("sum", Reduction::Sum), ("mean", Reduction::Mean)])?,
            backprop: r.choice("backprop", &[("exact", Backprop::Exact), ("lab", Backprop::Lab)])?,
            optimizer,
            lr: r.float_where("lr", |f| f > 0.0)?,
            l2: r.float_where("l2", |f| f >= 0.0)?,
            batch_size: r.int("batch_size", 0)?,
            shuffle: r.boolean("shuffle")?,
            epochs: r.int("epochs", 1)?,
            log_every: r.int("log_every", 1)?,
            target_loss: r.float_where("target_loss", |f| f >= 0.0)?,
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
    fn defaults_are_the_labs_network() {
        let j = JobSpec::default_with_seed(0);
        assert_eq!(j.model.hidden, vec![2, 2]);
        assert_eq!(j.model.activation, Activation::Sigmoid);
        assert!(!j.model.bias);
        assert_eq!(j.train.lr, 0.01);
        assert_eq!(j.train.epochs, 5000);
        assert_eq!(j.layer_sizes(2, 2), vec![2, 2, 2, 1]);
    }

    #[test]
    fn every_key_default_parses() {
        for k in KEYS {
            let _ = default_value(k);
        }
    }

    #[test]
    fn near_miss_values_suggest_the_right_one() {
        let e = with(&[("activation", "\"sigmod\"")]).unwrap_err();
        assert_eq!(e.key, "activation");
        assert!(e.problem.contains("did you mean \"sigmoid\""), "{e}");
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
        ] {
            let e = with(&[(k, v)]).unwrap_err();
            assert_eq!(e.key, k, "{e}");
        }
        let e = with(&[("loss", "\"bce\""), ("output_activation", "\"none\"")]).unwrap_err();
        assert_eq!(e.key, "loss");
        for out in ["\"sigmoid\"", "\"none\""] {
            let e = with(&[("loss", "\"ce\""), ("output_activation", out)]).unwrap_err();
            assert_eq!(e.key, "loss", "{e}");
            assert!(e.problem.contains("ce needs output_activation = \"softmax\""), "{e}");
        }
        let e = with(&[("loss", "\"bce\""), ("output_activation", "\"softmax\"")]).unwrap_err();
        assert_eq!(e.key, "loss");
        // softmax is for the output layer only.
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
    fn paths_resolve_against_the_manifest_folder() {
        let j = with(&[("dataset", "\"data/x.csv\"")]).unwrap();
        assert_eq!(j.data.source, DataSource::Csv(PathBuf::from("/m/data/x.csv")));
        let j = with(&[("dataset", "\"data/points.txt\""), ("init", "\"w/start\"")]).unwrap();
        assert_eq!(j.data.source, DataSource::Csv(PathBuf::from("/m/data/points.txt")));
        assert_eq!(j.model.init, Init::File(PathBuf::from("/m/w/start")));
        assert_eq!(with(&[("dataset", "\"points\"")]).unwrap_err().key, "dataset");
    }
}
