//! `goodhart convert`: logs as researchers have them (TRL, W&B, TensorBoard, veRL, best-of-n
//! dumps) written as goodhart's canonical Curves table (or the Samples table, for dumps and
//! Samples tables in another format), so a converted file can be checked, shared and fitted like
//! any tidy table.

use std::path::{Path, PathBuf};

use crate::curves::CurvesTable;
use crate::error::{Error, Result};
use crate::ingest::adapters::{self, LoadedTable};
use crate::ingest::{ColumnData, ColumnMap, LogFormat, LogOptions};
use crate::output::{OutColumn, OutTable, Sink};
use crate::schema::{CURVES, SAMPLES};

/// What `convert` wrote.
#[derive(Debug, Clone)]
pub struct ConvertSummary {
    /// `Curves` or `Samples`.
    pub table: &'static str,
    pub rows: usize,
    /// Things that changed the data (dropped points, approximate KL units).
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// The canonical Curves table of converted inputs, in schema column order (a column present in
/// some inputs only is empty in the others). Each input is validated as `fit` would.
pub fn curves_out_table(tables: Vec<LoadedTable>) -> Result<OutTable> {
    let mut parts: Vec<(usize, Vec<(&'static str, OutColumn)>)> = Vec::new();
    for loaded in tables {
        CurvesTable::from_table(loaded.table.clone())?;
        let mut table = loaded.table;
        let n = table.n_rows;
        let mut cols = Vec::new();
        for spec in CURVES {
            let Some(data) = table.take(spec.name) else {
                continue;
            };
            let col = match data {
                ColumnData::Number(v) => OutColumn::Number(v),
                ColumnData::Text(v) => OutColumn::Text(v),
                ColumnData::Label(l) => OutColumn::Text(
                    l.codes
                        .iter()
                        .map(|c| c.map(|c| l.labels[c as usize].clone()))
                        .collect(),
                ),
            };
            cols.push((spec.name, col));
        }
        parts.push((n, cols));
    }
    let mut out = OutTable::default();
    for spec in CURVES {
        if !parts
            .iter()
            .any(|(_, cols)| cols.iter().any(|(n, _)| *n == spec.name))
        {
            continue;
        }
        let mut column: Option<OutColumn> = None;
        for (n, cols) in &parts {
            let part = cols.iter().find(|(c, _)| *c == spec.name).map(|(_, c)| c);
            column = Some(match (column, part) {
                (None, Some(p)) => p.clone(),
                (None, None) => empty_like(
                    parts.iter().find_map(|(_, cs)| {
                        cs.iter().find(|(c, _)| *c == spec.name).map(|(_, c)| c)
                    }),
                    *n,
                ),
                (Some(acc), p) => append(acc, p, *n),
            });
        }
        if let Some(c) = column {
            out.push(spec.name, c);
        }
    }
    Ok(out)
}

fn empty_like(kind: Option<&OutColumn>, n: usize) -> OutColumn {
    match kind {
        Some(OutColumn::Text(_)) => OutColumn::Text(vec![None; n]),
        Some(OutColumn::Integer(_)) => OutColumn::Integer(vec![None; n]),
        _ => OutColumn::Number(vec![None; n]),
    }
}

fn append(acc: OutColumn, part: Option<&OutColumn>, n: usize) -> OutColumn {
    if let Some(full @ (OutColumn::FullNumber(_) | OutColumn::FullInteger(_))) = part {
        return append(acc, Some(&full.clone().with_empty_cells()), n);
    }
    match (acc.with_empty_cells(), part) {
        (OutColumn::Number(mut a), Some(OutColumn::Number(b))) => {
            a.extend(b.iter().copied());
            OutColumn::Number(a)
        }
        (OutColumn::Text(mut a), Some(OutColumn::Text(b))) => {
            a.extend(b.iter().cloned());
            OutColumn::Text(a)
        }
        (OutColumn::Integer(mut a), Some(OutColumn::Integer(b))) => {
            a.extend(b.iter().copied());
            OutColumn::Integer(a)
        }
        (OutColumn::Number(mut a), _) => {
            a.extend(std::iter::repeat_n(None, n));
            OutColumn::Number(a)
        }
        (OutColumn::Text(mut a), _) => {
            a.extend(std::iter::repeat_n(None, n));
            OutColumn::Text(a)
        }
        (OutColumn::Integer(mut a), _) => {
            a.extend(std::iter::repeat_n(None, n));
            OutColumn::Integer(a)
        }
        // `with_empty_cells` above leaves no full column
        (full @ (OutColumn::FullNumber(_) | OutColumn::FullInteger(_)), part) => {
            append(full.with_empty_cells(), part, n)
        }
    }
}

/// The Samples table of best-of-n pools: `prompt`, `proxy`, `gold`, `rm_params`, and
/// `policy_params`/`rm_data` when any pool has them; pools in (key, prompt) order, each pool's
/// samples sorted by (proxy, gold).
pub fn samples_out_table(pools: &[crate::bon::Pool]) -> OutTable {
    let rows: Vec<(&crate::bon::Pool, (f64, f64))> = pools
        .iter()
        .flat_map(|p| p.scores.iter().map(move |s| (p, *s)))
        .collect();
    let mut t = OutTable::default();
    // integer prompts stay integers (a Parquet INT64 column, a JSON number), as they came in
    let integer = |p: &str| p.parse::<i64>().ok().filter(|i| i.to_string() == p);
    let prompt = if pools.iter().all(|p| integer(&p.prompt).is_some()) {
        OutColumn::FullInteger(
            rows.iter()
                .map(|(p, _)| integer(&p.prompt).unwrap_or_default())
                .collect(),
        )
    } else {
        OutColumn::Text(rows.iter().map(|(p, _)| Some(p.prompt.clone())).collect())
    };
    t.push("prompt", prompt);
    t.push(
        "proxy",
        OutColumn::FullNumber(rows.iter().map(|(_, s)| s.0).collect()),
    );
    t.push(
        "gold",
        OutColumn::FullNumber(rows.iter().map(|(_, s)| s.1).collect()),
    );
    t.push(
        crate::schema::RM_PARAMS,
        OutColumn::FullNumber(rows.iter().map(|(p, _)| p.key.rm_params).collect()),
    );
    if pools.iter().any(|p| p.key.policy_params.is_some()) {
        t.push(
            crate::schema::POLICY_PARAMS,
            OutColumn::Number(rows.iter().map(|(p, _)| p.key.policy_params).collect()),
        );
    }
    if pools.iter().any(|p| p.key.rm_data.is_some()) {
        t.push(
            crate::schema::RM_DATA,
            OutColumn::Number(rows.iter().map(|(p, _)| p.key.rm_data).collect()),
        );
    }
    t
}

/// Whether a tidy table is a Samples table (scored samples): it has a `prompt` column (after
/// `--map`) and no `kl` column, the rule of `inspect` and of the other-table hints. A file that
/// cannot be read so is not one: the Curves reader then says what is wrong with it.
fn is_samples_table(path: &Path, map_args: &[String]) -> bool {
    let Ok(map) = ColumnMap::parse(map_args, SAMPLES) else {
        return false;
    };
    crate::ingest::read_table(path, &crate::schema::all_optional(SAMPLES), &map)
        .is_ok_and(|t| t.has("prompt") && !t.source_columns.iter().any(|c| c == "kl"))
}

/// Converts `inputs` and writes the canonical table to `out` (created before any reading;
/// nothing is written when anything fails).
pub fn convert(
    inputs: &[PathBuf],
    out: &Path,
    map_args: &[String],
    opts: &LogOptions,
) -> Result<ConvertSummary> {
    crate::output::ensure_not_input(out, inputs)?;
    let sink = Sink::create(out)?;
    let mut samples = 0usize;
    for path in inputs {
        match adapters::resolve_format(path, opts)?.format {
            LogFormat::BonJson => samples += 1,
            LogFormat::Tidy if is_samples_table(path, map_args) => samples += 1,
            _ => {}
        }
    }
    if samples > 0 && samples < inputs.len() {
        return Err(Error::Usage(
            "convert either best-of-n dumps and Samples tables (to a Samples table) or curve logs (to a Curves table), not both at once".to_string(),
        ));
    }
    let summary = if samples > 0 {
        crate::ingest::metadata::check_samples_flags(opts)?;
        ColumnMap::parse(map_args, SAMPLES)?;
        let (pools, warnings) = crate::bon::read_samples(inputs, map_args, opts)?;
        let table = samples_out_table(&pools);
        let rows = table.n_rows();
        sink.commit(&table.to_bytes_for(out)?)?;
        ConvertSummary {
            table: "Samples",
            rows,
            warnings,
            notes: Vec::new(),
        }
    } else {
        let map = ColumnMap::parse(map_args, CURVES)?;
        let tables = crate::ingest::manifest::read_all_curve_tables(inputs, &map, opts)?;
        let mut warnings = Vec::new();
        let mut notes = Vec::new();
        for t in &tables {
            warnings.extend(t.info.warnings.iter().cloned());
            notes.extend(
                t.info
                    .notes
                    .iter()
                    .map(|n| format!("{}: {n}", t.info.source)),
            );
        }
        let table = curves_out_table(tables)?;
        let rows = table.n_rows();
        sink.commit(&table.to_bytes_for(out)?)?;
        ConvertSummary {
            table: "Curves",
            rows,
            warnings,
            notes,
        }
    };
    Ok(summary)
}
