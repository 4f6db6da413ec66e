//! The Goodhart decomposition figures (paper section 4, Fig. 24): the proxy-gold gap along
//! each curve, its regressional and extremal parts and the cost of the proxy against the oracle
//! (best of n by gold), one panel per RM size, standardised where there is a reference.

use crate::goodhart::{
    Decomposition, DecompositionSource, GapPoint, Units, agreement, agreement_words,
    negative_regressional_words, panel_words, preferred, residual_words,
};
use crate::schema::Method;

use super::data::{self, Group};
use super::scene::{Axis, Dash, Item, Marker, Panel, Scale, Scene, Swatch};
use super::theme;
use super::{Draft, PlotInputs};

const GAP: plotters::style::RGBColor = theme::INK;

fn reg_color() -> plotters::style::RGBColor {
    theme::category(0)
}

fn ext_color() -> plotters::style::RGBColor {
    theme::category(1)
}

fn oracle_color() -> plotters::style::RGBColor {
    theme::category(2)
}

fn series(points: &[GapPoint], f: impl Fn(&GapPoint) -> f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|p| (p.kl, f(p)))
        .filter(|(k, v)| k.is_finite() && v.is_finite())
        .collect()
}

fn band(points: &[GapPoint], f: impl Fn(&GapPoint) -> (f64, Option<f64>)) -> Vec<(f64, f64, f64)> {
    points
        .iter()
        .filter_map(|p| {
            let (v, se) = f(p);
            let se = se?;
            Some((p.kl, v - 1.96 * se, v + 1.96 * se))
        })
        .filter(|(k, a, b)| k.is_finite() && a.is_finite() && b.is_finite())
        .collect()
}

/// The y range a panel's ±1.96 se bands may reach: the range of the point estimates drawn
/// (gap, parts, residual, cost, 0) widened by a quarter of its span on each side.
pub(crate) fn band_limits(d: &Decomposition, parts: &[GapPoint]) -> (f64, f64) {
    let mut vals = vec![0.0];
    for p in parts.iter().chain(&d.points) {
        vals.extend([p.regressional, p.extremal, p.proxy - p.gold, p.residual]);
        if let Some(o) = p.oracle {
            vals.push(o - p.gold);
        }
    }
    let vals: Vec<f64> = vals.into_iter().filter(|v| v.is_finite()).collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    (lo - 0.25 * span, hi + 0.25 * span)
}

