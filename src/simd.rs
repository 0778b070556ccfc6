//! Eight f64 lanes: the unit of the network kernels' vector work, with one
//! implementation per instruction set the epoch loop is built for.
//!
//! Every operation is lane-wise and every multiply-add fused, so the three
//! implementations compute the same bits; only their speed differs. The
//! compiler's auto-vectoriser was not reliable enough for the tiles (the
//! same loop came out as 512-bit, 128-bit or scalar code depending on its
//! neighbours), so the vector operations are spelled out here. (Nor is
//! `std::array::from_fn` always inlined: the kernels avoid it.)
//!
//! The module is private to the crate: the x86 types run instructions the
//! CPU may lack, and only `train`'s feature checks decide where they run.

/// The builds of the kernels, picked at run time so that one binary runs
/// anywhere. All of them compute the same bits: no sum is reordered, and
/// every multiply-add is fused, in hardware or by libm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernels {
    /// The target's baseline (SSE2 on x86-64: `mul_add` is a libm call).
    Portable,
    /// 256-bit vectors with hardware FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 512-bit vectors, wider tiles.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernels {
    /// The fastest this CPU runs.
    pub fn detect() -> Kernels {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
                return Kernels::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return Kernels::Avx2;
            }
        }
        Kernels::Portable
    }

    /// `detect`, or the build named by `SWEEP_KERNELS` (portable, avx2,
    /// avx512), for benchmarks and for checking a result on another path.
    /// Read once; an unknown or unsupported name falls back to `detect`.
    pub fn chosen() -> Kernels {
        static CHOSEN: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let wanted = std::env::var("SWEEP_KERNELS").unwrap_or_default();
            Kernels::available().into_iter().find(|k| k.name() == wanted).unwrap_or_else(Kernels::detect)
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernels::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kernels::Avx512 => "avx512",
        }
    }

    /// Every build this CPU can run, slowest first.
    pub fn available() -> Vec<Kernels> {
        #[cfg(target_arch = "x86_64")]
        {
            match Kernels::detect() {
                Kernels::Avx512 => vec![Kernels::Portable, Kernels::Avx2, Kernels::Avx512],
                Kernels::Avx2 => vec![Kernels::Portable, Kernels::Avx2],
                Kernels::Portable => vec![Kernels::Portable],
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        vec![Kernels::Portable]
    }
}

/// Work generic over the vector unit, for [`Kernels::run`] to compile once
/// per build.
pub(crate) trait OnLanes {
    type Out;
    fn run<V: Lanes8>(self) -> Self::Out;
}

impl Kernels {
    /// Runs `task` on these kernels, or on the fastest the CPU has if it
    /// lacks them. The one place that turns a feature check into the right
    /// to use `Avx2` or `Avx512`.
    pub(crate) fn run<T: OnLanes>(self, task: T) -> T::Out {
        #[cfg(target_arch = "x86_64")]
        match (self, Kernels::detect()) {
            // SAFETY: the CPU has AVX-512F and FMA (detect).
            (Kernels::Avx512, Kernels::Avx512) => return unsafe { on_avx512(task) },
            // SAFETY: the CPU has AVX2 and FMA (detect).
            (Kernels::Avx512 | Kernels::Avx2, Kernels::Avx512 | Kernels::Avx2) => {
                return unsafe { on_avx2(task) };
            }
            _ => {}
        }
        task.run::<Portable>()
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn on_avx2<T: OnLanes>(task: T) -> T::Out {
    task.run::<Avx2>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn on_avx512<T: OnLanes>(task: T) -> T::Out {
    task.run::<Avx512>()
}

/// Eight f64 lanes.
///
/// # Safety
/// An implementation may use instructions the CPU must support; the kernels
/// are instantiated with it only through [`Kernels::run`], which checked them.
pub unsafe trait Lanes8: Copy {
    /// Registers are plentiful (32 of 512 bits): kernels take larger tiles.
    const WIDE: bool;
    fn zero() -> Self;
    fn splat(x: f64) -> Self;
    fn load(x: &[f64; 8]) -> Self;
    /// `load(&row[at..at + 8])` without the bounds check, for the kernels'
    /// inner loops, which check their whole range once beforehand.
    ///
    /// # Safety
    /// `at + 8 <= row.len()`.
    #[inline(always)]
    unsafe fn load_at(row: &[f64], at: usize) -> Self {
        debug_assert!(at + 8 <= row.len());
        // SAFETY: in bounds by the caller's promise; [f64; 8] has f64's alignment.
        Self::load(unsafe { &*row.as_ptr().add(at).cast::<[f64; 8]>() })
    }
    fn store(self, out: &mut [f64; 8]);
    /// a * b + c, rounded once.
    fn mul_add(a: Self, b: Self, c: Self) -> Self;
    fn add(a: Self, b: Self) -> Self;
    /// The lanes' sum in a fixed tree, `((l0 + l4) + (l2 + l6)) + ((l1 +
    /// l5) + (l3 + l7))`: the natural reduction of one 512-bit or two
    /// 256-bit registers, so every implementation adds in this order.
    #[inline(always)]
    fn sum(self) -> f64 {
        let mut l = [0.0; 8];
        self.store(&mut l);
        let h = [l[0] + l[4], l[1] + l[5], l[2] + l[6], l[3] + l[7]];
        (h[0] + h[2]) + (h[1] + h[3])
    }
}

/// Plain arrays: any CPU (`mul_add` is the FPU's or libm's fused
/// multiply-add, correctly rounded either way).
#[derive(Clone, Copy)]
pub struct Portable([f64; 8]);

// SAFETY: plain Rust, no special instructions.
unsafe impl Lanes8 for Portable {
    const WIDE: bool = false;
    #[inline(always)]
    fn zero() -> Self {
        Portable([0.0; 8])
    }
    #[inline(always)]
    fn splat(x: f64) -> Self {
        Portable([x; 8])
    }
    #[inline(always)]
    fn load(x: &[f64; 8]) -> Self {
        Portable(*x)
    }
    #[inline(always)]
    fn store(self, out: &mut [f64; 8]) {
        *out = self.0;
    }
    #[inline(always)]
    fn mul_add(a: Self, b: Self, mut c: Self) -> Self {
        for ((c, a), b) in c.0.iter_mut().zip(a.0).zip(b.0) {
            *c = a.mul_add(b, *c);
        }
        c
    }
    #[inline(always)]
    fn add(mut a: Self, b: Self) -> Self {
        for (a, b) in a.0.iter_mut().zip(b.0) {
            *a += b;
        }
        a
    }
}

#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes8;
    use std::arch::x86_64::*;

    /// Two 256-bit registers; needs AVX2 and FMA.
    #[derive(Clone, Copy)]
    pub struct Avx2(__m256d, __m256d);

    // SAFETY: instantiated only in `on_avx2`, which runs only after
    // AVX2 and FMA were detected. Loads and stores go through references to
    // eight f64, so they stay in bounds.
    unsafe impl Lanes8 for Avx2 {
        const WIDE: bool = false;
        #[inline(always)]
        fn zero() -> Self {
            unsafe { Avx2(_mm256_setzero_pd(), _mm256_setzero_pd()) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            unsafe { Avx2(_mm256_set1_pd(x), _mm256_set1_pd(x)) }
        }
        #[inline(always)]
        fn load(x: &[f64; 8]) -> Self {
            unsafe { Avx2(_mm256_loadu_pd(x.as_ptr()), _mm256_loadu_pd(x.as_ptr().add(4))) }
        }
        #[inline(always)]
        fn store(self, out: &mut [f64; 8]) {
            unsafe {
                _mm256_storeu_pd(out.as_mut_ptr(), self.0);
                _mm256_storeu_pd(out.as_mut_ptr().add(4), self.1);
            }
        }
        #[inline(always)]
        fn mul_add(a: Self, b: Self, c: Self) -> Self {
            unsafe { Avx2(_mm256_fmadd_pd(a.0, b.0, c.0), _mm256_fmadd_pd(a.1, b.1, c.1)) }
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            unsafe { Avx2(_mm256_add_pd(a.0, b.0), _mm256_add_pd(a.1, b.1)) }
        }
        #[inline(always)]
        fn sum(self) -> f64 {
            unsafe {
                let h = _mm256_add_pd(self.0, self.1); // l_t + l_{t+4}
                let q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1)); // h0+h2, h1+h3
                _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)))
            }
        }
    }

    /// One 512-bit register; needs AVX-512F.
    #[derive(Clone, Copy)]
    pub struct Avx512(__m512d);

    // SAFETY: instantiated only in `on_avx512`, which runs only after
    // AVX-512F and FMA were detected; loads and stores as for `Avx2`.
    unsafe impl Lanes8 for Avx512 {
        const WIDE: bool = true;
        #[inline(always)]
        fn zero() -> Self {
            unsafe { Avx512(_mm512_setzero_pd()) }
        }
        #[inline(always)]
        fn splat(x: f64) -> Self {
            unsafe { Avx512(_mm512_set1_pd(x)) }
        }
        #[inline(always)]
        fn load(x: &[f64; 8]) -> Self {
            unsafe { Avx512(_mm512_loadu_pd(x.as_ptr())) }
        }
        #[inline(always)]
        fn store(self, out: &mut [f64; 8]) {
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        fn mul_add(a: Self, b: Self, c: Self) -> Self {
            unsafe { Avx512(_mm512_fmadd_pd(a.0, b.0, c.0)) }
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            unsafe { Avx512(_mm512_add_pd(a.0, b.0)) }
        }
        #[inline(always)]
        fn sum(self) -> f64 {
            unsafe {
                let h = _mm256_add_pd(_mm512_castpd512_pd256(self.0), _mm512_extractf64x4_pd(self.0, 1));
                let q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
                _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)))
            }
        }
    }
}
