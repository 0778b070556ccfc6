//! report.html in a real browser: Debian's `chromium`, headless, loads the
//! page from `file://` (no network), runs its script, and dumps the DOM,
//! where the page records what it drew (`#status`, each panel's
//! `data-drawn`) and any error (`#errors`). Chromium's own console log
//! (stderr) must hold no message either.
//!
//! Without chromium the test fails, unless `SWEEP_SKIP_BROWSER=1`, and then
//! it says loudly that it skipped. `SWEEP_CHROMIUM` names another binary.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sweep::report::{self, ReportOptions};

use crate::report::{SMALL, run};

/// Chromium's binary, or None (after printing why) when skipping is allowed.
fn chromium() -> Option<String> {
    let bin = std::env::var("SWEEP_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = Command::new(&bin).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if found.is_ok_and(|s| s.success()) {
        return Some(bin);
    }
    if std::env::var("SWEEP_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        // Straight to stderr: the test harness captures eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! SKIPPED report_html: `{bin}` is not installed and SWEEP_SKIP_BROWSER=1 \
             (apt-get install chromium to run it) !!!\n"
        );
        return None;
    }
    panic!(
        "`{bin}` (headless Chromium) is needed for the browser test: apt-get install chromium, \
         or set SWEEP_SKIP_BROWSER=1 to skip it"
    );
}

/// The DOM of `url` after its scripts ran, and chromium's stderr.
fn dump_dom(bin: &str, url: &str, profile: &Path) -> (String, String) {
    dump_dom_at(bin, url, profile, "1280,1000")
}

/// [`dump_dom`] in a window of `size` (`width,height` px).
fn dump_dom_at(bin: &str, url: &str, profile: &Path, size: &str) -> (String, String) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--window-size={size}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        // Files, not pipes: a full pipe nobody reads would block chromium.
        .stdout(std::fs::File::create(profile.with_extension("dom")).unwrap())
        .stderr(std::fs::File::create(profile.with_extension("log")).unwrap())
        .spawn()
        .unwrap();
    // A guard against a hung browser, not a speed check.
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish loading {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let read = |ext: &str| {
        String::from_utf8_lossy(&std::fs::read(profile.with_extension(ext)).unwrap()).into_owned()
    };
    (read("dom"), read("log"))
}

/// The value of attribute `name` in the first tag starting with `open`.
fn attr(dom: &str, open: &str, name: &str) -> Option<String> {
    let tag = &dom[dom.find(open)?..];
    let tag = &tag[..tag.find('>')?];
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    Some(tag[from..from + tag[from..].find('"')?].to_string())
}

/// Attribute `name` of every panel, in order.
fn panel_attr(dom: &str, name: &str) -> Vec<String> {
    dom.match_indices("<div class=\"panel\"")
        .map(|(i, _)| attr(&dom[i..], "<div class=\"panel\"", name).unwrap_or_default())
        .collect()
}

/// The y range (min, max) of every panel's chart, in order.
fn y_ranges(dom: &str) -> Vec<(f64, f64)> {
    let num = |v: &String| v.parse::<f64>().unwrap_or(f64::NAN);
    panel_attr(dom, "data-ymin")
        .iter()
        .zip(&panel_attr(dom, "data-ymax"))
        .map(|(a, b)| (num(a), num(b)))
        .collect()
}

/// (jobs, drawn) of every panel, in order.
fn panels(dom: &str) -> Vec<(usize, usize)> {
    dom.match_indices("<div class=\"panel\"")
        .map(|(i, _)| {
            let tag = &dom[i..];
            let n = |k: &str| {
                attr(tag, "<div class=\"panel\"", k).and_then(|v| v.parse().ok()).unwrap_or(usize::MAX)
            };
            (n("data-jobs"), n("data-drawn"))
        })
        .collect()
}

