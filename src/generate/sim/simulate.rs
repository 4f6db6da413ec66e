//! One simulation from its spec: the stages in order (reward models, best-of-n, RL), the
//! divergence checks between them, their timings, and the `world.json` record.

use std::time::Instant;

use super::SIM_FILES;
use super::bon::best_of_n;
use super::progress::Progress;
use super::reward_models::{build_gold, train_reward_models};
use super::rl::run_rl;
use super::spec::{SimSpec, invalid};
use super::tables::{reward_models_table, rl_table};
use crate::error::Result;
use crate::output::OutTable;

/// Everything the generator made.
#[derive(Debug)]
pub struct SimOutputs {
    pub bon_samples: OutTable,
    pub rl_runs: OutTable,
    pub reward_models: OutTable,
    pub world: serde_json::Value,
    /// Seconds spent per stage: reward models, best-of-n, RL.
    pub seconds: [f64; 3],
}

/// Builds the world of `spec` and runs best-of-n and RL against every proxy.
pub fn simulate(spec: &SimSpec, progress: Progress) -> Result<SimOutputs> {
    spec.validate()?;
    let t0 = Instant::now();
    let (gold, norm_draws) = build_gold(spec);
    let bar = progress.stage("reward models", spec.rm_data.len() * spec.rm_hidden.len());
    let rms = train_reward_models(spec, &gold, &norm_draws, bar.as_ref());
    progress.done(bar.as_ref());
    if let Some(r) = rms.iter().find(|r| {
        !(r.train_loss.is_finite() && r.val_loss.is_finite() && r.logit_scale.is_finite())
    }) {
        return Err(invalid(format!(
            "training of the proxy with {} parameters on {} comparisons diverged (non-finite loss); lower --rm-lr",
            r.rm_params, r.rm_data
        )));
    }
    let t1 = Instant::now();
    let bon_samples = best_of_n(spec, &gold, &rms, progress);
    let t2 = Instant::now();
    let runs = run_rl(spec, &gold, &rms, progress);
    let t3 = Instant::now();

    if let Some(r) = runs.iter().find(|r| {
        r.log.iter().any(|p| {
            ![p.kl, p.entropy, p.gold, p.proxy]
                .iter()
                .all(|v| v.is_finite())
        })
    }) {
        return Err(invalid(format!(
            "the RL run against the proxy with {} parameters (policy {}, penalty {}) diverged (non-finite KL or score); lower --rl-lr",
            rms[r.rm].rm_params,
            r.family.as_str(),
            r.penalty
        )));
    }
    let rl_runs = rl_table(spec, &rms, &runs);
    let reward_models = reward_models_table(&rms);
    let world = serde_json::json!({
        "generator": "goodhart generate sim",
        "goodhart_version": env!("CARGO_PKG_VERSION"),
        "settings": spec,
        "rm_params_formula": "dim + hidden * (dim + 2)",
        "policy_params": spec.policies.iter().map(|f| (f.as_str(), f.n_params(spec.dim))).collect::<std::collections::BTreeMap<_, _>>(),
        "gold_normalisation": {"shift": gold.shift, "scale": gold.scale},
        "reward_models": rms,
        "files": SIM_FILES,
    });
    Ok(SimOutputs {
        bon_samples,
        rl_runs,
        reward_models,
        world,
        seconds: [
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
        ],
    })
}
