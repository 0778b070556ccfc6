//! A newcomer's trial of `run`, `plan` and the report: what it found lost
//! or let through, each pinned here.

use std::fs;

use crate::common::{stderr, stdout, sweep, write};

const TINY: &str = "seeds = 1\n[base]\nepochs = 3\n";

/// Repro: `sweep a.toml b.toml --force` with one `name` in both trained a,
/// then replaced a's results with b's, silently. Now refused before any
/// training, naming both manifests, the folder and what to do.
#[test]
fn two_manifests_into_one_results_folder_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "a.toml", &format!("name = \"same\"\n{TINY}"));
    write(cwd, "b.toml", &format!("name = \"same\"\n{}", TINY.replace('3', "4")));
    let out = sweep(cwd).args(["a.toml", "b.toml", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("a.toml")
            && err.contains("b.toml")
            && err.contains("results/same")
            && err.contains("name = ")
            && err.contains("--out")
            && err.contains("nothing was trained"),
        "{err}"
    );
    assert!(!cwd.join("results/same").exists(), "nothing trained");

    // Different names, one folder through a link: compared by real path.
    write(cwd, "c.toml", &format!("name = \"c\"\n{TINY}"));
    write(cwd, "d.toml", &format!("name = \"d\"\n{TINY}"));
    sweep(cwd).args(["c.toml"]).assert().success();
    std::os::unix::fs::symlink("c", cwd.join("results/d")).unwrap();
    let before = fs::read(cwd.join("results/c/jobs/seed-0/curve.csv")).unwrap();
    let out = sweep(cwd).args(["c.toml", "d.toml", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("c.toml") && stderr(&out).contains("d.toml"), "{}", stderr(&out));
    assert_eq!(fs::read(cwd.join("results/c/jobs/seed-0/curve.csv")).unwrap(), before);
    // Two names, two folders: both run.
    fs::remove_file(cwd.join("results/d")).unwrap();
    sweep(cwd).args(["c.toml", "d.toml"]).assert().success();
}

/// Markup in every string a user controls, in the report's page and SVGs.
const NASTY: &str = "<script>&'\"]]></script><!--";

/// TOML basic string of `s`.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Repro: the manifest's `description` went into report.html as raw HTML
/// (a `<script>` in it ran). Now the description, the name, the data set
/// paths (swept: in ids, tables, panel titles, legends), the label and
/// feature column names and the class labels all carry markup, and neither
/// the page nor any figure holds a tag, comment or `]]>` of theirs.
#[test]
fn markup_in_every_user_string_stays_text_in_the_page_and_the_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut csv =
        format!("{},{},{}\n", q(&format!("f1{NASTY}")), q(&format!("f2{NASTY}")), q(&format!("lab{NASTY}")));
    for i in 0..40 {
        let class = if i % 2 == 0 { format!("a{NASTY}") } else { format!("b{NASTY}") };
        csv.push_str(&format!(
            "{},{},{}\n",
            (i % 2) as f64 + (i as f64) / 400.0,
            (i * 7 % 10) as f64 / 10.0,
            q(&class)
        ));
    }
    let nasty_path = format!("d{NASTY}.csv"); // a folder `d<script>&'"]]><`, then a file
    write(cwd, &nasty_path, &csv);
    write(cwd, "plain.csv", &csv);
    let name = NASTY.replace('/', "");
    let manifest = format!(
        "name = {}\ndescription = {}\nseeds = 1\n[base]\nepochs = 5\ntest_fraction = 0.25\nlabel_column = {}\n\
         [grid]\ndataset = [{}, \"plain.csv\"]\nlr = [0.1, 0.01]\n",
        toml_str(&format!("n{name}")),
        toml_str(&format!("desc {NASTY} **bold** [x](javascript:alert(1))")),
        toml_str(&format!("lab{NASTY}")),
        toml_str(&nasty_path)
    );
    write(cwd, "m.toml", &manifest);
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    sweep(cwd).args(["report", "R"]).assert().success();

    let page = fs::read_to_string(cwd.join("R/report.html")).unwrap();
    let plain =
        fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/lr/report.html"))
            .unwrap();
    // The page's data (JSON in a script element) holds the strings as they
    // are: neither `</` nor `<!` can end or escape its element there.
    let without_data = |page: &str| {
        let open = "<script id=\"data\" type=\"application/json\">";
        let (head, rest) = page.split_once(open).unwrap();
        let (data, tail) = rest.split_once("</script>").unwrap();
        (data.to_string(), format!("{head}{tail}"))
    };
    let (data, page_rest) = without_data(&page);
    assert!(data.contains("<script>") && !data.contains("</") && !data.contains("<!"), "{data}");
    let (_, plain_rest) = without_data(&plain);
    for tag in ["<script", "</script", "<!--", "]]>", "javascript:"] {
        assert_eq!(
            page_rest.matches(tag).count(),
            plain_rest.matches(tag).count(),
            "{tag} from the study in the page"
        );
    }
    assert!(page.contains("<strong>bold</strong>"), "the description is still Markdown");
    assert!(page.contains("desc &lt;script&gt;&amp;'"), "the description is shown as text");

    let mut figures = 0;
    for e in fs::read_dir(cwd.join("R/figures")).unwrap() {
        let path = e.unwrap().path();
        let svg = fs::read_to_string(&path).unwrap();
        figures += 1;
        for tag in ["<script", "</script", "<!--", "]]>", "'\"]]"] {
            assert!(!svg.contains(tag), "{tag} in {}", path.display());
        }
        for (at, _) in svg.match_indices('&') {
            let entity =
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"].iter().any(|e| svg[at..].starts_with(e));
            assert!(entity, "a bare & in {}: {}", path.display(), &svg[at..(at + 20).min(svg.len())]);
        }
    }
    assert!(figures >= 3, "{figures} figures");
}

