//! The settings of a token world: the presets, every knob `world.json` records, and the
//! checks that refuse settings that make no sense before any work starts.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::generate::sim::has_duplicates;

/// A named set of defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenPreset {
    /// The default: 9 proxy sizes, 3 data sizes, 3 policy sizes, 3 KL penalties, iterated
    /// RLHF in 1, 2 and 4 rounds.
    Small,
    /// A reduced world for tests: a smaller vocabulary, fewer sizes and shorter runs.
    Test,
}

/// One proxy reward model: `r(v) = u . E_v[..embedding_dims] + b_v`, with a free weight `b_v`
/// for each of the `free_tokens` most frequent tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProxySize {
    pub embedding_dims: usize,
    pub free_tokens: usize,
}

impl ProxySize {
    pub fn params(&self) -> usize {
        self.embedding_dims + self.free_tokens
    }
}

/// Every setting of the token world (written to `world.json`).
#[derive(Debug, Clone, Serialize)]
pub struct TokenSpec {
    pub preset: TokenPreset,
    pub seed: u64,
    /// Tokens per response (T).
    pub positions: usize,
    /// Vocabulary size (V).
    pub vocab: usize,
    /// pi_0's frequencies fall as rank^-s.
    pub zipf_exponent: f64,
    /// Standard deviation of each position's log-frequency jitter.
    pub position_jitter: f64,
    /// Columns of the reward models' token embedding (K).
    pub embedding_dims: usize,
    /// Weights of the gold's three parts: a random direction of the embedding, the rarity
    /// term (inverted U in surprisal), and an idiosyncratic value per token.
    pub gold_smooth: f64,
    pub gold_rarity: f64,
    pub gold_idio: f64,
    /// Beyond surprisal ln V the rarity term falls with slope `gold_turn_slope - 1`.
    pub gold_turn_slope: f64,
    pub proxy_sizes: Vec<ProxySize>,
    /// Training comparisons per proxy; smaller sets are prefixes of larger ones.
    pub rm_data: Vec<usize>,
    /// The data size of the main sweeps (policy sizes, penalties, iterated RLHF).
    pub rm_data_main: usize,
    pub rm_val: usize,
    /// L2 penalty on the embedding weights u, and on the free weights b (divided by N).
    pub l2_embedding: f64,
    pub l2_free: f64,
    pub lbfgs_max_iters: u64,
    /// Best-of-n: prompts (independent pools) and samples per prompt, scored by every proxy.
    pub prompts: usize,
    pub samples_per_prompt: usize,
    /// Policy sizes: the width of the policy's own token features (policy_params = T x width).
    pub policy_widths: Vec<usize>,
    /// The policy width of the data, penalty and iterated sweeps.
    pub policy_width_main: usize,
    /// Correlation of the policy's token features with the reward models' embedding (column
    /// 0, the surprisal, is shared).
    pub policy_rho: f64,
    pub kl_penalties: Vec<f64>,
    pub rl_steps: usize,
    pub rl_batch: usize,
    pub rl_lr: f64,
    /// Evaluations per run, log-spaced in the step.
    pub rl_evals: usize,
    /// Numbers of rounds of the iterated-RLHF runs (the one-round run is the main run).
    pub iterated_rounds: Vec<usize>,
    /// The proxy sizes (indices into `proxy_sizes`) of the iterated-RLHF runs.
    pub iterated_sizes: Vec<usize>,
}

impl TokenSpec {
    /// The defaults of a preset.
    pub fn preset(preset: TokenPreset) -> TokenSpec {
        let size = |embedding_dims, free_tokens| ProxySize {
            embedding_dims,
            free_tokens,
        };
        let small = TokenSpec {
            preset,
            seed: 0,
            positions: 8,
            vocab: 4096,
            zipf_exponent: 1.0,
            position_jitter: 0.3,
            embedding_dims: 32,
            gold_smooth: 1.0,
            gold_rarity: 2.5,
            gold_idio: 1.0,
            gold_turn_slope: 3.0,
            proxy_sizes: vec![
                size(2, 0),
                size(8, 0),
                size(16, 0),
                size(32, 0),
                size(32, 16),
                size(32, 64),
                size(32, 256),
                size(32, 1024),
                size(32, 4096),
            ],
            rm_data: vec![1000, 4000, 16000],
            rm_data_main: 4000,
            rm_val: 5000,
            l2_embedding: 1e-3,
            l2_free: 1.0,
            lbfgs_max_iters: 2000,
            // 40 pools: with 10 the n = 1e4 end of a best-of-n curve has a standard error of
            // 0.1-0.3 gold, as large as the fall of a curve that peaks late.
            prompts: 40,
            samples_per_prompt: 10_000,
            policy_widths: vec![8, 32, 128],
            policy_width_main: 8,
            policy_rho: 0.0,
            kl_penalties: vec![0.0, 0.1, 0.3],
            rl_steps: 3000,
            rl_batch: 32,
            rl_lr: 0.01,
            rl_evals: 40,
            iterated_rounds: vec![2, 4],
            iterated_sizes: vec![1, 3, 6, 8],
        };
        match preset {
            TokenPreset::Small => small,
            TokenPreset::Test => TokenSpec {
                vocab: 1024,
                proxy_sizes: vec![
                    size(2, 0),
                    size(8, 0),
                    size(32, 0),
                    size(32, 64),
                    size(32, 1024),
                ],
                rm_data: vec![1000, 4000],
                prompts: 4,
                samples_per_prompt: 5000,
                policy_widths: vec![8, 32],
                rl_steps: 1500,
                iterated_rounds: vec![2],
                iterated_sizes: vec![1, 2, 4],
                ..small
            },
        }
    }

