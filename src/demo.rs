//! `goodhart demo`: the main job on the bundled default, end to end, writing `data/` and `fits/`.
//!
//! Today the bundled default is a `generate law` family with the paper's nine RM sizes, both
//! methods, and coefficients that follow the paper's Fig. 3 trends; the demo fits it and shows
//! how well the fits recover the known truth.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::curves::CurvesTable;
use crate::error::{Error, Result};
use crate::export::{CsvExporter, Exporter, JsonExporter, MarkdownReport, g6};
use crate::fit::{CurveFit, FitOptions, fit_curves};
use crate::generate::law::LawSpec;
use crate::ingest::ColumnMap;
use crate::output::write_atomic;

/// The files the demo writes, relative to its output folder.
pub const DEMO_FILES: [&str; 4] = [
    "data/law_curves.csv",
    "fits/fits.json",
    "fits/fits.csv",
    "fits/report.md",
];

/// What the demo did, for printing.
pub struct DemoSummary {
    pub out: PathBuf,
    pub rows: usize,
    pub spec: LawSpec,
    pub fits: Vec<CurveFit>,
}

/// Generates the bundled data, fits it, and writes every output under `out`.
pub fn run_demo(out: &Path, seed: u64) -> Result<DemoSummary> {
    for dir in ["data", "fits", "plots"] {
        let p = out.join(dir);
        std::fs::create_dir_all(&p).map_err(|source| Error::Write { path: p, source })?;
    }
    let spec = LawSpec {
        seed,
        ..LawSpec::default()
    };
    let data_path = out.join(DEMO_FILES[0]);
    let table = spec.generate()?;
    write_atomic(&data_path, &table.to_bytes_for(&data_path)?)?;
    let curves = CurvesTable::read(&data_path, &ColumnMap::default())?;
    let rows = curves.len();
    let fits = fit_curves(&curves.curves(), &FitOptions::default())?;
    write_atomic(&out.join(DEMO_FILES[1]), &JsonExporter.render(&fits))?;
    write_atomic(&out.join(DEMO_FILES[2]), &CsvExporter.render(&fits))?;
    let mut md = String::from("# Fits of the bundled demo data\n\nMade by `goodhart demo`: ");
    md.push_str(&format!(
        "{rows} points from `generate law` (seed {seed}, noise sd {}), fitted with the paper's forms.\n\n",
        spec.noise
    ));
    md.push_str(&String::from_utf8_lossy(&MarkdownReport.render(&fits)));
    write_atomic(&out.join(DEMO_FILES[3]), md.as_bytes())?;
    Ok(DemoSummary {
        out: out.to_path_buf(),
        rows,
        spec,
        fits,
    })
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "goodhart demo: {} curves, {} points (generate law, seed {})",
            self.fits.len(),
            self.rows,
            self.spec.seed
        )?;
        writeln!(
            f,
            "{:<6} {:>9}  {:>26}  {:>26}  {:>8}  {:>10}",
            "method",
            "rm_params",
            "alpha: fit ± se (true)",
            "beta: fit ± se (true)",
            "R²",
            "peak KL"
        )?;
        let mut covered = 0;
        let mut total = 0;
        for fit in &self.fits {
            let Some(fitted) = fit.fitted() else {
                writeln!(f, "{:<6} {:>9}  no fit", fit.key.method, fit.key.rm_params)?;
                continue;
            };
            let i = self
                .spec
                .rm_params
                .iter()
                .position(|&n| n == fit.key.rm_params)
                .unwrap_or(0);
            let truth = self.spec.truth(fit.key.method, i);
            let mut cells = Vec::new();
            for (p, t) in fitted.params.iter().zip([truth.0, truth.1]) {
                total += 1;
                if p.ci_low
                    .zip(p.ci_high)
                    .is_some_and(|(lo, hi)| lo <= t && t <= hi)
                {
                    covered += 1;
                }
                cells.push(format!(
                    "{} ± {} ({})",
                    g6(p.value),
                    p.se.map_or("?".into(), g6),
                    g6(t)
                ));
            }
            writeln!(
                f,
                "{:<6} {:>9}  {:>26}  {:>26}  {:>8.5}  {:>10}",
                fit.key.method.as_str(),
                crate::schema::fmt_num(fit.key.rm_params),
                cells[0],
                cells[1],
                fitted.stats.r2,
                fitted.peak().map_or("none".into(), |p| g6(p.kl))
            )?;
        }
        writeln!(
            f,
            "true coefficient inside its 95% CI: {covered} of {total}"
        )?;
        writeln!(f, "wrote:")?;
        for file in DEMO_FILES {
            writeln!(f, "  {}", self.out.join(file).display())?;
        }
        Ok(())
    }
}
