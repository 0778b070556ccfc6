//! The report's Markdown tables: one per swept axis (a row per data set and
//! value, never pooling data sets) and one of every configuration. Pure text from the aggregates; numbers to three
//! significant digits so columns read at a glance.

use super::rows::Row;

use super::aggregate::{self, Stats, fmt_epoch, fmt_sig};

/// Columns shared by both tables, after the parameter columns; the test
/// column only when some job held samples out.
fn stat_header(with_test: bool) -> Vec<&'static str> {
    let mut h = vec!["jobs", "diverged", "final loss (mean ± std)", "mean accuracy"];
    if with_test {
        h.push("mean test accuracy");
    }
    h.extend(["100% accuracy", "reached target", "median epoch at target"]);
    h
}

/// Whether any of `rows` has a held-out test set.
fn has_test<'a>(mut rows: impl Iterator<Item = &'a &'a Row>) -> bool {
    rows.any(|r| r.outcome().final_test_accuracy().is_some())
}

/// Escapes what would break a Markdown table cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('\n', " ")
}

fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// Header and alignment rows: parameter columns left, numbers right.
fn header(params: &[String], with_test: bool, extra: &[&str]) -> String {
    let stats = stat_header(with_test);
    let mut names: Vec<String> = params.iter().map(|p| cell(p)).collect();
    names.extend(stats.iter().chain(extra).map(|s| s.to_string()));
    let numbers = params.len()..params.len() + stats.len();
    let align: Vec<String> =
        (0..names.len()).map(|i| if numbers.contains(&i) { "--:" } else { ":--" }.to_string()).collect();
    row(&names) + &row(&align)
}

/// `0.0123 ± 0.00456`; the mean alone for one job; `—` when every job
/// diverged.
pub fn loss_cell(s: &Stats) -> String {
    match (s.loss_mean, s.loss_std) {
        (Some(m), Some(sd)) => format!("{} ± {}", fmt_sig(m), fmt_sig(sd)),
        (Some(m), None) => fmt_sig(m),
        _ => "—".to_string(),
    }
}

fn stat_cells(s: &Stats, with_test: bool) -> Vec<String> {
    let percent = |a: Option<f64>| a.map_or("—".to_string(), |a| format!("{}%", fmt_sig(100.0 * a)));
    let mut cells = vec![
        s.n.to_string(),
        if s.diverged > 0 { format!("**{}**", s.diverged) } else { "0".to_string() },
        loss_cell(s),
        percent(s.accuracy_mean),
    ];
    if with_test {
        cells.push(percent(s.test_accuracy_mean));
    }
    cells.extend([
        format!("{}/{}", s.perfect, s.n),
        format!("{}/{}", s.reached, s.n),
        s.median_epoch_at_target.map_or("—".to_string(), fmt_epoch),
    ]);
    cells
}

/// One row per group: its label cells under `keys`, then the statistics of
/// its jobs; with `seeds`, a last column of the seeds that diverged or ended
/// below 100% accuracy. Callers group so that no row mixes data sets.
pub fn group_table(keys: &[String], groups: &[(Vec<String>, Vec<&Row>)], seeds: bool) -> String {
    let with_test = has_test(groups.iter().flat_map(|(_, rows)| rows));
    let extra: &[&str] = if seeds { &["seeds below 100%"] } else { &[] };
    let mut s = header(keys, with_test, extra);
    for (labels, rows) in groups {
        let mut cells: Vec<String> = labels.iter().map(|v| format!("`{}`", cell(v))).collect();
        let st = aggregate::stats(rows);
        cells.extend(stat_cells(&st, with_test));
        if seeds {
            cells.push(seed_list(&st.failed_seeds));
        }
        s.push_str(&row(&cells));
    }
    s
}

/// Seeds listed up to a dozen, then how many more.
fn seed_list(seeds: &[u64]) -> String {
    const SHOWN: usize = 12;
    if seeds.is_empty() {
        return "—".to_string();
    }
    let mut s = seeds.iter().take(SHOWN).map(u64::to_string).collect::<Vec<_>>().join(", ");
    if seeds.len() > SHOWN {
        s.push_str(&format!(", … (+{})", seeds.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(cell("a|b"), "a\\|b");
    }

    #[test]
    fn seed_lists_are_capped() {
        assert_eq!(seed_list(&[]), "—");
        assert_eq!(seed_list(&[1, 4]), "1, 4");
        let many: Vec<u64> = (0..15).collect();
        assert!(seed_list(&many).ends_with("11, … (+3)"));
    }

    #[test]
    fn header_aligns_numbers_right() {
        let h = header(&["lr".to_string()], false, &[]);
        let lines: Vec<&str> = h.lines().collect();
        assert!(lines[0].starts_with("| lr | jobs | diverged |"));
        assert!(lines[1].starts_with("| :-- | --: |"));
    }
}
