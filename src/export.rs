//! `sweep export`: every logged epoch of every job in one long (tidy) table,
//! one row per (job, epoch) with the job's parameters as columns, so
//! `pandas.read_csv` + `seaborn.lineplot(hue=...)` work directly.
//!
//! Streams job by job and epoch by epoch: memory stays bounded by one row,
//! whatever the number of jobs or the length of their curves. A job's
//! leading cells (id, seed, parameters, status) are encoded once per job;
//! each epoch then appends its numbers to one reused buffer, so no text is
//! allocated per cell. Values are written from their types (SPEC 6's
//! number forms; JSON numbers, booleans and strings from the parameter
//! table's kinds), never guessed from text.

use std::io::Write;
use std::path::Path;

use crate::spec::{KEYS, Typed};
use crate::store::{self, StoreError, SummaryRow};
use crate::train::EpochRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    /// An array of flat records (`orient="records"` in pandas).
    Json,
}

/// The curve's columns, after the job's (id, seed, parameters, status):
/// curve.csv's `loss` and `accuracy` become `train_loss` and
/// `train_accuracy`, named apart from the parameter `loss` (the loss
/// function, "mse"), which pandas would otherwise shadow as `loss.1`.
pub const CURVE_COLUMNS: [&str; 5] = ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"];

/// Every column of the table, in order.
pub fn columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = vec!["job_id", "seed"];
    columns.extend(KEYS.iter().map(|k| k.name));
    columns.push("status");
    columns.extend(CURVE_COLUMNS);
    columns
}

/// Writes the table for the results folder `dir` to `out`; returns its rows.
pub fn export(dir: &Path, format: ExportFormat, out: &mut dyn Write) -> Result<usize, StoreError> {
    let io = |source| StoreError::Io { path: dir.to_path_buf(), source };
    let mut out = std::io::BufWriter::with_capacity(256 << 10, out);
    let mut line: Vec<u8> = Vec::with_capacity(1024);
    let mut n = 0;
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(columns()).map_err(csv_err(dir))?;
            out.write_all(&w.into_inner().map_err(|e| io(e.into_error()))?).map_err(io)?;
        }
        ExportFormat::Json => out.write_all(b"[").map_err(io)?,
    }
    store::each_row(dir, &mut |row| {
        let prefix = match format {
            ExportFormat::Csv => csv_prefix(&row).map_err(csv_err(dir))?,
            ExportFormat::Json => json_prefix(&row),
        };
        let mut curve = row.at.curve()?;
        while let Some(r) = curve.next_record()? {
            line.clear();
            match format {
                ExportFormat::Csv => {
                    line.extend_from_slice(&prefix);
                    csv_numbers(&mut line, &r);
                }
                ExportFormat::Json => {
                    line.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
                    line.extend_from_slice(&prefix);
                    json_numbers(&mut line, &r);
                }
            }
            out.write_all(&line).map_err(io)?;
            n += 1;
        }
        Ok(())
    })?;
    if format == ExportFormat::Json {
        out.write_all(b"\n]\n").map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(n)
}

/// A csv error as an I/O error of `dir`, keeping the kind: a closed pipe
/// must stay a BrokenPipe.
fn csv_err(dir: &Path) -> impl Fn(csv::Error) -> StoreError + '_ {
    move |e| {
        let source = match e.into_kind() {
            csv::ErrorKind::Io(source) => source,
            other => std::io::Error::other(format!("{other:?}")),
        };
        StoreError::Io { path: dir.to_path_buf(), source }
    }
}

/// A job's leading CSV cells, quoted as the csv crate quotes them, and the
/// comma before the curve's cells.
fn csv_prefix(row: &SummaryRow) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(256));
    w.write_field(&row.job_id)?;
    w.write_field(row.seed.to_string())?;
    for (_, v) in row.params.typed() {
        match v {
            Some(v) => w.write_field(v.to_string())?,
            None => w.write_field("")?,
        }
    }
    w.write_field(&row.outcome.status)?;
    let mut bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    bytes.push(b',');
    Ok(bytes)
}

/// `epoch,loss,accuracy,test_loss,test_accuracy` and the line's end
/// (numbers never need quoting; an absent held-out value is empty).
fn csv_numbers(line: &mut Vec<u8>, r: &EpochRecord) {
    let _ = write!(line, "{},", r.epoch);
    store::write_f64_bytes(line, r.loss);
    line.push(b',');
    store::write_f64_bytes(line, r.accuracy);
    line.push(b',');
    if let Some(v) = r.test_loss {
        store::write_f64_bytes(line, v);
    }
    line.push(b',');
    if let Some(v) = r.test_accuracy {
        store::write_f64_bytes(line, v);
    }
    line.push(b'\n');
}

/// A job's leading JSON members in column order, `{"job_id":...,"status":"ok",`:
/// numbers and booleans typed by the parameter table, absent parameters null.
fn json_prefix(row: &SummaryRow) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(512);
    let mut member = |name: &str, value: &serde_json::Value| {
        bytes.push(if bytes.is_empty() { b'{' } else { b',' });
        let _ = serde_json::to_writer(&mut bytes, name);
        bytes.push(b':');
        let _ = serde_json::to_writer(&mut bytes, value);
    };
    member("job_id", &row.job_id.as_str().into());
    member("seed", &row.seed.into());
    for (k, v) in row.params.typed() {
        member(k.name, &v.map_or(serde_json::Value::Null, Typed::to_json));
    }
    member("status", &row.outcome.status.as_str().into());
    bytes.push(b',');
    bytes
}

/// The curve's JSON members and the closing brace; a non-finite number
/// (a diverged loss) or an absent one is null (JSON has no NaN).
fn json_numbers(line: &mut Vec<u8>, r: &EpochRecord) {
    let names = CURVE_COLUMNS;
    let _ = write!(line, "\"{}\":{}", names[0], r.epoch);
    for (name, v) in names[1..].iter().zip([Some(r.loss), Some(r.accuracy), r.test_loss, r.test_accuracy]) {
        let _ = write!(line, ",\"{name}\":");
        match v {
            Some(v) if v.is_finite() => {
                let _ = serde_json::to_writer(&mut *line, &v);
            }
            _ => line.extend_from_slice(b"null"),
        }
    }
    line.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_summary_csv_writes_them() {
        let r = EpochRecord {
            epoch: 7,
            loss: 0.1,
            accuracy: 1.0,
            test_loss: None,
            test_accuracy: Some(f64::NAN),
        };
        let mut line = Vec::new();
        csv_numbers(&mut line, &r);
        assert_eq!(String::from_utf8(line).unwrap(), "7,0.1,1.0,,NaN\n");
        let mut line = b"{".to_vec();
        json_numbers(&mut line, &r);
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"epoch": 7, "train_loss": 0.1, "train_accuracy": 1.0, "test_loss": null, "test_accuracy": null})
        );
    }

    /// pandas renames a repeated column (`loss.1`): every name is unique.
    #[test]
    fn every_column_name_is_unique() {
        let columns = columns();
        let distinct: std::collections::BTreeSet<&str> = columns.iter().copied().collect();
        assert_eq!(distinct.len(), columns.len(), "{columns:?}");
        assert!(columns.contains(&"loss") && columns.contains(&"train_loss"));
    }
}
