//! The fast way through `goodhart bon` for one Parquet Samples table whose rows are not grouped
//! by prompt (shuffled rows, or prompts whose rows come back): a counting grouping straight from
//! the file's pages, with no column of the file in memory (issue 16).
//!
//! 1. The INT64 prompt column is decoded page by page, the row groups in parallel: each row's
//!    pool (key, prompt), numbered in the order pools first appear, through a dense table of
//!    small prompts or a hash of the others.
//! 2. Each pool's rows get consecutive places in one array of proxies and one of gold scores,
//!    in row order (a counting sort: the pools' sizes, their offsets, then each row's place).
//! 3. The proxy and gold columns are decoded page by page, the two at once, each value written
//!    straight to its row's place.
//! 4. The pools are estimated in parallel from their slices of the two arrays, as the grouped
//!    path estimates them ([`super::fused::PoolBlock`]).
//!
//! Memory holds the two score arrays and a place per row (20 bytes a sample). The curves are
//! bit for bit those of the general path: the same pools, each with its samples in row order,
//! estimated by the same code and averaged in the same (key, prompt) order. Anything else (a
//! prompt column that is not INT64, a score column that is not DOUBLE, a missing or
//! non-finite cell, a pool of one sample) gives `None` before any curve is made, and the
//! general path reads the file and reports its problems with its usual messages.

use std::collections::HashMap;

use rayon::prelude::*;

use super::columnar::{FilePlan, IntegerPools};
use super::estimate::{BonOptions, PoolEstimate};
use super::fused::{PoolBlock, PoolWeights, Streamed, curves_of_pools, release, row_starts};
use crate::ingest::parquet_pages::{ColumnPages, PageScratch, ValueSink};
use crate::progress::Observer;

/// Integer prompts in 0..this are numbered through a dense table (a counting grouping), in a
/// row group of at least a quarter as many rows (each group has its own table while it is
/// read: a table far larger than the group would cost more than the group's rows).
const DENSE_PROMPTS: i64 = 1 << 20;

/// Files of more rows than this get a progress bar (as on the grouped path: more than two
/// batches of rows).
const BAR_ROWS: usize = 1 << 21;

/// Pools estimated by one task: enough to keep both cores busy and the tasks few.
const POOLS_PER_TASK: usize = 64;

/// A row group's prompt column, decoded: the pool of each of its rows, numbered in the group in
/// the order the pools first appear (a [`ValueSink`] of the prompt column's pages).
struct GroupPools<'a> {
    /// the plan's (first row, key index) runs
    key_runs: &'a [(usize, usize)],
    /// the key run of the next row, and the first row of the run after it
    run: usize,
    next_start: usize,
    /// the file row of the next value
    row: usize,
    numbers: IntegerPools,
    /// the group's pools (key index, prompt), and their rows
    pools: Vec<(usize, i64)>,
    sizes: Vec<u32>,
    /// the pool of each row; then its place in the score arrays
    ids: Vec<u32>,
    /// rows before the page being decoded
    page_start: usize,
}

impl<'a> GroupPools<'a> {
    fn new(key_runs: &'a [(usize, usize)], start: usize, rows: usize) -> GroupPools<'a> {
        let run = key_runs.partition_point(|r| r.0 <= start).saturating_sub(1);
        GroupPools {
            key_runs,
            run,
            next_start: key_runs.get(run + 1).map_or(usize::MAX, |r| r.0),
            row: start,
            numbers: IntegerPools::new(DENSE_PROMPTS.min(4 * rows as i64 + 4096)),
            pools: Vec::new(),
            sizes: Vec::new(),
            ids: Vec::with_capacity(rows),
            page_start: 0,
        }
    }

    /// The group's number of the pool (key, prompt `v`).
    fn pool(&mut self, key: usize, v: i64) -> u32 {
        let (p, new) = self.numbers.number(key, v);
        if new {
            self.pools.push((key, v));
            self.sizes.push(0);
        }
        p
    }
}

impl ValueSink<i64> for GroupPools<'_> {
    /// Starts a page.
    fn clear(&mut self) {
        self.page_start = self.ids.len();
    }

    /// Values of the page being decoded.
    fn len(&self) -> usize {
        self.ids.len() - self.page_start
    }

