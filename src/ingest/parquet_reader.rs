//! Parquet, through polars: only the needed columns are read, then turned into plain vectors.

use std::path::Path;

use polars::prelude::*;

use super::panic_guard::guarded;
use super::{ColumnBuilder, ColumnData, ColumnMap, ReadOutput, builders_for, plan_columns};
use crate::error::{Error, Result};
use crate::schema::{ColumnKind, ColumnSpec};

fn corrupt(path: &Path, detail: impl ToString) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        format: "Parquet",
        detail: detail.to_string(),
    }
}

pub(crate) fn read(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<ReadOutput> {
    let open = || {
        std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    // polars may panic on some malformed files; a corrupt file must be a message, not a crash.
    let header: Vec<String> = guarded(|| -> Result<Vec<String>> {
        let mut reader = ParquetReader::new(open()?);
        let s = reader.schema().map_err(|e| corrupt(path, e))?;
        Ok(s.iter_names().map(|n| n.to_string()).collect())
    })
    .map_err(|_| corrupt(path, "the reader failed on this file"))??;
    let plan = plan_columns(path, &header, schema, map)?;
    let mut builders = builders_for(&plan, &header);
    let wanted: Vec<String> = builders.iter().map(|b| b.source.clone()).collect();
    let df = guarded(|| -> Result<DataFrame> {
        ParquetReader::new(open()?)
            .with_columns(Some(wanted))
            .finish()
            .map_err(|e| corrupt(path, e))
    })
    .map_err(|_| corrupt(path, "the reader failed on this file"))??;
    let n_rows = df.height();
    for b in builders.iter_mut() {
        let column = df
            .column(&b.source)
            .map_err(|e| corrupt(path, e))?
            .as_materialized_series()
            .clone();
        fill(path, b, &column)?;
    }
    Ok((header, n_rows, plan, builders))
}

fn fill(path: &Path, b: &mut ColumnBuilder, series: &Series) -> Result<()> {
    let dtype = series.dtype().clone();
    if dtype.is_string() {
        let ca = series.str().map_err(|e| corrupt(path, e))?;
        for (i, v) in ca.iter().enumerate() {
            match v {
                Some(text) => b.push_text(path, i + 1, text)?,
                None => b.push_number(None),
            }
        }
        return Ok(());
    }
    if let ColumnData::Label(labels) = &mut b.data
        && dtype.is_integer()
    {
        // integer labels (prompt ids) exactly, without a detour through f64 or text
        let cast = series
            .cast(&DataType::Int64)
            .map_err(|e| corrupt(path, e))?;
        let ca = cast.i64().map_err(|e| corrupt(path, e))?;
        labels.codes.reserve(ca.len());
        for v in ca.iter() {
            labels.push_integer(v);
        }
        return Ok(());
    }
    let numeric =
        dtype.is_primitive_numeric() || dtype.is_bool() && b.spec.kind == ColumnKind::Text;
    if !numeric && !dtype.is_null() {
        return Err(Error::BadValue {
            path: path.to_path_buf(),
            column: b.source.clone(),
            row: 1,
            value: format!("{dtype}"),
            problem: "the column's type cannot be read as numbers or text".to_string(),
        });
    }
    let cast = series
        .cast(&DataType::Float64)
        .map_err(|e| corrupt(path, e))?;
    let ca = cast.f64().map_err(|e| corrupt(path, e))?;
    if let ColumnData::Number(v) = &mut b.data {
        v.reserve(ca.len());
        v.extend(ca.iter());
    } else {
        for v in ca.iter() {
            b.push_number(v);
        }
    }
    Ok(())
}
