//! Figures of the coefficients and their scaling with RM size: the coefficients with their
//! log-linear laws (paper Fig. 3), the data-size sweep (Figs. 4, 17-18), the peak against RM
//! size with predictions (Fig. 12), the predicted curves of untrained sizes, and the
//! iterated-RLHF prediction.

use crate::document::{FitRecord, Law, LawModelKind, Prediction, Target};
use crate::forms::FormId;
use crate::schema::Method;
use crate::stats::t95;

use super::data::{self, Group};
use super::scene::{Axis, Dash, Item, LegendEntry, Marker, Panel, Scale, Scene, Swatch};
use super::theme::{self, SizeScale};
use super::{Draft, PlotInputs};

fn paper_form(m: Method) -> FormId {
    FormId::for_method(m)
}

fn short(m: Method) -> &'static str {
    match m {
        Method::Bon => "BoN",
        Method::Rl => "RL",
    }
}

fn method_color(m: Method) -> plotters::style::RGBColor {
    match m {
        Method::Bon => theme::category(0),
        Method::Rl => theme::category(1),
    }
}

fn greek(c: &str) -> &str {
    match c {
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        other => other,
    }
}

/// The gold fits of the paper's form for a method, by group.
fn gold_fits(fits: &[FitRecord], m: Method) -> Vec<&FitRecord> {
    fits.iter()
        .filter(|f| f.method == m && f.target == Target::Gold && f.form == paper_form(m))
        .collect()
}

fn main_fit_group(fits: &[FitRecord], m: Method) -> Option<(Group, usize)> {
    let groups = data::distinct(gold_fits(fits, m).into_iter().map(Group::of_fit));
    let g = data::main_group(groups.iter().copied())?;
    Some((g, groups.len() - 1))
}

/// The log-linear (else constant) gold law of a coefficient in a group.
fn law_for<'a>(inp: &'a PlotInputs, m: Method, coef: &str, g: &Group) -> Option<&'a Law> {
    let laws = &inp.scaling?.laws;
    let pick = |model: LawModelKind| {
        laws.iter().find(|l| {
            l.method == m
                && l.target == Target::Gold
                && l.form == paper_form(m)
                && l.coefficient == coef
                && l.model == model
                && l.converged
                && l.a.is_finite()
                && l.b.is_finite()
                && g.matches_law(&l.group)
        })
    };
    pick(LawModelKind::LogLinear).or_else(|| pick(LawModelKind::Constant))
}

/// Log-spaced sizes from lo to hi.
fn size_grid(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.log10(), hi.log10());
    (0..=n)
        .map(|i| 10f64.powf(a + (b - a) * i as f64 / n as f64))
        .collect()
}

/// What the fitted coefficients do with size in these data (Spearman's rank correlation), for
/// the caption: " Here α rises with size for BoN (Spearman ρ = 0.93 over 9 sizes), ...".
fn trend_words(inp: &PlotInputs) -> String {
    let mut parts = Vec::new();
    let mut checks = String::new();
    for m in [Method::Bon, Method::Rl] {
        let Some((g, _)) = main_fit_group(inp.fits, m) else {
            continue;
        };
        for coef in ["alpha", "beta"] {
            let pts: Vec<(f64, f64)> = coef_points(inp.fits, m, &g, coef)
                .into_iter()
                .map(|p| (p.0, p.1))
                .collect();
            if let Some((word, rho)) = data::trend(&pts) {
                parts.push(format!(
                    "{} {word} with size for {} (Spearman ρ = {} over {} sizes)",
                    greek(coef),
                    short(m),
                    theme::sig(rho, 2),
                    pts.len()
                ));
            }
        }
        checks.push_str(&data::form_check_words(
            gold_fits(inp.fits, m)
                .into_iter()
                .filter(|f| Group::of_fit(f) == g),
        ));
    }
    if parts.is_empty() {
        checks
    } else {
        format!(" In these fits {}.{checks}", parts.join("; "))
    }
}

