//! How to read a log file: its format (tidy table or an external trainer's log) and the
//! metadata that logs rarely carry. Every command that reads logs takes one [`LogOptions`].

/// The layout of an input file (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// goodhart's canonical Curves or Samples table (CSV, Parquet, NDJSON by extension).
    Tidy,
    /// A TRL `trainer_state.json` (`log_history`).
    Trl,
    /// A W&B panel CSV export (`Step`, `<run> - <metric>`, `__MIN`, `__MAX`).
    Wandb,
    /// A TensorBoard scalar CSV (`Wall time,Step,Value`, run and tag in the file name).
    Tensorboard,
    /// veRL's file-logger JSONL (`{"step": .., "data": {..}}`).
    Verl,
    /// A best-of-n dump with per-prompt score arrays (JSON array or JSONL).
    BonJson,
}

/// How input logs are read. The default reads tidy tables, choosing the format by extension.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `None`: detect the format from the file's name and content.
    pub format: Option<LogFormat>,
}
