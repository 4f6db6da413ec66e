//! `generate tokens`: a token-level synthetic RLHF world in which the paper's best-of-n and RL
//! laws of overoptimization emerge from the mechanism (README, "goodhart generate tokens").
//!
//! Responses are sequences of tokens with Zipf frequencies; the gold reward values rare tokens
//! up to a point and garbage beyond it ([`world`]); proxies are linear token scores fitted by
//! Bradley-Terry with L-BFGS on pi_0's comparisons ([`proxy`]), so small ones extrapolate
//! "rarer is better" past the turn; RL trains position-wise softmax policies over their own
//! token features by REINFORCE ([`policy`]), with exact KL. The stages are in [`simulate`];
//! this file writes the results as [`TOKEN_FILES`].

pub mod policy;
pub mod proxy;
pub mod simulate;
pub mod spec;
pub mod world;

use std::path::Path;

use crate::error::Result;
use crate::generate::sim::Progress;

pub use simulate::{TokenOutputs, simulate_tokens};
pub use spec::{ProxySize, TokenPreset, TokenSpec};

/// The files `generate tokens` writes into its output folder.
pub const TOKEN_FILES: [&str; 5] = [
    "bon_samples.parquet",
    "rl_runs.csv",
    "reward_models.csv",
    "iterated_rlhf.csv",
    "world.json",
];

/// Runs the world of `spec` and writes [`TOKEN_FILES`] into `dir` (created if missing): the
/// files are opened before any work and put in place only when all are complete.
pub fn write_token_world(spec: &TokenSpec, dir: &Path, progress: Progress) -> Result<TokenOutputs> {
    spec.validate()?;
    super::write_folder(dir, &TOKEN_FILES, || {
        let out = simulate_tokens(spec, progress)?;
        let bytes = vec![
            out.bon_samples.to_bytes_for(&dir.join(TOKEN_FILES[0]))?,
            out.rl_runs.to_bytes_for(&dir.join(TOKEN_FILES[1]))?,
            out.reward_models.to_bytes_for(&dir.join(TOKEN_FILES[2]))?,
            out.iterated.to_bytes_for(&dir.join(TOKEN_FILES[3]))?,
            super::json_bytes(&out.world, &dir.join(TOKEN_FILES[4]))?,
        ];
        Ok((out, bytes))
    })
}
