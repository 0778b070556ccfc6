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
use std::fs;
use std::io::{self, Seek as _, Write};
use std::path::Path;

use base64::Engine as _;
use pulldown_cmark::{Event, Options, Parser, Tag};
use serde_json::{Value, json};

use super::rows::Row;
use super::{Figure, LINK_PREFIX, Report};
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
    /// Writes everything the page's script reads, as JSON text, to `out`:
    /// the bytes of the whole tree serialized at once (a map's keys in name
    /// order), but streamed: each job's row and curves are serialized as
    /// they are made, and the curves (one array per metric, each over every
    /// job) go through one anonymous temporary file per metric in `tmp_dir`
    /// so that every curve.csv is read once for them. Memory: that of one
    /// job, plus each panel's epochs and job indices.
    pub(super) fn write_page_data(&self, out: &mut dyn Write, tmp_dir: &Path) -> io::Result<()> {
        let keys: Vec<String> = self.axes.iter().map(|a| a.key.clone()).collect();
        let metrics: Vec<(&str, Getter)> = METRICS
            .iter()
            .copied()
            .filter(|(name, _)| match *name {
                "test_loss" => self.rows.iter().any(|r| r.outcome().final_test_loss().is_some()),
                "test_accuracy" => self.rows.iter().any(|r| r.outcome().final_test_accuracy().is_some()),
                _ => true,
            })
            .collect();
        let cap = (VALUES_BUDGET / (self.rows.len() * metrics.len()).max(1)).clamp(MIN_POINTS, MAX_POINTS);

        // Per panel: the epochs kept of those any of its curves logged (each
        // curve read when needed, not held), and its title.
        let panels = self.panels();
        let mut keeps: Vec<Vec<usize>> = Vec::with_capacity(panels.len());
        let mut panel_at: HashMap<Vec<usize>, usize> = HashMap::new();
        for (p, (_, rows)) in panels.iter().enumerate() {
            let mut epochs: Vec<usize> = Vec::new();
            for r in rows {
                if let Some(recs) = self.records(r) {
                    epochs.extend(recs.iter().map(|r| r.epoch));
                    epochs.sort_unstable();
                    epochs.dedup();
                }
            }
            keeps.push(thin(epochs.len(), cap).into_iter().map(|i| epochs[i]).collect());
            if let Some(first) = rows.first() {
                panel_at.insert(self.panel_position(first), p);
            }
        }
        let panel_of = |r: &Row| panel_at.get(&self.panel_position(r)).copied();

        // Each job's series of each metric, in job order, into its metric's
        // file (`[a],[b],null,...`).
        let mut spills: Vec<io::BufWriter<fs::File>> = Vec::with_capacity(metrics.len());
        if !metrics.is_empty() {
            fs::create_dir_all(tmp_dir)?;
        }
        for _ in &metrics {
            spills.push(io::BufWriter::new(tempfile::tempfile_in(tmp_dir)?));
        }
        for (j, row) in self.rows.iter().enumerate() {
            let recs = panel_of(row).and_then(|p| Some((p, self.records(row)?)));
            for ((_, get), spill) in metrics.iter().zip(&mut spills) {
                if j > 0 {
                    spill.write_all(b",")?;
                }
                let Some((p, recs)) = &recs else {
                    spill.write_all(b"null")?;
                    continue;
                };
                let mut at = recs.iter().peekable();
                let series: Vec<Value> = keeps[*p]
                    .iter()
                    .map(|&e| {
                        while at.next_if(|r| r.epoch < e).is_some() {}
                        match at.peek() {
                            Some(r) if r.epoch == e => opt_num(get(r)),
                            _ => Value::Null,
                        }
                    })
                    .collect();
                serde_json::to_writer(&mut *spill, &series)?;
            }
        }

        let colour_by = self.other_axes.first().or(self.axes.first()).map(|a| a.key.clone());
        out.write_all(b"{\"colourBy\":")?;
        serde_json::to_writer(&mut *out, &colour_by)?;
        // {"metric":[job 0's series or null, ...], ...}, metrics in name
        // order as a JSON map orders them.
        out.write_all(b",\"curves\":{")?;
        let mut order: Vec<usize> = (0..metrics.len()).collect();
        order.sort_by_key(|&m| metrics[m].0);
        let mut spills: Vec<Option<io::BufWriter<fs::File>>> = spills.into_iter().map(Some).collect();
        for (n, &m) in order.iter().enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, metrics[m].0)?;
            out.write_all(b":[")?;
            if let Some(spill) = spills[m].take() {
                let mut file = spill.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.seek(io::SeekFrom::Start(0))?;
                io::copy(&mut file, &mut *out)?;
            }
            out.write_all(b"]")?;
        }
        out.write_all(b"},\"jobs\":[")?;
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &job_json(r, &self.id(r), &keys, panel_of(r).unwrap_or(0)))?;
        }
        out.write_all(b"],\"keys\":")?;
        serde_json::to_writer(&mut *out, &keys)?;
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
        out.write_all(b",\"labels\":")?;
        serde_json::to_writer(&mut *out, &labels)?;
        out.write_all(b",\"metrics\":")?;
        serde_json::to_writer(&mut *out, &metrics.iter().map(|(m, _)| *m).collect::<Vec<_>>())?;
        out.write_all(b",\"panelKeys\":")?;
        serde_json::to_writer(&mut *out, &self.panel_axes.iter().map(|a| a.key.clone()).collect::<Vec<_>>())?;
        // {"epochs":[..],"jobs":[..],"title":".."} per panel; its jobs are
        // indices into `jobs`, in the panel's (seed) order.
        out.write_all(b",\"panels\":[")?;
        for (p, (values, rows)) in panels.iter().enumerate() {
            if p > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"{\"epochs\":")?;
            serde_json::to_writer(&mut *out, &keeps[p])?;
            // The panel's rows are in seed order, a seed's jobs in row
            // order ([`aggregate::configurations`]): their indices are
            // written as they come (a JSON array of numbers).
            out.write_all(b",\"jobs\":[")?;
            for (k, i) in rows.iter().filter_map(|r| self.rows.index_of(r)).enumerate() {
                if k > 0 {
                    out.write_all(b",")?;
                }
                write!(out, "{i}")?;
            }
            out.write_all(b"]")?;
            out.write_all(b",\"title\":")?;
            serde_json::to_writer(&mut *out, &self.panel_title(values, rows.len()))?;
            out.write_all(b"}")?;
        }
        out.write_all(b"],\"planned\":")?;
        serde_json::to_writer(&mut *out, &self.planned)?;
        out.write_all(b",\"values\":")?;
        serde_json::to_writer(&mut *out, &self.axes.iter().map(|a| &a.values).collect::<Vec<_>>())?;
        out.write_all(b"}")
    }
}

