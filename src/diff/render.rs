//! Text for a [`Report`]: aligned plain text for a terminal (the default
//! there), a Markdown page, a tidy CSV for programs. Each returns a
//! `String`; the caller decides where it goes.
//!
//! Nothing undefined is ever printed as a number: a missing mean, standard
//! deviation or test figure is `—` in text and Markdown, an empty cell in CSV.
//! Every format shows, per row, the means the test compared, so `B − A` is
//! the difference of the two means beside it.

use std::fmt::Write as _;

use super::{ConfigDiff, Correction, Method, OneSided, Report, Shown, Side, Verdict};
use crate::stats::Test;
use crate::store::fmt_f64;

const NONE: &str = "—";
/// The terminal format stays within this many columns.
const WIDTH: usize = 100;

/// `digits` significant digits, fixed notation for everyday magnitudes.
fn sig(v: f64, digits: i32) -> String {
    if !v.is_finite() {
        return NONE.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if (-3..5).contains(&magnitude) {
        let decimals = (digits - 1 - magnitude).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.prec$e}", prec = (digits - 1).max(0) as usize)
    }
}

/// Four significant digits (means).
fn num(v: f64) -> String {
    sig(v, 4)
}

pub(super) fn p_value(p: f64) -> String {
    if p < 0.001 { "< 0.001".into() } else { format!("{p:.3}") }
}

/// `mean ± std` (the mean to `digits` significant digits, the std to two),
/// or the single value, or `—`.
fn spread(s: &Shown, digits: i32) -> String {
    match (s.mean, s.std) {
        (Some(m), Some(sd)) if m.is_finite() && sd.is_finite() => {
            format!("{} ± {}", sig(m, digits), sig(sd, 2))
        }
        (Some(m), _) => sig(m, digits),
        _ => NONE.into(),
    }
}

fn confidence(alpha: f64) -> String {
    format!("{}%", num((1.0 - alpha) * 100.0).trim_end_matches('0').trim_end_matches('.'))
}

fn params_text(columns: &[String], values: &[String]) -> String {
    if columns.is_empty() {
        return "all jobs".into();
    }
    columns.iter().zip(values).map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
}

/// The `n` cell: `10 paired` (the shared seeds compared), or `12/10` (A/B).
fn n_cell(c: &ConfigDiff) -> String {
    match &c.method {
        Method::Paired(s) => format!("{} paired", s.len()),
        Method::OneSeed(_) => "1 paired".into(),
        _ => format!("{}/{}", c.shown_a.n, c.shown_b.n),
    }
}

/// The `diverged` cell: `0/12 → 9/12`.
fn diverged_cell(c: &ConfigDiff) -> String {
    format!("{}/{} → {}/{}", c.a.diverged, c.a.outcomes(), c.b.diverged, c.b.outcomes())
}

/// The `not reached` cell (`epoch_at_target`): jobs that did not diverge
/// yet never reached `target_loss`, `2/12 → 0/12`.
fn not_reached_cell(c: &ConfigDiff) -> String {
    format!("{}/{} → {}/{}", c.a.not_reached, c.a.outcomes(), c.b.not_reached, c.b.outcomes())
}

/// B − A, its interval and the p shown in a row: (difference, interval, p).
fn figures(c: &ConfigDiff) -> (String, String, String) {
    match (&c.method, c.test) {
        (Method::Identical, _) => ("0".into(), NONE.into(), NONE.into()),
        (_, Some(Test::T(t))) => (
            sig(t.estimate, 3),
            format!("[{}, {}]", sig(t.ci.0, 2), sig(t.ci.1, 2)),
            c.metric_p.map_or_else(|| NONE.into(), |p| p_value(p.adjusted)),
        ),
        (_, Some(Test::NoVariance { estimate })) => (sig(estimate, 3), "exact".into(), "exact".into()),
        (_, None) => {
            (c.shown_difference().map_or_else(|| NONE.into(), |d| sig(d, 3)), NONE.into(), NONE.into())
        }
    }
}

/// The p that decided a row: the failure share's when it decided.
fn deciding_p(c: &ConfigDiff, alpha: f64) -> Option<String> {
    c.share.filter(|s| s.p.adjusted < alpha).map(|s| p_value(s.p.adjusted))
}

