//! The middle of a log's conversion: its points merged per step and read as rows (with what
//! was skipped and why), the table's one KL unit, gold joined from a separate file, and the
//! checks that the rows can be fitted.

use std::collections::HashMap;

use super::{Log, LogInfo, LogKeys, Row};
use crate::error::{Error, Result};
use crate::format::fmt_num;
use crate::ingest::KlUnit;
use crate::ingest::adapters::gold_join::{self, LogStep};
use crate::ingest::adapters::kl_units::{UnitTag, default_unit};
use crate::ingest::adapters::meta::{self, Sidecar};
use crate::ingest::adapters::{LogPoint, keys};

/// Merges the points of one (run, step): TRL logs train and eval entries of a step apart. A
/// value logged twice with different values keeps the later one (and is noted); without a step
/// key the points are left as they are.
pub(super) fn merge_steps(
    points: Vec<LogPoint>,
    step_key: Option<&str>,
    info: &mut LogInfo,
) -> Vec<LogPoint> {
    let Some(sk) = step_key else {
        return points;
    };
    let mut merged: Vec<LogPoint> = Vec::new();
    let mut index: HashMap<(Option<String>, u64), usize> = HashMap::new();
    let mut conflicts = 0usize;
    for p in points {
        let Some(step) = p.values.get(sk).copied() else {
            merged.push(p);
            continue;
        };
        match index.get(&(p.run.clone(), step.to_bits())) {
            Some(&i) => {
                for (key, v) in p.values {
                    if let Some(old) = merged[i].values.insert(key, v)
                        && old.to_bits() != v.to_bits()
                    {
                        conflicts += 1;
                    }
                }
            }
            None => {
                index.insert((p.run.clone(), step.to_bits()), merged.len());
                merged.push(p);
            }
        }
    }
    if conflicts > 0 {
        info.notes.push(format!(
            "{conflicts} value(s) logged twice at the same step with different values: the later one is used"
        ));
    }
    merged
}

/// The sidecar metadata file (`--meta`, or `<log>.goodhart.json` when it exists), if any.
pub(super) fn load_sidecar(log: &Log, info: &mut LogInfo) -> Result<Option<Sidecar>> {
    match meta::sidecar_path(log.path, log.opts) {
        Some(p) => {
            let s = meta::load(&p)?;
            info.notes
                .push(format!("metadata from the sidecar {}", p.display()));
            Ok(Some(s))
        }
        None => Ok(None),
    }
}

/// Points that did not become rows, by reason.
#[derive(Default)]
pub(super) struct Skipped {
    /// Entries without the KL key (evaluation or summary entries).
    no_kl: usize,
    /// Points without the gold key of the log.
    no_gold: usize,
    /// Per-token points without the response-length key that converts their KL.
    no_length: usize,
    /// Points dropped for a non-finite value in a used key...
    non_finite: usize,
    /// ... and how often each key had one, in order of first appearance.
    non_finite_keys: Vec<(String, usize)>,
    /// Points dropped for negative KL, and the lowest such KL (0 when none).
    negative: (usize, f64),
}

/// The points read as rows, with each run's KL unit and what was skipped.
pub(super) struct ReadRows {
    pub(super) rows: Vec<Row>,
    /// The KL unit of each run, in order of first appearance.
    pub(super) units: Vec<(Option<String>, KlUnit)>,
    pub(super) skipped: Skipped,
}

