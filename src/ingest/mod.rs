//! Reading tidy tables (CSV, Parquet, NDJSON) into plain typed columns, with column renames.
//!
//! This is the one place where file formats (and polars) are seen: everything after it works
//! on [`Table`], whose columns are plain vectors named by their canonical names.

pub mod adapters;
mod csv_reader;
pub mod fast_curves;
pub use csv_reader::{delimiter_name, sniff_delimiter};
pub mod logs;
pub mod manifest;
pub mod metadata;
mod ndjson_reader;
mod panic_guard;
pub(crate) mod parquet_pages;
pub(crate) mod parquet_reader;

pub use logs::{KeyOptions, KlUnit, LogFormat, LogOptions, MetadataHint, RunMeta};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::schema::{ColumnKind, ColumnSpec};

/// A tidy file format, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Ndjson,
}

/// A path's extension in lower case (`""` when it has none).
/// Whether every value is a finite number, in a loop without an early exit (vectorised: a
/// column of scores is checked at memory speed).
pub(crate) fn all_finite(values: &[f64]) -> bool {
    values.iter().fold(true, |all, x| all & x.is_finite())
}

pub(crate) fn lowercase_extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

impl Format {
    /// The format implied by a path's extension: `.csv`, `.parquet`/`.pq`, `.ndjson`/`.jsonl`.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = lowercase_extension(path);
        match ext.as_str() {
            "csv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            "ndjson" | "jsonl" => Ok(Format::Ndjson),
            _ => Err(Error::UnknownFormat {
                path: path.to_path_buf(),
                extension: ext,
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
            Format::Ndjson => "NDJSON",
        }
    }
}

/// User renames `source=canonical` (`--map`), checked against a table schema.
#[derive(Debug, Clone, Default)]
pub struct ColumnMap {
    pairs: Vec<(String, &'static str)>,
}

impl ColumnMap {
    /// True when no rename was asked for.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Parses `--map` arguments of the form `source=canonical` for the given schema.
    pub fn parse(args: &[String], schema: &[ColumnSpec]) -> Result<ColumnMap> {
        let mut pairs: Vec<(String, &'static str)> = Vec::new();
        for arg in args {
            let (source, canonical) = arg
                .split_once('=')
                .map(|(s, c)| (s.trim(), c.trim()))
                .filter(|(s, c)| !s.is_empty() && !c.is_empty())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--map '{arg}': expected source=canonical, e.g. --map kl_nats=kl"
                    ))
                })?;
            let spec = schema.iter().find(|s| s.name == canonical).ok_or_else(|| {
                let names: Vec<&str> = schema.iter().map(|s| s.name).collect();
                Error::Usage(format!(
                    "--map '{arg}': '{canonical}' is not a column of this table; columns: {}",
                    names.join(", ")
                ))
            })?;
            if pairs.iter().any(|(_, c)| *c == spec.name) {
                return Err(Error::Usage(format!(
                    "--map: '{canonical}' is the target of more than one --map"
                )));
            }
            if pairs.iter().any(|(s, _)| s == source) {
                return Err(Error::Usage(format!(
                    "--map: source column '{source}' is mapped more than once"
                )));
            }
            pairs.push((source.to_string(), spec.name));
        }
        Ok(ColumnMap { pairs })
    }
}

/// How one column of the file was taken.
#[derive(Debug, Clone)]
pub struct ColumnMapping {
    pub source: String,
    pub canonical: &'static str,
    /// True when the user asked for it with `--map`.
    pub renamed: bool,
}

