//! A branch-free `exp` that the compiler can vectorise, accurate to a couple
//! of ulp over the whole f64 range, and the sigmoid and tanh built on it.
//!
//! libm's `exp` is a call the compiler cannot vectorise; on the lab's tiny
//! networks it is most of an epoch. This one uses only adds, multiplies and
//! bit moves, with every multiply-add fused (`mul_add`: one correctly rounded
//! operation, whether the CPU's FMA unit or libm computes it) and no
//! data-dependent branches, so every machine and every vector width computes
//! the same bits.
//!
//! Method: x = k ln2 + r with k = round(x / ln2) and |r| <= ln2/2
//! (Cody-Waite, ln2 split in two so k ln2 is exact); e^r by its Taylor
//! polynomial to degree 13 (truncation < 1e-17 relative); 2^k applied as two
//! exact power-of-two factors so subnormal results round once, at the end.

/// 1.5 * 2^52: adding it rounds a small float to an integer held in the low
/// mantissa bits.
const SHIFT: f64 = 6755399441055744.0;
const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split: LN2_HI has 32 significant bits, so k * LN2_HI is exact.
const LN2_HI: f64 = 0.693_147_180_369_123_8; // 0x1.62e42fee00000p-1
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10; // ln 2 - LN2_HI

/// 1/n! for n = 2..=13, Horner order.
const C: [f64; 12] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];

/// 2^k for an integer-valued `k` in [-1022, 1023], by building the exponent.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    let bits = (k + SHIFT).to_bits().wrapping_sub(SHIFT.to_bits());
    f64::from_bits(bits.wrapping_add(1023) << 52)
}

/// x = k ln2 + r: returns (e^r - 1, k), for x already clamped.
#[inline(always)]
fn reduce(x: f64) -> (f64, f64) {
    let k = x.mul_add(LOG2E, SHIFT) - SHIFT;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let mut p = C[0];
    for &c in &C[1..] {
        p = p.mul_add(r, c);
    }
    ((p * r).mul_add(r, r), k)
}

/// e^x. NaN stays NaN; overflow gives inf, underflow 0 (through subnormals).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Beyond these e^x is inf or 0 anyway; clamping keeps k in range.
    let (q, k) = reduce(x.clamp(-746.0, 710.0));
    // 2^k = 2^k1 * 2^k2 with both factors normal, for k in [-1076, 1025].
    let k1 = (k * 0.5 + SHIFT) - SHIFT;
    (q + 1.0) * pow2(k1) * pow2(k - k1)
}

/// e^x - 1 without cancellation near 0, for |x| <= 50.
#[inline(always)]
fn expm1_moderate(x: f64) -> f64 {
    let (q, k) = reduce(x);
    let s = pow2(k);
    s.mul_add(q, s - 1.0)
}

/// 1 / (1 + e^-z).
#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + exp(-z))
}

/// tanh z = (e^{2|z|} - 1) / (e^{2|z|} + 1) with the sign of z, from expm1 so
/// small arguments do not cancel; exactly 1 in magnitude beyond |z| = 20.
#[inline(always)]
pub fn tanh(z: f64) -> f64 {
    let a = z.abs().min(20.0);
    let em = expm1_moderate(2.0 * a);
    let t = if z.abs() >= 20.0 { 1.0 } else { em / (em + 2.0) };
    // NaN: z.abs().min(20) is 20, so carry the NaN through explicitly.
    if z.is_nan() { z } else { t.copysign(z) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite f64 of one sign.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    fn sweep_range(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
        (0..=n).map(move |i| lo + (hi - lo) * i as f64 / n as f64)
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm_over_the_whole_range() {
        let mut worst = (0, 0.0);
        // Normal results, the subnormal range, and the edges of both.
        for x in sweep_range(-745.2, 709.8, 2_000_000).chain(sweep_range(-1.0, 1.0, 200_001)) {
            let (got, want) = (exp(x), x.exp());
            let u = ulps(got, want);
            if want >= f64::MIN_POSITIVE && u > worst.0 {
                worst = (u, x);
            }
            if want < f64::MIN_POSITIVE {
                // Subnormal outputs have fewer bits: allow one unit of the
                // smallest subnormal per ulp of the normal computation.
                assert!((got - want).abs() <= 2.0 * 5e-324 + want * 4e-16, "exp({x}) = {got}, libm {want}");
            }
        }
        assert!(worst.0 <= 2, "worst {} ulp at x = {}", worst.0, worst.1);
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1000.0), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-1000.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(709.782712893384), f64::MAX.min(709.782712893384f64.exp()));
        assert!(exp(-745.0) > 0.0 && exp(-745.0) < 1e-320);
    }

    /// libm's own forms round too (exp, then 1 + e, then the division), so
    /// a few ulp between two correct-to-an-ulp-or-two computations.
    #[test]
    fn sigmoid_and_tanh_match_libm_including_saturation() {
        for z in sweep_range(-800.0, 800.0, 400_001).chain(sweep_range(-0.01, 0.01, 20_001)) {
            let s = 1.0 / (1.0 + (-z).exp());
            let (gs, gt, wt) = (sigmoid(z), tanh(z), z.tanh());
            assert!(ulps(gs, s) <= 4 || (gs - s).abs() < 1e-300, "sigmoid({z}) = {gs}, libm {s}");
            assert!(ulps(gt, wt) <= 4, "tanh({z}) = {gt}, libm {wt}");
        }
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(tanh(-50.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
        assert!(tanh(-0.0).is_sign_negative());
        assert!(sigmoid(f64::NAN).is_nan() && tanh(f64::NAN).is_nan());
    }
}