/// Reads each point as a row: skips entries without KL or gold, drops (and counts) points
/// with non-finite values or negative KL, resolves each run's metadata (flags over sidecar)
/// and KL unit, and multiplies per-token KL by the length key when there is one. A KL unit
/// that neither the metadata nor the key's name tells is an error.
pub(super) fn read_rows(
    log: &Log,
    lk: &LogKeys,
    points: &[LogPoint],
    sidecar: Option<&Sidecar>,
    unit_reason: &mut Option<String>,
) -> Result<ReadRows> {
    let kl_key = &lk.kl;
    let mut rows: Vec<Row> = Vec::new();
    let mut skipped = Skipped::default();
    let mut units: Vec<(Option<String>, KlUnit)> = Vec::new();
    for p in points {
        let Some(kl) = p.values.get(kl_key).copied() else {
            skipped.no_kl += 1;
            continue;
        };
        let gold_in_log = lk.gold.as_ref().map(|g| p.values.get(g).copied());
        if let Some(None) = gold_in_log {
            skipped.no_gold += 1;
            continue;
        }
        let run = p.run.clone();
        let m = meta::resolve(&log.opts.meta, sidecar, run.as_deref());
        let unit = match m.kl_unit {
            Some(u) => u,
            None => match default_unit(log.format, kl_key, log.avail) {
                Some((u, why)) => {
                    if unit_reason.is_none() {
                        *unit_reason = Some(why);
                    }
                    u
                }
                None => {
                    return Err(Error::Usage(format!(
                        "{}: cannot tell whether KL key '{kl_key}' is KL per sequence (summed over tokens, as TRL PPO logs it) or per token (a mean, as TRL GRPO/RLOO and OpenRLHF log it): no key logged beside it says which trainer wrote the log; give --kl-unit sequence|token (or \"kl_unit\" in the sidecar or the runs manifest)",
                        log.source
                    )));
                }
            },
        };
        fn get<'a>(p: &LogPoint, key: &'a Option<String>) -> Option<(&'a String, f64)> {
            key.as_ref().and_then(|k| p.values.get(k).map(|v| (k, *v)))
        }
        let get = |key| get(p, key);
        let length = if unit == KlUnit::Token {
            &lk.length
        } else {
            &None
        };
        if length.is_some() && get(length).is_none() {
            skipped.no_length += 1;
            continue;
        }
        let mut bad: Vec<&String> = Vec::new();
        for (key, v) in [
            Some((kl_key, kl)),
            get(&lk.proxy),
            get(&lk.step),
            get(length),
            get(&lk.gold),
        ]
        .into_iter()
        .flatten()
        {
            if !v.is_finite() {
                bad.push(key);
            }
        }
        if !bad.is_empty() {
            skipped.non_finite += 1;
            for key in bad {
                match skipped.non_finite_keys.iter_mut().find(|(k, _)| k == key) {
                    Some((_, n)) => *n += 1,
                    None => skipped.non_finite_keys.push((key.clone(), 1)),
                }
            }
            continue;
        }
        if kl < 0.0 {
            skipped.negative.0 += 1;
            skipped.negative.1 = skipped.negative.1.min(kl);
            continue;
        }
        if !units.iter().any(|(r, _)| *r == run) {
            units.push((run.clone(), unit));
        }
        let mut kl = kl;
        if let Some(len) = get(length) {
            kl *= len.1;
        }
        rows.push(Row {
            run: run.or_else(|| m.run.clone()),
            step: get(&lk.step).map(|(_, s)| s),
            kl,
            proxy: get(&lk.proxy).map(|(_, x)| x),
            gold: gold_in_log.flatten().unwrap_or(f64::NAN),
            meta: m,
        });
    }
    Ok(ReadRows {
        rows,
        units,
        skipped,
    })
}

/// Warns about dropped points (non-finite values, negative KL) and notes the entries that are
/// not points (no KL, no gold).
pub(super) fn note_skipped(info: &mut LogInfo, log: &Log, lk: &LogKeys, skipped: &Skipped) {
    let (source, kl_key) = (log.source, &lk.kl);
    if skipped.non_finite > 0 {
        info.warnings.push(format!(
            "{source}: {} point(s) dropped for non-finite values (NaN/Infinity) in {}",
            skipped.non_finite,
            count_list(&skipped.non_finite_keys)
        ));
    }
    if skipped.negative.0 > 0 {
        info.warnings.push(format!(
            "{source}: {} point(s) dropped for negative KL in '{kl_key}' (estimator noise; lowest {})",
            skipped.negative.0,
            fmt_num(skipped.negative.1)
        ));
    }
    if skipped.no_length > 0 {
        info.warnings.push(format!(
            "{source}: {} point(s) dropped: their KL is per token and they lack the response-length key '{}' that converts it",
            skipped.no_length,
            lk.length.as_deref().unwrap_or("")
        ));
    }
    if skipped.no_kl > 0 {
        info.notes.push(format!(
            "{} entr(ies) without '{kl_key}' (evaluation or summary entries) are not points",
            skipped.no_kl
        ));
    }
    if skipped.no_gold > 0 {
        info.notes.push(format!(
            "{} point(s) without the gold key '{}' are not points",
            skipped.no_gold,
            lk.gold.as_deref().unwrap_or("")
        ));
    }
}

