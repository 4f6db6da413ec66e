//! Figures of the curves themselves: gold (and proxy) score against KL with the fitted forms
//! (paper Fig. 1), gold against proxy (Fig. 8), the KL-penalty sweep (Fig. 9), the
//! extrapolation test (Fig. 26), residuals of the fits, and gold against policy entropy.

use crate::curves::Curve;
use crate::document::Target;
use crate::schema::Method;

use super::data::{self, Group};
use super::scene::{Axis, Dash, Item, LegendEntry, Marker, Panel, Scale, Scene, Swatch};
use super::theme::{self, SizeScale};
use super::{Draft, PlotInputs};

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Bon => "best-of-n",
        Method::Rl => "RL",
    }
}

fn group_note(g: &Group, others: usize) -> String {
    let d = g.describe();
    match (d.is_empty(), others) {
        (true, _) => String::new(),
        (false, 0) => format!(" Curves: {d}."),
        (false, n) => format!(
            " Shown: the group with {d} (chosen by the smallest KL penalty, then the most RM data, then the largest policy among the groups left); {n} other group(s) are not drawn."
        ),
    }
}

/// What the fitted gold peaks do with RM size in these data (Spearman's rank correlation of
/// peak KL and peak score with size), for the caption; empty with fewer than 3 peaks.
fn peak_trend_words(peaks: &[(f64, f64, f64)]) -> String {
    let kl: Vec<(f64, f64)> = peaks.iter().map(|p| (p.0, p.1)).collect();
    let score: Vec<(f64, f64)> = peaks.iter().map(|p| (p.0, p.2)).collect();
    let (Some((kw, kr)), Some((sw, sr))) = (data::trend(&kl), data::trend(&score)) else {
        return String::new();
    };
    let kl_words = match kw {
        "rises" => "larger RMs (lighter colours) peak at larger KL",
        "falls" => "larger RMs (lighter colours) peak at smaller KL",
        _ => "the peak KL shows no clear trend with RM size",
    };
    let score_words = match sw {
        "rises" => "at a higher gold score",
        "falls" => "at a lower gold score",
        _ => "with no clear trend in the peak gold score",
    };
    format!(
        " In these fits {kl_words} (Spearman ρ = {} over {} fitted peaks) and {score_words} (ρ = {}).",
        theme::sig(kr, 2),
        peaks.len(),
        theme::sig(sr, 2)
    )
}

fn score_axis() -> Axis {
    Axis::new("score (RM units)", Scale::Linear)
}

