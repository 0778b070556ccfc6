//! Eight f64 lanes on one instruction set: the unit of the kernels' vector
//! work (`kernels`), and the run-time choice of instruction set.
//!
//! An instruction set is a zero-sized token type implementing [`Isa`]: every
//! vector operation takes the token, and the x86 tokens ([`Avx2`],
//! [`Avx512`]) can be made only by their `detect`, which checks the CPU. So
//! code that has no token cannot run an AVX instruction, and code that has
//! one runs on a CPU that has it: misuse does not compile. [`Portable`]
//! (plain arrays) can be made by anyone.
//!
//! Every operation is lane-wise and every multiply-add fused, so the three
//! implementations compute the same bits; only their speed differs. The
//! compiler's auto-vectoriser was not reliable enough for the tiles (the
//! same loop came out as 512-bit, 128-bit or scalar code depending on its
//! neighbours), so the vector operations are spelled out here. (Nor is
//! `std::array::from_fn` always inlined: the kernels avoid it.)

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
            if Avx512::detect().is_some() {
                return Kernels::Avx512;
            }
            if Avx2::detect().is_some() {
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

    /// Runs `task` on these kernels, or on the fastest the CPU has if it
    /// lacks them: the detection hands the task its token.
    pub(crate) fn run<T: OnLanes>(self, task: T) -> T::Out {
        #[cfg(target_arch = "x86_64")]
        {
            if self == Kernels::Avx512
                && let Some(isa) = Avx512::detect()
            {
                return isa.run(task);
            }
            if matches!(self, Kernels::Avx512 | Kernels::Avx2)
                && let Some(isa) = Avx2::detect()
            {
                return isa.run(task);
            }
        }
        task.run(Portable)
    }
}

/// Work generic over the instruction set, for [`Kernels::run`] to compile
/// once per build.
pub(crate) trait OnLanes {
    type Out;
    fn run<I: Isa>(self, isa: I) -> Self::Out;
}

/// An instruction set the CPU runs, as a zero-sized token, and its eight
/// f64 lanes [`Isa::Lanes`]. Every operation takes the token.
///
/// # Safety
/// A value of an implementing type must exist only on a CPU that runs the
/// instructions its operations use (make it only after checking the CPU).
pub(crate) unsafe trait Isa: Copy {
    type Lanes: Copy;
    /// Registers are plentiful (32 of 512 bits): kernels take larger tiles.
    const WIDE: bool;
    fn zero(self) -> Self::Lanes;
    fn splat(self, x: f64) -> Self::Lanes;
    fn load(self, x: &[f64; 8]) -> Self::Lanes;
    /// `load(&row[at..at + 8])` without the bounds check, for the kernels'
    /// inner loops, which check their whole range once beforehand.
    ///
    /// # Safety
    /// `at + 8 <= row.len()`.
    #[inline(always)]
    unsafe fn load_at(self, row: &[f64], at: usize) -> Self::Lanes {
        debug_assert!(at + 8 <= row.len());
        // SAFETY: in bounds by the caller's promise; [f64; 8] has f64's alignment.
        self.load(unsafe { &*row.as_ptr().add(at).cast::<[f64; 8]>() })
    }
    fn store(self, v: Self::Lanes, out: &mut [f64; 8]);
    /// a * b + c, rounded once.
    fn mul_add(self, a: Self::Lanes, b: Self::Lanes, c: Self::Lanes) -> Self::Lanes;
    fn add(self, a: Self::Lanes, b: Self::Lanes) -> Self::Lanes;
    /// The lanes' sum in a fixed tree, `((l0 + l4) + (l2 + l6)) + ((l1 +
    /// l5) + (l3 + l7))`: the natural reduction of one 512-bit or two
    /// 256-bit registers, so every implementation adds in this order.
    #[inline(always)]
    fn sum(self, v: Self::Lanes) -> f64 {
        let mut l = [0.0; 8];
        self.store(v, &mut l);
        let h = [l[0] + l[4], l[1] + l[5], l[2] + l[6], l[3] + l[7]];
        (h[0] + h[2]) + (h[1] + h[3])
    }
}

