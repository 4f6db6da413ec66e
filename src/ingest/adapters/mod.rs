//! Adapters from the logs researchers actually have (TRL, W&B, TensorBoard, veRL, best-of-n
//! dumps) to goodhart's canonical tables, so that no notebook glue is needed in between.
//!
//! Each trainer-log format has one file that reads it into [`LogRecords`] (points of
//! `key -> value`, with an optional run name); [`to_curves`] then maps keys to canonical columns
//! (with [`keys`]' defaults), adds the run's metadata ([`meta`]), converts KL units
//! ([`kl_units`]), joins gold evaluations from a separate file ([`gold_join`]), and builds the
//! same [`Table`] a tidy Curves file gives, so validation, grouping and fitting are unchanged.
//! [`detect()`] chooses the format when `--format` is not given, and says why.

pub mod bon_json;
pub mod detect;
pub mod gold_join;
pub mod keys;
pub mod kl_units;
pub mod meta;
pub(crate) mod pyjson;
pub mod tensorboard;
pub mod to_curves;
pub mod trl;
pub mod verl;
pub mod wandb;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use detect::{Detection, detect};
pub use kl_units::UnitTag;
pub use to_curves::LogInfo;

use super::{ColumnMap, LogFormat, LogOptions, Table};
use crate::error::{Error, Result};

/// One logged point: the values of one step of one run.
#[derive(Debug, Clone)]
pub struct LogPoint {
    /// The run name the log gives (W&B column prefix, TensorBoard file name), if any.
    pub run: Option<String>,
    /// Numeric values by key (NaN and infinities as read: they are dropped, counted, later).
    pub values: HashMap<String, f64>,
    /// Where the point is in the file, for messages (`log_history[3]`, `row 4`, `line 7`).
    pub at: String,
}

/// A trainer log read as points of key-value pairs.
#[derive(Debug, Clone)]
pub struct LogRecords {
    pub paths: Vec<PathBuf>,
    pub format: LogFormat,
    /// Every key found, in order of first appearance.
    pub keys: Vec<String>,
    /// Columns read but not used, and why (`__MIN`/`__MAX` of W&B).
    pub ignored: Vec<String>,
    pub points: Vec<LogPoint>,
}

impl LogRecords {
    pub(crate) fn new(paths: Vec<PathBuf>, format: LogFormat) -> LogRecords {
        LogRecords {
            paths,
            format,
            keys: Vec::new(),
            ignored: Vec::new(),
            points: Vec::new(),
        }
    }

    /// Records a key as seen.
    /// Adds a point with every numeric value of a JSON object (NaN and infinities included).
    pub(crate) fn push_numbers(
        &mut self,
        mut point: LogPoint,
        obj: &serde_json::Map<String, serde_json::Value>,
    ) {
        for (k, v) in obj {
            if let Some(x) = pyjson::number(v) {
                self.see(k);
                point.values.insert(k.clone(), x);
            }
        }
        self.points.push(point);
    }

    /// The records, or an error when the log has no point at all.
    pub(crate) fn non_empty(self, path: &Path) -> Result<LogRecords> {
        if self.points.is_empty() {
            return Err(Error::NoRows {
                path: path.to_path_buf(),
            });
        }
        Ok(self)
    }

    pub(crate) fn see(&mut self, key: &str) {
        if !self.keys.iter().any(|k| k == key) {
            self.keys.push(key.to_string());
        }
    }

