//! The paper's comparisons between methods and runs, beyond one curve's fit (README, "goodhart
//! analyze"): how much more KL RL spends than best-of-n for the same proxy gain, whether the
//! two methods reach the same gold at the same proxy score, how reward models' validation
//! metrics track their size and their fitted gold peaks (the paper's Fig. 5), how far
//! KL-penalised RL runs lie from the unpenalised frontier at equal KL (Fig. 9), and simulated
//! iterated RLHF against the paper's formula R_k(d) = d(α − β ln d + β ln k).
//!
//! Each analysis is a section of [`AnalysesDoc`]; one that cannot be computed (an input or a
//! column missing) carries `skipped` with the reason and no records. Gold differences are
//! given in the gold column's units and, where the initial policy's samples give its gold
//! standard deviation ([`crate::goodhart::Reference`]), in those standard deviations (`*_sd`).

pub mod read;
pub mod text;

use serde::{Deserialize, Serialize};

use crate::curves::Curve;
use crate::document::{FitRecord, Target};
use crate::forms::FormId;
use crate::goodhart::{Reference, find_reference};
use crate::schema::{CurveKey, Method};
use crate::stats::{finite, median, spearman};

pub use read::{
    Iterated, IteratedKey, IteratedRun, RewardModels, read_iterated, read_reward_models,
};

/// The number of proxy values at which the gold-vs-proxy curves are compared.
pub const PROXY_GRID: usize = 51;

/// Everything the analyses read.
pub struct Inputs<'a> {
    /// Best-of-n and RL curves.
    pub curves: &'a [Curve],
    /// The fits of those curves (their gold peaks join the reward-models table).
    pub fits: &'a [FitRecord],
    /// Initial-policy references (from samples): their gold sd is the unit of gold differences.
    pub refs: &'a [Reference],
    pub reward_models: Option<&'a RewardModels>,
    pub iterated: Option<&'a Iterated>,
}

/// The analyses document (`goodhart analyze --out`, `fits/analyses.json` of the demo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysesDoc {
    pub goodhart_version: String,
    /// Where the gold standard deviation of `*_sd` values comes from: `"samples"` (the
    /// initial policy's samples of each RM) or `"none"` (no samples: only gold-column units).
    pub gold_sd_source: String,
    pub kl_efficiency: KlEfficiency,
    pub gold_vs_proxy: GoldVsProxy,
    pub reward_models: RewardModelsAnalysis,
    pub kl_penalty: KlPenaltyFrontier,
    pub iterated_rlhf: IteratedRlhf,
}

impl AnalysesDoc {
    /// The document as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        crate::document::to_json_bytes(self)
    }

    /// The sections that were skipped, with their reasons: `(name, reason)`.
    pub fn skipped(&self) -> Vec<(&'static str, &str)> {
        [
            ("kl_efficiency", &self.kl_efficiency.skipped),
            ("gold_vs_proxy", &self.gold_vs_proxy.skipped),
            ("reward_models", &self.reward_models.skipped),
            ("kl_penalty", &self.kl_penalty.skipped),
            ("iterated_rlhf", &self.iterated_rlhf.skipped),
        ]
        .into_iter()
        .filter_map(|(n, s)| s.as_deref().map(|s| (n, s)))
        .collect()
    }
}

/// The RM a record is about (RL's policy, when there is one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RmKey {
    pub rm_params: f64,
    pub rm_data: Option<f64>,
    pub policy_params: Option<f64>,
}

impl RmKey {
    fn of(k: &CurveKey) -> RmKey {
        RmKey {
            rm_params: k.rm_params,
            rm_data: k.rm_data,
            policy_params: k.policy_params,
        }
    }

    /// `rm_params=1e8 rm_data=4000 policy_params=32`, for warnings and tables.
    pub fn label(&self) -> String {
        use crate::format::fmt_num;
        let mut s = format!("rm_params={}", fmt_num(self.rm_params));
        for (n, v) in [
            ("rm_data", self.rm_data),
            ("policy_params", self.policy_params),
        ] {
            if let Some(v) = v {
                s.push_str(&format!(" {n}={}", fmt_num(v)));
            }
        }
        s
    }
}

/// What a count of records is a count of, in words: `"36 RM x policy pairs (18 RMs)"` when
/// some RM (rm_params, rm_data) comes with more than one policy (the records are then not
/// independent RMs), else `"18 RMs"`.
///
/// ```
/// use goodhart::analyses::{RmKey, count_words};
/// let k = |rm: f64, p: f64| RmKey { rm_params: rm, rm_data: None, policy_params: Some(p) };
/// assert_eq!(count_words(&[k(1.0, 8.0), k(2.0, 8.0)]), "2 RMs");
/// assert_eq!(count_words(&[k(1.0, 8.0), k(1.0, 32.0), k(2.0, 8.0)]), "3 RM x policy pairs (2 RMs)");
/// ```
pub fn count_words(keys: &[RmKey]) -> String {
    let mut rms: Vec<(u64, Option<u64>)> = keys
        .iter()
        .map(|k| (k.rm_params.to_bits(), k.rm_data.map(f64::to_bits)))
        .collect();
    rms.sort_unstable();
    rms.dedup();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if rms.len() < keys.len() {
        format!(
            "{} ({})",
            plural(keys.len(), "RM x policy pair", "RM x policy pairs"),
            plural(rms.len(), "RM", "RMs")
        )
    } else {
        plural(keys.len(), "RM", "RMs")
    }
}

impl KlEfficiency {
    /// [`count_words`] of the records that have a ratio (those the median is over).
    pub fn ratio_count_words(&self) -> String {
        let k: Vec<RmKey> = self
            .records
            .iter()
            .filter(|r| r.ratio.is_some())
            .map(|r| r.key)
            .collect();
        count_words(&k)
    }
}

impl GoldVsProxy {
    /// The four medians in one unit, gold sd (`sd`) or gold units: of the mean difference, of
    /// the mean |difference|, of the difference at the top of the range, and of its magnitude.
    pub fn medians(&self, sd: bool) -> [Option<f64>; 4] {
        if sd {
            [
                self.median_mean_diff_sd,
                self.median_mean_abs_diff_sd,
                self.median_diff_at_high_sd,
                self.median_abs_diff_at_high_sd,
            ]
        } else {
            [
                self.median_mean_diff,
                self.median_mean_abs_diff,
                self.median_diff_at_high,
                self.median_abs_diff_at_high,
            ]
        }
    }

    /// How many records have RL gold below best-of-n's at the top of the common proxy range,
    /// of how many have a value there (a median of signed or absolute gaps hides the sign's
    /// consistency; this does not).
    pub fn below_at_high(&self) -> (usize, usize) {
        let d: Vec<f64> = self.records.iter().filter_map(|r| r.diff_at_high).collect();
        (d.iter().filter(|&&x| x < 0.0).count(), d.len())
    }

    /// [`count_words`] of the records compared (those the medians are over).
    pub fn compared_count_words(&self) -> String {
        let k: Vec<RmKey> = self
            .records
            .iter()
            .filter(|r| r.mean_diff.is_some())
            .map(|r| r.key)
            .collect();
        count_words(&k)
    }
}

/// RL vs best-of-n KL efficiency: the KL each method needs for the same proxy gain.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KlEfficiency {
    pub skipped: Option<String>,
    /// How the KLs were found (the same text for every record).
    pub method: String,
    pub records: Vec<KlEfficiencyRecord>,
    /// Median of `ratio` over the records that have one.
    pub median_ratio: Option<f64>,
    pub n_ratios: usize,
}

/// One unpenalised RL curve against the best-of-n curve of its RM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlEfficiencyRecord {
    #[serde(flatten)]
    pub key: RmKey,
    /// The largest proxy gain (over the kl = 0 score) best-of-n reaches: the target.
    pub bon_max_proxy_gain: Option<f64>,
    /// The largest proxy gain RL reaches.
    pub rl_max_proxy_gain: Option<f64>,
    pub kl_bon: Option<f64>,
    pub kl_rl: Option<f64>,
    /// kl_rl / kl_bon; null when RL never reaches the target (`reason` says why).
    pub ratio: Option<f64>,
    pub reason: Option<String>,
}

/// Gold as a function of proxy, RL against best-of-n, on their common proxy range.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GoldVsProxy {
    pub skipped: Option<String>,
    pub method: String,
    pub records: Vec<GoldVsProxyRecord>,
    /// Median over records of `mean_diff` (gold units) and of `mean_diff_sd` (gold sd of the
    /// initial policy; over the records that have it).
    pub median_mean_diff: Option<f64>,
    pub median_mean_diff_sd: Option<f64>,
    /// Median over records of `mean_abs_diff` (gold units) and of `mean_abs_diff_sd`: how far
    /// apart the two methods' gold is at equal proxy, whatever the sign (signed means of curves
    /// that cross, or of RMs on either side, cancel; these do not).
    pub median_mean_abs_diff: Option<f64>,
    pub median_mean_abs_diff_sd: Option<f64>,
    /// The same at the top of each pair's common proxy range only (usually best-of-n's largest
    /// proxy score, where the two methods have moved furthest): the median over records of
    /// `diff_at_high` and of |`diff_at_high`| (gold units, and `_sd` in gold sd). Both methods
    /// start at the initial policy, so the mean over the range is small even when the curves
    /// part at its top; this reading is not.
    #[serde(default)]
    pub median_diff_at_high: Option<f64>,
    #[serde(default)]
    pub median_diff_at_high_sd: Option<f64>,
    #[serde(default)]
    pub median_abs_diff_at_high: Option<f64>,
    #[serde(default)]
    pub median_abs_diff_at_high_sd: Option<f64>,
}