/// The values of one canonical column; `None` marks an empty cell or JSON null.
#[derive(Debug, Clone)]
pub enum ColumnData {
    Number(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Label(LabelColumn),
}

impl ColumnData {
    /// The number of values (rows) of the column.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Number(v) => v.len(),
            ColumnData::Text(v) => v.len(),
            ColumnData::Label(l) => l.codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks that columns read together have the same length, before any reader indexes one by
/// the rows of another, and returns that length (0 for no column). Every reader that indexes
/// several columns calls it: tidy tables ([`read_table`]), the Curves and Samples tables built
/// from them, and the score arrays of a best-of-n dump record (`record` names the record; `None`
/// for a table).
///
/// A well-formed file always passes. A corrupt Parquet file may not: polars can decode a column
/// chunk to fewer values than its row group has rows (found by mutating valid files, issue #18).
/// The error names the file and the first column whose length differs from the length most
/// columns have (the earliest such length on a tie), with both lengths.
pub fn check_equal_lengths(
    path: &Path,
    record: Option<&str>,
    columns: &[(&str, usize)],
) -> Result<usize> {
    // The length most columns have (the earliest on a tie), and the first column of it.
    let count = |n: usize| columns.iter().filter(|c| c.1 == n).count();
    let mut best: Option<(&str, usize)> = None;
    for &(name, n) in columns {
        if best.is_none_or(|(_, b)| count(n) > count(b)) {
            best = Some((name, n));
        }
    }
    let Some((reference, reference_len)) = best else {
        return Ok(0);
    };
    match columns.iter().find(|c| c.1 != reference_len) {
        None => Ok(reference_len),
        Some(&(column, len)) => Err(Error::UnequalLengths {
            path: path.to_path_buf(),
            record: record.map(str::to_string),
            column: column.to_string(),
            len,
            reference: reference.to_string(),
            reference_len,
        }),
    }
}

/// A dictionary-encoded column of labels ([`ColumnKind::Label`]): each distinct label is
/// stored once, rows hold its index. A number is labelled by its shortest text (`7`, `0.5`),
/// so the number 7 and the text `7` are the same label.
#[derive(Debug, Clone, Default)]
pub struct LabelColumn {
    /// The distinct labels, in order of first appearance.
    pub labels: Vec<String>,
    /// Each row's label as an index into `labels`; `None` for an empty cell.
    pub codes: Vec<Option<u32>>,
    by_text: HashMap<String, u32>,
    by_number: HashMap<u64, u32>,
    by_integer: HashMap<i64, u32>,
    /// Codes of small non-negative integer labels (the usual prompt ids 0..P), indexed by
    /// value without hashing; `u32::MAX` where not seen yet.
    by_small_integer: Vec<u32>,
}

/// Integer labels below this are looked up in a dense table (at most 16 MiB of codes).
const SMALL_INTEGER_LABELS: i64 = 1 << 22;

impl LabelColumn {
    fn code_of_text(&mut self, text: &str) -> u32 {
        // Labels usually repeat row after row: compare with the previous row's before hashing.
        if let Some(Some(c)) = self.codes.last()
            && self.labels[*c as usize] == text
        {
            return *c;
        }
        if let Some(&c) = self.by_text.get(text) {
            return c;
        }
        let c = self.labels.len() as u32;
        self.labels.push(text.to_string());
        self.by_text.insert(text.to_string(), c);
        c
    }

    /// Appends the rows of `other` (labels read from later rows): its labels are looked up or
    /// added here, in its order of first appearance, so that the result is the column of all
    /// rows read in one pass.
    pub(crate) fn append(&mut self, other: LabelColumn) {
        let remap: Vec<u32> = other
            .labels
            .iter()
            .map(|text| match self.by_text.get(text) {
                Some(&c) => c,
                None => {
                    let c = self.labels.len() as u32;
                    self.labels.push(text.clone());
                    self.by_text.insert(text.clone(), c);
                    c
                }
            })
            .collect();
        self.codes.reserve(other.codes.len());
        self.codes
            .extend(other.codes.iter().map(|c| c.map(|c| remap[c as usize])));
    }

    /// Adds a label given as text (already trimmed; empty is a missing value).
    pub(crate) fn push_text(&mut self, text: &str) {
        let code = (!text.is_empty()).then(|| self.code_of_text(text));
        self.codes.push(code);
    }

    pub(crate) fn push_number(&mut self, x: Option<f64>) {
        let code = x.map(|x| match self.by_number.get(&x.to_bits()) {
            Some(&c) => c,
            None => {
                let c = self.code_of_text(&crate::format::fmt_num(x));
                self.by_number.insert(x.to_bits(), c);
                c
            }
        });
        self.codes.push(code);
    }

