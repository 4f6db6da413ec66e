//! The two tables only the analyses read: the reward models' validation metrics
//! (`reward_models.csv`) and the simulated iterated-RLHF runs (`iterated_rlhf.csv`).
//! Only the columns every use needs are required; an analysis that needs another column says
//! which one is missing (README, "goodhart analyze").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::{ColumnData, ColumnMap, Table, read_table};
use crate::schema::{ColumnKind, ColumnSpec};

const fn col(name: &'static str, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind: ColumnKind::Number,
        required,
    }
}

/// The reward-models table: one row per proxy RM (rm_params, rm_data) with its validation loss
/// and accuracy on held-out comparisons.
pub const REWARD_MODELS: &[ColumnSpec] = &[
    col("rm_params", true),
    col("rm_data", false),
    col("val_loss", false),
    col("val_accuracy", false),
];

/// The iterated-RLHF table: one row per logged step of a run of `rounds` rounds.
pub const ITERATED: &[ColumnSpec] = &[
    col("rm_params", true),
    col("kl", true),
    col("gold", true),
    col("rm_data", false),
    col("policy_params", false),
    col("kl_penalty", false),
    col("rounds", false),
    col("round", false),
    col("step", false),
    col("d_sum", false),
];

/// One row of the reward-models table.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardModelRow {
    pub rm_params: f64,
    pub rm_data: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
}

/// The reward-models table as read: its rows and the optional columns it lacks.
#[derive(Debug, Clone)]
pub struct RewardModels {
    pub path: PathBuf,
    pub rows: Vec<RewardModelRow>,
    pub missing: Vec<&'static str>,
}

/// The key of an iterated-RLHF run besides its number of rounds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct IteratedKey {
    pub rm_params: f64,
    pub rm_data: Option<f64>,
    pub policy_params: Option<f64>,
    pub kl_penalty: Option<f64>,
}

/// One simulated run of k rounds, its points in (round, step) order (file order when the table
/// has neither column).
#[derive(Debug, Clone, PartialEq)]
pub struct IteratedRun {
    pub key: IteratedKey,
    pub rounds: u32,
    /// KL from the initial policy.
    pub kl: Vec<f64>,
    /// The paper's additive distance (sum of finished rounds' sqrt KL plus the current one's).
    pub d_sum: Vec<f64>,
    pub gold: Vec<f64>,
}

/// The iterated-RLHF table as read: its runs, or why they cannot be formed (a missing column).
#[derive(Debug, Clone)]
pub struct Iterated {
    pub path: PathBuf,
    pub runs: std::result::Result<Vec<IteratedRun>, String>,
    /// The columns the runs need that the file lacks (`rounds`, `d_sum`), and the file's
    /// columns as named there.
    pub missing: Vec<&'static str>,
    pub found: Vec<String>,
}

impl Iterated {
    /// An error when the table lacks the columns that make it an iterated-RLHF table (what
    /// `goodhart analyze --iterated` and `report --iterated` refuse; the library's
    /// [`crate::analyses::analyze`] skips the analysis instead).
    pub fn require_runs(&self) -> Result<()> {
        if self.missing.is_empty() {
            return Ok(());
        }
        Err(Error::MissingColumn {
            path: self.path.clone(),
            columns: self.missing.iter().map(|c| c.to_string()).collect(),
            hint: ITERATED_HINT.into(),
            found: self.found.join(", "),
        })
    }
}

fn numbers(t: &mut Table, name: &str) -> Option<Vec<Option<f64>>> {
    match t.take(name) {
        Some(ColumnData::Number(v)) => Some(v),
        _ => None,
    }
}

fn bad(t: &Table, path: &Path, column: &str, row: usize, value: String, problem: &str) -> Error {
    Error::BadValue {
        path: path.to_path_buf(),
        column: t.source_name(column),
        row,
        value,
        problem: problem.to_string(),
    }
}

/// What a value of a column of these tables must be, as the Curves reader says it
/// (`crate::curves`): the test and the message of a value that fails it.
fn rule(name: &str) -> (fn(f64) -> bool, String) {
    let positive: fn(f64) -> bool = |x| x.is_finite() && x > 0.0;
    let non_negative: fn(f64) -> bool = |x| x.is_finite() && x >= 0.0;
    match name {
        "rm_params" | "rm_data" | "policy_params" => {
            (positive, format!("{name} must be a finite number > 0"))
        }
        "kl" => (
            non_negative,
            "kl must be a finite number >= 0 (NaN, infinite and negative KL are not allowed)"
                .to_string(),
        ),
        "kl_penalty" => (
            non_negative,
            "kl_penalty must be a finite number >= 0".to_string(),
        ),
        "d_sum" => (
            non_negative,
            "d_sum must be a finite number >= 0 (a distance)".to_string(),
        ),
        "gold" => (
            f64::is_finite,
            "gold must be a finite number (not NaN or infinite)".to_string(),
        ),
        _ => (
            f64::is_finite,
            format!("{name} must be a finite number (leave the cell empty when unknown)"),
        ),
    }
}