/// The header lines every human format shares (without Markdown marks).
fn header_lines(r: &Report) -> Vec<String> {
    let direction = if r.metric.higher_is_better() { "higher" } else { "lower" };
    let mut lines: Vec<String> = r.unpaired.iter().cloned().collect();
    lines.extend([
        format!("A: {} ({})", r.a.display(), crate::count(r.jobs_a, "job")),
        format!("B: {} ({})", r.b.display(), crate::count(r.jobs_b, "job")),
        format!("metric: {}, {direction} is better; differences are B − A", r.metric),
    ]);
    if r.base.is_empty() {
        lines.push("base: no base parameter differs between the folders".into());
    } else {
        let base: Vec<String> = r.base.iter().map(|(k, va, vb)| format!("{k}: {va} -> {vb}")).collect();
        lines.push(format!("base: {} (configurations are matched without it)", base.join(", ")));
    }
    lines.extend(r.data.iter().cloned());
    lines.push(if r.unpaired.is_some() {
        "tests: Welch's t (seeds not paired); diverged shares: Fisher's exact test".into()
    } else {
        "tests: paired t over the seeds both ran, else Welch's t; diverged shares: Fisher's exact test".into()
    });
    lines.push(match r.correction {
        _ if r.tests == 0 => {
            format!("level: no p-value to adjust; {} intervals per row", confidence(r.alpha))
        }
        Correction::Holm => format!(
            "level: Holm-Bonferroni over {} tests, family-wise error {}; {} intervals per row",
            r.tests,
            pct(r.alpha),
            confidence(r.alpha)
        ),
        Correction::None => format!(
            "level: each of {} tests at {} on its own (no correction: false alarms add up); {} intervals",
            r.tests,
            pct(r.alpha),
            confidence(r.alpha)
        ),
    });
    lines
}

fn pct(alpha: f64) -> String {
    format!("{}%", num(alpha * 100.0).trim_end_matches('0').trim_end_matches('.'))
}

/// The closing line: what changed, and what could not be compared.
fn closing(r: &Report) -> String {
    if r.matched.is_empty() {
        return format!(
            "Nothing matched: no configuration is in both folders ({} only in A, {} only in B).",
            r.only_a.len(),
            r.only_b.len()
        );
    }
    let count = |v: Verdict| r.matched.iter().filter(|c| c.verdict == v).count();
    let (better, worse) = (count(Verdict::Better), count(Verdict::Worse));
    let mut s = format!(
        "{} of {} configurations changed: {better} better, {worse} worse",
        better + worse,
        r.matched.len()
    );
    for (v, what) in [
        (Verdict::NoDetectableChange, "no detectable change"),
        (Verdict::Identical, "identical"),
        (Verdict::Undecided, "no verdict"),
    ] {
        if count(v) > 0 {
            let _ = write!(s, "; {} {what}", count(v));
        }
    }
    if !r.only_a.is_empty() || !r.only_b.is_empty() {
        let _ = write!(s, "; {} only in A, {} only in B", r.only_a.len(), r.only_b.len());
    }
    s.push('.');
    s
}

fn any_diverged(r: &Report) -> bool {
    r.matched.iter().any(|c| c.a.diverged + c.b.diverged > 0)
}

/// Whether a `not reached` column is shown (`epoch_at_target` only).
fn any_not_reached(r: &Report) -> bool {
    r.matched.iter().any(|c| c.a.not_reached + c.b.not_reached > 0)
}

/// Aligned columns: left-aligned text, right-aligned figures, two spaces apart.
fn align(rows: &[Vec<String>], right: &[bool]) -> Vec<String> {
    let cols = rows.first().map_or(0, Vec::len);
    let width: Vec<usize> =
        (0..cols).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let pad = " ".repeat(width[i] - cell.chars().count());
                    if right[i] { format!("{pad}{cell}") } else { format!("{cell}{pad}") }
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// `text` wrapped at spaces to `width` columns: the first line starts with
/// `first`, the others with `rest`.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut lines = vec![first.to_string()];
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let last = lines.last_mut().expect("never empty");
        if !empty && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(format!("{rest}{word}"));
        } else {
            if !empty {
                last.push(' ');
            }
            last.push_str(word);
        }
        empty = false;
    }
    lines
}

