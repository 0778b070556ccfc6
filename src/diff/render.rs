//! Text for a [`Report`]: a Markdown page for people, a tidy CSV for
//! programs. Both return a `String`; the caller decides where it goes.
//!
//! Nothing undefined is ever printed as a number: a missing mean, standard
//! deviation or test figure is `—` in Markdown and an empty cell in CSV.

use std::fmt::Write as _;

use super::{ConfigDiff, Direction, Method, OneSided, Report, Side, Verdict};
use crate::diff::stats::Test;
use crate::store::fmt_f64;

const NONE: &str = "—";

/// Four significant digits, fixed notation for everyday magnitudes.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-3..5).contains(&magnitude) {
        let decimals = (3 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.3e}")
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 { "< 0.001".into() } else { format!("{p:.3}") }
}

/// `mean ± std`, or the single value, or `—`.
fn spread(s: &Side) -> String {
    match (s.mean, s.std) {
        (Some(m), Some(sd)) if m.is_finite() && sd.is_finite() => format!("{} ± {}", num(m), num(sd)),
        (Some(m), _) => num(m),
        _ => NONE.into(),
    }
}

/// A Markdown table cell: pipes escaped so a value cannot split the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn confidence(alpha: f64) -> String {
    format!("{}%", num((1.0 - alpha) * 100.0).trim_end_matches('0').trim_end_matches('.'))
}

fn verdict(c: &ConfigDiff) -> String {
    match (c.verdict, c.direction) {
        (Verdict::Changed, Some(Direction::Improved)) => "**changed** (better)".into(),
        (Verdict::Changed, Some(Direction::Worsened)) => "**changed** (worse)".into(),
        (v, _) => v.name().into(),
    }
}

fn params_text(columns: &[String], values: &[String]) -> String {
    if columns.is_empty() {
        return "all jobs".into();
    }
    columns.iter().zip(values).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// The closing line: how many configurations changed, improved, worsened.
fn closing(r: &Report) -> String {
    let changed: Vec<&ConfigDiff> = r.matched.iter().filter(|c| c.verdict == Verdict::Changed).collect();
    let count = |d: Direction| changed.iter().filter(|c| c.direction == Some(d)).count();
    let mut s = format!(
        "{} of {} configurations changed: {} improved, {} worsened",
        changed.len(),
        r.matched.len(),
        count(Direction::Improved),
        count(Direction::Worsened)
    );
    if !r.only_a.is_empty() || !r.only_b.is_empty() {
        let _ = write!(s, "; {} only in A, {} only in B", r.only_a.len(), r.only_b.len());
    }
    s.push('.');
    s
}

pub(super) fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let direction = if r.metric.higher_is_better() { "higher" } else { "lower" };
    let level = confidence(r.alpha);
    let _ = writeln!(s, "# sweep diff: {}\n", r.metric);
    let _ = writeln!(s, "- A: `{}` ({} jobs)", r.a.display(), r.jobs_a);
    let _ = writeln!(s, "- B: `{}` ({} jobs)", r.b.display(), r.jobs_b);
    let _ = writeln!(s, "- Metric: `{}`, {direction} is better; differences are B − A.", r.metric);
    let _ = writeln!(
        s,
        "- Test: paired t-test over shared seeds (2 or more), else Welch's t-test; \
         alpha = {}, {level} confidence intervals.\n",
        r.alpha
    );
    if r.base.is_empty() {
        s.push_str("No base parameter differs between the folders.\n\n");
    } else {
        s.push_str("Base parameters that differ (configurations are matched without them):\n\n");
        for (k, va, vb) in &r.base {
            let _ = writeln!(s, "- `{k}: {va} -> {vb}`");
        }
        s.push('\n');
    }

    if r.matched.is_empty() {
        s.push_str("No configuration is present in both folders.\n\n");
    } else {
        let mut header: Vec<String> = if r.columns.is_empty() {
            vec!["configuration".into()]
        } else {
            r.columns.iter().map(|c| cell(c)).collect()
        };
        let params = header.len();
        for h in ["n A", "A mean ± std", "n B", "B mean ± std", "B − A"] {
            header.push(h.into());
        }
        header.push(format!("{level} CI"));
        for h in ["test", "p", "P(B better)", "verdict", "notes"] {
            header.push(h.into());
        }
        let _ = writeln!(s, "| {} |", header.join(" | "));
        // Figures right-aligned; parameters, test, verdict and notes left.
        let test_col = params + 6;
        let align: Vec<&str> = (0..header.len())
            .map(|i| if i < params || i == test_col || i >= header.len() - 2 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(s, "|{}|", align.join("|"));
        for c in &r.matched {
            let mut row: Vec<String> = if r.columns.is_empty() {
                vec!["all jobs".into()]
            } else {
                c.params.iter().map(|v| cell(v)).collect()
            };
            let (difference, ci, p) = match (c.method, c.test) {
                (Method::Identical, _) => ("0".into(), NONE.into(), NONE.into()),
                (_, Some(Test::T(t))) => {
                    (num(t.estimate), format!("[{}, {}]", num(t.ci.0), num(t.ci.1)), p_value(t.p))
                }
                (_, Some(Test::NoVariance { estimate })) => (num(estimate), "exact".into(), NONE.into()),
                (_, None) => (NONE.into(), NONE.into(), NONE.into()),
            };
            row.extend([
                c.a.n().to_string(),
                spread(&c.a),
                c.b.n().to_string(),
                spread(&c.b),
                difference,
                ci,
            ]);
            row.extend([
                c.method.name(),
                p,
                c.p_improvement.map_or_else(|| NONE.into(), |p| format!("{:.0}%", p * 100.0)),
                verdict(c),
                cell(&c.notes.join("; ")),
            ]);
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        s.push('\n');
    }

    for (name, list) in [("A", &r.only_a), ("B", &r.only_b)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "Only in {name} (not compared):\n");
        for o in list {
            let _ = writeln!(
                s,
                "- {}: n = {}, {}",
                params_text(&r.columns, &o.params),
                o.side.n(),
                spread(&o.side)
            );
        }
        s.push('\n');
    }

    let weak = r.matched.iter().filter(|c| c.weak).count();
    if weak > 0 {
        let _ = writeln!(
            s,
            "Warning: {weak} of {} configurations have fewer than 3 seeds a side; their verdicts are weak.\n",
            r.matched.len()
        );
    }
    let _ = writeln!(s, "**{}**", closing(r));
    s
}

/// A number for CSV: full precision, empty when undefined.
fn csv_num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map(fmt_f64).unwrap_or_default()
}