    /// Adds an integer label exactly (no rounding through `f64`).
    pub(crate) fn push_integer(&mut self, x: Option<i64>) {
        if let Some(v) = x
            && (0..SMALL_INTEGER_LABELS).contains(&v)
        {
            let i = v as usize;
            if i >= self.by_small_integer.len() {
                let len = (i + 1)
                    .max(2 * self.by_small_integer.len())
                    .min(SMALL_INTEGER_LABELS as usize);
                self.by_small_integer.resize(len, u32::MAX);
            }
            if self.by_small_integer[i] == u32::MAX {
                self.by_small_integer[i] = self.code_of_text(&v.to_string());
            }
            self.codes.push(Some(self.by_small_integer[i]));
            return;
        }
        let code = x.map(|x| match self.by_integer.get(&x) {
            Some(&c) => c,
            None => {
                let c = self.code_of_text(&x.to_string());
                self.by_integer.insert(x, c);
                c
            }
        });
        self.codes.push(code);
    }
}

/// A table read from a file: the canonical columns it has, as plain vectors.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub format: Format,
    pub n_rows: usize,
    /// The columns of the file, as named there, in file order.
    pub source_columns: Vec<String>,
    /// The columns taken, and as what.
    pub mapping: Vec<ColumnMapping>,
    columns: HashMap<&'static str, ColumnData>,
}

impl Table {
    pub fn has(&self, name: &str) -> bool {
        self.columns.contains_key(name)
    }

    /// Removes and returns a column, if the table has it.
    pub fn take(&mut self, name: &str) -> Option<ColumnData> {
        self.columns.remove(name)
    }

    /// A column, if the table has it.
    pub fn get(&self, name: &str) -> Option<&ColumnData> {
        self.columns.get(name)
    }

    /// Adds a column the file lacks (a run's metadata given by a flag or a sidecar), with
    /// `source` saying where it came from (`--rm-params 1e9`).
    pub(crate) fn fill(&mut self, name: &'static str, data: ColumnData, source: String) {
        self.columns.insert(name, data);
        self.mapping.push(ColumnMapping {
            source,
            canonical: name,
            renamed: false,
        });
    }

    /// The source name of a canonical column (for messages).
    pub fn source_name(&self, canonical: &str) -> String {
        self.mapping
            .iter()
            .find(|m| m.canonical == canonical)
            .map(|m| m.source.clone())
            .unwrap_or_else(|| canonical.to_string())
    }
}

/// Which source column (by index) feeds each canonical column.
pub(crate) struct Plan {
    pub(crate) taken: Vec<(usize, ColumnSpec)>,
    pub(crate) mapping: Vec<ColumnMapping>,
}

/// Matches the header against the schema and the user's renames.
pub(crate) fn plan_columns(
    path: &Path,
    header: &[String],
    schema: &[ColumnSpec],
    map: &ColumnMap,
) -> Result<Plan> {
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            return Err(Error::DuplicateColumn {
                path: path.to_path_buf(),
                column: name.clone(),
            });
        }
    }
    let found = || header.join(", ");
    let mut taken = Vec::new();
    let mut mapping = Vec::new();
    for (source, canonical) in &map.pairs {
        let idx =
            header
                .iter()
                .position(|h| h == source)
                .ok_or_else(|| Error::MapSourceMissing {
                    path: path.to_path_buf(),
                    source_name: source.clone(),
                    canonical: canonical.to_string(),
                    found: found(),
                })?;
        let spec = *schema
            .iter()
            .find(|s| s.name == *canonical)
            // Cannot fail: ColumnMap::parse accepts only canonical names of this schema.
            .expect("checked in ColumnMap::parse");
        taken.push((idx, spec));
        mapping.push(ColumnMapping {
            source: source.clone(),
            canonical,
            renamed: true,
        });
    }
    let mut missing: Vec<&'static str> = Vec::new();
    for spec in schema {
        if map.pairs.iter().any(|(_, c)| *c == spec.name) {
            continue;
        }
        let idx = header
            .iter()
            .position(|h| h == spec.name && !map.pairs.iter().any(|(s, _)| s == h));
        match idx {
            Some(idx) => {
                taken.push((idx, *spec));
                mapping.push(ColumnMapping {
                    source: spec.name.to_string(),
                    canonical: spec.name,
                    renamed: false,
                });
            }
            None if spec.required => missing.push(spec.name),
            None => {}
        }
    }
    // An iterated-RLHF table has every column of the Curves table but one run per `rounds`
    // value under each key: read as curves, the runs of 1, 2 and 4 rounds would become one curve.
    // `rounds` with `round` or `d_sum` marks it (a `rounds` column alone may mean anything).
    let lists = |name: &str| schema.iter().any(|s| s.name == name);
    if missing.is_empty() && lists("kl") && !lists("rounds") {
        let has = |name: &str| header.iter().any(|h| h == name);
        if has("rounds") && (has("round") || has("d_sum")) {
            let file = path.display();
            return Err(Error::OtherTable {
                path: path.to_path_buf(),
                detail: format!(
                    "this looks like an iterated-RLHF table (columns rounds and round or d_sum), not curves: each run has its number of rounds, and read as curves the runs of every number of rounds would merge into one curve per reward model. `goodhart analyze` reads it with --iterated {file}, beside the Curves tables; to fit its one-round runs as curves, keep the rows with rounds = 1 and drop the rounds column"
                ),
            });
        }
    }
    if !missing.is_empty() {
        let used: Vec<&str> = mapping.iter().map(|m| m.source.as_str()).collect();
        return Err(Error::MissingColumn {
            path: path.to_path_buf(),
            columns: missing.iter().map(|c| c.to_string()).collect(),
            hint: other_table_hint(path, header, schema)
                .unwrap_or_else(|| missing_hint(&missing, header, &used, schema)),
            found: if header.is_empty() {
                "(none)".to_string()
            } else {
                found()
            },
        });
    }
    taken.sort_by_key(|(idx, _)| *idx);
    Ok(Plan { taken, mapping })
}

