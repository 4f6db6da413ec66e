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
pub mod tfevents;
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
    /// Things to know about the reading (values of a restarted TensorBoard run replaced).
    pub notes: Vec<String>,
    /// Where the run names come from, when the format's usual place is not it.
    pub run_source: Option<String>,
    pub points: Vec<LogPoint>,
    /// Keys that have a (run, step) twice: an error only when the key is used.
    pub repeated: Vec<RepeatedStep>,
}

/// A key logged twice at one (run, step) (a TensorBoard tag such as `train/epoch` that repeats
/// a step): where, for the message given when the key is used.
#[derive(Debug, Clone)]
pub struct RepeatedStep {
    pub key: String,
    pub path: PathBuf,
    pub row: usize,
    pub value: String,
    pub problem: String,
}

impl RepeatedStep {
    pub fn error(&self) -> Error {
        Error::BadValue {
            path: self.path.clone(),
            column: "Step".to_string(),
            row: self.row,
            value: self.value.clone(),
            problem: self.problem.clone(),
        }
    }
}

impl LogRecords {
    pub(crate) fn new(paths: Vec<PathBuf>, format: LogFormat) -> LogRecords {
        LogRecords {
            paths,
            format,
            keys: Vec::new(),
            ignored: Vec::new(),
            notes: Vec::new(),
            run_source: None,
            points: Vec::new(),
            repeated: Vec::new(),
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

    /// The paths as one short string for messages: the path of one file, else the count and
    /// their folder ("3 files in runs/ppo"), never the whole list.
    pub fn display(&self) -> String {
        brief_paths(&self.paths)
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
        Some(LogFormat::Tensorboard) if found.format == LogFormat::Tensorboard => Ok(Detection {
            format: LogFormat::Tensorboard,
            reason: format!("--format tensorboard ({})", found.reason),
            sure: true,
        }),
        None => Ok(found),
        Some(want @ (LogFormat::Wandb | LogFormat::Tensorboard))
            if !path.is_dir() && detect::looks_like_json(path)? =>
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
/// `opts.runs` (the runs manifest) is read by `ingest::manifest::read_all_curve_tables`,
/// which calls this for each of its rows.
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
        let records = read_tensorboard(&files)?;
        let det = Detection {
            format: LogFormat::Tensorboard,
            reason: match tensorboard.as_slice() {
                [(_, d)] => d.reason.clone(),
                [(p, d), ..] => format!(
                    "{}: {} (and {} more)",
                    p.file_name().unwrap_or_default().to_string_lossy(),
                    d.reason,
                    tensorboard.len() - 1
                ),
                [] => String::new(),
            },
            sure: true,
        };
        tables.push(to_curves::convert(records, det, opts)?);
    }
    if tables.is_empty() {
        return Err(Error::Usage(
            "no input: give log or Curves files, or a runs manifest with --runs".to_string(),
        ));
    }
    kl_units::check_same_unit(&tables)?;
    Ok(tables)
}

/// Reads TensorBoard inputs: event files and folders of them ([`tfevents`]), or scalar CSV
/// exports ([`tensorboard`]); the two are not mixed in one log.
pub fn read_tensorboard(paths: &[PathBuf]) -> Result<LogRecords> {
    let mut events = Vec::new();
    let mut csv = Vec::new();
    for p in paths {
        if tfevents::is_event_input(p)? {
            events.push(p);
        } else {
            csv.push(p);
        }
    }
    match (events.first(), csv.first()) {
        (Some(e), Some(c)) => Err(Error::Usage(format!(
            "give TensorBoard event files ({}) or their CSV exports ({}), not both: they hold the same scalars",
            e.display(),
            c.display()
        ))),
        (Some(_), None) => tfevents::read(paths),
        _ => tensorboard::read(paths),
    }
}

/// Paths named briefly for messages: one path as it is, several as "N files" (in their common
/// folder when they share one).
pub fn brief_paths(paths: &[PathBuf]) -> String {
    match paths {
        [] => String::new(),
        [one] => one.display().to_string(),
        [first, rest @ ..] => {
            let parent = first.parent().filter(|p| !p.as_os_str().is_empty());
            match parent {
                Some(d) if rest.iter().all(|p| p.parent() == Some(d)) => {
                    format!("{} files in {}", paths.len(), d.display())
                }
                _ => format!("{} files", paths.len()),
            }
        }
    }
}
