//! Entry points for fuzzing every reader: arbitrary bytes go through a reader and, when they
//! read, through the analysis after it. The fuzz targets (`fuzz/`, cargo-fuzz) and the corpus
//! replay test (`tests/it/fuzz_corpus.rs`, run by CI) call the same function, so every input the
//! fuzzer kept, and every crash it found, stays a regression test.

use std::path::PathBuf;

use crate::bon::estimate::{BonOptions, bon_curves};
use crate::curves::read_curves;
use crate::error::Result;
use crate::fit::{FitOptions, fit_curves};
use crate::ingest::logs::{KeyOptions, RunMeta};
use crate::ingest::{ColumnMap, LogFormat, LogOptions};

/// One reader under fuzzing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuzzTarget {
    TidyCsv,
    TidyNdjson,
    TidyParquet,
    SamplesCsv,
    SamplesNdjson,
    SamplesParquet,
    Trl,
    Wandb,
    Tensorboard,
    /// A TensorBoard event file (`events.out.tfevents.*`).
    Tfevents,
    Verl,
    BonJson,
    /// A gold-evaluation file (`--gold-from`, CSV) joined to a fixed, valid TRL log.
    GoldFromCsv,
}

impl FuzzTarget {
    pub const ALL: [FuzzTarget; 13] = [
        FuzzTarget::TidyCsv,
        FuzzTarget::TidyNdjson,
        FuzzTarget::TidyParquet,
        FuzzTarget::SamplesCsv,
        FuzzTarget::SamplesNdjson,
        FuzzTarget::SamplesParquet,
        FuzzTarget::Trl,
        FuzzTarget::Wandb,
        FuzzTarget::Tensorboard,
        FuzzTarget::Tfevents,
        FuzzTarget::Verl,
        FuzzTarget::BonJson,
        FuzzTarget::GoldFromCsv,
    ];

    /// The fuzz target's name (`fuzz/fuzz_targets/NAME.rs`, corpus `fuzz/corpus/NAME/`).
    pub fn name(self) -> &'static str {
        match self {
            FuzzTarget::TidyCsv => "tidy_csv",
            FuzzTarget::TidyNdjson => "tidy_ndjson",
            FuzzTarget::TidyParquet => "tidy_parquet",
            FuzzTarget::SamplesCsv => "samples_csv",
            FuzzTarget::SamplesNdjson => "samples_ndjson",
            FuzzTarget::SamplesParquet => "samples_parquet",
            FuzzTarget::Trl => "trl_json",
            FuzzTarget::Wandb => "wandb_csv",
            FuzzTarget::Tensorboard => "tensorboard_csv",
            FuzzTarget::Tfevents => "tfevents",
            FuzzTarget::Verl => "verl_jsonl",
            FuzzTarget::BonJson => "bon_json",
            FuzzTarget::GoldFromCsv => "gold_from_csv",
        }
    }

    /// The file names the bytes are written under (extensions and TensorBoard's
    /// `run-<run>-tag-<tag>.csv` naming carry meaning). TensorBoard exports one tag per file,
    /// so the same bytes serve as the KL and the score tag.
    fn file_names(self) -> &'static [&'static str] {
        match self {
            FuzzTarget::TidyCsv | FuzzTarget::SamplesCsv => &["input.csv"],
            FuzzTarget::TidyNdjson | FuzzTarget::SamplesNdjson => &["input.ndjson"],
            FuzzTarget::TidyParquet | FuzzTarget::SamplesParquet => &["input.parquet"],
            FuzzTarget::Trl => &["trainer_state.json"],
            FuzzTarget::Wandb => &["wandb_export.csv"],
            FuzzTarget::Tensorboard => &[
                "run-ppo-tag-objective_kl.csv",
                "run-ppo-tag-objective_scores.csv",
            ],
            FuzzTarget::Tfevents => &["events.out.tfevents.1.fuzz"],
            FuzzTarget::Verl => &["verl_log.jsonl"],
            FuzzTarget::BonJson => &["bon_dump.json"],
            FuzzTarget::GoldFromCsv => &["gold.csv"],
        }
    }

    /// The gold key of a trainer log (the score key of the seed logs, so reading goes deep).
    fn gold_key(self) -> Option<&'static str> {
        match self {
            FuzzTarget::Trl | FuzzTarget::Tensorboard | FuzzTarget::Tfevents => {
                Some("objective/scores")
            }
            FuzzTarget::Wandb => Some("eval/gold"),
            FuzzTarget::Verl => Some("critic/score/mean"),
            _ => None,
        }
    }

    fn options(self) -> LogOptions {
        let format = match self {
            FuzzTarget::TidyCsv
            | FuzzTarget::TidyNdjson
            | FuzzTarget::TidyParquet
            | FuzzTarget::SamplesCsv
            | FuzzTarget::SamplesNdjson
            | FuzzTarget::SamplesParquet => LogFormat::Tidy,
            FuzzTarget::Trl | FuzzTarget::GoldFromCsv => LogFormat::Trl,
            FuzzTarget::Wandb => LogFormat::Wandb,
            FuzzTarget::Tensorboard | FuzzTarget::Tfevents => LogFormat::Tensorboard,
            FuzzTarget::Verl => LogFormat::Verl,
            FuzzTarget::BonJson => LogFormat::BonJson,
        };
        // Trainer logs and samples rarely carry the RM size; give it so reading goes deep. The
        // NDJSON and Parquet samples targets read files with an rm_params column instead (as
        // `goodhart generate sim` writes them), so both paths of the samples reader are fuzzed.
        let rm_in_file = matches!(
            self,
            FuzzTarget::TidyCsv
                | FuzzTarget::TidyNdjson
                | FuzzTarget::TidyParquet
                | FuzzTarget::SamplesNdjson
                | FuzzTarget::SamplesParquet
        );
        LogOptions {
            format: Some(format),
            meta: RunMeta {
                rm_params: (!rm_in_file).then_some(1e8),
                ..RunMeta::default()
            },
            keys: KeyOptions {
                gold: self.gold_key().map(str::to_string),
                ..KeyOptions::default()
            },
            ..LogOptions::default()
        }
    }
}

