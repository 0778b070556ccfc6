//! Fuzzing (proptest) of every reader of hostile input: manifests (+ `--set`)
//! through planning, CSV data sets through the data pipeline, weights JSON,
//! and the results files that `report`, `diff` and resume read back. The
//! property: no panic, and what is accepted is consistent (safe unique job
//! ids, a manifest as run that plans the same jobs, finite data).
//!
//! CI runs the default case count (fast). A long run, as done for issue 6:
//!
//! ```text
//! PROPTEST_CASES=200000 cargo test --test it fuzz::
//! ```
//!
//! Failing cases proptest finds are saved under `tests/regressions/` (and
//! replayed first on every run); hostile manifests found on the way are kept
//! in `tests/regressions/manifests/`, checked by `tests/reliability.rs`.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence};

use sweep::data::{self, load_csv};
use sweep::manifest::Manifest;
use sweep::nn::Layout;
use sweep::plan::{Plan, Shard};
use sweep::spec::{
    Activation, Backprop, DataSource, DataSpec, Generated, InitKind, JobSpec, KEYS, Loss, Missing,
    OptimizerKind, Reduction, Scale,
};
use sweep::store;
use sweep::weights::WeightsFile;

/// The case count comes from PROPTEST_CASES (proptest's default: 256).
fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

// ---- manifests ----------------------------------------------------------

/// Real manifests, as starting points for mutation.
const SEEDS: &[&str] = &[
    include_str!("../../experiments/lr.toml"),
    include_str!("../../experiments/hidden.toml"),
    include_str!("../../experiments/conv.toml"),
    include_str!("../../experiments/optimizers.toml"),
    "seeds = [0, 7]\n[base]\nepochs = 10\n[zip]\nlr = [1, 2]\nbias = [true, false]\n[grid]\n\
     hidden = [[2], [3, 3]]\n[[exclude]]\nlr = 1\n[[include]]\ndataset = \"../d.csv\"\n",
    "[grid]\nlr = { log = [1e-4, 1.0, 5] }\nl2 = { lin = [0.0, 1.0, 3] }\n",
];

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_value() -> impl Strategy<Value = String> {
    let words = select(vec![
        "linear",
        "xor",
        "xor-hard",
        "circle",
        "spiral",
        "sigmoid",
        "tanh",
        "relu",
        "none",
        "normal",
        "xavier",
        "mse",
        "bce",
        "sum",
        "mean",
        "exact",
        "lab",
        "sgd",
        "momentum",
        "adam",
        "x.csv",
        "../data/x.csv",
        "/abs/ü.CSV",
        "w.json",
        "",
        " ",
        "é",
        "a\u{0}b",
        "..",
        "/",
    ])
    .prop_map(quoted);
    let leaf = prop_oneof![
        (-3i64..40).prop_map(|i| i.to_string()),
        select(vec![i64::MIN, i64::MAX, 1_000_001, 2_000_001, -1, 0]).prop_map(|i| i.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        select(vec!["nan", "inf", "-inf", "+inf", "0.0", "-0.0", "1e-320", "1e308", "0.1", "100.0", "1e6"])
            .prop_map(String::from),
        select(vec!["true", "false"]).prop_map(String::from),
        words,
        any::<String>().prop_map(|s| quoted(&s)),
        "[^\n]{0,8}",
        select(vec!["1979-05-27", "07:32:00", "'lit'", "\"\"\"multi\nline\"\"\"", "0x1f", "1_000"])
            .prop_map(String::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(", "))),
            (select(vec!["log", "lin", "x", "log\", lin = \"0"]), prop::collection::vec(inner, 0..4))
                .prop_map(|(k, v)| format!("{{ {k} = [{}] }}", v.join(", "))),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    let mut names: Vec<&'static str> = KEYS.iter().map(|k| k.name).collect();
    names.extend(["name", "description", "seeds", "base", "grid", "zip", "exclude", "include", "lr.x"]);
    prop_oneof![
        4 => select(names).prop_map(String::from),
        1 => "[a-z_]{1,10}",
        1 => any::<String>().prop_map(|s| quoted(&s)),
    ]
}

fn section() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "",
            "[base]",
            "[grid]",
            "[zip]",
            "[[exclude]]",
            "[[include]]",
            "[base.x]",
            "[[grid]]",
            "[seeds]"
        ])
        .prop_map(String::from),
        "\\[[a-z.\\[\\]]{0,8}\\]",
    ]
}

