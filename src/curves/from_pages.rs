//! The curves of a plain Parquet Curves table poured from the file's pages straight into each
//! curve's points (issue #16): no column array, no string view, no comparison of keys row by
//! row. Fresh memory costs a page fault and the kernel's zeroing per page, more than decoding
//! into it (in a virtual machine about 2 ms a megabyte, measured); here the only fresh memory
//! of any size is the curves' own points.
//!
//! It takes the Parquet files [`crate::ingest::fast_curves`] takes whose numeric columns are
//! DOUBLE and whose `method` column is a string column, each flat, PLAIN or dictionary encoded,
//! with no missing cell (the layouts [`crate::ingest::parquet_pages`] decodes), and gives the
//! curves [`super::fast_curves`] gives, in the same order. Anything else, and any value the
//! general reader refuses, answers `None` before a curve is made: the caller then reads the
//! file the other ways, which report what is wrong.

use std::path::Path;

use rayon::iter::Either;
use rayon::prelude::*;

use super::{Curve, RowPoints, curve_of_points};
use crate::ingest::parquet_pages::{
    ColumnPages, F64Bits, PageCodec, PageScratch, PlainValue, ValueSink,
};
use crate::schema::{CurveKey, Method};

/// The values a column of a plain Curves table takes, as the general reader checks them.
#[derive(Debug, Clone, Copy)]
enum Valid {
    Finite,
    Positive,
    NonNegative,
}

impl Valid {
    fn holds(self, x: f64) -> bool {
        match self {
            Valid::Finite => x.is_finite(),
            Valid::Positive => x.is_finite() && x > 0.0,
            Valid::NonNegative => x.is_finite() && x >= 0.0,
        }
    }

    /// Whether every value is valid (no early exit: the loop is vectorised).
    fn all(self, values: &[f64]) -> bool {
        match self {
            Valid::Finite => crate::ingest::all_finite(values),
            Valid::Positive => values
                .iter()
                .fold(true, |a, &x| a & (x.is_finite() & (x > 0.0))),
            Valid::NonNegative => values
                .iter()
                .fold(true, |a, &x| a & (x.is_finite() & (x >= 0.0))),
        }
    }
}

/// The page buffers and codec states of finished column chunks, for the next ones: a page is
/// decompressed whole (a megabyte here), through a codec state of about as much, and a new
/// pair for every column chunk would be fresh memory each time.
#[derive(Default)]
struct PageBuffers(std::sync::Mutex<Vec<PageCodec>>);

impl PageBuffers {
    fn scratch<T>(&self) -> PageScratch<T> {
        let codec = self.0.lock().ok().and_then(|mut b| b.pop());
        PageScratch::with_codec(codec.unwrap_or_default())
    }

    fn give<T>(&self, scratch: PageScratch<T>) {
        if let Ok(mut b) = self.0.lock() {
            b.push(scratch.into_codec());
        }
    }
}

/// Runs of column `name` in row group `group`, decoded with a page buffer of `buffers`.
fn runs_of<T: PlainValue>(
    file: &ColumnPages,
    buffers: &PageBuffers,
    name: &str,
    group: usize,
) -> Option<Vec<(T, usize)>> {
    let mut scratch = buffers.scratch();
    let runs = file.chunk_runs::<T>(name, group, &mut scratch);
    buffers.give(scratch);
    runs
}

/// The key columns besides `method`, in [`CurveKey`]'s order of fields.
const KEY_COLUMNS: [(&str, Valid); 4] = [
    ("rm_params", Valid::Positive),
    ("policy_params", Valid::Positive),
    ("rm_data", Valid::Positive),
    ("kl_penalty", Valid::NonNegative),
];

/// The columns of a point's values.
const POINT_COLUMNS: [(&str, Valid); 6] = [
    ("kl", Valid::NonNegative),
    ("gold", Valid::Finite),
    ("proxy", Valid::Finite),
    ("gold_se", Valid::Positive),
    ("proxy_se", Valid::Positive),
    ("entropy", Valid::Finite),
];