fn job_json(r: &Row, id: &str, keys: &[String], panel: usize) -> Value {
    let o = r.outcome();
    json!({
        "id": id,
        "seed": r.seed,
        "p": keys.iter().map(|k| r.shown(k)).collect::<Vec<_>>(),
        "panel": panel,
        "status": if super::aggregate::diverged(r) { "diverged" } else { "ok" },
        "final_loss": num(o.final_loss()),
        "final_accuracy": num(o.final_accuracy()),
        "final_test_loss": opt_num(o.final_test_loss()),
        "final_test_accuracy": opt_num(o.final_test_accuracy()),
        "epoch_at_target": o.epoch_at_target(),
        "diverged_epoch": o.diverged_epoch(),
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
        // The Markdown holds the manifest's text (its description): raw
        // HTML in it is shown as text, never run, and a link goes only to
        // a web page, a mail address or a relative path.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_link(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: "".into(), title, id })
        }
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    // The figures sit below the interactive part: decoding them must not
    // hold up the page's first paint.
    // A table wider than the page scrolls in its own box (`.wide`), and
    // the page keeps its width.
    out.replace("<img src=", "<img loading=\"lazy\" decoding=\"async\" src=")
        .replace("<table>", "<div class=\"wide\"><table>")
        .replace("</table>", "</table></div>")
}

/// Whether a link's target is safe to follow from the page: http(s),
/// mailto, or no scheme (a relative path or an anchor); not `javascript:`
/// and the like.
fn safe_link(dest: &str) -> bool {
    let scheme = dest.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    scheme.is_none_or(|s| ["http", "https", "mailto"].iter().any(|ok| s.trim().eq_ignore_ascii_case(ok)))
}

/// The whole page: `data` (JSON text), the Markdown report and its figures.
pub fn page(title: &str, data: String, markdown: &str, figures: &[Figure]) -> String {
    let mut out = Vec::new();
    // Writing into memory cannot fail.
    let _ = write_page(&mut out, title, &mut |w| w.write_all(data.as_bytes()), markdown, figures);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the whole page to `out`: the template with its parts filled in,
/// the page's data written by `data` (from [`Report::write_page_data`]) as
/// it goes, never held whole.
pub fn write_page(
    out: &mut dyn Write,
    title: &str,
    data: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    markdown: &str,
    figures: &[Figure],
) -> io::Result<()> {
    let mut rest = TEMPLATE;
    while let Some(at) = rest.find("{{") {
        out.write_all(&rest.as_bytes()[..at])?;
        let after = &rest[at + 2..];
        let Some(end) = after.find("}}") else {
            out.write_all(b"{{")?;
            rest = after;
            continue;
        };
        let text = match &after[..end] {
            "TITLE" => escape(title),
            "UPLOT_CSS" => UPLOT_CSS.to_string(),
            "PAGE_CSS" => PAGE_CSS.to_string(),
            "DATA" => {
                data(&mut ScriptSafe { inner: &mut *out, after_lt: false })?;
                rest = &after[end + 2..];
                continue;
            }
            "REPORT" => report_html(markdown, figures),
            "UPLOT_LICENSE" => escape(UPLOT_LICENSE),
            "UPLOT_JS" => UPLOT_JS.to_string(),
            "PAGE_JS" => PAGE_JS.to_string(),
            _ => {
                out.write_all(b"{{")?;
                rest = after;
                continue;
            }
        };
        out.write_all(text.as_bytes())?;
        rest = &after[end + 2..];
    }
    out.write_all(rest.as_bytes())
}

/// Passes text through with every `</` written `<\/` and every `<!`
/// written `<\u0021`: inside a script element, `</` would end it early and
/// `<!--` could keep its end from ending it (JSON reads `\/` as `/` and
/// `\u0021` as `!`; a `<` is only ever inside a JSON string). A `<` at the
/// end of one write is remembered for the start of the next.
struct ScriptSafe<'a> {
    inner: &'a mut dyn Write,
    after_lt: bool,
}

impl Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            let prev_lt = if i == 0 { self.after_lt } else { buf[i - 1] == b'<' };
            if b == b'/' && prev_lt {
                self.inner.write_all(&buf[start..i])?;
                self.inner.write_all(b"\\")?;
                start = i;
            } else if b == b'!' && prev_lt {
                self.inner.write_all(&buf[start..i])?;
                self.inner.write_all(b"\\u0021")?;
                start = i + 1;
            }
        }
        self.inner.write_all(&buf[start..])?;
        if let Some(&last) = buf.last() {
            self.after_lt = last == b'<';
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
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

    /// The page's data is streamed in pieces: a `</` split across two
    /// writes is escaped as one written whole.
    #[test]
    fn a_closing_tag_split_across_writes_is_escaped() {
        let mut out = Vec::new();
        let mut w = ScriptSafe { inner: &mut out, after_lt: false };
        for piece in ["{\"x\":\"a<", "/script><", "b><", "", "/", "/c\"}"] {
            w.write_all(piece.as_bytes()).unwrap();
        }
        let whole = "{\"x\":\"a</script><b><//c\"}".replace("</", "<\\/");
        assert_eq!(String::from_utf8(out).unwrap(), whole);
    }

    /// `<!--` in the data (a label, a path) would keep the script's own end
    /// tag from ending it, even split across writes.
    #[test]
    fn a_comment_opening_in_the_data_is_escaped() {
        let mut out = Vec::new();
        let mut w = ScriptSafe { inner: &mut out, after_lt: false };
        for piece in ["{\"x\":\"a<", "!--<script>", "<!--\"}"] {
            w.write_all(piece.as_bytes()).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "{\"x\":\"a<\\u0021--<script><\\u0021--\"}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["x"], "a<!--<script><!--");
    }

    /// Raw HTML in the Markdown (the manifest's description) is text on the
    /// page, and a `javascript:` link goes nowhere.
    #[test]
    fn raw_html_and_script_links_in_the_markdown_are_not_run() {
        let md = "# Report: t\n\nA <script>alert(1)</script> & <b onclick=\"x()\">b</b> \
                  [x](javascript:alert(1)) [y](https://example.org/a:b) [z](#top)\n\n<div>block</div>\n";
        let html = report_html(md, &[]);
        assert!(!html.contains("<script") && !html.contains("<b ") && !html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("href=\"https://example.org/a:b\"") && html.contains("href=\"#top\""),
            "{html}"
        );
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
