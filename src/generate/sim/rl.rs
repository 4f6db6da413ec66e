//! The RL stage: one run per policy family, proxy, KL penalty and replicate, each optimising
//! a Gaussian policy against its proxy ([`super::policy`]) with its own random streams.

use rayon::prelude::*;

use super::nets::GoldRm;
use super::policy::{self, PolicyFamily, RlPoint, RlSettings};
use super::progress::Progress;
use super::reward_models::RewardModelRecord;
use super::spec::SimSpec;
use super::streams::{Stream, rng};

/// One RL run: its settings and its log.
pub(super) struct RlRun {
    pub(super) family: PolicyFamily,
    /// Index of the proxy in training order.
    pub(super) rm: usize,
    pub(super) penalty: f64,
    pub(super) replicate: usize,
    pub(super) log: Vec<RlPoint>,
}

/// Runs RL against every proxy, for every policy family, penalty and replicate; the runs come
/// back in that (family, proxy, penalty, replicate) order whatever the thread count.
pub(super) fn run_rl(
    spec: &SimSpec,
    gold: &GoldRm,
    rms: &[RewardModelRecord],
    progress: Progress,
) -> Vec<RlRun> {
    let mut jobs = Vec::new();
    for &family in &spec.policies {
        for rm in 0..rms.len() {
            for &penalty in &spec.kl_penalties {
                for replicate in 1..=spec.rl_seeds {
                    jobs.push((family, rm, penalty, replicate));
                }
            }
        }
    }
    let settings = RlSettings {
        steps: spec.rl_steps,
        batch: spec.rl_batch,
        lr: spec.rl_lr,
        log_every: spec.rl_log_every,
        eval_samples: spec.rl_eval_samples,
    };
    let bar = progress.stage("RL", jobs.len());
    let runs: Vec<RlRun> = jobs
        .par_iter()
        .map(|&(family, rm, penalty, replicate)| {
            let r = &rms[rm];
            let ids = [
                family as u64,
                r.hidden as u64,
                r.rm_data as u64,
                penalty.to_bits(),
                replicate as u64,
            ];
            let log = policy::optimise(
                family,
                &r.proxy,
                gold,
                penalty,
                settings,
                &mut rng(spec.seed, Stream::RlTrain, &ids),
                &mut rng(spec.seed, Stream::RlEval, &ids),
            );
            bar.inc(1);
            RlRun {
                family,
                rm,
                penalty,
                replicate,
                log,
            }
        })
        .collect();
    progress.done(bar.as_ref());
    runs
}