/// The curves of the plain Parquet Curves table `path`, sorted by key, each curve's points
/// sorted as the general reader sorts them; `None` for a file this reader does not take.
pub(super) fn read(path: &Path) -> Option<Vec<Curve>> {
    if !matches!(
        crate::ingest::Format::from_path(path),
        Ok(crate::ingest::Format::Parquet)
    ) {
        return None;
    }
    // The general reader's checks of the footer and of every page header, and the column types
    // as polars reads them (the file's Arrow schema first): a file either refuses goes to them.
    let schema = crate::ingest::parquet_reader::checked_schema(path).ok()?;
    let file = ColumnPages::open(path)?;
    let header = file.column_names();
    if header.len() != schema.len() || header.iter().zip(&schema).any(|(h, s)| *h != s.0) {
        return None;
    }
    let (method_at, numeric) = crate::ingest::fast_curves::plan(path, &header)?;
    let has = |name: &str| numeric.iter().any(|&(c, _)| c == name);
    if !(has("rm_params") && has("kl") && has("gold")) {
        return None;
    }
    // A `method` column of text (not categories) and numbers stored as doubles, as polars
    // reads them.
    let typed = schema.iter().all(|(name, dtype)| {
        if *name == header[method_at] {
            *dtype == polars::prelude::DataType::String
        } else if has(name) {
            *dtype == polars::prelude::DataType::Float64
        } else {
            true
        }
    });
    if !typed {
        return None;
    }
    let groups = file.row_groups();
    if groups.iter().sum::<usize>() == 0 {
        return None;
    }
    let keys: Vec<(&str, Valid)> = KEY_COLUMNS.into_iter().filter(|c| has(c.0)).collect();
    let buffers = PageBuffers::default();
    let segments = segments(&file, &buffers, &header[method_at], &keys, groups.len())?;

    let lengths: Vec<usize> = segments.iter().map(|s| s.1).collect();
    let point_columns: Vec<(&str, Valid)> =
        POINT_COLUMNS.into_iter().filter(|c| has(c.0)).collect();
    let poured = pour(&file, &buffers, &point_columns, &groups, &lengths)?;
    let mut columns: Vec<(&str, Vec<Vec<f64>>)> =
        point_columns.iter().map(|c| c.0).zip(poured).collect();

    let mut take = |name: &str| {
        let i = columns.iter().position(|c| c.0 == name)?;
        Some(columns.swap_remove(i).1)
    };
    let (kl, gold) = (take("kl")?, take("gold")?);
    // An optional column's points of each stretch; `None` for every stretch when the file has
    // no such column (no list of them).
    let n = segments.len();
    let mut optional = |name: &str| match take(name) {
        Some(column) => Either::Left(column.into_par_iter().map(Some)),
        None => Either::Right(rayon::iter::repeat_n(None, n)),
    };
    let (proxy, gold_se) = (optional("proxy"), optional("gold_se"));
    let (proxy_se, entropy) = (optional("proxy_se"), optional("entropy"));
    let mut curves: Vec<Curve> = (
        segments.into_par_iter(),
        kl.into_par_iter(),
        gold.into_par_iter(),
        proxy,
        gold_se,
        proxy_se,
        entropy,
    )
        .into_par_iter()
        .map(|((key, _), kl, gold, proxy, gold_se, proxy_se, entropy)| {
            let points = RowPoints {
                kl,
                gold,
                proxy,
                gold_se,
                proxy_se,
                entropy,
            };
            curve_of_points(key, points)
        })
        .collect();
    // In place (no buffer): the keys are unique.
    curves.sort_unstable_by_key(|c| c.key);
    Some(curves)
}

