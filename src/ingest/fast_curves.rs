//! The fast path of a plain Parquet Curves table (issue #16): each column is decoded once by
//! polars into one contiguous `Vec<f64>`, with no per-row `Option` and no per-row builder.
//!
//! It only takes files the general reader ([`super::read_table`], then
//! `curves::CurvesTable::from_table`) would read without a message: a tidy Parquet table, no
//! renames, no metadata flags or sidecar, numeric columns without an empty cell. Anything else
//! (and every value the general reader would refuse, checked by the caller) answers `None`
//! before anything is produced, and the caller reads the file the general way, so every error
//! message, row number and warning stays the general reader's.

use std::path::Path;

use polars::prelude::*;
use polars_buffer::Buffer;

use super::panic_guard::guarded;
use super::{ColumnMap, LogOptions, parquet_reader, plan_columns};
use crate::schema::{ColumnKind, ColumnSpec, Method};

/// The columns of a plain Curves table, one value per row, no cell missing.
#[derive(Debug, Clone)]
pub struct CurveColumns {
    pub method: Vec<Method>,
    pub rm_params: Values,
    pub kl: Values,
    pub gold: Values,
    pub proxy: Option<Values>,
    pub gold_se: Option<Values>,
    pub proxy_se: Option<Values>,
    pub policy_params: Option<Values>,
    pub rm_data: Option<Values>,
    pub kl_penalty: Option<Values>,
    pub entropy: Option<Values>,
}

/// The values of one numeric column in the chunks they were decoded in (one per Parquet row
/// group), not copied into one array: at this size, the fresh memory of a copy (its page
/// faults) costs more than the copy.
#[derive(Debug, Clone)]
pub struct Values {
    chunks: Vec<Buffer<f64>>,
    /// Row number of each chunk's first value, and the number of rows last.
    starts: Vec<usize>,
}

impl Values {
    /// The column made of these chunks, in row order.
    pub fn from_chunks(chunks: Vec<Buffer<f64>>) -> Values {
        let mut starts = Vec::with_capacity(chunks.len() + 1);
        let mut n = 0;
        starts.push(0);
        for c in &chunks {
            n += c.len();
            starts.push(n);
        }
        Values { chunks, starts }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value, in row order.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().copied())
    }

    /// Whether every value satisfies `ok` (checked in parallel).
    pub fn all(&self, ok: impl Fn(f64) -> bool + Sync) -> bool {
        use rayon::prelude::*;
        self.chunks
            .par_iter()
            .all(|c| c.par_chunks(1 << 16).all(|p| p.iter().all(|&x| ok(x))))
    }

    /// The values of rows `start..end` (`end` at most [`Values::len`]), in row order, without a
    /// copy.
    pub fn iter_range(&self, start: usize, end: usize) -> impl Iterator<Item = f64> + '_ {
        let first = self
            .starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        self.chunks[first.min(self.chunks.len())..]
            .iter()
            .zip(&self.starts[first.min(self.chunks.len())..])
            .take_while(move |&(_, &s)| s < end)
            .flat_map(move |(c, &s)| {
                let from = start.max(s) - s;
                let to = end.min(s + c.len()) - s;
                c[from..to.max(from)].iter().copied()
            })
    }

    /// The values of rows `start..end` (`end` at most [`Values::len`]).
    pub fn range(&self, start: usize, end: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(end.saturating_sub(start));
        let mut k = self
            .starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        let mut at = start;
        while at < end && k < self.chunks.len() {
            let first = self.starts[k];
            let chunk = &self.chunks[k];
            let stop = end.min(first + chunk.len());
            out.extend_from_slice(&chunk[at - first..stop - first]);
            at = stop;
            k += 1;
        }
        out
    }
}

impl From<Vec<f64>> for Values {
    fn from(v: Vec<f64>) -> Values {
        Values::from_chunks(vec![Buffer::from(v)])
    }
}

/// The numeric columns the fast path reads; a file with another column of the Curves schema
/// (`run`, `step`, `n`, `replicate`, the prompt lists) goes the general way.
const NUMERIC: [&str; 10] = [
    "rm_params",
    "kl",
    "gold",
    "proxy",
    "gold_se",
    "proxy_se",
    "policy_params",
    "rm_data",
    "kl_penalty",
    "entropy",
];

