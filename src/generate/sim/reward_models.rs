//! The reward models of the world: the gold RM (a fixed random network, normalised under
//! pi_0) and the proxies trained from its comparisons, re-centred and calibrated, with their
//! validation record.

use rayon::prelude::*;
use serde::Serialize;

use super::nets::{
    self, CalibratedProxy, Comparisons, GoldRm, ProxyNet, TrainSettings, cross_entropy,
    fit_logit_scale, normals,
};
use super::spec::{Labels, SimSpec};
use super::streams::{Stream, rng};

/// The gold RM of a spec, normalised, and the normalisation draws from pi_0 (`n x dim`).
pub fn build_gold(spec: &SimSpec) -> (GoldRm, Vec<f64>) {
    let mut gold = GoldRm::random(
        spec.dim,
        spec.gold_hidden,
        spec.gold_typicality,
        &mut rng(spec.seed, Stream::GoldNetwork, &[]),
    );
    let draws = normals(
        spec.norm_samples * spec.dim,
        &mut rng(spec.seed, Stream::Normalisation, &[]),
    );
    gold.normalise(&draws);
    (gold, draws)
}

/// A trained and calibrated proxy with its validation record.
#[derive(Debug, Clone, Serialize)]
pub struct RewardModelRecord {
    pub hidden: usize,
    pub rm_params: usize,
    pub rm_data: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub centre: f64,
    pub logit_scale: f64,
    #[serde(skip)]
    pub proxy: CalibratedProxy,
}

/// Trains one proxy per (data size, width), in that order, then re-centres each under pi_0
/// (mean over `norm_draws`) and fits its logit scale to the gold soft labels of the held-out
/// comparisons; validation loss (against the labels of the kind it was trained on) and
/// accuracy are measured on the same held-out comparisons.
pub fn train_reward_models(
    spec: &SimSpec,
    gold: &GoldRm,
    norm_draws: &[f64],
    bar: &dyn crate::progress::Stage,
) -> Vec<RewardModelRecord> {
    let sampled = spec.labels == Labels::Sampled;
    let max_data = spec.rm_data.iter().copied().max().unwrap_or(0);
    let train = Comparisons::draw(
        max_data,
        gold,
        sampled,
        &mut rng(spec.seed, Stream::TrainComparisons, &[]),
    );
    let val = Comparisons::draw(
        spec.rm_val,
        gold,
        sampled,
        &mut rng(spec.seed, Stream::ValComparisons, &[]),
    );
    let jobs: Vec<(usize, usize)> = spec
        .rm_data
        .iter()
        .flat_map(|&m| spec.rm_hidden.iter().map(move |&h| (m, h)))
        .collect();
    let settings = TrainSettings {
        epochs: spec.rm_epochs,
        batch: spec.rm_batch,
        lr: spec.rm_lr,
    };
    jobs.par_iter()
        .map(|&(m, h)| {
            let mut net = ProxyNet::random(
                spec.dim,
                h,
                &mut rng(spec.seed, Stream::ProxyInit, &[h as u64]),
            );
            let train_loss = nets::train_bradley_terry(
                &mut net,
                &train,
                m,
                settings,
                &mut rng(spec.seed, Stream::ProxyOrder, &[h as u64, m as u64]),
            );
            let centre = norm_draws
                .chunks_exact(spec.dim)
                .map(|x| net.score(x))
                .sum::<f64>()
                / spec.norm_samples as f64;
            let diffs: Vec<f64> = (0..val.len())
                .map(|i| {
                    let (a, b) = val.pair(i);
                    net.score(a) - net.score(b)
                })
                .collect();
            let logit_scale = fit_logit_scale(&diffs, &val.soft);
            let n = val.len() as f64;
            let val_loss = diffs
                .iter()
                .zip(&val.label)
                .map(|(d, t)| cross_entropy(*t, logit_scale * d))
                .sum::<f64>()
                / n;
            let val_accuracy = diffs
                .iter()
                .zip(&val.label)
                .filter(|(d, t)| (logit_scale * **d > 0.0) == (**t > 0.5))
                .count() as f64
                / n;
            bar.inc(1);
            RewardModelRecord {
                hidden: h,
                rm_params: spec.rm_params(h),
                rm_data: m,
                train_loss,
                val_loss,
                val_accuracy,
                centre,
                logit_scale,
                proxy: CalibratedProxy {
                    net,
                    centre,
                    logit_scale,
                },
            }
        })
        .collect()
}
