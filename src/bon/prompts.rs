//! Which prompts each n of a curve averages. With pools of unequal size, n uses only the prompts
//! whose pool has N >= n, so one curve mixes prompt sets (and the proxy best-of-n score can even
//! fall as n grows): [`prompt_count_notes`] says so, and [`common_prompts`] makes every n use
//! the same prompts (`goodhart bon --common-prompts truncate|complete`).
//!
//! Truncation draws from one seeded ChaCha8 stream per pool, numbered by a fixed hash of the
//! pool's key and prompt, so a prompt's subset depends only on the seed, its key and its prompt:
//! not on the thread count, the order of the rows, or the other prompts and files.

use rand::SeedableRng;
use rand::seq::index;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::estimate::BonCurve;
use super::samples::Pool;
use crate::error::{Error, Result};
use crate::schema::CurveKey;

/// How `--common-prompts` gives every n of a curve the same prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommonPrompts {
    /// Every pool of the curve cut to the curve's smallest pool size N_min by a uniformly
    /// random subset of its samples (seeded); n runs up to N_min, every prompt is kept.
    Truncate,
    /// Only the prompts whose pool has N >= the largest n (the largest `--n`, or by default the
    /// largest pool); the pools are used whole.
    Complete,
}

impl CommonPrompts {
    pub fn name(self) -> &'static str {
        match self {
            CommonPrompts::Truncate => "truncate",
            CommonPrompts::Complete => "complete",
        }
    }
}

/// Distinguishes the truncation's random streams from the bootstrap's, which use the same seed.
const TRUNCATE_SEED_TAG: u64 = 0x7472_756e_6361_7465; // "truncate"

/// The stream of a pool: FNV-1a (64 bits) of its key numbers and prompt, stable across
/// platforms and releases.
fn pool_stream(p: &Pool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&p.key.rm_params.to_bits().to_le_bytes());
    for v in [p.key.policy_params, p.key.rm_data] {
        eat(&v.map_or(u64::MAX, f64::to_bits).to_le_bytes());
    }
    eat(p.prompt.as_bytes());
    h
}

