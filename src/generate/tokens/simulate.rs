//! One token world from its spec: the reward models, best-of-n, the RL sweeps (policy sizes,
//! data sizes, KL penalties) and iterated RLHF, in a fixed order whatever the thread count.

use std::time::Instant;

use rayon::prelude::*;

use super::policy::{RlPoint, RlSettings, TokenPolicy, policy_features, reinforce};
use super::proxy::{Comparisons, FitSettings, TokenProxy, fit_proxy};
use super::spec::TokenSpec;
use super::world::TokenWorld;
use crate::error::{Error, Result};
use crate::generate::sim::{Progress, Stream, rng};
use crate::output::{OutColumn, OutTable};

/// Everything the token world made.
#[derive(Debug)]
pub struct TokenOutputs {
    pub bon_samples: OutTable,
    pub rl_runs: OutTable,
    pub reward_models: OutTable,
    pub iterated: OutTable,
    pub world: serde_json::Value,
    /// Seconds spent per stage: reward models, best-of-n, RL (with iterated RLHF).
    pub seconds: [f64; 3],
}

/// One RL run of the sweeps.
struct RlJob {
    width: usize,
    /// Index into the proxies (data-size major, then size).
    proxy: usize,
    penalty: f64,
}

/// One iterated run: `rounds` rounds against the proxy size `size`.
struct IteratedRun {
    size: usize,
    rounds: usize,
    /// The points of every round, and each round's KL from its start at its last point.
    log: Vec<(usize, RlPoint, f64)>,
}

