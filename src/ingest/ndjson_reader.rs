//! NDJSON (JSON Lines): one JSON object per line; keys are columns, missing keys are empty cells.

use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use super::{ColumnBuilder, ColumnMap, ReadOutput, builders_for, plan_columns};
use crate::error::{Error, Result};
use crate::schema::ColumnSpec;

pub(crate) fn read(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<ReadOutput> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut records: Vec<Map<String, Value>> = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            format: "NDJSON",
            detail: format!("line {}: {e}", i + 1),
        })?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            format: "NDJSON",
            detail: format!("line {}: {e}", i + 1),
        })?;
        let Value::Object(obj) = value else {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                format: "NDJSON",
                detail: format!("line {}: expected a JSON object per line", i + 1),
            });
        };
        for key in obj.keys() {
            if seen.insert(key.clone()) {
                header.push(key.clone());
            }
        }
        records.push(obj);
    }
    if records.is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let plan = plan_columns(path, &header, schema, map)?;
    let mut builders: Vec<ColumnBuilder> = builders_for(&plan, &header);
    for (r, obj) in records.iter().enumerate() {
        let row = r + 1;
        for b in builders.iter_mut() {
            match obj.get(&b.source) {
                None | Some(Value::Null) => b.push_number(None),
                Some(Value::Number(n)) => b.push_number(n.as_f64()),
                Some(Value::String(s)) => b.push_text(path, row, s)?,
                Some(other) => {
                    return Err(Error::BadValue {
                        path: path.to_path_buf(),
                        column: b.source.clone(),
                        row,
                        value: other.to_string(),
                        problem: "expected a number or a string".to_string(),
                    });
                }
            }
        }
    }
    Ok((header, records.len(), plan, builders))
}
