//! `generate sim`: a small synthetic RLHF world in which reward-model overoptimization emerges
//! from the mechanism (proxies learned from comparisons on pi_0 fail off that distribution),
//! written as the canonical Samples and Curves tables so the rest of goodhart reads it unchanged.
//!
//! The world: responses are vectors in R^D; pi_0 = N(0, I); the gold RM is a fixed random
//! network ([`nets::GoldRm`]); proxy RMs are ReLU networks of several widths trained with the
//! Bradley-Terry loss on gold-labelled comparisons ([`nets`]); best-of-n scores pools of pi_0
//! samples with every proxy and the gold RM; RL optimises Gaussian policies against each proxy
//! ([`policy`]). Every random draw comes from its own seeded ChaCha stream, and parallel work
//! is collected in a fixed order, so the output bytes do not depend on the thread count.

pub mod nets;
pub mod policy;

use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::{OutColumn, OutTable, Sink};
use nets::{
    CalibratedProxy, Comparisons, GoldRm, ProxyNet, TrainSettings, cross_entropy, fit_logit_scale,
    normals,
};
use policy::{PolicyFamily, RlPoint, RlSettings};

/// The files `generate sim` writes into its output folder.
pub const SIM_FILES: [&str; 4] = [
    "bon_samples.parquet",
    "rl_runs.csv",
    "reward_models.csv",
    "world.json",
];

/// A named set of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The demo default: 9 proxy sizes, 2 data sizes, 2 policies, 3 KL penalties; seconds.
    Small,
    /// Closer to the paper's scale: 10 proxy sizes, 30000 comparisons, 1000 prompts with
    /// N = 1000, 5 penalties, 2 replicates; minutes, and about 10 million samples.
    Paper,
}

/// How comparisons are labelled by the gold RM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Labels {
    /// The response with the higher gold score wins (the paper's choice).
    Deterministic,
    /// The first response wins with probability sigmoid(gold(a) - gold(b)).
    Sampled,
}

/// Every setting of the simulated world (written to `world.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SimSpec {
    pub preset: Preset,
    pub seed: u64,
    /// Dimension D of a response.
    pub dim: usize,
    /// Hidden units of the gold network.
    pub gold_hidden: usize,
    /// Weight of the gold RM's typicality term -(|x|^2 - D)/sqrt(2D).
    pub gold_typicality: f64,
    /// Hidden widths of the proxy RMs (each has D + width * (D + 2) parameters; 0 is a linear
    /// model).
    pub rm_hidden: Vec<usize>,
    /// Training comparisons per proxy (one proxy per width and data size; smaller sets are
    /// prefixes of larger ones).
    pub rm_data: Vec<usize>,
    /// Held-out comparisons for recalibration and validation.
    pub rm_val: usize,
    pub rm_epochs: usize,
    pub rm_batch: usize,
    pub rm_lr: f64,
    pub labels: Labels,
    /// pi_0 draws used to normalise the gold RM and re-centre the proxies.
    pub norm_samples: usize,
    /// Best-of-n prompts.
    pub prompts: usize,
    /// Best-of-n samples per prompt (N).
    pub samples_per_prompt: usize,
    pub policies: Vec<PolicyFamily>,
    pub kl_penalties: Vec<f64>,
    pub rl_steps: usize,
    pub rl_batch: usize,
    pub rl_lr: f64,
    pub rl_log_every: usize,
    pub rl_eval_samples: usize,
    /// RL replicates per setting (`run` = 1..).
    pub rl_seeds: usize,
}

