//! Gold scores from a separate file (`--gold-from`): researchers score checkpoints with the
//! gold RM offline, so gold arrives as `step,gold` (optionally `run`) apart from the training
//! log. Each gold evaluation at step g is joined to the log's point at step g, or else at the
//! nearest earlier logged step s with g - s <= `--join-tolerance`; evaluations that find no
//! step are reported, and a join with no match at all is an error.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{keys, pyjson, wandb};
use crate::error::{Error, Result};
use crate::format::fmt_num;

/// One gold evaluation.
#[derive(Debug, Clone)]
pub struct GoldRow {
    pub run: Option<String>,
    pub step: f64,
    pub gold: f64,
}

/// The gold file read: its rows, the key used, and how many non-finite rows were dropped.
#[derive(Debug, Clone)]
pub struct GoldFile {
    pub rows: Vec<GoldRow>,
    pub gold_key: String,
    pub step_key: String,
    pub has_run: bool,
    pub dropped_non_finite: usize,
}

enum Cell {
    Num(f64),
    Text(String),
}

/// Reads a gold file: CSV, or JSON Lines / a JSON array of objects.
pub fn read(path: &Path, gold_key: Option<&str>) -> Result<GoldFile> {
    let ext = crate::ingest::lowercase_extension(path);
    let (header, records): (Vec<String>, Vec<HashMap<String, Cell>>) = if ext == "csv" {
        let (header, rows) = wandb::read_csv(path)?;
        let recs = rows
            .into_iter()
            .map(|r| {
                header
                    .iter()
                    .zip(r)
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(h, c)| {
                        let cell = match c.parse::<f64>() {
                            Ok(x) => Cell::Num(x),
                            Err(_) => Cell::Text(c),
                        };
                        (h.clone(), cell)
                    })
                    .collect()
            })
            .collect();
        (header, recs)
    } else {
        let text = pyjson::read_text(path)?;
        let values: Vec<Value> = match pyjson::parse_document(path, &text) {
            Ok(Value::Array(v)) => v,
            _ => pyjson::parse_lines(path, &text)?
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
        };
        let mut header: Vec<String> = Vec::new();
        let mut recs = Vec::new();
        for v in values {
            let Value::Object(o) = v else { continue };
            let mut rec = HashMap::new();
            for (k, v) in o {
                if !header.contains(&k) {
                    header.push(k.clone());
                }
                if let Some(x) = pyjson::number(&v) {
                    rec.insert(k, Cell::Num(x));
                } else if let Value::String(s) = v {
                    rec.insert(k, Cell::Text(s));
                }
            }
            recs.push(rec);
        }
        (header, recs)
    };
    if records.is_empty() {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    let gold_key = keys::resolve(path, &header, "--gold-key", gold_key, keys::DEFAULT_GOLD)?
        .ok_or_else(|| keys::unknown_key(path, "--gold-key", "gold", &header))?;
    let step_key = keys::resolve(
        path,
        &header,
        "the step column of --gold-from",
        None,
        &["step", "Step", "global_step"],
    )?
    .ok_or_else(|| keys::unknown_key(path, "the step column of --gold-from", "step", &header))?;
    let has_run = header.iter().any(|h| h == "run");
    let mut rows = Vec::new();
    let mut dropped = 0usize;
    for (i, rec) in records.iter().enumerate() {
        let num = |k: &str| -> Result<Option<f64>> {
            match rec.get(k) {
                None => Ok(None),
                Some(Cell::Num(x)) => Ok(Some(*x)),
                Some(Cell::Text(t)) => Err(Error::BadValue {
                    path: path.to_path_buf(),
                    column: k.to_string(),
                    row: i + 1,
                    value: t.clone(),
                    problem: "not a number".to_string(),
                }),
            }
        };
        let (Some(step), Some(gold)) = (num(&step_key)?, num(&gold_key)?) else {
            continue;
        };
        if !step.is_finite() || !gold.is_finite() {
            dropped += 1;
            continue;
        }
        let run = match rec.get("run") {
            Some(Cell::Text(t)) => Some(t.clone()),
            Some(Cell::Num(x)) => Some(fmt_num(*x)),
            None => None,
        };
        rows.push(GoldRow { run, step, gold });
    }
    Ok(GoldFile {
        rows,
        gold_key,
        step_key,
        has_run,
        dropped_non_finite: dropped,
    })
}