/// Repro: `--threads 100000` on a 6-job plan started 9,000+ threads and hung
/// for minutes. Now an absurd count is refused (from --threads or
/// RAYON_NUM_THREADS, for run and verify), and a run starts no more workers
/// than it has jobs (the closing line says how many).
#[test]
fn absurd_thread_counts_are_refused_and_workers_never_outnumber_the_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 2\n[base]\nepochs = 3\n");
    let out = sweep(cwd).args(["m.toml", "--out", "R", "--threads", "100000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("--threads 100000") && stderr(&out).contains("at most"),
        "{}",
        stderr(&out)
    );
    assert!(!cwd.join("R").exists(), "nothing written");
    let out = sweep(cwd).args(["m.toml", "--out", "R"]).env("RAYON_NUM_THREADS", "100000").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("RAYON_NUM_THREADS=100000"), "{}", stderr(&out));

    let out = sweep(cwd).args(["m.toml", "--out", "R", "--threads", "16"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 threads)"), "{}", stdout(&out));
    let out = sweep(cwd).args(["verify", "R"]).env("RAYON_NUM_THREADS", "100000").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    sweep(cwd).args(["verify", "R", "--threads", "16"]).assert().success();
}

/// Repro: `sweep plan sp.toml --set epochs=4000000000000000000` panicked
/// ("attempt to add with overflow", exit 101), and so did `run --yes`
/// (its job-epochs count). Now every path refuses the plan, exit 2.
#[test]
fn job_epochs_beyond_what_sweep_can_count_are_refused_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "sp.toml", "seeds = 10\n[base]\nepochs = 3\n");
    let huge = ["--set", "epochs=4000000000000000000", "--set", "log_every=4000000000000000000"];
    let runs: [&[&str]; 5] = [
        &["plan", "sp.toml"],
        &["plan", "sp.toml", "--format", "csv"],
        &["plan", "sp.toml", "--format", "json"],
        &["run", "sp.toml", "--out", "R", "--yes"],
        &["sp.toml", "--out", "R"],
    ];
    for args in runs {
        let out = sweep(cwd).args(args).args(huge).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("sp.toml") && err.contains("job-epochs") && err.contains("fewer epochs"),
            "{err}"
        );
    }
    assert!(!cwd.join("R").exists(), "nothing written");
    // One job of that many epochs can be counted: planned as before.
    let out = sweep(cwd).args(["plan", "sp.toml", "--set", "seeds=1"]).args(huge).output().unwrap();
    assert!(
        out.status.success() && stdout(&out).contains("1 jobs, 4000000000000000000 job-epochs"),
        "{}",
        stderr(&out)
    );
}

