//! veRL's file logger: JSON Lines of `{"step": 10, "data": {"critic/score/mean": .., ..}}`.
//! Each line is one point; `step` and the numeric values of `data` are its keys.

use std::path::Path;

use serde_json::Value;

use super::{LogPoint, LogRecords, pyjson};
use crate::error::{Error, Result};
use crate::ingest::LogFormat;

pub fn read(path: &Path) -> Result<LogRecords> {
    let text = pyjson::read_text(path)?;
    let lines = pyjson::parse_lines(path, &text)?;
    let mut records = LogRecords::new(vec![path.to_path_buf()], LogFormat::Verl);
    for (line, v) in lines {
        let shape_err = || Error::WrongFormat {
            path: path.to_path_buf(),
            expected: "verl",
            detected: "JSON Lines of another shape",
            reason: format!(
                "line {line} is not {{\"step\": N, \"data\": {{..}}}} (the veRL file logger's record)"
            ),
        };
        let obj = v.as_object().ok_or_else(shape_err)?;
        let data = obj
            .get("data")
            .and_then(Value::as_object)
            .ok_or_else(shape_err)?;
        let mut point = LogPoint {
            run: None,
            values: Default::default(),
            at: format!("line {line}"),
        };
        if let Some(step) = obj.get("step").and_then(pyjson::number) {
            records.see("step");
            point.values.insert("step".to_string(), step);
        }
        records.push_numbers(point, data);
    }
    records.non_empty(path)
}