/// What to run instead when a file read as one canonical table is plainly another: a Samples
/// table (scored samples: `prompt`, `proxy`, `gold`, no `kl`), an iterated-RLHF table
/// (`rounds`, `d_sum`) or a reward-models table (`val_loss`, `val_accuracy`) given where curves
/// are read, or a Curves table (`method`, `kl`, `gold`, no `prompt`) given to `goodhart bon`.
pub(crate) fn other_table_hint(
    path: &Path,
    header: &[String],
    schema: &[ColumnSpec],
) -> Option<String> {
    let has = |name: &str| header.iter().any(|h| h == name);
    let reads = |name: &str| schema.iter().any(|s| s.name == name && s.required);
    let file = path.display();
    if reads("kl") && !has("kl") && has("prompt") && (has("proxy") || has("gold")) {
        return Some(format!(
            " (this looks like a Samples table of scored samples, not curves: make best-of-n curves from it with `goodhart bon {file} --out curves.csv`, then use those)"
        ));
    }
    // goodhart's own side tables (generate sim and tokens write them beside the curves)
    if reads("kl") && has("rounds") && (has("round") || has("d_sum")) {
        return Some(format!(
            " (this looks like an iterated-RLHF table (rounds, and round or d_sum), not curves: `goodhart analyze` reads it with --iterated {file}, beside the Curves tables)"
        ));
    }
    if reads("kl") && !has("kl") && (has("val_loss") || has("val_accuracy")) {
        return Some(format!(
            " (this looks like a reward-models table (val_loss, val_accuracy), not curves: `goodhart analyze` reads it with --reward-models {file}, beside the Curves tables)"
        ));
    }
    if reads("prompt") && !has("prompt") && has("kl") && has("gold") {
        return Some(format!(
            " (this looks like a Curves table, not scored samples: fit it with `goodhart fit {file} --out fits.json`)"
        ));
    }
    None
}

/// A column name without case and separators: `RM_params`, `rm-params` and `RmParams` are all
/// `rmparams`.
fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The unit a KL column's name carries that the Curves table's `kl` (nats per sequence) does
/// not: bits, or per token. `None` for any other name.
pub(crate) fn kl_unit_in_name(name: &str) -> Option<&'static str> {
    let n = normalized(name);
    if !n.contains("kl") {
        return None;
    }
    if n.contains("token") || n.ends_with("tok") || n.contains("pertok") {
        Some("per token")
    } else if n.contains("bit") {
        Some("bits")
    } else {
        None
    }
}

/// What to say about a KL column whose name carries a unit (no plain `--map`, which would read
/// bits as nats or per-token KL as per-sequence KL).
fn kl_unit_hint(source: &str, unit: &str) -> String {
    match unit {
        "bits" => format!(
            "'{source}' looks like KL in bits, and kl is in nats: convert it first (nats = bits x ln 2 = bits x 0.693147), then name it kl"
        ),
        _ => format!(
            "'{source}' looks like KL per token, and kl is per sequence (summed over a response's tokens): multiply it by the mean response length first, or read the trainer's log with --kl-unit token --length-key KEY (README, \"Reading the logs\")"
        ),
    }
}

