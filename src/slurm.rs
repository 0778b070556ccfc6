//! `sweep slurm`: a plan as a Slurm job array. Owns the text of the two sbatch
//! scripts (the array of `sweep run --shard auto` tasks, and the finishing job
//! that runs `sweep summarize` and `sweep report` once every task succeeded),
//! their quoting, where they and their logs live in the results folder, and
//! the calls to `sbatch --parsable`. Loading and validating the plan is the
//! caller's (`commands::slurm`), exactly as for `sweep run`.
//!
//! No scheduler of our own: Slurm runs the tasks; each task trains the jobs
//! whose plan index is congruent to its task index, so the array covers the
//! plan exactly once, and a rerun skips finished jobs (resume).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use crate::store::layout::SLURM_SCRIPTS as SCRIPTS_DIR;
/// The job array: one `sweep run --shard auto` per task.
pub const ARRAY_SCRIPT: &str = "array.sbatch";
/// The finishing job: `sweep summarize`, then `sweep report`.
pub const FINISH_SCRIPT: &str = "finish.sbatch";
/// `--tasks` defaults to the number of jobs, capped here: enough tasks to
/// fill a few nodes, few enough to stay far below the usual array and
/// per-user job limits (MaxArraySize defaults to 1001) and to keep the
/// per-task start-up (a process, the plan, the resume check) negligible.
pub const DEFAULT_MAX_TASKS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The results folder could not be made sweep's own (refused, or I/O).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(
        "Slurm's `sbatch` was not found on PATH: run this on a Slurm login node \
         (or load Slurm's module), or use --print to see the scripts without submitting them"
    )]
    NoSbatch,
    #[error("{what} `{value}` cannot go into an sbatch script: {why}")]
    Unscriptable { what: &'static str, value: String, why: &'static str },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run sbatch: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`sbatch {}` failed ({status}): {stderr}", script.display())]
    Sbatch { script: PathBuf, status: String, stderr: String },
    #[error("`sbatch --parsable` printed `{0}`, not a job id")]
    BadJobId(String),
    #[error(
        "array job {array} was submitted but its finishing job was not ({source}); submit it with \
         `sbatch {}`, or cancel the array with `scancel {array}`",
        shell_quote(&script.to_string_lossy())
    )]
    FinishNotSubmitted {
        array: String,
        script: PathBuf,
        #[source]
        source: Box<SlurmError>,
    },
}

/// Everything the scripts say, as given; [`SlurmJob::new`] validates it.
#[derive(Debug, Clone)]
pub struct SlurmSettings {
    /// The plan's name; the Slurm job names are `sweep-<name>` and `sweep-<name>-finish`.
    pub name: String,
    /// The `sweep` binary the tasks run (absolute; every node must see it).
    pub sweep: PathBuf,
    /// The manifest (absolute).
    pub manifest: PathBuf,
    /// The results folder (absolute; on a filesystem every node shares).
    pub out: PathBuf,
    /// `--set KEY=VALUE` overrides, passed on to every task unchanged.
    pub sets: Vec<String>,
    /// Array tasks (>= 1).
    pub tasks: usize,
    /// CPUs per task; each task trains with that many threads.
    pub cpus_per_task: usize,
    pub partition: Option<String>,
    /// Time limit of each task (and of the finishing job), in Slurm's format.
    pub time: Option<String>,
    /// Pass `--yes` on (a plan over 100,000 jobs).
    pub yes: bool,
}

/// Settings that fit in an sbatch script: absolute paths, no line break in
/// a `#SBATCH` line. Only [`SlurmJob::new`] makes one.
#[derive(Debug, Clone)]
pub struct SlurmJob(SlurmSettings);

impl std::ops::Deref for SlurmJob {
    type Target = SlurmSettings;
    fn deref(&self) -> &SlurmSettings {
        &self.0
    }
}

/// The ids `sbatch --parsable` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub array: String,
    pub finish: String,
}

