//! `sweep export`: every logged epoch of every job in one long (tidy) table,
//! one row per (job, epoch) with the job's parameters as columns, so
//! `pandas.read_csv` + `seaborn.lineplot(hue=...)` work directly.
//! Streams job by job: memory stays bounded by one curve.

use std::io::Write;
use std::path::Path;

use crate::spec::{self, KEYS};
use crate::store::{self, StoreError, fmt_f64};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    /// An array of flat records (`orient="records"` in pandas).
    Json,
}

/// Writes the table for the results folder `dir` to `out`; returns its rows.
pub fn export(dir: &Path, format: ExportFormat, out: &mut dyn Write) -> Result<usize, StoreError> {
    let rows = store::load_rows(dir)?;
    let io = |source| StoreError::Io { path: dir.to_path_buf(), source };
    let mut columns: Vec<&str> = vec!["job_id", "seed"];
    columns.extend(KEYS.iter().map(|k| k.name));
    columns.extend(["status", "epoch", "loss", "accuracy", "test_loss", "test_accuracy"]);

    // One job's curve at a time, as rows of cells.
    let each_row =
        |emit: &mut dyn FnMut(Vec<String>) -> Result<(), StoreError>| -> Result<usize, StoreError> {
            let mut n = 0;
            for row in &rows {
                let curve = store::read_curve(&dir.join(&row.curve))?;
                for r in &curve {
                    let opt = |v: Option<f64>| v.map(fmt_f64).unwrap_or_default();
                    let mut cells: Vec<String> = vec![row.job_id.clone(), row.seed.to_string()];
                    cells.extend(KEYS.iter().map(|k| row.param(k.name).unwrap_or("").to_string()));
                    cells.extend([
                        row.outcome.status.clone(),
                        r.epoch.to_string(),
                        fmt_f64(r.loss),
                        fmt_f64(r.accuracy),
                        opt(r.test_loss),
                        opt(r.test_accuracy),
                    ]);
                    emit(cells)?;
                    n += 1;
                }
            }
            Ok(n)
        };

    let n = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            // Keep the I/O error's kind: a closed pipe must stay a BrokenPipe.
            let csv_err = |e: csv::Error| match e.into_kind() {
                csv::ErrorKind::Io(source) => io(source),
                other => io(std::io::Error::other(format!("{other:?}"))),
            };
            w.write_record(&columns).map_err(csv_err)?;
            let n = each_row(&mut |cells| w.write_record(&cells).map_err(csv_err))?;
            w.flush().map_err(io)?;
            n
        }
        ExportFormat::Json => {
            out.write_all(b"[").map_err(io)?;
            let mut first = true;
            let n = each_row(&mut |cells| {
                let record: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .zip(&cells)
                    .map(|(c, v)| (c.to_string(), spec::json_param(c, v).unwrap_or_else(|| json_cell(v))))
                    .collect();
                let sep = if first { "\n" } else { ",\n" };
                first = false;
                write!(out, "{sep}{}", serde_json::Value::Object(record)).map_err(io)
            })?;
            out.write_all(b"\n]\n").map_err(io)?;
            n
        }
    };
    out.flush().map_err(io)?;
    Ok(n)
}

/// A result cell (parameters take their type from [`spec::json_param`]):
/// numbers as JSON numbers, empty cells as null, non-finite as null (JSON
/// has no NaN), everything else as strings.
fn json_cell(v: &str) -> serde_json::Value {
    if v.is_empty() {
        return serde_json::Value::Null;
    }
    if let Ok(i) = v.parse::<i64>() {
        return i.into();
    }
    match store::parse_f64(v) {
        Some(f) if f.is_finite() => f.into(),
        Some(_) => serde_json::Value::Null,
        None => match v {
            "true" => true.into(),
            "false" => false.into(),
            _ => v.into(),
        },
    }
}