impl SimSpec {
    /// The defaults of a preset.
    pub fn preset(preset: Preset) -> SimSpec {
        let small = SimSpec {
            preset,
            seed: 0,
            dim: 16,
            gold_hidden: 64,
            gold_typicality: 1.0,
            rm_hidden: vec![0, 1, 2, 4, 8, 16, 32, 64, 128],
            rm_data: vec![1000, 4000],
            rm_val: 2000,
            rm_epochs: 20,
            rm_batch: 64,
            rm_lr: 0.01,
            labels: Labels::Deterministic,
            norm_samples: 50_000,
            prompts: 100,
            samples_per_prompt: 256,
            policies: vec![PolicyFamily::Diag, PolicyFamily::Full],
            kl_penalties: vec![0.0, 0.1, 0.3],
            rl_steps: 300,
            rl_batch: 64,
            rl_lr: 0.01,
            rl_log_every: 10,
            rl_eval_samples: 512,
            rl_seeds: 1,
        };
        match preset {
            Preset::Small => small,
            Preset::Paper => SimSpec {
                rm_hidden: vec![0, 1, 2, 4, 8, 16, 32, 64, 128, 256],
                rm_data: vec![30_000],
                prompts: 1000,
                samples_per_prompt: 1000,
                kl_penalties: vec![0.0, 0.01, 0.05, 0.1, 0.5],
                rl_steps: 600,
                rl_eval_samples: 2000,
                rl_seeds: 2,
                ..small
            },
        }
    }

    /// Refuses settings that make no sense, naming the flag.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("dim", self.dim),
            ("gold-hidden", self.gold_hidden),
            ("rm-val", self.rm_val),
            ("rm-epochs", self.rm_epochs),
            ("rm-batch", self.rm_batch),
            ("norm-samples", self.norm_samples),
            ("prompts", self.prompts),
            ("samples-per-prompt", self.samples_per_prompt),
            ("rl-steps", self.rl_steps),
            ("rl-batch", self.rl_batch),
            ("rl-log-every", self.rl_log_every),
            ("rl-eval-samples", self.rl_eval_samples),
            ("rl-seeds", self.rl_seeds),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(invalid(format!("--{name} must be at least 1, not 0")));
            }
        }
        if self.norm_samples < 2 || self.rl_eval_samples < 2 {
            return Err(invalid("--norm-samples and --rl-eval-samples must be at least 2 (a variance needs two draws)".into()));
        }
        for (name, list) in [("rm-hidden", &self.rm_hidden), ("rm-data", &self.rm_data)] {
            if list.is_empty() {
                return Err(invalid(format!("--{name} is empty")));
            }
            if name == "rm-data" && list.contains(&0) {
                return Err(invalid(format!(
                    "--{name}: sizes must be at least 1, not 0"
                )));
            }
            if has_duplicates(list.iter().map(|&v| v as f64)) {
                return Err(invalid(format!("--{name} lists a size twice")));
            }
        }
        if self.policies.is_empty() {
            return Err(invalid("--policies is empty".into()));
        }
        if self.kl_penalties.is_empty() {
            return Err(invalid("--kl-penalties is empty".into()));
        }
        if let Some(p) = self
            .kl_penalties
            .iter()
            .find(|p| !(p.is_finite() && **p >= 0.0))
        {
            return Err(invalid(format!(
                "--kl-penalties: {p} is not a penalty >= 0"
            )));
        }
        if has_duplicates(self.kl_penalties.iter().copied()) {
            return Err(invalid("--kl-penalties lists a value twice".into()));
        }
        let mut policies = self.policies.clone();
        policies.sort();
        policies.dedup();
        if policies.len() != self.policies.len() {
            return Err(invalid("--policies lists a family twice".into()));
        }
        for (name, v) in [("rm-lr", self.rm_lr), ("rl-lr", self.rl_lr)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(format!("--{name} must be a number > 0, not {v}")));
            }
        }
        if !(self.gold_typicality.is_finite() && self.gold_typicality >= 0.0) {
            return Err(invalid(format!(
                "--gold-typicality must be a number >= 0, not {}",
                self.gold_typicality
            )));
        }
        Ok(())
    }

    /// The parameter count of the proxy with `hidden` units.
    pub fn rm_params(&self, hidden: usize) -> usize {
        ProxyNet::n_params(self.dim, hidden)
    }
}

fn invalid(msg: String) -> Error {
    Error::Analysis(format!("generate sim: {msg}"))
}

fn has_duplicates(values: impl Iterator<Item = f64>) -> bool {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.windows(2).any(|w| w[0] == w[1])
}

/// The seeded random streams of the world: each purpose (and each model or run) has its own,
/// so no draw depends on the order in which threads run.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    GoldNetwork = 1,
    Normalisation = 2,
    TrainComparisons = 3,
    ValComparisons = 4,
    ProxyInit = 5,
    ProxyOrder = 6,
    BonPrompt = 7,
    RlTrain = 8,
    RlEval = 9,
}

