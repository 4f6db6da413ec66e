//! `goodhart inspect`: what a file is (and, for logs, which detection rule said so), how its
//! columns or keys map, which curves it holds, and what would stop a fit, before anything is
//! fitted.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::curves::CurvesTable;
use crate::format::fmt_num;
use crate::format::g6;
use crate::ingest::adapters::{self, Detection, LogInfo};
use crate::ingest::{ColumnMap, ColumnMapping, Format, LogFormat, LogOptions, Table, read_table};
use crate::schema::{CURVES, CurveKey, SAMPLES};

/// One curve as `inspect` describes it.
#[derive(Debug, Clone)]
pub struct CurveSummary {
    pub key: CurveKey,
    /// Points with kl > 0.
    pub points: usize,
    pub baseline_points: usize,
    pub kl_min: f64,
    pub kl_max: f64,
    pub proxy_points: usize,
}

/// What `inspect` found.
#[derive(Debug, Clone)]
pub struct InspectReport {
    pub path: PathBuf,
    pub format: Format,
    pub rows: usize,
    pub source_columns: Vec<String>,
    pub mapping: Vec<ColumnMapping>,
    pub curves: Vec<CurveSummary>,
    /// Problems that make `goodhart fit` fail on this file.
    pub problems: Vec<String>,
    /// Things to know that do not stop a fit.
    pub notes: Vec<String>,
    /// How the format was chosen (`None`: a tidy table inspected without detection).
    pub detection: Option<Detection>,
    /// For logs: the keys, the mapping and the adapters' warnings.
    pub log: Option<LogInfo>,
    /// For best-of-n dumps and Samples tables: pools and samples read (`None` when `goodhart
    /// bon` could not read them: the reason is in `problems`).
    pub samples: Option<(usize, usize)>,
    /// Which of goodhart's tables the file is (or converts to).
    pub table: TableKind,
}

/// The table a file inspected is: Curves (`goodhart fit` reads it) or Samples (`goodhart bon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableKind {
    #[default]
    Curves,
    Samples,
}