/// The fixed TRL log the gold files of [`FuzzTarget::GoldFromCsv`] are joined to: steps 0, 10,
/// .., 200 with KL and proxy score, and no gold score of its own.
fn gold_join_log() -> String {
    let points: Vec<String> = (0..=20)
        .map(|i| {
            let kl = 0.5 * f64::from(i);
            let score = 0.8 * kl.sqrt() - 0.05 * kl;
            format!(
                r#"{{"step": {}, "objective/kl": {kl}, "objective/scores": {score}}}"#,
                i * 10
            )
        })
        .collect();
    format!(
        r#"{{"global_step": 200, "log_history": [{}]}}"#,
        points.join(", ")
    )
}

/// Feeds `data` to the target's reader (through a file, as users do) and, when it reads, to
/// the estimator or the fits. Returns the number of curves made, or the error a user would
/// see. It must never panic: that is what fuzzing checks.
pub fn run(target: FuzzTarget, data: &[u8]) -> Result<usize> {
    let dir = tempfile::tempdir().map_err(|source| crate::Error::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for name in target.file_names() {
        let path = dir.path().join(name);
        std::fs::write(&path, data).map_err(|source| crate::Error::Write {
            path: path.clone(),
            source,
        })?;
        paths.push(path);
    }
    let mut opts = target.options();
    if target == FuzzTarget::GoldFromCsv {
        let log = dir.path().join("trainer_state.json");
        std::fs::write(&log, gold_join_log()).map_err(|source| crate::Error::Write {
            path: log.clone(),
            source,
        })?;
        opts.gold_from = paths.pop();
        paths.push(log);
    }
    match target {
        FuzzTarget::SamplesCsv
        | FuzzTarget::SamplesNdjson
        | FuzzTarget::SamplesParquet
        | FuzzTarget::BonJson => {
            let (pools, _warnings) = crate::bon::read_samples(&paths, &[], &opts)?;
            let curves = bon_curves(&pools, &BonOptions::default())?;
            Ok(curves.len())
        }
        _ => {
            let (curves, _warnings) = read_curves(&paths, &ColumnMap::default(), &opts)?;
            let fits = fit_curves(&curves, &FitOptions::default())?;
            Ok(fits.len())
        }
    }
}
