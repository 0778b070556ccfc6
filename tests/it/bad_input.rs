//! Bad input is answered with exit code 2, a message that names the file
//! (and the line, where TOML has one) and the key, and no results written.

use crate::common::{stderr, sweep, write};

/// Runs `sweep run` with `args` in a folder holding `files`; asserts exit 2,
/// that stderr mentions every `needles`, and that nothing was written.
fn rejects(files: &[(&str, &str)], args: &[&str], needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        write(tmp.path(), name, text);
    }
    let out = sweep(tmp.path()).args(args).args(["--out", "out"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}\nstderr:\n{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    assert!(!tmp.path().join("out").exists(), "a rejected run must not create its results folder");
}

const GOOD_CSV: &str = "x0,x1,label\n0.1,0.2,0\n0.9,0.8,1\n0.3,0.1,0\n0.7,0.9,1\n";

#[test]
fn unknown_key_suggests_the_right_one() {
    rejects(
        &[("m.toml", "[base]\nepochs = 5\nactivaton = \"tanh\"\n")],
        &["m.toml"],
        &["m.toml:3:1", "activaton", "did you mean `activation`"],
    );
}

#[test]
fn unknown_top_level_key() {
    rejects(&[("m.toml", "sedes = 3\n")], &["m.toml"], &["m.toml:1:1", "sedes", "did you mean `seeds`"]);
}

#[test]
fn near_miss_value_suggests_the_right_one() {
    rejects(
        &[("m.toml", "[grid]\nactivation = [\"tanh\", \"sigmod\"]\n")],
        &["m.toml"],
        &["m.toml:2:1", "activation", "did you mean \"sigmoid\""],
    );
}

#[test]
fn wrong_type() {
    rejects(
        &[("m.toml", "[base]\nepochs = \"ten\"\n")],
        &["m.toml"],
        &["m.toml:2:1", "epochs", "expected an integer"],
    );
}

#[test]
fn negative_learning_rate() {
    rejects(&[("m.toml", "[base]\nlr = -0.1\n")], &["m.toml"], &["m.toml:2:1", "`lr`", "a number > 0"]);
}

#[test]
fn zero_hidden_size() {
    rejects(&[("m.toml", "[base]\nhidden = [2, 0]\n")], &["m.toml"], &["m.toml:2:1", "hidden", ">= 1"]);
}

#[test]
fn zero_epochs() {
    rejects(&[("m.toml", "[base]\nepochs = 0\n")], &["m.toml"], &["m.toml:2:1", "epochs", ">= 1"]);
}

#[test]
fn empty_axis() {
    rejects(&[("m.toml", "[grid]\nlr = []\n")], &["m.toml"], &["m.toml:2:1", "lr", "empty"]);
}

#[test]
fn exclude_that_empties_the_plan() {
    rejects(
        &[("m.toml", "[grid]\nlr = [0.1]\n[[exclude]]\nlr = 0.1\n")],
        &["m.toml"],
        &["m.toml", "plan is empty", "exclude"],
    );
}

#[test]
fn toml_syntax_error() {
    rejects(&[("m.toml", "[base]\nepochs = = 3\n")], &["m.toml"], &["m.toml:2:", "TOML syntax error"]);
}

#[test]
fn missing_data_file() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"data/nope.csv\"\n")],
        &["m.toml"],
        &["m.toml:2:1", "dataset", "nope.csv"],
    );
}

#[test]
fn bad_csv_cell() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", "x0,x1,label\n0.1,0.2,0\n0.5,abc,1\n")],
        &["m.toml"],
        &["m.toml:2:1", "dataset", "d.csv", "line 3", "abc"],
    );
}

#[test]
fn csv_labels_of_one_class_are_refused() {
    // Any two labels are two classes (0 and 2 here); one class is no classifier.
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", "x0,x1,label\n0.1,0.2,2\n0.5,0.3,2\n")],
        &["m.toml"],
        &["dataset", "d.csv", "column `label`", "every label is `2`"],
    );
}

