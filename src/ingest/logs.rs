//! How to read a log file: its format (tidy table or an external trainer's log) and the
//! metadata that logs rarely carry. Every command that reads logs takes one [`LogOptions`].

use std::path::PathBuf;

use crate::schema::Method;

/// The layout of an input file (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// goodhart's canonical Curves or Samples table (CSV, Parquet, NDJSON by extension).
    Tidy,
    /// A TRL `trainer_state.json` (`log_history`).
    Trl,
    /// A W&B panel CSV export (`Step`, `<run> - <metric>`, `__MIN`, `__MAX`).
    Wandb,
    /// TensorBoard event files (`events.out.tfevents.*`, or a log folder of them), or the
    /// scalar CSV export (`Wall time,Step,Value`, run and tag in the file name).
    Tensorboard,
    /// veRL's file-logger JSONL (`{"step": .., "data": {..}}`).
    Verl,
    /// A best-of-n dump with per-prompt score arrays (JSON array or JSONL).
    BonJson,
}

impl LogFormat {
    /// The name used by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Tidy => "tidy",
            LogFormat::Trl => "trl",
            LogFormat::Wandb => "wandb",
            LogFormat::Tensorboard => "tensorboard",
            LogFormat::Verl => "verl",
            LogFormat::BonJson => "bon-json",
        }
    }

    /// True for the trainer logs that become Curves through key mapping.
    pub fn is_trainer_log(self) -> bool {
        matches!(
            self,
            LogFormat::Trl | LogFormat::Wandb | LogFormat::Tensorboard | LogFormat::Verl
        )
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a logged KL value measures (`--kl-unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KlUnit {
    /// KL summed over the tokens of a response (the Curves table's unit).
    Sequence,
    /// KL averaged over the tokens of a response.
    Token,
}

impl KlUnit {
    pub fn name(self) -> &'static str {
        match self {
            KlUnit::Sequence => "sequence",
            KlUnit::Token => "token",
        }
    }
}

/// Which log keys feed which canonical column (`--kl-key` etc.); `None` takes the format's
/// defaults.
#[derive(Debug, Clone, Default)]
pub struct KeyOptions {
    pub kl: Option<String>,
    pub proxy: Option<String>,
    /// The gold key of the log, or of the `--gold-from` file when one is given.
    pub gold: Option<String>,
    pub step: Option<String>,
    /// Mean response length in tokens, to turn per-token KL into per-sequence KL.
    pub length: Option<String>,
}

/// A run's metadata, from flags or a sidecar file (flags win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMeta {
    pub method: Option<Method>,
    pub rm_params: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub run: Option<String>,
    pub kl_unit: Option<KlUnit>,
}

/// How input logs are read. The default reads tidy tables, choosing the format by extension.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `None`: detect the format from the file's name and content.
    pub format: Option<LogFormat>,
    pub keys: KeyOptions,
    /// Metadata given by flags (they win over the sidecar file).
    pub meta: RunMeta,
    /// `--meta FILE`; without it `<log>.goodhart.json` is used when it exists.
    pub meta_file: Option<PathBuf>,
    /// `--gold-from FILE`: gold evaluations joined to the training log on step.
    pub gold_from: Option<PathBuf>,
    /// `--join-tolerance`: a gold evaluation at step g takes the log's nearest step s <= g
    /// with g - s <= tolerance (0: exact match only).
    pub join_tolerance: f64,
    /// `--runs FILE`: a runs manifest, one log per row with its run and metadata.
    pub runs: Option<PathBuf>,
    /// Set for the logs of a runs manifest: gold rows of the manifest's other runs are
    /// accounted for once, by the manifest, not per log.
    pub from_manifest: bool,
    /// What a tidy table's missing metadata column (`method`, `rm_params`, ...) is told to do.
    pub metadata_hint: MetadataHint,
}

/// The advice of a missing metadata column's error (`ingest::metadata`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetadataHint {
    /// The flags that fill the column (`--method rl|bon`, `--rm-params N`, ...): commands that
    /// take them.
    #[default]
    Flags,
    /// `goodhart convert`, which writes the columns: commands without those flags (`analyze`).
    Convert,
}
