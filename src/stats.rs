//! The statistics sweep prints, in one place: the mean and sample standard
//! deviation every table uses (`report` and `diff` alike, so one folder never
//! shows two different stds), and the tests behind `sweep diff`: the paired
//! and Welch t-tests, Fisher's exact test on two shares, and Holm's
//! step-down adjustment for many tests.
//!
//! No special function is written here: the t distribution comes from
//! `statrs`, and so does Fisher's exact test (built on its hypergeometric
//! distribution). Where a t statistic is undefined (the differences, or both
//! samples, have zero variance) the functions say so instead of returning
//! NaN, and the caller compares the values exactly.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::stats_tests::{Alternative, fishers_exact};

/// Arithmetic mean; None for no values. Computed as a running mean
/// (`m += (x - m) / k`) so that huge (nearly diverged) losses do not
/// overflow the sum.
pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut m = 0.0;
    for (k, x) in xs.iter().enumerate() {
        m += (x - m) / (k + 1) as f64;
    }
    Some(m)
}

/// Sample standard deviation (divisor n − 1: the seeds are a sample of the
/// seeds one could have run); None for fewer than 2 values. Deviations are
/// scaled by the largest one before squaring, so values near 1e200 give a
/// finite answer instead of `inf`.
pub fn sample_std(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs)?;
    let scale = xs.iter().map(|x| (x - m).abs()).fold(0.0, f64::max);
    if scale == 0.0 || !scale.is_finite() {
        return Some(scale);
    }
    let ss: f64 = xs.iter().map(|x| ((x - m) / scale).powi(2)).sum();
    Some(scale * (ss / (xs.len() - 1) as f64).sqrt())
}

/// A t-test of B − A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// The estimated difference B − A (mean of the paired differences, or
    /// the difference of the means).
    pub estimate: f64,
    pub t: f64,
    pub df: f64,
    /// Two-sided.
    pub p: f64,
    /// The (1 − alpha) confidence interval of the difference.
    pub ci: (f64, f64),
}

/// What a t-test could say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Test {
    T(TTest),
    /// Zero variance (nothing to scale the difference by): the difference
    /// is exact, and is either zero or not.
    NoVariance {
        estimate: f64,
    },
}

impl Test {
    pub fn estimate(&self) -> f64 {
        match self {
            Test::T(t) => t.estimate,
            Test::NoVariance { estimate } => *estimate,
        }
    }

    /// The two-sided p-value of a real test (None for an exact comparison).
    pub fn p(&self) -> Option<f64> {
        match self {
            Test::T(t) => Some(t.p),
            Test::NoVariance { .. } => None,
        }
    }
}

/// t statistic, p-value and interval from an estimate, its standard error
/// and the degrees of freedom.
fn t_test(estimate: f64, se: f64, df: f64, alpha: f64) -> Test {
    if se == 0.0 || !se.is_finite() || !df.is_finite() || df <= 0.0 {
        return Test::NoVariance { estimate };
    }
    let Ok(dist) = StudentsT::new(0.0, 1.0, df) else {
        return Test::NoVariance { estimate };
    };
    let t = estimate / se;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let q = dist.inverse_cdf(1.0 - alpha / 2.0);
    Test::T(TTest { estimate, t, df, p, ci: (estimate - q * se, estimate + q * se) })
}

/// Paired t-test of `b[i] − a[i]` (the same seed on both sides); df = n − 1.
///
/// # Panics
/// With fewer than two pairs or slices of different lengths (the caller
/// picks the test from the counts).
pub fn paired(a: &[f64], b: &[f64], alpha: f64) -> Test {
    assert!(a.len() == b.len() && a.len() >= 2, "a paired test needs >= 2 pairs of equal length");
    let d: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
    let (m, sd) = (mean(&d).unwrap_or(0.0), sample_std(&d).unwrap_or(0.0));
    let n = d.len() as f64;
    t_test(m, sd / n.sqrt(), n - 1.0, alpha)
}