/// The generator of `stream` for the given identifying values (a proxy width, a data size,
/// ...), derived from the seed by SplitMix64 mixing.
pub fn rng(seed: u64, stream: Stream, ids: &[u64]) -> ChaCha8Rng {
    let mut h = splitmix(seed ^ splitmix(stream as u64));
    for &id in ids {
        h = splitmix(h ^ splitmix(id.wrapping_add(0x5851_f42d_4c95_7f2d)));
    }
    ChaCha8Rng::seed_from_u64(h)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where the stages of the simulation are reported (an observer of the application layer,
/// or nothing).
#[derive(Clone, Copy)]
pub struct Progress {
    observer: &'static dyn crate::progress::Observer,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    /// Reports to `observer`.
    pub fn new(observer: &'static dyn crate::progress::Observer) -> Progress {
        Progress { observer }
    }

    /// Reports nothing.
    pub fn hidden() -> Progress {
        Progress {
            observer: &crate::progress::Silent,
        }
    }

    fn stage(&self, name: &str, len: usize) -> Box<dyn crate::progress::Stage> {
        self.observer.stage(name, len as u64)
    }

    fn done(&self, bar: &dyn crate::progress::Stage) {
        bar.finish();
    }
}

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

/// One RL run: its settings and its log.
struct RlRun {
    family: PolicyFamily,
    rm: usize,
    penalty: f64,
    replicate: usize,
    log: Vec<RlPoint>,
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
    let proxies: Vec<&CalibratedProxy> = rms.iter().map(|r| &r.proxy).collect();
    let t1 = Instant::now();

    // Best-of-n: every prompt's pool from its own stream, scored by gold and every proxy.
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
            let scores = proxies
                .iter()
                .map(|rm| x.chunks_exact(spec.dim).map(|xi| rm.score(xi)).collect())
                .collect();
            bar.inc(1);
            (golds, scores)
        })
        .collect();
    progress.done(bar.as_ref());
    let bon_samples = samples_table(&rms, &pools, n);
    drop(pools);
    let t2 = Instant::now();

    // RL against every proxy, for every policy family, penalty and replicate.
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
                proxies[rm],
                &gold,
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

/// The Samples table: per proxy (in training order), per prompt, per sample.
fn samples_table(
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
fn rl_table(spec: &SimSpec, rms: &[RewardModelRecord], runs: &[RlRun]) -> OutTable {
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

fn reward_models_table(rms: &[RewardModelRecord]) -> OutTable {
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

/// Runs the world of `spec` and writes [`SIM_FILES`] into `dir` (created if missing): the
/// files are opened before any work and put in place only when all are complete.
pub fn write_world(spec: &SimSpec, dir: &Path, progress: Progress) -> Result<SimOutputs> {
    spec.validate()?;
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let result = simulate_into(spec, dir, progress);
    if result.is_err() && created {
        // Leave no trace of a failed run: the folder is empty again (its temporary files are
        // gone), and removing an empty folder we made cannot lose anything.
        let _ = std::fs::remove_dir(dir);
    }
    result
}

fn simulate_into(spec: &SimSpec, dir: &Path, progress: Progress) -> Result<SimOutputs> {
    let sinks = SIM_FILES
        .iter()
        .map(|f| Sink::create(&dir.join(f)))
        .collect::<Result<Vec<_>>>()?;
    let out = simulate(spec, progress)?;
    let world = serde_json::to_vec_pretty(&out.world).map_err(|e| Error::Write {
        path: dir.join(SIM_FILES[3]),
        source: std::io::Error::other(e.to_string()),
    })?;
    let bytes = [
        out.bon_samples.to_bytes_for(&dir.join(SIM_FILES[0]))?,
        out.rl_runs.to_bytes_for(&dir.join(SIM_FILES[1]))?,
        out.reward_models.to_bytes_for(&dir.join(SIM_FILES[2]))?,
        world,
    ];
    crate::output::commit_all(
        sinks
            .into_iter()
            .zip(bytes.iter().map(Vec::as_slice))
            .collect(),
    )?;
    Ok(out)
}
