//! The runs manifest (`--runs runs.csv`): one command reads many runs. Each row names a log
//! (any supported format; several TensorBoard files separated by `;`), its run id and the
//! metadata logs rarely carry, and optionally its gold file; paths are relative to the
//! manifest's folder:
//!
//! ```csv
//! log,run,rm_params,gold_from
//! rm125m/trainer_state.json,rm125m,1.25e8,gold.csv
//! rm350m/trainer_state.json,rm350m,3.5e8,gold.csv
//! ```
//!
//! A gold file with a `run` column is joined by run and step, so one gold file serves every
//! run. Gold rows of runs the manifest does not list, and listed runs without gold rows, are
//! counted in a warning (the latter are left out). A flag given beside the manifest fills the
//! rows that leave its column empty and may not contradict a row that fills it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::adapters::{LoadedTable, gold_join, kl_units, read_curve_tables, wandb};
use super::{ColumnMap, KlUnit, LogFormat, LogOptions};
use crate::error::{Error, Result};
use crate::format::fmt_num;
use crate::schema::Method;

/// Reads Curves inputs of any format and, with `opts.runs`, every run of the runs manifest:
/// one canonical table per input (per run), of one KL unit.
pub fn read_all_curve_tables(
    paths: &[PathBuf],
    map: &ColumnMap,
    opts: &LogOptions,
) -> Result<Vec<LoadedTable>> {
    let mut tables = Vec::new();
    if let Some(runs) = &opts.runs {
        tables.extend(read(runs, opts)?.read_tables(map)?);
    }
    if !paths.is_empty() || tables.is_empty() {
        tables.extend(read_curve_tables(paths, map, opts)?);
    }
    kl_units::check_same_unit(&tables)?;
    Ok(tables)
}

/// The columns a manifest may have (`log` is required).
pub const COLUMNS: &[&str] = &[
    "log",
    "run",
    "method",
    "rm_params",
    "kl_penalty",
    "policy_params",
    "rm_data",
    "kl_unit",
    "format",
    "gold_from",
    "kl_key",
    "proxy_key",
    "gold_key",
    "step_key",
    "length_key",
];

/// One row of a manifest: its log files and the reading options of that log.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// The row number (1 = the first row after the header), for messages.
    pub row: usize,
    pub logs: Vec<PathBuf>,
    pub opts: LogOptions,
}

/// A manifest read: its rows, each with its own options (the flags' values where the row is
/// silent).
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub rows: Vec<ManifestRow>,
}

fn bad(path: &Path, row: usize, column: &str, value: &str, problem: impl Into<String>) -> Error {
    Error::BadValue {
        path: path.to_path_buf(),
        column: column.to_string(),
        row,
        value: value.to_string(),
        problem: problem.into(),
    }
}

/// Sets `slot` from a row's cell, refusing a flag that says otherwise.
fn fill<T: PartialEq + std::fmt::Debug>(
    slot: &mut Option<T>,
    from_row: Option<T>,
    flag: &str,
    err: impl FnOnce(String) -> Error,
) -> Result<()> {
    if let Some(v) = from_row {
        match slot {
            Some(f) if *f != v => {
                return Err(err(format!(
                    "{flag} {f:?} is given too and contradicts it: remove the flag or the column"
                )));
            }
            _ => *slot = Some(v),
        }
    }
    Ok(())
}

