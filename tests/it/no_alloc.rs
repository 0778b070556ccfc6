//! The epoch loop allocates nothing (STYLE: "buffers live in named structs
//! allocated once per job; the epoch loop allocates nothing").
//!
//! A counting global allocator counts allocations made on the current thread
//! while a thread-local flag is set. Data and the initial network are built
//! outside the counted window; then `train::train` is run for 10 and for 1000
//! epochs. Whatever it allocates up front is the same for both, so the counts
//! must be equal: any per-epoch (or per-batch) allocation makes them differ.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use sweep::data;
use sweep::rng;
use sweep::spec::JobSpec;
use sweep::train::{self, EpochRecord};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the thread under test counts: the harness runs other tests (and
    /// its own bookkeeping) on other threads.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_allocation() {
    // `try_with`: never panic inside the allocator (e.g. during TLS teardown).
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`; counting has no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.load(Ordering::Relaxed) - before, out)
}

fn job(seed: u64, toml_text: &str) -> JobSpec {
    let table: toml::Table = toml::from_str(toml_text).expect("test table parses");
    JobSpec::from_values(seed, &|k| table.get(k).cloned(), Path::new(".")).expect("test job is valid")
}

/// Allocations made by `train::train` for `spec` run for `epochs` epochs, on
/// its data relabelled into `classes` bands along x0 + x1 when `classes` > 2
/// (the built-in sets have two classes).
fn train_allocations(spec: &JobSpec, classes: usize, epochs: usize) -> usize {
    let mut spec = spec.clone();
    spec.train.epochs = epochs;
    let mut split = data::build(&spec.data, spec.seed).expect("data builds");
    if classes > 2 {
        for part in [&mut split.train, &mut split.test] {
            for (y, x) in part.y.iter_mut().zip(part.x.rows()) {
                *y = ((x[0] + x[1]) / 2.0 * classes as f64).floor().min(classes as f64 - 1.0);
            }
        }
        split.classes = (0..classes).map(|c| c.to_string()).collect();
    }
    let mut net =
        train::initial_network(&spec, split.train.x.ncols(), split.n_classes()).expect("network builds");
    let mut shuffle_rng = rng::stream(spec.seed, "shuffle", &[]);
    let mut loss_sum = 0.0;
    let mut records = 0usize;
    let (count, summary) = allocations_during(|| {
        train::train(&spec.train, &mut net, &split, &mut shuffle_rng, &mut |rec: &EpochRecord| {
            loss_sum += rec.loss;
            records += 1;
        })
    });
    assert_eq!(summary.last.epoch, epochs, "the job must not diverge");
    assert!(records >= 2 && loss_sum.is_finite());
    count
}

#[test]
fn the_epoch_loop_allocates_nothing_in_any_configuration() {
    let softmax = "output_activation = \"softmax\"\nloss = \"ce\"\n";
    let configs = [
        ("full batch, sigmoid, [2, 2] (defaults)", 2, String::new()),
        (
            "mini-batch 8, shuffled, adam",
            2,
            "batch_size = 8\nshuffle = true\noptimizer = \"adam\"\nlr = 0.001".into(),
        ),
        (
            "tanh, bias, momentum, l2, test split",
            2,
            "activation = \"tanh\"\nbias = true\noptimizer = \"momentum\"\nl2 = 0.01\ntest_fraction = 0.2"
                .into(),
        ),
        ("lab back-propagation", 2, "backprop = \"lab\"".into()),
        ("softmax + ce, two classes", 2, softmax.into()),
        (
            "softmax + ce, 3 classes, mini-batch 8, adam, test split",
            3,
            format!("{softmax}batch_size = 8\noptimizer = \"adam\"\nlr = 0.001\ntest_fraction = 0.2"),
        ),
        (
            "softmax + mse, 4 classes, bias, mean",
            4,
            "output_activation = \"softmax\"\nbias = true\nreduction = \"mean\"".into(),
        ),
        ("3 sigmoid outputs + bce, l2", 3, "loss = \"bce\"\nl2 = 0.01".into()),
        ("3 sigmoid outputs + mse, lab back-propagation", 3, "backprop = \"lab\"".into()),
    ];
    // Which kernels to run is read once per process (SWEEP_KERNELS), not per job.
    train::Kernels::chosen();
    let mut failures = Vec::new();
    for (name, classes, toml_text) in configs {
        let spec = job(3, &toml_text);
        let short = train_allocations(&spec, classes, 10);
        let long = train_allocations(&spec, classes, 1000);
        if short != long {
            failures.push(format!(
                "{name}: {short} allocations for 10 epochs, {long} for 1000 (~{:.1} per epoch)",
                (long as f64 - short as f64) / 990.0
            ));
        }
    }
    assert!(failures.is_empty(), "the epoch loop allocates:\n  {}", failures.join("\n  "));
}

#[test]
fn the_counter_sees_allocations_on_this_thread() {
    // Guards against a vacuous pass: the allocator really is counting.
    let (count, v) = allocations_during(|| vec![1u8; 64]);
    assert!(count >= 1, "{count}");
    assert_eq!(v.len(), 64);
}
