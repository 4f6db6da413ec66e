//! JSON as Python writes it: `json.dump` emits bare `NaN`, `Infinity` and `-Infinity`, which
//! are not JSON. They are rewritten to the strings `"NaN"`, `"Infinity"`, `"-Infinity"` before
//! parsing (outside strings only) and counted, so that the points holding them can be dropped
//! with a warning rather than failing the parse or vanishing silently.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// Rewrites bare non-finite tokens outside strings; returns the text and how many were found.
pub(crate) fn sanitize(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut count = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0usize;
    let mut copied = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token: Option<&str> = if rest.starts_with(b"NaN") {
            Some("NaN")
        } else if rest.starts_with(b"Infinity") {
            Some("Infinity")
        } else if rest.starts_with(b"-Infinity") {
            Some("-Infinity")
        } else {
            None
        };
        if let Some(tok) = token {
            out.push_str(&text[copied..i]);
            out.push('"');
            out.push_str(tok);
            out.push('"');
            count += 1;
            i += tok.len();
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    (out, count)
}

/// A JSON value as a number: numbers, the non-finite markers and numeric strings.
/// `None` for null, booleans, objects, arrays and other text.
pub(crate) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim() {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" | "inf" => Some(f64::INFINITY),
            "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
            t => t.parse::<f64>().ok(),
        },
        _ => None,
    }
}

/// Reads a file as text, refusing an empty one.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    crate::ingest::file_metadata(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// Parses one JSON document written by Python.
pub(crate) fn parse_document(path: &Path, text: &str) -> Result<Value> {
    let (clean, _) = sanitize(text);
    serde_json::from_str(&clean).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        format: "JSON",
        detail: e.to_string(),
    })
}

/// Parses JSON Lines written by Python: (1-based line number, value) of each non-blank line.
pub(crate) fn parse_lines(path: &Path, text: &str) -> Result<Vec<(usize, Value)>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let (clean, _) = sanitize(l);
            serde_json::from_str(&clean)
                .map(|v| (i + 1, v))
                .map_err(|e| Error::Corrupt {
                    path: path.to_path_buf(),
                    format: "JSON Lines",
                    detail: format!("line {}: {e}", i + 1),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_bare_tokens() -> Result<(), Box<dyn std::error::Error>> {
        let (t, n) = sanitize(r#"{"a": NaN, "b": "NaN Infinity", "c": [Infinity, -Infinity, 1]}"#);
        assert_eq!(n, 3);
        let v: Value = serde_json::from_str(&t)?;
        assert!(number(&v["a"]).is_some_and(f64::is_nan));
        assert_eq!(v["b"], "NaN Infinity");
        assert_eq!(number(&v["c"][0]), Some(f64::INFINITY));
        assert_eq!(number(&v["c"][1]), Some(f64::NEG_INFINITY));
        Ok(())
    }

    #[test]
    fn escaped_quotes_stay_in_strings() {
        let (t, n) = sanitize(r#"{"a\"NaN": 1, "b": NaN}"#);
        assert_eq!(n, 1);
        assert!(serde_json::from_str::<Value>(&t).is_ok());
    }
}
