//! The fast way through `goodhart bon` for the common layout: one Parquet Samples table whose
//! rows are grouped by prompt (each prompt's samples one run of rows under its reward model).
//! The file is decoded a batch of row groups at a time, and each batch's complete pools are
//! sorted and estimated in parallel straight from the decoded columns; only their per-prompt
//! estimates are kept. Memory holds one batch of columns and the estimates, not the file's
//! samples, and no pool is built for the whole file (issue 16).
//!
//! The curves are bit for bit those of [`super::read_samples`] then [`super::bon_curves`]: the
//! same pools (key, prompt), each sorted by (proxy, gold) and estimated by the same code
//! ([`super::estimate`]), averaged over prompts in the same (key, prompt) order. Anything else (a
//! prompt whose rows come back after another prompt's, a pool of one sample, a missing or
//! non-finite cell, a file the column reader does not take) gives `None` before any curve is
//! made, and the general path reads the file and reports its problems with its usual messages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use super::columnar::{FilePlan, plan_file_unchecked};
use super::estimate::{BLOCK, BonOptions, PoolEstimate, WeightSet, estimate_block};
use super::fused::{PoolBlock, PoolWeights, Streamed, curves_of_pools, release, row_starts};
use super::samples::{parse_options, sort_scores};
use crate::error::Result;
use crate::ingest::parquet_pages::{ColumnChunkPages, ColumnPages, PageScratch};
use crate::ingest::parquet_reader::RowBatches;
use crate::ingest::{LogOptions, all_finite};
use crate::progress::{Observer, Stage};

/// Rows decoded at a time: whole row groups, at least this many unless the file ends first.
const BATCH_ROWS: usize = 1 << 20;

/// The pools of a file in the order their runs of rows appear.
struct Runs {
    /// (key index, prompt) of each pool
    pools: Vec<(usize, String)>,
    /// (pool, rows) of each run, in row order; a pool has exactly one run
    runs: Vec<(u32, usize)>,
}

/// Finds each row's pool from its key and prompt and checks that every pool is one run of
/// rows; `None` at the first pool whose rows come back (rows not grouped by prompt).
struct RunFinder {
    integers: HashMap<(usize, i64), u32>,
    texts: HashMap<(usize, String), u32>,
    closed: Vec<bool>,
    out: Runs,
}

impl RunFinder {
    fn new() -> RunFinder {
        RunFinder {
            integers: HashMap::new(),
            texts: HashMap::new(),
            closed: Vec::new(),
            out: Runs {
                pools: Vec::new(),
                runs: Vec::new(),
            },
        }
    }

    fn new_pool(&mut self, key: usize, prompt: String) -> u32 {
        self.out.pools.push((key, prompt));
        self.closed.push(false);
        (self.out.pools.len() - 1) as u32
    }

    /// Adds `rows` rows of `pool`; false when the pool's run was already closed.
    fn push(&mut self, pool: u32, rows: usize) -> bool {
        if let Some((last, len)) = self.out.runs.last_mut() {
            if *last == pool {
                *len += rows;
                return true;
            }
            self.closed[*last as usize] = true;
        }
        if self.closed[pool as usize] {
            return false;
        }
        self.out.runs.push((pool, rows));
        true
    }

    fn integer(&mut self, key: usize, v: i64) -> u32 {
        match self.integers.get(&(key, v)) {
            Some(&p) => p,
            None => {
                let p = self.new_pool(key, v.to_string());
                self.integers.insert((key, v), p);
                p
            }
        }
    }

    /// `None` for a label the general reader trims or refuses.
    fn text(&mut self, key: usize, s: &str) -> Option<u32> {
        if let Some(&p) = self.texts.get(&(key, s.to_string())) {
            return Some(p);
        }
        if s.is_empty() || s.trim().len() != s.len() {
            return None;
        }
        let p = self.new_pool(key, s.to_string());
        self.texts.insert((key, s.to_string()), p);
        Some(p)
    }
}

/// Row-group-aligned batches (offset, rows) of a file, each of at least `batch_rows` rows
/// unless the file ends.
fn batches(row_groups: &[usize], batch_rows: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    let mut open = 0;
    for &rows in row_groups {
        open += rows;
        if open >= batch_rows {
            out.push((offset, open));
            offset += open;
            open = 0;
        }
    }
    if open > 0 {
        out.push((offset, open));
    }
    out
}

/// A prompt as the column holds it.
#[derive(Clone, PartialEq)]
enum Prompt {
    Integer(i64),
    Text(String),
}

/// The runs of rows of one (key, prompt) in a batch: (key index, prompt, rows), in row order.
type BatchRuns = Vec<(usize, Prompt, usize)>;

