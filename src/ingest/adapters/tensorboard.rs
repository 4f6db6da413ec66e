//! TensorBoard scalar CSV exports: `Wall time,Step,Value`, one file per (run, tag), with run and
//! tag only in the file name `run-<run>-tag-<tag>.csv` (TensorBoard writes a tag's `/` as `_`,
//! so `objective/kl` arrives as `objective_kl`; key matching treats `/` and `_` alike). Several
//! files are merged into points by (run, step); a name of another shape gives tag = file stem
//! and no run. A step listed twice for a tag (TensorBoard exports both values of a restarted
//! run, and TRL's final summary repeats `epoch` at the last step) keeps the row with the later
//! `Wall time`, the rule of the event-file reader ([`super::tfevents`]), so that an export and
//! its event files give the same table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::LogRecords;
use super::detect::tensorboard_name;
use super::tfevents::{Stamped, merge_series, replaced_note};
use super::wandb::{cell, read_csv};
use crate::error::{Error, Result};
use crate::ingest::LogFormat;

pub fn read(paths: &[PathBuf]) -> Result<LogRecords> {
    let mut records = LogRecords::new(paths.to_vec(), LogFormat::Tensorboard);
    records.see("Step");
    let mut series: BTreeMap<(Option<String>, String), Vec<Stamped>> = BTreeMap::new();
    for (file, path) in paths.iter().enumerate() {
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
        let values = series.entry((run, tag)).or_default();
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
            let wall_time = cell(path, "Wall time", row_no, &row[0])?.unwrap_or(f64::NAN);
            values.push(Stamped {
                wall_time,
                file,
                record: r,
                step,
                value,
            });
        }
    }
    records.ignored.push(
        "Wall time: not needed (points are joined on Step; it orders rewritten steps)".to_string(),
    );
    let (points, replaced) = merge_series(series, "Step");
    records.notes.extend(replaced_note(replaced));
    records.points = points;
    Ok(records)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
