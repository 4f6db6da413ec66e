//! `goodhart inspect`: what a file is, how its columns map, which curves it holds, and what
//! would stop a fit, before anything is fitted.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::curves::CurvesTable;
use crate::export::g6;
use crate::ingest::{ColumnMap, ColumnMapping, Format, read_table};
use crate::schema::{CURVES, CurveKey, fmt_num};

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
}

impl InspectReport {
    pub fn is_fittable(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Inspects a Curves file. Errors that prevent reading the table at all (a missing, empty or
/// corrupt file, a missing column) are returned as errors; problems of values are reported.
pub fn inspect(path: &Path, map: &ColumnMap) -> crate::error::Result<InspectReport> {
    let table = read_table(path, CURVES, map)?;
    let mut report = InspectReport {
        path: path.to_path_buf(),
        format: table.format,
        rows: table.n_rows,
        source_columns: table.source_columns.clone(),
        mapping: table.mapping.clone(),
        curves: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let curves = match CurvesTable::from_table(table) {
        Ok(t) => t.curves(),
        Err(e) => {
            report.problems.push(e.to_string());
            return Ok(report);
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
    Ok(report)
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ext = self
            .path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        writeln!(f, "file:    {}", self.path.display())?;
        writeln!(
            f,
            "format:  {} (from the extension .{ext})",
            self.format.name()
        )?;
        writeln!(f, "table:   Curves")?;
        writeln!(f, "rows:    {}", self.rows)?;
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
                None => writeln!(f, "  {col:<width$}     ignored (not a Curves column)")?,
            }
        }
        writeln!(f, "curves:  {}", self.curves.len())?;
        if !self.curves.is_empty() {
            let opt = |x: Option<f64>| x.map_or("-".to_string(), fmt_num);
            writeln!(
                f,
                "  {:<6} {:>10} {:>13} {:>9} {:>10} {:>6} {:>22} {:>8} {:>6}",
                "method",
                "rm_params",
                "policy_params",
                "rm_data",
                "kl_penalty",
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
        if !self.notes.is_empty() {
            writeln!(f, "notes:")?;
            for n in &self.notes {
                writeln!(f, "  - {n}")?;
            }
        }
        Ok(())
    }
}