/// A TOML-ish manifest: sections of `key = value` lines.
fn manifest_text() -> impl Strategy<Value = String> {
    let block = (section(), prop::collection::vec((key(), toml_value()), 0..6));
    prop::collection::vec(block, 0..6).prop_map(|blocks| {
        let mut s = String::new();
        for (header, lines) in blocks {
            s.push_str(&header);
            s.push('\n');
            for (k, v) in lines {
                s.push_str(&format!("{k} = {v}\n"));
            }
        }
        s
    })
}

fn sets() -> impl Strategy<Value = Vec<String>> {
    let set = prop_oneof![
        (select(vec!["", "base.", "grid.", "zip.", "bsae.", "x."]), key(), toml_value())
            .prop_map(|(s, k, v)| format!("{s}{k}={v}")),
        ".{0,12}",
    ];
    prop::collection::vec(set, 0..3)
}

/// A real manifest with a few characters inserted, deleted or replaced.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0u8..3, any::<char>());
    (select(SEEDS.to_vec()), prop::collection::vec(edit, 1..6)).prop_map(|(text, edits)| {
        let mut chars: Vec<char> = text.chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        chars.into_iter().collect()
    })
}

/// A typical value for `key`: mostly valid, sometimes not.
fn value_for(key: &'static str) -> BoxedStrategy<String> {
    let words = |w: Vec<&'static str>| select(w).prop_map(quoted).boxed();
    let int = |lo: i64, hi: i64| (lo..hi).prop_map(|i| i.to_string()).boxed();
    let float = |lo: f64, hi: f64| (lo..hi).prop_map(|f| format!("{f:?}")).boxed();
    let typed = match key {
        "dataset" => {
            let mut names = Generated::NAMES.to_vec();
            names.extend(["d.csv", "../e/ü.csv", "lineer"]);
            words(names)
        }
        "n_samples" => int(0, 300),
        "noise" | "l2" | "target_loss" => float(-0.1, 2.0),
        "test_fraction" => float(0.0, 1.0),
        "hidden" => prop_oneof![
            8 => prop::collection::vec(1usize..5, 1..4),
            1 => prop::collection::vec(0usize..5, 0..4),
        ]
        .prop_map(|v| format!("[{}]", v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")))
        .boxed(),
        "activation" => words([Activation::NAMES, &["sigmod"]].concat()),
        "output_activation" => words(vec!["sigmoid", "none"]),
        "bias" | "shuffle" => select(vec!["true", "false"]).prop_map(String::from).boxed(),
        "init" => words([InitKind::NAMES, &["w.json"]].concat()),
        "loss" => words(Loss::NAMES.to_vec()),
        "reduction" => words(Reduction::NAMES.to_vec()),
        "backprop" => words(Backprop::NAMES.to_vec()),
        "optimizer" => words(OptimizerKind::NAMES.to_vec()),
        "lr" | "eps" => float(-0.01, 10.0),
        "momentum" | "beta1" | "beta2" => float(0.0, 1.01),
        "batch_size" => int(-1, 12),
        "epochs" => int(0, 60),
        "log_every" => int(0, 12),
        "conv" => prop::collection::vec(-1.0f64..1.0, 0..4)
            .prop_map(|v| format!("[{}]", v.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ")))
            .boxed(),
        _ => toml_value().boxed(),
    };
    prop_oneof![30 => typed, 1 => toml_value()].boxed()
}

fn param_key() -> impl Strategy<Value = &'static str> {
    let names: Vec<&'static str> = KEYS.iter().map(|k| k.name).collect();
    prop_oneof![40 => select(names), 1 => Just("epoch")] // a typo
}

/// An axis: a list of values for `key`, or a log/lin range.
fn axis(key: &'static str, len: usize) -> BoxedStrategy<String> {
    let list = prop::collection::vec(value_for(key), len..=len).prop_map(|v| format!("[{}]", v.join(", ")));
    let range = (select(vec!["log", "lin"]), -2.0f64..3.0, -2.0f64..3.0, 0i64..5)
        .prop_map(|(k, a, b, n)| format!("{{ {k} = [{a:?}, {b:?}, {n}] }}"));
    prop_oneof![4 => list, 1 => range].boxed()
}

/// A manifest shaped like a real one, mostly valid: a few seeds, base
/// values, a zip, grid axes, excludes and includes.
fn structured_manifest() -> impl Strategy<Value = String> {
    let seeds = prop_oneof![
        (1i64..4).prop_map(|n| format!("seeds = {n}\n")),
        prop::collection::vec(0i64..9, 1..4).prop_map(|v| {
            format!("seeds = [{}]\n", v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "))
        }),
        Just(String::new()),
    ];
    let header =
        (seeds, prop::option::of(any::<String>()), prop::option::of(".{0,10}")).prop_map(|(s, n, d)| {
            let mut t = s;
            if let Some(n) = n {
                t.push_str(&format!("name = {}\n", quoted(&n)));
            }
            if let Some(d) = d {
                t.push_str(&format!("description = {}\n", quoted(&d)));
            }
            t
        });
    let entries = |n: usize| {
        prop::collection::vec(param_key().prop_flat_map(|k| value_for(k).prop_map(move |v| (k, v))), 0..n)
    };
    let base = entries(4);
    let keys = |n: usize| prop::collection::btree_set(param_key(), 0..n);
    let zip = (1usize..4, keys(3)).prop_flat_map(|(len, keys)| {
        keys.into_iter().map(move |k| axis(k, len).prop_map(move |a| (k, a))).collect::<Vec<_>>()
    });
    let grid = keys(4).prop_flat_map(|keys| {
        keys.into_iter()
            .map(|k| (1usize..4).prop_flat_map(move |n| axis(k, n).prop_map(move |a| (k, a))))
            .collect::<Vec<_>>()
    });
    let groups = prop::collection::vec((select(vec!["exclude", "include"]), entries(3)), 0..3);
    (header, base, zip, grid, groups).prop_map(|(header, base, zip, grid, groups)| {
        let mut s = header;
        let section = |s: &mut String, title: &str, items: &[(&str, String)]| {
            if !items.is_empty() {
                s.push_str(&format!("{title}\n"));
                for (k, v) in items {
                    s.push_str(&format!("{k} = {v}\n"));
                }
            }
        };
        section(&mut s, "[base]", &base);
        section(&mut s, "[zip]", &zip);
        section(&mut s, "[grid]", &grid);
        for (kind, entries) in groups {
            s.push_str(&format!("[[{kind}]]\n"));
            for (k, v) in entries {
                s.push_str(&format!("{k} = {v}\n"));
            }
        }
        s
    })
}

/// Parses and plans; checks what is accepted.
fn check_manifest(text: &str, sets: &[String]) {
    let path = Path::new("exp/m.toml");
    let Ok(manifest) = Manifest::parse(path, text, sets) else { return };
    let as_run = manifest.to_toml();
    let name = &manifest.name;
    assert!(
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\']),
        "the results folder name {name:?} leaves results/"
    );
    let Ok(plan) = Plan::new(manifest) else { return };
    let mut seen = std::collections::HashSet::new();
    for job in &plan.jobs {
        let id = &plan.id(job);
        assert!(!id.is_empty() && id.len() <= 120 && !id.starts_with('.'), "bad id {id:?}");
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || "._-+~".contains(c)), "unsafe id {id:?}");
        assert!(seen.insert(id.to_ascii_lowercase()), "duplicate id {id:?}");
    }
    let _ = plan.curve_bytes();
    let shards: usize = (0..3).map(|i| plan.shard(Some(Shard { index: i, count: 3 })).count()).sum();
    assert_eq!(shards, plan.jobs.len());
    // The manifest as run (written to every results folder) plans the same jobs.
    let again = Manifest::parse(path, &as_run, &[])
        .unwrap_or_else(|e| panic!("the manifest as run does not load: {e}\n{as_run}"));
    let again =
        Plan::new(again).unwrap_or_else(|e| panic!("the manifest as run does not plan: {e}\n{as_run}"));
    let ids = |p: &Plan| p.jobs.iter().map(|j| (p.id(j), p.config_text(j))).collect::<Vec<_>>();
    assert_eq!(ids(&plan), ids(&again), "the manifest as run plans other jobs:\n{as_run}");
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn manifests_of_any_text_never_panic(text in any::<String>(), sets in sets()) {
        check_manifest(&text, &sets);
    }

    #[test]
    fn manifests_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_manifest(&String::from_utf8_lossy(&bytes), &[]);
    }

    #[test]
    fn toml_like_manifests_never_panic(text in manifest_text(), sets in sets()) {
        check_manifest(&text, &sets);
    }

    #[test]
    fn structured_manifests_never_panic(text in structured_manifest(),
                                        sets in prop_oneof![3 => Just(Vec::new()), 1 => sets()]) {
        check_manifest(&text, &sets);
    }

    #[test]
    fn mutated_real_manifests_never_panic(text in mutated(), sets in sets()) {
        check_manifest(&text, &sets);
    }
}

// ---- CSV data -------------------------------------------------------------

fn csv_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        select(vec![
            "0",
            "1",
            "1.0",
            "0.0",
            "2",
            "-1",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "",
            " 1 ",
            "label",
            "\"0.5\"",
            "\"a,b\"",
            "\"",
            "é",
            "0x1",
            "1_0",
            "+1",
            ".5",
            "5.",
            "\u{feff}1"
        ])
        .prop_map(String::from),
        "[ -~]{0,6}",
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    let header = prop::collection::vec(
        prop_oneof![
            select(vec!["x0", "x1", "label", "LABEL", " label ", "", "\u{feff}x0"]).prop_map(String::from),
            "[a-z]{0,3}"
        ],
        0..5,
    );
    let rows = prop::collection::vec(prop::collection::vec(csv_cell(), 0..5), 0..8);
    let sep = select(vec!["\n", "\r\n", "\r", "\n\n"]);
    (header, rows, sep).prop_map(|(h, rows, sep)| {
        let mut s = h.join(",");
        for r in rows {
            s.push_str(sep);
            s.push_str(&r.join(","));
        }
        s
    })
}