/// The KL unit of the table, one per table (runs in different units are an error): per-token
/// KL converted with a length key is tagged as approximate per-sequence KL, and per-token KL
/// without one is fitted as such, with a warning either way.
pub(super) fn unit_tag(
    info: &mut LogInfo,
    log: &Log,
    lk: &LogKeys,
    units: &[(Option<String>, KlUnit)],
) -> Result<UnitTag> {
    let (source, kl_key) = (log.source, &lk.kl);
    let distinct: Vec<KlUnit> = units.iter().fold(Vec::new(), |mut v, (_, u)| {
        if !v.contains(u) {
            v.push(*u);
        }
        v
    });
    if distinct.len() > 1 {
        let list: Vec<String> = units
            .iter()
            .map(|(r, u)| format!("run '{}': {}", r.as_deref().unwrap_or(""), u.name()))
            .collect();
        return Err(Error::MixedKlUnits {
            detail: format!("{source}: {}", list.join("; ")),
        });
    }
    Ok(match (distinct.first(), &lk.length) {
        (Some(KlUnit::Token), Some(l)) => {
            let how = if lk.length_given {
                "--length-key".to_string()
            } else {
                format!(
                    "found in the log; --length-key names another key, --kl-unit sequence if '{kl_key}' is already per sequence"
                )
            };
            info.warnings.push(format!(
                "{source}: '{kl_key}' is per-token KL; converted to per-sequence KL as {kl_key} x '{l}' ({how}; approximate: the mean of a product is not the product of the means)"
            ));
            info.picked[0].1 = format!("{kl_key} x {l} (per-token KL x mean length)");
            UnitTag::SequenceFromTokens
        }
        (Some(KlUnit::Token), None) => {
            info.warnings.push(format!(
                "{source}: '{kl_key}' is per-token KL and the log has no response-length key ({}) to convert it: it is fitted in nats per token (give --length-key KEY to convert); its coefficients are not comparable with per-sequence fits",
                keys::LENGTH_KEYS.join(", ")
            ));
            info.picked[0].1 = format!("{kl_key} (nats per token)");
            UnitTag::Token
        }
        // a length key found in the log (not given) has nothing to convert: per sequence already
        (Some(KlUnit::Sequence), Some(l)) if lk.length_given => {
            return Err(Error::Usage(format!(
                "{source}: --length-key {l} converts per-token KL, but '{kl_key}' is KL per sequence already (its known unit, or --kl-unit sequence)"
            )));
        }
        _ => UnitTag::Sequence,
    })
}