impl InspectReport {
    pub fn is_fittable(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Inspects a tidy Curves file. Errors that prevent reading the table at all (a missing, empty or
/// corrupt file, a missing column) are returned as errors; problems of values are reported.
pub fn inspect(path: &Path, map: &ColumnMap) -> crate::error::Result<InspectReport> {
    let table = read_table(path, CURVES, map)?;
    Ok(describe(path, table, None, None))
}

/// Inspects inputs of any format (several TensorBoard files are one log): says what was
/// detected and why, the keys found and what the mapping picked, then the curves.
pub fn inspect_logs(
    paths: &[PathBuf],
    map: &ColumnMap,
    map_args: &[String],
    opts: &LogOptions,
) -> crate::error::Result<InspectReport> {
    let first = paths.first().cloned().unwrap_or_default();
    let det = adapters::resolve_format(&first, opts)?;
    match det.format {
        LogFormat::Tidy => {
            let any_log = (paths.iter()).any(|p| {
                adapters::resolve_format(p, opts).is_ok_and(|d| d.format.is_trainer_log())
            });
            crate::ingest::metadata::check_log_flags(paths, any_log, opts)?;
            if opts.gold_from.is_some() {
                return Err(crate::Error::Usage(format!(
                    "{}: --gold-from joins gold to a trainer log, but this is a tidy Curves table (it has a gold column already)",
                    first.display()
                )));
            }
            let mut report = match crate::ingest::metadata::read_curves_table(&first, map, opts) {
                Ok(table) => describe(&first, table, Some(det), None),
                Err(crate::Error::MissingColumn { ref columns, .. })
                    if columns.iter().any(|c| c == crate::schema::KL)
                        && let Some(report) = samples_report(paths, map_args, opts, &det) =>
                {
                    // no kl, but prompt, proxy and gold: the input of `goodhart bon`
                    report
                }
                Err(e @ crate::Error::MissingColumn { .. }) => {
                    // Say what could be read: the table without its required columns.
                    let relaxed = crate::schema::all_optional(CURVES);
                    let Ok(table) = read_table(&first, &relaxed, map) else {
                        return Err(e);
                    };
                    let mut report = empty_report(&first, table.format, Some(det));
                    report.rows = table.n_rows;
                    report.source_columns = table.source_columns.clone();
                    report.mapping = table.mapping.clone();
                    report.problems.push(e.to_string());
                    report
                }
                Err(e) => return Err(e),
            };
            if report.format == Format::Csv {
                let d = crate::ingest::sniff_delimiter(&first)?;
                if d != b',' {
                    report.notes.insert(
                        0,
                        format!(
                            "{}-separated (the header has no comma): read with that separator",
                            crate::ingest::delimiter_name(d)
                        ),
                    );
                }
            }
            Ok(report)
        }
        LogFormat::BonJson => {
            let (pools, warnings) = crate::bon::read_samples(paths, map_args, opts)?;
            let samples = pools.iter().map(|p| p.scores.len()).sum();
            let mut report = empty_report(&first, Format::Ndjson, Some(det));
            report.rows = samples;
            report.samples = Some((pools.len(), samples));
            report.table = TableKind::Samples;
            report.notes.extend(warnings);
            report.notes.push(
                "a Samples table, not Curves: `goodhart bon` turns it into best-of-n curves"
                    .to_string(),
            );
            Ok(report)
        }
        _ => {
            // Read the keys first, so a failed mapping still shows what the log holds.
            match adapters::read_curve_tables(paths, map, opts) {
                Ok(mut tables) if tables.len() == 1 => {
                    let loaded = tables.remove(0);
                    let mut report = describe(&first, loaded.table, Some(det), Some(loaded.info));
                    report
                        .notes
                        .insert(0, format!("KL unit: {}", loaded.unit.describe()));
                    Ok(report)
                }
                Ok(_) => Err(crate::Error::Usage(
                    "inspect one log at a time (several files only for one TensorBoard run)"
                        .to_string(),
                )),
                Err(e) => {
                    let mut report = empty_report(&first, Format::Csv, Some(det.clone()));
                    if let Ok(keys) = log_keys(paths, det.format, opts) {
                        report.log = Some(LogInfo {
                            source: first.display().to_string(),
                            detection: det,
                            keys,
                            ignored: Vec::new(),
                            picked: Vec::new(),
                            warnings: Vec::new(),
                            notes: Vec::new(),
                        });
                    }
                    report.problems.push(e.to_string());
                    Ok(report)
                }
            }
        }
    }
}

/// A tidy table without `kl` read as `goodhart bon` reads it: `None` when it has no `prompt`
/// column (what only a Samples table has), so it is not one; else what `bon` makes of it (its
/// pools), or the problem that stops `bon` (a missing `proxy` or `gold`, with bon's hint), with
/// the advice to run it.
fn samples_report(
    paths: &[PathBuf],
    map_args: &[String],
    opts: &LogOptions,
    det: &Detection,
) -> Option<InspectReport> {
    let first = paths.first().cloned().unwrap_or_default();
    let map = ColumnMap::parse(map_args, SAMPLES).ok()?;
    // the Samples columns, none required, to see what the file maps to
    let relaxed = crate::schema::all_optional(SAMPLES);
    // the layout only: reading the values too took 1.3 GB on a 95 MB table of 10.8 million
    // rows, which `read_samples` below reads once more
    let table = crate::ingest::read_layout(&first, &relaxed, &map).ok()?;
    if !table.has("prompt") {
        return None;
    }
    let mut report = empty_report(&first, table.format, Some(det.clone()));
    report.rows = table.n_rows;
    report.source_columns = table.source_columns.clone();
    report.mapping = table.mapping.clone();
    report.table = TableKind::Samples;
    match crate::bon::read_samples(paths, map_args, opts) {
        Ok((pools, warnings)) => {
            let samples = pools.iter().map(|p| p.scores.len()).sum();
            report.samples = Some((pools.len(), samples));
            report.notes.extend(warnings);
        }
        Err(e) => report.problems.push(e.to_string()),
    }
    // without an rm_params column, bon needs the reward model's size as a flag
    let rm_flag = match (table.has("rm_params"), opts.meta.rm_params) {
        (true, _) => String::new(),
        // given to inspect: bon needs it too
        (false, Some(n)) => format!(" --rm-params {}", crate::format::fmt_num(n)),
        (false, None) => " --rm-params N".to_string(),
    };
    report.notes.push(format!(
        "a Samples table (one row per scored sample), not Curves: `goodhart bon {}{rm_flag} --out curves.csv` turns it into best-of-n curves, which `goodhart fit` and `goodhart analyze` read",
        first.display()
    ));
    Some(report)
}

/// The keys of a trainer log (for a report when the mapping fails).
fn log_keys(
    paths: &[PathBuf],
    format: LogFormat,
    opts: &LogOptions,
) -> crate::error::Result<Vec<String>> {
    let first = paths.first().cloned().unwrap_or_default();
    let records = match format {
        LogFormat::Trl => adapters::trl::read(&first)?,
        LogFormat::Verl => adapters::verl::read(&first)?,
        LogFormat::Wandb => {
            adapters::wandb::read(&first, &adapters::keys::wanted(format, &opts.keys))?
        }
        _ => adapters::read_tensorboard(paths)?,
    };
    Ok(records.keys)
}

fn empty_report(path: &Path, format: Format, detection: Option<Detection>) -> InspectReport {
    InspectReport {
        path: path.to_path_buf(),
        format,
        rows: 0,
        source_columns: Vec::new(),
        mapping: Vec::new(),
        curves: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        detection,
        log: None,
        samples: None,
        table: TableKind::Curves,
    }
}

fn describe(
    path: &Path,
    table: Table,
    detection: Option<Detection>,
    log: Option<LogInfo>,
) -> InspectReport {
    let mut report = InspectReport {
        path: path.to_path_buf(),
        format: table.format,
        rows: table.n_rows,
        source_columns: table.source_columns.clone(),
        mapping: table.mapping.clone(),
        curves: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        detection,
        log,
        samples: None,
        table: TableKind::Curves,
    };
    if let Some(l) = &report.log {
        report.notes.extend(l.notes.iter().cloned());
    }
    let curves = match CurvesTable::from_table(table) {
        Ok(t) => t.curves(),
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    for c in &curves {
        let positive: Vec<f64> = c.kl.iter().copied().filter(|&k| k > 0.0).collect();
        let s = CurveSummary {
            key: c.key,
            points: positive.len(),
            baseline_points: c.kl.len() - positive.len(),
            kl_min: positive.iter().copied().fold(f64::INFINITY, f64::min),
            kl_max: positive.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            proxy_points: c
                .proxy
                .as_ref()
                .map_or(0, |p| p.iter().filter(|x| x.is_some()).count()),
        };
        if s.points < 2 {
            report.problems.push(format!(
                "curve {}: {} point(s) with kl > 0; a fit needs at least 2",
                c.key, s.points
            ));
        }
        if s.baseline_points == 0 {
            report.notes.push(format!(
                "curve {}: no kl = 0 points, so scores are fitted as they are (R(0) = 0 assumed)",
                c.key
            ));
        }
        report.curves.push(s);
    }
    report
}

impl InspectReport {
    /// The `columns:` block: each column of the file and the canonical column of `table` it
    /// maps to, or that it is ignored.
    fn write_columns(&self, f: &mut fmt::Formatter<'_>, table: &str) -> fmt::Result {
        writeln!(
            f,
            "columns: {} in the file, {} used",
            self.source_columns.len(),
            self.mapping.len()
        )?;
        let width = self
            .source_columns
            .iter()
            .map(|c| c.len())
            .max()
            .unwrap_or(0);
        for col in &self.source_columns {
            match self.mapping.iter().find(|m| &m.source == col) {
                Some(m) if m.renamed => writeln!(f, "  {col:<width$}  -> {} (--map)", m.canonical)?,
                Some(m) => writeln!(f, "  {col:<width$}  -> {}", m.canonical)?,
                None => writeln!(f, "  {col:<width$}     ignored (not a {table} column)")?,
            }
        }
        for m in &self.mapping {
            if !self.source_columns.contains(&m.source) {
                writeln!(
                    f,
                    "  {} -> {} (the file has no such column: filled on every row)",
                    m.source, m.canonical
                )?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ext = self
            .path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        writeln!(f, "file:    {}", self.path.display())?;
        let trainer = self
            .detection
            .as_ref()
            .filter(|d| d.format != LogFormat::Tidy);
        match trainer {
            Some(d) => writeln!(f, "format:  {} (detected: {})", d.format, d.reason)?,
            None => {
                writeln!(
                    f,
                    "format:  {} (from the extension .{ext})",
                    self.format.name()
                )?;
                if let Some(d) = &self.detection {
                    writeln!(f, "layout:  tidy ({})", d.reason)?;
                }
            }
        }
        if self.table == TableKind::Samples {
            writeln!(f, "table:   Samples")?;
            if !self.source_columns.is_empty() {
                writeln!(f, "rows:    {}", self.rows)?;
                self.write_columns(f, "Samples")?;
            }
            if let Some((pools, samples)) = self.samples {
                writeln!(
                    f,
                    "samples: {samples} in {pools} pool(s) (prompt x reward model)"
                )?;
            }
            if !self.problems.is_empty() {
                writeln!(f, "problems:")?;
                for p in &self.problems {
                    writeln!(f, "  - {p}")?;
                }
            }
            for n in &self.notes {
                writeln!(f, "note:    {n}")?;
            }
            return Ok(());
        }
        if let Some(log) = &self.log {
            writeln!(f, "table:   Curves (converted from the log)")?;
            writeln!(f, "rows:    {}", self.rows)?;
            writeln!(
                f,
                "keys:    {} in the log: {}",
                log.keys.len(),
                log.keys.join(", ")
            )?;
            if !log.picked.is_empty() {
                writeln!(f, "mapping:")?;
                for (canonical, from) in &log.picked {
                    writeln!(f, "  {canonical:<13} <- {from}")?;
                }
            }
            for i in &log.ignored {
                writeln!(f, "ignored: {i}")?;
            }
        } else {
            writeln!(f, "table:   Curves")?;
            writeln!(f, "rows:    {}", self.rows)?;
            self.write_columns(f, "Curves")?;
        }
        writeln!(f, "curves:  {}", self.curves.len())?;
        if !self.curves.is_empty() {
            let opt = |x: Option<f64>| x.map_or("-".to_string(), fmt_num);
            writeln!(
                f,
                "  {:<6} {:>10} {:>13} {:>9} {:>10} {:>6} {:>22} {:>8} {:>6}",
                "method",
                crate::schema::RM_PARAMS,
                crate::schema::POLICY_PARAMS,
                crate::schema::RM_DATA,
                crate::schema::KL_PENALTY,
                "points",
                "kl range (nats)",
                "kl=0",
                "proxy"
            )?;
            for c in &self.curves {
                let range = if c.points > 0 {
                    format!("{} .. {}", g6(c.kl_min), g6(c.kl_max))
                } else {
                    "-".to_string()
                };
                writeln!(
                    f,
                    "  {:<6} {:>10} {:>13} {:>9} {:>10} {:>6} {:>22} {:>8} {:>6}",
                    c.key.method.as_str(),
                    fmt_num(c.key.rm_params),
                    opt(c.key.policy_params),
                    opt(c.key.rm_data),
                    opt(c.key.kl_penalty),
                    c.points,
                    range,
                    if c.baseline_points > 0 {
                        format!("{} pts", c.baseline_points)
                    } else {
                        "none".to_string()
                    },
                    if c.proxy_points > 0 { "yes" } else { "no" },
                )?;
            }
        }
        if self.problems.is_empty() {
            writeln!(f, "problems: none")?;
        } else {
            writeln!(f, "problems:")?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
        }
        if let Some(log) = &self.log
            && !log.warnings.is_empty()
        {
            writeln!(f, "warnings:")?;
            for w in &log.warnings {
                writeln!(f, "  - {w}")?;
            }
        }
        if !self.notes.is_empty() {
            writeln!(f, "notes:")?;
            for n in &self.notes {
                writeln!(f, "  - {n}")?;
            }
        }
        Ok(())
    }
}
