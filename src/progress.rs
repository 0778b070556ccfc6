//! Progress display: consumes runner events and draws an indicatif bar on a
//! terminal (jobs done/total, job-epochs per second, ETA). Silent when
//! stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::Event;

pub struct Progress {
    bar: Option<ProgressBar>,
    jobs: AtomicUsize,
    total: AtomicUsize,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let show = !quiet && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{bar:30}] {msg} | {per_sec} job-epochs | ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        Progress { bar, jobs: AtomicUsize::new(0), total: AtomicUsize::new(0) }
    }

    /// Handles one runner event.
    pub fn event(&self, e: &Event) {
        match e {
            Event::Planned { to_run, job_epochs, .. } => {
                self.total.store(*to_run, Ordering::Relaxed);
                if let Some(bar) = &self.bar {
                    bar.set_length(*job_epochs);
                    bar.set_message(format!("0/{to_run} jobs"));
                }
            }
            Event::Finished { epochs, .. } => {
                let done = self.jobs.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(bar) = &self.bar {
                    bar.inc(*epochs);
                    bar.set_message(format!("{done}/{} jobs", self.total.load(Ordering::Relaxed)));
                }
            }
            Event::Failed { error, .. } => match &self.bar {
                Some(bar) => bar.println(format!("error: {error}")),
                None => eprintln!("error: {error}"),
            },
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