/// The hint of a missing-columns error: one `--map` line renaming every column the file has
/// under another case or separators (`RM_params`, `Gold`), including optional columns that
/// would otherwise be left out; a conversion note for KL columns whose name carries a unit;
/// else the nearest name of each missing column.
fn missing_hint(
    missing: &[&'static str],
    header: &[String],
    used: &[&str],
    schema: &[ColumnSpec],
) -> String {
    let free = |h: &&String| !used.contains(&h.as_str());
    let mut maps: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut guesses: Vec<String> = Vec::new();
    for spec in schema {
        let required_missing = missing.contains(&spec.name);
        if !required_missing && used.contains(&spec.name) {
            continue;
        }
        let want = normalized(spec.name);
        let same = header
            .iter()
            .filter(free)
            .find(|h| normalized(h) == want && kl_unit_in_name(h).is_none());
        if let Some(h) = same {
            maps.push(format!("--map {h}={}", spec.name));
            continue;
        }
        if !required_missing {
            continue;
        }
        if spec.name == crate::schema::KL
            && let Some((h, unit)) = header
                .iter()
                .filter(free)
                .find_map(|h| kl_unit_in_name(h).map(|u| (h, u)))
        {
            notes.push(kl_unit_hint(h, unit));
            continue;
        }
        let candidates: Vec<String> = header
            .iter()
            .filter(|h| kl_unit_in_name(h).is_none() && !h.contains([';', '\t', '|']))
            .cloned()
            .collect();
        if let Some(h) = nearest(spec.name, &candidates, used) {
            guesses.push(format!("did you mean '{h}'? use --map {h}={}", spec.name));
        }
    }
    let mut parts = Vec::new();
    if !maps.is_empty() {
        parts.push(format!(
            "the file has {} under another case or separators: use {}",
            if maps.len() == 1 { "it" } else { "them" },
            maps.join(" ")
        ));
    }
    parts.extend(guesses);
    parts.extend(notes);
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

/// The header name closest to `want`, if any is close enough to be a plausible typo or variant.
fn nearest<'a>(want: &str, header: &'a [String], used: &[&str]) -> Option<&'a str> {
    let want_l = want.to_ascii_lowercase();
    header
        .iter()
        .filter(|h| !used.contains(&h.as_str()))
        .map(|h| {
            let hl = h.to_ascii_lowercase();
            let mut score = strsim::jaro_winkler(&want_l, &hl);
            if hl.contains(&want_l) || want_l.contains(&hl) {
                score = score.max(0.85);
            }
            (score, h.as_str())
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h)
}

/// Whether a cell that is not a number reads as one written with a comma: a decimal comma (`0,5`,
/// `-1,25e-3`, `1.234,5`; spreadsheets in such locales write semicolon-separated files, which
/// goodhart reads) or a thousands separator (`1,234`, quoted in a comma-separated file): one
/// comma, and a number once dots are dropped and the comma is a point.
fn looks_like_decimal_comma(cell: &str) -> bool {
    cell.matches(',').count() == 1
        && cell
            .replace('.', "")
            .replace(',', ".")
            .parse::<f64>()
            .is_ok_and(f64::is_finite)
}

/// Builds one canonical column from cells, with the file, column and row for messages.
pub(crate) struct ColumnBuilder {
    pub(crate) spec: ColumnSpec,
    pub(crate) source: String,
    pub(crate) data: ColumnData,
}

impl ColumnBuilder {
    pub(crate) fn new(spec: ColumnSpec, source: String) -> Self {
        let data = match spec.kind {
            ColumnKind::Number => ColumnData::Number(Vec::new()),
            ColumnKind::Text => ColumnData::Text(Vec::new()),
            ColumnKind::Label => ColumnData::Label(LabelColumn::default()),
        };
        ColumnBuilder { spec, source, data }
    }

    fn bad(&self, path: &Path, row: usize, value: &str, problem: &str) -> Error {
        Error::BadValue {
            path: path.to_path_buf(),
            column: self.source.clone(),
            row,
            value: value.to_string(),
            problem: problem.to_string(),
        }
    }

    /// Adds a cell given as text (CSV, or a JSON string). Empty text is a missing value.
    pub(crate) fn push_text(&mut self, path: &Path, row: usize, text: &str) -> Result<()> {
        let t = text.trim();
        match &mut self.data {
            ColumnData::Number(v) => {
                if t.is_empty() {
                    v.push(None);
                } else {
                    match t.parse::<f64>() {
                        Ok(x) => v.push(Some(x)),
                        Err(_) if looks_like_decimal_comma(t) => {
                            return Err(self.bad(
                                path,
                                row,
                                text,
                                "not a number: it has a comma (a decimal comma, or a thousands \
                                 separator?), and goodhart reads numbers with '.' as the decimal \
                                 point and no separators (write 0.5, not 0,5; 1234, not 1,234)",
                            ));
                        }
                        Err(_) => return Err(self.bad(path, row, text, "not a number")),
                    }
                }
            }
            ColumnData::Text(v) => v.push(if t.is_empty() {
                None
            } else {
                Some(t.to_string())
            }),
            ColumnData::Label(l) => l.push_text(t),
        }
        Ok(())
    }

    /// Adds a cell given as a number (JSON or Parquet numbers).
    pub(crate) fn push_number(&mut self, x: Option<f64>) {
        match &mut self.data {
            ColumnData::Number(v) => v.push(x),
            ColumnData::Text(v) => v.push(x.map(crate::format::fmt_num)),
            ColumnData::Label(l) => l.push_number(x),
        }
    }

    /// Appends the cells of `other`, a builder of the same column for the rows that follow.
    pub(crate) fn append(&mut self, other: ColumnBuilder) {
        match (&mut self.data, other.data) {
            (ColumnData::Number(a), ColumnData::Number(b)) => a.extend(b),
            (ColumnData::Text(a), ColumnData::Text(b)) => a.extend(b),
            (ColumnData::Label(a), ColumnData::Label(b)) => a.append(b),
            // Cannot happen: both builders come from one spec.
            _ => unreachable!("builders of one column have one kind"),
        }
    }

    pub(crate) fn finish(self, path: &Path) -> Result<(ColumnSpec, ColumnData)> {
        if self.spec.required {
            let missing = match &self.data {
                ColumnData::Number(v) => v.iter().position(Option::is_none),
                ColumnData::Text(v) => v.iter().position(Option::is_none),
                ColumnData::Label(l) => l.codes.iter().position(Option::is_none),
            };
            if let Some(i) = missing {
                return Err(self.bad(path, i + 1, "", "missing value in a required column"));
            }
        }
        Ok((self.spec, self.data))
    }
}

/// The metadata of an input file; a path that is missing or a folder is a read error.
pub(crate) fn file_metadata(path: &Path) -> Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return Err(Error::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other("is a directory"),
        });
    }
    Ok(meta)
}

