//! The analyses as text: the compact summary `goodhart analyze` prints (one block per
//! analysis), and the flat table of `--csv` (one row per record and quantity).

use std::fmt::Write as _;

use super::AnalysesDoc;
use crate::format::{fmt_num, g6};
use crate::output::{OutColumn, OutTable};

fn o(x: Option<f64>) -> String {
    x.map_or("–".to_string(), g6)
}

/// A flag as a number of the flat table: 1 true, 0 false, empty unknown.
fn flag(b: Option<bool>) -> Option<f64> {
    b.map(|b| if b { 1.0 } else { 0.0 })
}

fn okey(x: Option<f64>) -> String {
    x.map_or("–".to_string(), fmt_num)
}

fn sd_unit(doc: &AnalysesDoc) -> &'static str {
    if doc.gold_sd_source == "samples" {
        "gold sd of the initial policy"
    } else {
        "no samples: gold units only"
    }
}

/// One row of a block: left-aligned cells padded to the widest of their column.
fn block(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(w[i] - c.chars().count())))
            .collect();
        format!("  {}\n", s.join("  ").trim_end())
    };
    out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
}

/// One row per (rm_data, policy_params) group of records: the group, how many RMs, how many
/// have a value, the median value and its range.
fn by_group(records: impl Iterator<Item = (super::RmKey, Option<f64>)>) -> Vec<Vec<String>> {
    type Group = ((Option<f64>, Option<f64>), Vec<Option<f64>>);
    let mut groups: Vec<Group> = Vec::new();
    for (k, v) in records {
        let id = (k.rm_data, k.policy_params);
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((id, vec![v])),
        }
    }
    groups
        .into_iter()
        .map(|((data, policy), vs)| {
            let got: Vec<f64> = vs.iter().flatten().copied().collect();
            let lo = got.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = got.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            vec![
                format!("{}, {}", okey(data), okey(policy)),
                vs.len().to_string(),
                got.len().to_string(),
                o(crate::stats::median(&got)),
                if got.is_empty() {
                    "–".to_string()
                } else {
                    format!("{} – {}", g6(lo), g6(hi))
                },
            ]
        })
        .collect()
}