/// Reads a manifest (CSV) into rows of options, `base` giving the flags' values.
pub fn read(path: &Path, base: &LogOptions) -> Result<Manifest> {
    let ext = super::lowercase_extension(path);
    if ext != "csv" {
        return Err(Error::Usage(format!(
            "{}: a runs manifest is a CSV file (.csv) with the columns {}",
            path.display(),
            COLUMNS.join(", ")
        )));
    }
    let (header, cells) = wandb::read_csv(path)?;
    for h in &header {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(Error::Usage(format!(
                "{}: unknown column '{h}' in the runs manifest (columns: {})",
                path.display(),
                COLUMNS.join(", ")
            )));
        }
    }
    if !header.iter().any(|h| h == "log") {
        return Err(Error::MissingColumn {
            path: path.to_path_buf(),
            columns: vec!["log".to_string()],
            hint: " (a runs manifest names one log per row)".to_string(),
            found: header.join(", "),
        });
    }
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut rows = Vec::new();
    let mut seen_runs: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in cells.iter().enumerate() {
        let row = i + 1;
        let cell = |name: &str| -> Option<&str> {
            header
                .iter()
                .position(|h| h == name)
                .map(|j| r[j].as_str())
                .filter(|c| !c.is_empty())
        };
        let number = |name: &str, zero_ok: bool| -> Result<Option<f64>> {
            let Some(c) = cell(name) else { return Ok(None) };
            match c.parse::<f64>() {
                Ok(x) if x.is_finite() && (x > 0.0 || (zero_ok && x == 0.0)) => Ok(Some(x)),
                _ => Err(bad(
                    path,
                    row,
                    name,
                    c,
                    if zero_ok {
                        "must be a number >= 0"
                    } else {
                        "must be a number > 0"
                    },
                )),
            }
        };
        let Some(log_cell) = cell("log") else {
            return Err(bad(
                path,
                row,
                "log",
                "",
                "empty: every row names a log file",
            ));
        };
        let logs: Vec<PathBuf> = log_cell
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| folder.join(s))
            .collect();
        for l in &logs {
            if !l.exists() {
                return Err(bad(
                    path,
                    row,
                    "log",
                    log_cell,
                    format!(
                        "{} does not exist (paths are relative to the manifest's folder)",
                        l.display()
                    ),
                ));
            }
        }
        let mut opts = base.clone();
        opts.runs = None;
        opts.from_manifest = true;
        let flag_err = |column: &'static str| {
            move |m: String| {
                Error::Usage(format!(
                    "{}: row {row}, column {column}: {m}",
                    path.display()
                ))
            }
        };
        let run = cell("run").map(str::to_string);
        if let Some(r) = &run
            && let Some(first) = seen_runs.insert(r.clone(), row)
        {
            return Err(bad(
                path,
                row,
                "run",
                r,
                format!("run '{r}' is listed twice (also row {first}): one row per run"),
            ));
        }
        fill(&mut opts.meta.run, run, "--run", flag_err("run"))?;
        let method = match cell("method") {
            None => None,
            Some(m) => Some(
                Method::parse(m)
                    .ok_or_else(|| bad(path, row, "method", m, "must be 'rl' or 'bon'"))?,
            ),
        };
        fill(
            &mut opts.meta.method,
            method,
            "--method",
            flag_err("method"),
        )?;
        fill(
            &mut opts.meta.rm_params,
            number("rm_params", false)?,
            "--rm-params",
            flag_err("rm_params"),
        )?;
        fill(
            &mut opts.meta.kl_penalty,
            number("kl_penalty", true)?,
            "--kl-penalty",
            flag_err("kl_penalty"),
        )?;
        fill(
            &mut opts.meta.policy_params,
            number("policy_params", false)?,
            "--policy-params",
            flag_err("policy_params"),
        )?;
        fill(
            &mut opts.meta.rm_data,
            number("rm_data", false)?,
            "--rm-data",
            flag_err("rm_data"),
        )?;
        let unit = match cell("kl_unit") {
            None => None,
            Some("sequence") => Some(KlUnit::Sequence),
            Some("token") => Some(KlUnit::Token),
            Some(u) => {
                return Err(bad(
                    path,
                    row,
                    "kl_unit",
                    u,
                    "must be 'sequence' or 'token'",
                ));
            }
        };
        fill(
            &mut opts.meta.kl_unit,
            unit,
            "--kl-unit",
            flag_err("kl_unit"),
        )?;
        let format = match cell("format") {
            None => None,
            Some(f) => Some(
                [
                    LogFormat::Tidy,
                    LogFormat::Trl,
                    LogFormat::Wandb,
                    LogFormat::Tensorboard,
                    LogFormat::Verl,
                ]
                .into_iter()
                .find(|x| x.name() == f)
                .ok_or_else(|| {
                    bad(
                        path,
                        row,
                        "format",
                        f,
                        "must be one of tidy, trl, wandb, tensorboard, verl",
                    )
                })?,
            ),
        };
        fill(&mut opts.format, format, "--format", flag_err("format"))?;
        fill(
            &mut opts.gold_from,
            cell("gold_from").map(|g| folder.join(g)),
            "--gold-from",
            flag_err("gold_from"),
        )?;
        for (column, flag, slot) in [
            ("kl_key", "--kl-key", &mut opts.keys.kl),
            ("proxy_key", "--proxy-key", &mut opts.keys.proxy),
            ("gold_key", "--gold-key", &mut opts.keys.gold),
            ("step_key", "--step-key", &mut opts.keys.step),
            ("length_key", "--length-key", &mut opts.keys.length),
        ] {
            fill(
                slot,
                cell(column).map(str::to_string),
                flag,
                flag_err(column),
            )?;
        }
        rows.push(ManifestRow { row, logs, opts });
    }
    if rows.is_empty() {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(Manifest {
        path: path.to_path_buf(),
        rows,
    })
}

