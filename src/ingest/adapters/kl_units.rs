//! KL units: some trainers log KL summed over a response (TRL PPO `objective/kl`), others the
//! mean per token (TRL GRPO `kl`, veRL `actor/kl_loss`, `critic/kl`). The Curves table's `kl` is
//! per sequence. A per-token KL becomes per-sequence only when a response-length key is given
//! (KL x mean length: approximate, since the mean of a product is not the product of means);
//! otherwise it stays per token, and inputs of different units are never fitted together.

use crate::error::{Error, Result};
use crate::ingest::{KlUnit, LogFormat};

use super::{LoadedTable, keys};

/// What the `kl` column of a converted table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitTag {
    /// Per-sequence KL, as logged (or a tidy table).
    Sequence,
    /// Per-sequence KL computed as per-token KL x mean response length (approximate).
    SequenceFromTokens,
    /// Per-token mean KL, not converted.
    Token,
}

impl UnitTag {
    pub fn describe(self) -> &'static str {
        match self {
            UnitTag::Sequence => "nats per sequence",
            UnitTag::SequenceFromTokens => {
                "nats per sequence (per-token KL x mean response length)"
            }
            UnitTag::Token => "nats per token (not converted: no response-length key)",
        }
    }

    fn base(self) -> KlUnit {
        match self {
            UnitTag::Token => KlUnit::Token,
            _ => KlUnit::Sequence,
        }
    }
}

/// Keys that only a PPO trainer logs (TRL's `objective/*`, the classic PPOTrainer's `env/*` and
/// `ppo/*`): with them, a bare `kl` is taken as per-sequence KL.
fn has_ppo_keys(available: &[String]) -> Option<String> {
    available
        .iter()
        .find(|k| {
            let n = keys::normal(k);
            // not `ppo_*`: OpenRLHF logs `ppo_kl` and `ppo_clip_ratio` beside its per-token
            // `kl`; TRL's PPO trainers always log `objective/*` (and the classic one `env/*`)
            n.starts_with("objective_") || n.starts_with("env_")
        })
        .cloned()
}

/// Keys that only the per-token-KL trainers log: TRL GRPO/RLOO (`completions/*`,
/// `rewards/<func>/mean`, `reward_std`, `frac_reward_zero_std`) and OpenRLHF (`response_length`,
/// `return`, `total_length`).
fn has_per_token_keys(available: &[String]) -> Option<String> {
    available
        .iter()
        .find(|k| {
            let n = keys::normal(k);
            n.starts_with("completions_")
                || (n.starts_with("rewards_") && n.ends_with("_mean"))
                || matches!(
                    n.as_str(),
                    "reward_std"
                        | "frac_reward_zero_std"
                        | "response_length"
                        | "return"
                        | "total_length"
                )
        })
        .cloned()
}

/// The unit of a KL key when the key (or the keys logged beside it) tells it, and why.
///
/// `objective/kl` is per sequence; veRL's `actor/kl_loss`, `actor/reward_kl_penalty` and
/// `critic/kl` are per token. A bare `kl` (`train/kl`, `train_kl`) is per token in TRL's GRPO
/// and RLOO trainers and in OpenRLHF, per sequence beside PPO keys (`objective/*`): in a TRL
/// `trainer_state.json` only GRPO and RLOO log it, while in a W&B or TensorBoard export the
/// other keys decide, and None when none of them does or when they disagree (PPO keys and
/// per-token trainers' keys in one export).
pub fn default_unit(
    format: LogFormat,
    key: &str,
    available: &[String],
) -> Option<(KlUnit, String)> {
    match keys::normal(key).as_str() {
        "objective_kl" => Some((
            KlUnit::Sequence,
            "TRL PPO's objective/kl is summed over the response".to_string(),
        )),
        "actor_kl_loss" | "actor_reward_kl_penalty" | "critic_kl" => Some((
            KlUnit::Token,
            format!("veRL's {key} is a mean over response tokens"),
        )),
        "kl" => {
            if let (Some(p), Some(t)) = (has_ppo_keys(available), has_per_token_keys(available)) {
                // e.g. a W&B export of a PPO run and a GRPO run: the file cannot say
                let _ = (p, t);
                None
            } else if let Some(k) = has_ppo_keys(available) {
                Some((
                    KlUnit::Sequence,
                    format!(
                        "'{k}' is logged beside it: a PPO log, whose KL is summed over the response"
                    ),
                ))
            } else if let Some(k) = has_per_token_keys(available) {
                Some((
                    KlUnit::Token,
                    format!(
                        "'{k}' is logged beside it: TRL GRPO/RLOO or OpenRLHF, whose kl is a mean over completion tokens"
                    ),
                ))
            } else if matches!(format, LogFormat::Trl | LogFormat::Verl) {
                Some((KlUnit::Token, "in a trainer_state.json only TRL's GRPO and RLOO trainers log 'kl', a mean over completion tokens".to_string()))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Refuses to put KL of different units into one fit, naming the inputs that disagree.
pub fn check_same_unit(tables: &[LoadedTable]) -> Result<()> {
    let Some(first) = tables.first() else {
        return Ok(());
    };
    if tables.iter().all(|t| t.unit.base() == first.unit.base()) {
        return Ok(());
    }
    let list: Vec<String> = tables
        .iter()
        .map(|t| format!("{}: KL in {}", t.info.source, t.unit.describe()))
        .collect();
    Err(Error::MixedKlUnits {
        detail: list.join("; "),
    })
}
