//! KL units: some trainers log KL summed over a response (TRL PPO `objective/kl`), others the
//! mean per token (TRL GRPO `kl`, veRL `actor/kl_loss`, `critic/kl`). The Curves table's `kl` is
//! per sequence. A per-token KL becomes per-sequence only when a response-length key is given
//! (KL x mean length: approximate, since the mean of a product is not the product of means);
//! otherwise it stays per token, and inputs of different units are never fitted together.

use crate::error::{Error, Result};
use crate::ingest::{KlUnit, LogFormat};

use super::LoadedTable;

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
            UnitTag::Sequence => "per sequence",
            UnitTag::SequenceFromTokens => "per sequence (per-token KL x mean response length)",
            UnitTag::Token => "per token (not converted)",
        }
    }

    fn base(self) -> KlUnit {
        match self {
            UnitTag::Token => KlUnit::Token,
            _ => KlUnit::Sequence,
        }
    }
}

/// The unit a known KL key has, if the key says it.
pub fn default_unit(_format: LogFormat, key: &str) -> Option<KlUnit> {
    let k = key.strip_prefix("train/").unwrap_or(key).replace('_', "/");
    match k.as_str() {
        "objective/kl" => Some(KlUnit::Sequence),
        "kl" | "actor/kl/loss" | "critic/kl" => Some(KlUnit::Token),
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
        .map(|t| format!("{}: KL {}", t.info.source, t.unit.describe()))
        .collect();
    Err(Error::MixedKlUnits {
        detail: list.join("; "),
    })
}