/// Builds the world of `spec`, its proxies, best-of-n pools, RL sweeps and iterated runs.
pub fn simulate_tokens(spec: &TokenSpec, progress: Progress) -> Result<TokenOutputs> {
    spec.validate()?;
    let t0 = Instant::now();
    let world = TokenWorld::new(spec);
    let n_max = *spec.rm_data.iter().max().unwrap_or(&0);
    let train = Comparisons::draw(
        &world,
        &world.p0,
        n_max,
        &mut rng(spec.seed, Stream::TrainComparisons, &[]),
    );
    let val = Comparisons::draw(
        &world,
        &world.p0,
        spec.rm_val,
        &mut rng(spec.seed, Stream::ValComparisons, &[]),
    );
    let fit = FitSettings {
        l2_embedding: spec.l2_embedding,
        l2_free: spec.l2_free,
        max_iters: spec.lbfgs_max_iters,
    };
    let jobs: Vec<(usize, usize)> = spec
        .rm_data
        .iter()
        .flat_map(|&n| (0..spec.proxy_sizes.len()).map(move |s| (n, s)))
        .collect();
    let bar = progress.stage("reward models", jobs.len());
    let proxies: Vec<TokenProxy> = jobs
        .par_iter()
        .map(|&(n, s)| {
            let p = fit_proxy(&world, spec.proxy_sizes[s], &train.prefix(n), &val, fit);
            bar.inc(1);
            p
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Analysis(format!("generate tokens: a proxy fit failed: {e}")))?;
    progress.done(bar.as_ref());
    let index = |n: usize, s: usize| {
        spec.rm_data.iter().position(|&d| d == n).unwrap_or(0) * spec.proxy_sizes.len() + s
    };

    let t1 = Instant::now();
    let bar = progress.stage("best-of-n", spec.prompts);
    let pools: Vec<(Vec<f64>, Vec<Vec<f64>>)> = (0..spec.prompts)
        .into_par_iter()
        .map(|p| {
            let x = world.sample(
                &world.p0,
                spec.samples_per_prompt,
                &mut rng(spec.seed, Stream::BonPrompt, &[p as u64]),
            );
            let gold = world.score(&world.gold, &x);
            let scores = proxies.iter().map(|r| world.score(&r.scores, &x)).collect();
            bar.inc(1);
            (gold, scores)
        })
        .collect();
    progress.done(bar.as_ref());
    let bon_samples = samples_table(spec, &proxies, &pools);
    drop(pools);

    let t2 = Instant::now();
    let features: Vec<(usize, Vec<f64>)> = spec
        .policy_widths
        .iter()
        .map(|&w| {
            (
                w,
                policy_features(
                    &world,
                    w,
                    spec.policy_rho,
                    &mut rng(spec.seed, Stream::PolicyFeatures, &[w as u64]),
                ),
            )
        })
        .collect();
    let feats = |w: usize| {
        &features
            .iter()
            .find(|f| f.0 == w)
            .expect("a listed width")
            .1
    };
    let main = spec.rm_data_main;
    let mut rl_jobs = Vec::new();
    for &width in &spec.policy_widths {
        for s in 0..spec.proxy_sizes.len() {
            rl_jobs.push(RlJob {
                width,
                proxy: index(main, s),
                penalty: 0.0,
            });
        }
    }
    for &penalty in spec.kl_penalties.iter().filter(|p| **p > 0.0) {
        for s in 0..spec.proxy_sizes.len() {
            rl_jobs.push(RlJob {
                width: spec.policy_width_main,
                proxy: index(main, s),
                penalty,
            });
        }
    }
    for &n in spec.rm_data.iter().filter(|n| **n != main) {
        for s in 0..spec.proxy_sizes.len() {
            rl_jobs.push(RlJob {
                width: spec.policy_width_main,
                proxy: index(n, s),
                penalty: 0.0,
            });
        }
    }
    let iter_jobs: Vec<(usize, usize)> = spec
        .iterated_sizes
        .iter()
        .flat_map(|&s| spec.iterated_rounds.iter().map(move |&k| (s, k)))
        .collect();
    let bar = progress.stage("RL", rl_jobs.len() + iter_jobs.len());
    let settings = |steps: usize, penalty: f64| RlSettings {
        steps,
        batch: spec.rl_batch,
        lr: spec.rl_lr,
        evals: spec.rl_evals,
        penalty,
    };
    let logs: Vec<Vec<RlPoint>> = rl_jobs
        .par_iter()
        .map(|j| {
            let r = &proxies[j.proxy];
            let mut pol = TokenPolicy {
                world: &world,
                features: feats(j.width),
                width: j.width,
                params: vec![0.0; world.positions * j.width],
            };
            let ids = [
                j.width as u64,
                r.size.params() as u64,
                r.rm_data as u64,
                j.penalty.to_bits(),
            ];
            let log = reinforce(
                &mut pol,
                &r.scores,
                settings(spec.rl_steps, j.penalty),
                0,
                &mut rng(spec.seed, Stream::RlTrain, &ids),
            );
            bar.inc(1);
            log
        })
        .collect();
    let iterated: Vec<IteratedRun> = iter_jobs
        .par_iter()
        .map(|&(s, k)| {
            let run = iterate(
                spec,
                &world,
                feats(spec.policy_width_main),
                &proxies[index(main, s)],
                &train.prefix(main),
                &val,
                fit,
                s,
                k,
                settings(spec.rl_steps / k, 0.0),
            );
            bar.inc(1);
            run
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            Error::Analysis(format!(
                "generate tokens: a proxy fit of iterated RLHF failed: {e}"
            ))
        })?;
    progress.done(bar.as_ref());
    let t3 = Instant::now();

    let rl_runs = rl_table(spec, &proxies, &rl_jobs, &logs);
    let one_round: Vec<(usize, &Vec<RlPoint>)> = rl_jobs
        .iter()
        .zip(&logs)
        .filter(|(j, _)| {
            j.width == spec.policy_width_main
                && j.penalty == 0.0
                && proxies[j.proxy].rm_data == main
        })
        .map(|(j, l)| (j.proxy % spec.proxy_sizes.len(), l))
        .filter(|(s, _)| spec.iterated_sizes.contains(s))
        .collect();
    let iterated_table = iterated_table(spec, &one_round, &iterated);
    let reward_models = reward_models_table(&proxies);
    let world_json = serde_json::json!({
        "generator": "goodhart generate tokens",
        "goodhart_version": env!("CARGO_PKG_VERSION"),
        "settings": spec,
        "rm_params_formula": "embedding_dims + free_tokens",
        "policy_params_formula": "positions * policy width",
        "reward_models": proxies,
        "files": super::TOKEN_FILES,
    });
    Ok(TokenOutputs {
        bon_samples,
        rl_runs,
        reward_models,
        iterated: iterated_table,
        world: world_json,
        seconds: [
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
        ],
    })
}

/// Iterated RLHF: `rounds` rounds of `round.steps` steps, the first against `first` (the main
/// sweep's proxy of this size, fitted on `pi0_data`); after each round but the last, the
/// proxy of the same size is refitted on the pi_0 comparisons plus fresh comparisons between
/// samples of the current policy (as many as the pi_0 set, accumulated over rounds), and RL
/// continues from the current policy with a fresh Adam state.
#[allow(clippy::too_many_arguments)]
fn iterate(
    spec: &TokenSpec,
    world: &TokenWorld,
    features: &[f64],
    first: &TokenProxy,
    pi0_data: &Comparisons,
    val: &Comparisons,
    fit: FitSettings,
    size: usize,
    rounds: usize,
    round: RlSettings,
) -> std::result::Result<IteratedRun, String> {
    let width = spec.policy_width_main;
    let mut pol = TokenPolicy {
        world,
        features,
        width,
        params: vec![0.0; world.positions * width],
    };
    let ids = |r: usize| [size as u64, rounds as u64, r as u64];
    let mut data = pi0_data.clone();
    let mut proxy = first.clone();
    let mut train = rng(
        spec.seed,
        Stream::RlTrain,
        &[u64::MAX, size as u64, rounds as u64],
    );
    let mut log = Vec::new();
    for r in 0..rounds {
        if r > 0 {
            let (_, p) = pol.distribution();
            let fresh = Comparisons::draw(
                world,
                &p,
                pi0_data.len(),
                &mut rng(spec.seed, Stream::IteratedComparisons, &ids(r)),
            );
            data = data.concat(&fresh);
            proxy = fit_proxy(world, spec.proxy_sizes[size], &data, val, fit)?;
        }
        let points = reinforce(&mut pol, &proxy.scores, round, r * round.steps, &mut train);
        log.extend(points.into_iter().map(|p| (r + 1, p, 0.0)));
    }
    // d_sum: the finished rounds' sqrt KL (each from its own start) plus the current round's
    let mut finished = 0.0;
    let mut current_round = 1;
    let mut last_d = 0.0;
    for (r, p, d) in log.iter_mut() {
        if *r != current_round {
            finished += last_d;
            current_round = *r;
        }
        last_d = p.kl_round.max(0.0).sqrt();
        *d = finished + last_d;
    }
    Ok(IteratedRun { size, rounds, log })
}

/// The Samples table: per prompt, per proxy (data-size major, then size), per sample.
fn samples_table(
    spec: &TokenSpec,
    proxies: &[TokenProxy],
    pools: &[(Vec<f64>, Vec<Vec<f64>>)],
) -> OutTable {
    let rows = proxies.len() * spec.prompts * spec.samples_per_prompt;
    let (mut prompt, mut proxy, mut gold, mut params, mut data) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
        Vec::with_capacity(rows),
    );
    for (p, (golds, scores)) in pools.iter().enumerate() {
        for (k, rm) in proxies.iter().enumerate() {
            for (g, s) in golds.iter().zip(&scores[k]) {
                prompt.push(p as i64 + 1);
                proxy.push(*s);
                gold.push(*g);
                params.push(rm.size.params() as f64);
                data.push(rm.rm_data as f64);
            }
        }
    }
    let mut t = OutTable::default();
    t.push("prompt", OutColumn::FullInteger(prompt));
    t.push("proxy", OutColumn::FullNumber(proxy));
    t.push("gold", OutColumn::FullNumber(gold));
    t.push("rm_params", OutColumn::FullNumber(params));
    t.push("rm_data", OutColumn::FullNumber(data));
    t
}