/// Welch's unequal-variance t-test of mean(b) − mean(a), with the
/// Welch–Satterthwaite degrees of freedom.
///
/// # Panics
/// With fewer than two values on a side.
pub fn welch(a: &[f64], b: &[f64], alpha: f64) -> Test {
    assert!(a.len() >= 2 && b.len() >= 2, "Welch's test needs >= 2 values a side");
    let (ma, sa) = (mean(a).unwrap_or(0.0), sample_std(a).unwrap_or(0.0));
    let (mb, sb) = (mean(b).unwrap_or(0.0), sample_std(b).unwrap_or(0.0));
    // va, vb: the squared standard errors of each mean.
    let va = sa * sa / a.len() as f64;
    let vb = sb * sb / b.len() as f64;
    let se2 = va + vb;
    let df = se2 * se2 / (va * va / (a.len() as f64 - 1.0) + vb * vb / (b.len() as f64 - 1.0));
    t_test(mb - ma, se2.sqrt(), df, alpha)
}

/// Two-sided Fisher's exact test that `hits_a` of `n_a` and `hits_b` of
/// `n_b` come from one share (the 2×2 table `[[hits_a, n_a − hits_a],
/// [hits_b, n_b − hits_b]]`), as `scipy.stats.fisher_exact`; statrs sums the
/// hypergeometric probabilities of the tables no more likely than this one.
///
/// # Panics
/// When a count exceeds its total (the caller counts jobs it holds).
pub fn fisher_exact(hits_a: u64, n_a: u64, hits_b: u64, n_b: u64) -> f64 {
    assert!(hits_a <= n_a && hits_b <= n_b, "a count cannot exceed its total");
    let table = [hits_a, n_a - hits_a, hits_b, n_b - hits_b];
    // A valid 2x2 table always gives a valid hypergeometric distribution; an
    // error would mean no evidence either way.
    fishers_exact(&table, Alternative::TwoSided).unwrap_or(1.0)
}

