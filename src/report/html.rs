//! `report.html`: one self-contained page, readable offline from `file://`.
//!
//! It holds the data inline (every job's parameters, outcome and curves, as
//! JSON), the charting library vendored from the npm registry
//! (`vendor/uPlot.iife.min.js`, MIT, fetched by `scripts/vendor-js.sh`; its
//! licence is beside it and in the page), the page's own script
//! (`page.js`), the Markdown report rendered to HTML, and the SVG figures
//! as data URIs. Nothing is loaded from the network.
//!
//! Size: curves are thinned to a shared epoch grid per panel so a page
//! holds about [`VALUES_BUDGET`] curve values at most, each to four
//! significant digits; the lab's 960-job study makes a page of about 2 MB.

use std::collections::HashMap;

use base64::Engine as _;
use pulldown_cmark::{Event, Options, Parser, Tag};
use serde_json::{Value, json};

use super::{Figure, LINK_PREFIX, Report};
use crate::store::SummaryRow;
use crate::train::EpochRecord;

const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("vendor/LICENSE");
const PAGE_JS: &str = include_str!("page.js");
const PAGE_CSS: &str = include_str!("page.css");

/// Curve values per page, across jobs and metrics, before curves are thinned.
pub const VALUES_BUDGET: usize = 200_000;
/// Points per curve: never fewer than this (unless logged fewer) ...
const MIN_POINTS: usize = 50;
/// ... and never more.
const MAX_POINTS: usize = 500;

/// A number to four significant digits (JSON null when not finite).
fn num(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let rounded: f64 = format!("{x:.3e}").parse().unwrap_or(x);
    json!(rounded)
}

