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

    /// Every required column the file lacks, in one message.
    #[error("{path}: {}{hint}; columns found: {found}", missing_columns(.columns))]
    MissingColumn {
        path: PathBuf,
        /// The canonical names of the missing required columns, in schema order.
        columns: Vec<String>,
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

    /// Columns read together whose lengths differ: a corrupt table (a Parquet column chunk that
    /// decodes to fewer values than its row group has rows), or a dump record whose score
    /// arrays differ in length. Raised by [`crate::ingest::check_equal_lengths`].
    #[error("{path}: {}", unequal_lengths(.record, .column, *.len, .reference, *.reference_len))]
    UnequalLengths {
        path: PathBuf,
        /// The record of a dump (`prompt index 0 (prompt 'a')`); `None` for a table's columns.
        record: Option<String>,
        /// The first column whose length differs from the others'.
        column: String,
        len: usize,
        /// A column of the length most columns have.
        reference: String,
        reference_len: usize,
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

    /// An error of the file given to a command-line flag (`--iterated FILE`), the flag named
    /// first: `--iterated FILE: ...` (the inner message starts with the file).
    #[error("{flag} {source}")]
    ForFlag {
        flag: &'static str,
        #[source]
        source: Box<Error>,
    },

    /// A file read as one canonical table that is plainly another, though it has the columns
    /// asked for (an iterated-RLHF table read as curves would merge its rounds' runs).
    #[error("{path}: {detail}")]
    OtherTable { path: PathBuf, detail: String },

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

    /// A TensorBoard log folder without event files, or event files without a scalar.
    #[error("{path}: {detail}")]
    NoEvents { path: PathBuf, detail: String },

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

    #[error("{}: cannot write: {source}", write_target(path))]
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
            Error::ForFlag { source, .. } => source.exit_code(),
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// "missing required column 'kl'", or "missing required columns 'method', 'kl'".
fn missing_columns(columns: &[String]) -> String {
    let names: Vec<String> = columns.iter().map(|c| format!("'{c}'")).collect();
    match names.len() {
        1 => format!("missing required column {}", names[0]),
        _ => format!("missing required columns {}", names.join(", ")),
    }
}

/// The message of [`Error::UnequalLengths`] after the path.
fn unequal_lengths(
    record: &Option<String>,
    column: &str,
    len: usize,
    reference: &str,
    reference_len: usize,
) -> String {
    match record {
        None => format!(
            "column '{column}' has {len} values but column '{reference}' has {reference_len}: every column of a table needs one value per row (the file is corrupt or was cut short)"
        ),
        // Two score arrays: named in their order (a tie makes the first the reference).
        Some(record) => format!(
            "{record}: '{reference}' has {reference_len} values but '{column}' has {len}: every sample needs both scores"
        ),
    }
}

/// How a write error names its target: `-` is standard output (`--out -`, or the summary a
/// command prints), which a user reads better in words than as a bare dash.
fn write_target(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "standard output".to_string()
    } else {
        path.display().to_string()
    }
}
