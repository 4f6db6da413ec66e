//! The output tables in goodhart's canonical layouts: the Samples table of best-of-n, the
//! Curves table of the RL runs, and the record of the reward models.

use super::policy::RlPoint;
use super::reward_models::RewardModelRecord;
use super::rl::RlRun;
use super::spec::SimSpec;
use crate::output::{OutColumn, OutTable};

/// The Samples table: per proxy (in training order), per prompt, per sample.
pub(super) fn samples_table(
    rms: &[RewardModelRecord],
    pools: &[(Vec<f64>, Vec<Vec<f64>>)],
    n: usize,
) -> OutTable {
    let rows = rms.len() * pools.len() * n;
    let mut prompt = Vec::with_capacity(rows);
    let mut proxy = Vec::with_capacity(rows);
    let mut gold = Vec::with_capacity(rows);
    let mut rm_params = Vec::with_capacity(rows);
    let mut rm_data = Vec::with_capacity(rows);
    for (k, rm) in rms.iter().enumerate() {
        for (p, (golds, scores)) in pools.iter().enumerate() {
            for (g, s) in golds.iter().zip(&scores[k]) {
                prompt.push(Some(p as i64 + 1));
                proxy.push(Some(*s));
                gold.push(Some(*g));
                rm_params.push(Some(rm.rm_params as f64));
                rm_data.push(Some(rm.rm_data as f64));
            }
        }
    }
    let mut t = OutTable::default();
    t.push("prompt", OutColumn::Integer(prompt));
    t.push("proxy", OutColumn::Number(proxy));
    t.push("gold", OutColumn::Number(gold));
    t.push("rm_params", OutColumn::Number(rm_params));
    t.push("rm_data", OutColumn::Number(rm_data));
    t
}

/// The Curves table of the RL runs (`method = rl`).
pub(super) fn rl_table(spec: &SimSpec, rms: &[RewardModelRecord], runs: &[RlRun]) -> OutTable {
    let rows: Vec<(&RlRun, &RlPoint)> = runs
        .iter()
        .flat_map(|r| r.log.iter().map(move |p| (r, p)))
        .collect();
    let num = |f: &dyn Fn(&RlRun, &RlPoint) -> f64| {
        OutColumn::Number(rows.iter().map(|(r, p)| Some(f(r, p))).collect())
    };
    let mut t = OutTable::default();
    t.push(
        "method",
        OutColumn::Text(rows.iter().map(|_| Some("rl".to_string())).collect()),
    );
    t.push(
        "run",
        OutColumn::Text(
            rows.iter()
                .map(|(r, _)| Some(r.replicate.to_string()))
                .collect(),
        ),
    );
    t.push(
        "step",
        OutColumn::Integer(rows.iter().map(|(_, p)| Some(p.step as i64)).collect()),
    );
    t.push("kl_penalty", num(&|r, _| r.penalty));
    t.push(
        "policy_params",
        num(&|r, _| r.family.n_params(spec.dim) as f64),
    );
    t.push("rm_data", num(&|r, _| rms[r.rm].rm_data as f64));
    t.push("rm_params", num(&|r, _| rms[r.rm].rm_params as f64));
    t.push("kl", num(&|_, p| p.kl));
    t.push("gold", num(&|_, p| p.gold));
    t.push("proxy", num(&|_, p| p.proxy));
    t.push("entropy", num(&|_, p| p.entropy));
    t.push("gold_se", num(&|_, p| p.gold_se));
    t.push("proxy_se", num(&|_, p| p.proxy_se));
    t
}

/// The record of the reward models: size, data, validation and calibration, per proxy.
pub(super) fn reward_models_table(rms: &[RewardModelRecord]) -> OutTable {
    let num = |f: &dyn Fn(&RewardModelRecord) -> f64| {
        OutColumn::Number(rms.iter().map(|r| Some(f(r))).collect())
    };
    let mut t = OutTable::default();
    t.push("rm_params", num(&|r| r.rm_params as f64));
    t.push("rm_data", num(&|r| r.rm_data as f64));
    t.push(
        "hidden",
        OutColumn::Integer(rms.iter().map(|r| Some(r.hidden as i64)).collect()),
    );
    t.push("val_loss", num(&|r| r.val_loss));
    t.push("val_accuracy", num(&|r| r.val_accuracy));
    t.push("train_loss", num(&|r| r.train_loss));
    t.push("logit_scale", num(&|r| r.logit_scale));
    t
}