/// The Curves table of the RL sweeps (`method = rl`; KL, proxy and gold exact).
fn rl_table(
    spec: &TokenSpec,
    proxies: &[TokenProxy],
    jobs: &[RlJob],
    logs: &[Vec<RlPoint>],
) -> OutTable {
    let rows: Vec<(&RlJob, &RlPoint)> = jobs
        .iter()
        .zip(logs)
        .flat_map(|(j, l)| l.iter().map(move |p| (j, p)))
        .collect();
    let num = |f: &dyn Fn(&RlJob, &RlPoint) -> f64| {
        OutColumn::Number(rows.iter().map(|(j, p)| Some(f(j, p))).collect())
    };
    let mut t = OutTable::default();
    t.push(
        "method",
        OutColumn::Text(rows.iter().map(|_| Some("rl".to_string())).collect()),
    );
    t.push(
        "step",
        OutColumn::Integer(rows.iter().map(|(_, p)| Some(p.step as i64)).collect()),
    );
    t.push("kl_penalty", num(&|j, _| j.penalty));
    t.push(
        "policy_params",
        num(&|j, _| spec.policy_params(j.width) as f64),
    );
    t.push("rm_data", num(&|j, _| proxies[j.proxy].rm_data as f64));
    t.push(
        "rm_params",
        num(&|j, _| proxies[j.proxy].size.params() as f64),
    );
    t.push("kl", num(&|_, p| p.kl));
    t.push("gold", num(&|_, p| p.gold));
    t.push("proxy", num(&|_, p| p.proxy));
    t.push("entropy", num(&|_, p| p.entropy));
    t
}

