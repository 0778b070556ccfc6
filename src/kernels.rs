//! The tiled kernels of the network's forward and backward passes, on
//! feature-major blocks: a layer's values for `s` (padded) samples are a
//! (units, s) block, sample index fastest. Each kernel takes the token of the
//! instruction set it runs on ([`Isa`]), so it cannot run AVX code on a CPU
//! without AVX. `nn` says which products the chain rule needs; this module
//! computes them fast.
//!
//! Hand loops, not a GEMM: the matrices are tiny, and a GEMM call would
//! allocate a packing buffer each time.
//!
//! Bit-reproducibility: every multiply-add is fused (correctly rounded by
//! IEEE 754, whether the CPU or libm computes it), and every output sums its
//! terms in an order fixed by this code -- ascending along features, `LANES`
//! interleaved partial sums combined by `Isa::sum` along samples -- never by
//! the tile shape or the vector width. So every build and every machine
//! computes the same bits.

use crate::simd::Isa;

/// Sums along the samples are kept as this many interleaved partial sums,
/// and every per-sample row is padded with zeros to a multiple of it, so
/// that kernels work in whole vectors and never need a scalar tail.
pub const LANES: usize = 8;

/// `m` samples padded to whole groups of [`LANES`].
#[inline(always)]
pub(crate) fn padded(m: usize) -> usize {
    m.div_ceil(LANES) * LANES
}

/// The largest tile side (4, 2 or 1) that fits in `left` rows.
#[inline(always)]
fn side(left: usize) -> usize {
    if left >= 4 {
        4
    } else if left >= 2 {
        2
    } else {
        1
    }
}

