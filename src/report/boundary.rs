//! The decision boundary: a job's saved model.json rebuilt as a
//! [`Network`] and evaluated on a grid over the input plane, so the figure
//! shows what the trained network predicts everywhere, not only at the
//! samples. Only 2-input models have a plane to shade.

use std::path::Path;

use ndarray::Array2;

use crate::nn::{Layout, Network};
use crate::spec::Activation;
use crate::weights::WeightsFile;

/// Predicted class (output >= 0.5) on an `n` x `n` grid of cell centres
/// over `x` (horizontal) and `y` (vertical); row-major from the bottom row.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub n: usize,
    pub class: Vec<bool>,
}

impl Grid {
    pub fn class_at(&self, ix: usize, iy: usize) -> bool {
        self.class[iy * self.n + ix]
    }
}

/// Rebuilds the network saved in `path`. Layer sizes and bias come from the
/// file itself (so the report needs no other parameter than the
/// activations); every shape is checked by [`WeightsFile::to_params`].
pub fn load_network(path: &Path, activation: Activation, output: Activation) -> Result<Network, String> {
    let file = WeightsFile::load(path).map_err(|e| e.to_string())?;
    let first = file.layers.first().ok_or_else(|| format!("{}: no layers", path.display()))?;
    let mut sizes = vec![first.w.len()];
    for (l, layer) in file.layers.iter().enumerate() {
        let fan_out = layer.w.first().map_or(0, Vec::len);
        if fan_out == 0 {
            return Err(format!("{}: layer {l} has an empty weight matrix", path.display()));
        }
        sizes.push(fan_out);
    }
    let layout = Layout::new(&sizes, first.b.is_some());
    let params = file.to_params(&layout).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Network { layout, activation, output_activation: output, params })
}

/// The network's predicted class over an `n` x `n` grid covering `x` and `y`.
/// Needs a 2-input, 1-output network.
pub fn grid(net: &Network, x: (f64, f64), y: (f64, f64), n: usize) -> Result<Grid, String> {
    let sizes = net.layout.sizes();
    if sizes.first() != Some(&2) || sizes.last() != Some(&1) {
        return Err(format!("the model maps {sizes:?}; a decision boundary needs 2 inputs and 1 output"));
    }
    let (dx, dy) = ((x.1 - x.0) / n as f64, (y.1 - y.0) / n as f64);
    // points: (n * n, 2), row-major from the bottom row.
    let points = Array2::from_shape_fn((n * n, 2), |(i, j)| {
        let (ix, iy) = (i % n, i / n);
        if j == 0 { x.0 + (ix as f64 + 0.5) * dx } else { y.0 + (iy as f64 + 0.5) * dy }
    });
    let out = crate::train::predict(net, points.view());
    Ok(Grid { x, y, n, class: out.column(0).iter().map(|&o| o >= 0.5).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_model_splits_the_plane_on_its_line() {
        // One linear layer, output sigmoid(x0 - x1): class 1 where x0 > x1.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, r#"{"layers": [{"w": [[1.0], [-1.0]], "b": null}]}"#).unwrap();
        let net = load_network(&path, Activation::Sigmoid, Activation::Sigmoid).unwrap();
        let g = grid(&net, (0.0, 1.0), (0.0, 1.0), 4).unwrap();
        assert!(g.class_at(3, 0), "bottom right: x0 > x1");
        assert!(!g.class_at(0, 3), "top left: x0 < x1");
    }

    #[test]
    fn broken_models_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        for text in [
            r#"{"layers": []}"#,
            r#"{"layers": [{"w": [[]], "b": null}]}"#,
            "{",
            r#"{"layers": [{"w": [[1.0], [1.0, 2.0]], "b": null}]}"#,
        ] {
            std::fs::write(&path, text).unwrap();
            assert!(load_network(&path, Activation::Sigmoid, Activation::Sigmoid).is_err(), "{text}");
        }
    }
}
