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
//!
//! The stages live in sibling files: `spec` (settings and presets), `streams` (the seeded
//! generators), `reward_models` (gold and proxies), `bon` (best-of-n pools), `rl` (the RL
//! runs), `tables` (the output tables) and `simulate` (the stages in order and `world.json`);
//! this file writes the results as [`SIM_FILES`].

mod bon;
pub mod nets;
pub mod policy;
mod progress;
mod reward_models;
mod rl;
mod simulate;
mod spec;
mod streams;
mod tables;

use std::path::Path;

use crate::error::Result;

pub use progress::Progress;
pub use reward_models::{RewardModelRecord, build_gold, train_reward_models};
pub use simulate::{SimOutputs, simulate};
pub(crate) use spec::has_duplicates;
pub use spec::{Labels, Preset, SimSpec};
pub use streams::{Stream, rng};

/// The files `generate sim` writes into its output folder.
pub const SIM_FILES: [&str; 4] = [
    "bon_samples.parquet",
    "rl_runs.csv",
    "reward_models.csv",
    "world.json",
];

/// Runs the world of `spec` and writes [`SIM_FILES`] into `dir` (created if missing): the
/// files are opened before any work and put in place only when all are complete.
pub fn write_world(spec: &SimSpec, dir: &Path, progress: Progress) -> Result<SimOutputs> {
    spec.validate()?;
    super::write_folder(dir, &SIM_FILES, || {
        let out = simulate(spec, progress)?;
        let bytes = vec![
            out.bon_samples.to_bytes_for(&dir.join(SIM_FILES[0]))?,
            out.rl_runs.to_bytes_for(&dir.join(SIM_FILES[1]))?,
            out.reward_models.to_bytes_for(&dir.join(SIM_FILES[2]))?,
            super::json_bytes(&out.world, &dir.join(SIM_FILES[3]))?,
        ];
        Ok((out, bytes))
    })
}