/// Asserts the page ran its script to the end without an error.
fn assert_clean(dom: &str, log: &str) {
    assert_eq!(attr(dom, "<div id=\"status\"", "data-ready").as_deref(), Some("1"), "the script finished");
    assert_eq!(
        attr(dom, "<div id=\"status\"", "data-errors").as_deref(),
        Some("0"),
        "no error reached the page"
    );
    let errors = dom.split("<pre id=\"errors\"").nth(1).and_then(|r| r.split("</pre>").next()).unwrap_or("");
    assert!(errors.ends_with('>') || errors.trim_end().ends_with('>'), "errors shown: {errors}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}

#[test]
fn the_page_draws_a_series_per_job_and_the_table_filter_changes_the_drawing() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.page, dir.join("report.html"));
    let page = std::fs::read_to_string(&written.page).unwrap();
    for remote in ["src=\"http", "href=\"http", "<link ", "import("] {
        assert!(!page.contains(remote), "the page loads `{remote}`: it must be self-contained");
    }
    let url = format!("file://{}", written.page.display());
    let profile = tmp.path().join("profile");

    let (dom, log) = dump_dom(&bin, &url, &profile);
    assert_clean(&dom, &log);
    // SMALL: 2 data sets (the panels) x 2 lr x 2 hidden x 3 seeds.
    assert_eq!(panels(&dom), vec![(12, 12), (12, 12)], "one series per job of each panel");
    assert_eq!(dom.matches("<tr data-job=").count(), 24, "a table row per job");

    // The table's filter (set from the address, as the checkboxes set it):
    // lr = 0.1 only leaves half of each panel's lines drawn.
    let (dom, log) = dump_dom(&bin, &format!("{url}#filter=lr:0.1"), &profile);
    assert_clean(&dom, &log);
    assert_eq!(panels(&dom), vec![(12, 6), (12, 6)], "filtering the table changes what is drawn");
    let rows: Vec<&str> =
        dom.split("<tr data-job=").skip(1).map(|r| r.split('>').next().unwrap_or("")).collect();
    assert_eq!(rows.len(), 24);
    assert_eq!(
        rows.iter().filter(|r| r.contains(" hidden=")).count(),
        12,
        "the table hides the filtered-out jobs"
    );
}

/// The panels of the page share one y range by default, as the SVG figures'
/// panels do, so that a reader can compare them by eye; `yrange=panel` (the
/// page's "y range" control) fits each panel to its own lines.
#[test]
fn the_panels_share_one_y_range_unless_asked_for_their_own() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let url = format!("file://{}", written.page.display());
    let profile = tmp.path().join("profile");

    let (dom, log) = dump_dom(&bin, &format!("{url}#yrange=panel"), &profile);
    assert_clean(&dom, &log);
    let own = y_ranges(&dom);
    assert_eq!(own.len(), 2, "{own:?}");
    assert_ne!(own[0], own[1], "the two data sets' losses span different decades");

    for hash in ["", "#scale=linear", "#metric=accuracy", "#filter=lr:0.1"] {
        let (dom, log) = dump_dom(&bin, &format!("{url}{hash}"), &profile);
        assert_clean(&dom, &log);
        let shared = y_ranges(&dom);
        assert_eq!(shared.len(), 2, "{hash}: {shared:?}");
        assert!(shared[0].0.is_finite() && shared[0].1 > shared[0].0, "{hash}: {shared:?}");
        assert_eq!(shared[0], shared[1], "{hash}: the panels share one y range");
        // An accuracy is drawn on a linear axis: the log/linear choice is
        // greyed out rather than reading "log".
        let greyed = attr(&dom, "<select id=\"scale\"", "disabled").is_some();
        assert_eq!(greyed, hash == "#metric=accuracy", "{hash}: the y axis choice");
    }
    // Every line filtered out: nothing to range over, and no error.
    for hash in ["#filter=lr:none", "#filter=lr:none&yrange=panel"] {
        let (dom, log) = dump_dom(&bin, &format!("{url}{hash}"), &profile);
        assert_clean(&dom, &log);
        assert_eq!(panels(&dom), vec![(12, 0), (12, 0)], "{hash}");
    }
    let (dom, _) = dump_dom(&bin, &url, &profile);
    let (lo, hi) = y_ranges(&dom)[0];
    // Whole decades covering both panels' own ranges.
    assert!(lo <= own[0].0.min(own[1].0) && hi >= own[0].1.max(own[1].1), "{lo} {hi} {own:?}");
    for v in [lo, hi] {
        assert!((v.log10() - v.log10().round()).abs() < 1e-9, "{v} is a power of ten");
    }
}