/// The file's rows cut where the key changes: (key, rows) for each stretch of rows with one
/// key, in row order; `None` when a key has two stretches (its rows are not together). The key
/// columns are read as runs of equal values (dictionary runs are never written out), each
/// column chunk in parallel; `None` when one is not read or holds a value the general reader
/// refuses.
fn segments(
    file: &ColumnPages,
    buffers: &PageBuffers,
    method: &str,
    keys: &[(&str, Valid)],
    n_groups: usize,
) -> Option<Vec<(CurveKey, usize)>> {
    let (methods, values) = rayon::join(
        || -> Option<Vec<Vec<(Method, usize)>>> {
            (0..n_groups)
                .into_par_iter()
                .map(|g| runs_of::<Method>(file, buffers, method, g))
                .collect()
        },
        || -> Option<Vec<Vec<(F64Bits, usize)>>> {
            (0..keys.len() * n_groups)
                .into_par_iter()
                .map(|k| {
                    let ((name, valid), g) = (keys[k / n_groups], k % n_groups);
                    let runs = runs_of::<F64Bits>(file, buffers, name, g)?;
                    let ok = runs.iter().all(|r| valid.holds(f64::from_bits(r.0.0)));
                    ok.then_some(runs)
                })
                .collect()
        },
    );
    let (methods, values) = (methods?, values?);
    // Each column's runs over the whole file, as (value, row after the run).
    fn ends<T: Copy>(runs: impl Iterator<Item = (T, usize)>) -> Vec<(T, usize)> {
        let mut end = 0;
        runs.map(|(v, len)| {
            end += len;
            (v, end)
        })
        .collect()
    }
    let method_ends = ends(methods.into_iter().flatten());
    let key_ends: Vec<Vec<(u64, usize)>> = values
        .chunks(n_groups.max(1))
        .map(|column| ends(column.iter().flatten().map(|&(v, len)| (v.0, len))))
        .collect();
    let rows = method_ends.last()?.1;
    if key_ends.iter().any(|c| c.last().map(|r| r.1) != Some(rows)) {
        return None;
    }
    let key_of = |method: Method, at: &[usize]| {
        let value = |name: &str| {
            keys.iter()
                .position(|k| k.0 == name)
                .map(|c| f64::from_bits(key_ends[c][at[c]].0))
        };
        CurveKey {
            method,
            rm_params: value("rm_params").unwrap_or(f64::NAN),
            policy_params: value("policy_params"),
            rm_data: value("rm_data"),
            kl_penalty: value("kl_penalty"),
        }
    };
    // A sweep over every column's runs at once: a stretch ends where any run ends.
    let mut out: Vec<(CurveKey, usize)> = Vec::new();
    let mut seen: std::collections::HashSet<CurveKey> = std::collections::HashSet::new();
    let (mut m, mut at) = (0usize, vec![0usize; key_ends.len()]);
    let mut start = 0;
    while start < rows {
        let end = key_ends
            .iter()
            .zip(&at)
            .map(|(c, &i)| c[i].1)
            .fold(method_ends[m].1, usize::min);
        let key = key_of(method_ends[m].0, &at);
        match out.last_mut() {
            Some((last, len)) if *last == key => *len += end - start,
            // A key in two stretches: the file does not give a curve's rows together (found at
            // the first repeat, before any point is read).
            _ if !seen.insert(key) => return None,
            _ => out.push((key, end - start)),
        }
        if method_ends[m].1 == end {
            m += 1;
        }
        for (c, i) in key_ends.iter().zip(at.iter_mut()) {
            if c[*i].1 == end {
                *i += 1;
            }
        }
        start = end;
    }
    Some(out)
}

