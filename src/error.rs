//! Typed errors: every message names the file, column, row or curve at fault.

use std::path::PathBuf;

/// Everything that can go wrong in goodhart's library calls.
///
/// Rows are counted from 1 over data rows (a CSV header is not a row); for NDJSON a row is a
/// non-blank line, and `line` gives the physical line number.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A wrong combination or syntax of command-line options (exit status 2).
    #[error("{0}")]
    Usage(String),

    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: the file is empty")]
    EmptyFile { path: PathBuf },

    #[error("{path}: the file has a header but no data rows")]
    NoRows { path: PathBuf },

    #[error("{path}: unknown file type '{extension}': use .csv, .parquet, .ndjson or .jsonl")]
    UnknownFormat { path: PathBuf, extension: String },

    #[error("{path}: not a valid {format} file: {detail}")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        detail: String,
    },

    #[error("{path}: row {row} (line {line}) has {found} fields but the header has {expected}")]
    Ragged {
        path: PathBuf,
        row: usize,
        line: u64,
        found: usize,
        expected: usize,
    },

    #[error("{path}: the header names column '{column}' twice")]
    DuplicateColumn { path: PathBuf, column: String },

    #[error("{path}: missing required column '{column}'{hint}; columns found: {found}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        /// e.g. ` (did you mean 'kl_nats'? use --map kl_nats=kl)`
        hint: String,
        found: String,
    },

    #[error(
        "{path}: --map {source_name}={canonical}: the file has no column '{source_name}'; columns found: {found}"
    )]
    MapSourceMissing {
        path: PathBuf,
        source_name: String,
        canonical: String,
        found: String,
    },

    #[error("{path}: column '{column}', row {row}: {problem} (value: '{value}')")]
    BadValue {
        path: PathBuf,
        column: String,
        row: usize,
        value: String,
        problem: String,
    },

    #[error(
        "curve {curve}: {points} usable point(s) for the {form} form, which has {params} parameters"
    )]
    TooFewPoints {
        curve: String,
        form: &'static str,
        points: usize,
        params: usize,
    },

    #[error("{0}")]
    Analysis(String),

    /// A problem of best-of-n samples that is not one cell: a pool, a dump record.
    #[error("{path}: {detail}")]
    BadSamples { path: PathBuf, detail: String },

    /// A log key (`--kl-key` etc.) that the file does not have.
    #[error("{path}: no key '{key}' ({flag}); keys in the file, nearest first: {available}")]
    UnknownKey {
        path: PathBuf,
        flag: &'static str,
        key: String,
        available: String,
    },

    /// The file's content says another format than `--format`.
    #[error("{path}: --format {expected} was asked, but the file looks like {detected}: {reason}")]
    WrongFormat {
        path: PathBuf,
        expected: &'static str,
        detected: &'static str,
        reason: String,
    },

    /// Inputs whose KL is measured in different units (per sequence, per token).
    #[error(
        "KL units differ between inputs, which cannot be fitted together: {detail}; convert per-token KL with --length-key or fit the inputs apart"
    )]
    MixedKlUnits { detail: String },

    /// A trainer log without gold scores and no `--gold-from`.
    #[error(
        "{path}: the log has no gold score: give --gold-from FILE (gold evaluations by step) or --gold-key KEY (a key of the log); keys in the file: {keys}"
    )]
    NoGold { path: PathBuf, keys: String },

    /// A gold join in which no evaluation found a logged step.
    #[error(
        "no gold evaluation of {gold} matches a logged step of {log} (exactly or up to --join-tolerance {tolerance} earlier): log {log_steps}; gold {gold_steps}"
    )]
    NoJoinOverlap {
        log: PathBuf,
        gold: PathBuf,
        log_steps: String,
        gold_steps: String,
        tolerance: String,
    },

    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit status this error maps to: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
