//! The fast path of [`super::read_samples`] for Samples tables in Parquet: the columns are
//! decoded one at a time by polars and poured straight into the pools, without the general
//! reader's per-row values (`Option<f64>`, label codes) and without a copy of the file.
//!
//! The rows are assigned to pools from the prompt (and key) columns first: as runs of rows of
//! one pool, so that rows already grouped by prompt cost one step per prompt, or, once the runs
//! are short (shuffled rows), as one pool number per row, found through a dense table of
//! integer prompts (a counting grouping) or a hash of text prompts. Then the proxy column is
//! scattered into the pools and dropped, then the gold column; peak memory is the pools plus
//! one decoded column.
//!
//! Anything unusual (missing cells, a score that is not finite, a key value that is not a
//! number > 0, a metadata flag that must be checked against a column, a prompt that is neither
//! an integer nor plain text) makes it give up before anything is added to the pools: the
//! general reader then reads the file and reports the problem with its usual message.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::error::Result;
use crate::ingest::{ColumnMap, Format, RunMeta, all_finite, parquet_reader, plan_columns};
use crate::schema::{CurveKey, Method, SAMPLES};

/// Rows are kept as runs until the runs average fewer rows than this; then one pool number per
/// row takes less memory.
const MIN_MEAN_RUN: usize = 3;

/// Integer prompts in 0..this are looked up in a dense table (a counting grouping).
const DENSE_PROMPTS: i64 = 1 << 22;

/// Which pool each row belongs to.
enum Assignment {
    /// (pool, rows) runs in row order.
    Runs(Vec<(u32, u32)>),
    /// One pool per row.
    Rows(Vec<u32>),
}

impl Assignment {
    fn push(&mut self, pool: u32, n_rows: usize) {
        match self {
            Assignment::Runs(runs) => {
                match runs.last_mut() {
                    Some((p, len)) if *p == pool && *len < u32::MAX => *len += 1,
                    _ => runs.push((pool, 1)),
                }
                if runs.len() > 1024 && runs.len() * MIN_MEAN_RUN > n_rows {
                    let mut rows = Vec::with_capacity(n_rows);
                    for &(p, len) in runs.iter() {
                        rows.extend(std::iter::repeat_n(p, len as usize));
                    }
                    *self = Assignment::Rows(rows);
                }
            }
            Assignment::Rows(rows) => rows.push(pool),
        }
    }

    /// Calls `f(pool, values)` for each stretch of consecutive rows of one pool, in row order,
    /// over a column given as chunks.
    fn for_each_run(&self, chunks: &[&[f64]], mut f: impl FnMut(usize, &[f64])) {
        match self {
            Assignment::Runs(runs) => {
                let mut chunk = 0;
                let mut at = 0;
                for &(p, len) in runs {
                    let mut left = len as usize;
                    while left > 0 {
                        while at == chunks[chunk].len() {
                            chunk += 1;
                            at = 0;
                        }
                        let take = left.min(chunks[chunk].len() - at);
                        f(p as usize, &chunks[chunk][at..at + take]);
                        at += take;
                        left -= take;
                    }
                }
            }
            Assignment::Rows(rows) => {
                let mut row = 0;
                for c in chunks {
                    for (x, &p) in c.iter().zip(&rows[row..]) {
                        f(p as usize, std::slice::from_ref(x));
                    }
                    row += c.len();
                }
            }
        }
    }

    fn counts(&self, pools: usize) -> Vec<usize> {
        let mut counts = vec![0usize; pools];
        match self {
            Assignment::Runs(runs) => runs
                .iter()
                .for_each(|&(p, l)| counts[p as usize] += l as usize),
            Assignment::Rows(rows) => rows.iter().for_each(|&p| counts[p as usize] += 1),
        }
        counts
    }
}

/// A numeric column as f64 chunks (`None` when it has missing cells or is not numeric).
fn f64_column(s: &Series) -> Option<Float64Chunked> {
    if s.null_count() > 0 || !s.dtype().is_primitive_numeric() {
        return None;
    }
    s.cast(&DataType::Float64).ok()?.f64().ok().cloned()
}

fn chunks(ca: &Float64Chunked) -> Vec<&[f64]> {
    ca.downcast_iter().map(|a| a.values().as_slice()).collect()
}