/// Whether `path` may take the fast path with these options: one tidy Parquet or CSV table
/// read as it is (no `--map`, no metadata or log key flags, no sidecar, no manifest, no gold join).
pub fn eligible(paths: &[std::path::PathBuf], map: &ColumnMap, opts: &LogOptions) -> bool {
    let [path] = paths else {
        return false;
    };
    // A trainer log's key flags on a tidy table are refused by the general reader.
    let k = &opts.keys;
    let no_keys = k.kl.is_none()
        && k.proxy.is_none()
        && k.gold.is_none()
        && k.step.is_none()
        && k.length.is_none();
    map.is_empty()
        && no_keys
        && !opts.from_manifest
        && opts.join_tolerance == 0.0
        && opts.runs.is_none()
        && opts.gold_from.is_none()
        && opts.meta_file.is_none()
        && opts.meta == super::RunMeta::default()
        && matches!(opts.format, None | Some(super::LogFormat::Tidy))
        && matches!(
            super::Format::from_path(path),
            Ok(super::Format::Parquet | super::Format::Csv)
        )
        && super::adapters::meta::sidecar_path(path, opts).is_none()
        && super::adapters::resolve_format(path, opts)
            .is_ok_and(|d| d.format == super::LogFormat::Tidy)
}

/// Reads the columns of a plain Curves table (Parquet or CSV, by extension); `None` when the
/// file is anything else (the caller then reads it the general way, which reports what is
/// wrong).
pub fn read(path: &Path) -> Option<CurveColumns> {
    match super::Format::from_path(path).ok()? {
        super::Format::Parquet => read_parquet(path),
        super::Format::Csv => read_csv(path),
        super::Format::Ndjson => None,
    }
}