/// "n = 1..5: 12 prompts, n = 8: 4 prompts": the runs of consecutive points with one prompt count.
fn count_ranges(points: &[(usize, usize)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut k = 0;
    while k < points.len() {
        let (first, count) = points[k];
        let mut last = first;
        while k + 1 < points.len() && points[k + 1].1 == count {
            k += 1;
            last = points[k].0;
        }
        let range = if first == last {
            format!("n = {first}")
        } else {
            format!("n = {first}..{last}")
        };
        parts.push(format!(
            "{range}: {count} prompt{}",
            if count == 1 { "" } else { "s" }
        ));
        k += 1;
    }
    parts.join(", ")
}

/// A warning for every curve whose points average different numbers of prompts (pools of
/// unequal size), naming the curve and the prompt count of each range of n. Empty when every
/// curve uses one prompt set.
///
/// ```
/// use goodhart::bon::{BonOptions, Pool, bon_curves, prompt_count_notes};
/// use goodhart::schema::{CurveKey, Method};
/// let key = CurveKey { method: Method::Bon, rm_params: 1e8, policy_params: None, rm_data: None, kl_penalty: None };
/// let pool = |prompt: &str, n: usize| Pool {
///     key, prompt: prompt.into(), path: "mem".into(),
///     scores: (0..n).map(|i| (i as f64, 0.0)).collect(),
/// };
/// let curves = bon_curves(&[pool("a", 2), pool("b", 4)], &BonOptions::default()).unwrap();
/// let notes = prompt_count_notes(&curves);
/// assert!(notes[0].contains("bon rm_params=1e8") && notes[0].contains("n = 1..2: 2 prompts, n = 3..4: 1 prompt"));
/// ```
pub fn prompt_count_notes(curves: &[BonCurve]) -> Vec<String> {
    curves
        .iter()
        .filter_map(|c| {
            let counts: Vec<(usize, usize)> = c.points.iter().map(|p| (p.n, p.n_prompts)).collect();
            let first = counts.first()?.1;
            if counts.iter().all(|&(_, m)| m == first) {
                return None;
            }
            Some(format!(
                "curve {}: pools of unequal size, so each n averages only the prompts whose pool has N >= n ({}): the curve mixes prompt sets and can fall as n grows for that reason alone; --common-prompts truncate|complete gives every n the same prompts",
                c.key,
                count_ranges(&counts)
            ))
        })
        .collect()
}

/// What `--common-prompts` does to pools of the given keys and sizes (sorted by key, as
/// [`common_prompts`] takes them): which pools are kept, the size each kept pool is cut to
/// (`None`: used whole), and a note for every curve it changes.
pub type CommonPlan = (Vec<bool>, Vec<Option<usize>>, Vec<String>);

/// The plan of [`common_prompts`] from the pools' keys and sizes alone (the samples are not
/// needed: `goodhart bon merge` applies it to partial tables). Errors as [`common_prompts`].
pub fn common_prompts_plan(
    sizes_by_pool: &[(CurveKey, usize)],
    mode: CommonPrompts,
    ns: Option<&[usize]>,
    seed: u64,
) -> Result<CommonPlan> {
    let max_n = ns.and_then(|v| v.iter().copied().max());
    // the curves as ranges of the pools
    let mut ranges: Vec<(CurveKey, usize, usize)> = Vec::new();
    for (i, (key, _)) in sizes_by_pool.iter().enumerate() {
        match ranges.last_mut() {
            Some((k, _, end)) if k == key => *end = i + 1,
            _ => ranges.push((*key, i, i + 1)),
        }
    }
    let mut keep = vec![true; sizes_by_pool.len()];
    let mut cut_to = vec![None; sizes_by_pool.len()];
    let mut notes = Vec::new();
    for &(key, start, end) in &ranges {
        let sizes: Vec<usize> = sizes_by_pool[start..end].iter().map(|p| p.1).collect();
        let (small, large) = (
            *sizes.iter().min().unwrap_or(&0),
            *sizes.iter().max().unwrap_or(&0),
        );
        if small == large {
            continue;
        }
        let total = end - start;
        match mode {
            CommonPrompts::Truncate => {
                if let Some(big) = max_n.filter(|&n| n > small) {
                    return Err(Error::Analysis(format!(
                        "--n {big} is above the smallest pool of curve {key} ({small} samples), to which --common-prompts truncate cuts every pool: drop n values above {small}, or use --common-prompts complete (only prompts with N >= the largest n)"
                    )));
                }
                let cut = sizes.iter().filter(|&&s| s > small).count();
                for c in &mut cut_to[start..end] {
                    *c = Some(small);
                }
                notes.push(format!(
                    "curve {key}: --common-prompts truncate cut {cut} of {total} pools to {small} samples (the smallest pool; a uniformly random subset of each, seed {seed}): every n up to {small} averages all {total} prompts"
                ));
            }
            CommonPrompts::Complete => {
                let need = max_n.unwrap_or(large);
                if need > large {
                    // bon_curves reports the n above every pool
                    continue;
                }
                let kept = sizes.iter().filter(|&&s| s >= need).count();
                if kept == total {
                    continue;
                }
                for (k, &s) in keep[start..end].iter_mut().zip(&sizes) {
                    *k = s >= need;
                }
                notes.push(format!(
                    "curve {key}: --common-prompts complete keeps the {kept} of {total} prompts whose pool has N >= {need} (the largest n): every n averages those {kept} prompts"
                ));
            }
        }
    }
    Ok((keep, cut_to, notes))
}

/// The pools with `--common-prompts` applied, curve by curve, and a note for every curve it
/// changed. `pools` must be sorted by (key, prompt) as [`super::read_samples`] returns them;
/// `ns` is `--n` (None: the default grid, which runs to the largest pool). Curves whose pools
/// all have one size are left as they are.
///
/// Errors when `truncate` meets an `--n` above a curve's smallest pool.
pub fn common_prompts(
    pools: Vec<Pool>,
    mode: CommonPrompts,
    ns: Option<&[usize]>,
    seed: u64,
) -> Result<(Vec<Pool>, Vec<String>)> {
    let sizes: Vec<(CurveKey, usize)> = pools.iter().map(|p| (p.key, p.scores.len())).collect();
    let (keep, cut_to, notes) = common_prompts_plan(&sizes, mode, ns, seed)?;
    let pools: Vec<Pool> = pools
        .into_par_iter()
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(i, mut p)| {
            if let Some(m) = cut_to[i]
                && p.scores.len() > m
            {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ TRUNCATE_SEED_TAG);
                rng.set_stream(pool_stream(&p));
                let mut chosen = index::sample(&mut rng, p.scores.len(), m).into_vec();
                // the pool stays sorted by (proxy, gold)
                chosen.sort_unstable();
                p.scores = chosen.into_iter().map(|j| p.scores[j]).collect();
            }
            p
        })
        .collect();
    Ok((pools, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_compact() {
        assert_eq!(
            count_ranges(&[(1, 5), (2, 5), (4, 3), (8, 1)]),
            "n = 1..2: 5 prompts, n = 4: 3 prompts, n = 8: 1 prompt"
        );
    }
}