impl SlurmJob {
    /// Checks what an sbatch script cannot hold: relative paths, newlines in
    /// `#SBATCH` values, and a backslash in the results folder (Slurm then
    /// stops expanding `%A_%a` in the log names and drops the backslash, so
    /// the logs could not be written).
    pub fn new(job: SlurmSettings) -> Result<SlurmJob, SlurmError> {
        let bad = |what, value: &str, why| Err(SlurmError::Unscriptable { what, value: value.into(), why });
        for (what, path) in
            [("the sweep binary", &job.sweep), ("the manifest", &job.manifest), ("--out", &job.out)]
        {
            if !path.is_absolute() {
                return bad(what, &path.to_string_lossy(), "the path must be absolute");
            }
        }
        let out = job.out.to_string_lossy();
        if out.contains(['\n', '\r']) {
            return bad("--out", &out, "it holds a line break");
        }
        if out.contains('\\') {
            return bad("--out", &out, "Slurm reads a backslash in a log path as `do not expand %A`");
        }
        for (what, value) in [("--partition", &job.partition), ("--time", &job.time)] {
            if let Some(v) = value
                && (v.is_empty() || v.contains(['\n', '\r']))
            {
                return bad(what, v, "it is empty or holds a line break");
            }
        }
        if job.tasks == 0 || job.cpus_per_task == 0 {
            return bad("--tasks/--cpus-per-task", "0", "it must be at least 1");
        }
        Ok(SlurmJob(job))
    }

    /// `<out>/slurm`: the scripts and the logs.
    pub fn scripts_dir(&self) -> PathBuf {
        self.out.join(SCRIPTS_DIR)
    }

    pub fn array_path(&self) -> PathBuf {
        self.scripts_dir().join(ARRAY_SCRIPT)
    }

    pub fn finish_path(&self) -> PathBuf {
        self.scripts_dir().join(FINISH_SCRIPT)
    }

    fn job_name(&self) -> String {
        let safe: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
            .collect();
        format!("sweep-{safe}")
    }

    /// `#SBATCH` lines shared by both scripts; `log` is the log's file name
    /// pattern inside `<out>/slurm`.
    fn directives(&self, name: &str, log: &str, cpus: usize) -> String {
        let mut lines = vec![
            ("job-name", name.to_string()),
            ("cpus-per-task", cpus.to_string()),
            ("chdir", self.out.to_string_lossy().into_owned()),
            // `%` would start a Slurm file-name pattern: `%%` is a literal one.
            ("output", format!("{}/{log}", self.scripts_dir().to_string_lossy().replace('%', "%%"))),
        ];
        if let Some(p) = &self.partition {
            lines.push(("partition", p.clone()));
        }
        if let Some(t) = &self.time {
            lines.push(("time", t.clone()));
        }
        lines.iter().map(|(k, v)| format!("#SBATCH --{k}={}\n", sbatch_quote(v))).collect()
    }

    /// The job array: task i runs `sweep run --shard auto`, which reads
    /// SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT and trains the jobs
    /// whose plan index is i mod N.
    pub fn array_script(&self) -> String {
        let mut cmd = vec![
            self.sweep.to_string_lossy().into_owned(),
            "run".into(),
            self.manifest.to_string_lossy().into_owned(),
            "--shard".into(),
            "auto".into(),
            "--out".into(),
            self.out.to_string_lossy().into_owned(),
            "--threads".into(),
            self.cpus_per_task.to_string(),
            "--quiet".into(),
        ];
        for s in &self.sets {
            cmd.extend(["--set".to_string(), s.clone()]);
        }
        if self.yes {
            cmd.push("--yes".into());
        }
        format!(
            "#!/bin/bash\n\
             # Written by `sweep slurm` for {manifest}.\n\
             # A job array of {n} tasks: task i trains the plan's jobs whose index is i mod {n}\n\
             # (`--shard auto` reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT), all into\n\
             # one results folder, which every node must see (a shared filesystem).\n\
             # Finished jobs are skipped, so resubmitting this script resumes the sweep.\n\
             {directives}\
             #SBATCH --array=0-{last}\n\
             exec {cmd}\n",
            manifest = self.manifest.display(),
            n = self.tasks,
            directives = self.directives(&self.job_name(), "array-%A_%a.out", self.cpus_per_task),
            last = self.tasks - 1,
            cmd = shell_command(&cmd),
        )
    }