/// The law's line and 95% band over sizes, and whether the band is off scale. `limits` is the
/// y range the band may fill (from the point estimates): a band reaching beyond it (a law of
/// few sizes has a large t quantile) is not filled but drawn as its dashed edges, clipped to
/// the panel, so that it never fills the panel.
fn law_items(
    law: &Law,
    lo: f64,
    hi: f64,
    color: plotters::style::RGBColor,
    limits: (f64, f64),
) -> (Vec<Item>, bool) {
    let t = t95(law.dof);
    let grid = size_grid(lo, hi, 60);
    let line: Vec<(f64, f64)> = grid.iter().map(|&s| (s, law.at(s).0)).collect();
    let band: Vec<(f64, f64, f64)> = grid
        .iter()
        .filter_map(|&s| {
            let (v, se) = law.at(s);
            se.map(|e| (s, v - t * e, v + t * e))
        })
        .collect();
    let off_scale = band.iter().any(|b| b.1 < limits.0 || b.2 > limits.1);
    let mut out = Vec::new();
    if off_scale {
        for edge in [
            band.iter().map(|b| (b.0, b.1)).collect::<Vec<_>>(),
            band.iter().map(|b| (b.0, b.2)).collect(),
        ] {
            out.push(Item::guide(edge, color, 0.9, Dash::Dashed));
        }
    } else if !band.is_empty() {
        out.push(Item::Band {
            pts: band,
            color,
            opacity: 0.18,
        });
    }
    out.push(Item::guide(line, color, 1.8, Dash::Solid));
    (out, off_scale)
}

/// The y range a law's band may fill: the coefficients with their ±1.96 se bars, widened by
/// half their span on each side.
fn band_limits(pts: &[(f64, f64, Option<f64>)]) -> (f64, f64) {
    let vals: Vec<f64> = pts
        .iter()
        .flat_map(|&(_, v, se)| {
            let e = se.unwrap_or(0.0);
            [v - 1.96 * e, v + 1.96 * e]
        })
        .filter(|v| v.is_finite())
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    (lo - 0.5 * span, hi + 0.5 * span)
}

fn law_text(law: &Law) -> String {
    if law.model == LawModelKind::Constant {
        format!("shared {}", theme::sig(law.a, 3))
    } else {
        let sign = if law.b < 0.0 { "−" } else { "+" };
        format!(
            "{} {sign} {} log₁₀N",
            theme::sig(law.a, 3),
            theme::sig(law.b.abs(), 3)
        )
    }
}