/// Gold and proxy score against KL per RM size, with fits (paper Fig. 1).
pub fn gold_vs_kl(inp: &PlotInputs, method: Method) -> Option<Draft> {
    let (curves, g, others) = data::main_curves(inp.curves, method)?;
    let sizes: Vec<f64> = curves.iter().map(|c| c.key.rm_params).collect();
    let scale = SizeScale::over(sizes.iter().copied())?;
    let mut items = Vec::new();
    let (mut any_proxy, mut any_gfit, mut any_pfit, mut any_se) = (false, false, false, false);
    // (size, peak KL, peak score) of the drawn gold fits, for the caption's trend
    let mut peaks: Vec<(f64, f64, f64)> = Vec::new();
    let mut gold_fits = Vec::new();
    let many = curves.iter().map(|c| c.kl.len()).sum::<usize>() > 600;
    let msize = if many { 1.8 } else { 2.6 };
    for c in &curves {
        let col = scale.color(c.key.rm_params);
        let kmax = data::max_kl(c);
        let bars = data::gold_bars(c);
        if !bars.is_empty() {
            any_se = true;
            items.push(Item::ErrorBars {
                bars,
                color: theme::lighten(col, 0.45),
                ranged: false,
            });
        }
        let proxy = data::proxy_points(c);
        if !proxy.is_empty() {
            any_proxy = true;
            items.push(Item::points(proxy, col, Marker::Ring, msize));
        }
        items.push(Item::points(data::gold_points(c), col, Marker::Dot, msize));
        if let Some(f) = data::fit_for(inp.fits, &c.key, Target::Gold) {
            any_gfit = true;
            gold_fits.push(f);
            if let Some(p) = f.peak.filter(|p| p.kl.is_finite() && p.score.is_finite()) {
                peaks.push((c.key.rm_params, p.kl, p.score));
            }
            let kmax = kmax.max(f.kl_max.unwrap_or(0.0));
            items.push(Item::line(
                data::fit_line(f, kmax, true),
                col,
                2.0,
                Dash::Solid,
            ));
        }
        if let Some(f) = data::fit_for(inp.fits, &c.key, Target::Proxy) {
            any_pfit = true;
            let kmax = kmax.max(f.kl_max.unwrap_or(0.0));
            items.push(Item::line(
                data::fit_line(f, kmax, true),
                col,
                1.6,
                Dash::Dashed,
            ));
        }
    }
    let mut legend = vec![data::style_entry(
        "gold score",
        Swatch::Marker(theme::INK, Marker::Dot),
    )];
    if any_gfit {
        legend.push(data::line_entry("gold fit", Dash::Solid));
    }
    if any_proxy {
        legend.push(data::style_entry(
            "proxy score",
            Swatch::Marker(theme::INK, Marker::Ring),
        ));
    }
    if any_pfit {
        legend.push(data::line_entry("proxy fit", Dash::Dashed));
    }
    let title = format!(
        "{} gold{} score vs KL",
        match method {
            Method::Bon => "Best-of-n",
            Method::Rl => "RL",
        },
        if any_proxy { " and proxy" } else { "" }
    );
    let form = match method {
        Method::Bon => "d(α − β d)",
        Method::Rl => "d(α − β ln d)",
    };
    let mut scene = Scene::new(
        title,
        vec![Panel {
            title: g.describe(),
            x: Axis::kl(),
            y: score_axis(),
            items,
        }],
    );
    scene.legend = legend;
    scene.colorbar = Some(data::size_bar(scale, &sizes));
    let caption = format!(
        "Gold{} score of {} policies against KL from the initial policy, one colour per proxy RM size (colour bar: RM parameters, log scale){}. Lines are the fitted form R(d) = {form}, d = sqrt(KL), plus the kl = 0 baseline; the x axis is square-root scaled with ticks in nats, so d grows linearly to the right.{}{}",
        if any_proxy {
            " (filled dots, solid fitted lines) and proxy (rings, dashed lines)"
        } else {
            ""
        },
        method_name(method),
        if any_se {
            "; bars are ±1.96 standard errors"
        } else {
            ""
        },
        group_note(&g, others),
        if any_gfit {
            peak_trend_words(&peaks) + &data::form_check_words(gold_fits.iter().copied())
        } else {
            " No fits were given, so no fitted lines are drawn.".to_string()
        },
    );
    Some(Draft {
        name: match method {
            Method::Bon => "gold_vs_kl_bon",
            Method::Rl => "gold_vs_kl_rl",
        },
        caption,
        scene,
    })
}

/// The curves of each method's main group that pass `keep` (with the group and the number of
/// groups left out; a method with no such curve is skipped), one colour scale over their RM
/// sizes, and those sizes.
type MethodCurves<'a> = Vec<(Method, Vec<&'a Curve>, Group, usize)>;

fn curves_by_method<'a>(
    curves: &'a [Curve],
    keep: impl Fn(&Curve) -> bool,
) -> Option<(MethodCurves<'a>, SizeScale, Vec<f64>)> {
    let mut per = Vec::new();
    for m in [Method::Bon, Method::Rl] {
        let Some((of, g, others)) = data::main_curves(curves, m) else {
            continue;
        };
        let of: Vec<&Curve> = of.into_iter().filter(|c| keep(c)).collect();
        if !of.is_empty() {
            per.push((m, of, g, others));
        }
    }
    let sizes: Vec<f64> = per
        .iter()
        .flat_map(|(_, c, _, _)| c.iter().map(|c| c.key.rm_params))
        .collect();
    let scale = SizeScale::over(sizes.iter().copied())?;
    Some((per, scale, sizes))
}

