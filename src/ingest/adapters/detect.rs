//! `--format auto`: which layout a file has, from its name and first bytes, with the rule that
//! matched, so that `inspect` can say why and a wrong `--format` can be refused.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::{pyjson, tfevents};
use crate::error::{Error, Result};
use crate::ingest::{LogFormat, lowercase_extension};

/// What a file was detected as, and why.
#[derive(Debug, Clone)]
pub struct Detection {
    pub format: LogFormat,
    /// The rule that matched, in words.
    pub reason: String,
    /// False when no rule matched and the format is only the fallback (tidy by extension).
    pub sure: bool,
}

fn sure(format: LogFormat, reason: impl Into<String>) -> Detection {
    Detection {
        format,
        reason: reason.into(),
        sure: true,
    }
}

/// The first 64 KiB of a file (enough for a header or a first record).
fn head(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = Vec::new();
    file.take(1 << 16)
        .read_to_end(&mut buf)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// True when the file's first character (after blanks and a byte-order mark) opens a JSON
/// object or array: such a file is never one of the CSV layouts.
pub fn looks_like_json(path: &Path) -> Result<bool> {
    let text = head(path)?;
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next();
    Ok(matches!(first, Some('{') | Some('[')))
}

/// The parts of a TensorBoard export name `run-<run>-tag-<tag>.csv`.
pub fn tensorboard_name(path: &Path) -> Option<(String, String)> {
    let stem = path.file_stem()?.to_str()?;
    let rest = stem.strip_prefix("run-")?;
    let (run, tag) = rest.split_once("-tag-")?;
    (!tag.is_empty()).then(|| (run.to_string(), tag.to_string()))
}

/// True when a JSON record holds per-prompt score arrays.
pub(crate) fn is_bon_record(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        ["proxy_scores", "gold_scores"]
            .iter()
            .any(|k| o.get(*k).is_some_and(Value::is_array))
    })
}

/// Detects a file's format. Rules, in order:
/// 0. A folder holding TensorBoard event files (searched recursively), a file named
///    `events.out.tfevents.*`, or a file that starts with a TFRecord header (a length and its
///    masked CRC-32C): tensorboard (event files).
/// 1. `.parquet`/`.pq`: tidy.
/// 2. CSV whose header is `Wall time,Step,Value`: tensorboard.
/// 3. CSV whose header has `Step` and a `<run> - <metric>` column: wandb.
/// 4. JSON object with a `log_history` list: trl.
/// 5. JSON Lines whose first record is `{"step": .., "data": {..}}`: verl.
/// 6. JSON or JSON Lines whose (first) record has a `proxy_scores` or `gold_scores` array:
///    bon-json.
/// 7. Otherwise tidy, by extension (not sure: `--format` may say otherwise).
pub fn detect(path: &Path) -> Result<Detection> {
    if path.is_dir() {
        let found = tfevents::find_event_files(&[path.to_path_buf()])?;
        let mut runs: Vec<&Option<String>> = found.files.iter().map(|(_, r)| r).collect();
        runs.dedup();
        return Ok(sure(
            LogFormat::Tensorboard,
            format!(
                "a folder with {} TensorBoard event file(s) ({}*) in {} run(s)",
                found.files.len(),
                tfevents::EVENT_FILE_PREFIX,
                runs.len()
            ),
        ));
    }
    if tfevents::is_event_file(path) {
        return Ok(sure(
            LogFormat::Tensorboard,
            format!(
                "file name {}* (TensorBoard event file)",
                tfevents::EVENT_FILE_PREFIX
            ),
        ));
    }
    if tfevents::has_record_header(path)? {
        return Ok(sure(
            LogFormat::Tensorboard,
            "starts with a TFRecord header (TensorBoard event file)",
        ));
    }
    let ext = lowercase_extension(path);
    if matches!(ext.as_str(), "parquet" | "pq") {
        return Ok(sure(LogFormat::Tidy, format!("extension .{ext}")));
    }
    let text = head(path)?;
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().unwrap_or("").trim();
    if ext == "csv" || (!first_line.starts_with('{') && !first_line.starts_with('[')) {
        let header: Vec<String> = first_line
            .split(',')
            .map(|h| h.trim().trim_matches('"').to_string())
            .collect();
        if header.len() == 3
            && header[0] == "Wall time"
            && header[1] == "Step"
            && header[2] == "Value"
        {
            let name = match tensorboard_name(path) {
                Some((run, tag)) => format!("; run '{run}', tag '{tag}' from the file name"),
                None => String::new(),
            };
            return Ok(sure(
                LogFormat::Tensorboard,
                format!("CSV header is 'Wall time,Step,Value' (TensorBoard scalar export){name}"),
            ));
        }
        if header.iter().any(|h| h == "Step") && header.iter().any(|h| h.contains(" - ")) {
            let example = header
                .iter()
                .find(|h| h.contains(" - "))
                .cloned()
                .unwrap_or_default();
            return Ok(sure(
                LogFormat::Wandb,
                format!(
                    "CSV header has 'Step' and '<run> - <metric>' columns such as '{example}' (W&B panel export)"
                ),
            ));
        }
        return Ok(Detection {
            format: LogFormat::Tidy,
            reason: format!("no log layout recognised; a tidy table by the extension .{ext}"),
            sure: false,
        });
    }
    // JSON: the whole document when it is small enough to have been read whole, else the first
    // line (JSON Lines) or a textual look for the TRL key.
    let (clean, _) = pyjson::sanitize(text);
    let doc: Option<Value> = serde_json::from_str(&clean).ok();
    if let Some(Value::Object(o)) = &doc
        && o.get("log_history").is_some_and(Value::is_array)
    {
        return Ok(sure(
            LogFormat::Trl,
            "JSON object with a 'log_history' list (TRL trainer_state.json)",
        ));
    }
    if doc.is_none()
        && first_line.starts_with('{')
        && text.contains("\"log_history\"")
        && !text
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_start().starts_with("{\""))
    {
        return Ok(sure(
            LogFormat::Trl,
            "JSON object with a 'log_history' list (TRL trainer_state.json)",
        ));
    }
    let first: Option<Value> = match &doc {
        Some(Value::Array(v)) => v.first().cloned(),
        Some(v @ Value::Object(_)) => Some(v.clone()),
        _ => serde_json::from_str(&pyjson::sanitize(first_line).0).ok(),
    };
    if let Some(first) = &first {
        if let Some(o) = first.as_object()
            && o.contains_key("step")
            && o.get("data").is_some_and(Value::is_object)
        {
            return Ok(sure(
                LogFormat::Verl,
                "JSON Lines whose records are {\"step\": .., \"data\": {..}} (veRL file logger)",
            ));
        }
        if is_bon_record(first) {
            return Ok(sure(
                LogFormat::BonJson,
                "JSON records with 'proxy_scores'/'gold_scores' arrays (best-of-n dump)",
            ));
        }
    }
    if ext == "json" {
        return Ok(Detection {
            format: LogFormat::BonJson,
            reason: "extension .json and no other layout recognised: read as a best-of-n dump"
                .to_string(),
            sure: false,
        });
    }
    Ok(Detection {
        format: LogFormat::Tidy,
        reason: format!("no log layout recognised; a tidy table by the extension .{ext}"),
        sure: false,
    })
}
