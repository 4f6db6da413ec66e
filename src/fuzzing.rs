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
    Trl,
    Wandb,
    Tensorboard,
    Verl,
    BonJson,
}

impl FuzzTarget {
    pub const ALL: [FuzzTarget; 9] = [
        FuzzTarget::TidyCsv,
        FuzzTarget::TidyNdjson,
        FuzzTarget::TidyParquet,
        FuzzTarget::SamplesCsv,
        FuzzTarget::Trl,
        FuzzTarget::Wandb,
        FuzzTarget::Tensorboard,
        FuzzTarget::Verl,
        FuzzTarget::BonJson,
    ];

    /// The fuzz target's name (`fuzz/fuzz_targets/NAME.rs`, corpus `fuzz/corpus/NAME/`).
    pub fn name(self) -> &'static str {
        match self {
            FuzzTarget::TidyCsv => "tidy_csv",
            FuzzTarget::TidyNdjson => "tidy_ndjson",
            FuzzTarget::TidyParquet => "tidy_parquet",
            FuzzTarget::SamplesCsv => "samples_csv",
            FuzzTarget::Trl => "trl_json",
            FuzzTarget::Wandb => "wandb_csv",
            FuzzTarget::Tensorboard => "tensorboard_csv",
            FuzzTarget::Verl => "verl_jsonl",
            FuzzTarget::BonJson => "bon_json",
        }
    }

    /// The file names the bytes are written under (extensions and TensorBoard's
    /// `run-<run>-tag-<tag>.csv` naming carry meaning). TensorBoard exports one tag per file,
    /// so the same bytes serve as the KL and the score tag.
    fn file_names(self) -> &'static [&'static str] {
        match self {
            FuzzTarget::TidyCsv | FuzzTarget::SamplesCsv => &["input.csv"],
            FuzzTarget::TidyNdjson => &["input.ndjson"],
            FuzzTarget::TidyParquet => &["input.parquet"],
            FuzzTarget::Trl => &["trainer_state.json"],
            FuzzTarget::Wandb => &["wandb_export.csv"],
            FuzzTarget::Tensorboard => &[
                "run-ppo-tag-objective_kl.csv",
                "run-ppo-tag-objective_scores.csv",
            ],
            FuzzTarget::Verl => &["verl_log.jsonl"],
            FuzzTarget::BonJson => &["bon_dump.json"],
        }
    }

    /// The gold key of a trainer log (the score key of the seed logs, so reading goes deep).
    fn gold_key(self) -> Option<&'static str> {
        match self {
            FuzzTarget::Trl | FuzzTarget::Tensorboard => Some("objective/scores"),
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
            | FuzzTarget::SamplesCsv => LogFormat::Tidy,
            FuzzTarget::Trl => LogFormat::Trl,
            FuzzTarget::Wandb => LogFormat::Wandb,
            FuzzTarget::Tensorboard => LogFormat::Tensorboard,
            FuzzTarget::Verl => LogFormat::Verl,
            FuzzTarget::BonJson => LogFormat::BonJson,
        };
        // Trainer logs and samples rarely carry the RM size; give it so reading goes deep.
        let tidy_curves = matches!(
            self,
            FuzzTarget::TidyCsv | FuzzTarget::TidyNdjson | FuzzTarget::TidyParquet
        );
        LogOptions {
            format: Some(format),
            meta: RunMeta {
                rm_params: (!tidy_curves).then_some(1e8),
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
    let opts = target.options();
    match target {
        FuzzTarget::SamplesCsv | FuzzTarget::BonJson => {
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
