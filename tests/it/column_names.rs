//! Column names as a user wrote them (issue: a newcomer's trial): lists of
//! names that print alike are still two values, names match exactly, and
//! a CSV's problems are said in the user's terms.

use std::path::Path;

use crate::common::{stderr, stdout, sweep, write};

/// Rows of `header` + `y` label: 60 rows, two classes, features varying.
fn csv(header: &str, columns: usize) -> String {
    let mut s = format!("{header}\n");
    for i in 0..60 {
        let cells: Vec<String> =
            (0..columns).map(|c| format!("{}", ((i * (c + 3)) % 17) as f64 / 17.0)).collect();
        s.push_str(&format!("{},{}\n", cells.join(","), i % 2));
    }
    s
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    sweep(dir).args(args).output().unwrap()
}

/// `["a, b", "c"]` and `["a", "b", "c"]` are two configurations: they
/// display differently everywhere, and report and diff keep them apart.
#[test]
fn two_lists_of_names_that_join_alike_stay_two_configurations() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d.csv", &csv("\"a, b\",a,b,c,y", 4));
    write(
        dir.path(),
        "m.toml",
        "seeds = 3\n[base]\ndataset = \"d.csv\"\nlabel_column = \"y\"\nepochs = 3\n\
         [grid]\nfeature_columns = [[\"a, b\", \"c\"], [\"a\", \"b\", \"c\"]]\n",
    );
    let out = run(dir.path(), &["run", "m.toml", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = std::fs::read_to_string(dir.path().join("results/m/summary.csv")).unwrap();
    assert!(summary.contains(",\"[\"\"a, b\"\", c]\","), "{summary}");
    assert!(summary.contains(",\"[a, b, c]\","), "{summary}");

    let out = run(dir.path(), &["report", "results/m"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = std::fs::read_to_string(dir.path().join("results/m/report.md")).unwrap();
    let section = report.split("## By `feature_columns`").nth(1).unwrap().split("\n## ").next().unwrap();
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `") && l.contains("a, b")).collect();
    assert_eq!(rows.len(), 2, "{section}");
    assert!(rows[0].contains("[\"a, b\", c]") || rows[1].contains("[\"a, b\", c]"), "{section}");
    for r in &rows {
        assert!(r.contains("| 3 |"), "each configuration has its 3 jobs, not 6: {r}");
    }

    // The same study with other epochs: two configurations, 3 seeds each.
    let out = run(dir.path(), &["run", "m.toml", "--quiet", "--set", "epochs=4", "--out", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(dir.path(), &["diff", "results/m", "b", "--format", "csv"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("a, b")).collect();
    assert_eq!(lines.len(), 2, "{text}");
}
