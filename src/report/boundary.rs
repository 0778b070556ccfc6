//! The decision boundary: a job's saved model.json rebuilt as a
//! [`Network`] and evaluated on a grid over the input plane, so the figure
//! shows what the trained network predicts everywhere, not only at the
//! samples. Only 2-input models have a plane to shade; the plane is in raw
//! input units, scaled as the model was trained before it is evaluated.

use std::path::Path;

use ndarray::Array2;

use crate::data::Scaling;
use crate::nn::{Layout, Network};
use crate::spec::Activation;
use crate::weights::WeightsFile;

/// Predicted class index on an `n` x `n` grid of cell centres over `x`
/// (horizontal) and `y` (vertical); row-major from the bottom row.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub n: usize,
    pub class: Vec<usize>,
}

impl Grid {
    pub fn class_at(&self, ix: usize, iy: usize) -> usize {
        self.class[iy * self.n + ix]
    }
}

/// A saved model: the network, and the input scaling it was trained with.
#[derive(Debug, Clone)]
pub struct Saved {
    pub net: Network,
    pub scaling: Option<Scaling>,
}

/// Rebuilds the model saved in `path`. Layer sizes and bias come from the
/// file itself (so the report needs no other parameter than the
/// activations); every shape is checked by [`WeightsFile::to_params`], and
/// the scaling's width against the inputs'.
pub fn load_network(path: &Path, activation: Activation, output: Activation) -> Result<Saved, String> {
    network_of(path, WeightsFile::load(path).map_err(|e| e.to_string())?, activation, output)
}

/// [`load_network`] of a job's model.json (in its folder or its pack).
pub fn load_job_network(
    job: &crate::store::JobRef,
    activation: Activation,
    output: Activation,
) -> Result<Saved, String> {
    let file = WeightsFile::of_job(job).map_err(|e| e.to_string())?;
    network_of(&job.label(crate::store::MODEL), file, activation, output)
}

/// The network of a parsed weights file (named `path` in messages).
fn network_of(
    path: &Path,
    file: WeightsFile,
    activation: Activation,
    output: Activation,
) -> Result<Saved, String> {
    let first = file.layers.first().ok_or_else(|| format!("{}: no layers", path.display()))?;
    let mut sizes = vec![first.w.len()];
    for (l, layer) in file.layers.iter().enumerate() {
        let fan_out = layer.w.first().map_or(0, Vec::len);
        if fan_out == 0 {
            return Err(format!("{}: layer {l} has an empty weight matrix", path.display()));
        }
        sizes.push(fan_out);
    }
    if let Some(s) = &file.scaling
        && (s.offset.len() != sizes[0] || s.divisor.len() != sizes[0])
    {
        return Err(format!(
            "{}: the scaling has {} inputs, the network {}",
            path.display(),
            s.offset.len(),
            sizes[0]
        ));
    }
    let layout = Layout::new(&sizes, first.b.is_some());
    let params = file.to_params(&layout).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Saved {
        net: Network { layout, activation, output_activation: output, params },
        scaling: file.scaling,
    })
}

/// The model's predicted class over an `n` x `n` grid covering `x` and `y`
/// (raw input units). Needs a 2-input network; one output unit predicts
/// class 1 at >= 0.5, several their argmax.
pub fn grid(model: &Saved, x: (f64, f64), y: (f64, f64), n: usize) -> Result<Grid, String> {
    let sizes = model.net.layout.sizes();
    if sizes.first() != Some(&2) {
        return Err(format!("the model maps {sizes:?}; a decision boundary needs 2 inputs"));
    }
    let (dx, dy) = ((x.1 - x.0) / n as f64, (y.1 - y.0) / n as f64);
    // points: (n * n, 2), row-major from the bottom row.
    let points = Array2::from_shape_fn((n * n, 2), |(i, j)| {
        let (ix, iy) = (i % n, i / n);
        if j == 0 { x.0 + (ix as f64 + 0.5) * dx } else { y.0 + (iy as f64 + 0.5) * dy }
    });
    let inputs = match &model.scaling {
        Some(s) => s.apply(&points),
        None => points,
    };
    let out = crate::train::predict(&model.net, inputs.view());
    let class = out.rows().into_iter().map(|o| crate::nn::predicted_class(o.iter().copied())).collect();
    Ok(Grid { x, y, n, class })
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
        let model = load_network(&path, Activation::Sigmoid, Activation::Sigmoid).unwrap();
        let g = grid(&model, (0.0, 1.0), (0.0, 1.0), 4).unwrap();
        assert_eq!(g.class_at(3, 0), 1, "bottom right: x0 > x1");
        assert_eq!(g.class_at(0, 3), 0, "top left: x0 < x1");
    }

    /// The plane is in raw units: the saved scaling is applied before the
    /// network, as when the job trained. Here x0' = (x0 - 10) / 100, so the
    /// line x0' = x1 is x0 = 10 + 100 x1.
    #[test]
    fn a_scaled_model_is_evaluated_on_scaled_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(
            &path,
            r#"{"layers": [{"w": [[1.0], [-1.0]], "b": null}],
                "scaling": {"method": "standard", "offset": [10.0, 0.0], "divisor": [100.0, 1.0]}}"#,
        )
        .unwrap();
        let model = load_network(&path, Activation::Sigmoid, Activation::Sigmoid).unwrap();
        // Cells of the 2 x 2 grid over x0 in [0, 200), x1 in [0, 1): centres
        // x0 = 50 or 150, x1 = 0.25 or 0.75; class 1 where x0 > 10 + 100 x1.
        let g = grid(&model, (0.0, 200.0), (0.0, 1.0), 2).unwrap();
        assert_eq!(g.class, vec![1, 1, 0, 1], "raw x0 - x1 > 0 everywhere would give all 1");
    }

    #[test]
    fn several_outputs_shade_their_argmax() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        // Outputs (x0, x1, 0.6): class 2 near the origin, else the larger input
        // (the first on a tie).
        std::fs::write(
            &path,
            r#"{"layers": [{"w": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "b": [0.0, 0.0, 0.6]}]}"#,
        )
        .unwrap();
        let model = load_network(&path, Activation::Sigmoid, Activation::None).unwrap();
        let g = grid(&model, (0.0, 2.0), (0.0, 2.0), 2).unwrap();
        assert_eq!(g.class, vec![2, 0, 1, 0], "centres (0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (1.5, 1.5)");
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