/// Gold against proxy score per curve, one panel per method (paper Fig. 8).
pub fn gold_vs_proxy(inp: &PlotInputs) -> Option<Draft> {
    let mut panels = Vec::new();
    let mut notes = Vec::new();
    let (per_method, scale, all_sizes) =
        curves_by_method(inp.curves, |c| !data::proxy_points(c).is_empty())?;
    for (m, curves, g, others) in per_method {
        let mut items = Vec::new();
        let mut diag = (f64::INFINITY, f64::NEG_INFINITY);
        for c in &curves {
            let col = scale.color(c.key.rm_params);
            // Cannot fail: `curves` holds only curves with proxy points.
            let proxy = c.proxy.as_ref().expect("filtered on proxy points");
            let pts: Vec<(f64, f64)> = proxy
                .iter()
                .zip(&c.gold)
                .filter_map(|(p, &g)| p.map(|p| (p, g)))
                .filter(|(p, g)| p.is_finite() && g.is_finite())
                .collect();
            for &(p, g) in &pts {
                diag = (diag.0.min(p.min(g)), diag.1.max(p.max(g)));
            }
            items.push(Item::line(pts.clone(), col, 1.2, Dash::Solid));
            items.push(Item::points(pts, col, Marker::Dot, 2.0));
        }
        if diag.0 < diag.1 {
            items.push(Item::guide(
                vec![(diag.0, diag.0), (diag.1, diag.1)],
                theme::MUTED,
                1.0,
                Dash::Dashed,
            ));
        }
        let d = g.describe();
        panels.push(Panel {
            title: if d.is_empty() {
                method_name(m).to_string()
            } else {
                format!("{}: {d}", method_name(m))
            },
            x: Axis::new("proxy score (RM units)", Scale::Linear),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items,
        });
        if others > 0 {
            notes.push(format!(
                "{}: {others} other group(s) not drawn",
                method_name(m)
            ));
        }
    }
    // Both methods on one panel, from `goodhart analyze` (RL gold − best-of-n gold at equal
    // proxy), for up to three RMs of its main group.
    let mut both_words = String::new();
    if let Some(a) = inp.analyses
        && a.doc.gold_vs_proxy.skipped.is_none()
    {
        let gp = &a.doc.gold_vs_proxy;
        let recs: Vec<&crate::analyses::GoldVsProxyRecord> = gp
            .records
            .iter()
            .filter(|r| r.mean_diff.is_some())
            .collect();
        if let Some(g) = super::analyses::main_key(recs.iter().map(|r| r.key)) {
            let mut main: Vec<_> = recs
                .into_iter()
                .filter(|r| (r.key.rm_data, r.key.policy_params) == g)
                .collect();
            main.sort_by(|a, b| a.key.rm_params.total_cmp(&b.key.rm_params));
            let mut items = Vec::new();
            let mut shown = Vec::new();
            for r in data::spread(&main, 3) {
                let (Some(rl), Some(bon)) = super::analyses::curves_of(inp.curves, &r.key) else {
                    continue;
                };
                let col = scale.color(r.key.rm_params);
                for (c, dash, marker) in [
                    (bon, Dash::Dashed, Marker::Ring),
                    (rl, Dash::Solid, Marker::Dot),
                ] {
                    // the proxy range both methods cover: what is compared
                    let (lo, hi) = (
                        r.proxy_low.unwrap_or(f64::NEG_INFINITY),
                        r.proxy_high.unwrap_or(f64::INFINITY),
                    );
                    let pts: Vec<(f64, f64)> = crate::analyses::proxy_gold(c)
                        .into_iter()
                        .filter(|p| p.0 >= lo && p.0 <= hi)
                        .collect();
                    items.push(Item::line(pts.clone(), col, 1.2, dash));
                    items.push(Item::points(pts, col, marker, 2.0));
                }
                shown.push(format!(
                    "{} ({})",
                    theme::si(r.key.rm_params),
                    r.mean_diff_sd
                        .map(|d| format!("{} sd", theme::sig(d, 2)))
                        .or_else(|| r
                            .mean_diff
                            .map(|d| format!("{} gold units", theme::sig(d, 2))))
                        .unwrap_or_default()
                ));
            }
            if !items.is_empty() {
                panels.push(Panel {
                    title: "Both methods, common proxy range".into(),
                    x: Axis::new("proxy score (RM units)", Scale::Linear),
                    y: Axis::new("gold score (RM units)", Scale::Linear),
                    items,
                });
                let words = |sd: Option<f64>, units: Option<f64>| match (sd, units) {
                    (Some(s), _) => format!("{} gold sd of the initial policy", theme::sig(s, 2)),
                    (None, Some(m)) => {
                        format!("{} gold units (no samples: no sd)", theme::sig(m, 2))
                    }
                    _ => "–".into(),
                };
                let median = words(gp.median_mean_diff_sd, gp.median_mean_diff);
                let top = words(gp.median_diff_at_high_sd, gp.median_diff_at_high);
                let top_abs = words(gp.median_abs_diff_at_high_sd, gp.median_abs_diff_at_high);
                let (below, n) = gp.below_at_high();
                both_words = format!(
                    " The last panel overlays best-of-n (rings, dashed) and unpenalised RL (dots, solid) over the proxy range both reach, for RM sizes {} (mean RL − best-of-n gold at equal proxy in brackets). At equal proxy score, RL gold minus best-of-n gold (linear interpolation over the proxy range both cover), averaged over that range, has median {median} over {}; at the top of the range, where the methods have moved furthest from the initial policy, its median is {top} (median |difference| {top_abs}; RL below best-of-n in {below} of {n}); the paper finds the two alike.",
                    shown.join(", "),
                    gp.compared_count_words()
                );
            }
        }
    }
    let mut scene = Scene::new("Gold vs proxy score", panels);
    scene.legend = vec![
        data::style_entry(
            "curve point (KL rises along it)",
            Swatch::LineMarker(theme::INK, Dash::Solid, Marker::Dot),
        ),
        data::style_entry("gold = proxy", Swatch::Line(theme::MUTED, Dash::Dashed)),
    ];
    scene.colorbar = Some(data::size_bar(scale, &all_sizes));
    let caption = format!(
        "Gold score against proxy score along each optimisation curve, coloured by proxy RM size; the dashed diagonal is gold = proxy, and the vertical distance below it is the proxy-gold gap. The paper (Fig. 8) finds best-of-n and RL alike plotted this way: gold rises with proxy at first and turns down when the proxy is overoptimized.{}{both_words}",
        if notes.is_empty() {
            String::new()
        } else {
            format!(" {}.", notes.join("; "))
        }
    );
    Some(Draft {
        name: "gold_vs_proxy",
        caption,
        scene,
    })
}

