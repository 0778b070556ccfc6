//! Progress display: consumes runner events and draws an indicatif bar on a
//! terminal (jobs done/total, job-epochs per second, ETA). Silent when
//! stderr is not a terminal or with `--quiet`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::interrupt::Interrupt;
use crate::runner::Event;

pub struct Progress {
    bar: Option<ProgressBar>,
    interrupt: Interrupt,
    jobs: AtomicUsize,
    total: AtomicUsize,
}

impl Progress {
    /// A display for one run; `interrupt`'s "stopping" line goes above it.
    pub fn new(quiet: bool, interrupt: &Interrupt) -> Progress {
        let show = !quiet && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let target = ProgressDrawTarget::term_like_with_hz(Box::new(Stderr::new()), 20);
            let bar = ProgressBar::with_draw_target(Some(0), target);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{bar:30}] {msg} | {per_sec} job-epochs | ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        // Ctrl-C is answered at once, above the bar, while jobs finish their epoch.
        let notice_bar = bar.clone();
        interrupt.set_notice(Some(Box::new(move |line| match &notice_bar {
            Some(bar) => bar.println(line),
            None => drop(writeln!(std::io::stderr(), "{line}")),
        })));
        Progress { bar, interrupt: interrupt.clone(), jobs: AtomicUsize::new(0), total: AtomicUsize::new(0) }
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
            Event::Failed { error, .. } => self.say(&format!("error: {error}")),
            Event::Skipped { epochs, .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(*epochs);
                }
            }
            Event::Waiting { jobs, owner } => self.say(&format!(
                "waiting for {jobs} job(s) that another sweep process ({owner}) is training in this \
                 results folder; any it does not finish are trained here"
            )),
        }
    }

    /// A line above the bar (or on stderr without one).
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        self.interrupt.set_notice(None);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Standard error for the bar, with one change. indicatif pads each line
/// with spaces to the terminal's full width, leaving the cursor past the last
/// column, so that the next write wraps to the next line. But a Ctrl-C typed
/// there makes the terminal echo `^C`, which wraps too: the bar's final clear
/// then wiped the `^C` line and left the bar on screen. Here the padding
/// stops two columns short and clears to the end of the line instead, and
/// the newline the wrap would have made is written before the next text, so
/// `^C` lands on the bar's line and is cleared with it.
#[derive(Debug)]
struct Stderr {
    term: console::Term,
    state: std::sync::Mutex<Cursor>,
}

#[derive(Debug, Default)]
struct Cursor {
    /// The last write was a line's text (padding may follow).
    after_text: bool,
    /// A line was padded: the terminal would wrap before the next text.
    wrap: bool,
}

impl Stderr {
    fn new() -> Stderr {
        Stderr { term: console::Term::stderr(), state: std::sync::Mutex::new(Cursor::default()) }
    }

    fn cursor(&self) -> std::sync::MutexGuard<'_, Cursor> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets a pending wrap (the cursor moved or a newline absorbs it).
    fn moved(&self) {
        *self.cursor() = Cursor::default();
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        self.term.size().1
    }

    fn height(&self) -> u16 {
        self.term.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.moved();
        self.term.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.moved();
        self.term.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.moved();
        self.term.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.moved();
        self.term.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        let wrap = std::mem::take(&mut *self.cursor()).wrap;
        if wrap && !s.is_empty() {
            self.term.write_str("\n")?;
        }
        self.term.write_line(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let mut c = self.cursor();
        if c.after_text && !s.is_empty() && s.bytes().all(|b| b == b' ') {
            *c = Cursor { after_text: false, wrap: true };
            self.term.write_str(&s[..s.len().saturating_sub(2)])?;
            return self.term.write_str("\x1b[K");
        }
        if c.wrap && !s.is_empty() && !s.starts_with('\n') {
            self.term.write_str("\n")?;
        }
        *c = Cursor { after_text: !s.is_empty(), wrap: c.wrap && s.is_empty() };
        self.term.write_str(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.moved();
        self.term.clear_line()
    }

    fn flush(&self) -> std::io::Result<()> {
        self.term.flush()
    }
}
