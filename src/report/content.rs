//! What a report says, independent of its format: the sections, figures, tables and reading
//! guides that `html` and `markdown` both render.

use super::provenance::Provenance;
use super::tables::Table;

/// A figure as the report shows it.
#[derive(Debug, Clone)]
pub struct FigureRef {
    pub name: String,
    pub title: String,
    pub caption: String,
    /// The inline SVG document.
    pub svg: String,
    /// The PNG file name, relative to the report (for Markdown).
    pub png: String,
}

/// A report, ready to render.
#[derive(Debug, Clone)]
pub struct Content {
    pub title: String,
    /// One paragraph: what data, how many curves and fits.
    pub summary: String,
    pub provenance: Provenance,
    pub figures: Vec<FigureRef>,
    pub tables: Vec<Table>,
    /// Things that could not be computed, and why.
    pub notes: Vec<String>,
}

/// The decomposition explained, with formulas (plain text with Unicode, valid in both formats).
pub const DECOMPOSITION_TEXT: &[&str] = &[
    "The gap between the proxy score the policy was optimised for and the gold score it really gets, both measured from their initial-policy baselines, splits as proxy − gold = regressional + extremal + residual (Gao, Schulman, Hilton 2022, section 4).",
    "Units. A proxy's scale is arbitrary (a proxy calibrated to soft labels, or simply rescaled, has a different one from gold), and it enters the regressional part directly. So the parts are shown standardised: proxy and gold each measured from its mean under the initial policy and divided by its standard deviation there (every sample of the RM's best-of-n pools, pooled over prompts, or the standard deviations given with --reference). The raw-unit numbers stay in the fits JSON (\"units\": \"raw\"), for a proxy already on the gold scale (--reference none shows them). ρ is the proxy-gold correlation under the initial policy, over the same samples.",
    "From coefficients (every curve with gold and proxy fits of the same form R(d) = α·d − β·f(d), d = √KL, f(d) = d² for best-of-n and d·ln d for RL; standardised, each coefficient divided by its score's standard deviation): regressional(d) = (α_proxy − α_gold)·d, the part of proxy − gold linear in d; extremal(d) = (β_gold − β_proxy)·f(d), the bend where the proxy fails away from the initial policy; residual = observed gap − both (the fits' misfit; 0 at the peak, where the fitted curves are used; its size is stated in the figure's caption). Standard errors treat the gold and proxy fits as independent, which overstates them (both fits see the same policies).",
    "From samples (best-of-n, when samples are given): gold is regressed on proxy over the initial policy's samples, gold ≈ a + b·proxy (standardised: a = 0, b = ρ). What selection on the proxy would give if the proxy were gold plus noise is a + b·proxy_bon(n); regressional = proxy_bon(n) − (a + b·proxy_bon(n)) = (1 − ρ)·proxy_bon(n) standardised, extremal = a + b·proxy_bon(n) − gold_bon(n) (with everything else; residual 0). Standard errors by a jackknife over prompts. With proxy = gold + Gaussian noise the extremal part is zero.",
    "The oracle is best-of-n with the best chosen by gold from the same pools (the same unbiased estimator): the most selection from the initial policy can give at that KL. oracle − gold is the total cost of selecting on the proxy: the gold lost by using the proxy at all. Regressional and extremal instead partition proxy − gold, how much the proxy overstates gold; the two coincide only when gold given proxy is linear-Gaussian, and with a skewed gold the regressional part can exceed the whole oracle − gold gap. For jointly normal standardised scores with correlation ρ, gold_bon(n) = ρ·e_n and oracle(n) = e_n (e_n: mean of the largest of n standard normals), so the whole cost (1 − ρ)·e_n is regressional.",
];

/// A short reading guide for a figure, by its name (added to the figure's own caption).
pub fn reading_guide(name: &str) -> &'static str {
    match name {
        "gold_vs_kl_bon" | "gold_vs_kl_rl" => {
            "Follow one colour from left to right: the gold score (filled) rises, peaks and turns down while the proxy score (rings) keeps rising; the distance between them is what optimising the proxy costs. Lighter colours are larger RMs; the caption says how their peaks move with size in these fits."
        }
        "coefficients" => {
            "Each point is one curve's fitted coefficient; the line is the log-linear law in RM size. Rising alpha and falling beta with size mean a larger RM is both a better and a more robust proxy; points far off the line are sizes the law describes badly."
        }
        "peak_vs_rm_params" => {
            "How far a policy can be optimised (peak KL) and how good it gets (peak gold score) as the proxy RM grows: the quantities a practitioner would pick an early-stopping KL from."
        }
        "gold_vs_proxy" => {
            "The diagonal is a perfect proxy. Curves leave it as optimisation proceeds; the point where a curve turns back is where the proxy keeps improving but the gold score falls. In the both-methods panel, RL dots above the best-of-n rings mean RL reaches more gold at the same proxy score."
        }
        crate::schema::KL_PENALTY => {
            "Runs with different KL penalties fall on one gold-vs-KL frontier: a penalty only stops a run earlier on the same curve (it acts like early stopping)."
        }
        "data_size" => {
            "Compare the colours at one RM size: whether more comparisons for the proxy RM move its coefficients the way a larger RM would."
        }
        "extrapolation" => {
            "The forms are fitted left of the cutoff only; the points right of it are an advance prediction. Small errors right of the cutoff mean the form extrapolates."
        }
        "residuals" => {
            "Residuals of the fits against KL: a systematic bend (rather than scatter around 0) means the form misses the curve's shape there."
        }
        "kl_efficiency" => {
            "Read along the grey line: the dotted verticals mark the KL each method needs for best-of-n's largest proxy gain; the further right RL's, the more KL RL spends for the same optimisation. The paper found RL far less KL-efficient than best-of-n, so KL does not compare methods."
        }
        "rm_validation" => {
            "A better reward model (lower validation loss, higher accuracy) should both come with size and give a higher gold peak; a peak that does not follow validation loss means the held-out comparisons miss what optimisation exploits."
        }
        "iterated_rlhf" => {
            "The paper's iterated-RLHF prediction R_k(d) = d(alpha - beta ln d + beta ln k): splitting the same KL into k rounds gains beta d ln k, because only the extremal (beta) term shrinks. The x axis is d_sum², d_sum being the sum over rounds of each round's sqrt KL (for k = 1, the KL itself). The points are the RL data (one round); where an iterated-RLHF table is given, its simulated rounds are drawn in their k's colour, and points on their own k's line mean the formula holds."
        }
        "prediction" => {
            "The curve predicted for an RM 10x larger than the largest fitted one, with its 95% band. A wide band, or a peak far beyond the observed KL, means the law is extrapolated beyond what the data support."
        }
        "gold_vs_entropy" => {
            "Gold score against the policy's entropy: optimisation lowers entropy; a policy that collapses its entropy while the gold score falls is exploiting the proxy."
        }
        "goodhart_decomposition_bon" | "goodhart_decomposition_rl" => {
            "In each panel the black line is the proxy-gold gap; it is the sum of the regressional part (blue, from the alpha difference, linear in d) and the extremal part (orange, from the beta difference), plus the residual (dotted; the caption says how large it is). Where the orange curve dominates, the proxy fails away from the initial policy rather than merely being noisy. The dashed green line, where shown, is what selecting on the proxy costs against selecting on gold itself. In raw units a negative regressional part can mean only that the proxy's scale is smaller than gold's; in standardised units it is positive whenever the proxy is gold plus independent noise."
        }
        _ => "",
    }
}
