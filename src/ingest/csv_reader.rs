//! CSV: header row, comma-separated, every row as long as the header.

use std::path::Path;

use super::{ColumnBuilder, ColumnMap, ReadOutput, builders_for, plan_columns};
use crate::error::{Error, Result};
use crate::schema::ColumnSpec;

pub(crate) fn read(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<ReadOutput> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let raw_header = reader.byte_headers().map_err(|e| csv_error(path, e))?;
    // A header is text: a NUL byte or invalid UTF-8 there means a binary file, not a CSV.
    if raw_header
        .iter()
        .any(|h| h.contains(&0) || std::str::from_utf8(h).is_err())
    {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            format: "CSV",
            detail: "the first line is binary data (a NUL byte or invalid UTF-8), not a CSV header"
                .to_string(),
        });
    }
    let header: Vec<String> = raw_header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let plan = plan_columns(path, &header, schema, map)?;
    let mut builders: Vec<ColumnBuilder> = builders_for(&plan, &header);
    let indices: Vec<usize> = plan.taken.iter().map(|(i, _)| *i).collect();
    let mut record = csv::ByteRecord::new();
    let mut row = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error_at(path, e, row + 1)),
        }
        row += 1;
        for (b, &idx) in builders.iter_mut().zip(&indices) {
            let bytes = &record[idx];
            let text = std::str::from_utf8(bytes).map_err(|_| Error::BadValue {
                path: path.to_path_buf(),
                column: b.source.clone(),
                row,
                value: String::from_utf8_lossy(bytes).into_owned(),
                problem: "not valid UTF-8".to_string(),
            })?;
            b.push_text(path, row, text)?;
        }
    }
    Ok((header, row, plan, builders))
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    csv_error_at(path, e, 0)
}

fn csv_error_at(path: &Path, e: csv::Error, row: usize) -> Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => Error::Ragged {
            path: path.to_path_buf(),
            row,
            line: pos.as_ref().map(|p| p.line()).unwrap_or(0),
            found: *len as usize,
            expected: *expected_len as usize,
        },
        csv::ErrorKind::Io(io) => Error::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        _ => Error::Corrupt {
            path: path.to_path_buf(),
            format: "CSV",
            detail: e.to_string(),
        },
    }
}
