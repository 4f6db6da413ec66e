//! The unbiased best-of-n estimator (Nakano et al. 2021, App. I) over pools of scored samples:
//! per-prompt BoN gold and proxy scores and the plug-in pool KL, their means and standard errors
//! over prompts, and prompt-bootstrap replicate curves.
//!
//! Results are byte-identical whatever the thread count: per-prompt work runs in parallel but
//! every sum over prompts runs in the pools' fixed (key, prompt) order, and each bootstrap
//! replicate draws from its own seeded ChaCha stream.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::samples::Pool;
use super::weights::{PoolKl, analytic_kl, bon_weights};
use crate::error::{Error, Result};
use crate::schema::CurveKey;

/// Which KL is written as `kl` (the column `goodhart fit` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KlChoice {
    /// ln n - (n - 1)/n, the paper's formula (an upper bound).
    Analytic,
    /// The plug-in KL of best-of-n (drawn with replacement) over each empirical pool,
    /// averaged over prompts ([`super::weights::pool_kl`]).
    Pool,
}

/// Options of `goodhart bon`.
#[derive(Debug, Clone, PartialEq)]
pub struct BonOptions {
    /// The n values; `None`: every n when the largest pool has <= 64 samples, else about 60
    /// log-spaced values from 1 to N.
    pub n: Option<Vec<usize>>,
    /// Prompt-bootstrap replicate curves to add (0: none).
    pub bootstrap: usize,
    pub seed: u64,
    pub kl: KlChoice,
}

impl Default for BonOptions {
    fn default() -> Self {
        BonOptions {
            n: None,
            bootstrap: 0,
            seed: 0,
            kl: KlChoice::Analytic,
        }
    }
}

/// One prompt's estimates, one entry per requested n that is <= the pool size.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolEstimate {
    pub gold: Vec<f64>,
    pub proxy: Vec<f64>,
    pub kl_pool: Vec<f64>,
}

/// One point of a best-of-n curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub n: usize,
    /// ln n - (n - 1)/n
    pub kl_analytic: f64,
    /// Mean over prompts of the plug-in pool KL ([`super::weights::pool_kl`]).
    pub kl_pool: f64,
    pub gold: f64,
    pub proxy: f64,
    /// Standard error over prompts; `None` with fewer than 2 prompts or no spread. Replicate
    /// points carry the point estimate's standard errors (the same fit weights).
    pub gold_se: Option<f64>,
    pub proxy_se: Option<f64>,
    /// Prompts averaged (pools with N >= n; for a replicate, draws of such pools).
    pub n_prompts: usize,
}

/// The best-of-n curve of one reward model, with its bootstrap replicates (1..=B).
#[derive(Debug, Clone)]
pub struct BonCurve {
    pub key: CurveKey,
    pub points: Vec<CurvePoint>,
    pub replicates: Vec<Vec<CurvePoint>>,
    /// Each prompt's estimates, in pool (prompt) order: the material of a prompt bootstrap
    /// (`goodhart fit` resamples them), written as the `gold_prompts`/`proxy_prompts` columns.
    pub prompts: Vec<PoolEstimate>,
}

/// The default n values for a largest pool of `max_pool` samples: all of 1..=N when N <= 64,
/// else 60 distinct values, log-spaced from 1 to N (1 and N included): the finest geometric
/// grid whose rounding to whole numbers leaves 60 distinct values.
pub fn default_n_grid(max_pool: usize) -> Vec<usize> {
    const TARGET: usize = 60;
    if max_pool <= 64 {
        return (1..=max_pool).collect();
    }
    let ln_n = (max_pool as f64).ln();
    let mut steps = TARGET - 1;
    loop {
        let mut grid: Vec<usize> = (0..=steps)
            .map(|k| ((k as f64 / steps as f64 * ln_n).exp().round() as usize).clamp(1, max_pool))
            .collect();
        grid.push(1);
        grid.push(max_pool);
        grid.sort_unstable();
        grid.dedup();
        if grid.len() >= TARGET || steps >= max_pool {
            return grid;
        }
        steps += 1;
    }
}

/// The weights of every requested n <= N for pools of N samples, and the pool KL without ties.
pub(super) struct WeightSet {
    ns: Vec<usize>,
    weights: Vec<Vec<f64>>,
    kl_untied: Vec<f64>,
}

impl WeightSet {
    pub(super) fn new(pool_size: usize, all_ns: &[usize]) -> WeightSet {
        let ns: Vec<usize> = all_ns.iter().copied().filter(|&n| n <= pool_size).collect();
        let weights: Vec<Vec<f64>> = ns.iter().map(|&n| bon_weights(pool_size, n)).collect();
        let untied = PoolKl::new(pool_size, None);
        let kl_untied = ns.iter().map(|&n| untied.kl(n)).collect();
        WeightSet {
            ns,
            weights,
            kl_untied,
        }
    }
}

/// The n values whose sums are made in one pass over a pool's scores.
const N_GROUP: usize = 4;

/// (Σᵢ wᵢ aᵢ, Σᵢ wᵢ bᵢ) over a whole pool: the definition every kernel of this file computes,
/// bit for bit. Term i goes to lane i mod 4 of four accumulators while i is below the last
/// multiple of 4 (the body), each term one fused multiply-add (a single rounding) in ascending
/// order; the lanes are summed as (l₀ + l₁) + (l₂ + l₃); the terms of the tail are then added in
/// order, fused too. A weight of 0 (every rank below n) adds an exact 0 to an accumulator
/// that is still +0, so a kernel may start at any multiple of 4 below the first nonzero weight.
///
/// On x86-64 CPUs with AVX2 and FMA, each lane is one lane of a vector ([`avx2`]); elsewhere
/// `f64::mul_add`, which Rust specifies as rounded once, is the same operation (without
/// hardware FMA it calls the platform's `fma`: slower, and only as exact as that library), so
/// the bits do not depend on the CPU.
#[cfg(test)]
fn lane_sums(w: &[f64], a: &[f64], b: &[f64]) -> (f64, f64) {
    assert!(a.len() == w.len() && b.len() == w.len());
    let body = w.len() / 4 * 4;
    let (mut acc_a, mut acc_b) = ([0.0_f64; 4], [0.0_f64; 4]);
    for i in 0..body {
        acc_a[i % 4] = w[i].mul_add(a[i], acc_a[i % 4]);
        acc_b[i % 4] = w[i].mul_add(b[i], acc_b[i % 4]);
    }
    let (mut sa, mut sb) = (lanes_total(acc_a), lanes_total(acc_b));
    for i in body..w.len() {
        sa = w[i].mul_add(a[i], sa);
        sb = w[i].mul_add(b[i], sb);
    }
    (sa, sb)
}