fn opt_num(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

/// Indices kept when thinning `n` grid points to `cap` (first and last kept).
fn thin(n: usize, cap: usize) -> Vec<usize> {
    if n <= cap {
        return (0..n).collect();
    }
    let stride = n.div_ceil(cap.max(2) - 1);
    let mut idx: Vec<usize> = (0..n).step_by(stride).collect();
    if idx.last() != Some(&(n - 1)) {
        idx.push(n - 1);
    }
    idx
}

/// The curve metrics a page carries: name and accessor.
type Getter = fn(&EpochRecord) -> Option<f64>;
const METRICS: [(&str, Getter); 4] = [
    ("loss", |r| Some(r.loss)),
    ("accuracy", |r| Some(r.accuracy)),
    ("test_loss", |r| r.test_loss),
    ("test_accuracy", |r| r.test_accuracy),
];

impl Report<'_> {
    /// Everything the page's script reads, as JSON.
    /// As JSON text. The per-job parts (each job's row and curves) are
    /// serialized job by job into text as they are made rather than held
    /// as a tree of values (a tenth of the memory at 100,000 jobs); the
    /// bytes are those of the whole tree serialized at once.
    pub(super) fn page_data(&self) -> String {
        let keys: Vec<String> = self.axes.iter().map(|a| a.key.clone()).collect();
        let index: HashMap<&str, usize> =
            self.rows.iter().enumerate().map(|(i, r)| (r.job_id.as_str(), i)).collect();
        let metrics: Vec<(&str, Getter)> = METRICS
            .iter()
            .copied()
            .filter(|(name, _)| match *name {
                "test_loss" => self.rows.iter().any(|r| r.outcome.final_test_loss.is_some()),
                "test_accuracy" => self.rows.iter().any(|r| r.outcome.final_test_accuracy.is_some()),
                _ => true,
            })
            .collect();
        let cap = (VALUES_BUDGET / (self.rows.len() * metrics.len()).max(1)).clamp(MIN_POINTS, MAX_POINTS);

        let mut panel_of = vec![0usize; self.rows.len()];
        let mut curves: HashMap<&str, Vec<Option<String>>> =
            metrics.iter().map(|(m, _)| (*m, vec![None; self.rows.len()])).collect();
        let mut panels = Vec::new();
        for (p, (values, rows)) in self.panels().into_iter().enumerate() {
            // Two passes over the panel's curves (each read when needed, not
            // held): the epochs any of them logged, then each job's values.
            let mut epochs: Vec<usize> = Vec::new();
            for r in &rows {
                if let Some(recs) = self.records(r) {
                    epochs.extend(recs.iter().map(|r| r.epoch));
                    epochs.sort_unstable();
                    epochs.dedup();
                }
            }
            let keep: Vec<usize> = thin(epochs.len(), cap).into_iter().map(|i| epochs[i]).collect();
            let jobs: Vec<usize> =
                rows.iter().filter_map(|r| index.get(r.job_id.as_str()).copied()).collect();
            for (&j, row) in jobs.iter().zip(&rows) {
                panel_of[j] = p;
                let Some(recs) = self.records(row) else { continue };
                for (name, get) in &metrics {
                    let mut at = recs.iter().peekable();
                    let series: Vec<Value> = keep
                        .iter()
                        .map(|&e| {
                            while at.next_if(|r| r.epoch < e).is_some() {}
                            match at.peek() {
                                Some(r) if r.epoch == e => opt_num(get(r)),
                                _ => Value::Null,
                            }
                        })
                        .collect();
                    if let Some(slot) = curves.get_mut(name).and_then(|v| v.get_mut(j)) {
                        *slot = Some(Value::Array(series).to_string());
                    }
                }
            }
            panels.push(json!({
                "title": self.describe(&values, " = "),
                "epochs": keep,
                "jobs": jobs,
            }));
        }

        let mut jobs = String::from("[");
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 {
                jobs.push(',');
            }
            jobs.push_str(&job_json(r, &keys, panel_of[i]).to_string());
        }
        jobs.push(']');
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(k, m)| {
                let changed: serde_json::Map<String, Value> =
                    m.iter().filter(|(v, l)| v != l).map(|(v, l)| (v.clone(), json!(l))).collect();
                (k.clone(), Value::Object(changed))
            })
            .filter(|(_, m)| m.as_object().is_some_and(|o| !o.is_empty()))
            .collect();
        let colour_by = self.other_axes.first().or(self.axes.first()).map(|a| a.key.clone());
        // {"metric":[job 0's series or null, ...], ...}, metrics in name order
        // as a JSON map orders them.
        let mut names: Vec<&str> = curves.keys().copied().collect();
        names.sort_unstable();
        let mut curves_text = String::from("{");
        for (n, name) in names.iter().enumerate() {
            if n > 0 {
                curves_text.push(',');
            }
            curves_text.push_str(&Value::from(*name).to_string());
            curves_text.push_str(":[");
            for (j, series) in curves[name].iter().enumerate() {
                if j > 0 {
                    curves_text.push(',');
                }
                curves_text.push_str(series.as_deref().unwrap_or("null"));
            }
            curves_text.push(']');
        }
        curves_text.push('}');
        let data = json!({
            "keys": keys,
            "values": self.axes.iter().map(|a| a.values.clone()).collect::<Vec<_>>(),
            "panelKeys": self.panel_axes.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
            "labels": labels,
            "colourBy": colour_by,
            "panels": panels,
            "jobs": JOBS_SLOT,
            "metrics": metrics.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
            "curves": CURVES_SLOT,
            "planned": self.planned,
        })
        .to_string();
        // Spliced into one string of the final size (no intermediate copies).
        let slot = |s: &str| Value::from(s).to_string();
        let mut out = String::with_capacity(data.len() + curves_text.len() + jobs.len());
        let mut rest = data.as_str();
        for (slot, text) in [(slot(CURVES_SLOT), curves_text), (slot(JOBS_SLOT), jobs)] {
            if let Some(at) = rest.find(&slot) {
                out.push_str(&rest[..at]);
                out.push_str(&text);
                rest = &rest[at + slot.len()..];
            }
        }
        out.push_str(rest);
        out
    }
}

/// Where the serialized jobs and curves go in the page's data: the first
/// match is always these (the map's keys are in order, and `curves` and
/// `jobs` come before `labels`, `panels` and `values`, the only other
/// places a user's text can appear).
const JOBS_SLOT: &str = "\u{0}jobs\u{0}";
const CURVES_SLOT: &str = "\u{0}curves\u{0}";

