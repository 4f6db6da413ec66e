//! `goodhart demo`: the whole job on the bundled default, end to end, so a new user sees every
//! output from one command and the committed `data/`, `fits/` and `plots/` stay reproducible.
//!
//! The bundled default is the small synthetic RLHF world of `generate sim` (seconds);
//! `--world tokens` runs the token world of `generate tokens` instead (under a minute), whose
//! RL runs the paper's RL form fits better than the best-of-n form. The world's
//! best-of-n samples go through `bon`, the best-of-n and RL curves are fitted (gold and proxy,
//! the paper's form for each method; prompt-bootstrap intervals for best-of-n from the per-prompt
//! values `bon` writes; one alpha per RL family as the paper does), the coefficients are
//! regressed on RM size (with their scatter), the laws predict an RM 10x larger than the
//! largest trained (with the warnings of every group), and `report` draws the figures with the
//! Goodhart decomposition (standardised by the initial policy's spread, with the oracle curve).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::bon::{BonOptions, KlChoice, bon_curves, curves_table_with, read_samples};
use crate::curves::read_curves;
use crate::document::{FormVerdict, LawModelKind, Target};
use crate::error::{Error, Result};
use crate::export::{CsvExporter, Exporter};
use crate::format::fmt_num;
use crate::format::g6;
use crate::format::pm;
use crate::forms::FormId;
use crate::generate::sim::{Preset, Progress, SIM_FILES, SimSpec, write_world};
use crate::generate::tokens::{TOKEN_FILES, TokenPreset, TokenSpec, write_token_world};

pub use super::cli::{DemoPreset, DemoWorld};
use crate::goodhart::DecompositionSource;
use crate::goodhart::ReferenceChoice;
use crate::ingest::{ColumnMap, LogOptions};
use crate::output::{CreatedDirs, Leftovers, StagingDir, refuse_folders, write_atomic};
use crate::report::analysis::analyse_with;
use crate::report::{Provenance, write_report};
use crate::schema::{CURVES, Method};

/// The data files the demo writes for `world`: the world's files in `data/` (the Samples
/// table first), then the best-of-n curves.
pub fn data_files(world: DemoWorld) -> Vec<String> {
    let generated: &[&str] = match world {
        DemoWorld::Sim => &SIM_FILES,
        DemoWorld::Tokens => &TOKEN_FILES,
    };
    generated
        .iter()
        .map(|f| format!("data/{f}"))
        .chain(std::iter::once("data/bon_curves.csv".to_string()))
        .collect()
}

/// The `generate` command line that makes the data of `world` at `preset`.
fn generate_command(world: DemoWorld, preset: DemoPreset, seed: u64) -> String {
    let preset = match preset {
        DemoPreset::Small => "small",
        DemoPreset::Test => "test",
    };
    match world {
        DemoWorld::Sim => format!("generate sim --preset {preset} --seed {seed}"),
        DemoWorld::Tokens => format!("generate tokens --preset {preset} --seed {seed}"),
    }
}

/// The analysis files the demo writes.
pub const FITS_FILES: [&str; 5] = [
    "fits/fits.json",
    "fits/fits.csv",
    "fits/scaling.json",
    "fits/predictions.json",
    "fits/analyses.json",
];

/// One headline scaling law, as the summary prints it.
pub struct LawLine {
    pub label: String,
    pub a: f64,
    pub a_se: Option<f64>,
    pub b: f64,
    pub b_se: Option<f64>,
    /// R² of the law over the sizes.
    pub r2: Option<f64>,
    /// (rejected fits, fits) of the form check, when the group's fits were judged.
    pub form_rejected: Option<(usize, usize)>,
}

/// The form checks of one method's gold fits, by verdict.
#[derive(Debug, Clone, Copy)]
pub struct FormCheckCounts {
    pub method: Method,
    pub checked: usize,
    pub rejected: usize,
    pub preferred: usize,
    pub inconclusive: usize,
    pub not_tested: usize,
    /// Rejected fits, and checked fits, of runs without a KL penalty.
    pub rejected_unpenalised: usize,
    pub unpenalised: usize,
}