/// The four lanes of an accumulator summed as [`lane_sums`] sums them.
#[inline(always)]
fn lanes_total(v: [f64; 4]) -> f64 {
    (v[0] + v[1]) + (v[2] + v[3])
}

/// A pool's scores ready for the weights: gold and proxy in rank order, tied gold averaged, and
/// the pool KL of its tie groups when it has ties.
pub(super) struct Prepared {
    gold: Vec<f64>,
    proxy: Vec<f64>,
    tied_kl: Option<PoolKl>,
}

/// [`prepare`] of the pool whose i-th sample has scores (`proxy[i]`, `gold[i]`), without
/// building its sorted pairs: the samples' order is found by sorting 64-bit keys as
/// [`super::samples::sort_scores`] does, and the scores are gathered in that order. A pool
/// whose sort needs the pairs (proxies that differ only in their lowest bits, ties, or more
/// than 2^16 samples) is prepared from its sorted pairs, so every pool is prepared exactly as
/// `prepare(sort_scores(pairs))` prepares it. `keys` is a reused buffer.
pub(super) fn prepare_columns(proxy: &[f64], gold: &[f64], keys: &mut Vec<u64>) -> Prepared {
    let n = proxy.len();
    let from_pairs = || {
        let mut pairs: Vec<(f64, f64)> = proxy.iter().copied().zip(gold.iter().copied()).collect();
        super::samples::sort_scores(&mut pairs);
        prepare(&pairs)
    };
    if !(2..=1 << 16).contains(&n) {
        return from_pairs();
    }
    let mask = super::samples::index_keys(proxy.iter().copied(), keys);
    // distinct heads: the keys order the proxies strictly (no run to sort by gold)
    if keys.windows(2).any(|w| w[0] & !mask == w[1] & !mask) {
        return from_pairs();
    }
    let order = || keys.iter().map(|&k| (k & mask) as usize);
    let sorted_proxy: Vec<f64> = order().map(|i| proxy[i]).collect();
    // proxies equal as numbers (0 and -0) are ties
    if sorted_proxy.windows(2).any(|w| w[0] == w[1]) {
        return from_pairs();
    }
    Prepared {
        gold: order().map(|i| gold[i]).collect(),
        proxy: sorted_proxy,
        tied_kl: None,
    }
}

/// Prepares one pool whose samples are sorted by (proxy, gold).
///
/// Tied proxy scores share their group's total weight equally, which is the same as replacing
/// each tied sample's scores by the group's mean score and using the untied weights.
fn prepare(sorted: &[(f64, f64)]) -> Prepared {
    let big_n = sorted.len();
    let mut group_ends: Vec<usize> = Vec::new();
    let mut gold: Vec<f64> = sorted.iter().map(|s| s.1).collect();
    let proxy: Vec<f64> = sorted.iter().map(|s| s.0).collect();
    let tied = sorted.windows(2).any(|w| w[0].0 == w[1].0);
    if tied {
        let mut start = 0;
        while start < big_n {
            let mut end = start + 1;
            while end < big_n && sorted[end].0 == sorted[start].0 {
                end += 1;
            }
            if end - start > 1 {
                let mean = gold[start..end].iter().sum::<f64>() / (end - start) as f64;
                gold[start..end].fill(mean);
            }
            group_ends.push(end);
            start = end;
        }
    }
    let tied_kl = tied.then(|| PoolKl::new(big_n, Some(&group_ends)));
    Prepared {
        gold,
        proxy,
        tied_kl,
    }
}

/// Pools estimated together: each n's weights are used for every pool of the block while they
/// are in cache (pools of one size share them), instead of streaming all the weights once per
/// pool.
pub(super) const BLOCK: usize = 8;

/// The estimates of a block of pools sorted by (proxy, gold), each with the weights of its size.
/// Every number is computed as for a pool alone: [`lane_sums`] of each n.
///
/// The sums of up to [`N_GROUP`] n values are made in one pass over a pool's scores: the scores
/// are loaded once for all of them, and their 2 × 4 accumulators are independent chains. On
/// x86-64 CPUs with AVX2 and FMA the same code is compiled for them and chosen at run time:
/// each four-lane accumulator becomes one vector, with the bits of the generic code.
pub(super) fn estimate_block(sorted: &[&[(f64, f64)]], sets: &[&WeightSet]) -> Vec<PoolEstimate> {
    let prepared: Vec<Prepared> = sorted.iter().map(|s| prepare(s)).collect();
    estimate_prepared(&prepared, sets)
}

/// [`estimate_block`] of pools already prepared ([`prepare`], [`prepare_columns`]).
pub(super) fn estimate_prepared(prepared: &[Prepared], sets: &[&WeightSet]) -> Vec<PoolEstimate> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { estimate_block_avx2(prepared, sets) };
    }
    estimate_block_generic::<false>(prepared, sets)
}

/// [`estimate_block_generic`] with the AVX2 sums of [`avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn estimate_block_avx2(prepared: &[Prepared], sets: &[&WeightSet]) -> Vec<PoolEstimate> {
    estimate_block_generic::<true>(prepared, sets)
}

