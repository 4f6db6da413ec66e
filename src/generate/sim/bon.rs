//! The best-of-n stage: pools of pi_0 samples, one per prompt from its own stream, each
//! sample scored by the gold RM and by every proxy.

use rayon::prelude::*;

use super::nets::{GoldRm, normals};
use super::progress::Progress;
use super::reward_models::RewardModelRecord;
use super::spec::SimSpec;
use super::streams::{Stream, rng};
use super::tables::samples_table;
use crate::output::OutTable;

/// Draws every prompt's pool of `samples_per_prompt` responses, scores it by gold and by every
/// proxy (in training order), and returns the Samples table; the pools are dropped on return.
pub(super) fn best_of_n(
    spec: &SimSpec,
    gold: &GoldRm,
    rms: &[RewardModelRecord],
    progress: Progress,
) -> OutTable {
    let bar = progress.stage("best-of-n", spec.prompts);
    let n = spec.samples_per_prompt;
    let pools: Vec<(Vec<f64>, Vec<Vec<f64>>)> = (0..spec.prompts)
        .into_par_iter()
        .map(|p| {
            let x = normals(
                n * spec.dim,
                &mut rng(spec.seed, Stream::BonPrompt, &[p as u64]),
            );
            let golds = x.chunks_exact(spec.dim).map(|xi| gold.score(xi)).collect();
            let scores = rms
                .iter()
                .map(|rm| {
                    x.chunks_exact(spec.dim)
                        .map(|xi| rm.proxy.score(xi))
                        .collect()
                })
                .collect();
            bar.inc(1);
            (golds, scores)
        })
        .collect();
    progress.done(bar.as_ref());
    samples_table(rms, &pools, n)
}