/// The summary printed on stdout: one block per analysis; a skipped one says why.
pub fn summary(doc: &AnalysesDoc) -> String {
    let mut s = String::new();
    // 1
    let e = &doc.kl_efficiency;
    let _ = writeln!(
        s,
        "RL vs best-of-n KL efficiency (KL for the largest proxy gain best-of-n reaches):"
    );
    match &e.skipped {
        Some(why) => {
            let _ = writeln!(s, "  skipped: {why}");
        }
        None => {
            let rows = by_group(e.records.iter().map(|r| (r.key, r.ratio)));
            block(
                &mut s,
                &[
                    "RM data, policy",
                    "RMs",
                    "with ratio",
                    "median KL_RL/KL_BoN",
                    "range",
                ],
                &rows,
            );
            let _ = writeln!(
                s,
                "  median KL_RL/KL_BoN over {}: {}",
                e.ratio_count_words(),
                o(e.median_ratio)
            );
        }
    }
    // 2
    let g = &doc.gold_vs_proxy;
    let _ = writeln!(
        s,
        "Gold at equal proxy score, RL − best-of-n ({}):",
        sd_unit(doc)
    );
    match &g.skipped {
        Some(why) => {
            let _ = writeln!(s, "  skipped: {why}");
        }
        None => {
            let rows = by_group(g.records.iter().map(|r| {
                (
                    r.key,
                    if doc.gold_sd_source == "samples" {
                        r.mean_diff_sd
                    } else {
                        r.mean_diff
                    },
                )
            }));
            block(
                &mut s,
                &[
                    "RM data, policy",
                    "RMs",
                    "compared",
                    "median mean diff",
                    "range",
                ],
                &rows,
            );
            let _ = writeln!(
                s,
                "  median mean diff: {} gold units, {} sd; median mean |diff|: {} gold units, {} sd",
                o(g.median_mean_diff),
                o(g.median_mean_diff_sd),
                o(g.median_mean_abs_diff),
                o(g.median_mean_abs_diff_sd)
            );
            let _ = writeln!(
                s,
                "  at the top of the common range (the largest proxy both reach): median diff {} gold units, {} sd; median |diff| {} gold units, {} sd; RL below best-of-n in {} of {}",
                o(g.median_diff_at_high),
                o(g.median_diff_at_high_sd),
                o(g.median_abs_diff_at_high),
                o(g.median_abs_diff_at_high_sd),
                g.below_at_high().0,
                g.below_at_high().1
            );
        }
    }
    // 3
    let m = &doc.reward_models;
    let _ = writeln!(
        s,
        "Reward models: validation metrics, size and gold peaks (Spearman within each rm_data):"
    );
    match &m.skipped {
        Some(why) => {
            let _ = writeln!(s, "  skipped: {why}");
        }
        None => {
            let rows: Vec<Vec<String>> = m
                .groups
                .iter()
                .map(|g| {
                    // each correlation with the number of RMs (pairs) it uses
                    let c = |rho: Option<f64>, n: usize| format!("{} ({n})", o(rho));
                    vec![
                        okey(g.rm_data),
                        g.n_rms.to_string(),
                        c(g.size_val_loss, g.n_size_val_loss),
                        c(g.size_val_accuracy, g.n_size_val_accuracy),
                        c(
                            g.val_loss_bon_peak_gain_in_data,
                            g.n_val_loss_bon_peak_gain_in_data,
                        ),
                        c(
                            g.val_loss_rl_peak_gain_in_data,
                            g.n_val_loss_rl_peak_gain_in_data,
                        ),
                        c(g.val_loss_bon_peak_gain, g.n_val_loss_bon_peak_gain),
                        c(g.val_loss_rl_peak_gain, g.n_val_loss_rl_peak_gain),
                    ]
                })
                .collect();
            block(
                &mut s,
                &[
                    "rm_data",
                    "RMs",
                    "size~loss (RMs)",
                    "size~acc (RMs)",
                    "loss~BoN peak in data (RMs)",
                    "loss~RL peak in data (RMs)",
                    "loss~BoN peak, all (RMs)",
                    "loss~RL peak, all (RMs)",
                ],
                &rows,
            );
            let _ = writeln!(
                s,
                "  in brackets: the RMs each correlation uses (those with both values); in data: over the RMs whose fitted peak is inside their curve's data; all: every fitted peak, including those extrapolated beyond the data"
            );
            for g in &m.groups {
                if let Some(note) = &g.in_data_note {
                    let _ = writeln!(s, "  rm_data {}: {note}", okey(g.rm_data));
                }
            }
            let no_bon = m
                .records
                .iter()
                .filter(|r| r.bon_peak_gain.is_none())
                .count();
            let no_rl = m
                .records
                .iter()
                .filter(|r| r.rl_peak_gain.is_none())
                .count();
            let _ = writeln!(
                s,
                "  {} RMs; no best-of-n peak: {no_bon}, no RL peak: {no_rl} (reasons in the JSON)",
                m.records.len()
            );
            let _ = writeln!(
                s,
                "  fitted peaks beyond the data (extrapolations): best-of-n {} of {}, RL {} of {}",
                m.n_bon_peaks_beyond_data, m.n_bon_peaks, m.n_rl_peaks_beyond_data, m.n_rl_peaks
            );
        }
    }
    // 4
    let p = &doc.kl_penalty;
    let _ = writeln!(
        s,
        "KL-penalty frontier: penalised gold − unpenalised gold at equal KL, each run's mean over its points (signed: diff; magnitude: |diff|), medians over runs:"
    );
    match &p.skipped {
        Some(why) => {
            let _ = writeln!(s, "  skipped: {why}");
        }
        None => {
            let rows: Vec<Vec<String>> = p
                .per_penalty
                .iter()
                .map(|q| {
                    vec![
                        g6(q.kl_penalty),
                        q.n_runs.to_string(),
                        o(q.median_mean_diff),
                        o(q.median_mean_diff_sd),
                        o(q.median_mean_abs_diff),
                        o(q.median_mean_abs_diff_sd),
                        o(q.median_final_kl_ratio),
                        format!("{}/{}", q.n_end_lower, q.n_runs),
                    ]
                })
                .collect();
            block(
                &mut s,
                &[
                    "kl_penalty",
                    "runs",
                    "median diff (gold units)",
                    "median diff (gold sd)",
                    "median |diff| (gold units)",
                    "median |diff| (gold sd)",
                    "final KL / frontier's",
                    "end lower",
                ],
                &rows,
            );
            let _ = writeln!(
                s,
                "  all runs: median of the runs' mean diff {} gold units ({} gold sd), median of the runs' mean |diff| {} gold units ({} gold sd); {} of {} end at a smaller KL than their frontier",
                o(p.median_mean_diff),
                o(p.median_mean_diff_sd),
                o(p.median_mean_abs_diff),
                o(p.median_mean_abs_diff_sd),
                p.n_end_lower,
                p.n_runs
            );
        }
    }
    // 5
    let it = &doc.iterated_rlhf;
    let _ = writeln!(
        s,
        "Iterated RLHF: simulated k rounds against R_k(d) = d(α − β ln d + β ln k) (gold units):"
    );
    match &it.skipped {
        Some(why) => {
            let _ = writeln!(s, "  skipped: {why}");
        }
        None => {
            let rows: Vec<Vec<String>> = it
                .records
                .iter()
                .map(|r| {
                    vec![
                        r.group.key.label(),
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
                    ]
                })
                .collect();
            block(
                &mut s,
                &[
                    "RM",
                    "k",
                    "final gold",
                    "predicted",
                    "error",
                    "RMSE",
                    "gain over k=1 at equal d_sum",
                    "common d_sum",
                    "gain there (gold units)",
                    "common KL",
                    "gain there (gold units)",
                ],
                &rows,
            );
            let _ = writeln!(
                s,
                "  k > 1: median RMSE {}, median final error {}; {}",
                o(it.median_rmse),
                o(it.median_final_error),
                it.equal_d_sum_summary()
            );
        }
    }
    s
}

