//! Which log key feeds which canonical column: the defaults per format, the `train/` prefix
//! that W&B and TensorBoard reporting add, TensorBoard's `/` -> `_` in file names, and the
//! "unknown key" message that lists the keys that exist, nearest first.

use std::path::Path;

use crate::error::{Error, Result};
use crate::ingest::{KeyOptions, LogFormat};

/// Default KL keys: TRL PPO (`objective/kl`, per sequence), TRL GRPO (`kl`, per token), veRL
/// (`actor/kl_loss` with a KL loss, `critic/kl` with a KL reward penalty; both per token).
pub fn default_kl(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Verl => &["actor/kl_loss", "critic/kl"],
        LogFormat::Trl => &["objective/kl", "kl"],
        _ => &["objective/kl", "kl", "actor/kl_loss", "critic/kl"],
    }
}

/// Default proxy-score keys: TRL PPO `objective/scores`, GRPO `reward`, veRL `critic/score/mean`.
pub fn default_proxy(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Verl => &["critic/score/mean"],
        LogFormat::Trl => &["objective/scores", "reward"],
        _ => &["objective/scores", "reward", "critic/score/mean"],
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

/// Response-length keys that exist in common trainers (suggested, never used unasked).
pub const LENGTH_HINTS: &[&str] = &[
    "completions/mean_length",
    "completion_length",
    "response_length/mean",
    "tokens/responses_len_mean",
];

/// A key without the reporting prefix, with `/` and `_` alike, in lower case.
fn normal(key: &str) -> String {
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
    for list in [default_kl(format), default_proxy(format), LENGTH_HINTS] {
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
