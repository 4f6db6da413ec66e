//! The canonical tables' column names and types, and the keys that identify a curve.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::fmt_num;

/// How the policy was optimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Best-of-n sampling.
    Bon,
    /// Reinforcement learning (PPO or similar).
    Rl,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Bon => "bon",
            Method::Rl => "rl",
        }
    }

    /// Parses `bon` or `rl` (surrounding white space and case ignored).
    pub fn parse(text: &str) -> Option<Method> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("bon") {
            Some(Method::Bon)
        } else if t.eq_ignore_ascii_case("rl") {
            Some(Method::Rl)
        } else {
            None
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a column holds once read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// A floating-point number (integers are read as numbers too).
    Number,
    /// Free text (a number in the file is kept as its text).
    Text,
    /// Text or integers naming groups (such as prompts), stored once per distinct value
    /// (dictionary-encoded): large tables with few distinct values stay small and fast.
    Label,
}

/// One column of a canonical table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub required: bool,
}

/// The columns of `schema` with none required: to see what a file maps to (`inspect`, and
/// `convert` telling a Samples table from a Curves table) without failing on a missing column.
pub(crate) fn all_optional(schema: &[ColumnSpec]) -> Vec<ColumnSpec> {
    schema
        .iter()
        .map(|s| ColumnSpec {
            required: false,
            ..*s
        })
        .collect()
}

const fn col(name: &'static str, kind: ColumnKind, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
    }
}

/// The Curves table (README.md, "The Curves table"): one row per point of a gold-vs-KL curve.
pub const CURVES: &[ColumnSpec] = &[
    col("method", ColumnKind::Label, true),
    col("rm_params", ColumnKind::Number, true),
    col("kl", ColumnKind::Number, true),
    col("gold", ColumnKind::Number, true),
    col("proxy", ColumnKind::Number, false),
    col("run", ColumnKind::Text, false),
    col("step", ColumnKind::Number, false),
    col("n", ColumnKind::Number, false),
    col("kl_penalty", ColumnKind::Number, false),
    col("policy_params", ColumnKind::Number, false),
    col("rm_data", ColumnKind::Number, false),
    col("gold_se", ColumnKind::Number, false),
    col("proxy_se", ColumnKind::Number, false),
    // Policy entropy (nats), when the trainer logs it: `gold_vs_entropy` plots against it.
    col("entropy", ColumnKind::Number, false),
    // Bootstrap replicate curves (1..B) written by `goodhart bon --bootstrap`; empty on the
    // point estimate.
    col("replicate", ColumnKind::Number, false),
    // Per-prompt estimates of a best-of-n point (`goodhart bon`): space-separated numbers in
    // prompt order, `nan` where the prompt's pool is smaller than n; `goodhart fit` bootstraps
    // prompts from them.
    col("gold_prompts", ColumnKind::Text, false),
    col("proxy_prompts", ColumnKind::Text, false),
];

/// The Samples table (ARCHITECTURE.md, "Tables"): one row per scored sample; the samples of one prompt and
/// one reward model form a best-of-n pool.
pub const SAMPLES: &[ColumnSpec] = &[
    col("prompt", ColumnKind::Label, true),
    col("proxy", ColumnKind::Number, true),
    col("gold", ColumnKind::Number, true),
    col("rm_params", ColumnKind::Number, false),
    col("policy_params", ColumnKind::Number, false),
    col("rm_data", ColumnKind::Number, false),
];

/// The partial table of mergeable best-of-n (`goodhart bon --partial`, README "Mergeable
/// best-of-n"; written and checked by `bon::partial`): one row per (pool, n).
pub const BON_PARTIAL: &[ColumnSpec] = &[
    col("rm_params", ColumnKind::Number, true),
    col("policy_params", ColumnKind::Number, false),
    col("rm_data", ColumnKind::Number, false),
    col("prompt", ColumnKind::Label, true),
    col("pool_size", ColumnKind::Number, true),
    col("n", ColumnKind::Number, true),
    col("gold", ColumnKind::Number, true),
    col("proxy", ColumnKind::Number, true),
    col("kl_pool", ColumnKind::Number, true),
    col("options", ColumnKind::Text, true),
];

/// Total order on `f64` keys (all key values are finite once validated).
fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

fn cmp_opt(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_f64(x, y),
    }
}

/// Column names used in code (the tables above list every column).
pub const METHOD: &str = "method";
pub const RM_PARAMS: &str = "rm_params";
pub const POLICY_PARAMS: &str = "policy_params";
pub const RM_DATA: &str = "rm_data";
pub const KL_PENALTY: &str = "kl_penalty";
pub const KL: &str = "kl";
pub const GOLD: &str = "gold";
pub const GOLD_PROMPTS: &str = "gold_prompts";
pub const PROXY_PROMPTS: &str = "proxy_prompts";
pub const PROXY: &str = "proxy";

/// The keys that identify a curve, besides the method.
pub const KEY_NAMES: [&str; 4] = [RM_PARAMS, POLICY_PARAMS, RM_DATA, KL_PENALTY];

/// What identifies a curve: all rows sharing these values are fitted together.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurveKey {
    pub method: Method,
    pub rm_params: f64,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_penalty: Option<f64>,
}

impl CurveKey {
    /// The value of a key by its column name (one of [`KEY_NAMES`]).
    pub fn value(&self, name: &str) -> Option<f64> {
        match name {
            RM_PARAMS => Some(self.rm_params),
            POLICY_PARAMS => self.policy_params,
            RM_DATA => self.rm_data,
            KL_PENALTY => self.kl_penalty,
            _ => None,
        }
    }
}

impl Ord for CurveKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.method
            .cmp(&other.method)
            .then(cmp_opt(self.policy_params, other.policy_params))
            .then(cmp_opt(self.rm_data, other.rm_data))
            .then(cmp_opt(self.kl_penalty, other.kl_penalty))
            .then(cmp_f64(self.rm_params, other.rm_params))
    }
}

impl PartialOrd for CurveKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for CurveKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for CurveKey {}

/// Hashes the bit patterns, consistent with `Eq` (equal under `total_cmp` means equal bits).
impl std::hash::Hash for CurveKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.method.hash(state);
        self.rm_params.to_bits().hash(state);
        for v in [self.policy_params, self.rm_data, self.kl_penalty] {
            v.map(f64::to_bits).hash(state);
        }
    }
}

impl fmt::Display for CurveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rm_params={}", self.method, fmt_num(self.rm_params))?;
        for (name, value) in [
            ("policy_params", self.policy_params),
            ("rm_data", self.rm_data),
            ("kl_penalty", self.kl_penalty),
        ] {
            if let Some(v) = value {
                write!(f, " {name}={}", fmt_num(v))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_parse() {
        assert_eq!(Method::parse(" BoN "), Some(Method::Bon));
        assert_eq!(Method::parse("ppo"), None);
    }
}