    /// The finishing job. `array` is the id of the array job it waits for
    /// (`None` when only printing: the id is not known yet).
    pub fn finish_script(&self, array: Option<&str>) -> String {
        let dependency = match array {
            Some(id) => format!(
                "#SBATCH --dependency=afterok:{id}\n\
                 # If a task fails, Slurm cancels this job instead of leaving it pending forever.\n\
                 #SBATCH --kill-on-invalid-dep=yes\n"
            ),
            None => "# Submit it with --dependency=afterok:<the array's job id>.\n\
                     #SBATCH --kill-on-invalid-dep=yes\n"
                .to_string(),
        };
        let out = self.out.to_string_lossy().into_owned();
        let sweep = self.sweep.to_string_lossy().into_owned();
        format!(
            "#!/bin/bash\n\
             # Written by `sweep slurm` for {manifest}.\n\
             # Runs once every task of the job array succeeded: rebuilds summary.csv from the\n\
             # job folders, then writes report.md and the figures.\n\
             {directives}\
             {dependency}\
             set -e\n\
             {summarize}\n\
             {report}\n",
            manifest = self.manifest.display(),
            directives = self.directives(&format!("{}-finish", self.job_name()), "finish-%j.out", 1),
            summarize = shell_command(&[sweep.clone(), "summarize".into(), out.clone()]),
            report = shell_command(&[sweep, "report".into(), out]),
        )
    }

    /// What `--print` shows: both scripts and how to submit them by hand.
    pub fn print_text(&self) -> String {
        let (array, finish) = (self.array_path(), self.finish_path());
        format!(
            "# ---- {} (not written: --print)\n{}\n# ---- {} (not written: --print)\n{}\n\
             # ---- submit by hand:\n\
             # array=$(sbatch --parsable {})\n\
             # sbatch --dependency=afterok:${{array%%;*}} {}\n",
            array.display(),
            self.array_script(),
            finish.display(),
            self.finish_script(None),
            shell_quote(&array.to_string_lossy()),
            shell_quote(&finish.to_string_lossy()),
        )
    }
}

/// Writes both scripts into `<out>/slurm` and submits them: the array, then
/// the finishing job depending on it. Looks for `sbatch` first, so nothing is
/// written where Slurm is missing.
pub fn submit(job: &SlurmJob) -> Result<Submitted, SlurmError> {
    let sbatch = find_on_path("sbatch").ok_or(SlurmError::NoSbatch)?;
    // The scripts and logs go into the results folder: make it sweep's own
    // first (marker), or the array tasks would refuse a folder of files
    // that are not a results folder's.
    crate::store::ResultsDir::new(&job.out).create()?;
    let dir = job.scripts_dir();
    std::fs::create_dir_all(&dir).map_err(|source| SlurmError::Write { path: dir.clone(), source })?;
    let array_path = job.array_path();
    write_script(&array_path, &job.array_script())?;
    let array = sbatch_parsable(&sbatch, &array_path)?;
    let finish_path = job.finish_path();
    let finish = write_script(&finish_path, &job.finish_script(Some(&array)))
        .and_then(|()| sbatch_parsable(&sbatch, &finish_path))
        .map_err(|e| SlurmError::FinishNotSubmitted {
            array: array.clone(),
            script: finish_path.clone(),
            source: Box::new(e),
        })?;
    Ok(Submitted { array, finish })
}

fn write_script(path: &Path, text: &str) -> Result<(), SlurmError> {
    std::fs::write(path, text).map_err(|source| SlurmError::Write { path: path.to_path_buf(), source })
}