impl Manifest {
    /// Every file the manifest names (itself, its logs and gold files): none may be an output.
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.path.clone()];
        for r in &self.rows {
            v.extend(r.logs.iter().cloned());
            v.extend(r.opts.gold_from.iter().cloned());
        }
        v
    }

    /// The rows to read, and warnings with counts: gold rows of runs the manifest does not
    /// list, and listed runs that have no gold row in their gold file (left out).
    fn plan_gold(&self) -> Result<(Vec<&ManifestRow>, Vec<String>)> {
        let mut warnings = Vec::new();
        let mut keep: Vec<&ManifestRow> = self.rows.iter().collect();
        let mut by_gold: BTreeMap<PathBuf, Vec<&ManifestRow>> = BTreeMap::new();
        for r in &self.rows {
            if let Some(g) = &r.opts.gold_from {
                by_gold.entry(g.clone()).or_default().push(r);
            }
        }
        let mut no_gold: Vec<String> = Vec::new();
        for (gpath, rows) in &by_gold {
            let gold = gold_join::read(gpath, rows[0].opts.keys.gold.as_deref())?;
            if !gold.has_run {
                continue;
            }
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for g in &gold.rows {
                if let Some(r) = &g.run {
                    *counts.entry(r.as_str()).or_default() += 1;
                }
            }
            let listed: Vec<&str> = rows
                .iter()
                .filter_map(|r| r.opts.meta.run.as_deref())
                .collect();
            let others: Vec<(&str, usize)> = counts
                .iter()
                .filter(|(r, _)| !listed.contains(r))
                .map(|(r, n)| (*r, *n))
                .collect();
            if !others.is_empty() {
                let n: usize = others.iter().map(|(_, n)| n).sum();
                let names: Vec<&str> = others.iter().take(5).map(|(r, _)| *r).collect();
                let more = if others.len() > 5 { ", ..." } else { "" };
                warnings.push(format!(
                    "{}: {n} gold evaluation(s) of {} run(s) that {} does not list are not used ({}{more})",
                    gpath.display(),
                    others.len(),
                    self.path.display(),
                    names.join(", ")
                ));
            }
            for r in rows {
                if let Some(run) = r.opts.meta.run.as_deref()
                    && !counts.contains_key(run)
                {
                    no_gold.push(run.to_string());
                    keep.retain(|k| k.row != r.row);
                }
            }
        }
        if !no_gold.is_empty() {
            let shown: Vec<&str> = no_gold.iter().take(5).map(String::as_str).collect();
            let more = if no_gold.len() > 5 { ", ..." } else { "" };
            warnings.push(format!(
                "{}: {} of {} run(s) have no gold evaluation in their gold file and are left out ({}{more})",
                self.path.display(),
                no_gold.len(),
                self.rows.len(),
                shown.join(", ")
            ));
        }
        if keep.is_empty() {
            return Err(Error::Analysis(format!(
                "{}: no run has gold evaluations in its gold file (the gold files' 'run' values must be the manifest's run ids)",
                self.path.display()
            )));
        }
        Ok((keep, warnings))
    }

    /// Reads every run's log into Curves tables. The manifest's warnings, and the warnings
    /// the runs share (the same words after the log's name), go once with the first table.
    pub fn read_tables(&self, map: &ColumnMap) -> Result<Vec<LoadedTable>> {
        let (rows, mut warnings) = self.plan_gold()?;
        let mut tables = Vec::new();
        for r in rows {
            tables.extend(read_curve_tables(&r.logs, map, &r.opts)?);
        }
        warnings.extend(self.shared_warnings(&mut tables));
        if let Some(first) = tables.first_mut() {
            first.info.warnings.splice(0..0, warnings);
        }
        Ok(tables)
    }

    /// Takes out of `tables` the warnings that several logs give in the same words (after
    /// their own name), and returns each once, naming how many logs gave it.
    fn shared_warnings(&self, tables: &mut [LoadedTable]) -> Vec<String> {
        let mut by_text: Vec<(String, usize)> = Vec::new();
        for t in tables.iter() {
            let prefix = format!("{}: ", t.info.source);
            for w in &t.info.warnings {
                if let Some(rest) = w.strip_prefix(&prefix) {
                    match by_text.iter_mut().find(|(x, _)| x == rest) {
                        Some((_, n)) => *n += 1,
                        None => by_text.push((rest.to_string(), 1)),
                    }
                }
            }
        }
        let shared: Vec<(String, usize)> = by_text.into_iter().filter(|(_, n)| *n > 1).collect();
        for t in tables.iter_mut() {
            let prefix = format!("{}: ", t.info.source);
            t.info.warnings.retain(|w| {
                !w.strip_prefix(&prefix)
                    .is_some_and(|rest| shared.iter().any(|(x, _)| x == rest))
            });
        }
        shared
            .into_iter()
            .map(|(w, n)| format!("{n} logs of {}: {w}", self.path.display()))
            .collect()
    }

    /// The plan `inspect --runs` prints: one line per run (file, format, run, metadata, gold
    /// source, points), then the warnings.
    pub fn plan(&self, map: &ColumnMap) -> Result<String> {
        let (rows, mut all_warnings) = self.plan_gold()?;
        let mut out = format!(
            "runs manifest {}: {} run(s)\n",
            self.path.display(),
            self.rows.len()
        );
        let mut read: Vec<(&ManifestRow, LoadedTable)> = Vec::new();
        for r in rows {
            for t in read_curve_tables(&r.logs, map, &r.opts)? {
                read.push((r, t));
            }
        }
        let mut tables: Vec<LoadedTable> = read.iter().map(|(_, t)| t.clone()).collect();
        all_warnings.extend(self.shared_warnings(&mut tables));
        for ((r, _), t) in read.iter().zip(tables) {
            {
                let picked = |name: &str| {
                    t.info
                        .picked
                        .iter()
                        .find(|(c, _)| *c == name)
                        .map(|(_, s)| s.clone())
                };
                let mut meta = Vec::new();
                for (name, v) in [
                    ("method", r.opts.meta.method.map(|m| m.as_str().to_string())),
                    ("rm_params", r.opts.meta.rm_params.map(fmt_num)),
                    ("kl_penalty", r.opts.meta.kl_penalty.map(fmt_num)),
                    ("policy_params", r.opts.meta.policy_params.map(fmt_num)),
                    ("rm_data", r.opts.meta.rm_data.map(fmt_num)),
                ] {
                    if let Some(v) = v {
                        meta.push(format!("{name}={v}"));
                    }
                }
                out.push_str(&format!(
                    "  row {}: {} [{}] run {}: {}; kl <- {}; gold <- {}; {} point(s)\n",
                    r.row,
                    t.info.source,
                    t.info.detection.format,
                    r.opts.meta.run.as_deref().unwrap_or("(unnamed)"),
                    if meta.is_empty() {
                        "no metadata".to_string()
                    } else {
                        meta.join(", ")
                    },
                    picked("kl").unwrap_or_default(),
                    picked("gold").unwrap_or_default(),
                    t.table.n_rows
                ));
                all_warnings.extend(t.info.warnings.iter().cloned());
            }
        }
        for w in all_warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
        Ok(out)
    }
}
