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