    fn push(&mut self, v: i64) {
        while self.row >= self.next_start {
            self.run += 1;
            self.next_start = self.key_runs.get(self.run + 1).map_or(usize::MAX, |r| r.0);
        }
        let pool = self.pool(self.key_runs[self.run].1, v);
        self.sizes[pool as usize] += 1;
        self.ids.push(pool);
        self.row += 1;
    }

    fn repeat(&mut self, v: i64, len: usize) {
        for _ in 0..len {
            self.push(v);
        }
    }
}

/// What pass 1 keeps of a row group: its pools (key index, prompt) in the order they first
/// appear, their rows, and the pool of each row (then its place in the score arrays).
struct GroupRows {
    pools: Vec<(usize, i64)>,
    sizes: Vec<u32>,
    ids: Vec<u32>,
}

/// Pass 1 for row group `g` (rows `[start, start + rows)`); `None` when the page decoder does
/// not take the prompt column or the group's rows do not add up. The group's table of prompts
/// is dropped here.
fn group_pools(
    file: &ColumnPages,
    plan: &FilePlan,
    (g, start, rows): (usize, usize, usize),
) -> Option<GroupRows> {
    file.populate(&plan.prompt_col, g);
    let mut scratch = PageScratch::<i64>::default();
    let mut pages = file.pages::<i64>(&plan.prompt_col, g, &mut scratch)?;
    let mut group = GroupPools::new(&plan.key_runs, start, rows);
    while pages.next_page_to(&mut group)? {}
    let GroupPools {
        pools, sizes, ids, ..
    } = group;
    (ids.len() == rows).then_some(GroupRows { pools, sizes, ids })
}

/// A score column's pages poured into the places of their rows (a [`ValueSink`]).
struct Scatter<'a> {
    out: &'a mut [f64],
    /// the place of each row of the row group
    places: &'a [u32],
    /// the next row of the group
    at: usize,
    /// rows before the page being decoded
    page_start: usize,
    finite: bool,
}

impl ValueSink<f64> for Scatter<'_> {
    /// Starts a page.
    fn clear(&mut self) {
        self.page_start = self.at;
    }

    fn len(&self) -> usize {
        self.at - self.page_start
    }

    fn push(&mut self, v: f64) {
        self.finite &= v.is_finite();
        // the decoder never gives more values than the group's rows (a row beyond them would be
        // refused by the page checks); the place is looked up, not assumed
        if let Some(&place) = self.places.get(self.at) {
            self.out[place as usize] = v;
        }
        self.at += 1;
    }

    fn repeat(&mut self, v: f64, len: usize) {
        for _ in 0..len {
            self.push(v);
        }
    }
}

/// Pass 3 for one score column: its values, each at its row's place; `None` when the page
/// decoder does not take the column, or a value is not finite.
fn scattered(
    file: &ColumnPages,
    column: &str,
    places: &[Vec<u32>],
    total: usize,
) -> Option<Vec<f64>> {
    let mut out = vec![0.0f64; total];
    let mut scratch = PageScratch::<f64>::default();
    for (g, places) in places.iter().enumerate() {
        file.populate(column, g);
        let mut pages = file.pages::<f64>(column, g, &mut scratch)?;
        let mut sink = Scatter {
            out: &mut out,
            places,
            at: 0,
            page_start: 0,
            finite: true,
        };
        while pages.next_page_to(&mut sink)? {}
        if !sink.finite || sink.at != places.len() {
            return None;
        }
    }
    Some(out)
}