/// The point columns poured into the curves' points: for each column, `lengths[s]` values, in
/// row order, for each stretch `s` of [`segments`]. Each column chunk (a column of a row group)
/// is decoded on its own, in parallel, and each page's values go straight from the
/// decompressed page into their stretches ([`Pour`]); `None` when a page is not read or holds a
/// value the general reader refuses.
fn pour(
    file: &ColumnPages,
    buffers: &PageBuffers,
    columns: &[(&str, Valid)],
    groups: &[usize],
    lengths: &[usize],
) -> Option<Vec<Vec<Vec<f64>>>> {
    if lengths.iter().sum::<usize>() != groups.iter().sum::<usize>() {
        return None;
    }
    let mut out: Vec<Vec<Vec<f64>>> = columns
        .iter()
        .map(|_| lengths.par_iter().map(|&n| vec![0.0; n]).collect())
        .collect();
    // Each column chunk's share of the stretches: the pieces of them its rows fill, in order.
    let mut chunks: Vec<(&str, Valid, usize, Vec<&mut [f64]>)> = Vec::new();
    for (&(name, valid), stretches) in columns.iter().zip(out.iter_mut()) {
        let mut pieces: Vec<Vec<&mut [f64]>> = groups.iter().map(|_| Vec::new()).collect();
        let (mut g, mut left) = (0, groups[0]);
        for stretch in stretches.iter_mut() {
            let mut rest: &mut [f64] = stretch;
            while !rest.is_empty() {
                while left == 0 {
                    g += 1;
                    left = *groups.get(g)?;
                }
                let n = left.min(rest.len());
                let (piece, tail) = std::mem::take(&mut rest).split_at_mut(n);
                left -= piece.len();
                pieces[g].push(piece);
                rest = tail;
            }
        }
        chunks.extend(
            pieces
                .into_iter()
                .enumerate()
                .map(|(g, pieces)| (name, valid, g, pieces)),
        );
    }
    let read = chunks.into_par_iter().all(|(name, valid, group, pieces)| {
        let mut sink = Pour {
            pieces,
            at: 0,
            filled: 0,
            page: 0,
            valid,
            ok: true,
        };
        let mut scratch = buffers.scratch::<f64>();
        file.populate(name, group);
        let decoded = (|| -> Option<()> {
            let mut pages = file.pages::<f64>(name, group, &mut scratch)?;
            while pages.next_page_to(&mut sink)? {}
            Some(())
        })();
        buffers.give(scratch);
        decoded.is_some() && sink.complete()
    });
    read.then_some(out)
}

/// A column chunk's values poured into the curves' points as its pages are decoded: each
/// piece of a stretch is filled in turn.
struct Pour<'a> {
    pieces: Vec<&'a mut [f64]>,
    /// the piece being filled, and how much of it is
    at: usize,
    filled: usize,
    /// values of the current page
    page: usize,
    valid: Valid,
    /// no value refused, no value past the last piece
    ok: bool,
}

impl Pour<'_> {
    fn put(&mut self, mut values: &[f64]) {
        self.page += values.len();
        self.ok &= self.valid.all(values);
        while !values.is_empty() {
            let Some(piece) = self.pieces.get_mut(self.at) else {
                self.ok = false;
                return;
            };
            let take = (piece.len() - self.filled).min(values.len());
            piece[self.filled..self.filled + take].copy_from_slice(&values[..take]);
            values = &values[take..];
            self.filled += take;
            if self.filled == piece.len() {
                self.at += 1;
                self.filled = 0;
            }
        }
    }

    /// Whether every piece was filled with valid values, and no more.
    fn complete(&self) -> bool {
        self.ok && self.at == self.pieces.len()
    }
}

impl ValueSink<f64> for Pour<'_> {
    fn clear(&mut self) {
        self.page = 0;
    }
    fn len(&self) -> usize {
        self.page
    }
    fn push(&mut self, v: f64) {
        self.put(&[v]);
    }
    fn repeat(&mut self, v: f64, len: usize) {
        for _ in 0..len {
            self.put(&[v]);
        }
    }
    fn plain(&mut self, bytes: &[u8], n: usize) -> Option<()> {
        let bytes = bytes.get(..n.checked_mul(8)?)?;
        // A block at a time through a small buffer on the stack.
        let mut block = [0.0f64; 512];
        for chunk in bytes.chunks(8 * block.len()) {
            let k = chunk.len() / 8;
            for (x, b) in block.iter_mut().zip(chunk.chunks_exact(8)) {
                *x = f64::from_le_bytes(b.try_into().unwrap_or_default());
            }
            self.put(&block[..k]);
        }
        Some(())
    }
}