/// A log point that can take gold: its index, run and step.
#[derive(Debug, Clone)]
pub struct LogStep {
    pub index: usize,
    pub run: Option<String>,
    pub step: f64,
}

/// The result of a join: (log point index, gold row) pairs, where no index marks a gold
/// evaluation before the run's first logged step (the KL = 0 baseline); warnings about misses;
/// and the gold rows of runs the log does not have, by run.
#[derive(Debug, Clone)]
pub struct Joined {
    pub pairs: Vec<(Option<usize>, GoldRow)>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    pub other_runs: Vec<(String, usize)>,
}

fn span(steps: &[f64]) -> String {
    let lo = steps.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = steps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if steps.is_empty() {
        "none".to_string()
    } else {
        format!("{} steps, {} .. {}", steps.len(), fmt_num(lo), fmt_num(hi))
    }
}

/// Joins gold evaluations to log steps. A gold file with a `run` column is joined by run and
/// step: each log run takes only its own evaluations (a log without run names needs one, from
/// `--run`, the sidecar or the runs manifest, unless the gold file has a single run). A gold
/// evaluation before the first logged step of its run (step 0: TRL never logs it) is the run's
/// KL = 0 baseline.
pub fn join(
    log_path: &Path,
    gold_path: &Path,
    log: &[LogStep],
    first_steps: &[(Option<String>, f64)],
    gold: &GoldFile,
    tolerance: f64,
) -> Result<Joined> {
    let mut runs: Vec<&Option<String>> = Vec::new();
    for s in log {
        if !runs.contains(&&s.run) {
            runs.push(&s.run);
        }
    }
    if !gold.has_run && runs.len() > 1 {
        return Err(Error::Usage(format!(
            "{}: the log has {} runs but the gold file {} has no 'run' column to tell which run each evaluation belongs to",
            log_path.display(),
            runs.len(),
            gold_path.display()
        )));
    }
    let mut gold_runs: Vec<&str> = Vec::new();
    for g in &gold.rows {
        if let Some(r) = &g.run
            && !gold_runs.contains(&r.as_str())
        {
            gold_runs.push(r);
        }
    }
    let mut notes = Vec::new();
    // The run a gold row must name to be joined to a log step of run `r`.
    let mut alias: Option<String> = None;
    if gold.has_run && runs.iter().any(|r| r.is_none()) {
        match gold_runs.as_slice() {
            [only] => {
                alias = Some(only.to_string());
                notes.push(format!(
                    "{}: the log names no run; the gold file's only run '{only}' is joined to it",
                    log_path.display()
                ));
            }
            _ => {
                let shown: Vec<&str> = gold_runs.iter().take(5).copied().collect();
                let more = if gold_runs.len() > 5 { ", ..." } else { "" };
                return Err(Error::Usage(format!(
                    "{}: the gold file {} has a 'run' column with {} runs ({}{more}) but the log names no run, so its evaluations cannot be told apart: give --run NAME (or \"run\" in the sidecar, or list the log in a runs manifest, --runs) to join only that run's evaluations",
                    log_path.display(),
                    gold_path.display(),
                    gold_runs.len(),
                    shown.join(", ")
                )));
            }
        }
    }
    let log_runs: Vec<&str> = runs.iter().filter_map(|r| r.as_deref()).collect();
    if gold.has_run
        && alias.is_none()
        && !log_runs.is_empty()
        && !log_runs.iter().any(|r| gold_runs.contains(r))
    {
        // e.g. a typo in --run: say so rather than "no step matches"
        let shown: Vec<&str> = gold_runs.iter().take(5).copied().collect();
        let more = if gold_runs.len() > 5 { ", ..." } else { "" };
        return Err(Error::Usage(format!(
            "{}: no run of the log ({}) is a run of the gold file {} ({}{more}): check --run, the sidecar's \"run\" or the manifest's run column",
            log_path.display(),
            log_runs.join(", "),
            gold_path.display(),
            shown.join(", ")
        )));
    }
    let run_of = |s: &LogStep| -> Option<String> { s.run.clone().or_else(|| alias.clone()) };
    let matches = |s: &LogStep, g: &GoldRow| !gold.has_run || g.run.is_none() || run_of(s) == g.run;
    let mut pairs = Vec::new();
    let mut missed: Vec<f64> = Vec::new();
    let mut baselines: Vec<f64> = Vec::new();
    let mut first_logged = f64::NAN;
    let mut other_runs: Vec<(String, usize)> = Vec::new();
    for g in &gold.rows {
        let own: Vec<&LogStep> = log.iter().filter(|s| matches(s, g)).collect();
        if own.is_empty() {
            let r = g.run.clone().unwrap_or_default();
            match other_runs.iter_mut().find(|(x, _)| *x == r) {
                Some((_, n)) => *n += 1,
                None => other_runs.push((r, 1)),
            }
            continue;
        }
        // The run's first logged step, a point dropped later included (not only usable ones).
        let first = own
            .iter()
            .map(|s| {
                first_steps
                    .iter()
                    .find(|(r, _)| *r == s.run)
                    .map_or(s.step, |(_, f)| f.min(s.step))
            })
            .fold(f64::INFINITY, f64::min);
        if g.step < first {
            baselines.push(g.step);
            first_logged = first;
            pairs.push((None, g.clone()));
            continue;
        }
        let best = own
            .iter()
            .filter(|s| s.step <= g.step && g.step - s.step <= tolerance)
            .max_by(|a, b| a.step.total_cmp(&b.step));
        match best {
            Some(s) => pairs.push((Some(s.index), g.clone())),
            None => missed.push(g.step),
        }
    }
    if !pairs.iter().any(|(i, _)| i.is_some()) {
        let log_steps: Vec<f64> = log.iter().map(|s| s.step).collect();
        let gold_steps: Vec<f64> = gold
            .rows
            .iter()
            .filter(|g| log.iter().any(|s| matches(s, g)))
            .map(|g| g.step)
            .collect();
        return Err(Error::NoJoinOverlap {
            log: log_path.to_path_buf(),
            gold: gold_path.to_path_buf(),
            log_steps: span(&log_steps),
            gold_steps: span(&gold_steps),
            tolerance: fmt_num(tolerance),
        });
    }
    let mut warnings = Vec::new();
    let n_own = gold.rows.len() - other_runs.iter().map(|(_, n)| n).sum::<usize>();
    if !missed.is_empty() {
        let shown: Vec<String> = missed.iter().take(8).map(|s| fmt_num(*s)).collect();
        let more = if missed.len() > 8 { ", ..." } else { "" };
        warnings.push(format!(
            "{}: {} of {} gold evaluation(s) match no usable logged step of {} (exactly or up to --join-tolerance {} earlier) and are left out: steps {}{more}",
            gold_path.display(),
            missed.len(),
            n_own,
            log_path.display(),
            fmt_num(tolerance),
            shown.join(", ")
        ));
    }
    let late: Vec<String> = baselines
        .iter()
        .filter(|s| **s > 0.0)
        .take(8)
        .map(|s| fmt_num(*s))
        .collect();
    if !late.is_empty() {
        // Only a step-0 evaluation is surely of the initial policy.
        warnings.push(format!(
            "{}: gold evaluation(s) at step {} come before the first logged step ({}) of {} and are taken as the KL = 0 baseline, although the policy had trained for that many steps; drop them from the gold file if the policy had moved",
            gold_path.display(),
            late.join(", "),
            fmt_num(first_logged),
            log_path.display(),
        ));
    }
    if !baselines.is_empty() {
        let shown: Vec<String> = baselines.iter().take(8).map(|s| fmt_num(*s)).collect();
        notes.push(format!(
            "{}: {} gold evaluation(s) before the first logged step ({}) of {}, at step {}, are the KL = 0 baseline (no proxy value there)",
            gold_path.display(),
            baselines.len(),
            fmt_num(first_logged),
            log_path.display(),
            shown.join(", ")
        ));
    }
    if gold.dropped_non_finite > 0 {
        warnings.push(format!(
            "{}: {} gold evaluation(s) dropped for non-finite values (NaN/Infinity)",
            gold_path.display(),
            gold.dropped_non_finite
        ));
    }
    Ok(Joined {
        pairs,
        warnings,
        notes,
        other_runs,
    })
}