/// RL gold minus best-of-n gold at equal proxy score, for one RM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldVsProxyRecord {
    #[serde(flatten)]
    pub key: RmKey,
    /// The common proxy range compared.
    pub proxy_low: Option<f64>,
    pub proxy_high: Option<f64>,
    /// Mean over the range of RL gold − best-of-n gold (gold units).
    pub mean_diff: Option<f64>,
    /// Mean over the range of |RL gold − best-of-n gold| (gold units).
    pub mean_abs_diff: Option<f64>,
    /// The largest |RL gold − best-of-n gold| over the range (>= 0).
    pub max_abs_diff: Option<f64>,
    /// The difference of largest magnitude over the range, with its sign (|extreme_diff| =
    /// max_abs_diff).
    pub extreme_diff: Option<f64>,
    /// The difference at the top of the range (`proxy_high`), and in gold sd.
    pub diff_at_high: Option<f64>,
    #[serde(default)]
    pub diff_at_high_sd: Option<f64>,
    /// The initial policy's gold sd for this RM (null without samples).
    pub gold_sd: Option<f64>,
    pub mean_diff_sd: Option<f64>,
    pub mean_abs_diff_sd: Option<f64>,
    pub max_abs_diff_sd: Option<f64>,
    pub extreme_diff_sd: Option<f64>,
    pub reason: Option<String>,
}

/// Validation metrics of the reward models against their size and fitted gold peaks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RewardModelsAnalysis {
    pub skipped: Option<String>,
    pub records: Vec<RewardModelRecord>,
    /// Spearman correlations within each rm_data group.
    pub groups: Vec<RewardModelGroup>,
    /// How many records have a fitted best-of-n (RL) peak, and how many of those lie beyond
    /// the data: the peak's sqrt-KL exceeds the largest d of the fitted points, so the peak is
    /// an extrapolation of the fitted form, not something the data show.
    pub n_bon_peaks: usize,
    pub n_bon_peaks_beyond_data: usize,
    pub n_rl_peaks: usize,
    pub n_rl_peaks_beyond_data: usize,
}

/// One reward model with its gold peaks (gain over the kl = 0 score, and its KL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardModelRecord {
    pub rm_params: f64,
    pub rm_data: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub bon_peak_gain: Option<f64>,
    pub bon_peak_kl: Option<f64>,
    /// The fitted peak lies beyond the data: its KL exceeds the largest KL of the fitted points
    /// (peak sqrt-KL > the largest observed d), an extrapolation; null without a peak or when
    /// the fit does not record its KL range.
    pub bon_peak_beyond_data: Option<bool>,
    /// Why there is no best-of-n peak (no fit, not converged, no maximum).
    pub bon_peak_reason: Option<String>,
    /// The RL fit used: unpenalised, of the largest policy trained with this RM (its
    /// policy_params; it can differ between RM data sizes).
    pub rl_policy_params: Option<f64>,
    pub rl_peak_gain: Option<f64>,
    pub rl_peak_kl: Option<f64>,
    /// As `bon_peak_beyond_data`, for the RL peak.
    pub rl_peak_beyond_data: Option<bool>,
    pub rl_peak_reason: Option<String>,
}

/// Spearman rank correlations over the reward models of one rm_data value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardModelGroup {
    pub rm_data: Option<f64>,
    pub n_rms: usize,
    pub size_val_loss: Option<f64>,
    pub size_val_accuracy: Option<f64>,
    /// Spearman of a validation metric with the fitted peak gain over every RM of the group
    /// with a fitted peak, *including* peaks beyond the data (extrapolations of the fitted
    /// form); see the `_in_data` keys for the correlations the data show.
    pub val_loss_bon_peak_gain: Option<f64>,
    pub val_accuracy_bon_peak_gain: Option<f64>,
    pub val_loss_rl_peak_gain: Option<f64>,
    pub val_accuracy_rl_peak_gain: Option<f64>,
    /// How many RMs of the group have a fitted best-of-n (RL) peak inside their curve's data
    /// (`*_peak_beyond_data` false): the RMs the `_in_data` correlations use.
    #[serde(default)]
    pub n_bon_peaks_in_data: usize,
    #[serde(default)]
    pub n_rl_peaks_in_data: usize,
    /// Spearman over the RMs whose fitted peak lies inside the data only; null when fewer than
    /// 3 such RMs (with the metric) remain, or when the ranks of one side are all tied.
    #[serde(default)]
    pub val_loss_bon_peak_gain_in_data: Option<f64>,
    #[serde(default)]
    pub val_accuracy_bon_peak_gain_in_data: Option<f64>,
    #[serde(default)]
    pub val_loss_rl_peak_gain_in_data: Option<f64>,
    #[serde(default)]
    pub val_accuracy_rl_peak_gain_in_data: Option<f64>,
    /// Why an `_in_data` correlation is null (fewer than 3 peaks inside the data, or fewer
    /// than 3 of them with the validation metric); null when every one has a value.
    #[serde(default)]
    pub in_data_note: Option<String>,
    /// The number of (x, y) pairs each correlation above used: the RMs of the group with both
    /// values (a missing `val_loss` or `val_accuracy` cell, or no peak, leaves an RM out).
    /// `n_size_val_loss` counts the pairs of `size_val_loss`, and so on; the counts the summary,
    /// the report and the `rm_validation` caption print next to each correlation.
    #[serde(default)]
    pub n_size_val_loss: usize,
    #[serde(default)]
    pub n_size_val_accuracy: usize,
    #[serde(default)]
    pub n_val_loss_bon_peak_gain: usize,
    #[serde(default)]
    pub n_val_accuracy_bon_peak_gain: usize,
    #[serde(default)]
    pub n_val_loss_rl_peak_gain: usize,
    #[serde(default)]
    pub n_val_accuracy_rl_peak_gain: usize,
    #[serde(default)]
    pub n_val_loss_bon_peak_gain_in_data: usize,
    #[serde(default)]
    pub n_val_accuracy_bon_peak_gain_in_data: usize,
    #[serde(default)]
    pub n_val_loss_rl_peak_gain_in_data: usize,
    #[serde(default)]
    pub n_val_accuracy_rl_peak_gain_in_data: usize,
}

/// KL-penalised RL runs against the unpenalised run of the same RM and policy at equal KL.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct KlPenaltyFrontier {
    pub skipped: Option<String>,
    pub method: String,
    pub records: Vec<KlPenaltyRecord>,
    pub per_penalty: Vec<KlPenaltySummary>,
    pub median_mean_diff: Option<f64>,
    pub median_mean_diff_sd: Option<f64>,
    /// Median over runs of `mean_abs_diff` (gold units) and of `mean_abs_diff_sd`: how far the
    /// runs lie from the frontier whatever the sign (signed distances of runs above and below
    /// it, or of a run that crosses it, cancel; these do not).
    pub median_mean_abs_diff: Option<f64>,
    pub median_mean_abs_diff_sd: Option<f64>,
    /// How many penalised runs end at a smaller KL than their frontier, of how many.
    pub n_end_lower: usize,
    pub n_runs: usize,
}

/// One penalised run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlPenaltyRecord {
    #[serde(flatten)]
    pub key: RmKey,
    pub kl_penalty: f64,
    /// The run's points, and those inside the frontier's KL range (compared).
    pub n_points: usize,
    pub n_compared: usize,
    /// Mean of gold_penalised(kl) − gold_frontier(kl) over the compared points; the largest
    /// |difference| (>= 0); and the difference of largest magnitude with its sign.
    pub mean_diff: Option<f64>,
    /// Mean over the compared points of |gold_penalised(kl) − gold_frontier(kl)|.
    pub mean_abs_diff: Option<f64>,
    pub max_abs_diff: Option<f64>,
    pub extreme_diff: Option<f64>,
    pub gold_sd: Option<f64>,
    pub mean_diff_sd: Option<f64>,
    pub mean_abs_diff_sd: Option<f64>,
    pub max_abs_diff_sd: Option<f64>,
    pub extreme_diff_sd: Option<f64>,
    /// The largest KL of the run and of its frontier.
    pub final_kl: Option<f64>,
    pub frontier_final_kl: Option<f64>,
    pub ends_lower: Option<bool>,
    pub reason: Option<String>,
}

/// The records of one penalty value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KlPenaltySummary {
    pub kl_penalty: f64,
    pub n_runs: usize,
    pub median_mean_diff: Option<f64>,
    pub median_mean_diff_sd: Option<f64>,
    pub median_mean_abs_diff: Option<f64>,
    pub median_mean_abs_diff_sd: Option<f64>,
    pub median_final_kl_ratio: Option<f64>,
    pub n_end_lower: usize,
}

/// Simulated iterated RLHF against the paper's formula.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IteratedRlhf {
    pub skipped: Option<String>,
    pub method: String,
    /// The RL-form fit of each group's rounds = 1 run.
    pub fits: Vec<IteratedFit>,
    /// One per group and number of rounds k (k = 1: the fit's own error).
    pub records: Vec<IteratedRecord>,
    /// How many k > 1 runs end above the rounds = 1 run's gold at the same d_sum (a positive
    /// `gain_over_one_round_at_equal_d_sum`), of how many k > 1 runs.
    pub n_above_one_round: usize,
    pub n_multi_round: usize,
    /// How many k > 1 runs have a gain at all: their final d_sum lies inside the rounds = 1
    /// run's range (the others carry a `gain_note`). `n_above_one_round` counts among these.
    #[serde(default)]
    pub n_comparable: usize,
    /// How many k > 1 runs end above the rounds = 1 run at the common d_sum (the largest
    /// d_sum both runs reach), of how many have one. Unlike
    /// `n_above_one_round`, this compares a run that goes past the one-round run's range too,
    /// at the one-round run's final d_sum.
    #[serde(default)]
    pub n_above_one_round_at_common_d_sum: usize,
    #[serde(default)]
    pub n_compared_at_common_d_sum: usize,
    /// The same at the largest KL from the initial policy both runs reach.
    #[serde(default)]
    pub n_above_one_round_at_common_kl: usize,
    #[serde(default)]
    pub n_compared_at_common_kl: usize,
    /// Median over k > 1 records of `rmse` and of `final_error`.
    pub median_rmse: Option<f64>,
    pub median_final_error: Option<f64>,
}

