//! W&B panel CSV export: `Step`, then per run `<run> - <metric>`, `<run> - <metric>__MIN`,
//! `<run> - <metric>__MAX`; a cell is empty where a run has no point at that step.
//!
//! A column name is split on the ` - ` that leaves a known metric key after it (run names may
//! contain ` - ` themselves), else on the last ` - `. Each (row, run) with at least one value is
//! one point. `__MIN`/`__MAX` columns are ignored: they are the range of the raw points W&B
//! folded into one plotted point (its sampling), not a standard error, so they are listed as
//! ignored rather than used as error bars.

use std::path::Path;

use super::{LogPoint, LogRecords, keys};
use crate::error::{Error, Result};
use crate::ingest::LogFormat;

/// A column of the export.
enum Col {
    Step,
    Metric { run: Option<String>, key: String },
    Ignored,
}

/// Splits `<run> - <metric>`; `wanted` are the keys the mapping will look for.
pub fn split_column(name: &str, wanted: &[String]) -> (Option<String>, String) {
    let cuts: Vec<usize> = name.match_indices(" - ").map(|(i, _)| i).collect();
    let Some(&last) = cuts.last() else {
        return (None, name.to_string());
    };
    let cut = cuts
        .iter()
        .copied()
        .find(|&i| wanted.iter().any(|w| keys::same_key(&name[i + 3..], w)))
        .unwrap_or(last);
    (Some(name[..cut].to_string()), name[cut + 3..].to_string())
}

/// Reads all rows of a CSV file as text cells (header trimmed).
pub(crate) fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let text = super::pyjson::read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let corrupt = |e: csv::Error| Error::Corrupt {
        path: path.to_path_buf(),
        format: "CSV",
        detail: e.to_string(),
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(corrupt)?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for r in reader.records() {
        let r = r.map_err(corrupt)?;
        rows.push(r.iter().map(|c| c.trim().to_string()).collect());
    }
    if rows.is_empty() {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok((header, rows))
}

/// A CSV cell as a number: empty is missing; `NaN`, `inf`, `Infinity` are read as such.
pub(crate) fn cell(path: &Path, column: &str, row: usize, text: &str) -> Result<Option<f64>> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>().map(Some).map_err(|_| Error::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row,
        value: text.to_string(),
        problem: "not a number".to_string(),
    })
}

pub fn read(path: &Path, wanted: &[String]) -> Result<LogRecords> {
    let (header, rows) = read_csv(path)?;
    let mut records = LogRecords::new(vec![path.to_path_buf()], LogFormat::Wandb);
    let cols: Vec<Col> = header
        .iter()
        .map(|h| {
            if h == "Step" {
                Col::Step
            } else if h.ends_with("__MIN") || h.ends_with("__MAX") {
                Col::Ignored
            } else {
                let (run, key) = split_column(h, wanted);
                Col::Metric { run, key }
            }
        })
        .collect();
    if !cols.iter().any(|c| matches!(c, Col::Step)) {
        return Err(Error::WrongFormat {
            path: path.to_path_buf(),
            expected: "wandb",
            detected: "CSV without a 'Step' column",
            reason: format!(
                "a W&B panel export has 'Step' and '<run> - <metric>' columns; columns found: {}",
                header.join(", ")
            ),
        });
    }
    records.see("Step");
    let mut ignored = Vec::new();
    for (h, c) in header.iter().zip(&cols) {
        match c {
            Col::Ignored => ignored.push(h.as_str()),
            Col::Metric { key, .. } => records.see(key),
            Col::Step => {}
        }
    }
    if !ignored.is_empty() {
        records.ignored.push(format!(
            "{} __MIN/__MAX column(s): W&B's min/max of the points it folded into one when sampling, not an error bar ({})",
            ignored.len(),
            ignored.join(", ")
        ));
    }
    // The runs in order of first column.
    let mut runs: Vec<Option<String>> = Vec::new();
    for c in &cols {
        if let Col::Metric { run, .. } = c
            && !runs.contains(run)
        {
            runs.push(run.clone());
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let row_no = r + 1;
        let mut step = None;
        for ((h, c), text) in header.iter().zip(&cols).zip(row) {
            if matches!(c, Col::Step) {
                step = cell(path, h, row_no, text)?;
            }
        }
        for run in &runs {
            let mut point = LogPoint {
                run: run.clone(),
                values: Default::default(),
                at: format!("row {row_no}"),
            };
            for ((h, c), text) in header.iter().zip(&cols).zip(row) {
                if let Col::Metric { run: r2, key } = c
                    && r2 == run
                    && let Some(x) = cell(path, h, row_no, text)?
                {
                    point.values.insert(key.clone(), x);
                }
            }
            if point.values.is_empty() {
                continue;
            }
            if let Some(s) = step {
                point.values.insert("Step".to_string(), s);
            }
            records.points.push(point);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_with_dashes_split_on_the_metric() {
        let wanted = vec!["objective/kl".to_string()];
        assert_eq!(
            split_column("ppo - seed 1 - train/objective/kl", &wanted),
            (
                Some("ppo - seed 1".to_string()),
                "train/objective/kl".to_string()
            )
        );
        assert_eq!(
            split_column("a - b - c", &[]),
            (Some("a - b".to_string()), "c".to_string())
        );
        assert_eq!(split_column("Step", &[]), (None, "Step".to_string()));
    }
}