/// One tile of `mix`: R rows from r0, G groups of samples from group g0.
#[inline(always)]
fn tile_mix<I: Isa, const R: usize, const G: usize>(
    isa: I,
    coef: &[f64],
    src: &[f64],
    (terms, rows, s): (usize, usize, usize),
    (r0, g0): (usize, usize),
    out: &mut [f64],
) {
    assert!(r0 + R <= rows && (g0 + G) * LANES <= s);
    assert!(coef.len() >= terms * rows && src.len() >= terms * s);
    let mut acc = [[isa.zero(); G]; R];
    for q in 0..terms {
        let mut xv = [isa.zero(); G];
        for (g, xv) in xv.iter_mut().enumerate() {
            // SAFETY: q * s + (g0 + G) * LANES <= terms * s <= src.len(),
            // asserted above.
            *xv = unsafe { isa.load_at(src, q * s + (g0 + g) * LANES) };
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: q * rows + r0 + R <= terms * rows <= coef.len(), as above.
            let w = isa.splat(unsafe { *coef.get_unchecked(q * rows + r0 + r) });
            for (acc, &x) in acc.iter_mut().zip(&xv) {
                *acc = isa.mul_add(w, x, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let row = &mut out[(r0 + r) * s..][..s];
        for (g, acc) in acc.iter().enumerate() {
            let at = (g0 + g) * LANES;
            isa.store(*acc, (&mut row[at..at + LANES]).try_into().expect("whole groups"));
        }
    }
}

/// out (rows, s) = coef^T src, coef (terms, rows) row-major, src (terms, s):
/// out[r][i] = sum over q, ascending, of coef[q][r] * src[q][i].
#[inline(always)]
pub(crate) fn mix<I: Isa>(isa: I, coef: &[f64], src: &[f64], out: &mut [f64], (rows, s): (usize, usize)) {
    let groups = s / LANES;
    let terms = src.len() / s;
    assert_eq!(coef.len(), terms * rows, "one coefficient per term and row");
    let mut r = 0;
    while r < rows {
        let rr = side(rows - r);
        let mut g = 0;
        while g < groups {
            let gg = if I::WIDE && groups - g >= 2 { 2 } else { 1 };
            let shape = (terms, rows, s);
            match (rr, gg) {
                (4, 2) => tile_mix::<I, 4, 2>(isa, coef, src, shape, (r, g), out),
                (2, 2) => tile_mix::<I, 2, 2>(isa, coef, src, shape, (r, g), out),
                (_, 2) => tile_mix::<I, 1, 2>(isa, coef, src, shape, (r, g), out),
                (4, _) => tile_mix::<I, 4, 1>(isa, coef, src, shape, (r, g), out),
                (2, _) => tile_mix::<I, 2, 1>(isa, coef, src, shape, (r, g), out),
                _ => tile_mix::<I, 1, 1>(isa, coef, src, shape, (r, g), out),
            }
            g += gg;
        }
        r += rr;
    }
}

/// Sum of one padded row of samples.
#[inline(always)]
pub(crate) fn sum<I: Isa>(isa: I, row: &[f64]) -> f64 {
    let mut acc = isa.zero();
    for g in row.as_chunks::<LANES>().0 {
        acc = isa.add(acc, isa.load(g));
    }
    isa.sum(acc)
}

/// One R x C tile of `dot`: outputs (p0.., j0..).
#[inline(always)]
fn tile_dot<I: Isa, const R: usize, const C: usize>(
    isa: I,
    a: &[f64],
    b: &[f64],
    out: &mut [f64],
    (n, s): (usize, usize),
    (p0, j0): (usize, usize),
) {
    let (a, b) = (&a[p0 * s..(p0 + R) * s], &b[j0 * s..(j0 + C) * s]);
    assert!(s % LANES == 0);
    let mut acc = [[isa.zero(); C]; R];
    for g in 0..s / LANES {
        let at = g * LANES;
        let mut bv = [isa.zero(); C];
        for (c, bv) in bv.iter_mut().enumerate() {
            // SAFETY: c * s + at + LANES <= C * s = b.len(), as s is whole groups.
            *bv = unsafe { isa.load_at(b, c * s + at) };
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: as for b.
            let av = unsafe { isa.load_at(a, r * s + at) };
            for (acc, &bv) in acc.iter_mut().zip(&bv) {
                *acc = isa.mul_add(av, bv, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (c, &acc) in acc.iter().enumerate() {
            out[(p0 + r) * n + j0 + c] = isa.sum(acc);
        }
    }
}

/// out (k, n) = a (k, s) b (n, s)^T: every output a dot product of two
/// padded rows of samples, in `LANES` partial sums.
#[inline(always)]
pub(crate) fn dot<I: Isa>(isa: I, a: &[f64], b: &[f64], out: &mut [f64], (k, n, s): (usize, usize, usize)) {
    // 2 x 2 tiles of 8-lane sums fill the sixteen 256-bit registers;
    // with thirty-two 512-bit ones, 4 x 4.
    let most = if I::WIDE { 4 } else { 2 };
    let mut p = 0;
    while p < k {
        let rp = side(k - p).min(most);
        let mut j = 0;
        while j < n {
            let rj = side(n - j).min(most);
            let shape = (n, s);
            match (rp, rj) {
                (4, 4) => tile_dot::<I, 4, 4>(isa, a, b, out, shape, (p, j)),
                (4, 2) => tile_dot::<I, 4, 2>(isa, a, b, out, shape, (p, j)),
                (4, _) => tile_dot::<I, 4, 1>(isa, a, b, out, shape, (p, j)),
                (2, 4) => tile_dot::<I, 2, 4>(isa, a, b, out, shape, (p, j)),
                (2, 2) => tile_dot::<I, 2, 2>(isa, a, b, out, shape, (p, j)),
                (2, _) => tile_dot::<I, 2, 1>(isa, a, b, out, shape, (p, j)),
                (_, 4) => tile_dot::<I, 1, 4>(isa, a, b, out, shape, (p, j)),
                (_, 2) => tile_dot::<I, 1, 2>(isa, a, b, out, shape, (p, j)),
                _ => tile_dot::<I, 1, 1>(isa, a, b, out, shape, (p, j)),
            }
            j += rj;
        }
        p += rp;
    }
}

/// t (n, k) = w^T for w (k, n).
#[inline(always)]
pub(crate) fn transpose(w: &[f64], t: &mut [f64], k: usize, n: usize) {
    for (p, row) in w.chunks_exact(n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            t[j * k + p] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use crate::simd::{Kernels, OnLanes};
    use ndarray::Array2;

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut r = rng::stream(seed, "kernel-test", &[]);
        Array2::from_shape_fn((rows, cols), |_| rng::normal(&mut r))
    }

    /// mix, dot, sum and transpose of the given blocks, on one instruction set.
    struct Products<'a> {
        coef: &'a Array2<f64>,
        src: &'a Array2<f64>,
        b: &'a Array2<f64>,
    }

    impl OnLanes for Products<'_> {
        type Out = [Vec<f64>; 4];
        fn run<I: Isa>(self, isa: I) -> Self::Out {
            let (terms, rows) = self.coef.dim();
            let (n, s) = (self.b.nrows(), self.src.ncols());
            let (coef, src, b) =
                (self.coef.as_slice().unwrap(), self.src.as_slice().unwrap(), self.b.as_slice().unwrap());
            let mut mixed = vec![0.0; rows * s];
            mix(isa, coef, src, &mut mixed, (rows, s));
            let mut dotted = vec![0.0; terms * n];
            dot(isa, src, b, &mut dotted, (terms, n, s));
            let sums = src.chunks_exact(s).map(|row| sum(isa, row)).collect();
            let mut t = vec![0.0; terms * rows];
            transpose(coef, &mut t, terms, rows);
            [mixed, dotted, sums, t]
        }
    }

    fn close(got: &[f64], want: &Array2<f64>, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{what}: {g} vs {w}");
        }
    }

    /// Each kernel against ndarray's own products, on every tile shape
    /// (1 to 9 rows, 1 to 7 terms, 1 to 5 groups of samples), and the same
    /// bits on every instruction set this CPU runs.
    #[test]
    fn kernels_match_a_plain_ndarray_reference_on_every_instruction_set() {
        let mut seed = 0;
        for rows in 1..=9 {
            for terms in [1, 2, 3, 4, 5, 7] {
                for groups in 1..=5 {
                    seed += 1;
                    let s = groups * LANES;
                    let n = rows;
                    // coef (terms, rows), src (terms, s), b (n, s).
                    let (coef, src, b) =
                        (random(terms, rows, seed), random(terms, s, seed + 1000), random(n, s, seed + 2000));
                    let want = [
                        coef.t().dot(&src),
                        src.dot(&b.t()),
                        src.sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1)),
                        coef.t().as_standard_layout().to_owned(),
                    ];
                    let portable = Kernels::Portable.run(Products { coef: &coef, src: &src, b: &b });
                    for (what, (got, want)) in
                        ["mix", "dot", "sum", "transpose"].iter().zip(portable.iter().zip(&want))
                    {
                        close(got, want, &format!("{what} rows {rows} terms {terms} s {s}"));
                    }
                    for k in Kernels::available() {
                        let got = k.run(Products { coef: &coef, src: &src, b: &b });
                        let bits =
                            |v: &[Vec<f64>; 4]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(&got), bits(&portable), "{k:?} rows {rows} terms {terms} s {s}");
                    }
                }
            }
        }
    }
}