/// Reads a tidy table from CSV, Parquet or NDJSON (by extension), taking the schema's columns.
pub fn read_table(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<Table> {
    let format = Format::from_path(path)?;
    let meta = file_metadata(path)?;
    if meta.len() == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let (header, n_rows, plan, builders) = match format {
        Format::Csv => csv_reader::read(path, schema, map)?,
        Format::Ndjson => ndjson_reader::read(path, schema, map)?,
        Format::Parquet => parquet_reader::read(path, schema, map)?,
    };
    // Each reader yields one value per row in every column, unless the file is corrupt (a
    // Parquet column chunk may decode short): check before anything indexes them by row.
    let lengths: Vec<(&str, usize)> = builders
        .iter()
        .map(|b| (b.source.as_str(), b.data.len()))
        .collect();
    let column_rows = check_equal_lengths(path, None, &lengths)?;
    if !builders.is_empty() && column_rows != n_rows {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            format: format.name(),
            detail: format!("the file has {n_rows} rows but its columns have {column_rows} values"),
        });
    }
    if n_rows == 0 {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    let mut columns = HashMap::new();
    for b in builders {
        let (spec, data) = b.finish(path)?;
        columns.insert(spec.name, data);
    }
    Ok(Table {
        path: path.to_path_buf(),
        format,
        n_rows,
        source_columns: header,
        mapping: plan.mapping,
        columns,
    })
}