    /// Refuses settings that make no sense, naming the setting: a usage error (exit status 2).
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("positions", self.positions),
            ("embedding-dims", self.embedding_dims),
            ("rm-val", self.rm_val),
            ("prompts", self.prompts),
            ("--rl-steps", self.rl_steps),
            ("rl-batch", self.rl_batch),
            ("rl-evals", self.rl_evals),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(unusable(format!("{name} must be at least 1, not 0")));
            }
        }
        if self.vocab < 2 {
            return Err(unusable(format!(
                "vocab must be at least 2, not {}",
                self.vocab
            )));
        }
        if self.samples_per_prompt < 2 {
            return Err(unusable("samples-per-prompt must be at least 2".into()));
        }
        if self.proxy_sizes.is_empty() || self.rm_data.is_empty() || self.policy_widths.is_empty() {
            return Err(unusable(
                "the proxy sizes, data sizes and policy widths must not be empty".into(),
            ));
        }
        if let Some(p) = self.proxy_sizes.iter().find(|p| {
            p.embedding_dims > self.embedding_dims || p.free_tokens > self.vocab || p.params() == 0
        }) {
            return Err(unusable(format!(
                "a proxy with {} embedding columns and {} free tokens does not fit a world of {} columns and {} tokens",
                p.embedding_dims, p.free_tokens, self.embedding_dims, self.vocab
            )));
        }
        if !self.rm_data.contains(&self.rm_data_main) || self.rm_data.contains(&0) {
            return Err(unusable(format!(
                "rm-data {:?} must hold the main data size {} and no 0",
                self.rm_data, self.rm_data_main
            )));
        }
        if let Some(w) = self.policy_widths.iter().find(|w| **w == 0) {
            return Err(unusable(format!(
                "--policy-widths: a width must be at least 1, not {w}"
            )));
        }
        if has_duplicates(self.policy_widths.iter().map(|&w| w as f64)) {
            return Err(unusable(format!(
                "--policy-widths {:?} lists a width twice",
                self.policy_widths
            )));
        }
        if !self.policy_widths.contains(&self.policy_width_main) {
            return Err(unusable(format!(
                "the policy widths {:?} must hold the main width {}",
                self.policy_widths, self.policy_width_main
            )));
        }
        if !(0.0..=1.0).contains(&self.policy_rho) {
            return Err(unusable(format!(
                "--policy-rho must lie in [0, 1], not {}",
                self.policy_rho
            )));
        }
        if self.kl_penalties.first() != Some(&0.0)
            || self
                .kl_penalties
                .iter()
                .any(|p| !(p.is_finite() && *p >= 0.0))
        {
            return Err(unusable(format!(
                "--kl-penalties {:?} must start with 0 (the unpenalised runs) and hold finite numbers >= 0",
                self.kl_penalties
            )));
        }
        if has_duplicates(self.kl_penalties.iter().copied()) {
            return Err(unusable(format!(
                "--kl-penalties {:?} lists a value twice",
                self.kl_penalties
            )));
        }
        if let Some(k) = self
            .iterated_rounds
            .iter()
            .find(|&&k| k >= 2 && !self.rl_steps.is_multiple_of(k))
        {
            return Err(unusable(format!(
                "--rl-steps {} must be divisible by {k}: iterated RLHF runs {k} rounds of rl-steps / {k} steps (rounds {:?})",
                self.rl_steps, self.iterated_rounds
            )));
        }
        if self
            .iterated_rounds
            .iter()
            .any(|&k| k < 2 || !self.rl_steps.is_multiple_of(k))
            || self
                .iterated_sizes
                .iter()
                .any(|&i| i >= self.proxy_sizes.len())
        {
            return Err(unusable(format!(
                "iterated rounds {:?} must be >= 2 and divide rl-steps {}, and iterated sizes {:?} index the proxy sizes",
                self.iterated_rounds, self.rl_steps, self.iterated_sizes
            )));
        }
        if !(self.rl_lr.is_finite() && self.rl_lr > 0.0) {
            return Err(unusable(format!(
                "--rl-lr must be a finite number > 0, not {}",
                self.rl_lr
            )));
        }
        for (name, v) in [
            ("l2-embedding", self.l2_embedding),
            ("l2-free", self.l2_free),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(unusable(format!(
                    "{name} must be a finite number >= 0, not {v}"
                )));
            }
        }
        Ok(())
    }

    /// The policy's parameter count at `width`.
    pub fn policy_params(&self, width: usize) -> usize {
        self.positions * width
    }
}

fn unusable(msg: String) -> Error {
    Error::Usage(format!("generate tokens: {msg}"))
}