/// A CSV shaped like a data set: d input columns and a label, mostly valid.
fn structured_csv() -> impl Strategy<Value = String> {
    (1usize..4, 1usize..12).prop_flat_map(|(d, n)| {
        let cell = prop_oneof![20 => (-5.0f64..5.0).prop_map(|f| format!("{f:?}")), 1 => csv_cell()];
        let label =
            prop_oneof![20 => select(vec!["0", "1", "1.0", " 0 "]).prop_map(String::from), 1 => csv_cell()];
        let row = (prop::collection::vec(cell, d..=d), label).prop_map(|(mut c, l)| {
            c.push(l);
            c.join(",")
        });
        let rows = prop::collection::vec(row, n..=n);
        let label_name = prop_oneof![10 => Just("label"), 1 => select(vec!["Label", "y", ""])];
        (rows, label_name, select(vec!["\n", "\r\n"]), any::<bool>()).prop_map(
            move |(rows, name, sep, trailing)| {
                let mut header: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
                header.push(name.to_string());
                let mut s = header.join(",") + sep + &rows.join(sep);
                if trailing {
                    s.push_str(sep);
                }
                s
            },
        )
    })
}

fn check_csv(bytes: &[u8], conv: &[f64], test_fraction: f64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, bytes).unwrap();
    // Every way of reading a file: missing cells refused or dropped, split
    // stratified or not, inputs scaled.
    for (missing, stratify) in [(Missing::Error, false), (Missing::DropRows, true)] {
        let spec = DataSpec {
            source: DataSource::Csv(path.clone()),
            test_fraction,
            conv: conv.to_vec(),
            scale: Scale::Standard,
            missing,
            stratify,
            ..JobSpec::default_with_seed(0).data
        };
        let Ok(t) = load_csv(&path, &spec) else { continue };
        let d = &t.data;
        assert_eq!(d.x.nrows(), d.y.len());
        assert!(d.x.ncols() >= 1 && !d.y.is_empty());
        assert!(d.x.iter().all(|v| v.is_finite()), "non-finite input accepted");
        assert!(t.classes.len() >= 2, "one class accepted");
        assert!(
            d.y.iter().all(|&v| v.fract() == 0.0 && v >= 0.0 && (v as usize) < t.classes.len()),
            "a label that is not a class index"
        );
        assert_eq!(t.columns.len(), d.x.ncols());
        // A loadable CSV builds, unless its split is refused (a class the
        // seed's shuffle holds out whole): then only with a test split.
        let split = match data::build(&spec, seed) {
            Err(e @ data::DataError::Split { .. }) => {
                assert!(test_fraction > 0.0 && e.key() == "test_fraction", "{e}");
                continue;
            }
            built => built.expect("a loadable CSV builds"),
        };
        assert_eq!(split.train.len() + split.test.len(), d.len());
        assert_eq!(split.train_raw.dim(), split.train.x.dim());
    }
}

