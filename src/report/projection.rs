//! A 2-D view of data with more than two inputs: the first two principal
//! components (PCA) of the inputs as the network saw them (scaled), so the
//! prediction figure can draw true vs predicted class on a plane.

use nalgebra::{DMatrix, SymmetricEigen};

/// Samples projected on their first two principal components.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// (PC1, PC2) scores, one pair per sample, in the samples' order.
    pub xy: Vec<(f64, f64)>,
    /// Share of the total variance along PC1 and along PC2, each in [0, 1].
    pub explained: [f64; 2],
}

/// PCA of `rows` (n samples of d inputs): each input is centred on its
/// mean, the sample covariance `C = Xc^T Xc / (n - 1)` (d x d) is
/// decomposed with nalgebra's symmetric eigen-decomposition, and a sample's
/// scores are its centred inputs times the eigenvectors of the two largest
/// eigenvalues. As in scikit-learn's `PCA` (`svd_flip` with
/// `u_based_decision=False`), each component's sign makes its largest
/// loading (by absolute value, the first on a tie) positive, so the scores
/// equal `PCA(n_components=2).fit_transform(rows)`. The explained shares
/// are `lambda_k / sum(lambda)` (both 0 when every input is constant).
///
/// None when there are fewer than 2 samples or 2 inputs, the rows differ
/// in length, or a value is not finite.
pub fn principal_components(rows: &[Vec<f64>]) -> Option<Projection> {
    let (n, d) = (rows.len(), rows.first().map_or(0, Vec::len));
    if n < 2 || d < 2 || rows.iter().any(|r| r.len() != d || r.iter().any(|v| !v.is_finite())) {
        return None;
    }
    let x = DMatrix::from_fn(n, d, |i, j| rows[i][j]);
    let mean = x.row_mean();
    let centred = DMatrix::from_fn(n, d, |i, j| x[(i, j)] - mean[j]);
    let cov = centred.transpose() * &centred / (n - 1) as f64;
    let eigen = SymmetricEigen::new(cov);
    // Eigenvalues in no particular order: the two largest.
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let total: f64 = eigen.eigenvalues.iter().map(|l| l.max(0.0)).sum();
    let mut scores = [vec![0.0; n], vec![0.0; n]];
    let mut explained = [0.0; 2];
    for (k, &c) in order.iter().take(2).enumerate() {
        let mut v = eigen.eigenvectors.column(c).into_owned();
        let largest = (0..d).fold(0, |best, j| if v[j].abs() > v[best].abs() { j } else { best });
        if v[largest] < 0.0 {
            v.neg_mut();
        }
        scores[k] = (&centred * v).iter().copied().collect();
        explained[k] = if total > 0.0 { eigen.eigenvalues[c].max(0.0) / total } else { 0.0 };
    }
    let xy = scores[0].iter().copied().zip(scores[1].iter().copied()).collect();
    Some(Projection { xy, explained })
}