/// The block's estimates, with the sums of [`avx2`] when `AVX2` (only ever true on a CPU that
/// has AVX2 and FMA), else the generic [`group_sums`].
#[inline(always)]
fn estimate_block_generic<const AVX2: bool>(
    prepared: &[Prepared],
    sets: &[&WeightSet],
) -> Vec<PoolEstimate> {
    let mut ests: Vec<PoolEstimate> = sets
        .iter()
        .map(|ws| PoolEstimate {
            gold: Vec::with_capacity(ws.ns.len()),
            proxy: Vec::with_capacity(ws.ns.len()),
            kl_pool: Vec::with_capacity(ws.ns.len()),
        })
        .collect();
    let k_max = sets.iter().map(|ws| ws.ns.len()).max().unwrap_or(0);
    // the pools of the block take their turn at each group of n values, so that the group's
    // weights stay in cache from one pool to the next
    for j in (0..k_max).step_by(N_GROUP) {
        for ((pr, ws), est) in prepared.iter().zip(sets).zip(&mut ests) {
            let k = ws.ns.len();
            if j >= k {
                continue;
            }
            // the group's smallest n (the n values ascend): every weight below its rank is 0
            let from = (ws.ns[j] - 1) / 4 * 4;
            let w = |d: usize| &ws.weights[j + d][..];
            let scores = (&pr.gold[..], &pr.proxy[..]);
            let mut push = |sums: &[(f64, f64)]| {
                for &(g, p) in sums {
                    est.gold.push(g);
                    est.proxy.push(p);
                }
            };
            match k - j {
                1 => push(&sums::<AVX2, 1>([w(0)], from, scores)),
                2 => push(&sums::<AVX2, 2>([w(0), w(1)], from, scores)),
                3 => push(&sums::<AVX2, 3>([w(0), w(1), w(2)], from, scores)),
                _ => push(&sums::<AVX2, 4>([w(0), w(1), w(2), w(3)], from, scores)),
            }
        }
    }
    for ((pr, ws), est) in prepared.iter().zip(sets).zip(&mut ests) {
        for (j, &n) in ws.ns.iter().enumerate() {
            est.kl_pool.push(match &pr.tied_kl {
                Some(t) => t.kl(n),
                None => ws.kl_untied[j],
            });
        }
    }
    ests
}

/// [`group_sums`], by [`avx2::group_sums`] when `AVX2`.
#[inline(always)]
fn sums<const AVX2: bool, const K: usize>(
    ws: [&[f64]; K],
    from: usize,
    scores: (&[f64], &[f64]),
) -> [(f64, f64); K] {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: `AVX2` is true only under estimate_block_avx2, called once AVX2 and FMA were
        // detected.
        return unsafe { avx2::group_sums(ws, from, scores) };
    }
    group_sums(ws, from, scores)
}

/// [`lane_sums`] of K weight vectors over the same scores `(a, b)` in one pass, starting at
/// `from` (a multiple of 4 below which every weight of the K is 0).
#[inline(always)]
fn group_sums<const K: usize>(
    ws: [&[f64]; K],
    from: usize,
    (a, b): (&[f64], &[f64]),
) -> [(f64, f64); K] {
    let len = a.len();
    assert!(b.len() == len && ws.iter().all(|w| w.len() == len) && from.is_multiple_of(4));
    let body = len / 4 * 4;
    let mut acc = [[[0.0_f64; 4]; 2]; K];
    for at in (from..body).step_by(4) {
        let (x, y) = (&a[at..at + 4], &b[at..at + 4]);
        for (w, acc) in ws.iter().zip(&mut acc) {
            let w = &w[at..at + 4];
            for l in 0..4 {
                acc[0][l] = w[l].mul_add(x[l], acc[0][l]);
                acc[1][l] = w[l].mul_add(y[l], acc[1][l]);
            }
        }
    }
    let mut totals = [(0.0, 0.0); K];
    for (t, acc) in totals.iter_mut().zip(&acc) {
        *t = (lanes_total(acc[0]), lanes_total(acc[1]));
    }
    add_tails(totals, ws, body.max(from), (a, b))
}

/// [`lane_sums`] of K weight vectors from their lanes' totals `(Σa, Σb)`: the terms from `tail`
/// (the end of the body) on added in order, fused.
#[inline(always)]
fn add_tails<const K: usize>(
    mut totals: [(f64, f64); K],
    ws: [&[f64]; K],
    tail: usize,
    (a, b): (&[f64], &[f64]),
) -> [(f64, f64); K] {
    for ((sa, sb), w) in totals.iter_mut().zip(ws) {
        for i in tail..a.len() {
            *sa = w[i].mul_add(a[i], *sa);
            *sb = w[i].mul_add(b[i], *sb);
        }
    }
    totals
}

/// [`super::group_sums`] with each four-lane accumulator in one vector: every lane takes the
/// same fused multiply-adds in the same order, and the lanes and the tail are summed as there,
/// so the results are its bits.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// The lanes summed as [`super::lanes_total`] sums them.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn total(v: __m256d) -> f64 {
        let mut l = [0.0_f64; 4];
        // SAFETY: `l` holds four f64.
        unsafe { _mm256_storeu_pd(l.as_mut_ptr(), v) };
        super::lanes_total(l)
    }

    /// [`super::group_sums`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn group_sums<const K: usize>(
        ws: [&[f64]; K],
        from: usize,
        (a, b): (&[f64], &[f64]),
    ) -> [(f64, f64); K] {
        let len = a.len();
        assert!(b.len() == len && ws.iter().all(|w| w.len() == len) && from.is_multiple_of(4));
        let body = len / 4 * 4;
        let mut acc = [[_mm256_setzero_pd(); 2]; K];
        let mut at = from;
        while at < body {
            // SAFETY: at + 4 <= body <= len, the length of a, b and every w (asserted).
            unsafe {
                let x = _mm256_loadu_pd(a.as_ptr().add(at));
                let y = _mm256_loadu_pd(b.as_ptr().add(at));
                for k in 0..K {
                    let w = _mm256_loadu_pd(ws[k].as_ptr().add(at));
                    acc[k][0] = _mm256_fmadd_pd(w, x, acc[k][0]);
                    acc[k][1] = _mm256_fmadd_pd(w, y, acc[k][1]);
                }
            }
            at += 4;
        }
        // (no closure over `acc`: its address must not escape, or the loop above stores it
        // on every step)
        let mut totals = [(0.0, 0.0); K];
        for (t, acc) in totals.iter_mut().zip(&acc) {
            *t = (total(acc[0]), total(acc[1]));
        }
        super::add_tails(totals, ws, body.max(from), (a, b))
    }
}

/// The estimates of one pool of (proxy, gold) samples in any order, for every n in `ns` that
/// is <= the pool size (in the order of `ns`, which must be ascending).
pub fn estimate_pool(samples: &[(f64, f64)], ns: &[usize]) -> PoolEstimate {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let ws = WeightSet::new(sorted.len(), ns);
    estimate_block(&[&sorted], &[&ws]).remove(0)
}

