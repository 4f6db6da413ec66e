//! Which log key feeds which canonical column: the defaults per format, the `train/` prefix
//! that W&B and TensorBoard reporting add, TensorBoard's `/` -> `_` in file names, and the
//! "unknown key" message that lists the keys that exist, nearest first.

use std::path::Path;

use crate::error::{Error, Result};
use crate::ingest::{KeyOptions, LogFormat};

// The trainers' logging keys, read from their current source (see also the README, "Reading the
// logs you already have"):
// - TRL (huggingface/trl at f2cd57710ae345ea6428ae95363267fcf38a3dc8): GRPOTrainer and
//   RLOOTrainer (trl/trainer/grpo_trainer.py, rloo_trainer.py) log `kl` (the mean over completion
//   tokens of the per-token KL: k3 for GRPO, k1 for RLOO, so RLOO's can be negative), `reward`
//   (the weighted sum of the reward functions), `reward_std`, `rewards/<func>/mean` and `/std`,
//   `completions/mean_length` (tokens), `entropy`, ...; the experimental PPOTrainer
//   (trl/experimental/ppo/ppo_trainer.py) logs `objective/kl` (summed over the response) and
//   `objective/scores`; the classic PPOTrainer (trl < 0.12) logged `env/reward_mean`.
// - OpenRLHF (OpenRLHF/OpenRLHF at 3c3be6234e0cb353e76bb8019947db9dfe99fca7): `kl` (per-token
//   masked mean, openrlhf/trainer/ppo_utils/experience_maker.py), `reward`, `return`,
//   `response_length`, logged as `train/<key>` to W&B and TensorBoard
//   (openrlhf/utils/logging_utils.py).
// - veRL (volcengine/verl at b178a3cd56f58b2d502255daba591e92833930a7): `actor/kl_loss` (KL loss),
//   `actor/reward_kl_penalty` (KL in the reward, verl/trainer/ppo/ray_trainer.py; `critic/kl` in
//   older versions), both per-token means; `critic/score/mean`, `response_length/mean`
//   (verl/trainer/ppo/metric_utils.py).

/// Default KL keys: TRL PPO (`objective/kl`, per sequence), TRL GRPO/RLOO and OpenRLHF (`kl`,
/// per token), veRL (`actor/kl_loss` with a KL loss, `actor/reward_kl_penalty` or, in older
/// versions, `critic/kl` with a KL reward penalty; all per token).
pub fn default_kl(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Verl => &["actor/kl_loss", "actor/reward_kl_penalty", "critic/kl"],
        LogFormat::Trl => &["objective/kl", "kl"],
        _ => &[
            "objective/kl",
            "kl",
            "actor/kl_loss",
            "actor/reward_kl_penalty",
            "critic/kl",
        ],
    }
}

/// Default proxy-score keys: TRL PPO `objective/scores`, TRL's classic PPOTrainer
/// `env/reward_mean`, GRPO/RLOO and OpenRLHF `reward`, veRL `critic/score/mean`.
pub fn default_proxy(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Verl => &["critic/score/mean"],
        LogFormat::Trl => &["objective/scores", "env/reward_mean", "reward"],
        _ => &[
            "objective/scores",
            "env/reward_mean",
            "reward",
            "critic/score/mean",
        ],
    }
}

/// Default step keys.
pub fn default_step(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Wandb | LogFormat::Tensorboard => &["Step", "step"],
        _ => &["step", "global_step"],
    }
}

/// Default gold keys of a `--gold-from` file.
pub const DEFAULT_GOLD: &[&str] = &["gold", "gold_score", "gold/mean"];

/// Mean response-length keys (tokens), in order of preference: TRL GRPO/RLOO, veRL, OpenRLHF,
/// older TRL GRPO. A per-token KL is multiplied by the first one the log has, unless
/// `--length-key` names another.
pub const LENGTH_KEYS: &[&str] = &[
    "completions/mean_length",
    "response_length/mean",
    "response_length",
    "completion_length",
];

/// The per-reward-function means of TRL's GRPO and RLOO trainers (`rewards/<func>/mean`, with
/// or without the `train/` prefix; TensorBoard's `rewards_<func>_mean` too), in log order.
pub fn reward_function_means(available: &[String]) -> Vec<String> {
    available
        .iter()
        .filter(|k| {
            let k = k.trim();
            let k = k
                .strip_prefix("train/")
                .or_else(|| k.strip_prefix("train_"))
                .unwrap_or(k);
            (k.starts_with("rewards/") && k.ends_with("/mean"))
                || (k.starts_with("rewards_") && k.ends_with("_mean"))
        })
        .cloned()
        .collect()
}

/// A key without the reporting prefix, with `/` and `_` alike, in lower case.
pub fn normal(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("train/")
        .or_else(|| k.strip_prefix("train_"))
        .unwrap_or(k);
    k.replace('/', "_").to_ascii_lowercase()
}

/// True when a key found in a log is the key asked for, up to the `train/` prefix and TensorBoard's
/// `/` -> `_`.
pub fn same_key(found: &str, wanted: &str) -> bool {
    found == wanted || normal(found) == normal(wanted)
}

/// Every key the mapping may look for (to split W&B column names).
pub fn wanted(format: LogFormat, keys: &KeyOptions) -> Vec<String> {
    let mut v: Vec<String> = [&keys.kl, &keys.proxy, &keys.gold, &keys.step, &keys.length]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    for list in [default_kl(format), default_proxy(format), LENGTH_KEYS] {
        v.extend(list.iter().map(|s| s.to_string()));
    }
    v
}

/// The key of `available` that is `want`: an exact match first, then up to prefix and `/`.
pub fn find<'a>(available: &'a [String], want: &str) -> Option<&'a String> {
    available
        .iter()
        .find(|k| *k == want)
        .or_else(|| available.iter().find(|k| same_key(k, want)))
}

/// The keys that exist, nearest to `want` first.
pub fn nearest_first(want: &str, available: &[String]) -> Vec<String> {
    let w = normal(want);
    let mut scored: Vec<(f64, &String)> = available
        .iter()
        .map(|k| (strsim::jaro_winkler(&w, &normal(k)), k))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().map(|(_, k)| k.clone()).collect()
}

/// Resolves one role: the user's key (which must exist) or the first default that exists.
pub fn resolve(
    path: &Path,
    available: &[String],
    flag: &'static str,
    given: Option<&str>,
    defaults: &[&str],
) -> Result<Option<String>> {
    match given {
        Some(key) => find(available, key)
            .cloned()
            .map(Some)
            .ok_or_else(|| unknown_key(path, flag, key, available)),
        None => Ok(defaults.iter().find_map(|d| find(available, d)).cloned()),
    }
}

pub fn unknown_key(path: &Path, flag: &'static str, key: &str, available: &[String]) -> Error {
    Error::UnknownKey {
        path: path.to_path_buf(),
        flag,
        key: key.to_string(),
        available: nearest_first(key, available).join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_slashes_are_tolerated() {
        assert!(same_key("train/objective/kl", "objective/kl"));
        assert!(same_key("objective_kl", "objective/kl"));
        assert!(!same_key("objective/kl_coef", "objective/kl"));
        let keys = vec!["train/kl".to_string(), "kl".to_string()];
        assert_eq!(find(&keys, "kl").map(String::as_str), Some("kl"));
    }

    #[test]
    fn nearest_key_comes_first() {
        let keys: Vec<String> = ["loss", "objective/scores", "objective/kl"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(nearest_first("objective/kll", &keys)[0], "objective/kl");
    }
}