impl IteratedRlhf {
    /// How the k > 1 runs end against one round at equal d_sum, in words for the tables and
    /// captions: "2 of 3 end above ...", and it says so when a run cannot be compared (its final
    /// d_sum lies past the one-round run's) instead of counting it as below.
    pub fn equal_d_sum_summary(&self) -> String {
        let (above, comparable, multi) = (
            self.n_above_one_round,
            self.n_comparable,
            self.n_multi_round,
        );
        let common = format!(
            "at the largest d_sum both runs reach, {} of {} are above one round (at the largest KL from the initial policy both reach, {} of {})",
            self.n_above_one_round_at_common_d_sum,
            self.n_compared_at_common_d_sum,
            self.n_above_one_round_at_common_kl,
            self.n_compared_at_common_kl
        );
        // k > 1 runs of groups without a one-round run: nothing to compare them with
        let alone = self
            .records
            .iter()
            .filter(|r| r.rounds > 1 && r.gain_note.as_deref() == Some(NO_ONE_ROUND))
            .count();
        let alone = if alone > 0 {
            format!(" ({alone} of them in groups without a one-round run)")
        } else {
            String::new()
        };
        if multi == 0 {
            "there is no run of more than one round to compare with one round".to_string()
        } else if comparable == 0 {
            format!(
                "none of the {multi}{alone} ends inside the one-round run's d_sum range, so none can be compared with one round at its final d_sum; {common}"
            )
        } else if comparable < multi {
            format!(
                "{above} of the {comparable} comparable end above one round at equal d_sum ({} of {multi}{alone} end outside the one-round run's d_sum range); {common}",
                multi - comparable
            )
        } else {
            format!("{above} of {multi} end above one round at equal d_sum")
        }
    }
}

/// The group of an iterated run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IteratedGroup {
    #[serde(flatten)]
    pub key: RmKey,
    pub kl_penalty: Option<f64>,
}

/// gold = baseline + d(α − β ln d), d = sqrt(kl), fitted to the rounds = 1 run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IteratedFit {
    #[serde(flatten)]
    pub group: IteratedGroup,
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub baseline: Option<f64>,
    pub n_points: usize,
    pub reason: Option<String>,
}

/// One k-round run against R_k(d_sum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IteratedRecord {
    #[serde(flatten)]
    pub group: IteratedGroup,
    pub rounds: u32,
    pub n_points: usize,
    pub final_d_sum: Option<f64>,
    pub final_gold: Option<f64>,
    pub final_predicted: Option<f64>,
    /// Simulated − predicted at the final point, and the RMSE over the run's points.
    pub final_error: Option<f64>,
    pub rmse: Option<f64>,
    /// The rounds = 1 run's gold at this run's final d_sum (linearly interpolated in d_sum;
    /// null when the one-round run does not reach that distance, `gain_note` says so), and
    /// this run's final gold minus it: the paper's comparison at equal total distance.
    pub one_round_gold_at_final_d_sum: Option<f64>,
    pub gain_over_one_round_at_equal_d_sum: Option<f64>,
    /// The largest d_sum both this run and the rounds = 1 run reach (the smaller of this run's
    /// final d_sum and the one-round run's largest), each run's gold there (gold units) and
    /// this run's gold minus the one-round run's.
    /// When this run ends inside the one-round run's range these repeat the `final` and
    /// `equal_d_sum` values; when it goes further, they compare it at the one-round run's end,
    /// with this run's gold where it first reaches that d_sum (linearly interpolated in d_sum
    /// along the run).
    #[serde(default)]
    pub common_d_sum: Option<f64>,
    #[serde(default)]
    pub gold_at_common_d_sum: Option<f64>,
    #[serde(default)]
    pub one_round_gold_at_common_d_sum: Option<f64>,
    #[serde(default)]
    pub gain_over_one_round_at_common_d_sum: Option<f64>,
    /// The same at the largest KL from the initial policy both runs reach (`kl`, not d_sum):
    /// how far the policies have actually moved. d_sum adds each round's sqrt KL, which
    /// exceeds the sqrt KL of the whole move, so a k-round run reaches a given d_sum at a
    /// smaller KL than one round does.
    #[serde(default)]
    pub common_kl: Option<f64>,
    #[serde(default)]
    pub gold_at_common_kl: Option<f64>,
    #[serde(default)]
    pub one_round_gold_at_common_kl: Option<f64>,
    #[serde(default)]
    pub gain_over_one_round_at_common_kl: Option<f64>,
    pub gain_note: Option<String>,
    pub reason: Option<String>,
}

/// Runs every analysis the inputs allow.
pub fn analyze(inp: &Inputs) -> AnalysesDoc {
    let pairs = pairs(inp.curves);
    AnalysesDoc {
        goodhart_version: crate::document::VERSION.to_string(),
        gold_sd_source: if inp.refs.is_empty() {
            "none".into()
        } else {
            "samples".into()
        },
        kl_efficiency: kl_efficiency(inp.curves, &pairs),
        gold_vs_proxy: gold_vs_proxy(inp, &pairs),
        reward_models: reward_models(inp),
        kl_penalty: kl_penalty(inp),
        iterated_rlhf: iterated(inp.iterated),
    }
}

fn unpenalised(k: &CurveKey) -> bool {
    k.kl_penalty.is_none_or(|p| p == 0.0)
}

/// Finite (x, y) pairs of two columns.
fn finite_pairs(x: &[f64], y: impl Iterator<Item = Option<f64>>) -> Vec<(f64, f64)> {
    x.iter()
        .zip(y)
        .filter_map(|(&a, b)| b.map(|b| (a, b)))
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect()
}

/// (kl, proxy) in KL order.
pub fn kl_proxy(c: &Curve) -> Vec<(f64, f64)> {
    match &c.proxy {
        Some(p) => finite_pairs(&c.kl, p.iter().copied()),
        None => Vec::new(),
    }
}

/// (kl, gold) in KL order.
pub fn kl_gold(c: &Curve) -> Vec<(f64, f64)> {
    finite_pairs(&c.kl, c.gold.iter().map(|&g| Some(g)))
}

/// The mean y of the points at the smallest x (the baseline of a curve sorted by x).
fn baseline(pts: &[(f64, f64)]) -> Option<f64> {
    let x0 = pts.first()?.0;
    let at: Vec<f64> = pts.iter().filter(|p| p.0 == x0).map(|p| p.1).collect();
    Some(at.iter().sum::<f64>() / at.len() as f64)
}

/// Gain over the baseline: (x, y − baseline).
pub fn gains(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let Some(b) = baseline(pts) else {
        return Vec::new();
    };
    pts.iter().map(|&(x, y)| (x, y - b)).collect()
}

/// Linear interpolation of points sorted by x, inside their x range (`None` outside).
///
/// ```
/// use goodhart::analyses::interpolate;
/// let pts = [(0.0, 0.0), (1.0, 2.0), (3.0, 4.0)];
/// assert_eq!(interpolate(&pts, 0.5), Some(1.0));
/// assert_eq!(interpolate(&pts, 2.0), Some(3.0));
/// assert_eq!(interpolate(&pts, 3.5), None);
/// ```
pub fn interpolate(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    let (first, last) = (pts.first()?.0, pts.last()?.0);
    if !(x >= first && x <= last) {
        return None;
    }
    let i = pts.partition_point(|p| p.0 < x);
    if pts[i].0 == x {
        return Some(pts[i].1);
    }
    let (a, b) = (pts[i - 1], pts[i]);
    Some(a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0))
}

/// The smallest x at which the running maximum of y (points in x order) reaches `target`,
/// linearly interpolated between the last point below it and the first at or above it.
///
/// ```
/// use goodhart::analyses::first_reach;
/// // the dip at x = 2 is ignored: the running max stays 2 until x = 3
/// let pts = [(0.0, 0.0), (1.0, 2.0), (2.0, 1.0), (3.0, 4.0)];
/// assert_eq!(first_reach(&pts, 3.0), Some(2.5));
/// assert_eq!(first_reach(&pts, 5.0), None);
/// ```
pub fn first_reach(pts: &[(f64, f64)], target: f64) -> Option<f64> {
    let mut prev: Option<(f64, f64)> = None;
    for &(x, y) in pts {
        let m = prev.map_or(y, |p| p.1.max(y));
        if m >= target {
            return Some(match prev {
                Some((px, pm)) if m > pm && pm < target => px + (target - pm) / (m - pm) * (x - px),
                _ => x,
            });
        }
        prev = Some((x, m));
    }
    None
}