/// [`estimate_pool`] of many pools (each in any order), with the weights computed once per pool
/// size instead of once per pool: the same numbers, bit for bit (every pool of a block is
/// estimated as alone), in the order of `pools`.
///
/// The weights of a pool of N samples cost O(N) exponentials per n, as much as estimating a
/// pool; the Goodhart decomposition and the initial-policy references estimate every pool of a
/// Samples table (twice: by proxy and by gold), so sharing them is most of their time.
pub fn estimate_pools_of(pools: &[&[(f64, f64)]], ns: &[usize]) -> Vec<PoolEstimate> {
    let sorted: Vec<Vec<(f64, f64)>> = pools
        .par_iter()
        .map(|samples| {
            let mut sorted = samples.to_vec();
            sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            sorted
        })
        .collect();
    let slices: Vec<&[(f64, f64)]> = sorted.iter().map(|s| &s[..]).collect();
    estimate_sorted_pools(&slices, ns)
}

/// Per-pool estimates of pools sorted by (proxy, gold), in pool order, sharing the weight sets
/// of equal sizes when they fit [`WEIGHT_CACHE_BYTES`]. A pool out of that order gives wrong
/// estimates (each pool's order is checked in debug builds).
pub(crate) fn estimate_sorted_pools(pools: &[&[(f64, f64)]], ns: &[usize]) -> Vec<PoolEstimate> {
    debug_assert!(
        pools
            .iter()
            .all(|p| p.windows(2).all(|w| w[0].0.total_cmp(&w[1].0).is_le()))
    );
    let mut sizes: Vec<usize> = pools.iter().map(|p| p.len()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    if weight_cache_fits(sizes.iter().map(|&s| (s, ns))) {
        let sets: BTreeMap<usize, WeightSet> = sizes
            .par_iter()
            .map(|&s| (s, WeightSet::new(s, ns)))
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        pools
            .par_chunks(BLOCK)
            .flat_map_iter(|block| {
                let ws: Vec<&WeightSet> = block.iter().map(|p| &sets[&p.len()]).collect();
                estimate_block(block, &ws)
            })
            .collect()
    } else {
        pools
            .par_iter()
            .map(|p| {
                let ws = WeightSet::new(p.len(), ns);
                estimate_block(&[p], &[&ws]).remove(0)
            })
            .collect()
    }
}

/// Weight sets are shared by pools of equal size when they fit in this many bytes.
const WEIGHT_CACHE_BYTES: usize = 512 << 20;

/// Whether the weight sets of these (pool size, n values) fit the cache of shared weights.
pub(super) fn weight_cache_fits<'a>(sets: impl Iterator<Item = (usize, &'a [usize])>) -> bool {
    let bytes: usize = sets
        .map(|(s, ns)| s * ns.iter().filter(|&&n| n <= s).count() * 8)
        .sum();
    bytes <= WEIGHT_CACHE_BYTES
}

/// Per-pool estimates of the pools of one curve, in pool order.
fn estimate_pools(pools: &[&Pool], ns: &[usize]) -> Vec<PoolEstimate> {
    let scores: Vec<&[(f64, f64)]> = pools.iter().map(|p| &p.scores[..]).collect();
    estimate_sorted_pools(&scores, ns)
}

/// The standard error of a mean from the sum of squared deviations `ss` of `m` values (None
/// with fewer than 2 values or no spread).
fn se_of(ss: f64, m: usize) -> Option<f64> {
    if m < 2 {
        return None;
    }
    let se = (ss / (m - 1) as f64).sqrt() / (m as f64).sqrt();
    (se > 0.0 && se.is_finite()).then_some(se)
}

/// The point estimate of a curve: for each n, the mean over prompts whose pool has N >= n,
/// and its standard error. The sums run prompt by prompt (each prompt's estimates are
/// contiguous in memory), adding the prompts in their order for every n: the same sums, in the
/// same order, as one pass over the prompts per n.
fn point_curve(ests: &[PoolEstimate], ns: &[usize]) -> Vec<CurvePoint> {
    let k = ns.len();
    let (mut gold, mut proxy, mut kl_pool) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
    let mut reach = vec![0usize; k + 1];
    for e in ests {
        let len = e.gold.len().min(k);
        reach[len] += 1;
        for (s, x) in gold.iter_mut().zip(&e.gold[..len]) {
            *s += x;
        }
        for (s, x) in proxy.iter_mut().zip(&e.proxy[..len]) {
            *s += x;
        }
        for (s, x) in kl_pool.iter_mut().zip(&e.kl_pool[..len]) {
            *s += x;
        }
    }
    // m[j]: prompts whose pool reaches the j-th n value
    let mut m = vec![0usize; k];
    let mut running = 0;
    for j in (0..k).rev() {
        running += reach[j + 1];
        m[j] = running;
    }
    let mean =
        |sums: &[f64]| -> Vec<f64> { sums.iter().zip(&m).map(|(s, &c)| s / c as f64).collect() };
    let (gold, proxy, kl_pool) = (mean(&gold), mean(&proxy), mean(&kl_pool));
    let (mut gold_ss, mut proxy_ss) = (vec![0.0; k], vec![0.0; k]);
    for e in ests {
        let len = e.gold.len().min(k);
        for ((s, x), mu) in gold_ss.iter_mut().zip(&e.gold[..len]).zip(&gold) {
            *s += (x - mu) * (x - mu);
        }
        for ((s, x), mu) in proxy_ss.iter_mut().zip(&e.proxy[..len]).zip(&proxy) {
            *s += (x - mu) * (x - mu);
        }
    }
    (0..k)
        .map(|j| CurvePoint {
            n: ns[j],
            kl_analytic: analytic_kl(ns[j]),
            kl_pool: kl_pool[j],
            gold: gold[j],
            proxy: proxy[j],
            gold_se: se_of(gold_ss[j], m[j]),
            proxy_se: se_of(proxy_ss[j], m[j]),
            n_prompts: m[j],
        })
        .collect()
}