/// One headline prediction: (group, peak (KL, score) or the reason there is none, warnings).
pub type PredictionLine = (String, std::result::Result<(f64, f64), String>, Vec<String>);

/// What the demo did, for printing.
pub struct DemoSummary {
    pub out: PathBuf,
    pub seed: u64,
    /// The `generate` command line of the data.
    pub generated: String,
    pub curves: usize,
    pub points: usize,
    pub fits: usize,
    pub converged: usize,
    /// (law label, a, a_se, b, b_se) of the headline log-linear laws.
    pub laws: Vec<LawLine>,
    /// (label, peak KL, peak score) of the gold predictions.
    /// (group, peak (KL, score) or the reason there is none, the group's warnings).
    pub predictions: Vec<PredictionLine>,
    /// How many predicted groups (all targets) carry warnings, of how many; failed groups.
    pub prediction_warnings: (usize, usize, usize),
    /// Fits with warnings (of all fits), and the distinct warning texts, first few.
    pub fit_warnings: (usize, Vec<String>),
    /// The form checks of the gold fits, per method.
    pub form_checks: Vec<FormCheckCounts>,
    pub predict_size: Option<f64>,
    /// (curve, source and units, regressional ± se, extremal ± se) at the largest KL of the
    /// largest RM; standardised where there is a reference.
    pub decompositions: Vec<(String, String, String)>,
    /// One headline per analysis of `goodhart analyze` (fits/analyses.json).
    pub analyses: Vec<String>,
    /// Every file written, relative to `out`.
    pub files: Vec<String>,
    /// Wall-clock seconds: world, best-of-n, fits+scaling+predictions, report.
    pub seconds: [f64; 4],
    /// Files beside the outputs named as an earlier demo's temporary files of them, which no
    /// record named, removed once the outputs were in place ([`StagingDir::commit`]).
    pub removed_temp_files: Vec<PathBuf>,
}

fn rel(out: &Path, p: &Path) -> String {
    p.strip_prefix(out)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Runs a parsed `goodhart demo` command line.
pub fn command(a: &super::cli::DemoArgs, quiet: bool) -> Result<()> {
    let progress = Progress::new(super::progress::for_terminal(quiet));
    // what the folders held before: files this run does not rewrite are another run's
    let held: Vec<Vec<String>> = OUTPUT_DIRS
        .iter()
        .map(|d| super::data::files_from_before(&a.out.join(d), &[]))
        .collect();
    // printed when found, before the work: it holds whether or not this run succeeds
    let note = |leftovers: &Leftovers| super::print_all(quiet, "note", &leftover_notes(leftovers));
    let summary = run_demo(&a.out, a.seed, a.world, a.preset, progress, &note)?;
    super::print_out(quiet, &summary.to_string())?;
    // One `wrote` line per folder, in the order the files were written.
    let mut folders: Vec<(&str, Vec<&str>)> = Vec::new();
    for file in &summary.files {
        let (dir, name) = file.split_once('/').unwrap_or((".", file.as_str()));
        match folders.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, names)) => names.push(name),
            None => folders.push((dir, vec![name])),
        }
    }
    for (dir, names) in folders {
        let figures = names
            .iter()
            .filter(|n| n.ends_with(".png") || n.ends_with(".svg"))
            .count();
        let detail = if figures > 0 {
            let others: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| !(n.ends_with(".png") || n.ends_with(".svg")))
                .collect();
            format!("{} and {figures} figure files", others.join(", "))
        } else {
            names.join(", ")
        };
        super::print_wrote(quiet, &summary.out.join(dir), &detail);
    }
    if !summary.removed_temp_files.is_empty() {
        super::print_all(
            quiet,
            "note",
            &[format!(
                "removed {}, named as an earlier demo's temporary files of these outputs",
                paths(&summary.removed_temp_files)
            )],
        );
    }
    for (dir, names) in OUTPUT_DIRS.iter().zip(held) {
        let stale: Vec<String> = names
            .into_iter()
            .filter(|n| !summary.files.contains(&format!("{dir}/{n}")))
            .collect();
        super::data::warn_files_from_before(quiet, &a.out.join(dir), &stale);
    }
    Ok(())
}