/// Splits runs of one prompt value where the key changes, and joins a run to the previous one
/// of the same (key, prompt): the runs of a range of rows in row order.
struct RunSplitter<'a> {
    /// the plan's (first row, key) runs
    key_runs: &'a [(usize, usize)],
    /// the key run of the last row pushed
    run: usize,
    out: BatchRuns,
}

impl RunSplitter<'_> {
    fn new(key_runs: &[(usize, usize)], offset: usize) -> RunSplitter<'_> {
        RunSplitter {
            key_runs,
            run: key_runs
                .partition_point(|r| r.0 <= offset)
                .saturating_sub(1),
            out: Vec::new(),
        }
    }

    /// Rows [from, to) of one prompt.
    fn push(&mut self, mut from: usize, to: usize, value: Prompt) {
        let key_runs = self.key_runs;
        while from < to {
            while self.run + 1 < key_runs.len() && key_runs[self.run + 1].0 <= from {
                self.run += 1;
            }
            let key = key_runs[self.run].1;
            let end = key_runs.get(self.run + 1).map_or(to, |r| r.0.min(to));
            match self.out.last_mut() {
                Some((k, v, len)) if *k == key && *v == value => *len += end - from,
                _ => self.out.push((key, value.clone(), end - from)),
            }
            from = end;
        }
    }

    /// Whether the runs found in the first `rows` rows are already too many for pools of two
    /// or more samples on average, one run of slack for a pool still open (checked once a
    /// thousand runs are found: a few short pools at the start are no sign).
    fn too_short(&self, rows: usize) -> bool {
        self.out.len() > 1024 && self.out.len() > rows.div_ceil(2) + 1
    }

    /// The runs, unless they are too short to be pools of two or more samples on average
    /// (rows not grouped by prompt).
    fn finish(self, count: usize) -> Option<BatchRuns> {
        (self.out.len() <= count.div_ceil(2)).then_some(self.out)
    }
}

/// The runs of one batch of the prompt column; `None` when the batch cannot be read as the
/// general reader would read it, or when its runs are too short to be pools of two or more
/// samples (rows not grouped by prompt).
fn batch_runs(
    rb: &RowBatches,
    plan: &FilePlan,
    (offset, count): (usize, usize),
) -> Option<BatchRuns> {
    let df = rb.read(&[plan.prompt_col.as_str()], (offset, count)).ok()?;
    let series = df
        .column(&plan.prompt_col)
        .ok()?
        .as_materialized_series()
        .clone();
    drop(df);
    if series.len() != count || series.null_count() > 0 {
        return None;
    }
    let mut runs = RunSplitter::new(&plan.key_runs, offset);
    if series.dtype().is_integer() {
        // strict: an unsigned id above i64::MAX is left to the general reader
        let cast = series.strict_cast(&DataType::Int64).ok()?;
        let mut row = offset;
        for chunk in cast.i64().ok()?.downcast_iter() {
            let values = chunk.values().as_slice();
            let mut i = 0;
            while i < values.len() {
                // a run of one value, then its rows at once
                let v = values[i];
                let mut j = i + 1;
                while j < values.len() && values[j] == v {
                    j += 1;
                }
                runs.push(row + i, row + j, Prompt::Integer(v));
                if runs.too_short(row + j - offset) {
                    return None;
                }
                i = j;
            }
            row += values.len();
        }
    } else {
        let ca = series.str().ok()?;
        // a run of one label, then its rows at once (one String per run, not per row)
        let mut open: Option<(usize, &str)> = None;
        for (i, s) in ca.iter().enumerate() {
            let s = s?;
            match open {
                Some((_, label)) if label == s => continue,
                _ => {}
            }
            // the general reader trims labels and refuses empty ones
            if s.is_empty() || s.trim().len() != s.len() {
                return None;
            }
            if let Some((start, label)) = open {
                runs.push(offset + start, offset + i, Prompt::Text(label.to_string()));
                if runs.too_short(i) {
                    return None;
                }
            }
            open = Some((i, s));
        }
        if let Some((start, label)) = open {
            runs.push(
                offset + start,
                offset + count,
                Prompt::Text(label.to_string()),
            );
        }
    }
    runs.finish(count)
}

/// What the prompt column of a row group decoded page by page shows.
enum GroupRuns {
    /// the group's runs
    Runs(BatchRuns),
    /// runs too short to be pools of two or more samples: rows not grouped by prompt
    NotGrouped,
    /// a column the page decoder does not take
    Refused,
}