/// Repro: `lr` in [base] and in [grid]: the base value was dropped without
/// a word (while `--set lr=..` on an axis is refused). Now an error naming
/// both lines, exit 2, for `plan` and `run` alike, and for `--set grid.lr`
/// over a base `lr`.
#[test]
fn a_key_in_base_and_on_an_axis_is_an_error_naming_both_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 1\n[base]\nepochs = 3\nlr = 0.5\n[grid]\nlr = [0.1, 0.01]\n");
    for command in [&["plan", "m.toml"][..], &["m.toml", "--out", "R"]] {
        let out = sweep(cwd).args(command).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("m.toml:6:1") && err.contains("m.toml:4:1") && err.contains("[base]"), "{err}");
    }
    // The advice names what works: removing the axis, or sweeping from the
    // command line (not "add its value to the axis", which stays refused).
    let out = sweep(cwd).args(["plan", "m.toml"]).output().unwrap();
    assert!(stderr(&out).contains("--set grid.lr=[..]") && !stderr(&out).contains("add its value"));
}

/// The second trial: `--set grid.epochs=[3,4]` on a manifest with `epochs`
/// in [base] was refused, with advice no command line can follow. The
/// command line's axis now replaces the base value, as `--set epochs=..`
/// replaces it (Hydra's multirun overrides a config value the same way).
#[test]
fn an_axis_set_on_the_command_line_replaces_the_base_value() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "n.toml", "seeds = 1\n[base]\nepochs = 3\nlr = 0.5\n");
    for section in ["grid", "zip"] {
        let set = format!("{section}.epochs=[3, 4]");
        let out = sweep(cwd).args(["plan", "n.toml", "--set", &set, "--format", "csv"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 3, "two jobs: {text}");
        assert!(text.contains("epochs-3_seed-0") && text.contains("epochs-4_seed-0"), "{text}");
    }
    sweep(cwd).args(["run", "n.toml", "--set", "grid.epochs=[3, 4]", "--out", "R", "-q"]).assert().success();
    let stored = fs::read_to_string(cwd.join("R/manifest.toml")).unwrap();
    assert!(stored.contains("[grid]\nepochs = [3, 4]") && !stored.contains("epochs = 3\n"), "{stored}");
}

/// Repro: an [[include]] identical to a grid job was dropped silently,
/// while a value listed twice on an axis is a warning. Now it is warned
/// about the same way, naming the include and the job.
#[test]
fn an_include_that_repeats_a_planned_job_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(
        cwd,
        "m.toml",
        "seeds = 2\n[base]\nepochs = 3\n[grid]\nlr = [0.1, 0.01]\n[[include]]\nlr = 0.1\n[[include]]\nlr = 0.5\n\
         [[include]]\nlr = 0.5\n",
    );
    let out = sweep(cwd).args(["plan", "m.toml", "--format", "csv"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: m.toml:6:1: this [[include]] is a job the axes already make (`lr-0.1`)"),
        "{err}"
    );
    assert!(err.contains("warning: m.toml:10:1: this [[include]] is the [[include]] at m.toml:8:1"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 1 + 3 * 2, "{}", stdout(&out));
}

/// Repro: `--shard 1/2 --shard-count 3` ran shard 1/2 and ignored
/// --shard-count. Conflicting options are refused.
#[test]
fn shard_count_beside_a_shard_it_does_not_apply_to_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", TINY);
    for (extra, env) in [
        (&["--shard", "1/2", "--shard-count", "3"][..], None),
        (&["--shard-count", "3"][..], None),
        (&["--shard", "auto", "--shard-count", "3"][..], Some(("SLURM_ARRAY_TASK_ID", "0"))),
    ] {
        let mut cmd = sweep(cwd);
        cmd.args(["m.toml", "--out", "R"]).args(extra);
        if let Some((k, v)) = env {
            cmd.env(k, v).env("SLURM_ARRAY_TASK_COUNT", "2");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stdout(&out));
        assert!(stderr(&out).contains("--shard-count 3"), "{}", stderr(&out));
    }
    assert!(!cwd.join("R").exists());
}