#[test]
fn csv_label_column_that_is_not_in_the_file() {
    rejects(
        &[
            ("m.toml", "[base]\ndataset = \"d.csv\"\nlabel_column = \"y\"\n"),
            ("d.csv", "x0,x1,label\n0.1,0.2,0\n0.5,0.3,1\n"),
        ],
        &["m.toml"],
        // At the line of the key at fault (`label_column`), not `dataset`'s.
        &["m.toml:3:1", "d.csv: line 1", "no column `y` for label_column", "columns: x0, x1, label"],
    );
}

#[test]
fn csv_with_a_pandas_index_column() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", ",x0,label\n0,0.1,0\n1,0.5,1\n")],
        &["m.toml"],
        &["d.csv: line 1", "column 1 has no name", "feature_columns"],
    );
}

/// A CSV-only key (`label_column`, `feature_columns`, `missing`) on a
/// generated data set did nothing, silently.
#[test]
fn csv_only_keys_with_generated_data_are_refused() {
    for (line, key) in [
        ("label_column = \"species\"", "label_column"),
        ("feature_columns = [\"a\"]", "feature_columns"),
        ("missing = \"drop-rows\"", "missing"),
    ] {
        rejects(
            &[("m.toml", &format!("[base]\ndataset = \"linear\"\n{line}\n"))],
            &["m.toml"],
            &["m.toml:3:1", &format!("`{key}`"), "CSV only", "dataset = \"linear\" is generated"],
        );
    }
    // Also from a grid that mixes the two kinds: the hint says how to set
    // it for the CSV only.
    rejects(
        &[
            ("m.toml", "[base]\nlabel_column = \"y\"\n[grid]\ndataset = [\"d.csv\", \"xor\"]\n"),
            ("d.csv", "x0,y\n0.1,0\n0.5,1\n"),
        ],
        &["m.toml"],
        &["m.toml:2:1", "`label_column`", "dataset = \"xor\" is generated", "[zip]"],
    );
}

/// Labels that differ only by spaces around them (`cat`, ` cat`) were
/// merged into one class by trimming; pandas would read two classes. Either
/// silent choice is wrong for someone: the file is refused, naming both.
#[test]
fn labels_that_differ_only_by_spaces_are_refused() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", "x0,label\n0.1,cat\n0.5,dog\n0.7, cat\n")],
        &["m.toml"],
        &["d.csv: line 4, column `label`", "` cat`", "`cat` (line 2)", "only by spaces"],
    );
}

/// A file saved with `;` between cells (a spreadsheet in many locales)
/// reads as one column: the message says which separator it seems to use.
#[test]
fn a_semicolon_separated_file_gets_a_hint() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", "x0;x1;label\n0,1;0,2;0\n0,5;0,3;1\n")],
        &["m.toml"],
        &["d.csv: line 1", "separated by `;`", "commas"],
    );
}

#[test]
fn csv_with_a_missing_cell() {
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\n"), ("d.csv", "x0,x1,label\n0.1,0.2,0\n0.5,nan,1\n")],
        &["m.toml"],
        &["d.csv: line 3, column `x1`: missing value `nan`", "drop-rows"],
    );
}

#[test]
fn weights_json_of_the_wrong_shape() {
    let w = r#"{"layers": [{"w": [[1, 2, 3], [4, 5, 6]], "b": null}, {"w": [[1], [2], [3]], "b": null}]}"#;
    rejects(
        &[
            ("m.toml", "[base]\ndataset = \"d.csv\"\nhidden = [2]\ninit = \"w.json\"\n"),
            ("d.csv", GOOD_CSV),
            ("w.json", w),
        ],
        &["m.toml"],
        &["m.toml:4:1", "init", "w.json", "layer 0: w is 2x3, expected 2x2"],
    );
}

#[test]
fn bce_with_a_linear_output() {
    rejects(
        &[("m.toml", "[base]\nloss = \"bce\"\noutput_activation = \"none\"\n")],
        &["m.toml"],
        &["m.toml:2:1", "loss", "bce needs output_activation = \"sigmoid\""],
    );
}