/// A column's values, each passing its [`rule`] (empty cells allowed unless `required`): an
/// error names the file, the column, the data row (from 1) and the value.
fn checked(
    t: &mut Table,
    path: &Path,
    name: &str,
    required: bool,
) -> Result<Option<Vec<Option<f64>>>> {
    let Some(v) = numbers(t, name) else {
        return Ok(None);
    };
    let (ok, problem) = rule(name);
    for (i, x) in v.iter().enumerate() {
        match x {
            Some(x) if !ok(*x) => {
                return Err(bad(t, path, name, i + 1, format!("{x}"), &problem));
            }
            None if required => {
                return Err(bad(t, path, name, i + 1, String::new(), "missing value"));
            }
            _ => {}
        }
    }
    Ok(Some(v))
}

/// What an iterated-RLHF table is, added to the message of its missing columns.
const ITERATED_HINT: &str = " (an iterated-RLHF table has one row per logged step of a run of `rounds` rounds, with its additive distance d_sum)";

/// [`ITERATED`] with the columns the runs need (`rounds`, `d_sum`) required too.
const ITERATED_ALL: &[ColumnSpec] = &[
    col("rm_params", true),
    col("kl", true),
    col("gold", true),
    col("rm_data", false),
    col("policy_params", false),
    col("kl_penalty", false),
    col("rounds", true),
    col("round", false),
    col("step", false),
    col("d_sum", true),
];

/// The missing-columns error of an iterated-RLHF table that lacks a required column
/// (`first`), listing also `rounds` and `d_sum` when they are missing: the file's header is
/// planned again against [`ITERATED_ALL`], which fails at the same step with every column.
fn all_missing(path: &Path, first: Error) -> Error {
    match read_table(path, ITERATED_ALL, &ColumnMap::default()) {
        Err(Error::MissingColumn {
            path,
            columns,
            hint,
            found,
        }) => {
            let runs = columns.iter().any(|c| c == "rounds" || c == "d_sum");
            Error::MissingColumn {
                path,
                columns,
                hint: if runs {
                    format!("{hint}{ITERATED_HINT}")
                } else {
                    hint
                },
                found,
            }
        }
        _ => first,
    }
}

/// Reads a reward-models table (CSV, Parquet or NDJSON). `rm_params` is required; a
/// non-numeric or non-finite value (or a size that is not > 0) is an error naming the file,
/// column and row.
pub fn read_reward_models(path: &Path) -> Result<RewardModels> {
    let mut t = read_table(path, REWARD_MODELS, &ColumnMap::default())?;
    let n = t.n_rows;
    let size = checked(&mut t, path, "rm_params", true)?.unwrap_or_default();
    let mut missing = Vec::new();
    let mut opt = |name: &'static str, t: &mut Table| -> Result<Vec<Option<f64>>> {
        match checked(t, path, name, false)? {
            Some(v) => Ok(v),
            None => {
                missing.push(name);
                Ok(vec![None; n])
            }
        }
    };
    let data = opt("rm_data", &mut t)?;
    let loss = opt("val_loss", &mut t)?;
    let acc = opt("val_accuracy", &mut t)?;
    let rows = (0..n)
        .map(|i| RewardModelRow {
            rm_params: size[i].unwrap_or(f64::NAN),
            rm_data: data[i],
            val_loss: loss[i],
            val_accuracy: acc[i],
        })
        .collect();
    Ok(RewardModels {
        path: path.to_path_buf(),
        rows,
        missing,
    })
}