/// The terminal format: a short header, one aligned row per configuration
/// (notes indented below it), a legend and the closing line, all within
/// [`WIDTH`] columns. When the parameter columns would push a row past it,
/// each configuration gets its own line above its figures.
pub(super) fn text(r: &Report) -> String {
    let mut s = String::new();
    let put = |s: &mut String, text: &str, first: &str, rest: &str| {
        for l in wrap(text, first, rest, WIDTH) {
            let _ = writeln!(s, "{l}");
        }
    };
    let _ = writeln!(s, "sweep diff: {}", r.metric);
    for line in header_lines(r) {
        put(&mut s, &line, "", "  ");
    }
    s.push('\n');
    let (diverged, not_reached) = (any_diverged(r), any_not_reached(r));
    let level = confidence(r.alpha);
    if !r.matched.is_empty() {
        let mut head: Vec<String> = vec!["n".into()];
        if diverged {
            head.push("diverged".into());
        }
        if not_reached {
            head.push("not reached".into());
        }
        head.extend(["A mean ± std".into(), "B mean ± std".into(), "B − A".into(), format!("{level} CI")]);
        head.extend(["p".into(), "verdict".into()]);
        // Figures right-aligned, the verdict left.
        let mut right: Vec<bool> = vec![true; head.len()];
        right[head.len() - 1] = false;
        let figure_rows: Vec<Vec<String>> = std::iter::once(head)
            .chain(r.matched.iter().map(|c| {
                let (difference, ci, p) = figures(c);
                let mut row = vec![n_cell(c)];
                if diverged {
                    row.push(diverged_cell(c));
                }
                if not_reached {
                    row.push(not_reached_cell(c));
                }
                row.extend([spread(&c.shown_a, 3), spread(&c.shown_b, 3), difference, ci]);
                row.extend([deciding_p(c, r.alpha).unwrap_or(p), c.verdict.words().into()]);
                row
            }))
            .collect();
        // The parameters as leading columns when the rows still fit, else
        // as a line of their own above each row's figures.
        let with_params: Vec<Vec<String>> = std::iter::once(r.columns.clone())
            .chain(r.matched.iter().map(|c| c.params.clone()))
            .zip(&figure_rows)
            .map(|(p, f)| p.into_iter().chain(f.iter().cloned()).collect())
            .collect();
        let mut params_right = vec![false; r.columns.len()];
        params_right.extend(&right);
        let wide = align(&with_params, &params_right);
        let inline = r.columns.is_empty() || wide.iter().all(|l| l.chars().count() <= WIDTH);
        let (lines, indent) = if inline { (wide, "") } else { (align(&figure_rows, &right), "  ") };
        let _ = writeln!(s, "{indent}{}", lines[0]);
        for (c, line) in r.matched.iter().zip(&lines[1..]) {
            if !inline {
                put(&mut s, &params_text(&r.columns, &c.params), "", "  ");
            }
            let _ = writeln!(s, "{indent}{line}");
            for note in &c.notes {
                put(&mut s, note, &format!("{indent}  "), &format!("{indent}    "));
            }
        }
        s.push('\n');
    }
    for (name, list) in [("A", &r.only_a), ("B", &r.only_b)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "Only in {name} (not compared):");
        for o in list {
            let line = format!(
                "{}: n = {}, {}",
                params_text(&r.columns, &o.params),
                o.side.n(),
                side_spread(&o.side)
            );
            put(&mut s, &line, "  ", "    ");
        }
        s.push('\n');
    }
    if !r.matched.is_empty() {
        let mut legend =
            vec!["n: seeds compared, A/B; \"k paired\": the k seeds with a value on both sides".to_string()];
        if diverged {
            legend.push("diverged: diverged/jobs, A → B; a rise is worse whatever the survivors do".into());
        }
        if not_reached {
            legend.push(
                "not reached: jobs that never reached target_loss (not diverged), A → B; diverged and not \
                 reached together are compared as one failure share"
                    .into(),
            );
        }
        legend.push(format!(
            "B − A: the difference of the two means shown; {level} CI: its interval, this row alone"
        ));
        legend.push(match r.correction {
            Correction::Holm => {
                "p: Holm-adjusted p of the deciding test (raw in --format csv); exact: no noise".into()
            }
            Correction::None => {
                "p: the deciding test's p-value, not adjusted; exact: no noise to test".into()
            }
        });
        legend.push(format!(
            "better/worse: B beats/trails A beyond seed noise (p < {}); identical: byte-identical files",
            r.alpha
        ));
        legend.push(
            "no detectable change: none found, not proof of none (see the CI); no verdict: too few seeds"
                .into(),
        );
        let _ = writeln!(s, "Legend:");
        for l in &legend {
            put(&mut s, l, "  ", "    ");
        }
        s.push('\n');
    }
    put(&mut s, &closing(r), "", "  ");
    s
}

