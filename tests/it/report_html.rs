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
            "--window-size=1280,1000",
        ])
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