fn kernel() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop_oneof![-2.0f64..2.0, select(vec![1e308, -1e308, 0.0])], 0..12)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_files_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                          conv in kernel(), tf in 0.0f64..=0.9, seed: u64) {
        check_csv(&bytes, &conv, tf, seed);
    }

    #[test]
    fn structured_csv_files_never_panic(text in structured_csv(), conv in kernel(), tf in 0.0f64..=0.9, seed: u64) {
        check_csv(text.as_bytes(), &conv, tf, seed);
    }

    #[test]
    fn csv_like_files_never_panic(text in csv_text(), conv in kernel(), tf in 0.0f64..=0.9, seed: u64) {
        check_csv(text.as_bytes(), &conv, tf, seed);
    }
}

// ---- weights JSON ------------------------------------------------------------

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3.0f64..3.0).prop_map(|f| f.to_string()),
        select(vec![
            "1e308", "1e309", "-1e400", "NaN", "Infinity", "1", "0", "-0", "null", "\"1\"", "1.5e-400"
        ])
        .prop_map(String::from),
    ]
}

fn weights_json() -> impl Strategy<Value = String> {
    let row = prop::collection::vec(json_number(), 0..4).prop_map(|v| format!("[{}]", v.join(",")));
    let w = prop::collection::vec(row, 0..4).prop_map(|v| format!("[{}]", v.join(",")));
    let b = prop_oneof![
        Just("null".to_string()),
        prop::collection::vec(json_number(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
    ];
    let extra = select(vec!["", ", \"x\": 1", ", \"b\": null"]);
    let layer = (w, b, extra).prop_map(|(w, b, e)| format!("{{\"w\": {w}, \"b\": {b}{e}}}"));
    prop::collection::vec(layer, 0..5).prop_map(|l| format!("{{\"layers\": [{}]}}", l.join(", ")))
}

/// Weights JSON of (mostly) the layout's shape.
fn weights_for(layout: &Layout) -> BoxedStrategy<String> {
    let shapes: Vec<(usize, usize, bool)> =
        layout.layers.iter().map(|l| (l.fan_in, l.fan_out, l.b.is_some())).collect();
    let number = prop_oneof![30 => (-1e3f64..1e3).prop_map(|f| format!("{f:?}")), 1 => json_number()];
    let layers: Vec<BoxedStrategy<String>> = shapes
        .into_iter()
        .map(|(fan_in, fan_out, bias)| {
            let number = number.clone();
            let size = |n: usize| prop_oneof![20 => Just(n), 1 => 0..n + 2];
            let row = size(fan_out).prop_flat_map(move |c| prop::collection::vec(number.clone(), c..=c));
            let w = size(fan_in).prop_flat_map(move |r| prop::collection::vec(row.clone(), r..=r));
            let b = if bias {
                prop_oneof![20 => prop::collection::vec((-1.0f64..1.0).prop_map(|f| format!("{f:?}")), fan_out..=fan_out)
                    .prop_map(|v| format!("[{}]", v.join(","))), 1 => Just("null".to_string())].boxed()
            } else {
                prop_oneof![20 => Just("null".to_string()), 1 => Just("[0.5]".to_string())].boxed()
            };
            (w, b)
                .prop_map(|(w, b)| {
                    let rows: Vec<String> = w.into_iter().map(|r| format!("[{}]", r.join(","))).collect();
                    format!("{{\"w\": [{}], \"b\": {b}}}", rows.join(","))
                })
                .boxed()
        })
        .collect();
    (layers, 0usize..30)
        .prop_map(|(l, drop)| {
            let mut l = l;
            if drop == 0 && !l.is_empty() {
                l.pop(); // one layer short
            }
            format!("{{\"layers\": [{}]}}", l.join(", "))
        })
        .boxed()
}

fn layout() -> impl Strategy<Value = Layout> {
    (prop::collection::vec(1usize..4, 2..5), any::<bool>()).prop_map(|(mut sizes, bias)| {
        *sizes.last_mut().unwrap() = 1;
        Layout::new(&sizes, bias)
    })
}

fn check_weights(text: &[u8], layout: &Layout) {
    let Ok(file) = serde_json::from_slice::<WeightsFile>(text) else { return };
    if let Ok(params) = file.to_params(layout) {
        assert_eq!(params.len(), layout.len);
        assert!(params.iter().all(|v| v.is_finite()));
        let back = WeightsFile::from_params(layout, &params);
        let again: WeightsFile = serde_json::from_str(&back.to_json()).unwrap();
        assert_eq!(again.to_params(layout).unwrap(), params, "weights do not round-trip");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn weights_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), layout in layout()) {
        check_weights(&bytes, &layout);
    }

    #[test]
    fn weights_shaped_like_the_network_never_panic((layout, text) in layout().prop_flat_map(|l| {
        let w = weights_for(&l);
        (Just(l), w)
    })) {
        check_weights(text.as_bytes(), &layout);
    }

    #[test]
    fn weights_like_json_never_panics(text in weights_json(), layout in layout()) {
        check_weights(text.as_bytes(), &layout);
    }
}

// ---- results files read back (resume, summarize, report, diff) -----------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn results_files_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300),
                                              mutated_summary in mutated_results()) {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in [("a", bytes.as_slice()), ("b", mutated_summary.as_bytes())] {
            let p = dir.path().join(name);
            std::fs::write(&p, content).unwrap();
            let _ = store::read_summary(&p);
            let _ = store::read_curve(&p);
            let _ = store::read_predictions(&p);
            let job = dir.path().join(format!("job-{name}"));
            std::fs::create_dir_all(&job).unwrap();
            std::fs::write(job.join(store::PARAMS), content).unwrap();
            let _ = store::read_job(&job);
        }
    }
}

/// Real results files, slightly damaged.
fn mutated_results() -> impl Strategy<Value = String> {
    let files = vec![
        "epoch,loss,accuracy,test_loss,test_accuracy\n0,0.5,0.5,,\n1,NaN,inf,0.1,1.0\n",
        "x0,x1,label,output,predicted\n0.1,0.2,0,0.4,0\n0.5,0.5,1,NaN,0\n",
        "job_id = \"a\"\nseed = 0\nconfig_hash = \"0\"\n\n[params]\nlr = 0.1\n\n\
         [result]\nstatus = \"ok\"\nfinal_loss = 0.1\nfinal_accuracy = 1.0\nmin_loss = 0.1\nfiles_hash = \"x\"\n",
    ];
    let edit = (any::<prop::sample::Index>(), any::<char>());
    (select(files), prop::collection::vec(edit, 0..4)).prop_map(|(text, edits)| {
        let mut chars: Vec<char> = text.chars().collect();
        for (at, c) in edits {
            let i = at.index(chars.len());
            chars[i] = c;
        }
        chars.into_iter().collect()
    })
}