/// Gold from a separate file (`--gold-from`): each gold evaluation is joined to a row's step,
/// and the rows become the joined pairs (rows no evaluation reaches are noted and left out).
/// Without `--gold-from` the rows are returned as they are.
pub(super) fn join_gold(
    info: &mut LogInfo,
    log: &Log,
    lk: &LogKeys,
    rows: Vec<Row>,
    first_steps: &[(Option<String>, f64)],
) -> Result<Vec<Row>> {
    let (Some(g), Some(gpath)) = (&lk.gold_file, &log.opts.gold_from) else {
        return Ok(rows);
    };
    let steps: Vec<LogStep> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.step.map(|s| LogStep {
                index: i,
                run: r.run.clone(),
                step: s,
            })
        })
        .collect();
    let joined = gold_join::join(
        std::path::Path::new(log.source),
        gpath,
        &steps,
        first_steps,
        g,
        log.opts.join_tolerance,
    )?;
    info.warnings.extend(joined.warnings);
    info.notes.extend(joined.notes);
    if !joined.other_runs.is_empty() && !log.opts.from_manifest {
        let n: usize = joined.other_runs.iter().map(|(_, n)| n).sum();
        let shown: Vec<&str> = joined
            .other_runs
            .iter()
            .take(5)
            .map(|(r, _)| r.as_str())
            .collect();
        let more = if joined.other_runs.len() > 5 {
            ", ..."
        } else {
            ""
        };
        info.warnings.push(format!(
            "{}: {n} gold evaluation(s) of {} other run(s) ({}{more}) are not joined to {}",
            gpath.display(),
            joined.other_runs.len(),
            shown.join(", "),
            log.source
        ));
    }
    let used = joined.pairs.iter().filter(|(i, _)| i.is_some()).count();
    let unused = rows.len().saturating_sub(used);
    if unused > 0 {
        info.notes.push(format!(
            "{unused} logged step(s) have no gold evaluation and are not points"
        ));
    }
    let mut new_rows = Vec::with_capacity(joined.pairs.len());
    for (i, gr) in joined.pairs {
        let r = match i {
            Some(i) => &rows[i],
            // A baseline: the run's metadata, KL 0, no proxy.
            None => rows
                .iter()
                .find(|r| gr.run.is_none() || r.run == gr.run || r.run.is_none())
                .unwrap_or(&rows[0]),
        };
        new_rows.push(Row {
            run: r.run.clone(),
            step: Some(gr.step),
            kl: if i.is_some() { r.kl } else { 0.0 },
            proxy: if i.is_some() { r.proxy } else { None },
            gold: gr.gold,
            meta: r.meta.clone(),
        });
    }
    Ok(new_rows)
}

/// Refuses a log with no usable point (saying why the `n_points` entries were not), and a row
/// whose proxy RM size is not known (pointing at the sidecar to give it in).
pub(super) fn check_rows(
    log: &Log,
    lk: &LogKeys,
    rows: &[Row],
    n_points: usize,
    skipped: &Skipped,
) -> Result<()> {
    let (source, kl_key) = (log.source, &lk.kl);
    if rows.is_empty() {
        return Err(Error::Analysis(format!(
            "{source}: no usable points ({n_points} entries; {} without '{kl_key}', {} non-finite, {} negative KL)",
            skipped.no_kl, skipped.non_finite, skipped.negative.0
        )));
    }
    let path = log.path;
    let sidecar_hint = meta::sidecar_path(path, log.opts)
        .unwrap_or_else(|| {
            let mut n = path.file_name().unwrap_or_default().to_os_string();
            n.push(".goodhart.json");
            path.with_file_name(n)
        })
        .display()
        .to_string();
    for r in rows {
        if r.meta.rm_params.is_none() {
            return Err(Error::Usage(format!(
                "{source}: the log does not say the proxy RM's size: give --rm-params N (or \"rm_params\" in the sidecar {sidecar_hint}){}",
                r.run
                    .as_ref()
                    .map(|x| format!(" for run '{x}'"))
                    .unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// Notes runs that share every curve key (method, rm_params, kl_penalty, policy_params,
/// rm_data): they are pooled into one curve as replicates.
pub(super) fn note_replicates(info: &mut LogInfo, rows: &[Row]) {
    let mut by_key: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows {
        let Some(run) = &r.run else { continue };
        let key = format!(
            "{:?}/{:?}/{:?}/{:?}/{:?}",
            r.meta.method,
            r.meta.rm_params,
            r.meta.kl_penalty,
            r.meta.policy_params,
            r.meta.rm_data
        );
        match by_key.iter_mut().find(|(k, _)| *k == key) {
            Some((_, runs)) if !runs.contains(run) => runs.push(run.clone()),
            Some(_) => {}
            None => by_key.push((key, vec![run.clone()])),
        }
    }
    for (_, runs) in by_key.iter().filter(|(_, r)| r.len() > 1) {
        // a warning, not a note: pooling runs of different RMs under one --rm-params would
        // otherwise fit two laws as one without a word
        info.warnings.push(format!(
            "runs {} share method, rm_params, kl_penalty, policy_params and rm_data: they are replicates of one curve and are fitted together (give them different values in the sidecar's \"runs\" to fit them apart)",
            runs.join(", ")
        ));
    }
}

/// `key n, key n, ...` for a message.
fn count_list(counts: &[(String, usize)]) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