/// A one-sided configuration's spread over every value it has.
fn side_spread(side: &Side) -> String {
    let xs: &[f64] = &side.values;
    spread(&Shown::of(xs), 4)
}

/// A Markdown table cell: pipes escaped so a value cannot split the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

pub(super) fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# sweep diff: {}\n", r.metric);
    for line in header_lines(r) {
        let _ = writeln!(s, "- {line}");
    }
    s.push('\n');
    let level = confidence(r.alpha);
    if r.matched.is_empty() {
        s.push_str("No configuration is present in both folders.\n\n");
    } else {
        let mut header: Vec<String> = if r.columns.is_empty() {
            vec!["configuration".into()]
        } else {
            r.columns.iter().map(|c| cell(c)).collect()
        };
        let params = header.len();
        let not_reached = r.metric == super::Metric::EpochAtTarget;
        header.extend(["n".to_string(), "diverged A → B".to_string()]);
        if not_reached {
            header.push("not reached A → B".into());
        }
        for h in ["A mean ± std", "B mean ± std", "B − A"] {
            header.push(h.into());
        }
        header.push(format!("{level} CI"));
        let p_adj = if r.correction == Correction::Holm { "p (Holm)" } else { "p (not adjusted)" };
        for h in ["p", p_adj, "verdict", "notes"] {
            header.push(h.into());
        }
        let _ = writeln!(s, "| {} |", header.join(" | "));
        let align: Vec<&str> = (0..header.len())
            .map(|i| if i < params || i >= header.len() - 2 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(s, "|{}|", align.join("|"));
        for c in &r.matched {
            let mut row: Vec<String> = if r.columns.is_empty() {
                vec!["all jobs".into()]
            } else {
                c.params.iter().map(|v| cell(v)).collect()
            };
            let (difference, ci, _) = figures(c);
            let (raw, adjusted) = match (c.metric_p, c.test) {
                (Some(p), _) => (p_value(p.raw), p_value(p.adjusted)),
                (None, Some(Test::NoVariance { .. })) => ("exact".into(), "exact".into()),
                _ => (NONE.into(), NONE.into()),
            };
            row.extend([n_cell(c), diverged_cell(c)]);
            if not_reached {
                row.push(not_reached_cell(c));
            }
            row.extend([spread(&c.shown_a, 4), spread(&c.shown_b, 4), difference, ci]);
            let verdict = match c.verdict {
                Verdict::Better | Verdict::Worse => format!("**{}**", c.verdict.words()),
                v => v.words().into(),
            };
            row.extend([raw, adjusted, verdict, cell(&c.notes.join("; "))]);
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
                side_spread(&o.side)
            );
        }
        s.push('\n');
    }
    if !r.matched.is_empty() {
        s.push_str(
            "`n`: seeds compared (A/B), or the seeds both ran when paired (the means are over those). \
             `better`/`worse`: beyond seed noise at the family-wise level; `no detectable change`: \
             the tests found none, which is not proof of none (see the interval); `no verdict`: \
             too few seeds to estimate the noise.\n\n",
        );
    }
    let _ = writeln!(s, "**{}**", closing(r));
    s
}

/// A number for CSV: full precision, empty when undefined.
fn csv_num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map(fmt_f64).unwrap_or_default()
}

/// jobs, n, mean, std, diverged, not_reached for one side.
fn side_cells(jobs: usize, shown: &Shown, side: &Side) -> [String; 6] {
    [
        jobs.to_string(),
        shown.n.to_string(),
        csv_num(shown.mean),
        csv_num(shown.std),
        side.diverged.to_string(),
        side.not_reached.to_string(),
    ]
}