/// The paths, each in full, separated by commas.
fn paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// One line per kind of thing an interrupted demo left and this one cleaned.
fn leftover_notes(leftovers: &Leftovers) -> Vec<String> {
    // the folders the files are in, not every file (a demo writes over 40)
    let folders = |paths: &[PathBuf]| {
        let mut dirs: Vec<String> = paths
            .iter()
            .map(|p| p.parent().unwrap_or(p).display().to_string())
            .collect();
        dirs.dedup();
        dirs.join(", ")
    };
    let mut lines = Vec::new();
    if !leftovers.completed.is_empty() {
        lines.push(format!(
            "finished putting in place the outputs of a demo interrupted during its renames ({} file(s) in {}), so they are one run's outputs, not a mix of two",
            leftovers.completed.len(),
            folders(&leftovers.completed)
        ));
    }
    if !leftovers.temp_files.is_empty() {
        lines.push(format!(
            "removed the {} file(s) an interrupted demo had left beside its outputs in {}{}",
            leftovers.temp_files.len(),
            folders(&leftovers.temp_files),
            match leftovers.completed.is_empty() && leftovers.restored.is_empty() {
                true => "; the outputs before it are in place",
                false => "",
            }
        ));
    }
    if !leftovers.restored.is_empty() {
        lines.push(format!(
            "finished undoing the renames of an earlier demo, stopped while it undid them after one failed ({} file(s) in {}): the outputs before it are in place",
            leftovers.restored.len(),
            folders(&leftovers.restored)
        ));
    }
    if let Some(why) = &leftovers.unusable_record {
        lines.push(format!(
            "an interrupted demo's record of its commit could not be used ({why}): until a demo succeeds, the outputs may mix two runs, and files named .NAME.PID.staged.tmp or .NAME.PID.previous.tmp beside them are that demo's"
        ));
    }
    if !leftovers.stray_temp_files.is_empty() {
        lines.push(format!(
            "{} are named as a demo's temporary files (.NAME.PID.staged.tmp, .NAME.PID.previous.tmp) but no record of a commit names them: they were left as they are, and those named after this demo's outputs are removed once its outputs are in place",
            paths(&leftovers.stray_temp_files)
        ));
    }
    if let Some(staging) = &leftovers.staging {
        lines.push(format!(
            "removed {}, left by an earlier demo that did not finish",
            staging.display()
        ));
    }
    lines
}

/// The hidden folder inside `--out` where the demo writes its outputs before they are put in
/// place ([`StagingDir`]).
pub const STAGING: &str = ".goodhart-demo.partial";

/// The folders inside `--out` that receive the demo's outputs.
pub const OUTPUT_DIRS: [&str; 3] = ["data", "fits", "plots"];

/// Generates the bundled data of `world`, analyses it, and writes every output under `out` (its
/// `data/`, `fits/` and `plots/` are created when missing). The outputs are written in `out`'s
/// staging folder ([`STAGING`]) and renamed into place only when all are complete, so a failed
/// or interrupted demo leaves the previous outputs as they were. What an interrupted demo left
/// in `out` is removed first, and given to `note` ([`StagingDir::create`]).
pub fn run_demo(
    out: &Path,
    seed: u64,
    world: DemoWorld,
    preset: DemoPreset,
    progress: Progress,
    note: &dyn Fn(&Leftovers),
) -> Result<DemoSummary> {
    let token_preset = match (world, preset) {
        (_, DemoPreset::Small) => TokenPreset::Small,
        (DemoWorld::Tokens, DemoPreset::Test) => TokenPreset::Test,
        (DemoWorld::Sim, DemoPreset::Test) => {
            return Err(Error::Usage(
                "--preset test is the token world's reduced preset: give --world tokens with it"
                    .to_string(),
            ));
        }
    };
    for p in std::iter::once(out.to_path_buf()).chain(OUTPUT_DIRS.map(|d| out.join(d))) {
        if p.exists() && !p.is_dir() {
            return Err(Error::Write {
                path: p,
                source: std::io::Error::other(
                    "it exists and is not a folder: --out names the folder that receives data/, fits/ and plots/",
                ),
            });
        }
    }
    let created = CreatedDirs::create(out)?;
    let staged = StagingDir::create(out, STAGING, &OUTPUT_DIRS, note).and_then(|staging| {
        // every destination that is a folder, for the files known before the work (after
        // the clean-up of an interrupted demo, which its note reports either way)
        refuse_folders(
            out,
            data_files(world)
                .into_iter()
                .chain(FITS_FILES.map(String::from))
                .chain(crate::report::REPORT_FILES.map(|f| format!("plots/{f}"))),
        )?;
        let mut summary = build_demo(staging.path(), seed, world, preset, token_preset, progress)?;
        summary.removed_temp_files = staging.commit(out, &summary.files)?;
        summary.out = out.to_path_buf();
        Ok(summary)
    });
    if staged.is_err() {
        created.remove_empty();
    }
    staged
}