/// The runs of row group `g` (rows `[start, start + rows)`) of an INT64 prompt column decoded
/// page by page ([`ColumnPages`]): the runs [`batch_runs`] finds, without a column of the
/// group's prompts in memory.
fn group_runs_by_pages(
    file: &ColumnPages,
    plan: &FilePlan,
    (g, start, rows): (usize, usize, usize),
) -> GroupRuns {
    let mut scratch = PageScratch::<i64>::default();
    let Some(mut pages) = file.pages::<i64>(&plan.prompt_col, g, &mut scratch) else {
        return GroupRuns::Refused;
    };
    let mut runs = RunSplitter::new(&plan.key_runs, start);
    // the open run: its first row and value (runs continue across pages)
    let mut open: Option<(usize, i64)> = None;
    let mut row = start;
    loop {
        match pages.next_page_runs() {
            Some(true) => {}
            Some(false) => break,
            None => return GroupRuns::Refused,
        }
        for &(v, len) in &pages.scratch.runs.runs {
            match open {
                Some((_, value)) if value == v => {}
                Some((from, value)) => {
                    runs.push(from, row, Prompt::Integer(value));
                    open = Some((row, v));
                    // rows not grouped by prompt show in the first rows: give up before the
                    // rest (the test of `finish`, with one run of slack for the pool still
                    // open)
                    if runs.too_short(row - start) {
                        return GroupRuns::NotGrouped;
                    }
                }
                None => open = Some((row, v)),
            }
            row += len;
        }
    }
    if row != start + rows {
        return GroupRuns::Refused;
    }
    if let Some((from, value)) = open {
        runs.push(from, row, Prompt::Integer(value));
    }
    match runs.finish(rows) {
        Some(runs) => GroupRuns::Runs(runs),
        None => GroupRuns::NotGrouped,
    }
}

/// What pass 1 finds in a file.
enum Found {
    /// the pools and their runs: rows grouped by prompt
    Runs(Runs),
    /// rows not grouped by prompt, seen in a prompt column the page decoder takes
    NotGrouped,
    /// neither: the general reader must read the file
    Nothing,
}

/// Pass 1: the pools and their runs, from the prompt column read a batch at a time (batches in
/// parallel, joined in row order).
fn find_runs(
    rb: &RowBatches,
    file: Option<&ColumnPages>,
    plan: &FilePlan,
    parts: &[(usize, usize)],
    polars_may_read: &mut dyn FnMut() -> bool,
) -> Found {
    // row groups decoded page by page when the page decoder takes the prompt column, else
    // batches through polars
    let by_pages: Option<Vec<Option<BatchRuns>>> = match file {
        Some(file) => {
            let groups = file.row_groups();
            let starts = row_starts(&groups);
            let runs: Vec<GroupRuns> = (0..groups.len())
                .into_par_iter()
                .map(|g| group_runs_by_pages(file, plan, (g, starts[g], groups[g])))
                .collect();
            if runs.iter().any(|r| matches!(r, GroupRuns::NotGrouped)) {
                return Found::NotGrouped;
            }
            runs.into_iter()
                .map(|r| match r {
                    GroupRuns::Runs(runs) => Some(Some(runs)),
                    _ => None,
                })
                .collect()
        }
        None => None,
    };
    let decoded_by_pages = by_pages.is_some();
    let per_batch: Vec<Option<BatchRuns>> = match by_pages {
        Some(runs) => runs,
        None if !polars_may_read() => return Found::Nothing,
        None => parts
            .par_iter()
            .map(|&part| batch_runs(rb, plan, part))
            .collect(),
    };
    let mut finder = RunFinder::new();
    let mut last: Option<(usize, Prompt, u32)> = None;
    for batch in per_batch {
        let Some(batch) = batch else {
            return Found::Nothing;
        };
        for (key, value, len) in batch {
            let pool = match &last {
                Some((k, v, p)) if *k == key && *v == value => *p,
                _ => match &value {
                    Prompt::Integer(i) => finder.integer(key, *i),
                    Prompt::Text(t) => match finder.text(key, t) {
                        Some(p) => p,
                        None => return Found::Nothing,
                    },
                },
            };
            if !finder.push(pool, len) {
                // a prompt's rows come back after another prompt's
                return match decoded_by_pages {
                    true => Found::NotGrouped,
                    false => Found::Nothing,
                };
            }
            last = Some((key, value, pool));
        }
    }
    Found::Runs(finder.out)
}

/// A score column of a batch as one array of f64 (cast, or joined from several chunks, only
/// when polars did not decode it so); `None` when it has missing cells, is not numeric, or holds
/// a score that is not finite.
fn scores(df: &DataFrame, name: &str, rows: usize) -> Option<Float64Chunked> {
    let s = df.column(name).ok()?.as_materialized_series();
    if s.len() != rows || s.null_count() > 0 || !s.dtype().is_primitive_numeric() {
        return None;
    }
    let ca = s
        .cast(&DataType::Float64)
        .ok()?
        .f64()
        .ok()?
        .rechunk()
        .into_owned();
    all_finite(ca.cont_slice().ok()?).then_some(ca)
}