/// Plain arrays: any CPU (`mul_add` is the FPU's or libm's fused
/// multiply-add, correctly rounded either way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

// SAFETY: plain Rust, no special instructions.
unsafe impl Isa for Portable {
    type Lanes = [f64; 8];
    const WIDE: bool = false;
    #[inline(always)]
    fn zero(self) -> [f64; 8] {
        [0.0; 8]
    }
    #[inline(always)]
    fn splat(self, x: f64) -> [f64; 8] {
        [x; 8]
    }
    #[inline(always)]
    fn load(self, x: &[f64; 8]) -> [f64; 8] {
        *x
    }
    #[inline(always)]
    fn store(self, v: [f64; 8], out: &mut [f64; 8]) {
        *out = v;
    }
    #[inline(always)]
    fn mul_add(self, a: [f64; 8], b: [f64; 8], mut c: [f64; 8]) -> [f64; 8] {
        for ((c, a), b) in c.iter_mut().zip(a).zip(b) {
            *c = a.mul_add(b, *c);
        }
        c
    }
    #[inline(always)]
    fn add(self, mut a: [f64; 8], b: [f64; 8]) -> [f64; 8] {
        for (a, b) in a.iter_mut().zip(b) {
            *a += b;
        }
        a
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Avx2, Avx512};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Isa, OnLanes};
    use std::arch::x86_64::*;

    /// Proof that the CPU has AVX2 and FMA: made only by [`Avx2::detect`].
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx2 {
        _checked: (),
    }

    impl Avx2 {
        pub(crate) fn detect() -> Option<Avx2> {
            let has = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            has.then_some(Avx2 { _checked: () })
        }

        /// Runs `task` compiled for AVX2 and FMA.
        pub(crate) fn run<T: OnLanes>(self, task: T) -> T::Out {
            // SAFETY: `self` exists, so `detect` found AVX2 and FMA.
            unsafe { on_avx2(self, task) }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn on_avx2<T: OnLanes>(isa: Avx2, task: T) -> T::Out {
        task.run(isa)
    }

    /// Proof that the CPU has AVX-512F, AVX2 and FMA: made only by
    /// [`Avx512::detect`].
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx512 {
        _checked: (),
    }

    impl Avx512 {
        pub(crate) fn detect() -> Option<Avx512> {
            let has = std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma");
            has.then_some(Avx512 { _checked: () })
        }

        /// Runs `task` compiled for AVX-512F, AVX2 and FMA.
        pub(crate) fn run<T: OnLanes>(self, task: T) -> T::Out {
            // SAFETY: `self` exists, so `detect` found AVX-512F, AVX2 and FMA.
            unsafe { on_avx512(self, task) }
        }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    fn on_avx512<T: OnLanes>(isa: Avx512, task: T) -> T::Out {
        task.run(isa)
    }

    // SAFETY (both impls and every `unsafe` block in them): an `Avx2` or
    // `Avx512` token exists only after its `detect` found the instructions
    // used; loads and stores go through references to eight f64, so they
    // stay in bounds.
    unsafe impl Isa for Avx2 {
        /// Two 256-bit registers.
        type Lanes = (__m256d, __m256d);
        const WIDE: bool = false;
        #[inline(always)]
        fn zero(self) -> Self::Lanes {
            unsafe { (_mm256_setzero_pd(), _mm256_setzero_pd()) }
        }
        #[inline(always)]
        fn splat(self, x: f64) -> Self::Lanes {
            unsafe { (_mm256_set1_pd(x), _mm256_set1_pd(x)) }
        }
        #[inline(always)]
        fn load(self, x: &[f64; 8]) -> Self::Lanes {
            unsafe { (_mm256_loadu_pd(x.as_ptr()), _mm256_loadu_pd(x.as_ptr().add(4))) }
        }
        #[inline(always)]
        fn store(self, v: Self::Lanes, out: &mut [f64; 8]) {
            unsafe {
                _mm256_storeu_pd(out.as_mut_ptr(), v.0);
                _mm256_storeu_pd(out.as_mut_ptr().add(4), v.1);
            }
        }
        #[inline(always)]
        fn mul_add(self, a: Self::Lanes, b: Self::Lanes, c: Self::Lanes) -> Self::Lanes {
            unsafe { (_mm256_fmadd_pd(a.0, b.0, c.0), _mm256_fmadd_pd(a.1, b.1, c.1)) }
        }
        #[inline(always)]
        fn add(self, a: Self::Lanes, b: Self::Lanes) -> Self::Lanes {
            unsafe { (_mm256_add_pd(a.0, b.0), _mm256_add_pd(a.1, b.1)) }
        }
        #[inline(always)]
        fn sum(self, v: Self::Lanes) -> f64 {
            unsafe {
                let h = _mm256_add_pd(v.0, v.1); // l_t + l_{t+4}
                let q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1)); // h0+h2, h1+h3
                _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)))
            }
        }
    }

    unsafe impl Isa for Avx512 {
        /// One 512-bit register.
        type Lanes = __m512d;
        const WIDE: bool = true;
        #[inline(always)]
        fn zero(self) -> __m512d {
            unsafe { _mm512_setzero_pd() }
        }
        #[inline(always)]
        fn splat(self, x: f64) -> __m512d {
            unsafe { _mm512_set1_pd(x) }
        }
        #[inline(always)]
        fn load(self, x: &[f64; 8]) -> __m512d {
            unsafe { _mm512_loadu_pd(x.as_ptr()) }
        }
        #[inline(always)]
        fn store(self, v: __m512d, out: &mut [f64; 8]) {
            unsafe { _mm512_storeu_pd(out.as_mut_ptr(), v) }
        }
        #[inline(always)]
        fn mul_add(self, a: __m512d, b: __m512d, c: __m512d) -> __m512d {
            unsafe { _mm512_fmadd_pd(a, b, c) }
        }
        #[inline(always)]
        fn add(self, a: __m512d, b: __m512d) -> __m512d {
            unsafe { _mm512_add_pd(a, b) }
        }
        #[inline(always)]
        fn sum(self, v: __m512d) -> f64 {
            unsafe {
                let h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
                let q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
                _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each build this CPU runs is reached by `Kernels::run`, and one that it
    /// does not is never: the task sees the token detection made.
    #[test]
    fn run_hands_the_task_the_detected_instruction_set() {
        struct Wide;
        impl OnLanes for Wide {
            type Out = bool;
            fn run<I: Isa>(self, _isa: I) -> bool {
                I::WIDE
            }
        }
        assert!(!Kernels::Portable.run(Wide));
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(Kernels::Avx512.run(Wide), Avx512::detect().is_some());
            assert!(!Kernels::Avx2.run(Wide));
        }
    }

    /// The lanes' sum follows the documented tree on every instruction set.
    #[test]
    fn every_instruction_set_sums_lanes_in_the_same_tree() {
        struct Sums([f64; 8]);
        impl OnLanes for Sums {
            type Out = (u64, [f64; 8]);
            fn run<I: Isa>(self, isa: I) -> Self::Out {
                let v = isa.mul_add(isa.load(&self.0), isa.splat(1.0), isa.zero());
                let mut back = [0.0; 8];
                isa.store(isa.add(v, isa.zero()), &mut back);
                (isa.sum(v).to_bits(), back)
            }
        }
        let l: [f64; 8] = [1e16, 1.0, -1e16, 1.0, 3.0, -2.0, 0.5, 1e-3];
        let h = [l[0] + l[4], l[1] + l[5], l[2] + l[6], l[3] + l[7]];
        let want = ((h[0] + h[2]) + (h[1] + h[3])).to_bits();
        for k in Kernels::available() {
            assert_eq!(k.run(Sums(l)), (want, l), "{k:?}");
        }
    }
}