/// Holm's step-down adjusted p-values (Holm 1979), in the input's order: with
/// the p-values sorted ascending, `p_adj(i) = max_{j <= i} min(1, (m − j + 1)
/// p(j))` (1-based ranks). Rejecting every hypothesis whose adjusted p is
/// below alpha keeps the family-wise error rate at alpha, whatever the
/// dependence between the tests. As `statsmodels` `multipletests(method="holm")`.
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| ps[i].total_cmp(&ps[j]));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * ps[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    //! Reference figures from SciPy 1.17.1 (numpy 2.4.6) and statsmodels
    //! 0.15.0, computed with:
    //!
    //! ```python
    //! r = scipy.stats.ttest_rel(b, a)                   # paired: b - a
    //! r = scipy.stats.ttest_ind(b, a, equal_var=False)  # Welch: b - a
    //! r.statistic, r.pvalue, r.df, r.confidence_interval(0.95)
    //! scipy.stats.fisher_exact([[ha, n_a - ha], [hb, n_b - hb]]).pvalue
    //! statsmodels.stats.multitest.multipletests(ps, method="holm")[1]
    //! ```
    use approx::assert_relative_eq;

    use super::*;

    fn t(test: Test) -> TTest {
        match test {
            Test::T(t) => t,
            other => panic!("expected a t-test, got {other:?}"),
        }
    }

    fn check(got: TTest, statistic: f64, pvalue: f64, df: f64, ci: (f64, f64)) {
        assert_relative_eq!(got.t, statistic, max_relative = 1e-10);
        assert_relative_eq!(got.p, pvalue, max_relative = 1e-8);
        assert_relative_eq!(got.df, df, max_relative = 1e-12);
        assert_relative_eq!(got.ci.0, ci.0, max_relative = 1e-8);
        assert_relative_eq!(got.ci.1, ci.1, max_relative = 1e-8);
    }

    #[test]
    fn paired_t_test_matches_scipy_ttest_rel() {
        let a = [0.31, 0.27, 0.35, 0.29, 0.33, 0.30];
        let b = [0.28, 0.26, 0.30, 0.29, 0.29, 0.27];
        let got = t(paired(&a, &b, 0.05));
        check(
            got,
            -3.5082320772281164,
            0.01713299117150335,
            5.0,
            (-0.04620609491465838, -0.007127238418674946),
        );
        assert_relative_eq!(got.estimate, -0.02666666666666666, max_relative = 1e-12);
        // The interval follows alpha: scipy's confidence_interval(0.90).
        let got90 = t(paired(&a, &b, 0.10));
        assert_relative_eq!(got90.ci.0, -0.04198339090440205, max_relative = 1e-8);
        assert_relative_eq!(got90.ci.1, -0.011349942428931286, max_relative = 1e-8);
    }

    #[test]
    fn paired_t_test_within_noise_matches_scipy() {
        let a = [0.5, 0.7, 0.2, 0.9];
        let b = [0.6, 0.5, 0.45, 0.8];
        let got = t(paired(&a, &b, 0.05));
        check(got, 0.12403473458920859, 0.9091317122894897, 3.0, (-0.30822127979147074, 0.33322127979147076));
    }

    #[test]
    fn welch_t_test_matches_scipy_ttest_ind_unequal_var() {
        let a = [1.2, 1.5, 0.9, 1.1, 1.4];
        let b = [1.9, 1.6, 2.3, 1.7];
        let got = t(welch(&a, &b, 0.05));
        check(
            got,
            3.483336312251087,
            0.014697049865225244,
            5.58569334586661,
            (0.18648661415028156, 1.1235133858497184),
        );
        assert_relative_eq!(got.estimate, 0.655, max_relative = 1e-12);
    }

    #[test]
    fn welch_t_test_within_noise_matches_scipy() {
        let a = [3.1, 2.9, 3.4];
        let b = [3.0, 3.6, 2.7, 3.3, 3.5, 2.8];
        let got = t(welch(&a, &b, 0.05));
        check(
            got,
            0.07920559147847926,
            0.9394709009639629,
            5.937764657714031,
            (-0.4995305092371013, 0.5328638425704354),
        );
    }

    #[test]
    fn fisher_exact_matches_scipy_fisher_exact() {
        // (diverged in A, jobs in A, diverged in B, jobs in B) -> scipy's pvalue.
        let cases = [
            ((0, 12, 9, 12), 0.000336519046978059),
            ((0, 12, 10, 12), 6.73038093956118e-05),
            ((1, 12, 3, 12), 0.5900621118012422),
            ((3, 8, 4, 54), 0.039707492465292815),
            ((0, 1, 1, 1), 1.0),
            ((2, 12, 2, 12), 1.0),
        ];
        for ((ha, na, hb, nb), want) in cases {
            let got = fisher_exact(ha, na, hb, nb);
            assert_relative_eq!(got, want, max_relative = 1e-9);
        }
    }

    #[test]
    fn holm_matches_statsmodels_multipletests() {
        let ps = [0.038, 0.468, 0.488, 0.51, 0.6, 0.7, 0.01, 0.9];
        let want = [0.266, 1.0, 1.0, 1.0, 1.0, 1.0, 0.08, 1.0];
        for (got, want) in holm(&ps).iter().zip(want) {
            assert_relative_eq!(*got, want, max_relative = 1e-12);
        }
        // Step-down: 0.012 is tested at 0.05 / 4 after 0.001 is rejected,
        // and the adjusted values never decrease with rank.
        let ps = [0.001, 0.012, 0.02, 0.04, 0.3];
        let want = [0.005, 0.048, 0.06, 0.08, 0.3];
        for (got, want) in holm(&ps).iter().zip(want) {
            assert_relative_eq!(*got, want, max_relative = 1e-12);
        }
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn zero_variance_is_an_exact_comparison_not_nan() {
        // Every seed improves by exactly 0.25: no noise, a certain change.
        let shifted = paired(&[1.0, 2.0, 3.0], &[0.75, 1.75, 2.75], 0.05);
        assert_eq!(shifted, Test::NoVariance { estimate: -0.25 });
        assert_eq!(shifted.p(), None);
        assert_eq!(welch(&[0.5, 0.5], &[0.5, 0.5, 0.5], 0.05), Test::NoVariance { estimate: 0.0 });
    }

    #[test]
    fn one_side_constant_still_gives_a_welch_test() {
        // df falls back to the varying side's n - 1.
        let got = t(welch(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 0.05));
        assert_relative_eq!(got.df, 2.0, max_relative = 1e-12);
    }

    #[test]
    fn mean_and_sample_std_match_hand_worked_numbers_and_do_not_overflow() {
        // 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5;
        // sample variance 5 / 3; std sqrt(5/3) = 1.2909944...
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&xs), Some(2.5));
        assert_relative_eq!(sample_std(&xs).unwrap(), 1.290_994_448_735_805_6, max_relative = 1e-15);
        assert_eq!(sample_std(&[3.0]), None, "undefined for one value");
        assert_eq!(mean(&[]), None);
        // A plain sum would overflow to inf here.
        assert_relative_eq!(mean(&[1e308, 1.5e308]).unwrap(), 1.25e308, max_relative = 1e-15);
        assert_relative_eq!(sample_std(&[1e300, 3e300]).unwrap(), 2f64.sqrt() * 1e300, max_relative = 1e-12);
    }
}