/// The curves of `inputs` when it is one Parquet Samples table whose rows are grouped by
/// prompt (see the module's documentation); `None` for any other input.
pub(super) fn grouped_curves(
    inputs: &[PathBuf],
    map_args: &[String],
    logs: &LogOptions,
    opts: &BonOptions,
    progress: &dyn Observer,
) -> Result<Option<Streamed>> {
    let [path] = inputs else {
        return Ok(None);
    };
    let map = parse_options(map_args, logs)?;
    let (kind, meta) = super::samples::file_kind(path, logs)?;
    if kind.is_some() {
        return Ok(None);
    }
    let plan = plan_file_unchecked(path, &map, &meta);
    Ok(curves_of_file(
        path,
        plan.as_ref(),
        opts,
        (BATCH_ROWS, true),
        progress,
    ))
}

/// A complete pool of a batch: (pool, its samples carried from earlier batches, its first and
/// end row in the batch).
type Job = (u32, Vec<(f64, f64)>, usize, usize);

/// The curves of one planned file: its pages decoded directly when `pages` and the page decoder
/// takes them ([`ColumnPages`]), else through polars `batch_rows` rows at a time (whole row
/// groups).
fn curves_of_file(
    path: &Path,
    plan: Option<&FilePlan>,
    opts: &BonOptions,
    (batch_rows, pages): (usize, bool),
    progress: &dyn Observer,
) -> Option<Streamed> {
    let plan = plan?;
    let rb = RowBatches::open(path).ok()?;
    let total: usize = rb.row_groups.iter().sum();
    if total == 0 || plan.n_rows.is_some_and(|n| n != total) {
        return None;
    }
    let parts = batches(&rb.row_groups, batch_rows);
    // polars reads only a file whose page headers were checked: done once, on its first use
    let mut checked = plan.pages_checked;
    let mut polars_may_read = || {
        checked = checked || crate::ingest::parquet_reader::check_file_pages(path).is_ok();
        checked
    };
    // the file's pages read directly when the page decoder takes its columns ([`ColumnPages`])
    let file = if pages { ColumnPages::open(path) } else { None };
    let Runs { pools, runs } =
        match find_runs(&rb, file.as_ref(), plan, &parts, &mut polars_may_read) {
            Found::Runs(runs) => runs,
            Found::NotGrouped => return super::shuffled::curves(file?, plan, opts, progress),
            Found::Nothing => return None,
        };
    // A bar over the samples when the file takes several batches.
    let bar = (parts.len() > 2).then(|| progress.stage("best-of-n", total as u64));
    let curves = curves_of_pools(plan, &pools, &runs, opts, |weights| {
        let by_pages = file.as_ref().and_then(|file| {
            estimates_by_pages(file, plan, &runs, pools.len(), weights, bar.as_deref())
        });
        match by_pages {
            Some(ests) => Some(ests),
            None if polars_may_read() => by_batches(
                &rb,
                plan,
                &parts,
                &runs,
                pools.len(),
                weights,
                bar.as_deref(),
            ),
            None => None,
        }
    })?;
    if let Some(b) = &bar {
        b.finish();
    }
    let np = pools.len();
    // Unmapping the file's pages takes milliseconds on a large file: done on another thread
    // while the table is formatted and written, as polars does with its own mappings.
    if let Some(file) = file {
        release(file);
    }
    Some((curves, (np, total), super::ReadTogether::Batches))
}

/// What a row group's worker leaves: the estimates of the pools wholly inside the group, and
/// the samples of the pools that cross one of its edges, by run.
struct GroupShare {
    done: Vec<(u32, PoolEstimate)>,
    pieces: Vec<(usize, Vec<(f64, f64)>)>,
}