/// Each unpenalised RL curve with the best-of-n curve of its RM (same rm_params and rm_data;
/// the same policy_params when best-of-n curves carry one), in curve order.
fn pairs(curves: &[Curve]) -> Vec<(&Curve, Option<&Curve>)> {
    // Best-of-n curves indexed by RM (in curve order within an RM), so that pairing is linear in
    // the number of curves, not their product. rm_params and rm_data are validated finite and
    // > 0, so equal bit patterns are equal values.
    let rm = |k: &crate::schema::CurveKey| (k.rm_params.to_bits(), k.rm_data.map(f64::to_bits));
    let mut bon: std::collections::HashMap<(u64, Option<u64>), Vec<&Curve>> =
        std::collections::HashMap::new();
    for c in curves.iter().filter(|c| c.key.method == Method::Bon) {
        bon.entry(rm(&c.key)).or_default().push(c);
    }
    curves
        .iter()
        .filter(|c| c.key.method == Method::Rl && unpenalised(&c.key))
        .map(|rl| {
            let same: &[&Curve] = bon.get(&rm(&rl.key)).map_or(&[], Vec::as_slice);
            let m = same
                .iter()
                .copied()
                .find(|b| b.key.policy_params == rl.key.policy_params)
                .or_else(|| same.iter().copied().find(|b| b.key.policy_params.is_none()));
            (rl, m)
        })
        .collect()
}

/// Why a comparison of RL with best-of-n cannot be made at all, if so.
fn pair_skip(
    curves: &[Curve],
    pairs: &[(&Curve, Option<&Curve>)],
    need_proxy: bool,
) -> Option<String> {
    let has = |m: Method| curves.iter().any(|c| c.key.method == m);
    if !has(Method::Rl) {
        return Some("no RL curves given".into());
    }
    if !has(Method::Bon) {
        return Some("no best-of-n curves given".into());
    }
    if pairs.is_empty() {
        return Some("no unpenalised RL curve (kl_penalty 0 or absent)".into());
    }
    if pairs.iter().all(|(_, b)| b.is_none()) {
        return Some(
            "no unpenalised RL curve has a best-of-n curve of the same RM (rm_params, rm_data)"
                .into(),
        );
    }
    if need_proxy && !curves.iter().any(|c| !kl_proxy(c).is_empty()) {
        return Some("the curves have no proxy column (or no proxy values)".into());
    }
    None
}

fn gold_sd(refs: &[Reference], k: &CurveKey) -> Option<f64> {
    find_reference(refs, k)
        .map(|r| r.record.gold_sd)
        .filter(|s| s.is_finite() && *s > 0.0)
}

/// The reason of a KL-efficiency or gold-at-equal-proxy record whose RL curve has no proxy
/// values ([`warnings`] counts these in one line instead of one per curve).
pub const NO_RL_PROXY: &str = "the RL curve has no proxy column (or no proxy values)";

/// The KL-efficiency method text.
pub const KL_EFFICIENCY_METHOD: &str = "proxy gain = proxy − proxy at each curve's smallest KL; target = the largest gain best-of-n reaches; each method's KL to reach it from its gain-vs-KL points made monotone by a running maximum, linearly interpolated in KL; ratio = KL_RL / KL_BoN";

fn kl_efficiency(curves: &[Curve], pairs: &[(&Curve, Option<&Curve>)]) -> KlEfficiency {
    let mut out = KlEfficiency {
        method: KL_EFFICIENCY_METHOD.into(),
        ..KlEfficiency::default()
    };
    if let Some(why) = pair_skip(curves, pairs, true) {
        out.skipped = Some(why);
        return out;
    }
    for (rl, bon) in pairs {
        let mut r = KlEfficiencyRecord {
            key: RmKey::of(&rl.key),
            bon_max_proxy_gain: None,
            rl_max_proxy_gain: None,
            kl_bon: None,
            kl_rl: None,
            ratio: None,
            reason: None,
        };
        let Some(bon) = bon else {
            r.reason = Some("no best-of-n curve of this RM".into());
            out.records.push(r);
            continue;
        };
        if kl_proxy(rl).is_empty() {
            r.reason = Some(NO_RL_PROXY.into());
            out.records.push(r);
            continue;
        }
        let (gb, gr) = (gains(&kl_proxy(bon)), gains(&kl_proxy(rl)));
        let max = |g: &[(f64, f64)]| g.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if gb.len() < 2 || gr.len() < 2 {
            r.reason = Some(format!(
                "too few proxy points ({} best-of-n, {} RL; 2 needed)",
                gb.len(),
                gr.len()
            ));
            out.records.push(r);
            continue;
        }
        let (target, rl_max) = (max(&gb), max(&gr));
        r.bon_max_proxy_gain = finite(target);
        r.rl_max_proxy_gain = finite(rl_max);
        if target <= 0.0 {
            r.reason = Some("best-of-n never raises the proxy score".into());
            out.records.push(r);
            continue;
        }
        r.kl_bon = first_reach(&gb, target);
        r.kl_rl = first_reach(&gr, target);
        match (r.kl_bon, r.kl_rl) {
            (Some(b), Some(k)) if b > 0.0 => r.ratio = finite(k / b),
            (Some(_), None) => {
                r.reason = Some(format!(
                    "RL's largest proxy gain {} is below best-of-n's {}",
                    crate::format::g6(rl_max),
                    crate::format::g6(target)
                ))
            }
            _ => r.reason = Some("best-of-n reaches its largest gain at KL 0".into()),
        }
        out.records.push(r);
    }
    let ratios: Vec<f64> = out.records.iter().filter_map(|r| r.ratio).collect();
    out.n_ratios = ratios.len();
    out.median_ratio = median(&ratios);
    out
}

/// The difference of largest magnitude, with its sign (the first of equal magnitudes).
fn extreme(diffs: &[f64]) -> Option<f64> {
    diffs
        .iter()
        .copied()
        .filter(|d| d.is_finite())
        .reduce(|a, b| if b.abs() > a.abs() { b } else { a })
}

/// The gold-vs-proxy method text.
pub const GOLD_VS_PROXY_METHOD: &str = "each curve's (proxy, gold) points sorted by proxy and linearly interpolated; RL gold − best-of-n gold at PROXY_GRID evenly spaced proxy values over the range both curves cover; _sd values divide by the initial policy's gold sd; diff_at_high is the difference at the top of the common range (the largest proxy both reach)";