pub(super) fn csv(r: &Report) -> String {
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
        "paired_seeds",
        "difference",
        "ci_low",
        "ci_high",
        "t",
        "df",
        "p_value",
        "p_adjusted",
        "seeds_b_better",
        "seeds_b_worse",
        "failed_p_value",
        "failed_p_adjusted",
        "correction",
        "verdict",
        "notes",
    ] {
        header.push(h.into());
    }
    let correction = match r.correction {
        Correction::Holm => "holm",
        Correction::None => "none",
    };
    let mut rows: Vec<Vec<String>> = vec![header];
    let metric = r.metric.name().to_string();
    for c in &r.matched {
        let mut row = vec![metric.clone()];
        row.extend(c.params.iter().cloned());
        row.extend(side_cells(c.a.jobs, &c.shown_a, &c.a));
        row.extend(side_cells(c.b.jobs, &c.shown_b, &c.b));
        let (pairs, seeds) = match &c.method {
            Method::Paired(s) => {
                let mut list = String::new();
                for (i, seed) in s.iter().enumerate() {
                    let _ = write!(list, "{}{seed}", if i > 0 { " " } else { "" });
                }
                (s.len().to_string(), list)
            }
            Method::OneSeed(s) => ("1".into(), s.to_string()),
            _ => (String::new(), String::new()),
        };
        let (estimate, ci, t, df) = match (&c.method, c.test) {
            (Method::Identical, _) => (Some(0.0), None, None, None),
            (_, Some(Test::T(t))) => (Some(t.estimate), Some(t.ci), Some(t.t), Some(t.df)),
            (_, Some(Test::NoVariance { estimate })) => {
                (Some(estimate), Some((estimate, estimate)), None, None)
            }
            (_, None) => (c.shown_difference(), None, None, None),
        };
        let paired = matches!(c.method, Method::Paired(_));
        row.extend([
            c.method.csv_name().to_string(),
            pairs,
            seeds,
            csv_num(estimate),
            csv_num(ci.map(|c| c.0)),
            csv_num(ci.map(|c| c.1)),
            csv_num(t),
            csv_num(df),
            csv_num(c.metric_p.map(|p| p.raw)),
            csv_num(c.metric_p.map(|p| p.adjusted)),
            if paired { c.seeds_better.to_string() } else { String::new() },
            if paired { c.seeds_worse.to_string() } else { String::new() },
            csv_num(c.share.map(|s| s.p.raw)),
            csv_num(c.share.map(|s| s.p.adjusted)),
            correction.to_string(),
            c.verdict.csv_name().to_string(),
            c.notes.join("; "),
        ]);
        rows.push(row);
    }
    let width = rows[0].len();
    let one_sided = |o: &OneSided, a_side: bool| {
        let mut row = vec![metric.clone()];
        row.extend(o.params.iter().cloned());
        let xs: &[f64] = &o.side.values;
        let cells = side_cells(o.side.jobs, &Shown::of(xs), &o.side);
        let blank: [String; 6] = Default::default();
        if a_side {
            row.extend(cells);
            row.extend(blank);
        } else {
            row.extend(blank);
            row.extend(cells);
        }
        row.push("none".into());
        row.resize(width - 2, String::new());
        row.extend([if a_side { "only_a" } else { "only_b" }.into(), String::new()]);
        row
    };
    rows.extend(r.only_a.iter().map(|o| one_sided(o, true)));
    rows.extend(r.only_b.iter().map(|o| one_sided(o, false)));
    let mut w = csv::Writer::from_writer(Vec::new());
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
    fn numbers_keep_their_significant_digits_and_never_print_nan() {
        assert_eq!(num(0.0123456), "0.01235");
        assert_eq!(num(250.44), "250.4");
        assert_eq!(num(-1.2e-5), "-1.200e-5");
        assert_eq!(sig(0.0045678, 2), "0.0046");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(csv_num(Some(f64::NAN)), "");
        assert_eq!(confidence(0.05), "95%");
        assert_eq!(confidence(0.1), "90%");
        assert_eq!(confidence(0.001), "99.9%");
    }

    #[test]
    fn long_notes_wrap_within_the_width() {
        let text = "word ".repeat(60);
        let lines = wrap(text.trim(), "  ", "    ", 30);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert!(lines[0].starts_with("  word") && lines[1].starts_with("    word"), "{lines:?}");
    }
}