/// RL gold against KL coloured by KL penalty, one panel per RM size (paper Fig. 9).
pub fn kl_penalty(inp: &PlotInputs) -> Option<Draft> {
    let rl: Vec<&Curve> = inp
        .curves
        .iter()
        .filter(|c| c.key.method == Method::Rl && !data::gold_points(c).is_empty())
        .collect();
    // the main group among the (RM data, policy) groups swept over at least two penalties: a
    // world may sweep penalties at one data size and policy only, and not the main one
    let swept = |g: &Group| {
        rl.iter()
            .filter(|c| c.key.policy_params == g.policy_params && c.key.rm_data == g.rm_data)
            .map(|c| c.key.kl_penalty.unwrap_or(0.0).to_bits())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            >= 2
    };
    let main = data::main_group(rl.iter().map(|c| Group::of(&c.key)).filter(swept))?;
    let same =
        |c: &&&Curve| c.key.policy_params == main.policy_params && c.key.rm_data == main.rm_data;
    let sub: Vec<&Curve> = rl.iter().filter(same).copied().collect();
    let mut penalties: Vec<f64> = sub
        .iter()
        .map(|c| c.key.kl_penalty.unwrap_or(0.0))
        .collect();
    penalties.sort_by(f64::total_cmp);
    penalties.dedup();
    if penalties.len() < 2 {
        return None;
    }
    let mut sizes: Vec<f64> = sub.iter().map(|c| c.key.rm_params).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    // sizes with at least two penalties
    sizes.retain(|s| {
        sub.iter()
            .filter(|c| c.key.rm_params == *s)
            .map(|c| c.key.kl_penalty.unwrap_or(0.0).to_bits())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            >= 2
    });
    if sizes.is_empty() {
        return None;
    }
    let shown = data::spread(&sizes, 3);
    let pcol = |p: f64| {
        let i = penalties.iter().position(|q| *q == p).unwrap_or(0);
        theme::colormap(if penalties.len() > 1 {
            i as f64 / (penalties.len() - 1) as f64
        } else {
            0.5
        })
    };
    let mut panels = Vec::new();
    for &s in &shown {
        let mut items = Vec::new();
        let mut these: Vec<&&Curve> = sub.iter().filter(|c| c.key.rm_params == s).collect();
        these.sort_by(|a, b| {
            a.key
                .kl_penalty
                .unwrap_or(0.0)
                .total_cmp(&b.key.kl_penalty.unwrap_or(0.0))
        });
        for c in these {
            let col = pcol(c.key.kl_penalty.unwrap_or(0.0));
            let pts = data::gold_points(c);
            items.push(Item::line(pts.clone(), col, 1.0, Dash::Solid));
            items.push(Item::points(pts, col, Marker::Dot, 2.0));
            if c.key.kl_penalty.unwrap_or(0.0) == penalties[0]
                && let Some(f) = data::fit_for(inp.fits, &c.key, Target::Gold)
            {
                let kmax = data::max_kl(c);
                items.push(Item::guide(
                    data::fit_line(f, kmax * 1.5, true),
                    theme::INK,
                    1.2,
                    Dash::Dashed,
                ));
            }
        }
        panels.push(Panel {
            title: format!("RM {} parameters", theme::si(s)),
            x: Axis::kl(),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items,
        });
    }
    let mut scene = Scene::new("KL penalty sweep (RL)", panels);
    scene.legend_title = Some("KL penalty".into());
    scene.legend = penalties
        .iter()
        .map(|&p| LegendEntry {
            swatch: Swatch::LineMarker(pcol(p), Dash::Solid, Marker::Dot),
            label: if p == 0.0 {
                "0 (none)".into()
            } else {
                theme::sig(p, 3)
            },
        })
        .collect();
    scene
        .legend
        .push(data::line_entry("gold fit, smallest penalty", Dash::Dashed));
    let rest = Group {
        kl_penalty: None,
        ..main
    }
    .describe();
    let mut caption = format!(
        "Gold score of RL runs against KL, one colour per KL-penalty coefficient, for {} RM size(s){}; the dashed line is the fitted gold curve of the smallest penalty, extended. A penalty that acts like early stopping moves runs along that same frontier and stops them at a smaller KL (the paper's Fig. 9).",
        shown.len(),
        if rest.is_empty() {
            String::new()
        } else {
            format!(" ({rest})")
        }
    );
    if let Some(a) = inp.analyses
        && a.doc.kl_penalty.skipped.is_none()
    {
        let k = &a.doc.kl_penalty;
        // one unit for every number: gold sd when the document has them, else gold units
        let sd = k.median_mean_diff_sd.is_some();
        let unit = if sd { " gold sd" } else { " gold units" };
        let num = |x: Option<f64>| x.map_or("–".to_string(), |x| theme::sig(x, 2));
        let per: Vec<String> = k
            .per_penalty
            .iter()
            .map(|p| {
                let (mean, abs) = if sd {
                    (p.median_mean_diff_sd, p.median_mean_abs_diff_sd)
                } else {
                    (p.median_mean_diff, p.median_mean_abs_diff)
                };
                format!(
                    "penalty {} ({} run{}): median of the runs' mean distance {}{unit}, median of the runs' mean |distance| {}{unit}, final KL {}× the frontier's, {} of {} end lower",
                    theme::sig(p.kl_penalty, 3),
                    p.n_runs,
                    if p.n_runs == 1 { "" } else { "s" },
                    num(mean),
                    num(abs),
                    num(p.median_final_kl_ratio),
                    p.n_end_lower,
                    p.n_runs
                )
            })
            .collect();
        caption.push_str(&format!(
            " Distance to the frontier (goodhart analyze): for each of the {} penalised runs, penalised gold − unpenalised gold at equal KL (linearly interpolated), averaged over the run's points inside the unpenalised run's KL range, signed (mean distance) and in magnitude (mean |distance|, which points above and below the frontier cannot cancel), in{unit}{}; then the median of those per-run means over the runs of each penalty: {}.",
            k.n_runs,
            if sd { " of the initial policy" } else { "" },
            per.join("; ")
        ));
    }
    Some(Draft {
        name: crate::schema::KL_PENALTY,
        caption,
        scene,
    })
}