/// One row of the iterated-RLHF table: proxy size index, rounds, round, point, d_sum.
type IteratedRow = (usize, usize, usize, RlPoint, f64);

/// The iterated-RLHF table: the one-round runs (the main sweep's) and every k-round run.
fn iterated_table(
    spec: &TokenSpec,
    one_round: &[(usize, &Vec<RlPoint>)],
    runs: &[IteratedRun],
) -> OutTable {
    let mut rows: Vec<IteratedRow> = Vec::new();
    for (s, log) in one_round {
        rows.extend(log.iter().map(|p| (*s, 1, 1, *p, p.kl.max(0.0).sqrt())));
    }
    for r in runs {
        rows.extend(
            r.log
                .iter()
                .map(|(round, p, d)| (r.size, r.rounds, *round, *p, *d)),
        );
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let num = |f: &dyn Fn(&IteratedRow) -> f64| {
        OutColumn::Number(rows.iter().map(|r| Some(f(r))).collect())
    };
    let mut t = OutTable::default();
    t.push("rm_params", num(&|r| spec.proxy_sizes[r.0].params() as f64));
    t.push("rm_data", num(&|_| spec.rm_data_main as f64));
    t.push(
        "policy_params",
        num(&|_| spec.policy_params(spec.policy_width_main) as f64),
    );
    t.push("kl_penalty", num(&|_| 0.0));
    t.push(
        "rounds",
        OutColumn::Integer(rows.iter().map(|r| Some(r.1 as i64)).collect()),
    );
    t.push(
        "round",
        OutColumn::Integer(rows.iter().map(|r| Some(r.2 as i64)).collect()),
    );
    t.push(
        "step",
        OutColumn::Integer(rows.iter().map(|r| Some(r.3.step as i64)).collect()),
    );
    t.push("kl", num(&|r| r.3.kl));
    t.push("d_sum", num(&|r| r.4));
    t.push("gold", num(&|r| r.3.gold));
    t.push("proxy", num(&|r| r.3.proxy));
    t
}

/// The reward models: size, data, validation metrics and how each fit ended.
fn reward_models_table(proxies: &[TokenProxy]) -> OutTable {
    let num = |f: &dyn Fn(&TokenProxy) -> f64| {
        OutColumn::Number(proxies.iter().map(|r| Some(f(r))).collect())
    };
    let mut t = OutTable::default();
    t.push("rm_params", num(&|r| r.size.params() as f64));
    t.push("rm_data", num(&|r| r.rm_data as f64));
    t.push(
        "embedding_dims",
        OutColumn::Integer(
            proxies
                .iter()
                .map(|r| Some(r.size.embedding_dims as i64))
                .collect(),
        ),
    );
    t.push(
        "free_tokens",
        OutColumn::Integer(
            proxies
                .iter()
                .map(|r| Some(r.size.free_tokens as i64))
                .collect(),
        ),
    );
    t.push("val_loss", num(&|r| r.val_loss));
    t.push("val_accuracy", num(&|r| r.val_accuracy));
    t.push("train_loss", num(&|r| r.train_loss));
    t.push(
        "lbfgs_iters",
        OutColumn::Integer(proxies.iter().map(|r| Some(r.lbfgs_iters as i64)).collect()),
    );
    t.push(
        "termination",
        OutColumn::Text(
            proxies
                .iter()
                .map(|r| Some(r.termination.clone()))
                .collect(),
        ),
    );
    t
}