/// The demo's work, every output written under `stage` (the staging folder).
fn build_demo(
    stage: &Path,
    seed: u64,
    world: DemoWorld,
    preset: DemoPreset,
    token_preset: TokenPreset,
    progress: Progress,
) -> Result<DemoSummary> {
    for dir in ["data", "fits", "plots"] {
        let p = stage.join(dir);
        std::fs::create_dir_all(&p).map_err(|source| Error::Write { path: p, source })?;
    }
    let t0 = Instant::now();
    match world {
        DemoWorld::Sim => {
            let spec = SimSpec {
                seed,
                ..SimSpec::preset(Preset::Small)
            };
            write_world(&spec, &stage.join("data"), progress)?;
        }
        DemoWorld::Tokens => {
            let spec = TokenSpec {
                seed,
                ..TokenSpec::preset(token_preset)
            };
            write_token_world(&spec, &stage.join("data"), progress)?;
        }
    }
    let t1 = Instant::now();

    let data = data_files(world);
    let data_path = |name: &str| stage.join("data").join(name);
    let samples_path = stage.join(&data[0]);
    let (pools, _) = read_samples(
        std::slice::from_ref(&samples_path),
        &[],
        &LogOptions::default(),
    )?;
    let curves_path = data_path("bon_curves.csv");
    let bon = bon_curves(
        &pools,
        &BonOptions {
            n: None,
            bootstrap: 0,
            seed,
            kl: KlChoice::Analytic,
        },
    )?;
    // With the per-prompt values, so that `fit` (and the analysis below) bootstraps prompts.
    let (table, _) = curves_table_with(&bon, KlChoice::Analytic, true);
    write_atomic(&curves_path, &table.to_bytes_for(&curves_path)?)?;
    let t2 = Instant::now();

    let rl_path = data_path("rl_runs.csv");
    let (curves, _) = read_curves(
        &[curves_path.clone(), rl_path.clone()],
        &ColumnMap::parse(&[], CURVES)?,
        &LogOptions::default(),
    )?;
    let mut analysis = analyse_with(&curves, &pools, None, None, &ReferenceChoice::Default, true)?;
    // goodhart analyze: the reward models' table, and the iterated-RLHF runs when the world
    // writes them (by the world's file list: not a file left in data/ by another world's demo)
    let optional = |name: &str| {
        let file = format!("data/{name}");
        data.contains(&file).then(|| stage.join(file))
    };
    let (rm_path, iterated_path) = (optional("reward_models.csv"), optional("iterated_rlhf.csv"));
    let analyses = analysis.comparisons(
        &curves,
        &pools,
        rm_path.as_deref(),
        iterated_path.as_deref(),
    )?;
    analysis
        .computed
        .push(super::report::ANALYSES_COMPUTED.to_string());
    analysis.analyses = Some(analyses);
    let missing = |what: &str| {
        Error::Analysis(format!(
            "demo: the {what} could not be computed: {}",
            analysis.notes.join("; ")
        ))
    };
    let Some(curve_fits) = &analysis.curve_fits else {
        return Err(missing("fits"));
    };
    let scaling = analysis
        .scaling
        .as_ref()
        .ok_or_else(|| missing("scaling laws"))?;
    let predictions = analysis
        .predictions
        .as_ref()
        .ok_or_else(|| missing("predictions"))?;
    let fits_bytes = [
        analysis.fits.to_json(),
        CsvExporter.render(curve_fits),
        scaling.to_json(),
        predictions.to_json(),
        analysis
            .analyses
            .as_ref()
            .map(|a| a.doc.to_json())
            .unwrap_or_default(),
    ];
    for (name, bytes) in FITS_FILES.iter().zip(&fits_bytes) {
        write_atomic(&stage.join(name), bytes)?;
    }
    let t3 = Instant::now();

    let mut inputs: Vec<(&'static str, PathBuf)> = vec![
        ("curves", curves_path),
        ("curves", rl_path),
        ("samples", samples_path),
    ];
    // the world's other files (reward models, iterated RLHF, world.json)
    inputs.extend(
        data.iter()
            .skip(2)
            .filter(|f| !f.ends_with("bon_curves.csv"))
            .map(|f| ("world", stage.join(f))),
    );
    let command = match (world, preset) {
        (DemoWorld::Sim, _) => format!("goodhart demo --seed {seed}"),
        (DemoWorld::Tokens, DemoPreset::Small) => {
            format!("goodhart demo --world tokens --seed {seed}")
        }
        (DemoWorld::Tokens, DemoPreset::Test) => {
            format!("goodhart demo --world tokens --preset test --seed {seed}")
        }
    };
    let generated = generate_command(world, preset, seed);
    let mut provenance = Provenance::for_paths(command, Some(seed), &inputs)?;
    for (f, (_, p)) in provenance.inputs.iter_mut().zip(&inputs) {
        f.label = rel(stage, p);
    }
    provenance.computed.push(format!(
        "data: goodhart {}, then goodhart bon (default n grid, analytic KL, per-prompt values); fits as goodhart fit --share-alpha-rl --reference data/bon_samples.parquet",
        generated
    ));
    let written = write_report(
        &stage.join("plots"),
        "goodhart demo",
        &curves,
        &analysis,
        provenance,
    )?;
    let t4 = Instant::now();

    let mut files: Vec<String> = data
        .iter()
        .cloned()
        .chain(FITS_FILES.iter().map(|s| s.to_string()))
        .collect();
    files.extend(written.iter().map(|p| rel(stage, p)));

    // The headline group of each method: no KL penalty, the most RM data, the largest policy.
    let rank = |g: &std::collections::BTreeMap<String, Option<f64>>| {
        let v = |k: &str| g.get(k).copied().flatten();
        (
            v(crate::schema::KL_PENALTY).map_or(0.0, |p| -p),
            v(crate::schema::RM_DATA).unwrap_or(0.0),
            v(crate::schema::POLICY_PARAMS).unwrap_or(0.0),
        )
    };
    let headline = |m: Method| {
        scaling
            .laws
            .iter()
            .filter(|l| l.method == m)
            .map(|l| rank(&l.group))
            .max_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
    };
    let heads = [Method::Bon, Method::Rl].map(|m| (m, headline(m)));
    let is_head = |m: Method, g: &std::collections::BTreeMap<String, Option<f64>>| {
        heads.iter().any(|(hm, h)| *hm == m && *h == Some(rank(g)))
    };
    let label = |m: Method, g: &std::collections::BTreeMap<String, Option<f64>>| {
        let group: Vec<String> = g
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", fmt_num(v))))
            .collect();
        format!("{m} {}", group.join(" "))
    };
    let laws = scaling
        .laws
        .iter()
        .filter(|l| l.target == Target::Gold && l.model == LawModelKind::LogLinear && l.converged)
        .filter(|l| is_head(l.method, &l.group))
        .map(|l| LawLine {
            label: format!("{} {}", l.coefficient, label(l.method, &l.group)),
            a: l.a,
            a_se: l.a_se,
            b: l.b,
            b_se: l.b_se,
            r2: l.r2,
            form_rejected: l.form_rejected_fits.map(|k| (k, l.n)),
        })
        .collect();
    let preds = predictions
        .predictions
        .iter()
        .filter(|p| p.target == Target::Gold && is_head(p.method, &p.group))
        .map(|p| {
            let beta = p
                .params
                .get("beta")
                .map_or(String::new(), |b| match (b.low, b.high) {
                    (Some(lo), Some(hi)) => {
                        format!("beta {} [{}, {}]", g6(b.value), g6(lo), g6(hi))
                    }
                    _ => format!("beta {}", g6(b.value)),
                });
            let peak = match &p.peak {
                Some(k) => Ok((k.kl.value, k.score.value)),
                None => Err(p
                    .peak_reason
                    .clone()
                    .unwrap_or_else(|| "no peak".to_string())),
            };
            (
                format!("{} ({beta})", label(p.method, &p.group)),
                peak,
                p.warnings.iter().map(|w| w.message.clone()).collect(),
            )
        })
        .collect();
    let prediction_warnings = (
        predictions
            .predictions
            .iter()
            .filter(|p| !p.warnings.is_empty())
            .count(),
        predictions.predictions.len(),
        predictions.failed.len(),
    );
    let mut fit_texts: Vec<String> = Vec::new();
    for w in analysis.fits.fits.iter().flat_map(|f| &f.warnings) {
        if !fit_texts.contains(w) {
            fit_texts.push(w.clone());
        }
    }
    let fit_warnings = (
        analysis
            .fits
            .fits
            .iter()
            .filter(|f| !f.warnings.is_empty())
            .count(),
        fit_texts,
    );
    let form_checks = [Method::Bon, Method::Rl]
        .into_iter()
        .filter_map(|m| {
            let mut c = FormCheckCounts {
                method: m,
                checked: 0,
                rejected: 0,
                preferred: 0,
                inconclusive: 0,
                not_tested: 0,
                rejected_unpenalised: 0,
                unpenalised: 0,
            };
            for f in analysis.fits.fits.iter().filter(|f| f.method == m) {
                let Some(check) = f.form_check else { continue };
                let unpenalised = f.kl_penalty.unwrap_or(0.0) == 0.0;
                c.checked += 1;
                c.unpenalised += usize::from(unpenalised);
                match check.verdict {
                    FormVerdict::Rejected => {
                        c.rejected += 1;
                        c.rejected_unpenalised += usize::from(unpenalised);
                    }
                    FormVerdict::Preferred => c.preferred += 1,
                    FormVerdict::Inconclusive => c.inconclusive += 1,
                    FormVerdict::NotTested => c.not_tested += 1,
                }
            }
            (c.checked > 0).then_some(c)
        })
        .collect();
    let largest = curves
        .iter()
        .filter(|c| c.key.method == Method::Bon)
        .map(|c| c.key.rm_params)
        .fold(f64::NEG_INFINITY, f64::max);
    let decompositions = crate::goodhart::preferred(&analysis.decompositions)
        .into_iter()
        .filter(|d| d.key.method == Method::Bon && d.key.rm_params == largest)
        .filter_map(|d| {
            let p = d.at_max_kl?;
            Some((
                format!(
                    "{} ({}, {})",
                    crate::goodhart::key_label(&d.key),
                    match d.source {
                        DecompositionSource::Coefficients => "coefficients",
                        DecompositionSource::Samples => "samples",
                    },
                    d.units.as_str()
                ),
                pm(p.regressional, p.regressional_se),
                pm(p.extremal, p.extremal_se),
            ))
        })
        .collect();
    Ok(DemoSummary {
        out: stage.to_path_buf(),
        seed,
        generated,
        curves: curves.len(),
        points: curves.iter().map(|c| c.kl.len()).sum(),
        fits: analysis.fits.fits.len(),
        converged: analysis.fits.fits.iter().filter(|f| f.converged).count(),
        laws,
        predictions: preds,
        prediction_warnings,
        fit_warnings,
        form_checks,
        predict_size: analysis.predict_size,
        decompositions,
        analyses: analysis
            .analyses
            .as_ref()
            .map(|a| crate::analyses::text::headlines(&a.doc))
            .unwrap_or_default(),
        files,
        seconds: [
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
        ],
        removed_temp_files: Vec::new(),
    })
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "goodhart demo ({}): {} curves, {} points, {} fits ({} converged)",
            self.generated, self.curves, self.points, self.fits, self.converged
        )?;
        writeln!(
            f,
            "scaling laws of the gold coefficients, c = a + b*log10(rm_params):"
        )?;
        for l in &self.laws {
            writeln!(
                f,
                "  {:<50} a = {:<24} b = {:<24} R² {}",
                l.label,
                pm(l.a, l.a_se),
                pm(l.b, l.b_se),
                l.r2.map_or("-".to_string(), |r| format!("{r:.2}"))
            )?;
            if let Some((k, n)) = l.form_rejected.filter(|(k, _)| *k > 0) {
                writeln!(
                    f,
                    "    warning: the form check rejects {k} of the {n} fits behind this law: {} of its coefficients summarise curves the other paper form fits better",
                    if 2 * k > n { "most" } else { "some" }
                )?;
            }
        }
        if let Some(size) = self.predict_size {
            writeln!(
                f,
                "predicted gold peak at rm_params = {} (10x the largest RM):",
                fmt_num(size)
            )?;
            for (label, peak, warnings) in &self.predictions {
                match peak {
                    Ok((kl, score)) => writeln!(
                        f,
                        "  {label:<50} peak KL {:<10} peak gold {}",
                        g6(*kl),
                        g6(*score)
                    )?,
                    Err(reason) => writeln!(f, "  {label:<50} peak: none ({reason})")?,
                }
                for w in warnings {
                    writeln!(f, "    warning: {w}")?;
                }
            }
            let (warned, total, failed) = self.prediction_warnings;
            writeln!(
                f,
                "  {warned} of the {total} predicted groups carry warnings{}; each is named in fits/predictions.json",
                if failed > 0 {
                    format!(", {failed} group(s) failed")
                } else {
                    String::new()
                }
            )?;
        }
        let (warned, texts) = &self.fit_warnings;
        if *warned > 0 {
            writeln!(
                f,
                "{warned} of the {} fits carry warnings (listed per fit in fits/fits.json), e.g.:",
                self.fits
            )?;
            for t in texts.iter().take(3) {
                writeln!(f, "  {t}")?;
            }
        }
        if !self.form_checks.is_empty() {
            writeln!(
                f,
                "form check (each gold fit against the other paper form on the same points, by AIC with correlated residuals counted as fewer points; more than {} apart decides):",
                crate::fit::form_check::FORM_CHECK_DELTA_AIC
            )?;
            for c in &self.form_checks {
                let m = c.method;
                let mut parts = Vec::new();
                if c.rejected > 0 || c.not_tested < c.checked {
                    let unpenalised = if m == Method::Rl && c.unpenalised < c.checked {
                        format!(
                            "; {} of the {} without a KL penalty",
                            c.rejected_unpenalised, c.unpenalised
                        )
                    } else {
                        String::new()
                    };
                    parts.push(format!(
                        "{} rejected (the {} form fits better{unpenalised})",
                        c.rejected,
                        crate::fit::form_check::alternative(FormId::for_method(m))
                            .unwrap_or(FormId::for_method(m))
                    ));
                    parts.push(format!("{} inconclusive", c.inconclusive));
                    parts.push(format!("{} prefer the {m} form", c.preferred));
                }
                if c.not_tested > 0 {
                    parts.push(format!(
                        "{} not tested (a best-of-n curve's points are estimated from the same samples, so AIC would overstate the evidence)",
                        c.not_tested
                    ));
                }
                writeln!(f, "  {m}: {} fits: {}", c.checked, parts.join(", "))?;
            }
        }
        writeln!(
            f,
            "Goodhart decomposition at the largest KL, largest best-of-n RM (standardised: units of the initial policy's sd):"
        )?;
        for (label, reg, ext) in &self.decompositions {
            writeln!(f, "  {label:<58} regressional {reg:<24} extremal {ext}")?;
        }
        if !self.analyses.is_empty() {
            writeln!(f, "analyses (fits/analyses.json):")?;
            for line in &self.analyses {
                writeln!(f, "  {line}")?;
            }
        }
        let [w, b, a, r] = self.seconds;
        writeln!(
            f,
            "time: world {w:.1} s, best-of-n {b:.1} s, fits/scaling/predictions {a:.1} s, report {r:.1} s"
        )?;
        Ok(())
    }
}