    /// The paths as one string for messages.
    pub fn display(&self) -> String {
        self.paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One Curves table read from one input (or, for TensorBoard, several files merged).
#[derive(Debug, Clone)]
pub struct LoadedTable {
    pub table: Table,
    /// The KL unit of its `kl` column.
    pub unit: UnitTag,
    /// How it was read: detection, keys, mapping, warnings.
    pub info: LogInfo,
}

/// The format of each path: `--format`, checked against what the content says, or detected.
pub fn resolve_format(path: &Path, opts: &LogOptions) -> Result<Detection> {
    let found = detect(path)?;
    match opts.format {
        None => Ok(found),
        Some(want @ (LogFormat::Wandb | LogFormat::Tensorboard))
            if detect::looks_like_json(path)? =>
        {
            Err(Error::WrongFormat {
                path: path.to_path_buf(),
                expected: want.name(),
                detected: "JSON",
                reason: format!("it starts with '{{' or '['; a {want} export is a CSV file"),
            })
        }
        Some(want) if want == found.format || !found.sure => Ok(Detection {
            format: want,
            reason: format!("--format {want}"),
            sure: true,
        }),
        Some(want) => Err(Error::WrongFormat {
            path: path.to_path_buf(),
            expected: want.name(),
            detected: found.format.name(),
            reason: found.reason,
        }),
    }
}

/// Reads Curves inputs of any format into canonical tables, one per input (TensorBoard files
/// are merged into one). Refuses mixed KL units and best-of-n dumps (Samples, not Curves).
pub fn read_curve_tables(
    paths: &[PathBuf],
    map: &ColumnMap,
    opts: &LogOptions,
) -> Result<Vec<LoadedTable>> {
    meta::check_flags(&opts.meta)?;
    let any_log =
        (paths.iter()).any(|p| resolve_format(p, opts).is_ok_and(|d| d.format.is_trainer_log()));
    super::metadata::check_log_flags(paths, any_log, opts)?;
    let mut tables = Vec::new();
    let mut tensorboard: Vec<(PathBuf, Detection)> = Vec::new();
    for path in paths {
        let det = resolve_format(path, opts)?;
        match det.format {
            LogFormat::Tidy => {
                if opts.gold_from.is_some() {
                    return Err(Error::Usage(format!(
                        "{}: --gold-from joins gold to a trainer log, but this is a tidy Curves table (it has a gold column already)",
                        path.display()
                    )));
                }
                let table = super::metadata::read_curves_table(path, map, opts)?;
                tables.push(LoadedTable {
                    info: LogInfo::tidy(&table, det),
                    table,
                    unit: UnitTag::Sequence,
                });
            }
            LogFormat::BonJson => {
                return Err(Error::WrongFormat {
                    path: path.clone(),
                    expected: "a Curves table or trainer log",
                    detected: "bon-json",
                    reason: format!(
                        "{}; a best-of-n dump holds samples, not curves: run `goodhart bon {}` first",
                        det.reason,
                        path.display()
                    ),
                });
            }
            LogFormat::Tensorboard => tensorboard.push((path.clone(), det)),
            f => {
                if !map.is_empty() {
                    return Err(Error::Usage(format!(
                        "--map renames columns of tidy tables; for the {f} log {} use --kl-key, --proxy-key, --gold-key, --step-key",
                        path.display()
                    )));
                }
                let records = match f {
                    LogFormat::Trl => trl::read(path)?,
                    LogFormat::Wandb => wandb::read(path, &keys::wanted(f, &opts.keys))?,
                    _ => verl::read(path)?,
                };
                tables.push(to_curves::convert(records, det, opts)?);
            }
        }
    }
    if !tensorboard.is_empty() {
        if !map.is_empty() {
            return Err(Error::Usage(
                "--map renames columns of tidy tables; for TensorBoard logs use --kl-key, --proxy-key, --gold-key, --step-key".to_string(),
            ));
        }
        let files: Vec<PathBuf> = tensorboard.iter().map(|(p, _)| p.clone()).collect();
        let records = tensorboard::read(&files)?;
        let det = Detection {
            format: LogFormat::Tensorboard,
            reason: tensorboard
                .iter()
                .map(|(p, d)| format!("{}: {}", p.display(), d.reason))
                .collect::<Vec<_>>()
                .join("; "),
            sure: true,
        };
        tables.push(to_curves::convert(records, det, opts)?);
    }
    kl_units::check_same_unit(&tables)?;
    Ok(tables)
}