/// Losses over twenty decades (a job that fits its data to 1e-20): the
/// log axis labels every other power of ten, not all 21 in a 320 px chart,
/// where they would run into each other.
#[test]
fn a_log_axis_over_many_decades_labels_no_more_powers_than_fit() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let job = |id: &str, panel: usize| {
        serde_json::json!({"id": id, "seed": 0, "p": [], "panel": panel, "status": "ok",
            "final_loss": 1e-20, "final_accuracy": 1.0, "final_test_loss": null,
            "final_test_accuracy": null, "epoch_at_target": 1, "diverged_epoch": null})
    };
    let data = serde_json::json!({
        "colourBy": null,
        "curves": {"accuracy": [[0.5, 1.0, 1.0], [0.5, 0.75, 1.0]], "loss": [[1.0, 1e-10, 1e-20], [1.0, 0.1, 0.01]]},
        "jobs": [job("a", 0), job("b", 1)],
        "keys": [], "labels": {}, "metrics": ["loss", "accuracy"], "panelKeys": ["dataset"],
        "panels": [{"epochs": [0, 1, 2], "jobs": [0], "title": "dataset = a"},
                   {"epochs": [0, 1, 2], "jobs": [1], "title": "dataset = b"}],
        "planned": null, "values": []
    });
    let page = tmp.path().join("report.html");
    std::fs::write(&page, report::html::page("many decades", data.to_string(), "# Report: t\n", &[]))
        .unwrap();
    let (dom, log) = dump_dom(&bin, &format!("file://{}", page.display()), &tmp.path().join("profile"));
    assert_clean(&dom, &log);
    assert_eq!(y_ranges(&dom), vec![(1e-20, 1.0), (1e-20, 1.0)], "whole decades, shared");
    let ticks: Vec<usize> = panel_attr(&dom, "data-yticks").iter().map(|v| v.parse().unwrap_or(0)).collect();
    for t in ticks {
        assert!((2..=14).contains(&t), "{t} labelled powers of ten in a 320 px chart");
    }
}

/// Nine values of the colouring parameter: the ninth repeats the first
/// colour, so its lines and its chip are dashed (as in the figures).
#[test]
fn a_ninth_value_gets_the_first_colour_dashed() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let nine = "seeds = 1\n[base]\nepochs = 10\nn_samples = 20\n[grid]\nlr = { log = [0.01, 1.0, 9] }\n";
    let dir = run(tmp.path(), "nine", nine);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let (dom, log) =
        dump_dom(&bin, &format!("file://{}", written.page.display()), &tmp.path().join("profile"));
    assert_clean(&dom, &log);
    assert_eq!(dom.matches("<span class=\"chip\"").count(), 9, "a chip per value");
    assert_eq!(dom.matches("class=\"sw dashed\"").count(), 1, "the ninth chip's swatch is dashed");
}

/// On a phone's width, the page does not scroll sideways and every chart
/// fits it (none runs off its right edge, out of a reader's sight).
/// Headless chromium's window is at least 500 px wide, so the page is
/// loaded into a 360 px frame of a page that copies what it measured out.
#[test]
fn on_a_narrow_screen_every_chart_fits_the_page() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    report::write_report(&dir, &ReportOptions::default()).unwrap();
    let frame = dir.join("narrow.html");
    std::fs::write(
        &frame,
        r#"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:360px;height:900px;border:0"></iframe>
<script>
const f = document.getElementById("f");
f.onload = () => {
  const d = f.contentDocument;
  const out = document.createElement("pre");
  out.id = "measured";
  out.dataset.width = d.documentElement.clientWidth;
  out.dataset.scroll = d.documentElement.scrollWidth;
  out.dataset.right = [...d.querySelectorAll(".panel")].map((p) => p.dataset.right).join(",");
  out.dataset.ready = d.getElementById("status").dataset.ready;
  document.body.append(out);
};
</script></body></html>"#,
    )
    .unwrap();
    let mut child = Command::new(&bin)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=5000"])
        // The frame's page is read by its parent: both are files.
        .arg("--allow-file-access-from-files")
        .arg(format!("--user-data-dir={}", tmp.path().join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", frame.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut dom = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut dom).unwrap();
    child.wait().unwrap();
    let get = |k: &str| attr(&dom, "<pre id=\"measured\"", k).unwrap_or_else(|| panic!("no {k} in {dom}"));
    assert_eq!(get("data-ready"), "1");
    let width: f64 = get("data-width").parse().unwrap();
    assert!(width <= 360.0, "the frame is narrow: {width}");
    let scroll: f64 = get("data-scroll").parse().unwrap();
    assert!(scroll <= width, "the page is {scroll} px wide in a {width} px window: it scrolls sideways");
    let right: Vec<f64> = get("data-right").split(',').map(|v| v.parse().unwrap_or(f64::NAN)).collect();
    assert_eq!(right.len(), 2);
    assert!(right.iter().all(|&r| r <= width), "charts end at {right:?} px in a {width} px window");
}
