//! What a newcomer reads: messages and displays that say what they mean
//! (the values a report shows, the help of each subcommand, the hints of
//! manifest mistakes).

use sweep::report::{self, ReportOptions};

use crate::report::run;

/// A log grid's values are trained and named (job ids, params.toml) to 12
/// significant digits, and the report shows them to three, as README says,
/// with the full values in its footnote and in the page's data.
#[test]
fn a_log_grid_reads_to_three_significant_digits_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest =
        "seeds = 1\n[base]\nepochs = 5\ndataset = \"xor\"\n[grid]\nlr = { log = [1e-3, 30.0, 5] }\n";
    let dir = run(tmp.path(), "lg", manifest);
    assert!(dir.join("jobs/lr-0.0131607401295_seed-0").is_dir(), "job ids keep the value trained");
    let w = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&w.report).unwrap();
    for shown in ["0.001", "0.0132", "0.173", "2.28", "30.0"] {
        assert!(md.contains(&format!("\n| `{shown}` |")), "a table row of lr = {shown}:\n{md}");
    }
    assert!(md.contains("| `lr` | `0.0132` | `0.0131607401295` |"), "the footnote: {md}");
    assert!(!md.contains("\n| `0.0131607401295` |"), "no row shows the full value: {md}");
    let page = std::fs::read_to_string(&w.page).unwrap();
    assert!(page.contains(r#""0.0131607401295":"0.0132""#), "the page's chips and legends");
}

/// Each subcommand's --help says what it writes and does, as README does:
/// report writes report.html too; verify checks hashes before retraining
/// and takes RAYON_NUM_THREADS as run does; the size --yes allows is of
/// every file, not the curves alone; export has a status column; prune
/// shows an example and says what it does with packs.
#[test]
fn every_command_s_help_says_what_it_does() {
    let tmp = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = crate::common::sweep(tmp.path()).args(args).arg("--help").output().unwrap();
        assert!(out.status.success(), "{args:?}");
        // Words only: where lines wrap depends on the terminal.
        crate::common::stdout(&out).split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let top = help(&[]);
    assert!(top.contains("Write report.md, report.html and SVG figures"), "{top}");
    assert!(top.contains("sweep report results/lr report.md, report.html"), "{top}");
    let report = help(&["report"]);
    assert!(report.contains("report.html is one self-contained page"), "{report}");
    assert!(report.contains("report.html and the figures are always written in DIR"), "{report}");
    let verify = help(&["verify"]);
    assert!(verify.contains("checked against the SHA-256"), "{verify}");
    assert!(verify.contains("RAYON_NUM_THREADS"), "{verify}");
    for command in ["run", "slurm"] {
        let h = help(&[command]);
        assert!(h.contains("over 5 GB of files") && !h.contains("curve files"), "{command}: {h}");
    }
    assert!(help(&["export"]).contains("its status"));
    let prune = help(&["prune"]);
    assert!(prune.contains("Examples: sweep prune results/lr") && prune.contains("packed"), "{prune}");
    let plan = help(&["plan"]);
    assert!(plan.contains("on disk") && plan.contains("memory"), "{plan}");
}

/// The manifest mistakes a newcomer makes first get the hint that fixes
/// them: a top-level key under a section, unquoted strings in `--set`
/// (said once), a label column not in the file (every column listed).
#[test]
fn manifest_mistakes_say_how_to_fix_them() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = |manifest: &str, args: &[&str]| {
        crate::common::write(tmp.path(), "m.toml", manifest);
        let out = crate::common::sweep(tmp.path()).arg("plan").arg("m.toml").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for section in ["base", "grid"] {
        for key in ["seeds", "name", "description"] {
            let err = plan(&format!("[{section}]\n{key} = [1, 2]\n"), &[]);
            assert!(
                err.contains(&format!("m.toml:2:1: [{section}] unknown key `{key}` (`{key}` is a top-level key: move it above the first [section])")),
                "{err}"
            );
        }
    }
    let err = plan("", &["--set", "save=[modle]"]);
    assert_eq!(err.matches("must be quoted").count(), 1, "{err}");
    assert!(err.contains(r#"VALUE is not TOML: strings must be quoted: --set 'save=["modle"]'"#), "{err}");
    let columns = [
        "alcohol",
        "malic_acid",
        "ash",
        "alcalinity",
        "magnesium",
        "phenols",
        "flavanoids",
        "nonflav",
        "proanth",
        "color",
        "hue",
        "od280",
        "proline",
        "target",
    ];
    crate::common::write(tmp.path(), "w.csv", &format!("{}\n{}0\n", columns.join(","), "1,".repeat(13)));
    let err = plan("[base]\ndataset = \"w.csv\"\nlabel_column = \"class\"\n", &[]);
    assert!(
        err.contains(&format!("no column `class` for label_column; columns: {}\n", columns.join(", "))),
        "{err}"
    );
}

/// A Markdown table of report.html sits in a box that scrolls sideways
/// (`.wide`, `overflow-x: auto`): a table wider than the page (the
/// per-configuration table of a real data set reached 1627 px) no longer
/// widens the page.
#[test]
fn report_tables_scroll_in_their_own_box() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "seeds = 1\n[base]\nepochs = 5\n[grid]\nlr = [0.1, 1.0]\n";
    let dir = run(tmp.path(), "wide", manifest);
    let w = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let page = std::fs::read_to_string(&w.page).unwrap();
    let tables = page.matches("<table>").count();
    assert!(tables > 0);
    assert_eq!(page.matches("<div class=\"wide\"><table>").count(), tables, "every report table is wrapped");
    // ... and every table (the job table's box is the page's own) closes inside its box.
    assert_eq!(page.matches("</table></div>").count(), page.matches("</table>").count());
    assert!(page.contains("#report .wide { max-width: 100%; overflow-x: auto; }"));
}

/// A message continued on the next source line without its `\` keeps that
/// line's indent: "needs at                      least 2" (the second trial
/// found two). No string in src/ holds a run of spaces after a word, but
/// the aligned examples of `--help` (lines of `  sweep ...`).
#[test]
fn no_message_holds_a_source_indent() {
    let mut found = Vec::new();
    let mut files = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || code.starts_with("sweep ") {
                continue;
            }
            let Some(quote) = line.find('"') else { continue };
            let text = &line[quote..];
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b' ' {
                    let run = bytes[i..].iter().take_while(|&&b| b == b' ').count();
                    let after = &text[i + run..];
                    if run >= 5
                        && i > 0
                        && bytes[i - 1] != b' '
                        && !after.is_empty()
                        && !after.starts_with("//")
                    {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                    i += run;
                } else {
                    i += 1;
                }
            }
        }
    }
    assert!(found.is_empty(), "strings with a source indent inside:\n{}", found.join("\n"));
}
