//! Best-of-n dumps (e.g. Coste et al. 2023): per prompt `answers[N]`, `proxy_scores[N]`,
//! `gold_scores[N]`, as one JSON array of records or as JSON Lines. This module parses the
//! records (accepting Python's bare `NaN`/`Infinity`); [`crate::bon::samples`] turns them into
//! pools, dropping (and counting) samples whose scores are not finite.

use std::path::Path;

use serde_json::Value;

use super::pyjson;
use crate::error::{Error, Result};

/// How a dump file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpLayout {
    /// One JSON document: an array of records (or a single record).
    Json,
    /// One record per line.
    Lines,
}

/// The per-prompt records of a dump.
pub fn read_records(path: &Path, layout: DumpLayout) -> Result<Vec<Value>> {
    let text = pyjson::read_text(path)?;
    let records = match layout {
        DumpLayout::Json => match pyjson::parse_document(path, &text) {
            Ok(Value::Array(v)) => v,
            Ok(obj @ Value::Object(_)) => vec![obj],
            Ok(_) => {
                return Err(Error::Corrupt {
                    path: path.to_path_buf(),
                    format: "JSON",
                    detail: "expected an array of per-prompt records".to_string(),
                });
            }
            // A .json file holding JSON Lines.
            Err(e) => match pyjson::parse_lines(path, &text) {
                Ok(lines) if lines.len() > 1 => lines.into_iter().map(|(_, v)| v).collect(),
                _ => return Err(e),
            },
        },
        DumpLayout::Lines => pyjson::parse_lines(path, &text)?
            .into_iter()
            .map(|(_, v)| v)
            .collect(),
    };
    if records.is_empty() {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(records)
}

/// A score of a dump: a finite number, a non-finite one (`Some(NaN)` etc.), or not a number.
pub fn score(v: &Value) -> Option<f64> {
    pyjson::number(v)
}
