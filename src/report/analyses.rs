//! The report's sections on `goodhart analyze` ([`crate::analyses`]): one summary table of
//! the five analyses (a skipped one with its reason), then a table per analysis.

use super::tables::{Row, Table};
use crate::analyses::AnalysesDoc;
use crate::format::{fmt_num, g6};

fn o(x: Option<f64>) -> String {
    x.map_or("–".to_string(), g6)
}

fn okey(x: Option<f64>) -> String {
    x.map_or("–".to_string(), fmt_num)
}

fn row(cells: Vec<String>) -> Row {
    Row {
        cells,
        attrs: Vec::new(),
    }
}

fn header(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

/// The analyses' tables, in the order of the summary.
pub fn tables(doc: &AnalysesDoc) -> Vec<Table> {
    let sd = doc.gold_sd_source == "samples";
    let unit = if sd {
        "gold sd of the initial policy"
    } else {
        "gold units (no samples given: no sd)"
    };
    let head = |skipped: &Option<String>, text: String| match skipped {
        Some(why) => format!("skipped: {why}"),
        None => text,
    };
    let e = &doc.kl_efficiency;
    let g = &doc.gold_vs_proxy;
    let m = &doc.reward_models;
    let k = &doc.kl_penalty;
    let it = &doc.iterated_rlhf;
    let mut out = vec![Table {
        id: "analyses",
        title: "Analyses (goodhart analyze)".into(),
        note: "The paper's comparisons of methods and runs; each row's numbers are detailed in the tables below and in the analyses JSON (goodhart analyze --out).".into(),
        header: header(&["analysis", "result"]),
        rows: vec![
            row(vec![
                "RL vs best-of-n KL efficiency".into(),
                head(
                    &e.skipped,
                    format!(
                        "median KL_RL / KL_BoN at the largest proxy gain best-of-n reaches: {} over {}",
                        o(e.median_ratio),
                        e.ratio_count_words()
                    ),
                ),
            ]),
            row(vec![
                "Gold at equal proxy, RL − best-of-n".into(),
                head(
                    &g.skipped,
                    format!(
                        "median over {} of each pair's mean difference over the common proxy range (signed; differences of opposite sign cancel): {} ({unit}); median of each pair's mean |difference|: {} ({unit}); at the top of the range (the largest proxy both reach), median difference {} and median |difference| {} ({unit})",
                        g.compared_count_words(),
                        o(g.medians(sd)[0]),
                        o(g.medians(sd)[1]),
                        o(g.medians(sd)[2]),
                        o(g.medians(sd)[3])
                    ),
                ),
            ]),
            row(vec![
                "Reward models: validation vs size and gold peak".into(),
                head(
                    &m.skipped,
                    m.groups
                        .iter()
                        .map(|g| {
                            format!(
                                "rm_data {}: ρ(size, val loss) = {} ({} RMs); over the RMs whose fitted peak is inside the data: ρ(val loss, best-of-n peak) = {} ({} RMs), ρ(val loss, RL peak) = {} ({} RMs); over all fitted peaks, including extrapolated ones: {} ({} RMs) and {} ({} RMs)",
                                okey(g.rm_data),
                                o(g.size_val_loss),
                                g.n_size_val_loss,
                                o(g.val_loss_bon_peak_gain_in_data),
                                g.n_val_loss_bon_peak_gain_in_data,
                                o(g.val_loss_rl_peak_gain_in_data),
                                g.n_val_loss_rl_peak_gain_in_data,
                                o(g.val_loss_bon_peak_gain),
                                g.n_val_loss_bon_peak_gain,
                                o(g.val_loss_rl_peak_gain),
                                g.n_val_loss_rl_peak_gain
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ]),
            row(vec![
                "KL-penalty frontier".into(),
                head(
                    &k.skipped,
                    format!(
                        "median over the penalised runs of each run's mean distance to the frontier (penalised − unpenalised gold at equal KL): {} ({unit}); median of each run's mean |distance|: {} ({unit}); {} of {} penalised runs end at a smaller KL",
                        o(if sd {
                            k.median_mean_diff_sd
                        } else {
                            k.median_mean_diff
                        }),
                        o(if sd {
                            k.median_mean_abs_diff_sd
                        } else {
                            k.median_mean_abs_diff
                        }),
                        k.n_end_lower,
                        k.n_runs
                    ),
                ),
            ]),
            row(vec![
                "Iterated RLHF vs the formula".into(),
                head(
                    &it.skipped,
                    format!(
                        "k > 1: median RMSE {}, median final error {}; {}",
                        o(it.median_rmse),
                        o(it.median_final_error),
                        it.equal_d_sum_summary()
                    ),
                ),
            ]),
        ],
    }];
    if e.skipped.is_none() || g.skipped.is_none() {
        let rows = e
            .records
            .iter()
            .map(|r| {
                let gp = g.records.iter().find(|x| x.key == r.key);
                row(vec![
                    fmt_num(r.key.rm_params),
                    okey(r.key.rm_data),
                    okey(r.key.policy_params),
                    o(r.bon_max_proxy_gain),
                    o(r.kl_bon),
                    o(r.kl_rl),
                    r.ratio.map_or_else(
                        || format!("– ({})", r.reason.clone().unwrap_or_default()),
                        g6,
                    ),
                    o(gp.and_then(|x| x.mean_diff)),
                    o(gp.and_then(|x| x.mean_diff_sd)),
                ])
            })
            .collect();
        out.push(Table {
            id: "rl-vs-bon",
            title: "RL vs best-of-n per RM".into(),
            note: format!("{} Gold difference: {}", e.method, g.method),
            header: header(&[
                "rm_params",
                "rm_data",
                "policy_params",
                "best-of-n largest proxy gain",
                "KL best-of-n",
                "KL RL",
                "KL_RL / KL_BoN",
                "RL − BoN gold at equal proxy",
                "(gold sd)",
            ]),
            rows,
        });
    }
    if m.skipped.is_none() {
        out.push(Table {
            id: "reward-models",
            title: "Reward models: validation metrics and fitted gold peaks".into(),
            note: format!(
                "Peak: the fitted gold curve's maximum gain over the kl = 0 score (best-of-n; RL unpenalised, of the largest policy trained with that RM, `rl_policy_params` in the JSON); – with the reason when there is none. A peak marked \"beyond the data\" lies beyond the largest KL of its curve's data, where the fit is extrapolated: best-of-n {} of {} fitted peaks, RL {} of {}.",
                m.n_bon_peaks_beyond_data, m.n_bon_peaks, m.n_rl_peaks_beyond_data, m.n_rl_peaks
            ),
            header: header(&[
                "rm_params",
                "rm_data",
                "val loss",
                "val accuracy",
                "best-of-n peak gain",
                "best-of-n peak KL",
                "RL peak gain",
                "RL peak KL",
            ]),
            rows: m
                .records
                .iter()
                .map(|r| {
                    let peak = |v: Option<f64>, why: &Option<String>| match v {
                        Some(v) => g6(v),
                        None => format!("– ({})", why.clone().unwrap_or_default()),
                    };
                    let kl = |v: Option<f64>, beyond: Option<bool>| match beyond {
                        Some(true) => format!("{} (beyond the data)", o(v)),
                        _ => o(v),
                    };
                    row(vec![
                        fmt_num(r.rm_params),
                        okey(r.rm_data),
                        o(r.val_loss),
                        o(r.val_accuracy),
                        peak(r.bon_peak_gain, &r.bon_peak_reason),
                        kl(r.bon_peak_kl, r.bon_peak_beyond_data),
                        peak(r.rl_peak_gain, &r.rl_peak_reason),
                        kl(r.rl_peak_kl, r.rl_peak_beyond_data),
                    ])
                })
                .collect(),
        });
    }
    if k.skipped.is_none() {
        out.push(Table {
            id: "kl-penalty-frontier",
            title: "KL-penalty frontier per penalty".into(),
            note: format!(
                "{} Medians over the RMs and policies of each penalty.",
                k.method
            ),
            header: header(&[
                "kl_penalty",
                "runs",
                "median of the runs' mean distance (gold units)",
                "(gold sd)",
                "median of the runs' mean |distance| (gold units)",
                "(gold sd)",
                "final KL / frontier's",
                "end at a smaller KL",
            ]),
            rows: k
                .per_penalty
                .iter()
                .map(|p| {
                    row(vec![
                        g6(p.kl_penalty),
                        p.n_runs.to_string(),
                        o(p.median_mean_diff),
                        o(p.median_mean_diff_sd),
                        o(p.median_mean_abs_diff),
                        o(p.median_mean_abs_diff_sd),
                        o(p.median_final_kl_ratio),
                        format!("{} of {}", p.n_end_lower, p.n_runs),
                    ])
                })
                .collect(),
        });
    }
    if it.skipped.is_none() {
        out.push(Table {
            id: "iterated-rlhf",
            title: "Iterated RLHF: simulated rounds vs the formula".into(),
            note: it.method.clone(),
            header: header(&[
                "rm_params",
                "rm_data",
                "policy_params",
                "k",
                "final gold",
                "predicted",
                "error",
                "RMSE",
                "gain over k = 1 at equal d_sum",
                "common d_sum",
                "gain over k = 1 there (gold units)",
                "common KL",
                "gain over k = 1 there (gold units)",
            ]),
            rows: it
                .records
                .iter()
                .map(|r| {
                    row(vec![
                        fmt_num(r.group.key.rm_params),
                        okey(r.group.key.rm_data),
                        okey(r.group.key.policy_params),
                        r.rounds.to_string(),
                        o(r.final_gold),
                        r.final_predicted.map_or_else(
                            || format!("– ({})", r.reason.clone().unwrap_or_default()),
                            g6,
                        ),
                        o(r.final_error),
                        o(r.rmse),
                        o(r.gain_over_one_round_at_equal_d_sum),
                        o(r.common_d_sum),
                        o(r.gain_over_one_round_at_common_d_sum),
                        o(r.common_kl),
                        o(r.gain_over_one_round_at_common_kl),
                    ])
                })
                .collect(),
        });
    }
    out
}