/// The flat table of `--csv`: columns `analysis, rm_params, rm_data, policy_params,
/// kl_penalty, rounds, quantity, value, note`; one row per record and quantity (a skipped
/// analysis is one row whose note is the reason).
pub fn flat_table(doc: &AnalysesDoc) -> OutTable {
    struct Row {
        analysis: &'static str,
        key: [Option<f64>; 5],
        quantity: &'static str,
        value: Option<f64>,
        note: Option<String>,
    }
    let mut rows: Vec<Row> = Vec::new();
    let skip = |rows: &mut Vec<Row>, analysis, why: &Option<String>| {
        if let Some(w) = why {
            rows.push(Row {
                analysis,
                key: [None; 5],
                quantity: "skipped",
                value: None,
                note: Some(w.clone()),
            });
        }
    };
    let push = |rows: &mut Vec<Row>,
                analysis,
                key: [Option<f64>; 5],
                q: &[(&'static str, Option<f64>)],
                note: &Option<String>| {
        for (quantity, value) in q {
            rows.push(Row {
                analysis,
                key,
                quantity,
                value: *value,
                note: note.clone(),
            });
        }
    };
    skip(&mut rows, "kl_efficiency", &doc.kl_efficiency.skipped);
    for r in &doc.kl_efficiency.records {
        let k = [
            Some(r.key.rm_params),
            r.key.rm_data,
            r.key.policy_params,
            None,
            None,
        ];
        push(
            &mut rows,
            "kl_efficiency",
            k,
            &[
                ("bon_max_proxy_gain", r.bon_max_proxy_gain),
                ("kl_bon", r.kl_bon),
                ("kl_rl", r.kl_rl),
                ("ratio", r.ratio),
            ],
            &r.reason,
        );
    }
    skip(&mut rows, "gold_vs_proxy", &doc.gold_vs_proxy.skipped);
    for r in &doc.gold_vs_proxy.records {
        let k = [
            Some(r.key.rm_params),
            r.key.rm_data,
            r.key.policy_params,
            None,
            None,
        ];
        push(
            &mut rows,
            "gold_vs_proxy",
            k,
            &[
                ("mean_diff", r.mean_diff),
                ("mean_abs_diff", r.mean_abs_diff),
                ("max_abs_diff", r.max_abs_diff),
                ("extreme_diff", r.extreme_diff),
                ("mean_diff_sd", r.mean_diff_sd),
                ("mean_abs_diff_sd", r.mean_abs_diff_sd),
                ("diff_at_high", r.diff_at_high),
                ("diff_at_high_sd", r.diff_at_high_sd),
            ],
            &r.reason,
        );
    }
    skip(&mut rows, "reward_models", &doc.reward_models.skipped);
    for r in &doc.reward_models.records {
        let k = [Some(r.rm_params), r.rm_data, None, None, None];
        push(
            &mut rows,
            "reward_models",
            k,
            &[
                ("val_loss", r.val_loss),
                ("val_accuracy", r.val_accuracy),
                ("bon_peak_gain", r.bon_peak_gain),
                ("bon_peak_beyond_data", flag(r.bon_peak_beyond_data)),
                ("rl_peak_gain", r.rl_peak_gain),
                ("rl_peak_beyond_data", flag(r.rl_peak_beyond_data)),
            ],
            &None,
        );
    }
    skip(&mut rows, "kl_penalty", &doc.kl_penalty.skipped);
    for r in &doc.kl_penalty.records {
        let k = [
            Some(r.key.rm_params),
            r.key.rm_data,
            r.key.policy_params,
            Some(r.kl_penalty),
            None,
        ];
        push(
            &mut rows,
            "kl_penalty",
            k,
            &[
                ("mean_diff", r.mean_diff),
                ("mean_abs_diff", r.mean_abs_diff),
                ("max_abs_diff", r.max_abs_diff),
                ("extreme_diff", r.extreme_diff),
                ("mean_diff_sd", r.mean_diff_sd),
                ("mean_abs_diff_sd", r.mean_abs_diff_sd),
                ("final_kl", r.final_kl),
                ("frontier_final_kl", r.frontier_final_kl),
            ],
            &r.reason,
        );
    }
    skip(&mut rows, "iterated_rlhf", &doc.iterated_rlhf.skipped);
    for r in &doc.iterated_rlhf.records {
        let k = [
            Some(r.group.key.rm_params),
            r.group.key.rm_data,
            r.group.key.policy_params,
            r.group.kl_penalty,
            Some(f64::from(r.rounds)),
        ];
        push(
            &mut rows,
            "iterated_rlhf",
            k,
            &[
                ("final_d_sum", r.final_d_sum),
                ("final_gold", r.final_gold),
                ("final_predicted", r.final_predicted),
                ("final_error", r.final_error),
                ("rmse", r.rmse),
                (
                    "one_round_gold_at_final_d_sum",
                    r.one_round_gold_at_final_d_sum,
                ),
                (
                    "gain_over_one_round_at_equal_d_sum",
                    r.gain_over_one_round_at_equal_d_sum,
                ),
                ("common_d_sum", r.common_d_sum),
                ("gold_at_common_d_sum", r.gold_at_common_d_sum),
                (
                    "one_round_gold_at_common_d_sum",
                    r.one_round_gold_at_common_d_sum,
                ),
                (
                    "gain_over_one_round_at_common_d_sum",
                    r.gain_over_one_round_at_common_d_sum,
                ),
                ("common_kl", r.common_kl),
                ("gold_at_common_kl", r.gold_at_common_kl),
                ("one_round_gold_at_common_kl", r.one_round_gold_at_common_kl),
                (
                    "gain_over_one_round_at_common_kl",
                    r.gain_over_one_round_at_common_kl,
                ),
            ],
            &r.reason.clone().or(r.gain_note.clone()),
        );
    }
    let mut t = OutTable::default();
    t.push(
        "analysis",
        OutColumn::Text(rows.iter().map(|r| Some(r.analysis.to_string())).collect()),
    );
    for (i, name) in [
        "rm_params",
        "rm_data",
        "policy_params",
        "kl_penalty",
        "rounds",
    ]
    .iter()
    .enumerate()
    {
        t.push(
            name,
            OutColumn::Number(rows.iter().map(|r| r.key[i]).collect()),
        );
    }
    t.push(
        "quantity",
        OutColumn::Text(rows.iter().map(|r| Some(r.quantity.to_string())).collect()),
    );
    t.push(
        "value",
        OutColumn::Number(rows.iter().map(|r| r.value).collect()),
    );
    t.push(
        "note",
        OutColumn::Text(rows.iter().map(|r| r.note.clone()).collect()),
    );
    t
}

/// One line per analysis: its headline number, or why it was skipped (the demo prints these).
pub fn headlines(doc: &AnalysesDoc) -> Vec<String> {
    let sd = doc.gold_sd_source == "samples";
    let unit = if sd { "gold sd" } else { "gold units" };
    let line = |name: &str, skipped: &Option<String>, text: String| match skipped {
        Some(why) => format!("{name}: skipped ({why})"),
        None => format!("{name}: {text}"),
    };
    let (e, g, m, k, it) = (
        &doc.kl_efficiency,
        &doc.gold_vs_proxy,
        &doc.reward_models,
        &doc.kl_penalty,
        &doc.iterated_rlhf,
    );
    vec![
        line(
            "KL efficiency",
            &e.skipped,
            format!(
                "median KL_RL/KL_BoN {} over {} (at the largest proxy gain best-of-n reaches)",
                o(e.median_ratio),
                e.ratio_count_words()
            ),
        ),
        line(
            "gold at equal proxy",
            &g.skipped,
            format!(
                "median RL − best-of-n {} {unit} (apart by {} whatever the sign) over {}; at the top of the common proxy range {} {unit} (apart by {})",
                o(g.medians(sd)[0]),
                o(g.medians(sd)[1]),
                g.compared_count_words(),
                o(g.medians(sd)[2]),
                o(g.medians(sd)[3])
            ),
        ),
        line(
            "reward models",
            &m.skipped,
            m.groups
                .iter()
                .map(|g| {
                    format!(
                        "rm_data {}: Spearman(size, val loss) {}, (val loss, best-of-n peak) {} over {} RMs whose peak is inside the data, (val loss, RL peak) {} over {}",
                        okey(g.rm_data),
                        o(g.size_val_loss),
                        o(g.val_loss_bon_peak_gain_in_data),
                        g.n_val_loss_bon_peak_gain_in_data,
                        o(g.val_loss_rl_peak_gain_in_data),
                        g.n_val_loss_rl_peak_gain_in_data
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        line(
            "KL-penalty frontier",
            &k.skipped,
            format!(
                "median over the penalised runs of each run's mean distance to the frontier {} {unit}, of each run's mean |distance| {} {unit}; {} of {} penalised runs end at a smaller KL",
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
        line(
            "iterated RLHF",
            &it.skipped,
            format!(
                "k > 1: median RMSE {} against the formula; {}",
                o(it.median_rmse),
                it.equal_d_sum_summary()
            ),
        ),
    ]
}