/// Small multiples of the decomposition of one method's curves.
pub fn decomposition(inp: &PlotInputs, method: Method) -> Option<Draft> {
    // Standardised where there is a reference, else raw (one per curve and source).
    let of: Vec<&Decomposition> = preferred(inp.decompositions)
        .into_iter()
        .filter(|d| d.key.method == method && !series(&d.points, |p| p.proxy - p.gold).is_empty())
        .collect();
    let groups = data::distinct(of.iter().map(|d| Group::of(&d.key)));
    let g = data::main_group(groups.iter().copied())?;
    let mut chosen: Vec<&Decomposition> =
        of.iter().copied().filter(|d| g.matches(&d.key)).collect();
    let source_rank = |s: DecompositionSource| match s {
        DecompositionSource::Coefficients => 0,
        DecompositionSource::Samples => 1,
    };
    chosen.sort_by(|a, b| {
        a.key
            .rm_params
            .total_cmp(&b.key.rm_params)
            .then(source_rank(a.source).cmp(&source_rank(b.source)))
    });
    // Up to 12 panels: RM sizes spread over the range, every source of a chosen size side by side.
    let n_sources = [0, 1]
        .iter()
        .filter(|r| chosen.iter().any(|d| source_rank(d.source) == **r))
        .count();
    let mut sizes: Vec<u64> = chosen.iter().map(|d| d.key.rm_params.to_bits()).collect();
    sizes.dedup();
    let all_sizes = sizes.len();
    let shown_sizes = data::spread(&sizes, (12 / n_sources.max(1)).max(1));
    let chosen: Vec<&Decomposition> = chosen
        .into_iter()
        .filter(|d| shown_sizes.contains(&d.key.rm_params.to_bits()))
        .collect();
    let mut panels = Vec::new();
    let mut any_peak = false;
    let mut any_reg_band = false;
    let mut any_ext_band = false;
    let mut cut_panels = 0usize;
    let mut any_observed = false;
    let mut any_oracle = false;
    let mut sources = Vec::new();
    let mut units = Vec::new();
    for d in &chosen {
        if !sources.contains(&d.source) {
            sources.push(d.source);
        }
        if !units.contains(&d.units) {
            units.push(d.units);
        }
        let mut items = vec![Item::HLine {
            y: 0.0,
            color: theme::AXIS,
            dash: Dash::Solid,
        }];
        // Smooth parts from the fitted grid when there is one, else lines through the points.
        let smooth = d
            .grid
            .iter()
            .any(|p| p.kl.is_finite() && p.regressional.is_finite());
        let parts: &[GapPoint] = if smooth { &d.grid } else { &d.points };
        let rb = band(parts, |p| (p.regressional, p.regressional_se));
        let eb = band(parts, |p| (p.extremal, p.extremal_se));
        any_reg_band |= !rb.is_empty();
        any_ext_band |= !eb.is_empty();
        // The bands may reach at most a quarter of the point estimates' span beyond them (a
        // band of a few poorly determined coefficients would otherwise fill the panel); the
        // axis shows that much, and a band cut there is counted in the caption.
        let (lo, hi) = band_limits(d, parts);
        let mut cut = false;
        for (b, color) in [(rb, reg_color()), (eb, ext_color())] {
            let clamped: Vec<(f64, f64, f64)> = b
                .iter()
                .map(|&(k, a, c)| {
                    cut |= a < lo || c > hi;
                    (k, a.clamp(lo, hi), c.clamp(lo, hi))
                })
                .collect();
            // outlines, so that where two bands overlap each still shows its own edges
            for edge in [
                clamped.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
                clamped.iter().map(|p| (p.0, p.2)).collect(),
            ] {
                items.push(Item::line(edge, color, 0.8, Dash::Dashed));
            }
            items.push(Item::Band {
                pts: clamped,
                color,
                opacity: 0.15,
            });
        }
        cut_panels += usize::from(cut);
        items.push(Item::line(
            series(&d.points, |p| p.residual),
            theme::MUTED,
            1.2,
            Dash::Dotted,
        ));
        items.push(Item::line(
            series(parts, |p| p.regressional),
            reg_color(),
            2.0,
            Dash::Solid,
        ));
        items.push(Item::line(
            series(parts, |p| p.extremal),
            ext_color(),
            2.0,
            Dash::Solid,
        ));
        items.push(Item::line(
            series(parts, |p| p.proxy - p.gold),
            GAP,
            2.4,
            Dash::Solid,
        ));
        // The total cost of the proxy: the oracle (best of n by gold) minus the gold score.
        let cost: Vec<(f64, f64)> = parts
            .iter()
            .filter_map(|p| Some((p.kl, p.oracle? - p.gold)))
            .filter(|(k, v)| k.is_finite() && v.is_finite())
            .collect();
        if !cost.is_empty() {
            any_oracle = true;
            items.push(Item::line(cost, oracle_color(), 2.0, Dash::Dashed));
        }
        if smooth {
            any_observed = true;
            items.push(Item::points(
                series(&d.points, |p| p.proxy - p.gold),
                GAP,
                Marker::Dot,
                2.2,
            ));
        }
        if let Some(pk) = d.at_peak.filter(|p| p.kl.is_finite()) {
            any_peak = true;
            items.push(Item::VLine {
                x: pk.kl,
                color: theme::MUTED,
                dash: Dash::Dashed,
            });
        }
        panels.push(Panel {
            title: if n_sources > 1 {
                let from = match d.source {
                    DecompositionSource::Coefficients => "from fits",
                    DecompositionSource::Samples => "from samples",
                };
                format!("RM {} parameters, {from}", theme::si(d.key.rm_params))
            } else {
                format!("RM {} parameters", theme::si(d.key.rm_params))
            },
            x: Axis::kl(),
            y: Axis::new(
                match d.units {
                    Units::Standardised => "proxy − gold (initial-policy sds)",
                    Units::Raw => "proxy − gold (raw units)",
                },
                Scale::Linear,
            )
            .with_zero(),
            items,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let (name, title, f) = match method {
        Method::Bon => (
            "goodhart_decomposition_bon",
            "Goodhart decomposition of the proxy-gold gap: best-of-n",
            "d²",
        ),
        Method::Rl => (
            "goodhart_decomposition_rl",
            "Goodhart decomposition of the proxy-gold gap: RL",
            "d ln d",
        ),
    };
    let mut scene = Scene::new(title, panels);
    scene.legend = vec![
        data::style_entry(
            if any_observed {
                "proxy − gold, fitted"
            } else {
                "proxy − gold"
            },
            Swatch::Line(GAP, Dash::Solid),
        ),
        data::style_entry("regressional", Swatch::Line(reg_color(), Dash::Solid)),
        data::style_entry("extremal", Swatch::Line(ext_color(), Dash::Solid)),
        data::style_entry("residual", Swatch::Line(theme::MUTED, Dash::Dotted)),
    ];
    if any_observed {
        scene.legend.insert(
            1,
            data::style_entry("proxy − gold, observed", Swatch::Marker(GAP, Marker::Dot)),
        );
    }
    if any_oracle {
        scene.legend.push(data::style_entry(
            "oracle − gold (cost of the proxy)",
            Swatch::Line(oracle_color(), Dash::Dashed),
        ));
    }
    // one patch per band, in its own colour (an overlap of the two is neither)
    if any_reg_band {
        scene.legend.push(data::style_entry(
            "regressional ±1.96 se",
            Swatch::Band(reg_color()),
        ));
    }
    if any_ext_band {
        scene.legend.push(data::style_entry(
            "extremal ±1.96 se",
            Swatch::Band(ext_color()),
        ));
    }
    if any_peak {
        scene.legend.push(data::style_entry(
            "gold peak",
            Swatch::Line(theme::MUTED, Dash::Dashed),
        ));
    }
    let from_coef = sources.contains(&DecompositionSource::Coefficients);
    let from_samples = sources.contains(&DecompositionSource::Samples);
    let standardised = units.contains(&Units::Standardised);
    let mut how = Vec::new();
    if from_coef {
        how.push(format!(
            "from the gold and proxy fits, regressional(d) = (α_proxy − α_gold) d and extremal(d) = (β_gold − β_proxy) f(d) with f(d) = {f}"
        ));
    }
    if from_samples {
        how.push(
            "from best-of-n samples, with gold regressed on proxy under the initial policy (gold ≈ a + b proxy; standardised a = 0 and b = ρ), regressional = proxy_bon(n) − (a + b proxy_bon(n)) and extremal = (a + b proxy_bon(n)) − gold_bon(n)"
                .to_string(),
        );
    }
    let units_text = match (standardised, units.contains(&Units::Raw)) {
        (true, false) => "Units: standard deviations under the initial policy (proxy and gold each measured from its initial-policy mean and divided by its own standard deviation there), so that a proxy's scale does not pass for a Goodhart effect".to_string(),
        (true, true) => "Units: standard deviations under the initial policy where a reference was given (panels without one are in raw units)".to_string(),
        _ => "Units: the raw scores; when proxy and gold are on different scales the regressional part mixes the Goodhart effect with the ratio of the scales (give a reference to standardise)".to_string(),
    };
    let rhos: Vec<f64> = chosen
        .iter()
        .filter_map(|d| d.reference.as_ref()?.rho)
        .collect();
    let rho_text = if rhos.is_empty() {
        String::new()
    } else {
        let lo = rhos.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = rhos.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!(
            " Proxy-gold correlation under the initial policy (prompt-pooled): ρ = {} to {}.",
            crate::format::sig(lo, 3),
            crate::format::sig(hi, 3)
        )
    };
    let oracle_text = if any_oracle {
        " Dashed: oracle − gold, where the oracle is best-of-n with the best chosen by gold from the same pools (the ceiling of selection at that KL): the total cost of selecting on the proxy."
    } else {
        ""
    };
    let shown: Vec<Decomposition> = chosen.iter().map(|d| (*d).clone()).collect();
    let agree = agreement_words(&agreement(&shown))
        .map(|w| format!(" {w}."))
        .unwrap_or_default();
    let negative = if method == Method::Rl {
        negative_regressional_words(&of)
            .map(|w| format!(" {w}."))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let cut_text = if cut_panels > 0 {
        format!(
            " In {cut_panels} panel(s) a ±1.96 se band reaches beyond a quarter of the plotted span past the estimates and is cut there (its flat edge marks it off scale)."
        )
    } else {
        String::new()
    };
    let d = g.describe();
    let caption = format!(
        "The gap between proxy and gold score along each curve (black; dots are the observed gap where the parts come from fitted curves), split as proxy − gold = regressional + extremal + residual: {}. Regressional Goodhart (a noisy proxy: selection on it regresses to the mean in gold) grows linearly in d = sqrt(KL); extremal Goodhart (the proxy failing far from the initial policy) is the β term that bends gold down. {units_text}.{rho_text}{oracle_text} {}.{agree}{negative}{cut_text} {}{}.",
        how.join("; "),
        residual_words(&chosen),
        panel_words(chosen.len(), shown_sizes.len(), all_sizes, n_sources),
        if d.is_empty() {
            String::new()
        } else {
            format!("; curves: {d}")
        }
    );
    Some(Draft {
        name,
        caption,
        scene,
    })
}