/// (size, value, se) of one coefficient over the fits of a method and group.
fn coef_points(
    fits: &[FitRecord],
    m: Method,
    g: &Group,
    coef: &str,
) -> Vec<(f64, f64, Option<f64>)> {
    let mut pts: Vec<(f64, f64, Option<f64>)> = gold_fits(fits, m)
        .into_iter()
        .filter(|f| Group::of_fit(f) == *g)
        .filter_map(|f| {
            let p = f.params.get(coef)?;
            (p.value.is_finite() && f.rm_params > 0.0).then_some((
                f.rm_params,
                p.value,
                p.se.filter(|s| s.is_finite()),
            ))
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

fn coef_items(pts: &[(f64, f64, Option<f64>)], color: plotters::style::RGBColor) -> Vec<Item> {
    let bars: Vec<(f64, f64, f64)> = pts
        .iter()
        .filter_map(|&(s, v, se)| se.map(|e| (s, v - 1.96 * e, v + 1.96 * e)))
        .collect();
    vec![
        Item::ErrorBars {
            bars,
            color,
            ranged: true,
        },
        Item::points(
            pts.iter().map(|&(s, v, _)| (s, v)).collect(),
            color,
            Marker::Dot,
            3.2,
        ),
    ]
}

fn size_range(pts: &[(f64, f64, Option<f64>)]) -> (f64, f64) {
    let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    (lo / 1.4, hi * 1.4)
}

/// alpha and beta of BoN and RL gold fits against RM size, with the log-linear laws (Fig. 3).
pub fn coefficients(inp: &PlotInputs) -> Option<Draft> {
    let mut panels = Vec::new();
    let mut groups_note = Vec::new();
    let mut any_law = false;
    let mut off_scale: Vec<String> = Vec::new();
    for m in [Method::Bon, Method::Rl] {
        let Some((g, others)) = main_fit_group(inp.fits, m) else {
            continue;
        };
        let d = g.describe();
        if !d.is_empty() || others > 0 {
            groups_note.push(format!(
                "{}: {}{}",
                short(m),
                if d.is_empty() { "all curves".into() } else { d },
                if others > 0 {
                    format!(" ({others} other group(s) not drawn)")
                } else {
                    String::new()
                }
            ));
        }
        for coef in ["alpha", "beta"] {
            let pts = coef_points(inp.fits, m, &g, coef);
            if pts.is_empty() {
                continue;
            }
            let col = method_color(m);
            let mut items = Vec::new();
            let mut title = format!("{} ({})", greek(coef), short(m));
            if let Some(law) = law_for(inp, m, coef, &g) {
                let (lo, hi) = size_range(&pts);
                let (law_items, off) = law_items(law, lo, hi, col, band_limits(&pts));
                items.extend(law_items);
                title = format!("{title}: {}", law_text(law));
                if off {
                    off_scale.push(format!("{} ({})", greek(coef), short(m)));
                }
                any_law = true;
            }
            items.extend(coef_items(&pts, col));
            panels.push(Panel {
                title,
                x: Axis::new("RM parameters (log scale)", Scale::Log),
                y: Axis::new(format!("{}_{}", greek(coef), short(m)), Scale::Linear),
                items,
            });
        }
    }
    if panels.is_empty() {
        return None;
    }
    let mut scene = Scene::new("Fitted coefficients vs RM size (gold)", panels);
    scene.cols = 2;
    scene.panel_size = (430.0, 300.0);
    scene.legend = vec![
        data::style_entry(
            "BoN fit ±1.96 se",
            Swatch::Marker(method_color(Method::Bon), Marker::Dot),
        ),
        data::style_entry(
            "RL fit ±1.96 se",
            Swatch::Marker(method_color(Method::Rl), Marker::Dot),
        ),
    ];
    if any_law {
        scene
            .legend
            .push(data::line_entry("log-linear law", Dash::Solid));
        scene.legend.push(data::style_entry(
            "95% band of the law",
            Swatch::Band(theme::INK),
        ));
        if !off_scale.is_empty() {
            scene.legend.push(data::line_entry(
                "95% band, off scale (edges)",
                Dash::Dashed,
            ));
        }
    }
    let caption = format!(
        "The coefficients α and β of each RM size's gold fit (dots, bars ±1.96 standard errors) against proxy RM parameters on a log axis{}.{} The paper finds α_bon rising and β falling with size: larger RMs are overoptimized less.{}{}",
        if any_law {
            ", with the log-linear scaling law c = a + b log₁₀N (line, its equation in each panel title) and its 95% confidence band (t quantile times the law's standard error)"
        } else {
            ""
        },
        if off_scale.is_empty() {
            String::new()
        } else {
            format!(
                " The band of {} reaches far beyond the fitted coefficients (few sizes: a large t quantile) and is drawn as its dashed edges only, cut at the panel.",
                off_scale.join(", ")
            )
        },
        trend_words(inp),
        if groups_note.is_empty() {
            String::new()
        } else {
            format!(" Groups: {}.", groups_note.join("; "))
        }
    );
    Some(Draft {
        name: "coefficients",
        caption,
        scene,
    })
}

/// Predictions of gold for a method in a group.
fn predictions_for<'a>(inp: &'a PlotInputs, m: Method, g: &Group) -> Vec<&'a Prediction> {
    let Some(doc) = inp.predictions else {
        return Vec::new();
    };
    let mut v: Vec<&Prediction> = doc
        .predictions
        .iter()
        .filter(|p| p.method == m && p.target == Target::Gold && g.matches_law(&p.group))
        .collect();
    v.sort_by(|a, b| a.rm_params.total_cmp(&b.rm_params));
    v
}

/// Peak gold score and peak KL against RM size: observed fits and predictions (Fig. 12).
pub fn peaks(inp: &PlotInputs) -> Option<Draft> {
    let mut score_items = Vec::new();
    let mut kl_items = Vec::new();
    let mut legend = Vec::new();
    let mut off_scale = 0usize;
    let mut max_obs: f64 = 0.0;
    let mut any_pred = false;
    let mut any_new_rm = false;
    let mut notes = Vec::new();
    let mut n_beyond = 0usize;
    let mut no_peak = 0usize;
    for m in [Method::Bon, Method::Rl] {
        let Some((g, _)) = main_fit_group(inp.fits, m) else {
            continue;
        };
        let col = method_color(m);
        // (size, peak score, peak KL, whether the peak lies beyond the curve's largest KL)
        let mut obs: Vec<(f64, f64, f64, bool)> = gold_fits(inp.fits, m)
            .into_iter()
            .filter(|f| Group::of_fit(f) == g)
            .filter_map(|f| {
                let p = f.peak?;
                let beyond = f.kl_max.is_some_and(|k| p.kl > k);
                (p.kl.is_finite() && p.score.is_finite()).then_some((
                    f.rm_params,
                    p.score,
                    p.kl,
                    beyond,
                ))
            })
            .collect();
        obs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let preds = predictions_for(inp, m, &g);
        if obs.is_empty() && preds.is_empty() {
            continue;
        }
        let obs_hi = obs.iter().map(|o| o.0).fold(0.0, f64::max);
        max_obs = max_obs.max(obs_hi);
        let (smax, kmax) = obs
            .iter()
            .fold((0.0f64, 0.0f64), |a, o| (a.0.max(o.1), a.1.max(o.2)));
        legend.push(data::style_entry(
            &format!("{} fitted peak", short(m)),
            Swatch::Marker(col, Marker::Dot),
        ));
        score_items.push(Item::line(
            obs.iter().map(|o| (o.0, o.1)).collect(),
            col,
            1.0,
            Dash::Dotted,
        ));
        // a fitted peak beyond the curve's largest KL is an extrapolation of the fit: a ring
        let within = |o: &&(f64, f64, f64, bool)| !o.3;
        let beyond = |o: &&(f64, f64, f64, bool)| o.3;
        n_beyond += obs.iter().filter(beyond).count();
        score_items.push(Item::points(
            obs.iter().filter(within).map(|o| (o.0, o.1)).collect(),
            col,
            Marker::Dot,
            3.2,
        ));
        score_items.push(Item::points(
            obs.iter().filter(beyond).map(|o| (o.0, o.1)).collect(),
            col,
            Marker::Ring,
            3.6,
        ));
        kl_items.push(Item::line(
            obs.iter().map(|o| (o.0, o.2)).collect(),
            col,
            1.0,
            Dash::Dotted,
        ));
        kl_items.push(Item::points(
            obs.iter().filter(within).map(|o| (o.0, o.2)).collect(),
            col,
            Marker::Dot,
            3.2,
        ));
        kl_items.push(Item::points(
            obs.iter().filter(beyond).map(|o| (o.0, o.2)).collect(),
            col,
            Marker::Ring,
            3.6,
        ));
        if obs.iter().any(|o| o.3) {
            legend.push(data::style_entry(
                &format!("{} fitted peak beyond the data's KL", short(m)),
                Swatch::Marker(col, Marker::Ring),
            ));
        }
        // the laws' peak across sizes
        let alpha = law_for(inp, m, "alpha", &g);
        let beta = law_for(inp, m, "beta", &g);
        let pred_hi = preds.iter().map(|p| p.rm_params).fold(0.0, f64::max);
        if let (Some(a), Some(b), true) = (alpha, beta, obs_hi > 0.0) {
            let lo = obs.first().map_or(obs_hi, |o| o.0);
            let hi = obs_hi.max(pred_hi);
            let form = FormId::for_method(m).form();
            let pk: Vec<(f64, f64, f64)> = size_grid(lo, hi, 80)
                .into_iter()
                .filter_map(|s| {
                    let p = form.peak(&[a.at(s).0, b.at(s).0])?;
                    Some((s, p.score, p.kl))
                })
                .collect();
            score_items.push(Item::guide(
                pk.iter().map(|p| (p.0, p.1)).collect(),
                col,
                1.6,
                Dash::Solid,
            ));
            kl_items.push(Item::guide(
                pk.iter().map(|p| (p.0, p.2)).collect(),
                col,
                1.6,
                Dash::Solid,
            ));
            legend.push(data::style_entry(
                &format!("{} peak of the laws", short(m)),
                Swatch::Line(col, Dash::Solid),
            ));
        }
        // predicted points, with their intervals; absurd ones are off scale
        let (mut ps, mut pk, mut bs, mut bk) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // the 95% intervals for a new RM (the scatter about the laws added): dashed segments,
        // just right of the mean-law bars (x 1.15 on the log axis)
        let new_rm = |i: &crate::document::Interval, x: f64| -> Option<Item> {
            let (l, h) = (i.new_rm_low?, i.new_rm_high?);
            let x = 1.15 * x;
            Some(Item::Line {
                pts: vec![(x, l), (x, h)],
                color: col,
                width: 1.0,
                dash: Dash::Dashed,
                ranged: false,
            })
        };
        for p in &preds {
            let Some(peak) = &p.peak else {
                no_peak += 1;
                continue;
            };
            any_pred = true;
            let ok_s = smax <= 0.0 || peak.score.value.abs() <= 5.0 * smax;
            let ok_k = kmax <= 0.0 || peak.kl.value <= 25.0 * kmax;
            if ok_s {
                any_new_rm |= peak.score.new_rm_low.is_some();
                score_items.extend(new_rm(&peak.score, p.rm_params));
                ps.push((p.rm_params, peak.score.value));
                if let (Some(l), Some(h)) = (peak.score.low, peak.score.high) {
                    bs.push((p.rm_params, l, h));
                }
            } else {
                off_scale += 1;
            }
            if ok_k {
                kl_items.extend(new_rm(&peak.kl, p.rm_params));
                pk.push((p.rm_params, peak.kl.value));
                if let (Some(l), Some(h)) = (peak.kl.low, peak.kl.high) {
                    bk.push((p.rm_params, l, h));
                }
            } else {
                off_scale += 1;
            }
        }
        // listed only when a diamond is drawn
        if !ps.is_empty() || !pk.is_empty() {
            legend.push(data::style_entry(
                &format!("{} predicted (95% interval)", short(m)),
                Swatch::Marker(col, Marker::Diamond),
            ));
        }
        score_items.push(Item::ErrorBars {
            bars: bs,
            color: col,
            ranged: false,
        });
        score_items.push(Item::points(ps, col, Marker::Diamond, 4.0));
        kl_items.push(Item::ErrorBars {
            bars: bk,
            color: col,
            ranged: false,
        });
        kl_items.push(Item::points(pk, col, Marker::Diamond, 4.0));
        let d = g.describe();
        if !d.is_empty() {
            notes.push(format!("{}: {d}", short(m)));
        }
    }
    if score_items.is_empty() {
        return None;
    }
    if max_obs > 0.0 && any_pred {
        for items in [&mut score_items, &mut kl_items] {
            items.insert(
                0,
                Item::XSpan {
                    from: max_obs,
                    to: f64::INFINITY,
                    color: theme::SHADE,
                },
            );
        }
        legend.push(data::style_entry(
            "extrapolated sizes",
            Swatch::Band(theme::MUTED),
        ));
    }
    let mut x_lo = f64::INFINITY;
    let mut x_hi: f64 = 0.0;
    for m in [Method::Bon, Method::Rl] {
        if let Some((g, _)) = main_fit_group(inp.fits, m) {
            for f in gold_fits(inp.fits, m)
                .into_iter()
                .filter(|f| Group::of_fit(f) == g)
            {
                x_lo = x_lo.min(f.rm_params);
                x_hi = x_hi.max(f.rm_params);
            }
            for p in predictions_for(inp, m, &g) {
                x_lo = x_lo.min(p.rm_params);
                x_hi = x_hi.max(p.rm_params);
            }
        }
    }
    let x = || {
        let mut a = Axis::new("RM parameters (log scale)", Scale::Log);
        if x_lo > 0.0 && x_hi.is_finite() && x_hi > x_lo {
            a.fixed = Some((x_lo / 1.5, x_hi * 1.5));
        }
        a
    };
    let panels = vec![
        Panel {
            title: "peak gold score".into(),
            x: x(),
            y: Axis::new("peak gold score above kl = 0 (RM units)", Scale::Linear).with_zero(),
            items: score_items,
        },
        Panel {
            title: "KL at the peak".into(),
            x: x(),
            y: Axis::new("peak KL (nats), square-root scale", Scale::Sqrt),
            items: kl_items,
        },
    ];
    let mut scene = Scene::new("Peak gold score and its KL vs RM size", panels);
    scene.legend = legend;
    let caption = format!(
        "The maximum of each fitted gold curve (dots: R* and KL* of the fit) against proxy RM size{}{}. The peak KL axis is square-root scaled with ticks in nats.{}{}",
        if inp.scaling.is_some() {
            ", the peak implied by the scaling laws of α and β at every size (line)"
        } else {
            ""
        },
        if any_pred {
            if any_new_rm {
                ", and predictions for untrained sizes (diamonds; solid bars = 95% interval of the mean law, dashed = 95% interval for a new RM, which adds the scatter of RMs about the laws; a peak beyond 10x the largest observed KL is not predicted); the grey region lies beyond the largest fitted RM, where the laws are extrapolated"
            } else {
                ", and predictions for untrained sizes (diamonds, bars = 95% intervals); the grey region lies beyond the largest fitted RM, where the laws are extrapolated"
            }
        } else {
            ""
        },
        {
            let mut t = String::new();
            if n_beyond > 0 {
                t.push_str(&format!(
                    " Rings: {n_beyond} fitted peak(s) lie beyond the largest KL of their curve's data, where the fit is extrapolated."
                ));
            }
            if off_scale > 0 {
                t.push_str(&format!(
                    " {off_scale} predicted value(s) lie far beyond the observed peaks (an unreliable extrapolation) and are not drawn."
                ));
            }
            if no_peak > 0 {
                t.push_str(&format!(
                    " {no_peak} predicted size(s) have no peak the laws can place (no maximum, or one beyond 10x the largest observed KL; see predictions.json) and are not drawn."
                ));
            }
            t
        },
        if notes.is_empty() {
            String::new()
        } else {
            format!(" Groups: {}.", notes.join("; "))
        }
    );
    Some(Draft {
        name: "peak_vs_rm_params",
        caption,
        scene,
    })
}

/// Coefficients against RM size, one series per RM data size (Figs. 4, 17-18).
pub fn data_size(inp: &PlotInputs) -> Option<Draft> {
    let mut all_data: Vec<f64> = inp
        .fits
        .iter()
        .filter(|f| f.target == Target::Gold)
        .filter_map(|f| f.rm_data)
        .collect();
    all_data.sort_by(f64::total_cmp);
    all_data.dedup();
    if all_data.len() < 2 {
        return None;
    }
    let dcol = |d: f64| {
        let i = all_data.iter().position(|x| *x == d).unwrap_or(0);
        theme::category(i)
    };
    let mut panels = Vec::new();
    for m in [Method::Bon, Method::Rl] {
        let Some((g, _)) = main_fit_group(inp.fits, m) else {
            continue;
        };
        for coef in ["alpha", "beta"] {
            let mut items = Vec::new();
            for &d in &all_data {
                let gd = Group {
                    rm_data: Some(d),
                    ..g
                };
                let pts = coef_points(inp.fits, m, &gd, coef);
                if pts.is_empty() {
                    continue;
                }
                let col = dcol(d);
                if let Some(law) = law_for(inp, m, coef, &gd) {
                    let (lo, hi) = size_range(&pts);
                    items.push(Item::guide(
                        size_grid(lo, hi, 40)
                            .into_iter()
                            .map(|s| (s, law.at(s).0))
                            .collect(),
                        col,
                        1.4,
                        Dash::Dashed,
                    ));
                }
                items.extend(coef_items(&pts, col));
            }
            if items.is_empty() {
                continue;
            }
            panels.push(Panel {
                title: format!("{} ({})", greek(coef), short(m)),
                x: Axis::new("RM parameters (log scale)", Scale::Log),
                y: Axis::new(format!("{}_{}", greek(coef), short(m)), Scale::Linear),
                items,
            });
        }
    }
    if panels.is_empty() {
        return None;
    }
    let mut scene = Scene::new("Coefficients vs RM size, by RM training data", panels);
    scene.cols = 2;
    scene.panel_size = (430.0, 300.0);
    scene.legend_title = Some("RM comparisons".into());
    scene.legend = all_data
        .iter()
        .map(|&d| LegendEntry {
            swatch: Swatch::LineMarker(dcol(d), Dash::Dashed, Marker::Dot),
            label: theme::si(d),
        })
        .collect();
    let caption = "Gold-fit coefficients against proxy RM parameters (log axis), one colour per amount of RM training data (comparisons); bars are ±1.96 standard errors and dashed lines the log-linear laws of each data size when a scaling file is given. More data acts like a larger RM; the paper finds these trends \"not as cleanly described\" as the size trends (Figs. 4, 17-18). RL series use the smallest KL penalty and the largest policy.".to_string();
    Some(Draft {
        name: "data_size",
        caption,
        scene,
    })
}

/// The iterated-RLHF prediction R_k(d) = d(alpha - beta ln d + beta ln k), k = 1, 2, 4, 8.
pub fn iterated(inp: &PlotInputs) -> Option<Draft> {
    let (curves, g, _) = data::main_curves(inp.curves, Method::Rl).unwrap_or((
        Vec::new(),
        Group {
            policy_params: None,
            rm_data: None,
            kl_penalty: None,
        },
        0,
    ));
    // RL gold fits of the rl form in the main group (from the fits, curves optional)
    let (fg, _) = main_fit_group(inp.fits, Method::Rl)?;
    let mut fits: Vec<&FitRecord> = gold_fits(inp.fits, Method::Rl)
        .into_iter()
        .filter(|f| Group::of_fit(f) == fg && data::params_of(f).is_some())
        .collect();
    fits.sort_by(|a, b| a.rm_params.total_cmp(&b.rm_params));
    if fits.is_empty() {
        return None;
    }
    let shown = data::spread(&fits, 3);
    let ks = [1.0f64, 2.0, 4.0, 8.0];
    let kcol = |i: usize| theme::colormap(i as f64 / (ks.len() - 1) as f64);
    let mut panels = Vec::new();
    for f in &shown {
        // Cannot fail: `fits` above keeps only fits whose parameters params_of reads.
        let (_, p) = data::params_of(f).expect("filtered");
        let (alpha, beta) = (p[0], p[1]);
        let base = f.baseline.map_or(0.0, |b| b.value);
        let curve = curves
            .iter()
            .find(|c| c.key.rm_params == f.rm_params && g == fg);
        let kmax_data = curve
            .map(|c| data::max_kl(c))
            .unwrap_or(0.0)
            .max(f.kl_max.unwrap_or(0.0));
        // show up to the k = 8 peak, at most 4x the data's KL
        let peak8 =
            crate::forms::Form::peak(&crate::forms::RlForm, &[alpha + beta * 8f64.ln(), beta]);
        let kmax = match peak8 {
            Some(pk) => (pk.kl * 1.3).min(4.0 * kmax_data.max(1e-9)).max(kmax_data),
            None => kmax_data,
        };
        let mut items = Vec::new();
        if let Some(c) = curve {
            items.push(Item::points(
                data::gold_points(c),
                theme::MUTED,
                Marker::Dot,
                1.8,
            ));
        }
        for (i, &k) in ks.iter().enumerate() {
            let line: Vec<(f64, f64)> = data::kl_grid(kmax, 160)
                .into_iter()
                .map(|kl| {
                    let d = kl.sqrt();
                    let r = if d > 0.0 {
                        d * (alpha - beta * d.ln() + beta * k.ln())
                    } else {
                        0.0
                    };
                    (kl, base + r)
                })
                .collect();
            items.push(Item::line(line, kcol(i), 2.0, Dash::Solid));
        }
        panels.push(Panel {
            title: format!("RM {} parameters", theme::si(f.rm_params)),
            // R_k is drawn at d², d the total distance summed over the k rounds: KL only for k = 1
            x: Axis::new("d_sum² (nats), square-root scale", Scale::Sqrt),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items,
        });
    }
    let mut scene = Scene::new("Iterated RLHF prediction", panels);
    scene.legend_title = Some("iterations k".into());
    scene.legend = ks
        .iter()
        .enumerate()
        .map(|(i, k)| LegendEntry {
            swatch: Swatch::Line(kcol(i), Dash::Solid),
            label: if *k == 1.0 {
                "k = 1 (the fit)".into()
            } else {
                format!("k = {k}")
            },
        })
        .collect();
    scene.legend.push(data::style_entry(
        "observed gold",
        Swatch::Marker(theme::MUTED, Marker::Dot),
    ));
    let d = fg.describe();
    let caption = format!(
        "The paper's prediction for k rounds of RLHF that split the same total distance d = sqrt(KL) into k equal steps: R_k(d) = d(α − β ln d + β ln k), from each RL gold fit (plus its kl = 0 baseline), for k = 1, 2, 4, 8. The gain over k = 1 is β d ln k: only the extremal (β) term shrinks, so the peak moves right and up.{}",
        if d.is_empty() {
            String::new()
        } else {
            format!(" Fits: {d}.")
        }
    );
    Some(Draft {
        name: "iterated_rlhf",
        caption,
        scene,
    })
}

/// Predicted gold curves of untrained RM sizes with their 95% bands, over the fitted curves of
/// the trained sizes.
pub fn prediction(inp: &PlotInputs) -> Option<Draft> {
    let doc = inp.predictions?;
    let mut panels = Vec::new();
    let mut per = Vec::new();
    let mut sizes = Vec::new();
    for m in [Method::Bon, Method::Rl] {
        let g = match main_fit_group(inp.fits, m) {
            Some((g, _)) => g,
            None => {
                let gs = data::distinct(
                    doc.predictions
                        .iter()
                        .filter(|p| p.method == m && p.target == Target::Gold)
                        .map(|p| Group {
                            policy_params: p
                                .group
                                .get(crate::schema::POLICY_PARAMS)
                                .copied()
                                .flatten(),
                            rm_data: p.group.get(crate::schema::RM_DATA).copied().flatten(),
                            kl_penalty: p.group.get(crate::schema::KL_PENALTY).copied().flatten(),
                        }),
                );
                match data::main_group(gs) {
                    Some(g) => g,
                    None => continue,
                }
            }
        };
        let preds: Vec<&Prediction> = predictions_for(inp, m, &g)
            .into_iter()
            .filter(|p| {
                p.curve
                    .iter()
                    .any(|c| c.kl.is_finite() && c.score().is_finite())
            })
            .collect();
        if preds.is_empty() {
            continue;
        }
        let fits: Vec<&FitRecord> = gold_fits(inp.fits, m)
            .into_iter()
            .filter(|f| Group::of_fit(f) == g && data::params_of(f).is_some())
            .collect();
        sizes.extend(fits.iter().map(|f| f.rm_params));
        sizes.extend(preds.iter().map(|p| p.rm_params));
        per.push((m, g, preds, fits));
    }
    let scale = SizeScale::over(sizes.iter().copied())?;
    for (m, g, preds, fits) in per {
        let mut items = Vec::new();
        let obs_kmax = fits.iter().filter_map(|f| f.kl_max).fold(0.0, f64::max);
        for f in &fits {
            let kmax = f.kl_max.unwrap_or(obs_kmax);
            items.push(Item::line(
                data::fit_line(f, kmax, false),
                scale.color(f.rm_params),
                1.2,
                Dash::Solid,
            ));
        }
        let pred_kmax = preds
            .iter()
            .flat_map(|p| p.curve.iter().map(|c| c.kl))
            .filter(|k| k.is_finite())
            .fold(0.0, f64::max);
        // x: up to the predictions' grid, at most 4x the observed KL range
        let xmax = if obs_kmax > 0.0 {
            pred_kmax.min(4.0 * obs_kmax).max(obs_kmax)
        } else {
            pred_kmax
        };
        for p in &preds {
            let col = scale.color(p.rm_params);
            let flagged = !p.warnings.is_empty();
            let band: Vec<(f64, f64, f64)> = p
                .curve
                .iter()
                .filter_map(|c| Some((c.kl, c.low?, c.high?)))
                .collect();
            items.push(Item::Band {
                pts: band,
                color: col,
                opacity: if flagged { 0.1 } else { 0.25 },
            });
            // the central curve sets the y range only inside the shown KL range
            let line: Vec<(f64, f64)> = p
                .curve
                .iter()
                .filter(|c| c.kl <= xmax * (1.0 + 1e-9))
                .map(|c| (c.kl, c.score()))
                .collect();
            // a prediction with warnings (see predictions.json) is dotted and thinner
            if flagged {
                items.push(Item::line(line, col, 1.6, Dash::Dotted));
            } else {
                items.push(Item::line(line, col, 2.4, Dash::Dashed));
            }
        }
        let mut x = Axis::kl();
        if xmax > 0.0 && xmax.is_finite() {
            x.fixed = Some((0.0, xmax));
        }
        let d = g.describe();
        panels.push(Panel {
            title: if d.is_empty() {
                short(m).to_string()
            } else {
                format!("{}: {d}", short(m))
            },
            x,
            y: Axis::new("gold score above kl = 0 (RM units)", Scale::Linear).with_zero(),
            items,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let predicted: Vec<String> = inp
        .predictions
        .map(|d| {
            let mut s: Vec<f64> = d.predictions.iter().map(|p| p.rm_params).collect();
            s.sort_by(f64::total_cmp);
            s.dedup();
            s.into_iter().map(theme::si).collect()
        })
        .unwrap_or_default();
    let mut scene = Scene::new("Predicted gold curves for untrained RM sizes", panels);
    scene.legend = vec![
        data::line_entry("fitted, trained sizes", Dash::Solid),
        data::line_entry("predicted", Dash::Dashed),
        data::line_entry("predicted, with warnings", Dash::Dotted),
        data::style_entry("95% band (mean law)", Swatch::Band(theme::INK)),
    ];
    let (flagged, total) = inp.predictions.map_or((0, 0), |d| {
        (
            d.predictions
                .iter()
                .filter(|p| !p.warnings.is_empty())
                .count(),
            d.predictions.len(),
        )
    });
    scene.colorbar = Some(data::size_bar(scale, &sizes));
    let caption = format!(
        "Gold curves R(d) predicted from the scaling laws for RM sizes {} (thick dashed, shaded: the 95% band of the mean law, not the wider band for a new RM, which predictions.json gives as new_rm_low/new_rm_high), over the fitted curves of the trained sizes (thin solid), all without the kl = 0 baseline. {flagged} of the {total} predictions carry warnings (a coefficient interval containing 0, a law crossing zero, a peak beyond the observed KL, an extrapolation of a decade or more): they are drawn dotted, thinner and with a lighter band, as the laws give them; read their warnings in predictions.json before using them. Colours follow RM size on one log scale, so the predictions continue the trend; bands that fill the panel mean the laws cannot pin the curve down at that size.",
        predicted.join(", ")
    );
    Some(Draft {
        name: "prediction",
        caption,
        scene,
    })
}
