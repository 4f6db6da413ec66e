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
    "From coefficients (every curve with gold and proxy fits of the same form R(d) = α·d − β·f(d), d = √KL, f(d) = d² for best-of-n and d·ln d for RL): regressional(d) = (α_proxy − α_gold)·d, the slope a noisy proxy loses; extremal(d) = (β_gold − β_proxy)·f(d), the bend where the proxy fails away from the initial policy; residual = observed gap − both (the fits' misfit; 0 at the peak, where the fitted curves are used). Standard errors treat the gold and proxy fits as independent, which overstates them (both fits see the same policies).",
    "From samples (best-of-n, when samples are given): gold is regressed on proxy over the initial policy's samples, gold ≈ a + b·proxy. What selection on the proxy would give if the proxy were gold plus noise is a + b·proxy_bon(n); regressional = proxy_bon(n) − (a + b·proxy_bon(n)), extremal = a + b·proxy_bon(n) − gold_bon(n) (with everything else; residual 0). Standard errors by a jackknife over prompts. With proxy = gold + Gaussian noise the extremal part is zero.",
];

/// A short reading guide for a figure, by its name (added to the figure's own caption).
pub fn reading_guide(name: &str) -> &'static str {
    match name {
        "gold_vs_kl_bon" | "gold_vs_kl_rl" => {
            "Follow one colour from left to right: the gold score (filled) rises, peaks and turns down while the proxy score (rings) keeps rising; the distance between them is what optimising the proxy costs. Lighter (larger) RMs peak later and higher, and their proxy and gold stay closer."
        }
        "coefficients" => {
            "Each point is one curve's fitted coefficient; the line is the log-linear law in RM size. Rising alpha and falling beta with size mean a larger RM is both a better and a more robust proxy; points far off the line are sizes the law describes badly."
        }
        "peak_vs_rm_params" => {
            "How far a policy can be optimised (peak KL) and how good it gets (peak gold score) as the proxy RM grows: the quantities a practitioner would pick an early-stopping KL from."
        }
        "gold_vs_proxy" => {
            "The diagonal is a perfect proxy. Curves leave it as optimisation proceeds; the point where a curve turns back is where the proxy keeps improving but the gold score falls."
        }
        crate::schema::KL_PENALTY => {
            "Runs with different KL penalties fall on one gold-vs-KL frontier: a penalty only stops a run earlier on the same curve (it acts like early stopping)."
        }
        "data_size" => {
            "More comparisons for the proxy RM move its curve up and its peak to larger KL."
        }
        "extrapolation" => {
            "The forms are fitted left of the cutoff only; the points right of it are an advance prediction. Small errors right of the cutoff mean the form extrapolates."
        }
        "residuals" => {
            "Residuals of the fits against KL: a systematic bend (rather than scatter around 0) means the form misses the curve's shape there."
        }
        "iterated_rlhf" => {
            "The paper's iterated-RLHF prediction R_k(d) = d(alpha - beta ln d + beta ln k): splitting the same KL into k rounds gains beta d ln k, because only the extremal (beta) term shrinks."
        }
        "prediction" => {
            "The curve predicted for an RM 10x larger than the largest fitted one, with its 95% band. A wide band, or a peak far beyond the observed KL, means the law is extrapolated beyond what the data support."
        }
        "gold_vs_entropy" => {
            "Gold score against the policy's entropy: optimisation lowers entropy; a policy that collapses its entropy while the gold score falls is exploiting the proxy."
        }
        "goodhart_decomposition_bon" | "goodhart_decomposition_rl" => {
            "In each panel the black line is the proxy-gold gap; it is the sum of the regressional part (blue, from the alpha difference, linear in d) and the extremal part (orange, from the beta difference), plus a small residual (dotted). Where the orange curve dominates, the proxy fails away from the initial policy rather than merely being noisy. A negative regressional part means the proxy's scale is smaller than gold's (gold regressed on proxy has slope above 1)."
        }
        _ => "",
    }
}