/// The curves of a planned Parquet Samples table whose rows are not grouped by prompt (see the
/// module's documentation), with its (pools, samples); `None` for a file this path does not
/// take.
pub(super) fn curves(
    file: ColumnPages,
    plan: &FilePlan,
    opts: &BonOptions,
    progress: &dyn Observer,
) -> Option<Streamed> {
    let groups = file.row_groups();
    let total: usize = groups.iter().sum();
    if total == 0 || plan.n_rows.is_some_and(|n| n != total) || u32::try_from(total).is_err() {
        return None;
    }
    // A bar over the samples (each counted three times: grouped, placed, estimated) when the
    // file is large, as on the grouped path.
    let bar = (total > BAR_ROWS).then(|| progress.stage("best-of-n", 3 * total as u64));
    let step = |n: usize| {
        if let Some(b) = &bar {
            b.inc(n as u64);
        }
    };
    // 1. each row's pool in its group, the groups in parallel
    let starts = row_starts(&groups);
    let mut found: Vec<GroupRows> = (0..groups.len())
        .into_par_iter()
        .map(|g| group_pools(&file, plan, (g, starts[g], groups[g])))
        .collect::<Option<_>>()?;
    step(total);
    // the file's pools, numbered in the order they first appear (group by group)
    let mut number: HashMap<(usize, i64), u32> = HashMap::new();
    let mut pools: Vec<(usize, i64)> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    let renumber: Vec<Vec<u32>> = found
        .iter()
        .map(|group| {
            group
                .pools
                .iter()
                .zip(&group.sizes)
                .map(|(&pool, &size)| {
                    let p = *number.entry(pool).or_insert_with(|| {
                        pools.push(pool);
                        sizes.push(0);
                        (pools.len() - 1) as u32
                    });
                    sizes[p as usize] += size as usize;
                    p
                })
                .collect()
        })
        .collect();
    drop(number);
    // 2. each pool's place in the score arrays, then each row's (in row order within a pool)
    let mut offsets = row_starts(&sizes);
    offsets.push(total);
    let mut cursor: Vec<u32> = offsets[..pools.len()].iter().map(|&o| o as u32).collect();
    for (group, renumber) in found.iter_mut().zip(&renumber) {
        for id in group.ids.iter_mut() {
            let p = renumber[*id as usize] as usize;
            *id = cursor[p];
            cursor[p] += 1;
        }
    }
    drop(cursor);
    let places: Vec<Vec<u32>> = found.into_iter().map(|g| g.ids).collect();
    // 3. the two score columns, each value at its row's place
    let (proxy, gold) = rayon::join(
        || scattered(&file, &plan.proxy_col, &places, total),
        || scattered(&file, &plan.gold_col, &places, total),
    );
    let (proxy, gold) = (proxy?, gold?);
    drop(places);
    release(file);
    step(total);
    // 4. the pools' estimates, in parallel
    let labels: Vec<(usize, String)> = pools.iter().map(|&(k, v)| (k, v.to_string())).collect();
    let size_of: Vec<(u32, usize)> = (0..pools.len() as u32).zip(sizes.iter().copied()).collect();
    let estimate = |weights: &PoolWeights<'_>| {
        let ids: Vec<u32> = (0..pools.len() as u32).collect();
        let done: Vec<(u32, PoolEstimate)> = ids
            .par_chunks(POOLS_PER_TASK)
            .map_init(Vec::new, |keys, task| {
                let mut block = PoolBlock::new();
                let mut out = Vec::with_capacity(task.len());
                for &p in task {
                    let (from, to) = (offsets[p as usize], offsets[p as usize + 1]);
                    let scores = (&proxy[from..to], &gold[from..to]);
                    block.push(p, scores, keys, weights, &mut out);
                }
                block.estimate(weights, &mut out);
                step(task.iter().map(|&p| sizes[p as usize]).sum());
                out
            })
            .flatten_iter()
            .collect();
        let mut ests: Vec<Option<PoolEstimate>> = (0..pools.len()).map(|_| None).collect();
        for (p, e) in done {
            ests[p as usize] = Some(e);
        }
        Some(ests)
    };
    let curves = curves_of_pools(plan, &labels, &size_of, opts, estimate)?;
    if let Some(b) = &bar {
        b.finish();
    }
    Some((curves, (pools.len(), total), super::ReadTogether::Counted))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row group's table of small prompts is bounded by the group's rows, not by its largest
    /// prompt below 2^20 (bug: 2,000 row groups of 1,000 rows took 11 GB).
    #[test]
    fn a_small_row_groups_table_of_prompts_stays_small() {
        let key_runs = [(0, 0)];
        let mut group = GroupPools::new(&key_runs, 0, 3);
        for v in [(1 << 20) - 1, 1 << 19, 1 << 19] {
            group.push(v);
        }
        assert!(group.numbers.table_len() <= 4 * 3 + 4096);
        assert_eq!(group.ids, [0, 1, 1]);
        assert_eq!(group.sizes, [1, 2]);
        // a group as large as its prompts uses the table
        let mut group = GroupPools::new(&key_runs, 0, 1 << 18);
        group.push(1 << 19);
        assert!(group.numbers.table_len() > 1 << 19);
    }
}
