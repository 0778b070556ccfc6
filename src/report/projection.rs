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

#[cfg(test)]
mod tests {
    use super::*;

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
