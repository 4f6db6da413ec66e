//! The fast path of a plain Parquet Curves table (issue #16): each column is decoded once by
//! polars into one contiguous `Vec<f64>`, with no per-row `Option` and no per-row builder.
//!
//! It only takes files the general reader ([`super::read_table`], then
//! `curves::CurvesTable::from_table`) would read without a message: a tidy Parquet table, no
//! renames, no metadata flags or sidecar, numeric columns without an empty cell. Anything else
//! (and every value the general reader would refuse, checked by the caller) answers `None`
//! before anything is produced, and the caller reads the file the general way, so every error
//! message, row number and warning stays the general reader's.

use std::path::Path;

use polars::prelude::*;

use super::panic_guard::guarded;
use super::{ColumnData, ColumnMap, LogOptions, parquet_reader};
use crate::schema::{ColumnKind, ColumnSpec, Method};

/// The columns of a plain Curves table, one value per row, no cell missing.
#[derive(Debug, Clone)]
pub struct CurveColumns {
    pub method: Vec<Method>,
    pub rm_params: Vec<f64>,
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<f64>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
    pub policy_params: Option<Vec<f64>>,
    pub rm_data: Option<Vec<f64>>,
    pub kl_penalty: Option<Vec<f64>>,
    pub entropy: Option<Vec<f64>>,
}

/// The numeric columns the fast path reads; a file with another column of the Curves schema
/// (`run`, `step`, `n`, `replicate`, the prompt lists) goes the general way.
const NUMERIC: [&str; 10] = [
    "rm_params",
    "kl",
    "gold",
    "proxy",
    "gold_se",
    "proxy_se",
    "policy_params",
    "rm_data",
    "kl_penalty",
    "entropy",
];

/// Whether `path` may take the fast path with these options: one tidy Parquet table read as
/// it is (no `--map`, no metadata flags, no sidecar, no manifest, no gold join).
pub fn eligible(paths: &[std::path::PathBuf], map: &ColumnMap, opts: &LogOptions) -> bool {
    let [path] = paths else {
        return false;
    };
    map.is_empty()
        && opts.runs.is_none()
        && opts.gold_from.is_none()
        && opts.meta_file.is_none()
        && opts.meta == super::RunMeta::default()
        && matches!(opts.format, None | Some(super::LogFormat::Tidy))
        && super::Format::from_path(path).ok() == Some(super::Format::Parquet)
        && super::adapters::meta::sidecar_path(path, opts).is_none()
        && super::adapters::resolve_format(path, opts)
            .is_ok_and(|d| d.format == super::LogFormat::Tidy)
}

/// Reads the columns of a plain Curves table; `None` when the file is anything else (the
/// caller then reads it the general way, which reports what is wrong).
pub fn read(path: &Path) -> Option<CurveColumns> {
    // The general Parquet reader, asked for `method` alone: it checks the file's footer and
    // pages before polars decodes them (a corrupt file must not abort the process), gives the
    // header, and reads the labels of `method`.
    let method_spec = [ColumnSpec {
        name: "method",
        kind: ColumnKind::Label,
        required: true,
    }];
    let (header, n_rows, _, builders) =
        parquet_reader::read(path, &method_spec, &ColumnMap::default()).ok()?;
    if n_rows == 0 {
        return None;
    }
    for name in &header {
        let known = name == "method" || NUMERIC.contains(&name.as_str());
        let other_curves_column = crate::schema::CURVES.iter().any(|s| s.name == name);
        if !known && other_curves_column {
            return None;
        }
    }
    let method = match &builders.first()?.data {
        ColumnData::Label(l) if l.codes.len() == n_rows => {
            let parsed: Vec<Method> = l
                .labels
                .iter()
                .map(|t| Method::parse(t))
                .collect::<Option<_>>()?;
            let mut out = Vec::with_capacity(n_rows);
            for c in &l.codes {
                out.push(parsed[(*c)? as usize]);
            }
            out
        }
        _ => return None,
    };
    let wanted: Vec<String> = NUMERIC
        .iter()
        .filter(|c| header.iter().any(|h| h == *c))
        .map(|c| c.to_string())
        .collect();
    let df = guarded(|| {
        std::fs::File::open(path).ok().and_then(|f| {
            ParquetReader::new(f)
                .with_columns(Some(wanted))
                .finish()
                .ok()
        })
    })
    .ok()??;
    if df.height() != n_rows {
        return None;
    }
    let column = |name: &str| -> Option<Option<Vec<f64>>> {
        let Ok(c) = df.column(name) else {
            return Some(None);
        };
        let series = c.as_materialized_series();
        let dtype = series.dtype();
        if !dtype.is_primitive_numeric() || series.null_count() != 0 || series.len() != n_rows {
            return None;
        }
        let cast = series.cast(&DataType::Float64).ok()?;
        let ca = cast.f64().ok()?;
        let mut v = Vec::with_capacity(n_rows);
        for chunk in ca.downcast_iter() {
            v.extend_from_slice(chunk.values().as_slice());
        }
        (v.len() == n_rows).then_some(Some(v))
    };
    Some(CurveColumns {
        method,
        rm_params: column("rm_params")??,
        kl: column("kl")??,
        gold: column("gold")??,
        proxy: column("proxy")?,
        gold_se: column("gold_se")?,
        proxy_se: column("proxy_se")?,
        policy_params: column("policy_params")?,
        rm_data: column("rm_data")?,
        kl_penalty: column("kl_penalty")?,
        entropy: column("entropy")?,
    })
}