/// The per-prompt estimates of one curve laid out for resampling: one row of 3K numbers per
/// prompt (gold, proxy, kl_pool for each of the K n values; entries past the prompt's pool size
/// unused), and the number of n values each prompt's pool reaches.
struct EstimateRows {
    k: usize,
    rows: Vec<f64>,
    reach: Vec<usize>,
}

impl EstimateRows {
    fn new(ests: &[PoolEstimate], k: usize) -> EstimateRows {
        let mut rows = vec![0.0; ests.len() * 3 * k];
        for (e, row) in ests.iter().zip(rows.chunks_exact_mut(3 * k)) {
            let len = e.gold.len();
            row[..len].copy_from_slice(&e.gold);
            row[k..k + len].copy_from_slice(&e.proxy);
            row[2 * k..2 * k + len].copy_from_slice(&e.kl_pool);
        }
        EstimateRows {
            k,
            rows,
            reach: ests.iter().map(|e| e.gold.len()).collect(),
        }
    }
}

/// Replicates made together by [`replicate_curves`]: their sums run over the prompts' rows a
/// block of [`PROMPT_BLOCK`] prompts at a time, so each block is read from memory once for the
/// group instead of once per replicate (the rows of 10^4 prompts take 14 MB).
const REPLICATE_GROUP: usize = 16;

/// Prompts whose rows a group of replicates sums together ([`replicate_curves`]).
const PROMPT_BLOCK: usize = 64;