/// The header as the general reader plans it for `method` (no column twice, `method` there)
/// and the columns to read: `method`'s index, then the numeric columns' names and indices.
/// `None` when the header has a column of the Curves schema the fast path does not read.
pub(crate) fn plan(path: &Path, header: &[String]) -> Option<(usize, Vec<(&'static str, usize)>)> {
    let method_spec = [ColumnSpec {
        name: "method",
        kind: ColumnKind::Label,
        required: true,
    }];
    let plan = plan_columns(path, header, &method_spec, &ColumnMap::default()).ok()?;
    let method = plan.taken.first()?.0;
    for name in header {
        let known = name == "method" || NUMERIC.contains(&name.as_str());
        let other_curves_column = crate::schema::CURVES.iter().any(|s| s.name == name);
        if !known && other_curves_column {
            return None;
        }
    }
    let numeric = NUMERIC
        .iter()
        .filter_map(|&c| header.iter().position(|h| h == c).map(|i| (c, i)))
        .collect();
    Some((method, numeric))
}

/// The CSV fast path: the rows parsed in parallel byte ranges (as the general reader's
/// `csv_reader::read_parallel` cuts them), each range's numbers kept as one chunk. `None` for
/// anything the general reader might read otherwise or refuse: a quote character, a row of
/// another length, an empty or unparsable cell, a method that is not `bon` or `rl`.
fn read_csv(path: &Path) -> Option<CurveColumns> {
    // One byte range's rows: the methods, and the numeric columns in `numeric`'s order.
    type Part = (Vec<Method>, Vec<Vec<f64>>);
    use rayon::prelude::*;
    let delimiter = super::csv_reader::sniff_delimiter(path).ok()?;
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let raw_header = reader.byte_headers().ok()?.clone();
    if raw_header
        .iter()
        .any(|h| h.contains(&b'"') || h.contains(&0))
    {
        return None;
    }
    let header: Vec<String> = raw_header
        .iter()
        .map(|h| {
            std::str::from_utf8(h).map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        })
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let (method_at, numeric) = plan(path, &header)?;
    let start = reader.position().byte();
    drop(reader);
    if start >= len {
        return None;
    }
    // Cut points: the first byte after a newline at or after each even share of the body.
    let threads = if len < (8 << 20) {
        1
    } else {
        rayon::current_num_threads().clamp(1, 16) as u64
    };
    let cuts = crate::ingest::csv_reader::line_cuts(path, start, len, threads)?;
    let width = header.len();
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: the map is only read, and dropped before this function returns (as the Parquet
    // reader maps its files; a file truncated by another process meanwhile would fault).
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    let parts: Vec<Option<Part>> = cuts
        .par_windows(2)
        .map(|w| {
            let body = map.get(w[0] as usize..w[1] as usize)?;
            // About 8 bytes a cell: enough for most files without a reallocation, without reserving
            // the many times more a file of short cells would need.
            let rows_guess = body.len() / (8 * width).max(1) + 16;
            let mut method = Vec::with_capacity(rows_guess);
            let mut columns: Vec<Vec<f64>> = numeric
                .iter()
                .map(|_| Vec::with_capacity(rows_guess))
                .collect();
            let mut last: Option<(&[u8], Method)> = None;
            // each numeric column's last cell and its number: a curve's rows repeat their
            // key cells (rm_params, ...), read once per run of equal cells
            let mut last_cells: Vec<(&[u8], f64)> =
                numeric.iter().map(|_| (&[][..], 0.0)).collect();
            let mut fields: Vec<&[u8]> = Vec::with_capacity(width);
            for_each_record(body, delimiter, &mut fields, |record| {
                if record.len() != width {
                    return None;
                }
                let label = record[method_at];
                let m = match last {
                    Some((t, m)) if t == label => m,
                    _ => {
                        let m = Method::parse(std::str::from_utf8(label).ok()?)?;
                        last = Some((label, m));
                        m
                    }
                };
                method.push(m);
                for ((v, &(_, at)), (cell, x)) in
                    columns.iter_mut().zip(&numeric).zip(&mut last_cells)
                {
                    let text = record[at];
                    if text.is_empty() || text != *cell {
                        *x = parse_number(text)?;
                        *cell = text;
                    }
                    v.push(*x);
                }
                Some(())
            })?;
            Some((method, columns))
        })
        .collect();
    let mut method = Vec::new();
    let mut chunks: Vec<Vec<Buffer<f64>>> = numeric.iter().map(|_| Vec::new()).collect();
    for part in parts {
        let (m, columns) = part?;
        if method.is_empty() {
            method = m;
        } else {
            method.extend_from_slice(&m);
        }
        for (c, v) in chunks.iter_mut().zip(columns) {
            c.push(Buffer::from(v));
        }
    }
    if method.is_empty() {
        return None;
    }
    let mut columns: Vec<(&str, Values)> = numeric
        .iter()
        .zip(chunks)
        .map(|(&(name, _), c)| (name, Values::from_chunks(c)))
        .collect();
    let mut take = |name: &str| {
        columns
            .iter()
            .position(|(n, _)| *n == name)
            .map(|i| columns.swap_remove(i).1)
    };
    Some(CurveColumns {
        method,
        rm_params: take("rm_params")?,
        kl: take("kl")?,
        gold: take("gold")?,
        proxy: take("proxy"),
        gold_se: take("gold_se"),
        proxy_se: take("proxy_se"),
        policy_params: take("policy_params"),
        rm_data: take("rm_data"),
        kl_penalty: take("kl_penalty"),
        entropy: take("entropy"),
    })
}

/// Calls `row` with the fields of each record of `body` (whole lines of a CSV file without a
/// header), as the `csv` crate splits them for a body without quotes: records end at `\n` or
/// `\r\n`, empty lines are skipped, and fields are the bytes between delimiters, untrimmed.
/// `None` (read the file the general way) for a body with a quote character or a `\r`
/// elsewhere than before a `\n` or at the end (the `csv` crate would read both otherwise), or
/// when `row` gives `None`. `fields` is a reused buffer.
fn for_each_record<'a>(
    body: &'a [u8],
    delimiter: u8,
    fields: &mut Vec<&'a [u8]>,
    mut row: impl FnMut(&[&'a [u8]]) -> Option<()>,
) -> Option<()> {
    if memchr::memchr(b'"', body).is_some() {
        return None;
    }
    // a body without `\r` (the usual case) needs no check of its lines' ends
    let crlf = memchr::memchr(b'\r', body).is_some();
    let mut record = |fields: &mut Vec<&'a [u8]>| {
        if crlf {
            let last = fields.last_mut()?;
            *last = last.strip_suffix(b"\r").unwrap_or(last);
            if fields.iter().any(|f| f.contains(&b'\r')) {
                return None;
            }
        }
        let empty = fields.len() == 1 && fields[0].is_empty();
        let done = if empty { Some(()) } else { row(fields) };
        fields.clear();
        done
    };
    // one pass over the delimiters and newlines: each ends a field, a newline its record too
    fields.clear();
    let mut start = 0;
    for at in memchr::memchr2_iter(delimiter, b'\n', body) {
        fields.push(&body[start..at]);
        start = at + 1;
        if body[at] == b'\n' {
            record(fields)?;
        }
    }
    // a last record without its newline (its fields so far, or bytes after the last newline)
    if !fields.is_empty() || start < body.len() {
        fields.push(&body[start..]);
        record(fields)?;
    }
    Some(())
}

/// A CSV cell's number: the value `str::parse::<f64>` gives for the cell trimmed, read from its
/// bytes by fast-float2 (correctly rounded, like `str::parse`); `None` for a cell it does not
/// read, or that `str::parse` might read otherwise (non-ASCII bytes, surrounding non-ASCII
/// space): the caller then reads the file the general way.
fn parse_number(cell: &[u8]) -> Option<f64> {
    let text = cell.trim_ascii();
    if !text.is_ascii() {
        return None;
    }
    fast_float2::parse(text).ok()
}

/// The Parquet fast path: every column decoded once by polars, the numbers kept in polars'
/// chunks (one per row group).
fn read_parquet(path: &Path) -> Option<CurveColumns> {
    // The checks of the general Parquet reader on the file's footer and pages, before polars
    // decodes them (a corrupt file must not abort the process), then the header as the general
    // reader plans it for `method`.
    let schema = parquet_reader::checked_schema(path).ok()?;
    let header: Vec<String> = schema.iter().map(|(n, _)| n.clone()).collect();
    let (method_at, numeric) = plan(path, &header)?;
    let method_column = header[method_at].clone();
    let mut wanted: Vec<String> = vec![method_column.clone()];
    wanted.extend(numeric.iter().map(|(c, _)| c.to_string()));
    // Every column in one read: polars decodes them in parallel.
    let df = guarded(|| {
        std::fs::File::open(path).ok().and_then(|f| {
            ParquetReader::new(f)
                .with_columns(Some(wanted))
                .finish()
                .ok()
        })
    })
    .ok()??;
    let n_rows = df.height();
    if n_rows == 0 {
        return None;
    }
    let method = {
        let series = df.column(&method_column).ok()?.as_materialized_series();
        if !series.dtype().is_string() || series.null_count() != 0 || series.len() != n_rows {
            return None;
        }
        let ca = series.str().ok()?;
        let mut out = Vec::with_capacity(n_rows);
        // Labels repeat row after row: parse a label once per run of it.
        let mut last: Option<(&str, Method)> = None;
        for text in ca.downcast_iter().flat_map(|a| a.values_iter()) {
            let m = match last {
                Some((t, m)) if t == text => m,
                _ => {
                    let m = Method::parse(text)?;
                    last = Some((text, m));
                    m
                }
            };
            out.push(m);
        }
        out
    };
    let column = |name: &str| -> Option<Option<Values>> {
        let Ok(c) = df.column(name) else {
            return Some(None);
        };
        let series = c.as_materialized_series();
        let dtype = series.dtype();
        if !dtype.is_primitive_numeric() || series.null_count() != 0 || series.len() != n_rows {
            return None;
        }
        let cast = series.cast(&DataType::Float64).ok()?;
        let ca = cast.f64().ok()?;
        let chunks: Vec<Buffer<f64>> = ca.downcast_iter().map(|a| a.values().clone()).collect();
        let v = Values::from_chunks(chunks);
        (v.len() == n_rows).then_some(Some(v))
    };
    Some(CurveColumns {
        method,
        rm_params: column("rm_params")??,
        kl: column("kl")??,
        gold: column("gold")??,
        proxy: column("proxy")?,
        gold_se: column("gold_se")?,
        proxy_se: column("proxy_se")?,
        policy_params: column("policy_params")?,
        rm_data: column("rm_data")?,
        kl_penalty: column("kl_penalty")?,
        entropy: column("entropy")?,
    })
}

#[cfg(test)]
mod tests {
    use super::{for_each_record, parse_number};
    use rand::{Rng, SeedableRng};

    /// The records `for_each_record` gives are those the `csv` crate reads (the general
    /// reader's splitting), on random bodies of cells, delimiters, `\n`, `\r\n`, lone `\r`,
    /// empty lines and quotes; and it declines (`None`) only a body with a quote or a `\r`
    /// before a byte other than `\n` (a `\r` at the end ends the last record for both).
    #[test]
    fn records_split_by_delimiters_and_newlines_are_the_csv_crates() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let pieces: [&[u8]; 10] = [
            b"1", b"-0.25", b"bon", b" x ", b"", b"\n", b"\r\n", b"\r", b"\"", b"e",
        ];
        let mut declined = 0;
        for case in 0..3000 {
            let delimiter = [b',', b';', b'\t', b'|'][case % 4];
            let mut body = Vec::new();
            for _ in 0..rng.random_range(0..40) {
                // mostly cells and delimiters; sometimes line ends, rarely a quote or lone \r
                match rng.random_range(0..20) {
                    0..=7 => body.extend_from_slice(pieces[rng.random_range(0..5)]),
                    8..=13 => body.push(delimiter),
                    14..=16 => body.extend_from_slice(pieces[5]),
                    17 => body.extend_from_slice(pieces[6]),
                    18 => body.extend_from_slice(pieces[rng.random_range(7..10)]),
                    _ => body.extend_from_slice(b"\n\n"),
                }
            }
            let mut got: Vec<Vec<Vec<u8>>> = Vec::new();
            let mut fields = Vec::new();
            let split = for_each_record(&body, delimiter, &mut fields, |r| {
                got.push(r.iter().map(|f| f.to_vec()).collect());
                Some(())
            });
            let quote = body.contains(&b'"');
            let lone_cr = body
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\r' && body.get(i + 1).is_some_and(|&c| c != b'\n'));
            if split.is_none() {
                assert!(
                    quote || lone_cr,
                    "declined {:?}",
                    String::from_utf8_lossy(&body)
                );
                declined += 1;
                continue;
            }
            assert!(!quote && !lone_cr, "{:?}", String::from_utf8_lossy(&body));
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(&body[..]);
            let expected: Vec<Vec<Vec<u8>>> = reader
                .byte_records()
                .map(|r| r.unwrap().iter().map(|f| f.to_vec()).collect())
                .collect();
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(&body));
        }
        assert!(
            declined > 100 && declined < 2900,
            "{declined} of 3000 declined"
        );
    }

    /// Whenever the fast path reads a cell, it reads the number `str::parse` reads from the
    /// trimmed cell, bit for bit (a cell it does not read goes to the general reader, which
    /// uses `str::parse`).
    fn agrees(cell: &str) {
        let fast = parse_number(cell.as_bytes());
        let slow = cell.trim().parse::<f64>().ok();
        if let Some(x) = fast {
            let y = slow.unwrap_or_else(|| panic!("fast path read {cell:?}, str::parse does not"));
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{cell:?}: {x:e} against {y:e}"
            );
        }
    }

    #[test]
    fn the_csv_number_reader_reads_what_str_parse_reads() {
        for cell in [
            "",
            " ",
            "+",
            "-",
            ".",
            "e",
            "1",
            "-0",
            "+1",
            "1.",
            ".5",
            "-.5",
            "1e",
            "1e+",
            "1e-",
            "e5",
            "1e5",
            "1E5",
            "1e+05",
            "1.5e-7",
            "inf",
            "-inf",
            "+inf",
            "Infinity",
            "infinity",
            "INF",
            "nan",
            "NaN",
            "-nan",
            "1_0",
            "0x10",
            "1,5",
            "1 5",
            " 12 ",
            "\t3\t",
            "١",
            "\u{a0}1",
            "1\u{a0}",
            "1e400",
            "-1e400",
            "1e-400",
            "4.9e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "0.1000000000000000055511151231257827021181583404541015625",
            "123456789012345678901234567890",
            "00001.5000",
            "9007199254740993",
            "1e-7",
            "5e-324",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
        ] {
            agrees(cell);
        }
        // Random doubles written the ways tables write them; each is read, and read exactly.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200_000 {
            let x = f64::from_bits(rng.random::<u64>());
            if !x.is_finite() {
                continue;
            }
            let scaled = x.abs().log10().clamp(-30.0, 30.0);
            let y: f64 = rng.random_range(-1.0..1.0) * 10f64.powf(scaled.round());
            for cell in [
                format!("{x}"),
                format!("{x:e}"),
                format!("{y:.6}"),
                format!("{y:.17e}"),
                format!("{y}"),
            ] {
                agrees(&cell);
                assert!(parse_number(cell.as_bytes()).is_some(), "{cell}");
            }
        }
    }
}
