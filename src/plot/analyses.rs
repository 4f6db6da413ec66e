//! Figures of `goodhart analyze` ([`crate::analyses`]): RL vs best-of-n KL efficiency, the
//! reward models' validation metrics against size and gold peaks (the paper's Fig. 5), and
//! the simulated iterated-RLHF rounds against the formula. Gold at equal proxy and the
//! KL-penalty frontier extend the `gold_vs_proxy` and `kl_penalty` figures (`curves.rs`).

use crate::analyses::{self, KlEfficiencyRecord, RmKey};
use crate::curves::Curve;
use crate::schema::Method;

use super::data;
use super::scene::{Axis, Dash, Item, LegendEntry, Marker, Panel, Scale, Scene, Swatch};
use super::theme;
use super::{Draft, PlotInputs};

/// The group of records a figure shows: the most RM data, then the largest policy.
pub fn main_key(keys: impl Iterator<Item = RmKey>) -> Option<(Option<f64>, Option<f64>)> {
    let o = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
    keys.map(|k| (k.rm_data, k.policy_params))
        .max_by(|a, b| o(a.0).total_cmp(&o(b.0)).then(o(a.1).total_cmp(&o(b.1))))
}

fn group_words(g: (Option<f64>, Option<f64>)) -> String {
    let mut parts = Vec::new();
    if let Some(d) = g.0 {
        parts.push(format!("RM data {}", theme::si(d)));
    }
    if let Some(p) = g.1 {
        parts.push(format!("policy {}", theme::si(p)));
    }
    parts.join(", ")
}

/// The unpenalised RL curve and the best-of-n curve of a record's RM.
pub fn curves_of<'a>(curves: &'a [Curve], k: &RmKey) -> (Option<&'a Curve>, Option<&'a Curve>) {
    let rl = curves.iter().find(|c| {
        c.key.method == Method::Rl
            && c.key.rm_params == k.rm_params
            && c.key.rm_data == k.rm_data
            && c.key.policy_params == k.policy_params
            && c.key.kl_penalty.is_none_or(|p| p == 0.0)
    });
    let same = |c: &&Curve| {
        c.key.method == Method::Bon && c.key.rm_params == k.rm_params && c.key.rm_data == k.rm_data
    };
    let bon = curves
        .iter()
        .filter(same)
        .find(|c| c.key.policy_params == k.policy_params)
        .or_else(|| {
            curves
                .iter()
                .filter(same)
                .find(|c| c.key.policy_params.is_none())
        });
    (rl, bon)
}

const BON: usize = 0;
const RL: usize = 1;

