//! TensorBoard scalar CSV exports: `Wall time,Step,Value`, one file per (run, tag), with run and
//! tag only in the file name `run-<run>-tag-<tag>.csv` (TensorBoard writes a tag's `/` as `_`,
//! so `objective/kl` arrives as `objective_kl`; key matching treats `/` and `_` alike). Several
//! files are merged into points by (run, step); a name of another shape gives tag = file stem
//! and no run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::detect::tensorboard_name;
use super::wandb::{cell, read_csv};
use super::{LogPoint, LogRecords};
use crate::error::{Error, Result};
use crate::ingest::LogFormat;

pub fn read(paths: &[PathBuf]) -> Result<LogRecords> {
    let mut records = LogRecords::new(paths.to_vec(), LogFormat::Tensorboard);
    records.see("Step");
    let mut index: HashMap<(Option<String>, u64), usize> = HashMap::new();
    // Which file gave each (run, step, tag), for messages about duplicates.
    let mut origin: HashMap<(Option<String>, u64, String), PathBuf> = HashMap::new();
    for path in paths {
        let (header, rows) = read_csv(path)?;
        if header != ["Wall time", "Step", "Value"] {
            return Err(Error::WrongFormat {
                path: path.clone(),
                expected: "tensorboard",
                detected: "CSV of another layout",
                reason: format!(
                    "a TensorBoard scalar export has the header 'Wall time,Step,Value'; found '{}'",
                    header.join(",")
                ),
            });
        }
        let (run, tag) = match tensorboard_name(path) {
            Some((run, tag)) => (Some(run), tag),
            None => (None, stem(path)),
        };
        records.see(&tag);
        for (r, row) in rows.iter().enumerate() {
            let row_no = r + 1;
            let Some(step) = cell(path, "Step", row_no, &row[1])? else {
                return Err(Error::BadValue {
                    path: path.clone(),
                    column: "Step".to_string(),
                    row: row_no,
                    value: String::new(),
                    problem: "missing step".to_string(),
                });
            };
            let Some(value) = cell(path, "Value", row_no, &row[2])? else {
                continue;
            };
            let id = (run.clone(), step.to_bits());
            if let Some(first) =
                origin.insert((run.clone(), step.to_bits(), tag.clone()), path.clone())
            {
                records.repeated.push(super::RepeatedStep {
                    key: tag.clone(),
                    path: path.clone(),
                    row: row_no,
                    value: crate::format::fmt_num(step),
                    problem: format!(
                        "tag '{tag}' of run '{}' has this step twice (also in {})",
                        run.as_deref().unwrap_or(""),
                        first.file_name().unwrap_or_default().to_string_lossy()
                    ),
                });
            }
            let next = records.points.len();
            let i = *index.entry(id).or_insert(next);
            if i == next {
                let mut values = HashMap::new();
                values.insert("Step".to_string(), step);
                records.points.push(LogPoint {
                    run: run.clone(),
                    values,
                    at: format!("step {}", crate::format::fmt_num(step)),
                });
            }
            records.points[i].values.insert(tag.clone(), value);
        }
    }
    records
        .ignored
        .push("Wall time: not needed (points are joined on Step)".to_string());
    let step_of = |p: &LogPoint| p.values.get("Step").copied().unwrap_or(0.0);
    records
        .points
        .sort_by(|a, b| a.run.cmp(&b.run).then(step_of(a).total_cmp(&step_of(b))));
    Ok(records)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
