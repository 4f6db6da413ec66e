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
    check_pages(path)?;
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

/// Checks every data page header before polars decodes the pages. polars 0.55 reads a page's
/// value count (an i32 in the file) as usize, so a corrupted negative count makes it reserve
/// about 2^61 bytes, and the failed allocation aborts the process (found by fuzzing,
/// `fuzz/regressions/tidy_parquet/`). In a flat column a page's count lies in 0..=rows of its
/// row group.
fn check_pages(path: &Path) -> Result<()> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::{get_page_iterator, read_metadata};
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let max_page_size = bytes.len().max(1);
    let buffer = polars_buffer::Buffer::from(bytes);
    guarded(|| -> Result<()> {
        let meta = read_metadata(&mut std::io::Cursor::new(buffer.clone()))
            .map_err(|e| corrupt(path, e))?;
        for (g, group) in meta.row_groups.iter().enumerate() {
            let rows = group.num_rows();
            // Only flat columns: with repetition a page holds more values than rows.
            for column in group
                .parquet_columns()
                .iter()
                .filter(|c| c.descriptor().descriptor.max_rep_level == 0)
            {
                let pages = get_page_iterator(
                    column,
                    std::io::Cursor::new(buffer.clone()),
                    Vec::new(),
                    max_page_size,
                )
                .map_err(|e| corrupt(path, e))?;
                for page in pages {
                    if let CompressedPage::Data(page) = page.map_err(|e| corrupt(path, e))?
                        && page.num_values() > rows
                    {
                        return Err(corrupt(
                            path,
                            format!(
                                "a data page of column '{}' in row group {} claims {} values, but the row group has {rows} rows",
                                column.descriptor().path_in_schema.join("."),
                                g + 1,
                                page.num_values() as i64 as i32,
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    })
    .map_err(|_| corrupt(path, "the reader failed on this file"))?
}