/// Proxy gain against KL for both methods per RM, with the KL each needs for best-of-n's
/// largest gain, and the ratio against RM size.
pub fn kl_efficiency(inp: &PlotInputs) -> Option<Draft> {
    let e = &inp.analyses?.doc.kl_efficiency;
    if e.skipped.is_some() {
        return None;
    }
    let usable: Vec<&KlEfficiencyRecord> =
        e.records.iter().filter(|r| r.kl_bon.is_some()).collect();
    let g = main_key(usable.iter().map(|r| r.key))?;
    let mut main: Vec<&KlEfficiencyRecord> = usable
        .iter()
        .copied()
        .filter(|r| (r.key.rm_data, r.key.policy_params) == g)
        .collect();
    main.sort_by(|a, b| a.key.rm_params.total_cmp(&b.key.rm_params));
    let (cb, cr) = (theme::category(BON), theme::category(RL));
    let mut panels = Vec::new();
    for r in data::spread(&main, 3) {
        let (Some(rl), Some(bon)) = curves_of(inp.curves, &r.key) else {
            continue;
        };
        let gb = analyses::gains(&analyses::kl_proxy(bon));
        let gr = analyses::gains(&analyses::kl_proxy(rl));
        let mut items = vec![
            Item::line(gb.clone(), cb, 1.4, Dash::Dashed),
            Item::points(gb, cb, Marker::Ring, 2.4),
            Item::line(gr.clone(), cr, 1.4, Dash::Solid),
            Item::points(gr, cr, Marker::Dot, 2.0),
        ];
        if let Some(t) = r.bon_max_proxy_gain {
            items.push(Item::HLine {
                y: t,
                color: theme::MUTED,
                dash: Dash::Dashed,
            });
        }
        for (kl, c) in [(r.kl_bon, cb), (r.kl_rl, cr)] {
            if let Some(x) = kl {
                items.push(Item::VLine {
                    x,
                    color: c,
                    dash: Dash::Dotted,
                });
            }
        }
        panels.push(Panel {
            title: format!(
                "RM {}: KL_RL/KL_BoN = {}",
                theme::si(r.key.rm_params),
                r.ratio
                    .map_or("– (not reached)".to_string(), |x| theme::sig(x, 3))
            ),
            x: Axis::kl(),
            y: Axis::new("proxy gain over kl = 0", Scale::Linear).with_zero(),
            items,
        });
    }
    // the ratio against RM size, one colour per (RM data, policy) group
    let mut groups: Vec<(Option<f64>, Option<f64>)> = Vec::new();
    for r in &e.records {
        let k = (r.key.rm_data, r.key.policy_params);
        if r.ratio.is_some() && !groups.contains(&k) {
            groups.push(k);
        }
    }
    let mut legend = vec![
        LegendEntry {
            swatch: Swatch::LineMarker(cb, Dash::Dashed, Marker::Ring),
            label: "best-of-n".into(),
        },
        LegendEntry {
            swatch: Swatch::LineMarker(cr, Dash::Solid, Marker::Dot),
            label: "RL (no KL penalty)".into(),
        },
        data::style_entry(
            "best-of-n's largest gain",
            Swatch::Line(theme::MUTED, Dash::Dashed),
        ),
    ];
    if e.n_ratios >= 2 {
        let mut items = vec![Item::HLine {
            y: 1.0,
            color: theme::MUTED,
            dash: Dash::Dashed,
        }];
        for (i, k) in groups.iter().enumerate() {
            let col = theme::category(i + 2);
            let mut pts: Vec<(f64, f64)> = e
                .records
                .iter()
                .filter(|r| (r.key.rm_data, r.key.policy_params) == *k)
                .filter_map(|r| Some((r.key.rm_params, r.ratio?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            items.push(Item::line(pts.clone(), col, 1.2, Dash::Solid));
            items.push(Item::points(pts, col, Marker::Square, 2.6));
            legend.push(LegendEntry {
                swatch: Swatch::LineMarker(col, Dash::Solid, Marker::Square),
                label: {
                    let w = group_words(*k);
                    if w.is_empty() { "KL ratio".into() } else { w }
                },
            });
        }
        panels.push(Panel {
            title: "KL_RL / KL_BoN by RM size".into(),
            x: Axis::new("RM parameters", Scale::Log),
            y: Axis::new("KL ratio (RL / best-of-n)", Scale::Linear).with_zero(),
            items,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let mut scene = Scene::new("RL vs best-of-n: KL for the same proxy gain", panels);
    scene.legend = legend;
    let caption = format!(
        "Proxy gain over the kl = 0 score against KL for best-of-n (rings, dashed) and unpenalised RL (dots, solid) of {} RM size(s) ({}); the grey dashed line is the largest gain best-of-n reaches and the dotted verticals the KL each method needs for it (RL's gain made monotone by a running maximum and linearly interpolated in KL). The last panel is KL_RL / KL_BoN against RM size; above 1, RL spends more KL than best-of-n for the same proxy gain (the paper: far more). Median over {}: {}.",
        data::spread(&main, 3).len(),
        group_words(g),
        e.ratio_count_words(),
        e.median_ratio.map_or(
            "– (no RL curve reaches best-of-n's gain)".to_string(),
            |x| { theme::sig(x, 3) }
        )
    );
    Some(Draft {
        name: "kl_efficiency",
        caption,
        scene,
    })
}

/// Validation loss and accuracy against RM size, and the fitted gold peaks against
/// validation loss (the paper's Fig. 5).
pub fn rm_validation(inp: &PlotInputs) -> Option<Draft> {
    let m = &inp.analyses?.doc.reward_models;
    if m.skipped.is_some() || m.records.is_empty() {
        return None;
    }
    let datas: Vec<Option<f64>> = m.groups.iter().map(|g| g.rm_data).collect();
    let col = |d: Option<f64>| theme::category(datas.iter().position(|x| *x == d).unwrap_or(0) + 2);
    let series = |f: fn(&analyses::RewardModelRecord) -> Option<f64>,
                  x: fn(&analyses::RewardModelRecord) -> Option<f64>,
                  marker: Marker,
                  line: bool| {
        let mut items = Vec::new();
        for d in &datas {
            let mut pts: Vec<(f64, f64)> = m
                .records
                .iter()
                .filter(|r| r.rm_data == *d)
                .filter_map(|r| Some((x(r)?, f(r)?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if line {
                items.push(Item::line(pts.clone(), col(*d), 1.2, Dash::Solid));
            }
            items.push(Item::points(pts, col(*d), marker, 2.6));
        }
        items
    };
    let size = |r: &analyses::RewardModelRecord| Some(r.rm_params);
    let mut panels = Vec::new();
    if m.records.iter().any(|r| r.val_loss.is_some()) {
        panels.push(Panel {
            title: "Validation loss".into(),
            x: Axis::new("RM parameters", Scale::Log),
            y: Axis::new("validation loss (nats)", Scale::Linear),
            items: series(|r| r.val_loss, size, Marker::Dot, true),
        });
    }
    if m.records.iter().any(|r| r.val_accuracy.is_some()) {
        panels.push(Panel {
            title: "Validation accuracy".into(),
            x: Axis::new("RM parameters", Scale::Log),
            y: Axis::new("validation accuracy", Scale::Linear),
            items: series(|r| r.val_accuracy, size, Marker::Dot, true),
        });
    }
    let (xname, xv): (&str, fn(&analyses::RewardModelRecord) -> Option<f64>) =
        if m.records.iter().any(|r| r.val_loss.is_some()) {
            ("validation loss (nats)", |r| r.val_loss)
        } else {
            ("validation accuracy", |r| r.val_accuracy)
        };
    // a fitted peak beyond the largest KL of its curve's data is an extrapolation of the fit:
    // drawn hollow (as the peak_vs_rm_params figure rings them): best-of-n a ring instead of a
    // dot, RL an open square instead of a filled diamond
    let mut peak_items = Vec::new();
    for (gain, beyond, solid, hollow) in [
        (
            (|r| r.bon_peak_gain) as fn(&analyses::RewardModelRecord) -> Option<f64>,
            (|r| r.bon_peak_beyond_data) as fn(&analyses::RewardModelRecord) -> Option<bool>,
            Marker::Dot,
            Marker::Ring,
        ),
        (
            |r| r.rl_peak_gain,
            |r| r.rl_peak_beyond_data,
            Marker::Diamond,
            Marker::Square,
        ),
    ] {
        for d in &datas {
            let pts = |ext: bool| -> Vec<(f64, f64)> {
                let mut p: Vec<(f64, f64)> = m
                    .records
                    .iter()
                    .filter(|r| r.rm_data == *d && (beyond(r) == Some(true)) == ext)
                    .filter_map(|r| Some((xv(r)?, gain(r)?)))
                    .collect();
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
                p
            };
            peak_items.push(Item::points(pts(false), col(*d), solid, 2.6));
            peak_items.push(Item::points(pts(true), col(*d), hollow, 3.4));
        }
    }
    panels.push(Panel {
        title: "Fitted gold peak".into(),
        x: Axis::new(xname, Scale::Linear),
        y: Axis::new("peak gold gain over kl = 0", Scale::Linear).with_zero(),
        items: peak_items,
    });
    let mut scene = Scene::new("Reward models: validation metrics and gold peaks", panels);
    scene.legend = datas
        .iter()
        .map(|d| LegendEntry {
            swatch: Swatch::LineMarker(col(*d), Dash::Solid, Marker::Dot),
            label: d.map_or("RMs".to_string(), |d| format!("RM data {}", theme::si(d))),
        })
        .collect();
    scene.legend.push(data::style_entry(
        "best-of-n peak",
        Swatch::Marker(theme::INK, Marker::Dot),
    ));
    scene.legend.push(data::style_entry(
        "RL peak (largest policy per RM)",
        Swatch::Marker(theme::INK, Marker::Diamond),
    ));
    if m.n_bon_peaks_beyond_data > 0 {
        scene.legend.push(data::style_entry(
            "best-of-n peak beyond the data (extrapolated)",
            Swatch::Marker(theme::INK, Marker::Ring),
        ));
    }
    if m.n_rl_peaks_beyond_data > 0 {
        scene.legend.push(data::style_entry(
            "RL peak beyond the data (extrapolated)",
            Swatch::Marker(theme::INK, Marker::Square),
        ));
    }
    let rho = |x: Option<f64>| x.map_or("–".to_string(), |v| theme::sig(v, 2));
    let per: Vec<String> = m
        .groups
        .iter()
        .map(|g| {
            format!(
                "{}: ρ(size, loss) = {} ({} RMs); over the RMs whose fitted peak is inside the data, ρ(loss, best-of-n peak) = {} ({} RMs), ρ(loss, RL peak) = {} ({} RMs); over all fitted peaks, including extrapolated ones, {} ({} RMs) and {} ({} RMs)",
                g.rm_data
                    .map_or("all".to_string(), |d| format!("RM data {}", theme::si(d))),
                rho(g.size_val_loss),
                g.n_size_val_loss,
                rho(g.val_loss_bon_peak_gain_in_data),
                g.n_val_loss_bon_peak_gain_in_data,
                rho(g.val_loss_rl_peak_gain_in_data),
                g.n_val_loss_rl_peak_gain_in_data,
                rho(g.val_loss_bon_peak_gain),
                g.n_val_loss_bon_peak_gain,
                rho(g.val_loss_rl_peak_gain),
                g.n_val_loss_rl_peak_gain
            )
        })
        .collect();
    let missing = |f: fn(&analyses::RewardModelRecord) -> bool| -> Vec<String> {
        m.records
            .iter()
            .filter(|r| f(r))
            .map(|r| theme::si(r.rm_params))
            .collect()
    };
    let (nb, nr) = (
        missing(|r| r.bon_peak_gain.is_none()),
        missing(|r| r.rl_peak_gain.is_none()),
    );
    let none = if nb.is_empty() && nr.is_empty() {
        " Every RM has both fitted peaks.".to_string()
    } else {
        format!(
            " Not drawn, no fitted peak (reasons in the analyses JSON): best-of-n {}; RL {}.",
            if nb.is_empty() {
                "none".into()
            } else {
                nb.join(", ")
            },
            if nr.is_empty() {
                "none".into()
            } else {
                nr.join(", ")
            }
        )
    };
    let beyond = |n: usize, of: usize| {
        format!("{n} of {of} fitted peaks lie beyond the data and are extrapolations")
    };
    let extrapolated = if m.n_bon_peaks_beyond_data + m.n_rl_peaks_beyond_data == 0 {
        " No fitted peak lies beyond the largest KL of its curve's data.".to_string()
    } else {
        format!(
            " Best-of-n: {}. RL: {}. Their KL exceeds the largest KL of their curve's data, so the peak comes from the fitted form, not from the data; they are drawn hollow (rings for best-of-n, open squares for RL).",
            beyond(m.n_bon_peaks_beyond_data, m.n_bon_peaks),
            beyond(m.n_rl_peaks_beyond_data, m.n_rl_peaks)
        )
    };
    let caption = format!(
        "Validation loss and accuracy of each proxy RM (held-out comparisons) against its size, and the fitted peak gold gain of best-of-n (dots) and unpenalised RL (diamonds, the largest policy trained with each RM) against validation loss, one colour per RM data size (the paper's Fig. 5: a lower validation loss goes with a higher gold peak). Spearman correlations: {}.{none}{extrapolated}",
        per.join("; ")
    );
    Some(Draft {
        name: "rm_validation",
        caption,
        scene,
    })
}

/// The simulated iterated-RLHF rounds (gold against the additive distance d_sum, drawn at
/// KL = d_sum²) with the formula R_k(d) from each group's rounds = 1 fit; `None` without them.
pub fn iterated_simulated(inp: &PlotInputs) -> Option<Draft> {
    let a = inp.analyses?;
    let it = &a.doc.iterated_rlhf;
    if it.skipped.is_some() {
        return None;
    }
    let fitted: Vec<&analyses::IteratedFit> = it
        .fits
        .iter()
        .filter(|f| f.alpha.is_some() && f.beta.is_some())
        .collect();
    let g = main_key(fitted.iter().map(|f| f.group.key))?;
    // the smallest penalty of the main group
    let pen = fitted
        .iter()
        .filter(|f| (f.group.key.rm_data, f.group.key.policy_params) == g)
        .map(|f| f.group.kl_penalty.unwrap_or(0.0))
        .fold(f64::INFINITY, f64::min);
    let mut main: Vec<&analyses::IteratedFit> = fitted
        .into_iter()
        .filter(|f| {
            (f.group.key.rm_data, f.group.key.policy_params) == g
                && f.group.kl_penalty.unwrap_or(0.0) == pen
        })
        .collect();
    main.sort_by(|a, b| a.group.key.rm_params.total_cmp(&b.group.key.rm_params));
    let mut ks: Vec<u32> = a.iterated_runs.iter().map(|r| r.rounds).collect();
    ks.sort_unstable();
    ks.dedup();
    let kcol = |k: u32| {
        let i = ks.iter().position(|x| *x == k).unwrap_or(0);
        theme::colormap(if ks.len() > 1 {
            i as f64 / (ks.len() - 1) as f64
        } else {
            0.5
        })
    };
    let mut panels = Vec::new();
    for f in data::spread(&main, 3) {
        let (Some(alpha), Some(beta)) = (f.alpha, f.beta) else {
            continue;
        };
        let base = f.baseline.unwrap_or(0.0);
        let runs: Vec<&analyses::IteratedRun> = a
            .iterated_runs
            .iter()
            .filter(|r| {
                r.key.rm_params == f.group.key.rm_params
                    && r.key.rm_data == f.group.key.rm_data
                    && r.key.policy_params == f.group.key.policy_params
                    && r.key.kl_penalty == f.group.kl_penalty
            })
            .collect();
        let dmax = runs
            .iter()
            .flat_map(|r| r.d_sum.iter().copied())
            .filter(|d| d.is_finite())
            .fold(0.0, f64::max);
        let mut items = Vec::new();
        for r in &runs {
            let c = kcol(r.rounds);
            let pts: Vec<(f64, f64)> = r
                .d_sum
                .iter()
                .zip(&r.gold)
                .filter(|(d, g)| d.is_finite() && g.is_finite())
                .map(|(&d, &g)| (d * d, g))
                .collect();
            items.push(Item::points(pts, c, Marker::Dot, 2.2));
            let k = f64::from(r.rounds);
            let line: Vec<(f64, f64)> = data::kl_grid(dmax * dmax, 120)
                .into_iter()
                .map(|kl| {
                    (
                        kl,
                        analyses::iterated_prediction(alpha, beta, base, k, kl.sqrt()),
                    )
                })
                .collect();
            items.push(Item::line(line, c, 1.8, Dash::Solid));
        }
        panels.push(Panel {
            title: format!("RM {} parameters", theme::si(f.group.key.rm_params)),
            x: Axis::new("d_sum² (nats), square-root scale", Scale::Sqrt),
            y: Axis::new("gold score (RM units)", Scale::Linear),
            items,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let mut scene = Scene::new("Iterated RLHF: simulated rounds vs the formula", panels);
    scene.legend_title = Some("rounds k".into());
    scene.legend = ks
        .iter()
        .map(|&k| LegendEntry {
            swatch: Swatch::LineMarker(kcol(k), Dash::Solid, Marker::Dot),
            label: if k == 1 {
                "k = 1 (fitted)".into()
            } else {
                format!("k = {k}")
            },
        })
        .collect();
    let o = |x: Option<f64>| x.map_or("–".to_string(), |v| theme::sig(v, 3));
    let mut caption = format!(
        "Gold score of simulated iterated-RLHF runs (dots; the proxy retrained on the current policy's comparisons each round) against the paper's additive distance d_sum (the sum of each round's sqrt KL), drawn at d_sum² on a square-root axis, one colour per number of rounds k; lines are the paper's prediction R_k(d) = d(α − β ln d + β ln k) plus the kl = 0 baseline, with α and β fitted to the k = 1 run. Over the k > 1 runs, the median RMSE of simulated against predicted gold is {} and the median final error {}; {}.",
        o(it.median_rmse),
        o(it.median_final_error),
        it.equal_d_sum_summary()
    );
    let w = group_words(g);
    if !w.is_empty() {
        caption.push_str(&format!(" Runs: {w}."));
    }
    Some(Draft {
        name: "iterated_rlhf",
        caption,
        scene,
    })
}