/// `b` prompt-bootstrap replicates of one curve (its index `ci` in the streams), made in
/// parallel groups. Replicate r draws m prompts with replacement from its own ChaCha stream
/// (`seed`, stream ci << 32 | r); an n that no drawn prompt reaches has no point in the
/// replicate. Each replicate's sums run over prompts in their fixed order, as for the point
/// estimate, so grouping does not change a bit.
fn replicate_curves(
    est: &EstimateRows,
    point: &[CurvePoint],
    (seed, ci): (u64, u64),
    b: usize,
) -> Vec<Vec<CurvePoint>> {
    let m = est.reach.len();
    let k = est.k;
    let groups: Vec<std::ops::Range<usize>> = (0..b)
        .step_by(REPLICATE_GROUP)
        .map(|r| r..(r + REPLICATE_GROUP).min(b))
        .collect();
    groups
        .into_par_iter()
        .flat_map_iter(|group| {
            let counts: Vec<Vec<u32>> = group
                .clone()
                .map(|r| {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream((ci << 32) | r as u64);
                    let mut counts = vec![0u32; m];
                    for _ in 0..m {
                        counts[rng.random_range(0..m)] += 1;
                    }
                    counts
                })
                .collect();
            let mut sums = vec![vec![0.0; 3 * k]; counts.len()];
            for start in (0..m).step_by(PROMPT_BLOCK) {
                let end = (start + PROMPT_BLOCK).min(m);
                let rows = &est.rows[start * 3 * k..end * 3 * k];
                let reach = &est.reach[start..end];
                let every_n = reach.iter().all(|&len| len == k);
                for (counts, sums) in counts.iter().zip(&mut sums) {
                    if every_n {
                        add_rows(sums, rows, &counts[start..end]);
                    } else {
                        add_rows_reaching(sums, rows, &counts[start..end], reach);
                    }
                }
            }
            counts
                .into_iter()
                .zip(sums)
                .map(|(counts, sums)| replicate_points(est, point, &counts, &sums))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// sums[j] += c_p rows_p[j] for every row p (of `sums.len()` numbers) with its count c_p > 0,
/// in row order: each sum adds the same products in the same order as one row at a time, but
/// sixteen sums stay in registers over the rows, with AVX2 where the CPU has it (a multiply
/// then an add, never fused, per sum: the same bits).
fn add_rows(sums: &mut [f64], rows: &[f64], counts: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { add_rows_avx2(sums, rows, counts) };
    }
    add_rows_generic(sums, rows, counts);
}

/// [`add_rows_generic`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_rows_avx2(sums: &mut [f64], rows: &[f64], counts: &[u32]) {
    add_rows_generic(sums, rows, counts);
}

#[inline(always)]
fn add_rows_generic(sums: &mut [f64], rows: &[f64], counts: &[u32]) {
    const LANES: usize = 16;
    let width = sums.len();
    let mut j = 0;
    while j + LANES <= width {
        let mut acc = [0.0_f64; LANES];
        acc.copy_from_slice(&sums[j..j + LANES]);
        for (row, &c) in rows.chunks_exact(width).zip(counts) {
            if c == 0 {
                continue;
            }
            let cf = c as f64;
            for (a, x) in acc.iter_mut().zip(&row[j..j + LANES]) {
                *a += cf * x;
            }
        }
        sums[j..j + LANES].copy_from_slice(&acc);
        j += LANES;
    }
    for (row, &c) in rows.chunks_exact(width).zip(counts) {
        if c == 0 {
            continue;
        }
        let cf = c as f64;
        for (s, x) in sums[j..].iter_mut().zip(&row[j..]) {
            *s += cf * x;
        }
    }
}

/// [`add_rows`] for rows whose prompts reach `reach[p]` of the `sums.len() / 3` n values each:
/// only the reached entries of each of a row's three parts (gold, proxy, kl_pool) are added.
fn add_rows_reaching(sums: &mut [f64], rows: &[f64], counts: &[u32], reach: &[usize]) {
    let k = sums.len() / 3;
    for ((row, &c), &len) in rows.chunks_exact(3 * k).zip(counts).zip(reach) {
        if c == 0 {
            continue;
        }
        let cf = c as f64;
        for part in 0..3 {
            let span = part * k..part * k + len;
            for (s, x) in sums[span.clone()].iter_mut().zip(&row[span]) {
                *s += cf * x;
            }
        }
    }
}

/// A replicate's points from its draws of each prompt and its sums of their estimates.
fn replicate_points(
    est: &EstimateRows,
    point: &[CurvePoint],
    counts: &[u32],
    sums: &[f64],
) -> Vec<CurvePoint> {
    let k = est.k;
    // draws_reaching[l]: draws of prompts whose pool reaches exactly l n values
    let mut draws_reaching = vec![0usize; k + 1];
    for (&c, &len) in counts.iter().zip(&est.reach) {
        draws_reaching[len] += c as usize;
    }
    let mut draws = vec![0usize; k];
    let mut running = 0usize;
    for j in (0..k).rev() {
        running += draws_reaching[j + 1];
        draws[j] = running;
    }
    (0..k)
        .filter(|&j| draws[j] > 0)
        .map(|j| {
            let d = draws[j] as f64;
            CurvePoint {
                gold: sums[j] / d,
                proxy: sums[k + j] / d,
                kl_pool: sums[2 * k + j] / d,
                n_prompts: draws[j],
                ..point[j].clone()
            }
        })
        .collect()
}

/// The n values of a curve whose largest pool has `max_pool` samples: `opts.n` sorted and
/// deduplicated (an error when one is above `max_pool`), else [`default_n_grid`].
pub(crate) fn curve_ns(key: &CurveKey, max_pool: usize, opts: &BonOptions) -> Result<Vec<usize>> {
    match &opts.n {
        None => Ok(default_n_grid(max_pool)),
        Some(ns) => {
            let ns = sorted_ns(ns)?;
            if let Some(&big) = ns.iter().find(|&&n| n > max_pool) {
                return Err(Error::Analysis(format!(
                    "--n {big} is above every pool size of curve {key} (its largest pool has {max_pool} samples): best-of-{big} needs at least {big} samples of one prompt"
                )));
            }
            Ok(ns)
        }
    }
}

/// `--n` sorted and deduplicated; an error for n = 0.
pub(crate) fn sorted_ns(ns: &[usize]) -> Result<Vec<usize>> {
    if ns.contains(&0) {
        return Err(Error::Usage(
            "--n: n must be a whole number >= 1".to_string(),
        ));
    }
    let mut ns = ns.to_vec();
    ns.sort_unstable();
    ns.dedup();
    Ok(ns)
}

/// The curve of the `ci`-th key (0-based, in key order) from its pools' estimates (in prompt
/// order) at the n values `ns`: the point estimate and `opts.bootstrap` replicates.
pub(crate) fn curve_from_estimates(
    key: CurveKey,
    ci: usize,
    ests: Vec<PoolEstimate>,
    ns: &[usize],
    opts: &BonOptions,
) -> BonCurve {
    let points = point_curve(&ests, ns);
    let replicates: Vec<Vec<CurvePoint>> = if opts.bootstrap > 0 {
        let rows = EstimateRows::new(&ests, ns.len());
        replicate_curves(&rows, &points, (opts.seed, ci as u64), opts.bootstrap)
    } else {
        Vec::new()
    };
    BonCurve {
        key,
        points,
        replicates,
        prompts: ests,
    }
}

/// The pools grouped by key (consecutive runs of one key), in pool order.
pub(crate) fn group_by_key(pools: &[Pool]) -> Vec<(CurveKey, Vec<&Pool>)> {
    let mut groups: Vec<(CurveKey, Vec<&Pool>)> = Vec::new();
    for p in pools {
        match groups.last_mut() {
            Some((key, list)) if *key == p.key => list.push(p),
            _ => groups.push((p.key, vec![p])),
        }
    }
    groups
}

/// Per-pool estimates of the pools of one curve at the n values `ns` (each pool: the n <= its
/// size), in pool order.
pub(crate) fn pool_estimates(pools: &[&Pool], ns: &[usize]) -> Vec<PoolEstimate> {
    estimate_pools(pools, ns)
}

/// Best-of-n curves of every reward model (key) among the pools, which must be sorted by
/// (key, prompt) as [`super::samples::read_samples`] returns them.
pub fn bon_curves(pools: &[Pool], opts: &BonOptions) -> Result<Vec<BonCurve>> {
    bon_curves_observed(pools, opts, &crate::progress::Silent)
}

/// [`bon_curves`], reporting each reward model's curve to `progress` (a stage when there are
/// several).
pub fn bon_curves_observed(
    pools: &[Pool],
    opts: &BonOptions,
    progress: &dyn crate::progress::Observer,
) -> Result<Vec<BonCurve>> {
    if let Some(ns) = &opts.n {
        sorted_ns(ns)?;
    }
    let groups = group_by_key(pools);
    let bar = (groups.len() > 1).then(|| progress.stage("reward models", groups.len() as u64));
    let mut curves = Vec::with_capacity(groups.len());
    for (ci, (key, list)) in groups.iter().enumerate() {
        let curve = curve_of(*key, ci, list, opts);
        if let Some(b) = &bar {
            b.inc(1);
        }
        match curve {
            Ok(c) => curves.push(c),
            Err(e) => {
                if let Some(b) = &bar {
                    b.finish();
                }
                return Err(e);
            }
        }
    }
    if let Some(b) = &bar {
        b.finish();
    }
    Ok(curves)
}

/// The curve of the `ci`-th key (0-based, in key order) from its pools (in prompt order), as
/// [`bon_curves`] makes it: for reading the pools of one reward model at a time.
pub(crate) fn curve_of(
    key: CurveKey,
    ci: usize,
    pools: &[&Pool],
    opts: &BonOptions,
) -> Result<BonCurve> {
    let max_pool = pools.iter().map(|p| p.scores.len()).max().unwrap_or(0);
    let ns = curve_ns(&key, max_pool, opts)?;
    let ests = estimate_pools(pools, &ns);
    Ok(curve_from_estimates(key, ci, ests, &ns, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sums of rows with sixteen sums in registers, generic and AVX2 (where the CPU has
    /// it), are those of one row at a time, bit for bit, for widths below, at and above sixteen.
    #[test]
    fn rows_summed_in_registers_are_rows_summed_one_at_a_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for width in [3, 16, 21, 33, 180] {
            let n_rows = 70;
            let rows: Vec<f64> = (0..n_rows * width)
                .map(|_| rng.random_range(-3.0..3.0) * 10f64.powi(rng.random_range(-6..6)))
                .collect();
            let counts: Vec<u32> = (0..n_rows).map(|_| rng.random_range(0..4)).collect();
            let start: Vec<f64> = (0..width).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut expected = start.clone();
            for (row, &c) in rows.chunks_exact(width).zip(&counts) {
                if c > 0 {
                    for (s, x) in expected.iter_mut().zip(row) {
                        *s += c as f64 * x;
                    }
                }
            }
            let mut generic = start.clone();
            add_rows_generic(&mut generic, &rows, &counts);
            assert_eq!(generic, expected, "width {width}");
            let mut chosen = start.clone();
            add_rows(&mut chosen, &rows, &counts);
            assert_eq!(chosen, expected, "width {width}");
        }
    }

    /// The replicates made in groups over blocks of prompts are, bit for bit, those made one
    /// replicate at a time with its prompts' rows summed in prompt order (the reference below):
    /// prompts whose pools reach every n, prompts that reach fewer (in blocks of their own and
    /// mixed with full ones), a number of prompts that is not a multiple of the block, widths
    /// 3K below and above the sixteen sums kept in registers, and a replicate count that is not
    /// a multiple of the group.
    #[test]
    fn replicates_made_in_groups_are_those_made_one_at_a_time() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (m, k, short) in [(150, 7, 0.0), (200, 60, 0.0), (130, 11, 0.3), (70, 3, 1.0)] {
            let ests: Vec<PoolEstimate> = (0..m)
                .map(|p| {
                    // the second block's prompts all fall short when some do
                    let reach = if short > 0.0 && (p / PROMPT_BLOCK == 1 || rng.random_bool(short))
                    {
                        rng.random_range(1..=k)
                    } else {
                        k
                    };
                    let mut v = || -> Vec<f64> {
                        (0..reach)
                            .map(|_| {
                                rng.random_range(-3.0..3.0) * 10f64.powi(rng.random_range(-4..4))
                            })
                            .collect()
                    };
                    PoolEstimate {
                        gold: v(),
                        proxy: v(),
                        kl_pool: v(),
                    }
                })
                .collect();
            let ns: Vec<usize> = (1..=k).collect();
            let points = point_curve(&ests, &ns);
            let rows = EstimateRows::new(&ests, k);
            let b = 37;
            let made = replicate_curves(&rows, &points, (9, 2), b);
            assert_eq!(made.len(), b);
            for (r, replicate) in made.iter().enumerate() {
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                rng.set_stream((2 << 32) | r as u64);
                let mut counts = vec![0u32; m];
                for _ in 0..m {
                    counts[rng.random_range(0..m)] += 1;
                }
                let mut sums = vec![0.0; 3 * k];
                for (e, &c) in ests.iter().zip(&counts) {
                    if c == 0 {
                        continue;
                    }
                    for (part, v) in [&e.gold, &e.proxy, &e.kl_pool].into_iter().enumerate() {
                        for (j, x) in v.iter().enumerate() {
                            sums[part * k + j] += c as f64 * x;
                        }
                    }
                }
                let expected = replicate_points(&rows, &points, &counts, &sums);
                assert_eq!(replicate, &expected, "m {m}, k {k}, replicate {r}");
                assert!(!expected.is_empty());
            }
        }
    }

    /// The sums of up to four n values in one pass, generic and (where the CPU has them) AVX2
    /// with FMA, are each n's [`lane_sums`] over the whole pool, bit for bit: lengths of every
    /// remainder mod 4, leading zero weights up to a group's start, and groups of 1 to 4.
    #[test]
    fn group_sums_are_lane_sums_bit_for_bit() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for len in [1usize, 3, 4, 5, 9, 17, 64, 999, 1000] {
            let v = |zeros: usize, rng: &mut ChaCha8Rng| -> Vec<f64> {
                (0..len)
                    .map(|i| {
                        if i < zeros {
                            0.0
                        } else {
                            rng.random_range(-1e3..1e3)
                        }
                    })
                    .collect()
            };
            let (a, b) = (v(0, &mut rng), v(0, &mut rng));
            // the group's first n has the fewest leading zeros
            let first = rng.random_range(0..len);
            let ws: Vec<Vec<f64>> = (0..4)
                .map(|d| {
                    let zeros = (first + d * rng.random_range(0..4)).min(len - 1);
                    v(zeros, &mut rng)
                })
                .collect();
            let from = first / 4 * 4;
            let expected: Vec<(f64, f64)> = ws.iter().map(|w| lane_sums(w, &a, &b)).collect();
            let bits = |v: &[(f64, f64)]| {
                v.iter()
                    .map(|(x, y)| (x.to_bits(), y.to_bits()))
                    .collect::<Vec<_>>()
            };
            let check = |got: &[(f64, f64)], k: usize, how: &str| {
                assert_eq!(bits(got), bits(&expected[..k]), "{how}, len {len}, k {k}");
            };
            let w = |d: usize| &ws[d][..];
            check(&group_sums([w(0)], from, (&a, &b)), 1, "generic");
            check(&group_sums([w(0), w(1)], from, (&a, &b)), 2, "generic");
            check(
                &group_sums([w(0), w(1), w(2)], from, (&a, &b)),
                3,
                "generic",
            );
            check(
                &group_sums([w(0), w(1), w(2), w(3)], from, (&a, &b)),
                4,
                "generic",
            );
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU has AVX2 and FMA (checked).
                unsafe {
                    check(&avx2::group_sums([w(0)], from, (&a, &b)), 1, "avx2");
                    check(&avx2::group_sums([w(0), w(1)], from, (&a, &b)), 2, "avx2");
                    let three = avx2::group_sums([w(0), w(1), w(2)], from, (&a, &b));
                    check(&three, 3, "avx2");
                    let four = avx2::group_sums([w(0), w(1), w(2), w(3)], from, (&a, &b));
                    check(&four, 4, "avx2");
                }
            }
        }
    }

    /// [`lane_sums`] is the exact sum, correctly rounded, to within a few units of the last
    /// place of the sum of the terms' magnitudes: compared with the exact rational sum of the
    /// terms (each f64 is a rational), for weights of a best-of-n estimate.
    #[test]
    fn lane_sums_are_the_exact_sums_to_rounding() {
        use num_rational::BigRational;
        use num_traits::Signed;
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for (big_n, n) in [
            (7usize, 1usize),
            (13, 2),
            (64, 5),
            (1000, 1),
            (1000, 31),
            (1000, 1000),
        ] {
            let w = bon_weights(big_n, n);
            let a: Vec<f64> = (0..big_n).map(|_| rng.random_range(-3.0..3.0)).collect();
            let (got, _) = lane_sums(&w, &a, &a);
            let exact = w
                .iter()
                .zip(&a)
                .map(|(&w, &x)| {
                    BigRational::from_float(w).unwrap() * BigRational::from_float(x).unwrap()
                })
                .fold(BigRational::from_integer(0.into()), |s, t| s + t);
            let magnitude: f64 = w.iter().zip(&a).map(|(w, x)| (w * x).abs()).sum();
            let error = (BigRational::from_float(got).unwrap() - exact).abs();
            let bound = BigRational::from_float(8.0 * f64::EPSILON * magnitude).unwrap();
            assert!(error <= bound, "N {big_n}, n {n}: {got}");
        }
    }

    /// Pools prepared from their unsorted scores are the pools prepared from their sorted
    /// pairs, bit for bit: continuous scores, ties, 0 and -0, proxies an ulp apart, tiny
    /// pools, and a pool past 2^16 samples.
    #[test]
    fn pools_prepared_from_columns_are_those_prepared_from_sorted_pairs() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut cases: Vec<Vec<(f64, f64)>> = Vec::new();
        for n in [1usize, 2, 3, 17, 1000] {
            cases.push(
                (0..n)
                    .map(|_| (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0)))
                    .collect(),
            );
            cases.push(
                (0..n)
                    .map(|_| (rng.random_range(0..4) as f64, rng.random_range(-3.0..3.0)))
                    .collect(),
            );
        }
        let x = 0.7_f64;
        cases.push(vec![(0.0, 1.0), (-0.0, 2.0), (1.0, 0.5), (-1.0, 0.25)]);
        cases.push(vec![
            (x, 1.0),
            (x.next_up(), 2.0),
            (x.next_down(), 3.0),
            (x, 0.0),
            (2.0, 1.0),
        ]);
        cases.push(
            (0..70_000)
                .map(|i| ((i % 977) as f64 * 0.5, i as f64))
                .collect(),
        );
        let mut keys = Vec::new();
        for pairs in cases {
            let (proxy, gold): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            let mut sorted = pairs.clone();
            crate::bon::samples::sort_scores(&mut sorted);
            let (a, b) = (prepare(&sorted), prepare_columns(&proxy, &gold, &mut keys));
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.gold), bits(&b.gold), "n {}", pairs.len());
            assert_eq!(bits(&a.proxy), bits(&b.proxy), "n {}", pairs.len());
            assert_eq!(
                a.tied_kl.is_some(),
                b.tied_kl.is_some(),
                "n {}",
                pairs.len()
            );
            // and their estimates
            let ns = [1usize, 2, 5, pairs.len()];
            let ws = WeightSet::new(pairs.len(), &ns);
            assert_eq!(
                estimate_prepared(&[a], &[&ws]),
                estimate_prepared(&[b], &[&ws]),
                "n {}",
                pairs.len()
            );
        }
    }

    /// One pool alone (sorted by (proxy, gold)), with the plain single sums: its gold and proxy
    /// estimates at each n of `ws` ([`lane_sums`] over the whole pool).
    fn single_sums(pool: &[(f64, f64)], ws: &WeightSet) -> (Vec<f64>, Vec<f64>) {
        let pr = prepare(pool);
        ws.weights
            .iter()
            .map(|w| lane_sums(w, &pr.gold, &pr.proxy))
            .unzip()
    }

    /// Pools of a block that share their weights are each pool alone with the plain single
    /// sums, bit for bit: runs of pools of one size, sizes of every remainder mod 4, the default
    /// n grid of 1,000 samples and a sparse one.
    #[test]
    fn blocks_of_pools_sharing_their_weights_are_each_pool_alone() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let sizes = [
            1000usize, 1000, 1000, 13, 38, 38, 7, 7, 1000, 2, 2, 2, 999, 999,
        ];
        for ns in [default_n_grid(1000), vec![1, 2, 5, 13, 40, 1000]] {
            let mut sets: std::collections::BTreeMap<usize, WeightSet> = Default::default();
            for &n in &sizes {
                sets.entry(n).or_insert_with(|| WeightSet::new(n, &ns));
            }
            let pools: Vec<Vec<(f64, f64)>> = sizes
                .iter()
                .map(|&n| {
                    let mut p: Vec<(f64, f64)> = (0..n)
                        .map(|_| {
                            let g: f64 = rng.random_range(-3.0..3.0);
                            (g + rng.random_range(-1.0..1.0), g)
                        })
                        .collect();
                    crate::bon::samples::sort_scores(&mut p);
                    p
                })
                .collect();
            let ws: Vec<&WeightSet> = sizes.iter().map(|n| &sets[n]).collect();
            let block = estimate_block(&pools.iter().map(|p| &p[..]).collect::<Vec<_>>(), &ws);
            for ((p, ws), e) in pools.iter().zip(&ws).zip(&block) {
                let (gold, proxy) = single_sums(p, ws);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&e.gold), bits(&gold), "pool of {}", p.len());
                assert_eq!(bits(&e.proxy), bits(&proxy), "pool of {}", p.len());
            }
        }
    }

    #[test]
    fn blocks_of_unequal_pools_are_each_pool_alone() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let ns = [1usize, 2, 3, 5, 8, 13, 40];
        let pools: Vec<Vec<(f64, f64)>> = [40usize, 13, 2, 40, 7]
            .iter()
            .map(|&n| {
                let mut p: Vec<(f64, f64)> = (0..n)
                    .map(|_| {
                        let x = rng.random_range(0..6) as f64;
                        (x, x + rng.random_range(-1.0..1.0))
                    })
                    .collect();
                crate::bon::samples::sort_scores(&mut p);
                p
            })
            .collect();
        let sets: Vec<WeightSet> = pools.iter().map(|p| WeightSet::new(p.len(), &ns)).collect();
        let block = estimate_block(
            &pools.iter().map(|p| &p[..]).collect::<Vec<_>>(),
            &sets.iter().collect::<Vec<_>>(),
        );
        for ((p, ws), e) in pools.iter().zip(&sets).zip(&block) {
            let (gold, proxy) = single_sums(p, ws);
            assert_eq!(e.gold, gold);
            assert_eq!(e.proxy, proxy);
            assert_eq!(e.kl_pool.len(), ws.ns.len());
        }
    }
}