/// Reads an iterated-RLHF table. `rm_params`, `kl` and `gold` are required (an error when
/// absent, naming every missing column, `rounds` and `d_sum` included); a value outside its
/// column's range (a negative or non-finite `kl`, a size that is not > 0, ...) is an error
/// naming the file, column, data row and value, as the Curves reader does. Without `rounds`
/// or `d_sum` the runs cannot be compared with the formula, which [`Iterated::runs`] says.
pub fn read_iterated(path: &Path) -> Result<Iterated> {
    let mut t = match read_table(path, ITERATED, &ColumnMap::default()) {
        // a required column is missing: name `rounds` and `d_sum` too when the file lacks
        // them, so that one message lists every column to add
        Err(first @ Error::MissingColumn { .. }) => return Err(all_missing(path, first)),
        r => r?,
    };
    let n = t.n_rows;
    let size = checked(&mut t, path, "rm_params", true)?.unwrap_or_default();
    let kl = checked(&mut t, path, "kl", true)?.unwrap_or_default();
    let gold = checked(&mut t, path, "gold", true)?.unwrap_or_default();
    let mut opt = |name: &str| checked(&mut t, path, name, false);
    let data = opt("rm_data")?;
    let policy = opt("policy_params")?;
    let penalty = opt("kl_penalty")?;
    let rounds = opt("rounds")?;
    let round = opt("round")?;
    let step = opt("step")?;
    let d_sum = opt("d_sum")?;
    let absent: Vec<&'static str> = [("rounds", &rounds), ("d_sum", &d_sum)]
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !absent.is_empty() {
        return Ok(Iterated {
            path: path.to_path_buf(),
            runs: Err(format!(
                "{} has no column {}",
                path.display(),
                absent
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
            missing: absent,
            found: t.source_columns.clone(),
        });
    }
    let (rounds, d_sum) = (rounds.unwrap_or_default(), d_sum.unwrap_or_default());
    let at = |c: &Option<Vec<Option<f64>>>, i: usize| c.as_ref().and_then(|v| v[i]);
    // (key bits, rounds) -> rows
    type RunKey = ([u64; 4], [bool; 3], u32);
    let mut groups: BTreeMap<RunKey, Vec<usize>> = BTreeMap::new();
    let mut keys: BTreeMap<RunKey, IteratedKey> = BTreeMap::new();
    for i in 0..n {
        let k = match (rounds[i], d_sum[i]) {
            (Some(k), Some(d)) if k >= 1.0 && k.fract() == 0.0 && k <= 1e6 && d >= 0.0 => k as u32,
            (Some(k), Some(_)) if !(k >= 1.0 && k.fract() == 0.0 && k <= 1e6) => {
                return Err(bad(
                    &t,
                    path,
                    "rounds",
                    i + 1,
                    format!("{k}"),
                    "the number of rounds must be a whole number >= 1",
                ));
            }
            (_, Some(d)) if d < 0.0 => {
                return Err(bad(
                    &t,
                    path,
                    "d_sum",
                    i + 1,
                    format!("{d}"),
                    "a distance must be >= 0",
                ));
            }
            _ => continue,
        };
        let key = IteratedKey {
            rm_params: size[i].unwrap_or(f64::NAN),
            rm_data: at(&data, i),
            policy_params: at(&policy, i),
            kl_penalty: at(&penalty, i),
        };
        let bits = |x: Option<f64>| x.map_or(0, f64::to_bits);
        let id: RunKey = (
            [
                key.rm_params.to_bits(),
                bits(key.rm_data),
                bits(key.policy_params),
                bits(key.kl_penalty),
            ],
            [
                key.rm_data.is_some(),
                key.policy_params.is_some(),
                key.kl_penalty.is_some(),
            ],
            k,
        );
        keys.insert(id, key);
        groups.entry(id).or_default().push(i);
    }
    let mut runs: Vec<IteratedRun> = groups
        .into_iter()
        .map(|(id, mut rows)| {
            rows.sort_by(|&a, &b| {
                let r = |i: usize| at(&round, i).unwrap_or(0.0);
                let s = |i: usize| at(&step, i).unwrap_or(0.0);
                r(a).total_cmp(&r(b))
                    .then(s(a).total_cmp(&s(b)))
                    .then(a.cmp(&b))
            });
            IteratedRun {
                key: keys[&id],
                rounds: id.2,
                kl: rows.iter().map(|&i| kl[i].unwrap_or(f64::NAN)).collect(),
                d_sum: rows.iter().map(|&i| d_sum[i].unwrap_or(f64::NAN)).collect(),
                gold: rows.iter().map(|&i| gold[i].unwrap_or(f64::NAN)).collect(),
            }
        })
        .collect();
    runs.sort_by(|a, b| {
        a.key
            .partial_cmp(&b.key)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.rounds.cmp(&b.rounds))
    });
    Ok(Iterated {
        path: path.to_path_buf(),
        runs: Ok(runs),
        missing: Vec::new(),
        found: t.source_columns.clone(),
    })
}