/// Pass 2 page by page: each row group's proxy and gold pages are decoded into two reused
/// page buffers and poured straight into their pools, every pool sorted and estimated as soon
/// as it is complete, the row groups in parallel. A pool that crosses a row group's edge is
/// finished from its pieces once every group is done. The estimates by pool; `None` when a
/// column is not one this decoder takes ([`ColumnPages`]), or holds a value that is not
/// finite: the caller then reads the file through polars.
fn estimates_by_pages<'w>(
    file: &ColumnPages,
    plan: &FilePlan,
    runs: &[(u32, usize)],
    n_pools: usize,
    weights: &PoolWeights<'w>,
    bar: Option<&dyn Stage>,
) -> Option<Vec<Option<PoolEstimate>>> {
    let groups = file.row_groups();
    // first row of each group and of each run
    let group_starts = row_starts(&groups);
    let run_starts = row_starts(&runs.iter().map(|r| r.1).collect::<Vec<_>>());
    let shares: Vec<GroupShare> = (0..groups.len())
        .into_par_iter()
        .map_init(GroupScratch::default, |scratch, g| {
            let share = group_share(
                file,
                plan,
                (g, group_starts[g], groups[g]),
                (runs, &run_starts),
                weights,
                scratch,
            );
            if let Some(b) = bar {
                b.inc(groups[g] as u64);
            }
            share
        })
        .collect::<Option<_>>()?;
    let mut ests: Vec<Option<PoolEstimate>> = (0..n_pools).map(|_| None).collect();
    // the pools that cross an edge: their pieces joined in row order
    let mut crossing: Vec<(usize, Vec<(f64, f64)>)> = Vec::new();
    for share in shares {
        for (p, e) in share.done {
            ests[p as usize] = Some(e);
        }
        for (run, piece) in share.pieces {
            match crossing.last_mut() {
                Some((r, samples)) if *r == run => samples.extend(piece),
                _ => crossing.push((run, piece)),
            }
        }
    }
    let done: Vec<(u32, PoolEstimate)> = crossing
        .par_chunks_mut(BLOCK)
        .flat_map_iter(|chunk| {
            for (_, samples) in chunk.iter_mut() {
                sort_scores(samples);
            }
            let slices: Vec<&[(f64, f64)]> = chunk.iter().map(|(_, s)| &s[..]).collect();
            let ws: Vec<&WeightSet> = chunk
                .iter()
                .map(|(run, s)| weights(runs[*run].0, s.len()))
                .collect();
            let ests = estimate_block(&slices, &ws);
            chunk
                .iter()
                .map(|(run, _)| runs[*run].0)
                .zip(ests)
                .collect::<Vec<_>>()
        })
        .collect();
    for (p, e) in done {
        ests[p as usize] = Some(e);
    }
    ests.iter().all(Option::is_some).then_some(ests)
}

/// The buffers of a worker of [`estimates_by_pages`], reused from row group to row group: the
/// page buffers of the two columns and the samples' buffers of finished pools.
#[derive(Default)]
struct GroupScratch {
    proxy: PageScratch<f64>,
    gold: PageScratch<f64>,
    /// the open pool's scores, and the sort keys of [`prepare_columns`]
    pool: (Vec<f64>, Vec<f64>),
    keys: Vec<u64>,
}

/// The share of row group `g` in pass 2 ([`estimates_by_pages`]): rows `[start, start + rows)`.
fn group_share<'w>(
    file: &ColumnPages,
    plan: &FilePlan,
    (g, start, rows): (usize, usize, usize),
    (runs, run_starts): (&[(u32, usize)], &[usize]),
    weights: &PoolWeights<'w>,
    scratch: &mut GroupScratch,
) -> Option<GroupShare> {
    file.populate(&plan.proxy_col, g);
    file.populate(&plan.gold_col, g);
    let GroupScratch {
        proxy: proxy_scratch,
        gold: gold_scratch,
        pool: (pool_proxy, pool_gold),
        keys,
    } = scratch;
    pool_proxy.clear();
    pool_gold.clear();
    let mut proxy = file.pages(&plan.proxy_col, g, proxy_scratch)?;
    let mut gold = file.pages(&plan.gold_col, g, gold_scratch)?;
    let mut share = GroupShare {
        done: Vec::new(),
        pieces: Vec::new(),
    };
    let mut block = PoolBlock::new();
    // the run holding row `at`
    let mut r = run_starts.partition_point(|&s| s <= start).checked_sub(1)?;
    let end = start + rows;
    let mut at = start;
    let (mut pi, mut gi) = (0, 0);
    // the open pool's samples as pairs, for a pool that crosses the group's edges
    let pairs = |p: &[f64], g: &[f64]| -> Vec<(f64, f64)> {
        p.iter().copied().zip(g.iter().copied()).collect()
    };
    while at < end {
        if pi == proxy.scratch.values.len() {
            if !proxy.next_page()? {
                return None;
            }
            pi = 0;
        }
        if gi == gold.scratch.values.len() {
            if !gold.next_page()? {
                return None;
            }
            gi = 0;
        }
        let run_end = run_starts[r] + runs[r].1;
        let take = (proxy.scratch.values.len() - pi)
            .min(gold.scratch.values.len() - gi)
            .min(run_end - at)
            .min(end - at);
        let (p, q) = (
            &proxy.scratch.values[pi..pi + take],
            &gold.scratch.values[gi..gi + take],
        );
        if !(all_finite(p) & all_finite(q)) {
            return None;
        }
        if at == run_starts[r] && at + take == run_end {
            // a whole pool inside the pages decoded: estimated from them, without a copy
            block.push(runs[r].0, (p, q), keys, weights, &mut share.done);
            (pi, gi, at) = (pi + take, gi + take, at + take);
            r += 1;
            continue;
        }
        pool_proxy.extend_from_slice(p);
        pool_gold.extend_from_slice(q);
        (pi, gi, at) = (pi + take, gi + take, at + take);
        if at == run_end {
            if run_starts[r] >= start {
                let scores = (&pool_proxy[..], &pool_gold[..]);
                block.push(runs[r].0, scores, keys, weights, &mut share.done);
            } else {
                share.pieces.push((r, pairs(pool_proxy, pool_gold)));
            }
            pool_proxy.clear();
            pool_gold.clear();
            r += 1;
        }
    }
    if !pool_proxy.is_empty() {
        share.pieces.push((r, pairs(pool_proxy, pool_gold)));
    }
    block.estimate(weights, &mut share.done);
    // every value of both columns used
    let ends = |pages: &mut ColumnChunkPages<'_, f64>, i: usize| {
        i == pages.scratch.values.len() && pages.next_page() == Some(false)
    };
    (ends(&mut proxy, pi) && ends(&mut gold, gi)).then_some(share)
}