/// Pulls far-out scores in to the edge of the plotted range, so a few
/// extreme samples do not squeeze every other point into one strip (a pixel
/// that is almost always 0, standardised, puts a held-out sample hundreds of
/// standard deviations out). The range of each axis is Tukey's far-out
/// fences, `[Q1 - 3 IQR, Q3 + 3 IQR]` of that axis's scores (quartiles by
/// linear interpolation, numpy's default; Tukey, *Exploratory Data
/// Analysis*, 1977); it is left as it is when the IQR is 0. Returns how
/// many samples were moved.
pub fn clamp_far_out(xy: &mut [(f64, f64)]) -> usize {
    let fences = |values: Vec<f64>| -> Option<(f64, f64)> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.len() < 4 {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let at = p * (v.len() - 1) as f64;
            let (lo, frac) = (at.floor() as usize, at.fract());
            v[lo] + frac * (v[(lo + 1).min(v.len() - 1)] - v[lo])
        };
        let (q1, q3) = (q(0.25), q(0.75));
        let iqr = q3 - q1;
        (iqr > 0.0).then_some((q1 - 3.0 * iqr, q3 + 3.0 * iqr))
    };
    let fx = fences(xy.iter().map(|p| p.0).collect());
    let fy = fences(xy.iter().map(|p| p.1).collect());
    let mut moved = 0;
    for p in xy.iter_mut() {
        let before = *p;
        if let Some((lo, hi)) = fx {
            p.0 = p.0.clamp(lo, hi);
        }
        if let Some((lo, hi)) = fy {
            p.1 = p.1.clamp(lo, hi);
        }
        moved += usize::from(*p != before);
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quartiles as numpy computes them (`np.percentile(x, [25, 75])`, linear):
    /// for 0..=9 and 1000, Q1 = 2.5 and Q3 = 7.5, so the far-out fences are
    /// [-12.5, 22.5]: 1000 is pulled in to 22.5, the rest stay; an axis
    /// whose IQR is 0 is left alone.
    #[test]
    fn far_out_scores_are_pulled_to_tukeys_fences() {
        let mut xy: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
        xy.push((1000.0, 1.0));
        assert_eq!(clamp_far_out(&mut xy), 1);
        assert_eq!(xy[10], (22.5, 1.0));
        assert_eq!(xy[..10], (0..10).map(|i| (f64::from(i), 1.0)).collect::<Vec<_>>()[..]);
        let mut tight: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), f64::from(i))).collect();
        assert_eq!(clamp_far_out(&mut tight), 0, "nothing far out");
    }

    /// The first rows of `data/iris.csv` (sepal length, sepal width, petal
    /// length, petal width), and scikit-learn 1.9.1's PCA of them, computed
    /// once with:
    ///
    /// ```python
    /// import numpy as np; from sklearn.decomposition import PCA
    /// x = np.loadtxt("data/iris.csv", delimiter=",", skiprows=1, usecols=range(4))
    /// x = x[[0, 1, 50, 51, 100, 101, 2, 52]]
    /// p = PCA(n_components=2).fit(x)
    /// print(p.transform(x).tolist(), p.explained_variance_ratio_.tolist())
    /// ```
    ///
    /// (scikit-learn took its "full" solver here: an SVD of the centred
    /// data, not an eigen-decomposition of the covariance.)
    #[test]
    fn scores_and_shares_match_scikit_learn() {
        let x = vec![
            vec![5.1, 3.5, 1.4, 0.2],
            vec![4.9, 3.0, 1.4, 0.2],
            vec![7.0, 3.2, 4.7, 1.4],
            vec![6.4, 3.2, 4.5, 1.5],
            vec![6.3, 3.3, 6.0, 2.5],
            vec![5.8, 2.7, 5.1, 1.9],
            vec![4.7, 3.2, 1.3, 0.2],
            vec![6.9, 3.1, 4.9, 1.5],
        ];
        let want_xy = [
            (-2.5914593620474764, 0.15961842411108584),
            (-2.6487943590656022, -0.10818803304096658),
            (1.3609484358258532, 0.7160269542240236),
            (1.018221754875416, 0.18297612326831292),
            (2.6448667521720193, -0.5503309501375924),
            (1.4873529203648097, -0.7037044846396441),
            (-2.809070066084298, -0.230406957819695),
            (1.5379339239592706, 0.5340089240344765),
        ];
        let want_shares = [0.9460413870600508, 0.04508552418462576];
        let p = principal_components(&x).unwrap();
        for (i, (&(a, b), &(wa, wb))) in p.xy.iter().zip(&want_xy).enumerate() {
            assert!(
                (a - wa).abs() < 1e-12 && (b - wb).abs() < 1e-12,
                "sample {i}: ({a}, {b}) vs ({wa}, {wb})"
            );
        }
        for (got, want) in p.explained.iter().zip(want_shares) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn degenerate_inputs_give_none_or_zero_shares() {
        assert!(principal_components(&[vec![1.0, 2.0]]).is_none(), "one sample");
        assert!(principal_components(&[vec![1.0], vec![2.0]]).is_none(), "one input");
        assert!(principal_components(&[vec![1.0, 2.0], vec![1.0]]).is_none(), "ragged");
        assert!(principal_components(&[vec![1.0, f64::NAN], vec![1.0, 2.0]]).is_none(), "NaN");
        let flat = principal_components(&[vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 3.0]]).unwrap();
        assert_eq!(flat.explained, [0.0, 0.0]);
        assert!(flat.xy.iter().all(|&(a, b)| a == 0.0 && b == 0.0));
    }
}