/// The extrapolation test (paper Fig. 26): fit left of each curve's median KL, draw the fit
/// across the whole range and the held-out points right of the cutoff.
pub fn extrapolation(inp: &PlotInputs) -> Option<Draft> {
    let mut panels = Vec::new();
    let mut rmses = Vec::new();
    let (per, scale, all_sizes) = curves_by_method(inp.curves, |_| true)?;
    for (m, curves, g, _) in per {
        let mut items = Vec::new();
        for c in curves {
            let Some(test) = inp.extrapolation.iter().find(|t| t.key() == c.key) else {
                continue;
            };
            let cut = test.cutoff_kl;
            if let Some(r) = test.holdout.rmse {
                rmses.push(r);
            }
            let col = scale.color(c.key.rm_params);
            let kmax = data::max_kl(c);
            let line = |lo: f64, hi: f64| -> Vec<(f64, f64)> {
                data::kl_grid(hi, 120)
                    .into_iter()
                    .filter(|k| *k >= lo)
                    .map(|k| (k, test.predict(k)))
                    .collect()
            };
            items.push(Item::line(line(0.0, cut), col, 2.0, Dash::Solid));
            items.push(Item::guide(line(cut * 0.98, kmax), col, 2.0, Dash::Dashed));
            let pts = data::gold_points(c);
            items.push(Item::points(
                pts.iter().copied().filter(|p| p.0 <= cut).collect(),
                col,
                Marker::Dot,
                2.2,
            ));
            items.push(Item::points(
                pts.into_iter().filter(|p| p.0 > cut).collect(),
                col,
                Marker::Cross,
                2.6,
            ));
        }
        if items.is_empty() {
            continue;
        }
        let d = g.describe();
        panels.push(Panel {
            title: if d.is_empty() {
                method_name(m).to_string()
            } else {
                format!("{}: {d}", method_name(m))
            },
            x: Axis::kl(),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let mut scene = Scene::new("Extrapolation test: fit left of the median KL", panels);
    scene.legend = vec![
        data::style_entry("fitted point", Swatch::Marker(theme::INK, Marker::Dot)),
        data::style_entry("held-out point", Swatch::Marker(theme::INK, Marker::Cross)),
        data::line_entry("fit (fitted range)", Dash::Solid),
        data::line_entry("fit, extrapolated", Dash::Dashed),
    ];
    scene.colorbar = Some(data::size_bar(scale, &all_sizes));
    let caption = format!(
        "Each curve is refitted using only its points at or below its median KL (dots, solid line); the dashed line carries that fit to the largest KL, and crosses are the held-out truth. Where the crosses follow the dashed line the form extrapolates (the paper's Fig. 26).{}",
        match data::median(&rmses) {
            Some(r) => format!(
                " Median held-out RMSE over {} curves: {} RM units.",
                rmses.len(),
                theme::sig(r, 3)
            ),
            None => String::new(),
        }
    );
    Some(Draft {
        name: "extrapolation",
        caption,
        scene,
    })
}

/// Gold minus fitted gold against KL, one panel per method.
pub fn residuals(inp: &PlotInputs) -> Option<Draft> {
    let mut panels = Vec::new();
    let mut any_se = false;
    let (per, scale, all_sizes) = curves_by_method(inp.curves, |c| {
        data::fit_for(inp.fits, &c.key, Target::Gold).is_some()
    })?;
    for (m, curves, g, _) in per {
        let mut items = vec![Item::HLine {
            y: 0.0,
            color: theme::AXIS,
            dash: Dash::Solid,
        }];
        for c in curves {
            // Cannot fail: `curves` holds only curves with a gold fit.
            let f = data::fit_for(inp.fits, &c.key, Target::Gold).expect("filtered above");
            let col = scale.color(c.key.rm_params);
            let res: Vec<(f64, f64, Option<f64>)> = (0..c.kl.len().min(c.gold.len()))
                .filter_map(|i| {
                    let r = c.gold[i] - data::eval_fit(f, c.kl[i])?;
                    let se = c.gold_se.as_ref().and_then(|s| s.get(i).copied());
                    let se = se.filter(|s| s.is_finite());
                    (r.is_finite() && c.kl[i].is_finite()).then_some((c.kl[i], r, se))
                })
                .collect();
            let bars: Vec<(f64, f64, f64)> = res
                .iter()
                .filter_map(|&(k, r, se)| se.map(|s| (k, r - 1.96 * s, r + 1.96 * s)))
                .collect();
            if !bars.is_empty() {
                any_se = true;
                items.push(Item::ErrorBars {
                    bars,
                    color: theme::lighten(col, 0.45),
                    ranged: false,
                });
            }
            let pts: Vec<(f64, f64)> = res.iter().map(|&(k, r, _)| (k, r)).collect();
            items.push(Item::line(pts.clone(), col, 0.8, Dash::Solid));
            items.push(Item::points(pts, col, Marker::Dot, 1.8));
        }
        let d = g.describe();
        panels.push(Panel {
            title: if d.is_empty() {
                method_name(m).to_string()
            } else {
                format!("{}: {d}", method_name(m))
            },
            x: Axis::kl(),
            y: Axis::new("gold − fitted gold (RM units)", Scale::Linear).with_zero(),
            items,
        });
    }
    let mut scene = Scene::new("Residuals of the gold fits", panels);
    scene.legend = vec![data::style_entry(
        "residual",
        Swatch::LineMarker(theme::INK, Dash::Solid, Marker::Dot),
    )];
    scene.colorbar = Some(data::size_bar(scale, &all_sizes));
    let caption = format!(
        "Observed gold score minus the fitted gold curve (baseline included) at each point, coloured by proxy RM size{}. Residuals scattered evenly around zero mean the form fits; a systematic bend (for RL, often near the origin, where the form's slope is infinite) shows where it does not.",
        if any_se {
            "; bars are ±1.96 standard errors of the points"
        } else {
            ""
        }
    );
    Some(Draft {
        name: "residuals",
        caption,
        scene,
    })
}

/// RL gold against policy entropy, and entropy against KL, when curves carry entropy.
pub fn gold_vs_entropy(inp: &PlotInputs) -> Option<Draft> {
    let has = |c: &Curve| {
        c.entropy
            .as_ref()
            .is_some_and(|e| e.iter().flatten().any(|v| v.is_finite()))
    };
    let method = if inp
        .curves
        .iter()
        .any(|c| c.key.method == Method::Rl && has(c))
    {
        Method::Rl
    } else if inp.curves.iter().any(has) {
        Method::Bon
    } else {
        return None;
    };
    let (curves, g, others) = data::main_curves(inp.curves, method)?;
    let curves: Vec<&Curve> = curves.into_iter().filter(|c| has(c)).collect();
    let sizes: Vec<f64> = curves.iter().map(|c| c.key.rm_params).collect();
    let scale = SizeScale::over(sizes.iter().copied())?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for c in &curves {
        let col = scale.color(c.key.rm_params);
        // Cannot fail: `curves` holds only curves with an entropy column.
        let e = c.entropy.as_ref().expect("filtered on entropy");
        let ge: Vec<(f64, f64)> = e
            .iter()
            .zip(&c.gold)
            .filter_map(|(e, &g)| e.map(|e| (e, g)))
            .filter(|(e, g)| e.is_finite() && g.is_finite())
            .collect();
        let ke: Vec<(f64, f64)> =
            c.kl.iter()
                .zip(e)
                .filter_map(|(&k, e)| e.map(|e| (k, e)))
                .filter(|(k, e)| k.is_finite() && e.is_finite())
                .collect();
        a.push(Item::line(ge.clone(), col, 1.0, Dash::Solid));
        a.push(Item::points(ge, col, Marker::Dot, 2.0));
        b.push(Item::line(ke.clone(), col, 1.0, Dash::Solid));
        b.push(Item::points(ke, col, Marker::Dot, 2.0));
    }
    let panels = vec![
        Panel {
            title: "gold vs entropy".into(),
            x: Axis::new("policy entropy (nats)", Scale::Linear),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items: a,
        },
        Panel {
            title: "entropy vs KL".into(),
            x: Axis::kl(),
            y: Axis::new("policy entropy (nats)", Scale::Linear),
            items: b,
        },
    ];
    let mut scene = Scene::new(
        format!("{} gold score vs policy entropy", method_name(method)),
        panels,
    );
    scene.legend = vec![data::style_entry(
        "training point",
        Swatch::LineMarker(theme::INK, Dash::Solid, Marker::Dot),
    )];
    scene.colorbar = Some(data::size_bar(scale, &sizes));
    let caption = format!(
        "Left: gold score against the policy's entropy, one line per run coloured by proxy RM size; entropy usually falls as training proceeds, so runs move right to left. Right: entropy against KL; where it falls monotonically with KL, entropy orders the runs as KL does and the left panel is the gold-vs-KL curve seen through entropy.{}",
        group_note(&g, others)
    );
    Some(Draft {
        name: "gold_vs_entropy",
        caption,
        scene,
    })
}