/// What a tidy table holds, without its values: [`read_layout`].
#[derive(Debug, Clone)]
pub struct TableLayout {
    pub format: Format,
    pub n_rows: usize,
    /// The columns of the file, as named there, in file order.
    pub source_columns: Vec<String>,
    /// The columns the schema takes, and as what.
    pub mapping: Vec<ColumnMapping>,
}

impl TableLayout {
    /// Whether the schema's column `name` is in the table.
    pub fn has(&self, name: &str) -> bool {
        self.mapping.iter().any(|m| m.canonical == name)
    }
}

/// The layout of a tidy table as [`read_table`] would read it with `schema` (the same errors
/// for a missing required column), whatever its values: for Parquet from the file's footer,
/// without decoding a column, so a table of millions of rows costs no memory; CSV and NDJSON
/// are read with every column as text.
pub fn read_layout(path: &Path, schema: &[ColumnSpec], map: &ColumnMap) -> Result<TableLayout> {
    let format = Format::from_path(path)?;
    if format != Format::Parquet {
        // every column as text: a value that is not a number is the problem of whoever reads
        // the values, not of the layout
        let as_text: Vec<ColumnSpec> = schema
            .iter()
            .map(|s| ColumnSpec {
                kind: crate::schema::ColumnKind::Text,
                ..*s
            })
            .collect();
        let t = read_table(path, &as_text, map)?;
        return Ok(TableLayout {
            format: t.format,
            n_rows: t.n_rows,
            source_columns: t.source_columns,
            mapping: t.mapping,
        });
    }
    if file_metadata(path)?.len() == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    let (header, n_rows, plan) = parquet_reader::layout(path, schema, map)?;
    if n_rows == 0 {
        return Err(Error::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(TableLayout {
        format,
        n_rows,
        source_columns: header,
        mapping: plan.mapping,
    })
}

pub(crate) type ReadOutput = (Vec<String>, usize, Plan, Vec<ColumnBuilder>);

pub(crate) fn builders_for(plan: &Plan, header: &[String]) -> Vec<ColumnBuilder> {
    plan.taken
        .iter()
        .map(|(idx, spec)| ColumnBuilder::new(*spec, header[*idx].clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_commas_are_told_from_other_text() {
        for cell in ["0,5", "-1,25e-3", "1.234,5", ",5", "+3,0"] {
            assert!(looks_like_decimal_comma(cell), "{cell}");
        }
        for cell in ["abc", "1,2,3", "0.5", "nan,", "1;5", "", ",", "inf,0"] {
            assert!(!looks_like_decimal_comma(cell), "{cell}");
        }
    }

    #[test]
    fn equal_lengths_give_the_length() {
        let path = Path::new("t.parquet");
        assert_eq!(check_equal_lengths(path, None, &[]).unwrap(), 0);
        let same = [("prompt", 160), ("proxy", 160), ("gold", 160)];
        assert_eq!(check_equal_lengths(path, None, &same).unwrap(), 160);
    }

    #[test]
    fn the_odd_column_is_named_against_the_most_common_length() {
        let path = Path::new("t.parquet");
        // The first column is the odd one: it is named, not the three that agree.
        let lengths = [
            ("prompt", 0),
            ("rm_params", 160),
            ("proxy", 160),
            ("gold", 160),
        ];
        let e = check_equal_lengths(path, None, &lengths).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "t.parquet: column 'prompt' has 0 values but column 'rm_params' has 160: every column of a table needs one value per row (the file is corrupt or was cut short)"
        );
        let lengths = [
            ("prompt", 160),
            ("rm_params", 160),
            ("proxy", 118),
            ("gold", 160),
        ];
        let e = check_equal_lengths(path, None, &lengths).unwrap_err();
        assert!(
            e.to_string()
                .contains("column 'proxy' has 118 values but column 'prompt' has 160"),
            "{e}"
        );
    }

    #[test]
    fn on_a_tie_the_first_column_is_the_reference() {
        let path = Path::new("dump.json");
        let lengths = [("proxy_scores", 3), ("gold_scores", 2)];
        let e =
            check_equal_lengths(path, Some("prompt index 0 (prompt 'a')"), &lengths).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dump.json: prompt index 0 (prompt 'a'): 'proxy_scores' has 3 values but 'gold_scores' has 2: every sample needs both scores"
        );
    }
}