#[test]
fn bad_set() {
    rejects(&[("m.toml", "")], &["m.toml", "--set", "epochs"], &["--set epochs", "KEY=VALUE"]);
    rejects(&[("m.toml", "")], &["m.toml", "--set", "grdi.lr=[1]"], &["grdi", "did you mean `grid`"]);
    rejects(&[("m.toml", "")], &["m.toml", "--set", "lr=-3"], &["--set lr=-3", "`lr`"]);
}

#[test]
fn bad_shard() {
    rejects(&[("m.toml", "")], &["m.toml", "--shard", "3/3"], &["--shard", "0 <= I < N"]);
    rejects(&[("m.toml", "")], &["m.toml", "--shard", "x"], &["--shard", "I/N"]);
}

#[test]
fn shard_auto_without_its_environment() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "");
    let out = sweep(tmp.path())
        .args(["m.toml", "--shard", "auto", "--out", "out"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SLURM_ARRAY_TASK_ID"), "{}", stderr(&out));
}

#[test]
fn zero_threads() {
    rejects(&[("m.toml", "")], &["m.toml", "--threads", "0"], &["--threads", "at least 1"]);
}

#[test]
fn missing_manifest() {
    rejects(&[], &["nope.toml"], &["nope.toml", "cannot read the manifest"]);
}

#[test]
fn zip_lists_of_different_lengths() {
    rejects(
        &[("m.toml", "[zip]\nlr = [0.1, 0.2]\nepochs = [5]\n")],
        &["m.toml"],
        &["m.toml:3:1", "one length"],
    );
}

#[test]
fn a_plan_over_the_job_limit_needs_yes() {
    // 100,001 jobs: refused without --yes (planning is fast; nothing trains).
    rejects(&[("m.toml", "seeds = 100001\n")], &["m.toml"], &["100001 jobs", "--yes"]);
}

#[test]
fn set_of_a_swept_key_names_the_table_the_axis_is_in() {
    let grid = "[grid]\nlr = [0.1, 0.01]\n";
    let zip = "[zip]\nlr = [0.1, 0.01]\nepochs = [5, 6]\n";
    for (manifest, table, other) in [(grid, "grid", "zip"), (zip, "zip", "grid")] {
        for set in ["lr=0.5".to_string(), format!("{other}.lr=[0.5]")] {
            let tmp = tempfile::tempdir().unwrap();
            write(tmp.path(), "m.toml", manifest);
            let out = sweep(tmp.path()).args(["plan", "m.toml", "--set", &set]).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "--set {set}: {err}");
            assert!(err.contains(&format!("--set {table}.lr=[..]")), "--set {set}: {err}");
            let wrong = [format!("--set {other}.lr=[..]"), format!("or {other}.lr")];
            assert!(!wrong.iter().any(|w| err.contains(w)), "advises the wrong table: --set {set}: {err}");
            assert!(!err.contains("both in [zip] and [grid]"), "--set {set}: {err}");
        }
    }
}