/// The rows where a key column changes value, with the new value (row 0 first). `None` when a
/// value is not a finite number > 0.
fn changes(ca: &Float64Chunked) -> Option<Vec<(usize, f64)>> {
    let mut out: Vec<(usize, f64)> = Vec::new();
    let mut row = 0;
    for c in chunks(ca) {
        for &x in c {
            if !(x.is_finite() && x > 0.0) {
                return None;
            }
            if out.last().is_none_or(|&(_, v)| v.to_bits() != x.to_bits()) {
                out.push((row, x));
            }
            row += 1;
        }
    }
    Some(out)
}

/// Numbers (key index, integer prompt) pairs in the order they are first seen: through a
/// dense table per key for prompts in `0..limit` (a counting grouping), a hash map for the
/// others.
pub(super) struct IntegerPools {
    limit: i64,
    /// per key: the number of each prompt in `0..limit` (u32::MAX: not seen)
    dense: Vec<Vec<u32>>,
    others: HashMap<(usize, i64), u32>,
    seen: u32,
}

impl IntegerPools {
    pub(super) fn new(limit: i64) -> IntegerPools {
        IntegerPools {
            limit,
            dense: Vec::new(),
            others: HashMap::new(),
            seen: 0,
        }
    }

    /// The length of the longest dense table.
    #[cfg(test)]
    pub(super) fn table_len(&self) -> usize {
        self.dense.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// The number of (key, prompt `v`), and whether it is new (numbers count up from 0).
    pub(super) fn number(&mut self, key: usize, v: i64) -> (u32, bool) {
        let next = self.seen;
        let slot = if (0..self.limit).contains(&v) {
            if self.dense.len() <= key {
                self.dense.resize(key + 1, Vec::new());
            }
            let table = &mut self.dense[key];
            let i = v as usize;
            if table.len() <= i {
                let len = (i + 1).max(2 * table.len());
                table.resize(len.min(self.limit as usize), u32::MAX);
            }
            &mut table[i]
        } else {
            self.others.entry((key, v)).or_insert(u32::MAX)
        };
        if *slot == u32::MAX {
            *slot = next;
            self.seen += 1;
            return (next, true);
        }
        (*slot, false)
    }
}

/// How the pools of one file's rows are found from their prompt.
struct Prompts<'a> {
    integers: IntegerPools,
    texts: HashMap<(usize, &'a str), u32>,
    /// the file's pools: (key index, prompt)
    pools: Vec<(usize, String)>,
}

impl<'a> Prompts<'a> {
    fn new_pool(&mut self, key: usize, prompt: String) -> u32 {
        self.pools.push((key, prompt));
        (self.pools.len() - 1) as u32
    }

    /// (Integer and text prompts are never mixed in one file: both number the same pools.)
    fn integer(&mut self, key: usize, v: i64) -> u32 {
        let (p, new) = self.integers.number(key, v);
        if new {
            let q = self.new_pool(key, v.to_string());
            debug_assert_eq!(p, q);
        }
        p
    }