/// (proxy, gold) of a curve sorted by proxy (then gold).
pub fn proxy_gold(c: &Curve) -> Vec<(f64, f64)> {
    let Some(p) = &c.proxy else {
        return Vec::new();
    };
    let mut pts: Vec<(f64, f64)> = p
        .iter()
        .zip(&c.gold)
        .filter_map(|(p, &g)| p.map(|p| (p, g)))
        .filter(|(p, g)| p.is_finite() && g.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts
}

fn gold_vs_proxy(inp: &Inputs, pairs: &[(&Curve, Option<&Curve>)]) -> GoldVsProxy {
    let mut out = GoldVsProxy {
        method: GOLD_VS_PROXY_METHOD.replace("PROXY_GRID", &PROXY_GRID.to_string()),
        ..GoldVsProxy::default()
    };
    if let Some(why) = pair_skip(inp.curves, pairs, true) {
        out.skipped = Some(why);
        return out;
    }
    for (rl, bon) in pairs {
        let sd = gold_sd(inp.refs, &rl.key);
        let mut r = GoldVsProxyRecord {
            key: RmKey::of(&rl.key),
            proxy_low: None,
            proxy_high: None,
            mean_diff: None,
            mean_abs_diff: None,
            max_abs_diff: None,
            extreme_diff: None,
            diff_at_high: None,
            diff_at_high_sd: None,
            gold_sd: sd,
            mean_diff_sd: None,
            mean_abs_diff_sd: None,
            max_abs_diff_sd: None,
            extreme_diff_sd: None,
            reason: None,
        };
        let Some(bon) = bon else {
            r.reason = Some("no best-of-n curve of this RM".into());
            out.records.push(r);
            continue;
        };
        let (a, b) = (proxy_gold(rl), proxy_gold(bon));
        if a.is_empty() {
            r.reason = Some(NO_RL_PROXY.into());
            out.records.push(r);
            continue;
        }
        let (Some(a0), Some(b0)) = (a.first(), b.first()) else {
            r.reason = Some("a curve has no proxy values".into());
            out.records.push(r);
            continue;
        };
        let lo = a0.0.max(b0.0);
        let hi = a[a.len() - 1].0.min(b[b.len() - 1].0);
        if hi.is_nan() || lo.is_nan() || hi <= lo {
            r.reason = Some("the two curves' proxy ranges do not overlap".into());
            out.records.push(r);
            continue;
        }
        let diffs: Vec<f64> = (0..PROXY_GRID)
            .filter_map(|i| {
                let x = if i + 1 == PROXY_GRID {
                    hi
                } else {
                    lo + (hi - lo) * i as f64 / (PROXY_GRID - 1) as f64
                };
                Some(interpolate(&a, x)? - interpolate(&b, x)?)
            })
            .collect();
        r.proxy_low = Some(lo);
        r.proxy_high = Some(hi);
        r.mean_diff = finite(diffs.iter().sum::<f64>() / diffs.len() as f64);
        r.mean_abs_diff = finite(diffs.iter().map(|d| d.abs()).sum::<f64>() / diffs.len() as f64);
        r.extreme_diff = extreme(&diffs);
        r.max_abs_diff = r.extreme_diff.map(f64::abs);
        r.diff_at_high = diffs.last().copied();
        if let Some(s) = sd {
            r.mean_diff_sd = r.mean_diff.map(|d| d / s);
            r.mean_abs_diff_sd = r.mean_abs_diff.map(|d| d / s);
            r.max_abs_diff_sd = r.max_abs_diff.map(|d| d / s);
            r.extreme_diff_sd = r.extreme_diff.map(|d| d / s);
            r.diff_at_high_sd = r.diff_at_high.map(|d| d / s);
        }
        out.records.push(r);
    }
    let high: Vec<f64> = out.records.iter().filter_map(|r| r.diff_at_high).collect();
    let high_sd: Vec<f64> = out
        .records
        .iter()
        .filter_map(|r| r.diff_at_high_sd)
        .collect();
    let abs = |v: &[f64]| v.iter().map(|d| d.abs()).collect::<Vec<f64>>();
    out.median_diff_at_high = median(&high);
    out.median_diff_at_high_sd = median(&high_sd);
    out.median_abs_diff_at_high = median(&abs(&high));
    out.median_abs_diff_at_high_sd = median(&abs(&high_sd));
    let m: Vec<f64> = out.records.iter().filter_map(|r| r.mean_diff).collect();
    let s: Vec<f64> = out.records.iter().filter_map(|r| r.mean_diff_sd).collect();
    out.median_mean_diff = median(&m);
    out.median_mean_diff_sd = median(&s);
    let m: Vec<f64> = out.records.iter().filter_map(|r| r.mean_abs_diff).collect();
    let s: Vec<f64> = out
        .records
        .iter()
        .filter_map(|r| r.mean_abs_diff_sd)
        .collect();
    out.median_mean_abs_diff = median(&m);
    out.median_mean_abs_diff_sd = median(&s);
    out
}

/// The gold fit of the paper's form for a method (any converged form else) of a curve key.
fn gold_fit(fits: &[FitRecord], keep: impl Fn(&FitRecord) -> bool) -> Option<&FitRecord> {
    let all: Vec<&FitRecord> = fits
        .iter()
        .filter(|f| f.target == Target::Gold && keep(f))
        .collect();
    all.iter()
        .find(|f| f.form == FormId::for_method(f.method))
        .or_else(|| all.first())
        .copied()
}

/// A fitted peak: its gain and KL, whether it lies beyond the fitted points' largest KL (an
/// extrapolation), and the reason when there is none.
struct PeakOf {
    gain: Option<f64>,
    kl: Option<f64>,
    beyond: Option<bool>,
    reason: Option<String>,
}

fn peak_of(f: Option<&FitRecord>) -> PeakOf {
    let none = |why: String| PeakOf {
        gain: None,
        kl: None,
        beyond: None,
        reason: Some(why),
    };
    match f {
        None => none("no gold fit of this RM".into()),
        Some(f) if !f.converged => none("the gold fit did not converge".into()),
        Some(f) => match &f.peak {
            Some(p) => PeakOf {
                gain: finite(p.score),
                kl: finite(p.kl),
                // the same test as the peak_vs_rm_params figure's rings: peak KL > largest KL
                // of the data (equivalently peak sqrt-KL > the largest observed d)
                beyond: f.kl_max.map(|k| p.kl > k),
                reason: None,
            },
            None => none(
                f.peak_reason
                    .clone()
                    .unwrap_or_else(|| "the fitted curve has no maximum (beta <= 0)".into()),
            ),
        },
    }
}

fn reward_models(inp: &Inputs) -> RewardModelsAnalysis {
    let mut out = RewardModelsAnalysis::default();
    let Some(t) = inp.reward_models else {
        out.skipped = Some("no reward-models table given (--reward-models)".into());
        return out;
    };
    if t.missing.contains(&"val_loss") && t.missing.contains(&"val_accuracy") {
        out.skipped = Some(format!(
            "{} has no column 'val_loss' or 'val_accuracy'",
            t.path.display()
        ));
        return out;
    }
    for row in &t.rows {
        let same = |f: &FitRecord| {
            f.rm_params == row.rm_params && (row.rm_data.is_none() || f.rm_data == row.rm_data)
        };
        let bon = gold_fit(inp.fits, |f| f.method == Method::Bon && same(f));
        // the unpenalised RL fits of this RM; the largest policy
        let rl_policy = inp
            .fits
            .iter()
            .filter(|f| {
                f.method == Method::Rl
                    && f.target == Target::Gold
                    && same(f)
                    && f.kl_penalty.is_none_or(|p| p == 0.0)
            })
            .map(|f| f.policy_params)
            .max_by(|a, b| {
                a.unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&b.unwrap_or(f64::NEG_INFINITY))
            });
        let rl = rl_policy.and_then(|pp| {
            gold_fit(inp.fits, |f| {
                f.method == Method::Rl
                    && same(f)
                    && f.policy_params == pp
                    && f.kl_penalty.is_none_or(|p| p == 0.0)
            })
        });
        let (b, r) = (peak_of(bon), peak_of(rl));
        out.records.push(RewardModelRecord {
            rm_params: row.rm_params,
            rm_data: row.rm_data,
            val_loss: row.val_loss,
            val_accuracy: row.val_accuracy,
            bon_peak_gain: b.gain,
            bon_peak_kl: b.kl,
            bon_peak_beyond_data: b.gain.and(b.beyond),
            bon_peak_reason: b.reason,
            rl_policy_params: rl_policy.flatten(),
            rl_peak_gain: r.gain,
            rl_peak_kl: r.kl,
            rl_peak_beyond_data: r.gain.and(r.beyond),
            rl_peak_reason: r.reason,
        });
    }
    let count = |f: fn(&RewardModelRecord) -> (Option<f64>, Option<bool>)| {
        let v: Vec<_> = out.records.iter().map(f).collect();
        (
            v.iter().filter(|x| x.0.is_some()).count(),
            v.iter().filter(|x| x.1 == Some(true)).count(),
        )
    };
    (out.n_bon_peaks, out.n_bon_peaks_beyond_data) =
        count(|r| (r.bon_peak_gain, r.bon_peak_beyond_data));
    (out.n_rl_peaks, out.n_rl_peaks_beyond_data) =
        count(|r| (r.rl_peak_gain, r.rl_peak_beyond_data));
    let mut datas: Vec<Option<f64>> = out.records.iter().map(|r| r.rm_data).collect();
    datas.sort_by(|a, b| {
        a.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.unwrap_or(f64::NEG_INFINITY))
    });
    datas.dedup();
    for d in datas {
        let rows: Vec<&RewardModelRecord> = out.records.iter().filter(|r| r.rm_data == d).collect();
        let col = |f: fn(&RewardModelRecord) -> Option<f64>| -> Vec<f64> {
            rows.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect()
        };
        let size = col(|r| Some(r.rm_params));
        let (loss, acc) = (col(|r| r.val_loss), col(|r| r.val_accuracy));
        let (bon, rl) = (col(|r| r.bon_peak_gain), col(|r| r.rl_peak_gain));
        // the peaks inside the data only (NaN, so left out, where the peak lies beyond the
        // data or its KL range is unknown)
        let inside = |gain: &[f64], beyond: fn(&RewardModelRecord) -> Option<bool>| -> Vec<f64> {
            rows.iter()
                .zip(gain)
                .map(|(r, &g)| {
                    if beyond(r) == Some(false) {
                        g
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        };
        let bon_in = inside(&bon, |r| r.bon_peak_beyond_data);
        let rl_in = inside(&rl, |r| r.rl_peak_beyond_data);
        let count = |v: &[f64]| v.iter().filter(|x| x.is_finite()).count();
        let (n_bon_in, n_rl_in) = (count(&bon_in), count(&rl_in));
        // each correlation with the number of pairs it uses
        let rho = |x: &[f64], y: &[f64]| (spearman(x, y), n_pairs(x, y));
        let (size_loss, size_acc) = (rho(&size, &loss), rho(&size, &acc));
        let (loss_bon, acc_bon) = (rho(&loss, &bon), rho(&acc, &bon));
        let (loss_rl, acc_rl) = (rho(&loss, &rl), rho(&acc, &rl));
        let (loss_bon_in, acc_bon_in) = (rho(&loss, &bon_in), rho(&acc, &bon_in));
        let (loss_rl_in, acc_rl_in) = (rho(&loss, &rl_in), rho(&acc, &rl_in));
        let mut note = Vec::new();
        for (n, what, pairs) in [
            (
                n_bon_in,
                "best-of-n",
                [(loss_bon_in.1, "val_loss"), (acc_bon_in.1, "val_accuracy")],
            ),
            (
                n_rl_in,
                "RL",
                [(loss_rl_in.1, "val_loss"), (acc_rl_in.1, "val_accuracy")],
            ),
        ] {
            if n < 3 {
                note.push(format!(
                    "{n} {what} peak(s) inside the data, fewer than 3: no {what} correlation over in-data peaks"
                ));
                continue;
            }
            for (k, metric) in pairs {
                // a metric the table has, missing in some rows
                if k < 3 && !t.missing.contains(&metric) {
                    note.push(format!(
                        "{k} of the {n} RMs with a {what} peak inside the data have {metric}, fewer than 3: no ({metric}, {what} peak) correlation over in-data peaks"
                    ));
                }
            }
        }
        out.groups.push(RewardModelGroup {
            rm_data: d,
            n_rms: rows.len(),
            size_val_loss: size_loss.0,
            size_val_accuracy: size_acc.0,
            val_loss_bon_peak_gain: loss_bon.0,
            val_accuracy_bon_peak_gain: acc_bon.0,
            val_loss_rl_peak_gain: loss_rl.0,
            val_accuracy_rl_peak_gain: acc_rl.0,
            n_bon_peaks_in_data: n_bon_in,
            n_rl_peaks_in_data: n_rl_in,
            val_loss_bon_peak_gain_in_data: loss_bon_in.0,
            val_accuracy_bon_peak_gain_in_data: acc_bon_in.0,
            val_loss_rl_peak_gain_in_data: loss_rl_in.0,
            val_accuracy_rl_peak_gain_in_data: acc_rl_in.0,
            in_data_note: (!note.is_empty()).then(|| note.join("; ")),
            n_size_val_loss: size_loss.1,
            n_size_val_accuracy: size_acc.1,
            n_val_loss_bon_peak_gain: loss_bon.1,
            n_val_accuracy_bon_peak_gain: acc_bon.1,
            n_val_loss_rl_peak_gain: loss_rl.1,
            n_val_accuracy_rl_peak_gain: acc_rl.1,
            n_val_loss_bon_peak_gain_in_data: loss_bon_in.1,
            n_val_accuracy_bon_peak_gain_in_data: acc_bon_in.1,
            n_val_loss_rl_peak_gain_in_data: loss_rl_in.1,
            n_val_accuracy_rl_peak_gain_in_data: acc_rl_in.1,
        });
    }
    out
}

/// The number of pairs (x[i], y[i]) with both values finite: the pairs [`spearman`] uses.
fn n_pairs(x: &[f64], y: &[f64]) -> usize {
    x.iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .count()
}

/// Warnings for fits given to the analyses (`goodhart analyze --fits`) whose gold fits share one
/// alpha across RM sizes (`--share-alpha-rl`) where the data reject it: the reward-models
/// analysis takes its RL peaks from those fits, so its correlations describe the constraint, not
/// the runs. One line per rejected block, naming its group and p-value.
pub fn rejected_shared_alpha_notes(shared: &[crate::document::SharedFit]) -> Vec<String> {
    shared
        .iter()
        .filter(|b| b.target == Target::Gold && !b.warnings.is_empty())
        .map(|b| {
            let mut group = Vec::new();
            if let Some(p) = b.policy_params {
                group.push(format!("policy_params={p}"));
            }
            if let Some(d) = b.rm_data {
                group.push(format!("rm_data={d}"));
            }
            let test = b
                .share_test
                .as_ref()
                .map(|t| format!(" (F test p = {:.2e})", t.p_value))
                .unwrap_or_default();
            format!(
                "reward models: the {} gold fits of {} share one alpha across RM sizes, which the data reject{test}: their fitted peaks, and the correlations with them, describe that constraint; run goodhart analyze without --fits to fit each curve alone",
                b.method.as_str(),
                if group.is_empty() { "the family".to_string() } else { group.join(", ") },
            )
        })
        .collect()
}

/// The KL-penalty method text.
pub const KL_PENALTY_METHOD: &str = "frontier = the unpenalised RL run of the same RM, RM data and policy, its gold linearly interpolated in KL; each penalised point inside the frontier's KL range is compared: gold_penalised(kl) − gold_frontier(kl): its mean (signed), mean magnitude and largest magnitude; ends_lower: the penalised run's largest KL is below the frontier's";

fn kl_penalty(inp: &Inputs) -> KlPenaltyFrontier {
    let mut out = KlPenaltyFrontier {
        method: KL_PENALTY_METHOD.into(),
        ..KlPenaltyFrontier::default()
    };
    let rl: Vec<&Curve> = inp
        .curves
        .iter()
        .filter(|c| c.key.method == Method::Rl)
        .collect();
    if rl.is_empty() {
        out.skipped = Some("no RL curves given".into());
        return out;
    }
    let penalised: Vec<&Curve> = rl
        .iter()
        .copied()
        .filter(|c| c.key.kl_penalty.is_some_and(|p| p > 0.0))
        .collect();
    if penalised.is_empty() {
        out.skipped = Some("no RL curve has a KL penalty > 0 (column kl_penalty)".into());
        return out;
    }
    for c in penalised {
        let frontier = rl.iter().find(|f| {
            unpenalised(&f.key)
                && f.key.rm_params == c.key.rm_params
                && f.key.rm_data == c.key.rm_data
                && f.key.policy_params == c.key.policy_params
        });
        let pts = kl_gold(c);
        let sd = gold_sd(inp.refs, &c.key);
        let mut r = KlPenaltyRecord {
            key: RmKey::of(&c.key),
            kl_penalty: c.key.kl_penalty.unwrap_or(0.0),
            n_points: pts.len(),
            n_compared: 0,
            mean_diff: None,
            mean_abs_diff: None,
            max_abs_diff: None,
            extreme_diff: None,
            gold_sd: sd,
            mean_diff_sd: None,
            mean_abs_diff_sd: None,
            max_abs_diff_sd: None,
            extreme_diff_sd: None,
            final_kl: pts.last().map(|p| p.0),
            frontier_final_kl: None,
            ends_lower: None,
            reason: None,
        };
        let Some(f) = frontier else {
            r.reason = Some("no unpenalised run of the same RM and policy".into());
            out.records.push(r);
            continue;
        };
        let fp = kl_gold(f);
        r.frontier_final_kl = fp.last().map(|p| p.0);
        if let (Some(a), Some(b)) = (r.final_kl, r.frontier_final_kl) {
            r.ends_lower = Some(a < b);
        }
        let diffs: Vec<f64> = pts
            .iter()
            .filter_map(|&(k, g)| Some(g - interpolate(&fp, k)?))
            .collect();
        r.n_compared = diffs.len();
        if diffs.is_empty() {
            r.reason = Some("no point of the run lies inside the frontier's KL range".into());
        } else {
            r.mean_diff = finite(diffs.iter().sum::<f64>() / diffs.len() as f64);
            r.mean_abs_diff =
                finite(diffs.iter().map(|d| d.abs()).sum::<f64>() / diffs.len() as f64);
            r.extreme_diff = extreme(&diffs);
            r.max_abs_diff = r.extreme_diff.map(f64::abs);
            if let Some(s) = sd {
                r.mean_diff_sd = r.mean_diff.map(|d| d / s);
                r.mean_abs_diff_sd = r.mean_abs_diff.map(|d| d / s);
                r.max_abs_diff_sd = r.max_abs_diff.map(|d| d / s);
                r.extreme_diff_sd = r.extreme_diff.map(|d| d / s);
            }
        }
        out.records.push(r);
    }
    out.records.sort_by(|a, b| {
        a.kl_penalty
            .total_cmp(&b.kl_penalty)
            .then(a.key.rm_params.total_cmp(&b.key.rm_params))
    });
    let mut penalties: Vec<f64> = out.records.iter().map(|r| r.kl_penalty).collect();
    penalties.dedup();
    for p in penalties {
        let rs: Vec<&KlPenaltyRecord> = out.records.iter().filter(|r| r.kl_penalty == p).collect();
        let m = |f: fn(&KlPenaltyRecord) -> Option<f64>| {
            median(&rs.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
        };
        out.per_penalty.push(KlPenaltySummary {
            kl_penalty: p,
            n_runs: rs.len(),
            median_mean_diff: m(|r| r.mean_diff),
            median_mean_diff_sd: m(|r| r.mean_diff_sd),
            median_mean_abs_diff: m(|r| r.mean_abs_diff),
            median_mean_abs_diff_sd: m(|r| r.mean_abs_diff_sd),
            median_final_kl_ratio: m(|r| match (r.final_kl, r.frontier_final_kl) {
                (Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            }),
            n_end_lower: rs.iter().filter(|r| r.ends_lower == Some(true)).count(),
        });
    }
    let m = |f: fn(&KlPenaltyRecord) -> Option<f64>| {
        median(&out.records.iter().filter_map(f).collect::<Vec<_>>())
    };
    out.median_mean_diff = m(|r| r.mean_diff);
    out.median_mean_diff_sd = m(|r| r.mean_diff_sd);
    out.median_mean_abs_diff = m(|r| r.mean_abs_diff);
    out.median_mean_abs_diff_sd = m(|r| r.mean_abs_diff_sd);
    out.n_end_lower = out
        .records
        .iter()
        .filter(|r| r.ends_lower == Some(true))
        .count();
    out.n_runs = out.records.len();
    out
}

/// Why a group's runs cannot be compared with one round.
const NO_ONE_ROUND: &str = "no rounds = 1 run in this group";

/// The iterated-RLHF method text.
pub const ITERATED_METHOD: &str = "the RL form gold = baseline + d(α − β ln d), d = sqrt(kl), fitted (as goodhart fit does) to each group's rounds = 1 run; a k-round run's gold at its additive distance d_sum is predicted as baseline + d_sum(α − β ln d_sum + β ln k) (paper, section 4.3); error = simulated − predicted; gain over one round = a k-round run's final gold − the rounds = 1 run's gold at the same d_sum (linearly interpolated; none when the one-round run does not reach it); gain at the common d_sum (common KL) = the two runs' gold at the largest d_sum (KL from the initial policy) both reach (the smaller of the k-round run's final value and the one-round run's largest; the k-round run's final gold when it ends inside the one-round run's range, else its gold where it first reaches that value, linearly interpolated), k rounds − one round";

/// The formula's prediction: baseline + d(α − β ln d + β ln k) (baseline at d = 0).
pub fn iterated_prediction(alpha: f64, beta: f64, baseline: f64, k: f64, d: f64) -> f64 {
    if d > 0.0 {
        baseline + d * (alpha - beta * d.ln() + beta * k.ln())
    } else {
        baseline
    }
}

fn iterated(it: Option<&Iterated>) -> IteratedRlhf {
    let mut out = IteratedRlhf {
        method: ITERATED_METHOD.into(),
        ..IteratedRlhf::default()
    };
    let Some(it) = it else {
        out.skipped =
            Some("no iterated-RLHF table was given (`goodhart analyze --iterated FILE`)".into());
        return out;
    };
    let runs = match &it.runs {
        Ok(r) => r,
        Err(why) => {
            out.skipped = Some(why.clone());
            return out;
        }
    };
    if runs.is_empty() {
        out.skipped = Some(format!(
            "{} has no run with rounds and d_sum",
            it.path.display()
        ));
        return out;
    }
    let mut keys: Vec<IteratedKey> = runs.iter().map(|r| r.key).collect();
    keys.dedup();
    for key in keys {
        let group = IteratedGroup {
            key: RmKey {
                rm_params: key.rm_params,
                rm_data: key.rm_data,
                policy_params: key.policy_params,
            },
            kl_penalty: key.kl_penalty,
        };
        let of: Vec<&IteratedRun> = runs.iter().filter(|r| r.key == key).collect();
        let one = of.iter().find(|r| r.rounds == 1);
        // the one-round run's (d_sum, gold), sorted by d_sum, for gold at equal distance
        let one_curve: Option<Vec<(f64, f64)>> = one.map(|one| run_points(&one.d_sum, &one.gold).1);
        let fit = match one {
            Some(one) => fit_one_round(one, group),
            None => IteratedFit {
                group,
                alpha: None,
                beta: None,
                baseline: None,
                n_points: 0,
                reason: Some(NO_ONE_ROUND.into()),
            },
        };
        for run in of.iter().copied() {
            let mut r = IteratedRecord {
                group,
                rounds: run.rounds,
                n_points: run.gold.len(),
                final_d_sum: run.d_sum.last().copied(),
                final_gold: run.gold.last().copied(),
                final_predicted: None,
                final_error: None,
                rmse: None,
                one_round_gold_at_final_d_sum: None,
                gain_over_one_round_at_equal_d_sum: None,
                common_d_sum: None,
                gold_at_common_d_sum: None,
                one_round_gold_at_common_d_sum: None,
                gain_over_one_round_at_common_d_sum: None,
                common_kl: None,
                gold_at_common_kl: None,
                one_round_gold_at_common_kl: None,
                gain_over_one_round_at_common_kl: None,
                gain_note: None,
                reason: None,
            };
            if run.rounds > 1 {
                let end = run
                    .d_sum
                    .iter()
                    .zip(&run.gold)
                    .rev()
                    .find(|(d, g)| d.is_finite() && g.is_finite());
                match (end, &one_curve) {
                    (_, None) => r.gain_note = Some(NO_ONE_ROUND.into()),
                    (None, _) => r.gain_note = Some("the run has no finite point".into()),
                    (Some((&d, &g)), Some(c)) => {
                        if let Some((at, gk, g1)) =
                            compare_at_common(c, &run_points(&run.d_sum, &run.gold).0)
                        {
                            r.common_d_sum = finite(at);
                            r.gold_at_common_d_sum = finite(gk);
                            r.one_round_gold_at_common_d_sum = finite(g1);
                            r.gain_over_one_round_at_common_d_sum = finite(gk - g1);
                        }
                        if let Some((at, gk, g1)) = one.and_then(|one| {
                            compare_at_common(
                                &run_points(&one.kl, &one.gold).1,
                                &run_points(&run.kl, &run.gold).0,
                            )
                        }) {
                            r.common_kl = finite(at);
                            r.gold_at_common_kl = finite(gk);
                            r.one_round_gold_at_common_kl = finite(g1);
                            r.gain_over_one_round_at_common_kl = finite(gk - g1);
                        }
                        match interpolate(c, d) {
                            Some(o) => {
                                r.one_round_gold_at_final_d_sum = finite(o);
                                r.gain_over_one_round_at_equal_d_sum = finite(g - o);
                            }
                            None => {
                                let instead = r.common_d_sum.map_or(String::new(), |at| {
                                    format!(
                                        "; compared at the d_sum both reach, {}, instead (common_d_sum)",
                                        crate::format::g6(at)
                                    )
                                });
                                r.gain_note = Some(format!(
                                    "the rounds = 1 run covers d_sum {} – {}, not the rounds = {} run's final d_sum {}{instead}",
                                    c.first().map_or("–".into(), |p| crate::format::g6(p.0)),
                                    c.last().map_or("–".into(), |p| crate::format::g6(p.0)),
                                    run.rounds,
                                    crate::format::g6(d)
                                ))
                            }
                        }
                    }
                }
            }
            match (fit.alpha, fit.beta, fit.baseline) {
                (Some(a), Some(b), Some(base)) => {
                    let k = f64::from(run.rounds);
                    let errs: Vec<f64> = run
                        .d_sum
                        .iter()
                        .zip(&run.gold)
                        .filter(|(d, g)| d.is_finite() && g.is_finite())
                        .map(|(&d, &g)| g - iterated_prediction(a, b, base, k, d))
                        .collect();
                    if let (Some(&d), Some(&g)) = (run.d_sum.last(), run.gold.last()) {
                        let p = iterated_prediction(a, b, base, k, d);
                        r.final_predicted = finite(p);
                        r.final_error = finite(g - p);
                    }
                    if !errs.is_empty() {
                        r.rmse = finite(
                            (errs.iter().map(|e| e * e).sum::<f64>() / errs.len() as f64).sqrt(),
                        );
                    }
                }
                _ => r.reason = fit.reason.clone().or(Some("no fit".into())),
            }
            out.records.push(r);
        }
        out.fits.push(fit);
    }
    let multi: Vec<&IteratedRecord> = out.records.iter().filter(|r| r.rounds > 1).collect();
    out.n_multi_round = multi.len();
    out.n_above_one_round = multi
        .iter()
        .filter(|r| {
            r.gain_over_one_round_at_equal_d_sum
                .is_some_and(|g| g > 0.0)
        })
        .count();
    out.n_comparable = multi
        .iter()
        .filter(|r| r.gain_over_one_round_at_equal_d_sum.is_some())
        .count();
    out.n_above_one_round_at_common_d_sum = multi
        .iter()
        .filter(|r| {
            r.gain_over_one_round_at_common_d_sum
                .is_some_and(|g| g > 0.0)
        })
        .count();
    out.n_compared_at_common_d_sum = multi
        .iter()
        .filter(|r| r.gain_over_one_round_at_common_d_sum.is_some())
        .count();
    out.n_above_one_round_at_common_kl = multi
        .iter()
        .filter(|r| r.gain_over_one_round_at_common_kl.is_some_and(|g| g > 0.0))
        .count();
    out.n_compared_at_common_kl = multi
        .iter()
        .filter(|r| r.gain_over_one_round_at_common_kl.is_some())
        .count();
    out.median_rmse = median(&multi.iter().filter_map(|r| r.rmse).collect::<Vec<_>>());
    out.median_final_error = median(
        &multi
            .iter()
            .filter_map(|r| r.final_error)
            .collect::<Vec<_>>(),
    );
    out
}

/// A k-round run against the one-round run at the largest x both reach (x = d_sum or KL from
/// the initial policy): `(at, k-round gold, one-round gold)`. `one` is the rounds = 1 run's
/// (x, gold) sorted by x, read there by linear interpolation; `path` the k-round run's (x,
/// gold) in run order. A run that ends inside the one-round run's range is compared at its end
/// (its final gold); one that goes further, where it first reaches the one-round run's largest
/// x (linearly interpolated along the run).
fn compare_at_common(one: &[(f64, f64)], path: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let &(one_end, _) = one.last()?;
    let &(end, end_gold) = path.last()?;
    let at = end.min(one_end);
    let gold = if end <= one_end {
        end_gold
    } else {
        first_at(path, at)?
    };
    Some((at, gold, interpolate(one, at)?))
}

/// (x, gold) points of a run.
type Points = Vec<(f64, f64)>;

/// A run's finite (x, gold) points in run order, and sorted by x (then gold).
fn run_points(x: &[f64], gold: &[f64]) -> (Points, Points) {
    let path: Vec<(f64, f64)> = x
        .iter()
        .zip(gold)
        .map(|(&x, &g)| (x, g))
        .filter(|(x, g)| x.is_finite() && g.is_finite())
        .collect();
    let mut sorted = path.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    (path, sorted)
}

/// y where a path of (x, y) points, in their own order, first reaches x = `at`: linearly
/// interpolated between the last point below it and the first at or past it; None when the
/// path never reaches it.
///
/// ```
/// use goodhart::analyses::first_at;
/// // the path goes to x = 2, back to 1, then on to 3: x = 1.5 is first reached on the way out
/// let path = [(0.0, 0.0), (2.0, 4.0), (1.0, 9.0), (3.0, 9.0)];
/// assert_eq!(first_at(&path, 1.5), Some(3.0));
/// assert_eq!(first_at(&path, 3.5), None);
/// ```
pub fn first_at(path: &[(f64, f64)], at: f64) -> Option<f64> {
    let j = path.iter().position(|p| p.0 >= at)?;
    if path[j].0 == at {
        return Some(path[j].1);
    }
    if j == 0 {
        return None;
    }
    let (a, b) = (path[j - 1], path[j]);
    Some(a.1 + (b.1 - a.1) * (at - a.0) / (b.0 - a.0))
}

/// Fits the RL form to a rounds = 1 run as `goodhart fit` does (baseline: the kl = 0 points).
fn fit_one_round(run: &IteratedRun, group: IteratedGroup) -> IteratedFit {
    let mut pts: Vec<(f64, f64)> = run
        .kl
        .iter()
        .zip(&run.gold)
        .map(|(&k, &g)| (k, g))
        .filter(|(k, g)| k.is_finite() && g.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let key = CurveKey {
        method: Method::Rl,
        rm_params: group.key.rm_params,
        policy_params: group.key.policy_params,
        rm_data: group.key.rm_data,
        kl_penalty: group.kl_penalty,
    };
    let curve = Curve {
        key,
        kl: pts.iter().map(|p| p.0).collect(),
        gold: pts.iter().map(|p| p.1).collect(),
        proxy: None,
        gold_se: None,
        proxy_se: None,
        entropy: None,
        replicates: Vec::new(),
        prompts: None,
    };
    let mut fit = IteratedFit {
        group,
        alpha: None,
        beta: None,
        baseline: None,
        n_points: pts.len(),
        reason: None,
    };
    let opts = crate::fit::FitOptions {
        form: Some(FormId::Rl),
        ..crate::fit::FitOptions::default()
    };
    match crate::fit::fit_curves(std::slice::from_ref(&curve), &opts) {
        Err(e) => fit.reason = Some(format!("the rounds = 1 run cannot be fitted: {e}")),
        Ok(fits) => {
            let Some(f) = fits.iter().find(|f| f.target == Target::Gold) else {
                fit.reason = Some("the rounds = 1 run has no gold fit".into());
                return fit;
            };
            match &f.outcome {
                Err(why) => fit.reason = Some(format!("the rounds = 1 fit failed: {why}")),
                Ok(ff) => {
                    let rec = f.record();
                    fit.alpha = rec.params.get("alpha").and_then(|p| finite(p.value));
                    fit.beta = rec.params.get("beta").and_then(|p| finite(p.value));
                    fit.baseline = Some(rec.baseline.map_or(0.0, |b| b.value));
                    let _ = ff;
                }
            }
        }
    }
    fit
}

/// The analyses with what their figures draw besides the curves and fits: the simulated
/// iterated-RLHF runs.
#[derive(Debug, Clone)]
pub struct Analyses {
    pub doc: AnalysesDoc,
    pub iterated_runs: Vec<IteratedRun>,
}

/// Reads the optional tables and runs every analysis: `samples` (the initial policy's
/// best-of-n pools) give the gold sd, `reward_models` and `iterated` the tables of those two
/// analyses. A file that cannot be read, or a required column that is missing or not numeric,
/// is an error naming the file and column; a missing optional input or column skips the
/// analysis that needs it, with the reason in the document.
pub fn run(
    curves: &[Curve],
    fits: &[FitRecord],
    pools: &[crate::bon::Pool],
    reward_models: Option<&std::path::Path>,
    iterated: Option<&std::path::Path>,
) -> crate::error::Result<Analyses> {
    let refs = crate::goodhart::references_from_samples(pools)?;
    run_with_references(curves, fits, &refs, reward_models, iterated)
}

/// [`run`] with the initial-policy references of `pools` already computed
/// ([`crate::goodhart::references_from_samples`]), as `report` and `demo` have them.
pub fn run_with_references(
    curves: &[Curve],
    fits: &[FitRecord],
    refs: &[crate::goodhart::Reference],
    reward_models: Option<&std::path::Path>,
    iterated: Option<&std::path::Path>,
) -> crate::error::Result<Analyses> {
    // a problem of the reward-models table names the flag, as one of the iterated table does
    let rm = reward_models
        .map(read_reward_models)
        .transpose()
        .map_err(|e| crate::error::Error::ForFlag {
            flag: "--reward-models",
            source: Box::new(e),
        })?;
    if let Some(rm) = &rm {
        reward_models_match(rm, curves)?;
    }
    // every problem of that table names the flag and the file
    let for_iterated = |e: crate::error::Error| crate::error::Error::ForFlag {
        flag: "--iterated",
        source: Box::new(e),
    };
    let it = iterated
        .map(read_iterated)
        .transpose()
        .map_err(for_iterated)?;
    if let Some(it) = &it {
        it.require_runs().map_err(for_iterated)?;
    }
    let doc = analyze(&Inputs {
        curves,
        fits,
        refs,
        reward_models: rm.as_ref(),
        iterated: it.as_ref(),
    });
    let iterated_runs = it.and_then(|i| i.runs.ok()).unwrap_or_default();
    Ok(Analyses { doc, iterated_runs })
}

/// The RMs of the curves, `rm_params=… rm_data=…` each once, for messages (at most 12, then
/// how many more).
fn curve_rms(curves: &[Curve]) -> String {
    let mut rms: Vec<(f64, Option<f64>)> = Vec::new();
    for c in curves {
        let k = (c.key.rm_params, c.key.rm_data);
        if !rms.contains(&k) {
            rms.push(k);
        }
    }
    rms.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.unwrap_or(0.0).total_cmp(&b.1.unwrap_or(0.0)))
    });
    let shown: Vec<String> = rms
        .iter()
        .take(12)
        .map(|&(p, d)| {
            RmKey {
                rm_params: p,
                rm_data: d,
                policy_params: None,
            }
            .label()
        })
        .collect();
    let more = rms.len().saturating_sub(12);
    format!(
        "{}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

/// An error when no row of the reward-models table (`--reward-models`) is an RM of the curves
/// (same rm_params, and rm_data when the row has one): the table would select nothing.
///
/// Also an error when a row without rm_data matches curves of several rm_data values: the row
/// would be joined to one of them without saying which.
pub fn reward_models_match(rm: &RewardModels, curves: &[Curve]) -> crate::error::Result<()> {
    for (i, r) in rm
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.rm_data.is_none())
    {
        let mut datas: Vec<f64> = curves
            .iter()
            .filter(|c| c.key.rm_params == r.rm_params)
            .filter_map(|c| c.key.rm_data)
            .collect();
        datas.sort_by(f64::total_cmp);
        datas.dedup();
        if datas.len() > 1 {
            return Err(crate::error::Error::Analysis(format!(
                "--reward-models {}: row {} (rm_params={}) has no rm_data, but the curves have that RM at rm_data {}: add an rm_data column so that each row names one RM",
                rm.path.display(),
                i + 1,
                crate::format::fmt_num(r.rm_params),
                datas
                    .iter()
                    .map(|&d| crate::format::fmt_num(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let hit = rm.rows.iter().any(|r| {
        curves.iter().any(|c| {
            c.key.rm_params == r.rm_params && (r.rm_data.is_none() || c.key.rm_data == r.rm_data)
        })
    });
    if hit || rm.rows.is_empty() {
        return Ok(());
    }
    let mut table: Vec<String> = Vec::new();
    for r in &rm.rows {
        let l = RmKey {
            rm_params: r.rm_params,
            rm_data: r.rm_data,
            policy_params: None,
        }
        .label();
        if !table.contains(&l) {
            table.push(l);
        }
    }
    let more = table.len().saturating_sub(12);
    table.truncate(12);
    Err(crate::error::Error::Analysis(format!(
        "--reward-models {}: no row is an RM of the curves (same rm_params and rm_data), so it selects no curve; the table has {}{}; the curves have {}",
        rm.path.display(),
        table.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        curve_rms(curves)
    )))
}

/// An error when no fit of the fits document (`--fits`) is of a curve given (same method,
/// rm_params, rm_data, policy_params and kl_penalty): the file would select nothing.
pub fn fits_match(
    path: &std::path::Path,
    fits: &[FitRecord],
    curves: &[Curve],
) -> crate::error::Result<()> {
    let hit = fits.iter().any(|f| {
        curves.iter().any(|c| {
            c.key.method == f.method
                && c.key.rm_params == f.rm_params
                && c.key.rm_data == f.rm_data
                && c.key.policy_params == f.policy_params
                && c.key.kl_penalty.unwrap_or(0.0) == f.kl_penalty.unwrap_or(0.0)
        })
    });
    if hit {
        return Ok(());
    }
    let mut have: Vec<String> = Vec::new();
    for f in fits {
        let l = RmKey {
            rm_params: f.rm_params,
            rm_data: f.rm_data,
            policy_params: None,
        }
        .label();
        if !have.contains(&l) {
            have.push(l);
        }
    }
    let more = have.len().saturating_sub(12);
    have.truncate(12);
    Err(crate::error::Error::Analysis(format!(
        "--fits {}: no fit is of a curve given (same method, rm_params, rm_data, policy_params, kl_penalty), so it selects no curve; the file has fits of {}{}; the curves have {}",
        path.display(),
        if have.is_empty() {
            "no RM".to_string()
        } else {
            have.join(", ")
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        curve_rms(curves)
    )))
}

/// One line per record that has no result, naming the analysis and the group, and one per
/// skipped analysis: what a command prints as warnings.
pub fn warnings(doc: &AnalysesDoc) -> Vec<String> {
    let mut w = Vec::new();
    // RL curves without proxy values: one line for all of them, not one per curve and analysis
    let mut no_proxy: Vec<RmKey> = Vec::new();
    let reasons = doc
        .kl_efficiency
        .records
        .iter()
        .map(|r| ("kl_efficiency", r.key, &r.reason))
        .chain(
            doc.gold_vs_proxy
                .records
                .iter()
                .map(|r| ("gold_vs_proxy", r.key, &r.reason)),
        );
    for (name, key, why) in reasons {
        match why.as_deref() {
            Some(NO_RL_PROXY) if !no_proxy.contains(&key) => no_proxy.push(key),
            Some(NO_RL_PROXY) => {}
            Some(why) => w.push(format!("{name}: rl {}: {why}", key.label())),
            None => {}
        }
    }
    if !no_proxy.is_empty() {
        w.insert(
            0,
            format!(
                "kl_efficiency, gold_vs_proxy: {} unpenalised RL curve{} skipped: no proxy column (or no proxy values) to compare with best-of-n: {}",
                no_proxy.len(),
                if no_proxy.len() == 1 { "" } else { "s" },
                no_proxy
                    .iter()
                    .map(|k| format!("rl {}", k.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    for r in &doc.kl_penalty.records {
        if let Some(why) = &r.reason {
            w.push(format!(
                "kl_penalty: rl {} kl_penalty={}: {why}",
                r.key.label(),
                crate::format::fmt_num(r.kl_penalty)
            ));
        }
    }
    for f in &doc.iterated_rlhf.fits {
        if let Some(why) = &f.reason {
            w.push(format!("iterated_rlhf: {}: {why}", f.group.key.label()));
        }
    }
    for r in &doc.iterated_rlhf.records {
        if let Some(why) = &r.gain_note
            && r.reason.is_none()
        {
            w.push(format!(
                "iterated_rlhf: {} rounds={}: no gain at equal d_sum: {why}",
                r.group.key.label(),
                r.rounds
            ));
        }
    }
    w
}
