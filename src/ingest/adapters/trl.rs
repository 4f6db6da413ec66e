//! TRL's `trainer_state.json`: `{"log_history": [{"step": 10, "objective/kl": .., ..}, ..]}`.
//! Each entry of `log_history` is one point; its numeric values are its keys (strings and
//! nested values are ignored). Python's bare `NaN`/`Infinity` are accepted (see the `pyjson` module).

use std::path::Path;

use serde_json::Value;

use super::{LogPoint, LogRecords, pyjson};
use crate::error::{Error, Result};
use crate::ingest::LogFormat;

pub fn read(path: &Path) -> Result<LogRecords> {
    let text = pyjson::read_text(path)?;
    let doc = pyjson::parse_document(path, &text)?;
    let history = match doc.get("log_history") {
        Some(Value::Array(h)) => h,
        _ => {
            return Err(Error::WrongFormat {
                path: path.to_path_buf(),
                expected: "trl",
                detected: "JSON without a 'log_history' list",
                reason: "a TRL trainer_state.json is an object with a 'log_history' list of dicts"
                    .to_string(),
            });
        }
    };
    let mut records = LogRecords::new(vec![path.to_path_buf()], LogFormat::Trl);
    for (i, entry) in history.iter().enumerate() {
        let Value::Object(obj) = entry else {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                format: "TRL trainer_state.json",
                detail: format!("log_history[{i}] is not an object"),
            });
        };
        let point = LogPoint {
            run: None,
            values: Default::default(),
            at: format!("log_history[{i}]"),
        };
        records.push_numbers(point, obj);
    }
    records.non_empty(path)
}
