//! The statistics behind a verdict: mean and sample standard deviation, the
//! paired t-test (shared seeds) and Welch's t-test (otherwise), each with a
//! two-sided p-value and a confidence interval for B − A.
//!
//! The t distribution comes from `statrs`; no special function is written
//! here. Where a t statistic is undefined (the differences, or both samples,
//! have zero variance) the functions say so instead of returning NaN, and the
//! caller compares the values exactly.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and sample standard deviation (n − 1 in the denominator; None for
/// fewer than two values, where there is no noise estimate).
pub fn mean_std(xs: &[f64]) -> (Option<f64>, Option<f64>) {
    if xs.is_empty() {
        return (None, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (Some(mean), None);
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (Some(mean), Some((ss / (n - 1.0)).sqrt()))
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

/// What a test could say.
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

    /// Whether B differs from A at level `alpha`.
    pub fn significant(&self, alpha: f64) -> bool {
        match self {
            Test::T(t) => t.p < alpha,
            Test::NoVariance { estimate } => *estimate != 0.0,
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

/// Paired t-test of `b[i] − a[i]` (the same seed on both sides). Needs at
/// least two pairs.
pub fn paired(a: &[f64], b: &[f64], alpha: f64) -> Test {
    assert!(a.len() == b.len() && a.len() >= 2, "a paired test needs >= 2 pairs of equal length");
    let d: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
    let (mean, sd) = mean_std(&d);
    let (mean, sd) = (mean.unwrap_or(0.0), sd.unwrap_or(0.0));
    let n = d.len() as f64;
    t_test(mean, sd / n.sqrt(), n - 1.0, alpha)
}

/// Welch's unequal-variance t-test of mean(b) − mean(a), with the
/// Welch–Satterthwaite degrees of freedom. Needs at least two values a side.
pub fn welch(a: &[f64], b: &[f64], alpha: f64) -> Test {
    assert!(a.len() >= 2 && b.len() >= 2, "Welch's test needs >= 2 values a side");
    let (ma, sa) = mean_std(a);
    let (mb, sb) = mean_std(b);
    let (ma, sa, mb, sb) = (ma.unwrap_or(0.0), sa.unwrap_or(0.0), mb.unwrap_or(0.0), sb.unwrap_or(0.0));
    // va, vb: the squared standard errors of each mean.
    let va = sa * sa / a.len() as f64;
    let vb = sb * sb / b.len() as f64;
    let se2 = va + vb;
    let df = se2 * se2 / (va * va / (a.len() as f64 - 1.0) + vb * vb / (b.len() as f64 - 1.0));
    t_test(mb - ma, se2.sqrt(), df, alpha)
}

#[cfg(test)]
mod tests {
    //! Reference figures from SciPy 1.17.1 (numpy 2.4.6), computed with:
    //!
    //! ```python
    //! r = scipy.stats.ttest_rel(b, a)                   # paired: b - a
    //! r = scipy.stats.ttest_ind(b, a, equal_var=False)  # Welch: b - a
    //! r.statistic, r.pvalue, r.df, r.confidence_interval(0.95)
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
        assert!(Test::T(got).significant(0.05));
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
        assert!(!Test::T(got).significant(0.05));
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
        assert!(!Test::T(got).significant(0.05));
    }

    #[test]
    fn zero_variance_is_compared_exactly_not_nan() {
        // Every seed improves by exactly 0.25: no noise, a certain change.
        let shifted = paired(&[1.0, 2.0, 3.0], &[0.75, 1.75, 2.75], 0.05);
        assert_eq!(shifted, Test::NoVariance { estimate: -0.25 });
        assert!(shifted.significant(0.05));
        let same = welch(&[0.5, 0.5], &[0.5, 0.5, 0.5], 0.05);
        assert_eq!(same, Test::NoVariance { estimate: 0.0 });
        assert!(!same.significant(0.05));
        assert!(welch(&[0.5, 0.5], &[0.7, 0.7], 0.05).significant(0.05));
    }

    #[test]
    fn one_side_constant_still_gives_a_welch_test() {
        // df falls back to the varying side's n - 1.
        let got = t(welch(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 0.05));
        assert_relative_eq!(got.df, 2.0, max_relative = 1e-12);
    }

    #[test]
    fn mean_std_uses_the_sample_standard_deviation() {
        assert_eq!(mean_std(&[]), (None, None));
        assert_eq!(mean_std(&[2.0]), (Some(2.0), None));
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, Some(2.5));
        assert_relative_eq!(s.unwrap(), (5.0f64 / 3.0).sqrt(), max_relative = 1e-15);
    }
}
