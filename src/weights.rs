//! The weights JSON format (SPEC 4), used for `init = "file.json"` and for
//! each job's saved `model.json`:
//! `{"layers": [{"w": [[..], ..], "b": [..] or null}, ...]}`, `w` of shape
//! (fan_in, fan_out).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::Scaling;
use crate::nn::Layout;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsFile {
    pub layers: Vec<LayerWeights>,
    /// A saved model's classes (CSV data: as in the file), class i = target i.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// The input scaling fitted on the training split (`scale`): a saved
    /// model predicts from raw inputs `x` as `net((x - offset) / divisor)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerWeights {
    pub w: Vec<Vec<f64>>,
    pub b: Option<Vec<f64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("cannot read weights file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "weights file {path}: not valid weights JSON ({source}); expected {{\"layers\": [{{\"w\": [[..]], \"b\": [..] or null}}, ..]}}"
    )]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("weights file {path}: {problem}")]
    Shape { path: PathBuf, problem: String },
}

impl WeightsFile {
    /// The flat parameters of `layout` as layers.
    pub fn from_params(layout: &Layout, params: &[f64]) -> WeightsFile {
        let layers = (0..layout.layers.len())
            .map(|l| LayerWeights {
                w: layout.w(params, l).rows().into_iter().map(|r| r.to_vec()).collect(),
                b: layout.b(params, l).map(|b| b.to_vec()),
            })
            .collect();
        WeightsFile { layers, classes: None, scaling: None }
    }

    /// The network's inputs for raw inputs `x` (n, d): scaled as fitted, or
    /// `x` itself without scaling. Errors when the widths differ.
    pub fn inputs(&self, x: &ndarray::Array2<f64>) -> Result<ndarray::Array2<f64>, String> {
        match &self.scaling {
            None => Ok(x.clone()),
            Some(s) if s.offset.len() == x.ncols() && s.divisor.len() == x.ncols() => Ok(s.apply(x)),
            Some(s) => Err(format!("scaling has {} inputs, the data {}", s.offset.len(), x.ncols())),
        }
    }

    /// Flat parameters for `layout`, or what does not fit.
    pub fn to_params(&self, layout: &Layout) -> Result<Vec<f64>, String> {
        if self.layers.len() != layout.layers.len() {
            return Err(format!(
                "has {} layers, the network has {} (sizes {:?})",
                self.layers.len(),
                layout.layers.len(),
                layout.sizes()
            ));
        }
        let mut params = vec![0.0; layout.len];
        for (l, (file, shape)) in self.layers.iter().zip(&layout.layers).enumerate() {
            let rows = file.w.len();
            let bad_row = file.w.iter().position(|r| r.len() != shape.fan_out);
            if rows != shape.fan_in || bad_row.is_some() {
                let cols = file.w.get(bad_row.unwrap_or(0)).map_or(0, Vec::len);
                return Err(format!(
                    "layer {l}: w is {rows}x{cols}, expected {}x{} (fan_in x fan_out)",
                    shape.fan_in, shape.fan_out
                ));
            }
            params[shape.w.clone()].copy_from_slice(&file.w.concat());
            match (&file.b, &shape.b) {
                (Some(b), Some(range)) if b.len() == shape.fan_out => {
                    params[range.clone()].copy_from_slice(b)
                }
                (Some(b), Some(_)) => {
                    return Err(format!("layer {l}: b has {} values, expected {}", b.len(), shape.fan_out));
                }
                (None, None) => {}
                (Some(_), None) => return Err(format!("layer {l}: has a bias but the job has bias = false")),
                (None, Some(_)) => return Err(format!("layer {l}: has no bias but the job has bias = true")),
            }
        }
        if params.iter().any(|v| !v.is_finite()) {
            return Err("contains a non-finite value".into());
        }
        Ok(params)
    }

