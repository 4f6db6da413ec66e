//! The settings of a simulated world: the presets, every knob `world.json` records, and the
//! checks that refuse settings that make no sense before any work starts.

use serde::Serialize;

use super::nets::ProxyNet;
use super::policy::PolicyFamily;
use crate::error::{Error, Result};

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

    /// Refuses settings that make no sense, naming the flag: a usage error (exit status 2).
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
                return Err(unusable(format!("--{name} must be at least 1, not 0")));
            }
        }
        if self.norm_samples < 2 || self.rl_eval_samples < 2 {
            return Err(unusable("--norm-samples and --rl-eval-samples must be at least 2 (a variance needs two draws)".into()));
        }
        for (name, list) in [("rm-hidden", &self.rm_hidden), ("rm-data", &self.rm_data)] {
            if list.is_empty() {
                return Err(unusable(format!("--{name} is empty")));
            }
            if name == "rm-data" && list.contains(&0) {
                return Err(unusable(format!(
                    "--{name}: sizes must be at least 1, not 0"
                )));
            }
            if has_duplicates(list.iter().map(|&v| v as f64)) {
                return Err(unusable(format!("--{name} lists a size twice")));
            }
        }
        if self.policies.is_empty() {
            return Err(unusable("--policies is empty".into()));
        }
        if self.kl_penalties.is_empty() {
            return Err(unusable("--kl-penalties is empty".into()));
        }
        if let Some(p) = self
            .kl_penalties
            .iter()
            .find(|p| !(p.is_finite() && **p >= 0.0))
        {
            return Err(unusable(format!(
                "--kl-penalties: {p} is not a penalty >= 0"
            )));
        }
        if has_duplicates(self.kl_penalties.iter().copied()) {
            return Err(unusable("--kl-penalties lists a value twice".into()));
        }
        let mut policies = self.policies.clone();
        policies.sort();
        policies.dedup();
        if policies.len() != self.policies.len() {
            return Err(unusable("--policies lists a family twice".into()));
        }
        for (name, v) in [("rm-lr", self.rm_lr), ("rl-lr", self.rl_lr)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(unusable(format!("--{name} must be a number > 0, not {v}")));
            }
        }
        if !(self.gold_typicality.is_finite() && self.gold_typicality >= 0.0) {
            return Err(unusable(format!(
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

/// An error of the run (a training that diverged), prefixed `generate sim:`.
pub(super) fn invalid(msg: String) -> Error {
    Error::Analysis(format!("generate sim: {msg}"))
}

/// A setting out of its range (a flag value no run can use), prefixed `generate sim:`: a usage
/// error (exit status 2).
fn unusable(msg: String) -> Error {
    Error::Usage(format!("generate sim: {msg}"))
}

/// Whether a list of numbers holds a value twice.
pub(crate) fn has_duplicates(values: impl Iterator<Item = f64>) -> bool {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.windows(2).any(|w| w[0] == w[1])
}