#[test]
fn set_with_unquoted_strings_shows_them_quoted() {
    let manifest = "[zip]\nactivation = [\"sigmoid\", \"relu\"]\nlr = [0.1, 0.2]\n";
    for (set, fixed) in [
        ("grid.dataset=[xor]", r#"--set 'grid.dataset=["xor"]'"#),
        ("grid.dataset=[xor, linear]", r#"--set 'grid.dataset=["xor", "linear"]'"#),
        ("zip.activation=[tanh,relu]", r#"--set 'zip.activation=["tanh","relu"]'"#),
        ("description=lr, 4A", r#"--set 'description="lr, 4A"'"#),
        ("grid.dataset=xor,linear", r#"--set 'grid.dataset=["xor","linear"]'"#),
        ("grid.lr=0.1,0.01", ""),
        ("base.hidden=[2,2]x", ""),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "m.toml", manifest);
        let out = sweep(tmp.path()).args(["plan", "m.toml", "--set", set]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "--set {set}: {err}");
        assert!(err.contains(&format!("--set {set}: VALUE is not TOML")), "--set {set}: {err}");
        if fixed.is_empty() {
            assert!(!err.contains("must be quoted"), "no quoting makes `{set}` TOML: {err}");
        } else {
            assert!(err.contains(&format!("strings must be quoted: {fixed}")), "--set {set}: {err}");
        }
    }
    // The hint is right: the quoted argument is accepted.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "");
    let out =
        sweep(tmp.path()).args(["plan", "m.toml", "--set", r#"grid.activation=["tanh"]"#]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn every_independent_manifest_error_is_reported() {
    let manifest = "sed = 3\n[base]\nepochs = 5\nactivaton = \"tanh\"\n[grid]\nlr = []\n\
                    optimizer = [\"sgd\"]\n[[exclude]]\nepoch = 3\n[[include]]\nbais = true\n";
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", manifest);
    let out = sweep(tmp.path()).args(["plan", "m.toml", "--set", "grdi.lr=[1]"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    let want = [
        "error: m.toml:1:1: unknown key `sed` (did you mean `seeds`?)",
        "error: --set grdi.lr=[1]: unknown section `grdi` (did you mean `grid`?)",
        "error: m.toml:4:1: [base] unknown key `activaton` (did you mean `activation`?)",
        "error: m.toml:6:1: [grid] `lr`: empty list",
        "error: m.toml:9:1: [[exclude]] key `epoch` is not swept",
        "error: m.toml:11:1: [[include]] unknown key `bais` (did you mean `bias`?)",
    ];
    assert_eq!(lines.len(), want.len(), "{err}");
    for (line, want) in lines.iter().zip(want) {
        assert!(line.starts_with(want), "{line:?} does not start with {want:?}:\n{err}");
    }
    assert!(lines[2].contains("; allowed: dataset, "), "{err}");
}

#[test]
fn every_invalid_job_value_is_reported_once() {
    // Two bad keys in every job, and one bad axis value shared by three
    // configurations: three errors, each at its line.
    let manifest = "seeds = 2\n[base]\nepochs = 0\nmomentum = 1.5\n[grid]\nlr = [0.1, -1.0]\n\
                    activation = [\"tanh\", \"relu\", \"none\"]\n";
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", manifest);
    let out = sweep(tmp.path()).args(["run", "m.toml", "--out", "out"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    // In the order of the manifest's lines, as a reader fixes them.
    assert!(lines[0].starts_with("error: m.toml:3:1: `epochs` = 0: must be >= 1"), "{err}");
    assert!(lines[1].starts_with("error: m.toml:4:1: `momentum` = 1.5: out of range"), "{err}");
    assert!(lines[1].ends_with("allowed: a number in [0, 1)"), "{err}");
    assert!(
        lines[2].starts_with(
            "error: m.toml:6:1: `lr` = -1.0: out of range (in job lr--1.0_activation-tanh_seed-0)"
        ),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn out_naming_a_file_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "[base]\nepochs = 2\n");
    write(tmp.path(), "notes.txt", "mine\n");
    for cmd in [&["m.toml"][..], &["run", "m.toml"], &["slurm", "m.toml", "--print"]] {
        let out = sweep(tmp.path()).args(cmd).args(["--out", "notes.txt"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("notes.txt: is a file, not a results folder; give --out a folder"),
            "{cmd:?}: {err}"
        );
        assert_eq!(std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(), "mine\n");
    }
}

#[test]
fn every_bad_input_file_is_reported() {
    // A missing data file, a CSV with a bad cell and a weights file of the
    // wrong shape: three independent mistakes, all said at once.
    rejects(
        &[
            (
                "m.toml",
                "[base]\nhidden = [2]\n[grid]\ndataset = [\"nope.csv\", \"d.csv\", \"linear\"]\n\
                 [[include]]\ninit = \"w.json\"\n",
            ),
            ("d.csv", "x0,x1,label\n0.1,0.2,0\n0.5,abc,1\n"),
            ("w.json", "{\"layers\": [{\"w\": [[1.0]], \"b\": null}]}"),
        ],
        &["m.toml"],
        &[
            "m.toml:4:1: `dataset`",
            "nope.csv",
            "\nerror: m.toml:4:1: `dataset`",
            "d.csv",
            "abc",
            "m.toml:6:1: `init`",
        ],
    );
}

/// A manifest (or any file) given where a results folder goes is a usage
/// error that says what to give instead, for every command that reads one;
/// and the advice of a reader never speaks of `--out` as if it had one to
/// change.
#[test]
fn a_file_or_foreign_folder_given_as_results_folder_says_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "[base]\nepochs = 2\n");
    write(tmp.path(), "notes/a.txt", "mine\n");
    let commands: [&[&str]; 6] = [
        &["report", "DIR"],
        &["export", "DIR"],
        &["summarize", "DIR"],
        &["verify", "DIR"],
        &["diff", "DIR", "DIR"],
        &["prune", "DIR"],
    ];
    for (target, needle) in [("m.toml", "is a file, not a results folder"), ("notes", "it holds a.txt")] {
        for args in commands {
            let args: Vec<&str> = args.iter().map(|a| if *a == "DIR" { target } else { a }).collect();
            let out = sweep(tmp.path()).args(&args).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?}\n{err}");
            assert!(err.contains(needle), "{args:?}: stderr lacks {needle:?}:\n{err}");
            assert!(err.contains("give the folder a run wrote"), "{args:?}: no advice:\n{err}");
            assert!(!err.contains("choose another --out"), "{args:?}: advice for run:\n{err}");
        }
    }
    assert_eq!(std::fs::read_to_string(tmp.path().join("notes/a.txt")).unwrap(), "mine\n");
}

/// Other tools' names for a parameter (scikit-learn's, PyTorch's, the usual
/// spellings) point at sweep's; an `[[include]]` is called by its name.
#[test]
fn other_tools_names_for_a_key_point_at_sweeps() {
    for (written, ours) in [
        ("learning_rate", "lr"),
        ("weight_decay", "l2"),
        ("max_iter", "epochs"),
        ("hidden_layer_sizes", "hidden"),
    ] {
        rejects(
            &[("m.toml", &format!("[base]\nepochs = 5\n{written} = 1\n"))],
            &["m.toml"],
            &["m.toml:3:1", written, &format!("did you mean `{ours}`")],
        );
    }
    rejects(
        &[("m.toml", "[grid]\nlr = [0.1]\n[[include]]\nlearning_rate = 0.5\n")],
        &["m.toml"],
        &["m.toml:4:1", "[[include]] unknown key `learning_rate`", "did you mean `lr`"],
    );
}

/// The output keys (`save`, `layout`) were checked only when the run
/// started: without a line and column, one mistake at a time, and after
/// every job parameter. They are now checked with the manifest.
#[test]
fn output_key_mistakes_name_line_and_column_together() {
    rejects(
        &[(
            "m.toml",
            "[base]\nlayout = \"pack\"\nsave = [\"nope\"]\n[grid]\nlr = [0.1]\nlayout = [\"packed\"]\n[[include]]\nsave = []\n",
        )],
        &["m.toml"],
        &[
            "m.toml:2:1: `layout` = \"pack\": unknown value \"pack\" (did you mean \"packed\"?)",
            "m.toml:3:1: `save` = [\"nope\"]",
            "m.toml:6:1: `layout` chooses for every job of the run: set it in [base]",
            "not in [[include]]",
        ],
    );
    rejects(
        &[("t.toml", "layout = \"packed\"\n")],
        &["t.toml"],
        &["`layout` chooses for the whole run: put it under [base]"],
    );
}

/// Mistakes of the manifest itself (an unknown key, a `layout` or `save`
/// value, a bad axis) hid every mistake in the jobs' values until they were
/// fixed: `layout = "pakced"` alone, then `activation = "sigmod"` on the
/// next try. Now one listing has both kinds, each at its line and column.
#[test]
fn manifest_and_job_value_mistakes_are_reported_together() {
    let manifest = "seeds = 2\n[base]\nepochs = 50\nlayout = \"pakced\"\nactivation = \"sigmod\"\n\
                    activaton = \"tanh\"\n[grid]\nlr = [0.1, -0.5]\nhidden = []\n[[include]]\n\
                    momentum = 1.5\nsave = []\n";
    for command in [&["plan", "m.toml"][..], &["run", "m.toml", "--out", "out"]] {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "m.toml", manifest);
        let out = sweep(tmp.path()).args(command).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        let want = [
            // The manifest's own mistakes, in the order it is checked...
            "error: m.toml:4:1: `layout` = \"pakced\": unknown value \"pakced\" (did you mean \"packed\"?)",
            "error: m.toml:6:1: [base] unknown key `activaton` (did you mean `activation`?)",
            "error: m.toml:12:1: `save` chooses for every job of the run: set it in [base]",
            "error: m.toml:9:1: [grid] `hidden`: empty list",
            // ...then the jobs' values, by place.
            "error: m.toml:5:1: `activation` = \"sigmod\": unknown value \"sigmod\" (did you mean \"sigmoid\"?)",
            "error: m.toml:8:1: `lr` = -0.5: out of range",
            "error: m.toml:11:1: `momentum` = 1.5: out of range",
        ];
        assert_eq!(lines.len(), want.len(), "{err}");
        for (line, want) in lines.iter().zip(want) {
            assert!(line.starts_with(want), "{line:?} does not start with {want:?}:\n{err}");
        }
        assert!(!tmp.path().join("out").exists());
    }
    // Not TOML: the syntax error alone (nothing else can be read).
    rejects(
        &[("m.toml", "[base]\nepochs = \nactivation = \"sigmod\"\n")],
        &["m.toml"],
        &["TOML syntax error"],
    );
}

/// 60 rows of each class in `classes` (3 numeric inputs), then `extra`.
fn csv_of_classes(classes: &[&str], extra: &str) -> String {
    let mut s = String::from("alcohol,pH,cultivar\n");
    for (c, name) in classes.iter().enumerate() {
        for i in 0..60 {
            s.push_str(&format!("{},{},{name}\n", i as f64 / 60.0 + c as f64, (i % 7) as f64));
        }
    }
    s + extra
}

/// A column name matches exactly: one equal but for case is an error with
/// a "did you mean", at the line of the key that named it.
#[test]
fn csv_column_names_match_exactly_case_included() {
    let csv = csv_of_classes(&["a", "b"], "");
    rejects(
        &[("m.toml", "[base]\ndataset = \"d.csv\"\nlabel_column = \"Cultivar\"\n"), ("d.csv", &csv)],
        &["m.toml"],
        &[
            "m.toml:3:1",
            "`label_column`",
            "d.csv",
            "no column `Cultivar`",
            "did you mean `cultivar`?",
            "case",
        ],
    );
    rejects(
        &[
            (
                "m.toml",
                "[base]\ndataset = \"d.csv\"\nlabel_column = \"cultivar\"\nfeature_columns = [\"alcohol\", \"Alcohol\", \"ph\"]\n",
            ),
            ("d.csv", &csv),
        ],
        &["m.toml"],
        &["m.toml:4:1", "`feature_columns`", "no column `Alcohol`", "did you mean `alcohol`?"],
    );
}

/// A CSV error of a job from `[[include]]` points at the include's key
/// that caused it, not at `dataset`.
#[test]
fn csv_errors_point_at_the_key_responsible_in_an_include() {
    let csv = csv_of_classes(&["a", "b"], "");
    rejects(
        &[
            ("m.toml", "[base]\nepochs = 2\n[[include]]\ndataset = \"d.csv\"\nlabel_column = \"species\"\n"),
            ("d.csv", &csv),
        ],
        &["m.toml"],
        &["m.toml:5:1", "`label_column`", "no column `species`"],
    );
}

/// Test splits scikit-learn refuses are refused, naming the file and key.
#[test]
fn test_splits_that_hold_nothing_out_or_a_class_whole_are_refused() {
    let four = csv_of_classes(&["a", "b", "c", "d"], "");
    let m = |extra: &str| format!("[base]\ndataset = \"d.csv\"\nlabel_column = \"cultivar\"\n{extra}");
    rejects(
        &[("m.toml", &m("stratify = true\ntest_fraction = 0.008\n")), ("d.csv", &four)],
        &["m.toml"],
        &["m.toml:5:1", "`test_fraction`", "d.csv", "holds out no sample of the 240"],
    );
    rejects(
        &[("m.toml", &m("test_fraction = 0.001\n")), ("d.csv", &four)],
        &["m.toml"],
        &["m.toml:4:1", "`test_fraction`", "round(240 × 0.001) = 0"],
    );
    let one = csv_of_classes(&["a", "b"], "0.5,1,lonely\n");
    rejects(
        &[("m.toml", &m("stratify = true\ntest_fraction = 0.5\n")), ("d.csv", &one)],
        &["m.toml"],
        &["m.toml:4:1", "`stratify`", "d.csv", "least populated class", "`lonely`", "only 1 member"],
    );
    let two = csv_of_classes(&["a", "b"], "0.5,1,pair\n0.6,2,pair\n");
    rejects(
        &[("m.toml", &m("stratify = true\ntest_fraction = 0.8\n")), ("d.csv", &two)],
        &["m.toml"],
        &["m.toml:5:1", "`test_fraction`", "every sample of class `pair`", "never be trained on"],
    );
    // A generated set too: 21 xor points, 1% of them rounds to none.
    rejects(
        &[("m.toml", "[base]\ndataset = \"xor\"\ntest_fraction = 0.01\n")],
        &["m.toml"],
        &["m.toml:3:1", "`test_fraction`", "round(21 × 0.01) = 0"],
    );
}

/// A continuous label column (every value its own class) trains, with a note.
#[test]
fn a_label_column_of_single_sample_classes_gets_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..300).map(|i| format!("{},{}\n", i as f64 / 300.0, i as f64 * 0.37)).collect();
    write(tmp.path(), "d.csv", &format!("x,y\n{rows}"));
    write(tmp.path(), "m.toml", "[base]\ndataset = \"d.csv\"\nlabel_column = \"y\"\nepochs = 1\n");
    let out = sweep(tmp.path()).args(["plan", "m.toml"]).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("300 of the 300 classes of label_column `y` have a single sample"), "{err}");
    assert!(err.contains("continuous"), "{err}");
}

/// Limits are stated as they are, and a bad key in an axis table is named.
#[test]
fn limits_and_axis_table_keys_are_named() {
    rejects(
        &[("m.toml", "[base]\nhidden = [10000000]\n")],
        &["m.toml"],
        &["m.toml:2:1", "`hidden`", ">= 1 and <= 1048576 (2^20)", "found 10000000"],
    );
    rejects(
        &[("m.toml", "[grid]\nlr = { log = [1e-3, 1, 100000000] }\n")],
        &["m.toml"],
        &["m.toml:2:1", "`lr`", "count must be an integer from 1 to 1000000, found 100000000"],
    );
    rejects(
        &[("m.toml", "[grid]\nlr = { logs = [1e-3, 1, 5] }\n")],
        &["m.toml"],
        &["m.toml:2:1", "unknown key `logs`", "did you mean `log`?", "{ lin = [start, stop, count] }"],
    );
    rejects(
        &[("m.toml", "[grid]\nlr = { log = [1e-3, 1, 5], extra = 1 }\n")],
        &["m.toml"],
        &["m.toml:2:1", "unknown key `extra`", "{ log = [start, stop, count] }"],
    );
}

/// A file that is not UTF-8 is named as such, with its line and byte and
/// how to convert it.
#[test]
fn a_csv_that_is_not_utf8_says_so_and_how_to_convert_it() {
    for (bytes, needles) in [
        (
            b"x0,x1,label\n0.1,0.2,0\n0.5,0.3,caf\xe9\n".to_vec(),
            vec![
                "d.csv: line 3, byte 33",
                "not UTF-8",
                "0xE9",
                "iconv -f latin1 -t utf-8",
                "encoding=\"utf-8\"",
            ],
        ),
        (
            [&[0xFFu8, 0xFE][..], &"x0,label\n1,0\n".bytes().flat_map(|b| [b, 0]).collect::<Vec<u8>>()]
                .concat(),
            vec!["d.csv: line 1, byte 0", "not UTF-8", "UTF-16", "iconv -f utf-16 -t utf-8"],
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("d.csv"), bytes).unwrap();
        write(tmp.path(), "m.toml", "[base]\ndataset = \"d.csv\"\n");
        let out = sweep(tmp.path()).args(["run", "m.toml", "--out", "out"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        for n in needles {
            assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
        }
    }
}