    pub fn load(path: &Path) -> Result<WeightsFile, WeightsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| WeightsError::Io { path: path.to_path_buf(), source })?;
        Self::parse(path, text.as_bytes())
    }

    /// Parses the contents of a weights file (named `path` in messages).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<WeightsFile, WeightsError> {
        serde_json::from_slice(bytes)
            .map_err(|source| WeightsError::Json { path: path.to_path_buf(), source })
    }

    /// A job's model.json (a folder's file, or a packed job's).
    pub fn of_job(job: &crate::store::JobRef) -> Result<WeightsFile, WeightsError> {
        let path = job.label(crate::store::MODEL);
        let io = |source| WeightsError::Io { path: path.clone(), source };
        let bytes = job
            .read(crate::store::MODEL)
            .map_err(|e| io(std::io::Error::other(e.to_string())))?
            .ok_or_else(|| io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")))?;
        Self::parse(&path, &bytes)
    }

    /// Parses the contents of the weights file `path` and checks them
    /// against `layout`.
    pub fn params_from(path: &Path, bytes: &[u8], layout: &Layout) -> Result<Vec<f64>, WeightsError> {
        let file: WeightsFile = serde_json::from_slice(bytes)
            .map_err(|source| WeightsError::Json { path: path.to_path_buf(), source })?;
        file.to_params(layout).map_err(|problem| WeightsError::Shape { path: path.to_path_buf(), problem })
    }

    /// Loads `path` and checks it against `layout`.
    pub fn load_params(path: &Path, layout: &Layout) -> Result<Vec<f64>, WeightsError> {
        Self::load(path)?
            .to_params(layout)
            .map_err(|problem| WeightsError::Shape { path: path.to_path_buf(), problem })
    }

    /// JSON with one line per weight row: readable, and a third of the size
    /// of fully pretty-printed JSON. f64 values print in shortest round-trip
    /// form, so a saved model reloads bit for bit.
    pub fn to_json(&self) -> String {
        // Into one buffer: serde_json's compact text of each row, vector
        // and table, laid out as above.
        fn compact<T: Serialize>(out: &mut Vec<u8>, v: &T) {
            serde_json::to_writer(&mut *out, v).expect("numbers serialize");
        }
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(b"{\"layers\": [\n");
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            out.extend_from_slice(b"  {\"w\": [\n    ");
            for (j, row) in layer.w.iter().enumerate() {
                if j > 0 {
                    out.extend_from_slice(b",\n    ");
                }
                compact(&mut out, row);
            }
            out.extend_from_slice(b"\n  ],\n  \"b\": ");
            compact(&mut out, &layer.b);
            out.push(b'}');
        }
        out.extend_from_slice(b"\n]");
        if let Some(classes) = &self.classes {
            out.extend_from_slice(b",\n\"classes\": ");
            compact(&mut out, classes);
        }
        if let Some(s) = &self.scaling {
            out.extend_from_slice(b",\n\"scaling\": ");
            compact(&mut out, s);
        }
        out.extend_from_slice(b"}\n");
        // serde_json writes UTF-8.
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// to_json as it was written before it wrote into one buffer.
    fn to_json_by_format(file: &WeightsFile) -> String {
        fn compact<T: Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap()
        }
        let layers: Vec<String> = file
            .layers
            .iter()
            .map(|layer| {
                let rows: Vec<String> = layer.w.iter().map(compact).collect();
                format!("  {{\"w\": [\n    {}\n  ],\n  \"b\": {}}}", rows.join(",\n    "), compact(&layer.b))
            })
            .collect();
        let mut extra = String::new();
        if let Some(classes) = &file.classes {
            extra.push_str(&format!(",\n\"classes\": {}", compact(classes)));
        }
        if let Some(s) = &file.scaling {
            extra.push_str(&format!(",\n\"scaling\": {}", compact(s)));
        }
        format!("{{\"layers\": [\n{}\n]{extra}}}\n", layers.join(",\n"))
    }

    #[test]
    fn to_json_is_the_text_format_wrote() {
        let mut state = 5u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 11
        };
        for case in 0..300usize {
            let sizes: Vec<usize> = (0..1 + case % 4).map(|i| (case + 3 * i) % 5).collect();
            let layout = Layout::new(&sizes, case % 2 == 0);
            let params: Vec<f64> = (0..layout.len)
                .map(|i| match (case + i) % 4 {
                    0 => f64::from_bits(next()) % 1e6,
                    1 => (next() % 1000) as f64 * 1e-7,
                    2 => -((next() % 7) as f64),
                    _ => next() as f64 * 2.0f64.powi(-53),
                })
                .filter(|v| v.is_finite())
                .chain(std::iter::repeat(0.5))
                .take(layout.len)
                .collect();
            let mut file = WeightsFile::from_params(&layout, &params);
            if case % 3 == 1 {
                file.classes = Some(vec!["a,\"b\"".into(), "ü".into(), String::new()]);
            }
            if case % 5 == 2 {
                file.scaling = Some(Scaling {
                    method: "standard".into(),
                    offset: vec![1.0, -0.1],
                    divisor: vec![2.0, 1e-9],
                });
            }
            assert_eq!(file.to_json(), to_json_by_format(&file), "case {case}: {sizes:?}");
        }
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let layout = Layout::new(&[2, 3, 1], true);
        let params: Vec<f64> = (0..layout.len).map(|i| (i as f64).sin() / 3.0).collect();
        let json = WeightsFile::from_params(&layout, &params).to_json();
        let back: WeightsFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_params(&layout).unwrap(), params);
        assert!(!json.contains("scaling") && !json.contains("classes"), "lab model files unchanged");
    }

    #[test]
    fn classes_and_scaling_round_trip() {
        let layout = Layout::new(&[2, 1], false);
        let mut file = WeightsFile::from_params(&layout, &[0.5, -0.25]);
        file.classes = Some(vec!["no".into(), "yes".into()]);
        file.scaling = Some(Scaling {
            method: "standard".into(),
            offset: vec![1.0, 0.1],
            divisor: vec![2.0, 1.0 / 3.0],
        });
        let back: WeightsFile = serde_json::from_str(&file.to_json()).unwrap();
        assert_eq!(back, file);
        let x = ndarray::array![[3.0, 0.1]];
        assert_eq!(back.inputs(&x).unwrap(), ndarray::array![[1.0, 0.0]]);
        assert!(back.inputs(&ndarray::array![[1.0]]).is_err());
    }

    #[test]
    fn shape_mismatches_are_explained() {
        let layout = Layout::new(&[2, 3, 1], false);
        let wrong = WeightsFile::from_params(&Layout::new(&[2, 4, 1], false), &[0.0; 12]);
        let e = wrong.to_params(&layout).unwrap_err();
        assert!(e.contains("layer 0: w is 2x4, expected 2x3"), "{e}");
        let with_bias = WeightsFile::from_params(&Layout::new(&[2, 3, 1], true), &[0.0; 13]);
        assert!(with_bias.to_params(&layout).unwrap_err().contains("bias = false"));
    }
}