fn side_cells(s: Option<&Side>) -> [String; 6] {
    match s {
        Some(s) => [
            s.jobs.to_string(),
            s.n().to_string(),
            csv_num(s.mean),
            csv_num(s.std),
            s.diverged.to_string(),
            s.not_reached.to_string(),
        ],
        None => Default::default(),
    }
}

pub(super) fn csv(r: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["metric".into()];
    header.extend(r.columns.iter().cloned());
    for side in ["a", "b"] {
        for col in ["jobs", "n", "mean", "std", "diverged", "not_reached"] {
            header.push(format!("{col}_{side}"));
        }
    }
    for h in [
        "test",
        "pairs",
        "difference",
        "ci_low",
        "ci_high",
        "t",
        "df",
        "p_value",
        "p_improvement",
        "verdict",
        "direction",
        "notes",
    ] {
        header.push(h.into());
    }
    let mut rows: Vec<Vec<String>> = vec![header];
    let metric = r.metric.name().to_string();
    for c in &r.matched {
        let mut row = vec![metric.clone()];
        row.extend(c.params.iter().cloned());
        row.extend(side_cells(Some(&c.a)));
        row.extend(side_cells(Some(&c.b)));
        let pairs = match c.method {
            Method::Paired(n) => n.to_string(),
            _ => String::new(),
        };
        let (estimate, ci, t, df, p) = match (c.method, c.test) {
            (Method::Identical, _) => (Some(0.0), None, None, None, None),
            (_, Some(Test::T(t))) => (Some(t.estimate), Some(t.ci), Some(t.t), Some(t.df), Some(t.p)),
            (_, Some(Test::NoVariance { estimate })) => {
                (Some(estimate), Some((estimate, estimate)), None, None, None)
            }
            (_, None) => (None, None, None, None, None),
        };
        row.extend([
            c.method.csv_name().to_string(),
            pairs,
            csv_num(estimate),
            csv_num(ci.map(|c| c.0)),
            csv_num(ci.map(|c| c.1)),
            csv_num(t),
            csv_num(df),
            csv_num(p),
            csv_num(c.p_improvement),
            c.verdict.name().to_string(),
            match c.direction {
                Some(Direction::Improved) => "improved".into(),
                Some(Direction::Worsened) => "worsened".into(),
                None => String::new(),
            },
            c.notes.join("; "),
        ]);
        rows.push(row);
    }
    let one_sided = |o: &OneSided, a_side: bool| {
        let mut row = vec![metric.clone()];
        row.extend(o.params.iter().cloned());
        let (sa, sb) = if a_side { (Some(&o.side), None) } else { (None, Some(&o.side)) };
        row.extend(side_cells(sa));
        row.extend(side_cells(sb));
        row.extend(["none".into(), String::new(), String::new(), String::new(), String::new()]);
        row.extend([String::new(), String::new(), String::new(), String::new()]);
        row.extend([if a_side { "only_a" } else { "only_b" }.into(), String::new(), String::new()]);
        row
    };
    rows.extend(r.only_a.iter().map(|o| one_sided(o, true)));
    rows.extend(r.only_b.iter().map(|o| one_sided(o, false)));
    for row in &rows {
        w.write_record(row).expect("in-memory write");
    }
    let bytes = w.into_inner().expect("in-memory flush");
    String::from_utf8(bytes).expect("every cell is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits_and_never_print_nan() {
        assert_eq!(num(0.0123456), "0.01235");
        assert_eq!(num(250.44), "250.4");
        assert_eq!(num(-1.2e-5), "-1.200e-5");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(csv_num(Some(f64::NAN)), "");
        assert_eq!(confidence(0.05), "95%");
        assert_eq!(confidence(0.1), "90%");
        assert_eq!(confidence(0.001), "99.9%");
    }
}