    fn text(&mut self, key: usize, s: &'a str) -> u32 {
        match self.texts.get(&(key, s)) {
            Some(&p) => p,
            None => {
                let p = self.new_pool(key, s.to_string());
                self.texts.insert((key, s), p);
                p
            }
        }
    }
}

/// The key of a best-of-n curve.
pub(super) fn curve_key(
    rm_params: f64,
    policy_params: Option<f64>,
    rm_data: Option<f64>,
) -> CurveKey {
    CurveKey {
        method: Method::Bon,
        rm_params,
        policy_params,
        rm_data,
        kl_penalty: None,
    }
}

/// The pools read from a file: (key, prompt, (proxy, gold) samples in row order), for
/// `samples::PoolBuilder` to add.
pub(super) type PoolsRead = Vec<(CurveKey, String, Vec<(f64, f64)>)>;

/// What the fast path needs of a file: the source names of its columns, its keys, and the key
/// of each run of rows.
pub(super) struct FilePlan {
    pub(super) prompt_col: String,
    pub(super) proxy_col: String,
    pub(super) gold_col: String,
    pub(super) keys: Vec<CurveKey>,
    /// (first row, index into `keys`), in row order
    pub(super) key_runs: Vec<(usize, usize)>,
    /// known when a key column was read
    pub(super) n_rows: Option<usize>,
    /// whether the file's page headers were checked ([`parquet_reader::check_file_pages`]), as
    /// they must be before polars reads it
    pub(super) pages_checked: bool,
}

/// The plan of a Parquet Samples table the fast path takes (`None`: the general reader's).
pub(super) fn plan_file(path: &Path, map: &ColumnMap, meta: &RunMeta) -> Option<FilePlan> {
    let plan = plan_file_unchecked(path, map, meta)?;
    if !plan.pages_checked {
        parquet_reader::check_file_pages(path).ok()?;
    }
    Some(FilePlan {
        pages_checked: true,
        ..plan
    })
}

/// [`plan_file`] without the walk over the file's page headers unless a key column had to be
/// read through polars (`pages_checked` says whether it was done): for a reader that decodes
/// the pages itself and checks the file before it falls back on polars.
pub(super) fn plan_file_unchecked(
    path: &Path,
    map: &ColumnMap,
    meta: &RunMeta,
) -> Option<FilePlan> {
    if !matches!(Format::from_path(path), Ok(Format::Parquet)) {
        return None;
    }
    if std::fs::metadata(path).map_or(true, |m| m.is_dir() || m.len() == 0) {
        return None;
    }
    let Ok(schema) = parquet_reader::footer_schema(path) else {
        return None;
    };
    let mut pages_checked = false;
    let header: Vec<String> = schema.iter().map(|(n, _)| n.clone()).collect();
    let Ok(plan) = plan_columns(path, &header, SAMPLES, map) else {
        return None;
    };
    let source = |canonical: &str| {
        plan.mapping
            .iter()
            .find(|m| m.canonical == canonical)
            .map(|m| m.source.clone())
    };
    let dtype = |name: &str| schema.iter().find(|(n, _)| n == name).map(|(_, d)| d);
    let (Some(prompt_col), Some(proxy_col), Some(gold_col)) =
        (source("prompt"), source("proxy"), source("gold"))
    else {
        return None;
    };
    let prompt_type = dtype(&prompt_col);
    if !prompt_type.is_some_and(|d| d.is_integer() || d.is_string())
        || ![&proxy_col, &gold_col]
            .iter()
            .all(|c| dtype(c).is_some_and(|d| d.is_primitive_numeric()))
    {
        return None;
    }
    // The key of each run of rows: from columns (never also given by a flag, which the general
    // reader checks row by row), or from the flags.
    let mut key_changes: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut constant: [Option<f64>; 3] = [meta.rm_params, meta.policy_params, meta.rm_data];
    let mut n_rows: Option<usize> = None;
    let mut has_column = [false; 3];
    for (slot, name) in ["rm_params", "policy_params", "rm_data"].iter().enumerate() {
        let Some(col) = source(name) else {
            key_changes.push(Vec::new());
            continue;
        };
        if constant[slot].is_some() {
            return None;
        }
        // polars reads only a file whose pages were checked
        if !pages_checked {
            parquet_reader::check_file_pages(path).ok()?;
            pages_checked = true;
        }
        let Ok(series) = parquet_reader::read_column(path, &col, None) else {
            return None;
        };
        let ca = f64_column(&series)?;
        if *n_rows.get_or_insert(ca.len()) != ca.len() {
            return None;
        }
        let ch = changes(&ca)?;
        key_changes.push(ch);
        has_column[slot] = true;
        constant[slot] = None;
    }
    if !has_column[0] && constant[0].is_none() {
        return None;
    }
    // Key runs: (first row, key), merged from the columns' change points.
    let mut starts: Vec<usize> = key_changes.iter().flatten().map(|&(r, _)| r).collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    let mut keys: Vec<CurveKey> = Vec::new();
    let mut key_runs: Vec<(usize, usize)> = Vec::with_capacity(starts.len());
    let mut cursor = [0usize; 3];
    for &row in &starts {
        let mut value = constant;
        for slot in 0..3 {
            let ch = &key_changes[slot];
            if ch.is_empty() {
                continue;
            }
            while cursor[slot] + 1 < ch.len() && ch[cursor[slot] + 1].0 <= row {
                cursor[slot] += 1;
            }
            value[slot] = Some(ch[cursor[slot]].1);
        }
        let rm = value[0]?;
        let key = curve_key(rm, value[1], value[2]);
        let k = match keys.iter().position(|x| *x == key) {
            Some(k) => k,
            None => {
                keys.push(key);
                keys.len() - 1
            }
        };
        key_runs.push((row, k));
    }
    Some(FilePlan {
        prompt_col,
        proxy_col,
        gold_col,
        keys,
        key_runs,
        n_rows,
        pages_checked,
    })
}

/// The pools of a Parquet Samples table, or `None` when the file needs the general reader.
pub(super) fn read_parquet_samples(
    path: &Path,
    map: &ColumnMap,
    meta: &RunMeta,
) -> Result<Option<PoolsRead>> {
    match plan_file(path, map, meta) {
        Some(plan) => read_rows(path, &plan, &plan.key_runs, None),
        None => Ok(None),
    }
}

/// A key's rows: (key, first row, rows).
pub(super) type KeyRange = (CurveKey, usize, usize);

/// The reward models (keys) of a Parquet Samples table whose rows hold one key after another,
/// each key's rows one contiguous range (offset, count), in key order; `None` when the rows of
/// the keys are interleaved, or the fast path does not take the file. With them the pools of
/// one reward model at a time can be read ([`read_key`]).
pub(super) fn key_ranges(
    path: &Path,
    map: &ColumnMap,
    meta: &RunMeta,
) -> Option<(FilePlan, Vec<KeyRange>)> {
    let plan = plan_file(path, map, meta)?;
    let n_rows = plan.n_rows?;
    if plan.key_runs.len() != plan.keys.len() {
        return None;
    }
    let mut ranges: Vec<KeyRange> = plan
        .key_runs
        .iter()
        .enumerate()
        .map(|(i, &(start, k))| {
            let end = plan.key_runs.get(i + 1).map_or(n_rows, |r| r.0);
            (plan.keys[k], start, end - start)
        })
        .collect();
    ranges.sort_by_key(|r| r.0);
    Some((plan, ranges))
}

/// The pools of the rows (offset, count) of a file planned by [`key_ranges`], all of one key;
/// `None` when the general reader must read the file.
pub(super) fn read_key(
    path: &Path,
    plan: &FilePlan,
    key: CurveKey,
    rows: (usize, usize),
) -> Result<Option<PoolsRead>> {
    let Some(k) = plan.keys.iter().position(|x| *x == key) else {
        return Ok(None);
    };
    read_rows(path, plan, &[(0, k)], Some(rows))
}

/// The pools of the rows of a planned file (all of them, or `slice` = (offset, count), whose key
/// runs, relative to the offset, are `key_runs`); `None` when the general reader must read the
/// file.
fn read_rows(
    path: &Path,
    plan: &FilePlan,
    key_runs: &[(usize, usize)],
    slice: Option<(usize, usize)>,
) -> Result<Option<PoolsRead>> {
    let FilePlan {
        prompt_col,
        proxy_col,
        gold_col,
        keys,
        ..
    } = plan;
    let n_rows = match slice {
        Some((_, count)) => Some(count),
        None => plan.n_rows,
    };
    // Pools of the rows, from the prompts.
    let Ok(prompt_series) = parquet_reader::read_column(path, prompt_col, slice) else {
        return Ok(None);
    };
    if prompt_series.null_count() > 0 {
        return Ok(None);
    }
    let rows = prompt_series.len();
    if rows == 0 || n_rows.is_some_and(|n| n != rows) || u32::try_from(rows).is_err() {
        return Ok(None);
    }
    let mut prompts = Prompts {
        integers: IntegerPools::new(DENSE_PROMPTS),
        texts: HashMap::new(),
        pools: Vec::new(),
    };
    let mut assignment = Assignment::Runs(Vec::new());
    let key_at = |run: usize| key_runs[run].1;
    let mut run = 0;
    let mut next_start = key_runs.get(1).map_or(usize::MAX, |r| r.0);
    let advance = |row: usize, run: &mut usize, next_start: &mut usize| {
        while row >= *next_start {
            *run += 1;
            *next_start = key_runs.get(*run + 1).map_or(usize::MAX, |r| r.0);
        }
    };
    if prompt_series.dtype().is_integer() {
        // strict: an unsigned id above i64::MAX is left to the general reader
        let Ok(cast) = prompt_series.strict_cast(&DataType::Int64) else {
            return Ok(None);
        };
        drop(prompt_series);
        let Ok(ca) = cast.i64() else {
            return Ok(None);
        };
        let mut last: Option<(usize, i64, u32)> = None;
        let mut row = 0;
        for c in ca.downcast_iter() {
            for &v in c.values().iter() {
                advance(row, &mut run, &mut next_start);
                let k = key_at(run);
                let pool = match last {
                    Some((lk, lv, p)) if lk == k && lv == v => p,
                    _ => prompts.integer(k, v),
                };
                last = Some((k, v, pool));
                assignment.push(pool, rows);
                row += 1;
            }
        }
    } else {
        let Ok(ca) = prompt_series.str() else {
            return Ok(None);
        };
        let mut last: Option<(usize, &str, u32)> = None;
        for (row, s) in ca.iter().enumerate() {
            let Some(s) = s else {
                return Ok(None);
            };
            advance(row, &mut run, &mut next_start);
            let k = key_at(run);
            let pool = match last {
                Some((lk, ls, p)) if lk == k && ls == s => p,
                _ => {
                    // the general reader trims labels and refuses empty ones
                    if s.is_empty() || s.trim().len() != s.len() {
                        return Ok(None);
                    }
                    prompts.text(k, s)
                }
            };
            last = Some((k, s, pool));
            assignment.push(pool, rows);
        }
    }
    let local: Vec<(usize, String)> = std::mem::take(&mut prompts.pools);
    drop(prompts);
    // Scores: proxy first, into pools of exactly their size, then gold beside it.
    let counts = assignment.counts(local.len());
    let mut pools: Vec<Vec<(f64, f64)>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    {
        let Ok(series) = parquet_reader::read_column(path, proxy_col, slice) else {
            return Ok(None);
        };
        let Some(ca) = f64_column(&series) else {
            return Ok(None);
        };
        drop(series);
        if ca.len() != rows {
            return Ok(None);
        }
        let mut finite = true;
        assignment.for_each_run(&chunks(&ca), |p, xs| {
            finite &= all_finite(xs);
            pools[p].extend(xs.iter().map(|&x| (x, 0.0)));
        });
        if !finite {
            return Ok(None);
        }
    }
    {
        let Ok(series) = parquet_reader::read_column(path, gold_col, slice) else {
            return Ok(None);
        };
        let Some(ca) = f64_column(&series) else {
            return Ok(None);
        };
        drop(series);
        if ca.len() != rows {
            return Ok(None);
        }
        let mut finite = true;
        let mut filled = vec![0usize; pools.len()];
        assignment.for_each_run(&chunks(&ca), |p, gs| {
            finite &= all_finite(gs);
            let at = filled[p];
            for (s, &g) in pools[p][at..at + gs.len()].iter_mut().zip(gs) {
                s.1 = g;
            }
            filled[p] = at + gs.len();
        });
        if !finite {
            return Ok(None);
        }
    }
    drop(assignment);
    Ok(Some(
        local
            .into_iter()
            .zip(pools)
            .map(|((k, prompt), scores)| (keys[k], prompt, scores))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::IntegerPools;

    /// Prompts beyond the dense table's limit are numbered through the hash map, the table
    /// never grows past the limit, and every (key, prompt) keeps its number (bug: each row
    /// group of the shuffled path had a table as large as its largest prompt below 2^20, so a
    /// file of many small row groups took gigabytes).
    #[test]
    fn prompts_beyond_the_limit_are_hashed_and_numbered_once() {
        let mut pools = IntegerPools::new(100);
        let prompts = [5, 1 << 19, 99, 100, -3, 5, 1 << 19, 7];
        let numbers: Vec<(u32, bool)> = prompts.iter().map(|&v| pools.number(0, v)).collect();
        assert_eq!(
            numbers,
            [
                (0, true),
                (1, true),
                (2, true),
                (3, true),
                (4, true),
                (0, false),
                (1, false),
                (5, true)
            ]
        );
        assert!(pools.dense.iter().all(|t| t.len() <= 100));
        // another key numbers the same prompt anew
        assert_eq!(pools.number(1, 5), (6, true));
        assert_eq!(pools.number(1, 5), (6, false));
    }
}