fn job_json(r: &SummaryRow, keys: &[String], panel: usize) -> Value {
    let o = &r.outcome;
    json!({
        "id": r.job_id,
        "seed": r.seed,
        "p": keys.iter().map(|k| r.shown(k)).collect::<Vec<_>>(),
        "panel": panel,
        "status": if super::aggregate::diverged(r) { "diverged" } else { "ok" },
        "final_loss": num(o.final_loss),
        "final_accuracy": num(o.final_accuracy),
        "final_test_loss": opt_num(o.final_test_loss),
        "final_test_accuracy": opt_num(o.final_test_accuracy),
        "epoch_at_target": o.epoch_at_target,
        "diverged_epoch": o.diverged_epoch,
    })
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The Markdown report as HTML, its figure links replaced by the figures
/// themselves (SVG data URIs), its first heading dropped (the page has its
/// own).
fn report_html(markdown: &str, figures: &[Figure]) -> String {
    let body = markdown.replace(LINK_PREFIX, "figures");
    let body = body
        .split_once('\n')
        .map_or(body.as_str(), |(first, rest)| if first.starts_with("# ") { rest } else { body.as_str() });
    let svgs: HashMap<String, &str> =
        figures.iter().map(|f| (format!("figures/{}", f.file), f.svg.as_str())).collect();
    let parser = Parser::new_ext(body, Options::ENABLE_TABLES).map(|e| match e {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest = match svgs.get(dest_url.as_ref()) {
                Some(svg) => format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(svg.as_bytes())
                )
                .into(),
                None => dest_url,
            };
            Event::Start(Tag::Image { link_type, dest_url: dest, title, id })
        }
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    // The figures sit below the interactive part: decoding them must not
    // hold up the page's first paint.
    out.replace("<img src=", "<img loading=\"lazy\" decoding=\"async\" src=")
}

/// The whole page: `data` (from [`Report::page_data`]), the Markdown
/// report and its figures.
pub fn page(title: &str, data: String, markdown: &str, figures: &[Figure]) -> String {
    // `</` inside a script element would end it early (copied only then).
    let data = if data.contains("</") { data.replace("</", "<\\/") } else { data };
    let parts: [(&str, String); 8] = [
        ("TITLE", escape(title)),
        ("UPLOT_CSS", UPLOT_CSS.to_string()),
        ("PAGE_CSS", PAGE_CSS.to_string()),
        ("DATA", data),
        ("REPORT", report_html(markdown, figures)),
        ("UPLOT_LICENSE", escape(UPLOT_LICENSE)),
        ("UPLOT_JS", UPLOT_JS.to_string()),
        ("PAGE_JS", PAGE_JS.to_string()),
    ];
    let mut out = String::with_capacity(parts.iter().map(|p| p.1.len()).sum::<usize>() + 4096);
    let mut rest = TEMPLATE;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find("}}").and_then(|end| parts.iter().find(|p| p.0 == &after[..end]).map(|p| (end, p))) {
            Some((end, (_, text))) => {
                out.push_str(text);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

const TEMPLATE: &str = include_str!("page.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(num(0.123456).to_string(), "0.1235");
        assert_eq!(num(1.23456e-7).to_string(), "1.235e-7");
        assert_eq!(num(f64::NAN), Value::Null);
        assert_eq!(num(f64::INFINITY), Value::Null);
    }

    #[test]
    fn thinning_keeps_the_ends_and_the_cap() {
        assert_eq!(thin(3, 10), vec![0, 1, 2]);
        let t = thin(2001, 100);
        assert!(t.len() <= 101, "{}", t.len());
        assert_eq!((t[0], *t.last().unwrap()), (0, 2000));
    }

    #[test]
    fn the_page_embeds_its_parts_and_no_script_closes_early() {
        let data = json!({"x": "</script><b>"});
        let html = page("a <b>", data.to_string(), "# Report: t\n\nSome *text*.\n", &[]);
        assert!(html.contains("a &lt;b&gt;"));
        assert!(html.contains("<\\/script>"), "data cannot end its script element");
        assert!(html.contains("<em>text</em>"));
        assert!(!html.contains("{{"), "every placeholder filled");
        assert!(html.contains("Leon Sorokin"), "the library's licence is in the page");
    }
}