/// Pass 2 through polars: proxy and gold a batch of row groups at a time (the next batch
/// decoded while this one is estimated); each complete pool estimated at once. The estimates
/// by pool; `None` when a batch does not decode as [`scores`] requires.
fn by_batches<'w>(
    rb: &RowBatches,
    plan: &FilePlan,
    parts: &[(usize, usize)],
    runs: &[(u32, usize)],
    n_pools: usize,
    weights: &PoolWeights<'w>,
    bar: Option<&dyn Stage>,
) -> Option<Vec<Option<PoolEstimate>>> {
    let mut ests: Vec<Option<PoolEstimate>> = (0..n_pools).map(|_| None).collect();
    let mut carry: Vec<(f64, f64)> = Vec::new();
    let mut run_i = 0;
    let mut run_start = 0; // first row of runs[run_i]
    // The next batch is decoded while this one is estimated.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Option<(Float64Chunked, Float64Chunked)>>(1);
    let decode = |tx: std::sync::mpsc::SyncSender<_>| {
        for &(offset, count) in parts {
            let batch = rb
                .read(
                    &[plan.proxy_col.as_str(), plan.gold_col.as_str()],
                    (offset, count),
                )
                .ok()
                .and_then(|df| {
                    Some((
                        scores(&df, &plan.proxy_col, count)?,
                        scores(&df, &plan.gold_col, count)?,
                    ))
                });
            let failed = batch.is_none();
            if tx.send(batch).is_err() || failed {
                return;
            }
        }
    };
    let estimated = std::thread::scope(|scope| -> Option<()> {
        scope.spawn(move || decode(tx));
        // dropped on any early return, which ends the decoder's next send
        let rx = rx;
        for &(offset, count) in parts {
            if let Some(b) = bar {
                b.inc(count as u64);
            }
            let (proxy, gold) = rx.recv().ok()??;
            let (proxy, gold) = (proxy.cont_slice().ok()?, gold.cont_slice().ok()?);
            // complete pools of the batch: (pool, carried samples, rows in the batch)
            let mut jobs: Vec<Job> = Vec::new();
            let end = offset + count;
            while run_i < runs.len() {
                let (pool, len) = runs[run_i];
                let from = run_start.max(offset) - offset;
                if run_start + len > end {
                    carry.extend(
                        proxy[from..]
                            .iter()
                            .copied()
                            .zip(gold[from..].iter().copied()),
                    );
                    break;
                }
                let to = run_start + len - offset;
                jobs.push((pool, std::mem::take(&mut carry), from, to));
                run_start += len;
                run_i += 1;
            }
            let done: Vec<(u32, PoolEstimate)> = jobs
                .par_chunks(BLOCK)
                .flat_map_iter(|block| {
                    let sorted: Vec<Vec<(f64, f64)>> = block
                        .iter()
                        .map(|(_, carried, from, to)| {
                            let mut s = Vec::with_capacity(carried.len() + to - from);
                            s.extend_from_slice(carried);
                            s.extend(
                                proxy[*from..*to]
                                    .iter()
                                    .copied()
                                    .zip(gold[*from..*to].iter().copied()),
                            );
                            sort_scores(&mut s);
                            s
                        })
                        .collect();
                    let slices: Vec<&[(f64, f64)]> = sorted.iter().map(|s| &s[..]).collect();
                    let ws: Vec<&WeightSet> = block
                        .iter()
                        .zip(&sorted)
                        .map(|((p, ..), s)| weights(*p, s.len()))
                        .collect();
                    block
                        .iter()
                        .map(|(p, ..)| *p)
                        .zip(estimate_block(&slices, &ws))
                        .collect::<Vec<_>>()
                })
                .collect();
            for (p, e) in done {
                ests[p as usize] = Some(e);
            }
        }
        Some(())
    });
    estimated?;
    if run_i != runs.len() || !carry.is_empty() {
        return None;
    }
    Some(ests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bon::{bon_curves, read_samples};
    use rand::{Rng, SeedableRng};

    /// (rm_params, prompt, proxy, gold) rows.
    type Rows = Vec<(f64, String, f64, f64)>;

    fn write(path: &Path, rows: &Rows, text: bool, row_group: usize) {
        let prompt = if text {
            Column::new(
                "prompt".into(),
                rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            )
        } else {
            Column::new(
                "prompt".into(),
                rows.iter()
                    .map(|r| r.1.parse::<i64>().unwrap())
                    .collect::<Vec<_>>(),
            )
        };
        let cols = vec![
            prompt,
            Column::new("proxy".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new("gold".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            Column::new(
                "rm_params".into(),
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
        ];
        let mut df = DataFrame::new(rows.len(), cols).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .with_row_group_size(Some(row_group))
            .finish(&mut df)
            .unwrap();
    }

    /// Pools of `sizes` samples for each (reward model, prompt) in `order`, scores on a grid of
    /// `step` (ties when coarse).
    fn rows(seed: u64, order: &[(f64, &str)], sizes: &[usize], step: f64) -> Rows {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::new();
        for (i, &(rm, prompt)) in order.iter().enumerate() {
            for _ in 0..sizes[i % sizes.len()] {
                let gold: f64 = rng.random_range(-2.0..2.0);
                let proxy = gold + rng.random_range(-1.0..1.0);
                out.push((
                    rm,
                    prompt.to_string(),
                    (proxy / step).round() * step,
                    (gold / step).round() * step,
                ));
            }
        }
        out
    }

    /// The curves by pages (`pages`) or through polars a batch of rows at a time.
    fn streamed(
        path: &Path,
        opts: &BonOptions,
        batch_rows: usize,
        pages: bool,
    ) -> Option<Streamed> {
        let logs = LogOptions::default();
        let map = parse_options(&[], &logs).unwrap();
        let (_, meta) = super::super::samples::file_kind(path, &logs).unwrap();
        curves_of_file(
            path,
            plan_file_unchecked(path, &map, &meta).as_ref(),
            opts,
            (batch_rows, pages),
            &crate::progress::Silent,
        )
    }

    /// The curves of the whole-file path (pools read, then estimated), as text that tells every
    /// bit of every number.
    fn whole(path: &Path, opts: &BonOptions) -> String {
        let (pools, _) = read_samples(&[path.to_path_buf()], &[], &LogOptions::default()).unwrap();
        let curves = bon_curves(&pools, opts).unwrap();
        format!("{curves:?}")
    }

    fn check(rows: &Rows, text: bool, row_group: usize, opts: &BonOptions) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        write(&path, rows, text, row_group);
        let expected = whole(&path, opts);
        // by pages; through polars one row a batch, batches smaller and larger than pools
        // and row groups, the whole file
        for (batch_rows, pages) in [
            (1, true),
            (1, false),
            (5, false),
            (64, false),
            (1 << 20, false),
        ] {
            let (curves, (pools, samples), how) =
                streamed(&path, opts, batch_rows, pages).expect("streamed");
            assert_eq!(how, crate::bon::ReadTogether::Batches);
            assert_eq!(
                format!("{curves:?}"),
                expected,
                "batch_rows {batch_rows}, pages {pages}"
            );
            assert_eq!(samples, rows.len());
            assert!(pools > 0);
        }
        expected.matches("BonCurve").count()
    }

    #[test]
    fn grouped_rows_of_several_models_in_any_order_give_the_whole_file_curves() {
        let order: Vec<(f64, &str)> = [3e9, 1e7, 2e8]
            .iter()
            .flat_map(|&rm| ["10", "2", "-7", "1099511627776", "0", "33"].map(move |p| (rm, p)))
            .collect();
        let rows = rows(1, &order, &[2, 7, 50, 13, 31, 3, 9], 0.25);
        let opts = BonOptions {
            bootstrap: 3,
            seed: 5,
            ..BonOptions::default()
        };
        assert_eq!(check(&rows, false, 7, &opts), 3);
        let opts = BonOptions {
            n: Some(vec![5, 1, 2]),
            ..BonOptions::default()
        };
        check(&rows, false, 64, &opts);
    }

    #[test]
    fn text_prompts_with_models_alternating_and_a_prompt_continuing_across_a_model_change() {
        // (model, prompt) pools one after another; "b" under 1e8 is followed by "b" under 4e8
        let order = [
            (1e8, "a"),
            (4e8, "a"),
            (1e8, "b"),
            (4e8, "b"),
            (4e8, "c d"),
            (1e8, "c d"),
            (1e8, "Z"),
        ];
        let rows = rows(2, &order, &[12, 4, 9, 30, 2, 6, 5], 1e-3);
        let opts = BonOptions {
            bootstrap: 2,
            ..BonOptions::default()
        };
        assert_eq!(check(&rows, true, 3, &opts), 2);
    }

    #[test]
    fn rows_not_grouped_by_prompt_a_pool_of_one_or_a_nan_are_left_to_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        let opts = BonOptions::default();
        for pages in [true, false] {
            // prompt 1 comes back after prompt 2: counted into pools from the pages
            // (src/bon/shuffled.rs), else left to the general path
            let back = rows(3, &[(1e8, "1"), (1e8, "2"), (1e8, "1")], &[5, 5, 5], 0.1);
            write(&path, &back, false, 4);
            match streamed(&path, &opts, 4, pages) {
                Some((curves, _, how)) => {
                    assert!(pages);
                    assert_eq!(how, crate::bon::ReadTogether::Counted);
                    assert_eq!(format!("{curves:?}"), whole(&path, &opts));
                }
                None => assert!(!pages),
            }
            // a pool of one sample
            let one = rows(4, &[(1e8, "1"), (1e8, "2")], &[5, 1], 0.1);
            write(&path, &one, false, 4);
            assert!(streamed(&path, &opts, 4, pages).is_none());
            // a score that is not finite, in the last row group
            let mut nan = rows(5, &[(1e8, "1"), (1e8, "2")], &[5, 5], 0.1);
            nan[9].3 = f64::NAN;
            write(&path, &nan, false, 4);
            assert!(streamed(&path, &opts, 4, pages).is_none());
            // and the same rows without the NaN are taken
            nan[9].3 = 0.5;
            write(&path, &nan, false, 4);
            assert!(streamed(&path, &opts, 4, pages).is_some());
        }
    }
    #[test]
    fn shuffled_rows_are_counted_into_the_whole_file_pools() {
        use rand::seq::SliceRandom;
        // three models and prompts small, negative and beyond the dense table, rows shuffled
        // across models and prompts, pools of 2 to 50 samples, scores with ties
        let order: Vec<(f64, &str)> = [3e9, 1e7, 2e8]
            .iter()
            .flat_map(|&rm| ["10", "2", "-7", "1099511627776", "0", "33"].map(move |p| (rm, p)))
            .collect();
        let mut rows = rows(6, &order, &[2, 7, 50, 13, 31, 3, 9], 0.25);
        rows.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        for (row_group, opts) in [
            (1, BonOptions::default()),
            (
                7,
                BonOptions {
                    bootstrap: 3,
                    seed: 5,
                    ..BonOptions::default()
                },
            ),
            (
                64,
                BonOptions {
                    n: Some(vec![5, 1, 2]),
                    ..BonOptions::default()
                },
            ),
            (1 << 20, BonOptions::default()),
        ] {
            write(&path, &rows, false, row_group);
            let (curves, (pools, samples), how) =
                streamed(&path, &opts, 1 << 20, true).expect("counted");
            assert_eq!(how, crate::bon::ReadTogether::Counted);
            assert_eq!(
                format!("{curves:?}"),
                whole(&path, &opts),
                "row groups of {row_group}"
            );
            assert_eq!((pools, samples), (18, rows.len()));
            assert_eq!(curves.len(), 3);
        }
        // one model, its prompts' rows interleaved in turn (every run one row long)
        let mut turns: Rows = Vec::new();
        for i in 0..40 {
            for p in ["5", "1", "9"] {
                turns.push((1e8, p.to_string(), (i * 7 % 11) as f64, i as f64 / 3.0));
            }
        }
        write(&path, &turns, false, 16);
        let opts = BonOptions::default();
        let (curves, ..) = streamed(&path, &opts, 1 << 20, true).expect("counted");
        assert_eq!(format!("{curves:?}"), whole(&path, &opts));
    }

    #[test]
    fn shuffled_rows_with_a_pool_of_one_a_nan_or_text_prompts_are_left_to_the_general_path() {
        use rand::seq::SliceRandom;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        let opts = BonOptions::default();
        let order = [(1e8, "1"), (1e8, "2"), (1e8, "3")];
        let shuffled = |sizes: &[usize]| {
            let mut r = rows(8, &order, sizes, 0.1);
            r.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(9));
            r
        };
        // the same rows are counted (the cases below fail for their own reason)
        let fine = shuffled(&[600, 700, 800]);
        write(&path, &fine, false, 100);
        assert!(streamed(&path, &opts, 1 << 20, true).is_some());
        write(&path, &fine, true, 100);
        assert!(
            streamed(&path, &opts, 1 << 20, true).is_none(),
            "text prompts"
        );
        let mut nan = fine.clone();
        nan[2000].2 = f64::INFINITY;
        write(&path, &nan, false, 100);
        assert!(
            streamed(&path, &opts, 1 << 20, true).is_none(),
            "a proxy not finite"
        );
        let one = shuffled(&[600, 1, 800]);
        write(&path, &one, false, 100);
        assert!(
            streamed(&path, &opts, 1 << 20, true).is_none(),
            "a pool of one"
        );
    }
}
