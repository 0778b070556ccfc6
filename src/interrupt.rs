//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `sweep run`.
//!
//! [`Interrupt::install`] starts a thread that waits for these signals and
//! returns the handle holding the one stop flag: `sweep run` passes the flag
//! down (`RunOptions::cancel`, then every job), so nothing about an
//! interrupt lives in a static. On the first signal jobs stop at their next
//! epoch, drop their temporary folders and release their claims, finished
//! jobs stay, and `sweep run` prints what finished and the command that
//! resumes, then exits with 130.
//!
//! Repeated SIGTERM and SIGHUP are one stop request: coreutils `timeout`
//! signals the child and then its process group, tmux and terminals send
//! SIGHUP to every process of the session, so one request often arrives
//! twice. Only a SIGINT after the first request (Ctrl-C pressed again)
//! exits at once with 130; temporary folders it leaves behind are removed
//! by the next run on that folder.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The exit code after an interrupt (128 + SIGINT, as shells report it).
pub const EXIT_CODE: u8 = 130;

/// Prints a line for the user (above the progress bar, when there is one).
pub type Notice = Box<dyn Fn(&str) + Send + Sync>;

const STOPPING: &str = "stopping: running jobs end at their next epoch and are dropped, finished ones are kept \
     (Ctrl-C again quits at once)";

/// The stop flag the signal thread sets, and where its "stopping" line goes.
#[derive(Clone)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    /// Where the first signal's "stopping" line goes; stderr when unset.
    notice: Arc<Mutex<Option<Notice>>>,
}

impl Interrupt {
    /// A handle no signal sets (for library callers and tests).
    pub fn none() -> Interrupt {
        Interrupt { flag: Arc::new(AtomicBool::new(false)), notice: Arc::new(Mutex::new(None)) }
    }

    /// Starts the signal thread (call once per process) and returns the
    /// handle whose flag it sets. Without a handler (the thread could not
    /// start, say) the flag is still returned and signals keep their
    /// default effect.
    pub fn install() -> Interrupt {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let handle = Interrupt::none();
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return handle;
        };
        let (flag, notice) = (Arc::clone(&handle.flag), Arc::clone(&handle.notice));
        // Signals are handled on a thread of their own, so the handler may
        // lock and print (nothing here runs in the signal handler itself).
        let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
            for signal in signals.forever() {
                if !flag.swap(true, Ordering::SeqCst) {
                    match &*notice.lock().unwrap_or_else(|e| e.into_inner()) {
                        Some(notice) => notice(STOPPING),
                        // Not eprintln!: after SIGHUP stderr may be gone.
                        None => drop(writeln!(std::io::stderr(), "{STOPPING}")),
                    }
                } else if signal == SIGINT {
                    let mut err = std::io::stderr().lock();
                    if err.is_terminal() {
                        // Wipe a half-drawn progress bar before leaving.
                        let _ = err.write_all(b"\r\x1b[2K");
                    }
                    let _ = writeln!(err, "interrupted again: exiting now");
                    let _ = err.flush();
                    std::process::exit(i32::from(EXIT_CODE));
                }
                // A repeated SIGTERM or SIGHUP: the same stop request.
            }
        });
        handle
    }

    /// The stop flag, to pass down to the runner.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Whether an interrupt arrived.
    pub fn interrupted(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sets (or, with None, clears) where the "stopping" line goes.
    pub fn set_notice(&self, notice: Option<Notice>) {
        *self.notice.lock().unwrap_or_else(|e| e.into_inner()) = notice;
    }
}