/// Repro: ids over 100 bytes were cut at 100, losing the seed and every
/// later axis (each read `feature~columns-a~very~long...~<hash>`). Now the
/// long value is shortened: every axis name, its value's start and end,
/// the seed and the hash stay.
#[test]
fn long_job_ids_keep_every_axis_name_and_the_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let cols: Vec<String> = (0..30).map(|i| format!("\"a_very_long_column_name_{i}\"")).collect();
    write(
        cwd,
        "m.toml",
        &format!(
            "seeds = [0, 12]\n[base]\nepochs = 3\n[grid]\nfeature_columns = [[{}]]\nlr = [0.1, 0.01]\n",
            cols.join(", ")
        ),
    );
    // feature_columns needs a CSV data set.
    let header: Vec<String> = (0..30).map(|i| format!("a_very_long_column_name_{i}")).collect();
    let mut csv = format!("{},label\n", header.join(","));
    for r in 0..4 {
        csv.push_str(&format!("{},{}\n", vec![format!("{r}"); 30].join(","), r % 2));
    }
    write(cwd, "d.csv", &csv);
    let text =
        fs::read_to_string(cwd.join("m.toml")).unwrap().replace("[base]\n", "[base]\ndataset = \"d.csv\"\n");
    write(cwd, "m.toml", &text);
    let out = sweep(cwd).args(["plan", "m.toml", "--format", "csv"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> =
        stdout(&out).lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect();
    assert_eq!(ids.len(), 4);
    for (id, (lr, seed)) in ids.iter().zip([("0.1", 0), ("0.1", 12), ("0.01", 0), ("0.01", 12)]) {
        assert!(id.len() <= 100, "{id}");
        assert!(id.starts_with("feature~columns-a~very~long~column~name~0"), "{id}");
        assert!(id.contains("name~29_lr-") && id.contains(&format!("_lr-{lr}_seed-{seed}~")), "{id}");
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 4);
}

/// Repro: `run --out R/jobs/nested` (or `R/.sweep/tmp/x`, `R/figures/x`,
/// or any folder inside R) trained into another study's results folder,
/// although report/export --out refuse those places. Refused, exit 2.
#[test]
fn a_run_folder_inside_another_results_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", TINY);
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    sweep(cwd).args(["report", "R"]).assert().success();
    let before = crate::common::snapshot(&cwd.join("R"));
    for inside in ["R/jobs/nested", "R/.sweep/tmp/x", "R/figures/x", "R/mine", "R/jobs/seed-0/deeper/x"] {
        let out = sweep(cwd).args(["m.toml", "--out", inside]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{inside}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("inside the results folder") && err.contains("outside any results folder"),
            "{err}"
        );
    }
    assert_eq!(crate::common::snapshot(&cwd.join("R")), before, "nothing written in R");
    // Beside it is fine, and R itself resumes.
    sweep(cwd).args(["m.toml", "--out", "R2"]).assert().success();
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
}

const WINE_STUDY: &str = "seeds = 2\n[base]\ndataset = \"../wines.csv\"\nlabel_column = \"species\"\n\
                          output_activation = \"softmax\"\nloss = \"ce\"\nepochs = 5\n[grid]\nlr = [0.1, 0.01]\n";

fn wine_study(cwd: &std::path::Path) {
    let iris =
        fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv")).unwrap();
    write(cwd, "wines.csv", &iris);
    write(cwd, "exp/m.toml", WINE_STUDY);
    sweep(cwd).args(["exp/m.toml", "--out", "R"]).assert().success();
}

/// Repro: readers suggest `sweep run R/manifest.toml --out R`, which failed
/// for any CSV study (`R/../wines.csv: cannot read the file`): the stored
/// manifest's paths are the original manifest's. A results folder's
/// manifest.toml now reads its files where the study ran, so the
/// suggestion works: nothing retrained, nothing changed.
#[test]
fn a_results_folders_own_manifest_runs_with_its_data_where_the_study_ran() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    wine_study(cwd);
    let before = crate::common::snapshot(&cwd.join("R/jobs"));
    let out = sweep(cwd).args(["run", "R/manifest.toml", "--out", "R"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 jobs run, 4 skipped"), "{}", stdout(&out));
    assert_eq!(crate::common::snapshot(&cwd.join("R/jobs")), before);
    let out = sweep(cwd).args(["plan", "R/manifest.toml"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Repro: `verify` on a results folder copied elsewhere (its data file not
/// where the jobs read it) printed `FAILED retraining ... cannot read the
/// file` and counted the jobs as differing. They are counted as not
/// checked, with the reason, exit 1.
#[test]
fn verify_counts_jobs_whose_data_cannot_be_read_as_not_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    wine_study(cwd);
    fs::rename(cwd.join("wines.csv"), cwd.join("moved.csv")).unwrap();
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("verified 4 jobs: 0 identical, 0 differ, 4 not checked"), "{text}");
    assert!(text.contains("NOT CHECKED: cannot read") && text.contains("wines.csv"), "{text}");
    assert!(!text.contains("FAILED"), "{text}");
    // Said once for the 4 jobs the file leaves unchecked, not once a job.
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("NOT CHECKED")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains(": 4 jobs, e.g. jobs/") && lines[0].contains("and 1 more"), "{text}");
}