/// `sbatch --parsable SCRIPT` -> the job id.
fn sbatch_parsable(sbatch: &Path, script: &Path) -> Result<String, SlurmError> {
    let out = Command::new(sbatch).arg("--parsable").arg(script).output().map_err(SlurmError::Spawn)?;
    if !out.status.success() {
        return Err(SlurmError::Sbatch {
            script: script.to_path_buf(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    parse_job_id(&String::from_utf8_lossy(&out.stdout))
}

/// `--parsable` prints `jobid` or `jobid;cluster`.
pub fn parse_job_id(stdout: &str) -> Result<String, SlurmError> {
    let id = stdout.trim().split(';').next().unwrap_or("").trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlurmError::BadJobId(stdout.trim().to_string()));
    }
    Ok(id.to_string())
}

/// The first executable `name` in a directory of PATH.
fn find_on_path(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name.as_ref()))
        .find(|p| p.is_file() && p.metadata().is_ok_and(|m| m.permissions().mode() & 0o111 != 0))
}

/// A word for a POSIX shell: as is when it holds only safe characters, else
/// in single quotes (a `'` becomes `'\''`).
pub fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn shell_command(words: &[String]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

/// A value of a `#SBATCH --key=value` line. sbatch's own parser (not a
/// shell) reads these: double quotes group, a backslash escapes the next
/// character, and an unquoted `#` starts a comment.
pub fn sbatch_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SlurmSettings {
        SlurmSettings {
            name: "lr study".into(),
            sweep: "/opt/my tools/sweep".into(),
            manifest: "/home/ana/sweeps/it's lr.toml".into(),
            out: "/scratch/ana/results/lr 50%".into(),
            sets: vec!["epochs=500".into(), "grid.lr=[0.1, 0.01]".into()],
            tasks: 3,
            cpus_per_task: 2,
            partition: Some("short".into()),
            time: Some("0:30:00".into()),
            yes: false,
        }
    }

    fn job() -> SlurmJob {
        SlurmJob::new(settings()).unwrap()
    }

    /// The single line of `text` starting with `prefix`.
    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        let found: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
        assert_eq!(found.len(), 1, "one line starting with {prefix:?} in\n{text}");
        found[0]
    }

    #[test]
    fn the_array_task_runs_this_sweep_on_its_shard_with_every_path_quoted() {
        let text = job().array_script();
        assert!(text.starts_with("#!/bin/bash\n"));
        assert_eq!(
            line(&text, "exec "),
            "exec '/opt/my tools/sweep' run '/home/ana/sweeps/it'\\''s lr.toml' --shard auto \
             --out '/scratch/ana/results/lr 50%' --threads 2 --quiet --set epochs=500 \
             --set 'grid.lr=[0.1, 0.01]'"
        );
        assert_eq!(line(&text, "#SBATCH --array"), "#SBATCH --array=0-2");
        assert_eq!(line(&text, "#SBATCH --cpus-per-task"), "#SBATCH --cpus-per-task=2");
        assert_eq!(line(&text, "#SBATCH --job-name"), "#SBATCH --job-name=sweep-lr_study");
        assert_eq!(line(&text, "#SBATCH --partition"), "#SBATCH --partition=short");
        assert_eq!(line(&text, "#SBATCH --time"), "#SBATCH --time=0:30:00");
        assert_eq!(line(&text, "#SBATCH --chdir"), "#SBATCH --chdir=\"/scratch/ana/results/lr 50%\"");
        // One log per task; a literal `%` in the folder is doubled.
        assert_eq!(
            line(&text, "#SBATCH --output"),
            "#SBATCH --output=\"/scratch/ana/results/lr 50%%/slurm/array-%A_%a.out\""
        );
        // sbatch stops reading directives at the first command.
        let exec_at = text.find("\nexec ").unwrap();
        assert!(text.rfind("#SBATCH").unwrap() < exec_at);
    }

    #[test]
    fn the_finishing_job_waits_for_the_whole_array_to_succeed() {
        let text = job().finish_script(Some("4242"));
        assert_eq!(line(&text, "#SBATCH --dependency"), "#SBATCH --dependency=afterok:4242");
        assert_eq!(line(&text, "#SBATCH --kill-on-invalid-dep"), "#SBATCH --kill-on-invalid-dep=yes");
        assert_eq!(line(&text, "#SBATCH --cpus-per-task"), "#SBATCH --cpus-per-task=1");
        assert_eq!(line(&text, "#SBATCH --job-name"), "#SBATCH --job-name=sweep-lr_study-finish");
        assert_eq!(
            line(&text, "#SBATCH --output"),
            "#SBATCH --output=\"/scratch/ana/results/lr 50%%/slurm/finish-%j.out\""
        );
        assert!(text.contains(
            "\nset -e\n'/opt/my tools/sweep' summarize '/scratch/ana/results/lr 50%'\n\
             '/opt/my tools/sweep' report '/scratch/ana/results/lr 50%'\n"
        ));
        let printed = job().finish_script(None);
        assert!(!printed.contains("#SBATCH --dependency"), "{printed}");
        assert!(printed.contains("--dependency=afterok:<the array's job id>"));
    }

    #[test]
    fn optional_directives_are_left_out_and_yes_is_passed_on() {
        let j = SlurmJob::new(SlurmSettings {
            partition: None,
            time: None,
            yes: true,
            sets: vec![],
            ..settings()
        })
        .unwrap();
        let text = j.array_script();
        assert!(!text.contains("--partition") && !text.contains("--time"), "{text}");
        assert!(line(&text, "exec ").ends_with("--threads 2 --quiet --yes"));
    }

    #[test]
    fn shell_quoting_survives_a_real_shell() {
        let words =
            ["plain", "two words", "it's", "$HOME", "a\"b", "", "back\\slash", "[0.1, 0.01]", "new\nline"];
        let script = format!("printf '%s\\n' {}", shell_command(&words.map(String::from)));
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        let printed = String::from_utf8(out.stdout).unwrap();
        assert_eq!(printed, words.iter().map(|w| format!("{w}\n")).collect::<String>());
    }

    #[test]
    fn sbatch_values_are_double_quoted_with_backslash_escapes() {
        assert_eq!(sbatch_quote("short"), "short");
        assert_eq!(sbatch_quote("a b"), "\"a b\"");
        assert_eq!(sbatch_quote("say \"hi\" #1"), "\"say \\\"hi\\\" #1\"");
    }

    #[test]
    fn what_an_sbatch_script_cannot_hold_is_refused() {
        let refused = |s: SlurmSettings| SlurmJob::new(s).unwrap_err().to_string();
        assert!(refused(SlurmSettings { out: "results/lr".into(), ..settings() }).contains("absolute"));
        assert!(refused(SlurmSettings { out: "/a\nb".into(), ..settings() }).contains("line break"));
        assert!(refused(SlurmSettings { out: "/a\\b".into(), ..settings() }).contains("backslash"));
        assert!(
            refused(SlurmSettings { time: Some("1\n#SBATCH --x".into()), ..settings() }).contains("--time")
        );
        assert!(refused(SlurmSettings { tasks: 0, ..settings() }).contains("at least 1"));
    }

    #[test]
    fn job_ids_come_from_the_parsable_output() {
        assert_eq!(parse_job_id("1234\n").unwrap(), "1234");
        assert_eq!(parse_job_id("1234;cluster\n").unwrap(), "1234");
        assert!(parse_job_id("").is_err());
        assert!(parse_job_id("Submitted batch job 12").is_err());
    }

    #[test]
    fn printing_shows_both_scripts_and_the_commands_to_submit_them() {
        let text = job().print_text();
        assert!(text.contains("#SBATCH --array=0-2"));
        assert!(text.contains("summarize"));
        assert!(text.contains(
            "# sbatch --dependency=afterok:${array%%;*} '/scratch/ana/results/lr 50%/slurm/finish.sbatch'"
        ));
    }
}
