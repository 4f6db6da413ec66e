//! What the two readers that read and estimate one Parquet Samples table in one go share
//! (`streamed`: rows grouped by prompt; `shuffled`: rows in any order): complete pools estimated
//! a block at a time, and the curves made from the pools' estimates as the general path makes
//! them.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::columnar::FilePlan;
use super::estimate::{
    BLOCK, BonCurve, BonOptions, PoolEstimate, Prepared, WeightSet, curve_from_estimates, curve_ns,
    estimate_prepared, prepare_columns, weight_cache_fits,
};
use crate::ingest::parquet_pages::ColumnPages;

/// The curves of a file read and estimated in one go, with its (pools, samples) and how it was
/// read.
pub(super) type Streamed = (Vec<BonCurve>, (usize, usize), super::ReadTogether);

/// The first row of each of consecutive ranges of `lens` rows.
pub(super) fn row_starts(lens: &[usize]) -> Vec<usize> {
    lens.iter()
        .scan(0, |at, &len| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect()
}

/// Drops a file's mapping on another thread (where no thread can be made, here).
pub(super) fn release(file: ColumnPages) {
    let _ = std::thread::Builder::new().spawn(move || drop(file));
}

/// Each pool's weights: the weight set of its key's n values and its size.
pub(super) type PoolWeights<'w> = dyn Fn(u32, usize) -> &'w WeightSet + Sync + 'w;

/// The curves of a planned file's `pools` ((key index, prompt) each) from their estimates:
/// `sizes` gives each pool's samples as (pool, samples) (every pool at least once, in any
/// order); `estimate` gives the estimates by pool, with each pool's weights. The curves are in
/// key order, each averaging its prompts in prompt order, as the general path makes them.
/// `None` when a pool has fewer than 2 samples, a key's n values are refused, the weights do
/// not fit the cache, or `estimate` gives `None`.
pub(super) fn curves_of_pools(
    plan: &FilePlan,
    pools: &[(usize, String)],
    sizes: &[(u32, usize)],
    opts: &BonOptions,
    estimate: impl for<'w> FnOnce(&PoolWeights<'w>) -> Option<Vec<Option<PoolEstimate>>>,
) -> Option<Vec<BonCurve>> {
    // Sizes, n values and weights of each key.
    let n_keys = plan.keys.len();
    let mut max_pool = vec![0usize; n_keys];
    for &(p, len) in sizes {
        if len < 2 {
            return None;
        }
        let k = pools[p as usize].0;
        max_pool[k] = max_pool[k].max(len);
    }
    // the n values of each key; keys with the same n values share their weight sets
    let mut ns: Vec<Vec<usize>> = Vec::with_capacity(n_keys);
    for (k, key) in plan.keys.iter().enumerate() {
        ns.push(curve_ns(key, max_pool[k], opts).ok()?);
    }
    let grid_of: Vec<usize> = (0..n_keys)
        .map(|k| (0..=k).find(|&j| ns[j] == ns[k]).unwrap_or(k))
        .collect();
    let mut set_keys: Vec<(usize, usize)> = sizes
        .iter()
        .map(|&(p, len)| (grid_of[pools[p as usize].0], len))
        .collect();
    set_keys.sort_unstable();
    set_keys.dedup();
    if !weight_cache_fits(set_keys.iter().map(|&(g, s)| (s, &ns[g][..]))) {
        return None;
    }
    let sets: BTreeMap<(usize, usize), WeightSet> = set_keys
        .par_iter()
        .map(|&(g, s)| ((g, s), WeightSet::new(s, &ns[g])))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let weights = |p: u32, len: usize| &sets[&(grid_of[pools[p as usize].0], len)];
    let mut ests = estimate(&weights)?;
    if ests.len() != pools.len() {
        return None;
    }
    // Curves in key order, each averaging its prompts in prompt order.
    let mut order: Vec<usize> = (0..n_keys).collect();
    order.sort_by_key(|&k| plan.keys[k]);
    let mut by_key: Vec<Vec<(&str, usize)>> = vec![Vec::new(); n_keys];
    for (i, (k, prompt)) in pools.iter().enumerate() {
        by_key[*k].push((prompt.as_str(), i));
    }
    let mut curves = Vec::with_capacity(n_keys);
    for (ci, &k) in order.iter().enumerate() {
        let list = &mut by_key[k];
        list.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let key_ests: Vec<PoolEstimate> = list
            .iter()
            .map(|&(_, i)| ests[i].take())
            .collect::<Option<_>>()?;
        curves.push(curve_from_estimates(
            plan.keys[k],
            ci,
            key_ests,
            &ns[k],
            opts,
        ));
    }
    Some(curves)
}

/// Complete pools waiting to be estimated together ([`BLOCK`] at a time, as the other paths
/// do; each pool's estimates depend only on its own samples), each prepared
/// ([`prepare_columns`]) with its size.
pub(super) struct PoolBlock {
    pools: Vec<(u32, usize)>,
    prepared: Vec<Prepared>,
}

impl PoolBlock {
    pub(super) fn new() -> PoolBlock {
        PoolBlock {
            pools: Vec::with_capacity(BLOCK),
            prepared: Vec::with_capacity(BLOCK),
        }
    }

    /// Adds the pool whose samples' scores are `proxy` and `gold` (in row order), and
    /// estimates the block when it is full.
    pub(super) fn push<'w>(
        &mut self,
        pool: u32,
        (proxy, gold): (&[f64], &[f64]),
        keys: &mut Vec<u64>,
        weights: &PoolWeights<'w>,
        out: &mut Vec<(u32, PoolEstimate)>,
    ) {
        self.pools.push((pool, proxy.len()));
        self.prepared.push(prepare_columns(proxy, gold, keys));
        if self.pools.len() == BLOCK {
            self.estimate(weights, out);
        }
    }

    pub(super) fn estimate<'w>(
        &mut self,
        weights: &PoolWeights<'w>,
        out: &mut Vec<(u32, PoolEstimate)>,
    ) {
        if self.pools.is_empty() {
            return;
        }
        let ws: Vec<&WeightSet> = self.pools.iter().map(|&(p, n)| weights(p, n)).collect();
        let ests = estimate_prepared(&self.prepared, &ws);
        out.extend(self.pools.drain(..).map(|(p, _)| p).zip(ests));
        self.prepared.clear();
    }
}
