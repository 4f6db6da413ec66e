//! A trainer log's points to the canonical Curves [`Table`]: keys mapped to `kl`, `proxy`,
//! `gold`, `step`; points of one (run, step) merged; non-finite and negative-KL points dropped
//! and counted; metadata added per run; KL units converted or tagged; gold joined from a
//! separate file when asked.

use std::collections::HashMap;

use super::detect::Detection;
use super::gold_join::{self, LogStep};
use super::kl_units::{UnitTag, default_unit};
use super::{LoadedTable, LogRecords, keys, meta};
use crate::error::{Error, Result};
use crate::ingest::{
    ColumnData, ColumnMapping, Format, KlUnit, LabelColumn, LogFormat, LogOptions, Table,
};
use crate::schema::{Method, fmt_num};

/// How an input was read, for `inspect` and for warnings.
#[derive(Debug, Clone)]
pub struct LogInfo {
    /// The input path(s), for messages.
    pub source: String,
    pub detection: Detection,
    /// Every key the log has.
    pub keys: Vec<String>,
    /// Columns read but not used, and why.
    pub ignored: Vec<String>,
    /// Canonical column <- where it came from (a key, a flag, the sidecar).
    pub picked: Vec<(&'static str, String)>,
    /// Things that changed the data (dropped points, approximate units): printed on stderr.
    pub warnings: Vec<String>,
    /// Things to know.
    pub notes: Vec<String>,
}

impl LogInfo {
    /// The info of a tidy table (its columns map by name).
    pub fn tidy(table: &Table, detection: Detection) -> LogInfo {
        LogInfo {
            source: table.path.display().to_string(),
            detection,
            keys: table.source_columns.clone(),
            ignored: Vec::new(),
            picked: Vec::new(),
            warnings: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// One row of the Curves table being built.
struct Row {
    run: Option<String>,
    step: Option<f64>,
    kl: f64,
    proxy: Option<f64>,
    gold: f64,
    meta: crate::ingest::RunMeta,
}

fn count_list(counts: &[(String, usize)]) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Converts a trainer log into a Curves table.
pub fn convert(
    records: LogRecords,
    detection: Detection,
    opts: &LogOptions,
) -> Result<LoadedTable> {
    let path = records.paths.first().cloned().unwrap_or_default();
    let source = records.display();
    let format = records.format;
    let avail = &records.keys;
    let mut info = LogInfo {
        source: source.clone(),
        detection,
        keys: records.keys.clone(),
        ignored: records.ignored.clone(),
        picked: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
    };
    let k = &opts.keys;
    let kl_key = keys::resolve(
        &path,
        avail,
        "--kl-key",
        k.kl.as_deref(),
        keys::default_kl(format),
    )?
    .ok_or_else(|| {
        keys::unknown_key(
            &path,
            "--kl-key (default)",
            &keys::default_kl(format).join("' or '"),
            avail,
        )
    })?;
    let proxy_key = keys::resolve(
        &path,
        avail,
        "--proxy-key",
        k.proxy.as_deref(),
        keys::default_proxy(format),
    )?;
    let step_key = keys::resolve(
        &path,
        avail,
        "--step-key",
        k.step.as_deref(),
        keys::default_step(format),
    )?;
    let length_key = match &k.length {
        Some(l) => keys::resolve(&path, avail, "--length-key", Some(l), &[])?,
        None => None,
    };
    let gold_file = match &opts.gold_from {
        Some(g) => Some(gold_join::read(g, k.gold.as_deref())?),
        None => None,
    };
    let gold_key = match (&gold_file, &k.gold) {
        (Some(_), _) => None,
        (None, Some(g)) => keys::resolve(&path, avail, "--gold-key", Some(g), &[])?,
        (None, None) => {
            return Err(Error::NoGold {
                path: path.clone(),
                keys: avail.join(", "),
            });
        }
    };
    if gold_file.is_some() && step_key.is_none() {
        return Err(keys::unknown_key(
            &path,
            "--step-key (needed to join --gold-from)",
            &keys::default_step(format).join("' or '"),
            avail,
        ));
    }
    info.picked.push(("kl", kl_key.clone()));
    if let Some(p) = &proxy_key {
        info.picked.push(("proxy", p.clone()));
    }
    match (&gold_file, &gold_key) {
        (Some(g), _) => info.picked.push((
            "gold",
            format!(
                "'{}' of {} (--gold-from, joined on '{}')",
                g.gold_key,
                opts.gold_from.as_deref().unwrap_or(&path).display(),
                g.step_key
            ),
        )),
        (None, Some(g)) => info.picked.push(("gold", g.clone())),
        _ => {}
    }
    if let Some(s) = &step_key {
        info.picked.push(("step", s.clone()));
    }

    // Merge the points of one (run, step): TRL logs train and eval entries of a step apart.
    let mut points = records.points;
    if let Some(sk) = &step_key {
        let mut merged: Vec<super::LogPoint> = Vec::new();
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
        points = merged;
    }

    // Sidecar metadata.
    let sidecar = match meta::sidecar_path(&path, opts) {
        Some(p) => {
            let s = meta::load(&p)?;
            info.notes
                .push(format!("metadata from the sidecar {}", p.display()));
            Some(s)
        }
        None => None,
    };

    let mut rows: Vec<Row> = Vec::new();
    let mut no_kl = 0usize;
    let mut no_gold = 0usize;
    let mut non_finite: Vec<(String, usize)> = Vec::new();
    let mut dropped_non_finite = 0usize;
    let mut negative = (0usize, 0.0f64);
    let mut units: Vec<(Option<String>, KlUnit)> = Vec::new();
    for p in &points {
        let Some(kl) = p.values.get(&kl_key).copied() else {
            no_kl += 1;
            continue;
        };
        let gold_in_log = gold_key.as_ref().map(|g| p.values.get(g).copied());
        if let Some(None) = gold_in_log {
            no_gold += 1;
            continue;
        }
        fn get<'a>(p: &super::LogPoint, key: &'a Option<String>) -> Option<(&'a String, f64)> {
            key.as_ref().and_then(|k| p.values.get(k).map(|v| (k, *v)))
        }
        let get = |key| get(p, key);
        let mut bad: Vec<&String> = Vec::new();
        for (key, v) in [
            Some((&kl_key, kl)),
            get(&proxy_key),
            get(&step_key),
            get(&length_key),
            get(&gold_key),
        ]
        .into_iter()
        .flatten()
        {
            if !v.is_finite() {
                bad.push(key);
            }
        }
        if !bad.is_empty() {
            dropped_non_finite += 1;
            for key in bad {
                match non_finite.iter_mut().find(|(k, _)| k == key) {
                    Some((_, n)) => *n += 1,
                    None => non_finite.push((key.clone(), 1)),
                }
            }
            continue;
        }
        if kl < 0.0 {
            negative.0 += 1;
            negative.1 = negative.1.min(kl);
            continue;
        }
        let run = p.run.clone();
        let m = meta::resolve(&opts.meta, sidecar.as_ref(), run.as_deref());
        let unit = match m.kl_unit.or_else(|| default_unit(format, &kl_key)) {
            Some(u) => u,
            None => {
                return Err(Error::Usage(format!(
                    "{source}: cannot tell whether KL key '{kl_key}' is KL per sequence (summed over tokens) or per token (mean): give --kl-unit sequence|token (or \"kl_unit\" in the sidecar)"
                )));
            }
        };
        if !units.iter().any(|(r, _)| *r == run) {
            units.push((run.clone(), unit));
        }
        let mut kl = kl;
        if unit == KlUnit::Token
            && let Some(len) = get(&length_key)
        {
            kl *= len.1;
        }
        rows.push(Row {
            run: run.or_else(|| m.run.clone()),
            step: get(&step_key).map(|(_, s)| s),
            kl,
            proxy: get(&proxy_key).map(|(_, x)| x),
            gold: gold_in_log.flatten().unwrap_or(f64::NAN),
            meta: m,
        });
    }
    if dropped_non_finite > 0 {
        info.warnings.push(format!(
            "{source}: {dropped_non_finite} point(s) dropped for non-finite values (NaN/Infinity) in {}",
            count_list(&non_finite)
        ));
    }
    if negative.0 > 0 {
        info.warnings.push(format!(
            "{source}: {} point(s) dropped for negative KL in '{kl_key}' (estimator noise; lowest {})",
            negative.0,
            fmt_num(negative.1)
        ));
    }
    if no_kl > 0 {
        info.notes.push(format!(
            "{no_kl} entr(ies) without '{kl_key}' (evaluation or summary entries) are not points"
        ));
    }
    if no_gold > 0 {
        info.notes.push(format!(
            "{no_gold} point(s) without the gold key '{}' are not points",
            gold_key.as_deref().unwrap_or("")
        ));
    }

    // KL unit: one per table.
    let unit_tag = {
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
        match (distinct.first(), &length_key) {
            (Some(KlUnit::Token), Some(l)) => {
                info.warnings.push(format!(
                    "{source}: '{kl_key}' is per-token KL; converted to per-sequence KL as {kl_key} x '{l}' (approximate: the mean of a product is not the product of the means)"
                ));
                info.picked[0].1 = format!("{kl_key} x {l} (per-token KL x mean length)");
                UnitTag::SequenceFromTokens
            }
            (Some(KlUnit::Token), None) => {
                let hint = keys::LENGTH_HINTS
                    .iter()
                    .find_map(|h| keys::find(avail, h))
                    .map(|h| format!(", e.g. --length-key {h}"))
                    .unwrap_or_default();
                info.warnings.push(format!(
                    "{source}: '{kl_key}' is per-token KL and is fitted as such (not converted: give --length-key{hint}); its coefficients are not comparable with per-sequence fits"
                ));
                UnitTag::Token
            }
            _ => UnitTag::Sequence,
        }
    };

    // Gold from a separate file.
    if let (Some(g), Some(gpath)) = (&gold_file, &opts.gold_from) {
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
        let joined = gold_join::join(&path, gpath, &steps, g, opts.join_tolerance)?;
        info.warnings.extend(joined.warnings);
        let unused = rows.len().saturating_sub(joined.pairs.len());
        if unused > 0 {
            info.notes.push(format!(
                "{unused} logged step(s) have no gold evaluation and are not points"
            ));
        }
        let mut new_rows = Vec::with_capacity(joined.pairs.len());
        for (i, gr) in joined.pairs {
            let r = &rows[i];
            new_rows.push(Row {
                run: r.run.clone(),
                step: Some(gr.step),
                kl: r.kl,
                proxy: r.proxy,
                gold: gr.gold,
                meta: r.meta.clone(),
            });
        }
        rows = new_rows;
    }

    if rows.is_empty() {
        return Err(Error::Analysis(format!(
            "{source}: no usable points ({} entries; {no_kl} without '{kl_key}', {dropped_non_finite} non-finite, {} negative KL)",
            points.len(),
            negative.0
        )));
    }
    let sidecar_hint = meta::sidecar_path(&path, opts)
        .unwrap_or_else(|| {
            let mut n = path.file_name().unwrap_or_default().to_os_string();
            n.push(".goodhart.json");
            path.with_file_name(n)
        })
        .display()
        .to_string();
    for r in &rows {
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

    // Runs sharing every curve key are pooled into one curve (replicates).
    let mut by_key: Vec<(String, Vec<String>)> = Vec::new();
    for r in &rows {
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
        info.notes.push(format!(
            "runs {} share method, rm_params, kl_penalty, policy_params and rm_data: they are replicates of one curve and are fitted together (give them different values in the sidecar's \"runs\" to fit them apart)",
            runs.join(", ")
        ));
    }

    // The table.
    let default_method = Method::Rl;
    let mut method = LabelColumn::default();
    for r in &rows {
        method.push_text(r.meta.method.unwrap_or(default_method).as_str());
    }
    let num = |f: &dyn Fn(&Row) -> Option<f64>| ColumnData::Number(rows.iter().map(f).collect());
    let mut columns: HashMap<&'static str, ColumnData> = HashMap::new();
    let mut mapping: Vec<ColumnMapping> = Vec::new();
    let mut add = |name: &'static str, source: String, data: ColumnData| {
        mapping.push(ColumnMapping {
            source,
            canonical: name,
            renamed: false,
        });
        columns.insert(name, data);
    };
    // Where a metadata column came from: the flag, the sidecar, or the default.
    let meta_source =
        |flag: &str, flag_set: bool, in_sidecar: &dyn Fn(&meta::Sidecar) -> bool| match &sidecar {
            _ if flag_set => flag.to_string(),
            Some(s) if in_sidecar(s) => format!("sidecar {}", s.path.display()),
            _ if flag == "--method" => {
                "rl (the default for trainer logs; --method to change)".to_string()
            }
            _ => flag.to_string(),
        };
    let flags = &opts.meta;
    add(
        "method",
        meta_source("--method", flags.method.is_some(), &|s| {
            s.method.is_some() || s.runs.values().any(|r| r.method.is_some())
        }),
        ColumnData::Label(method),
    );
    add(
        "rm_params",
        meta_source("--rm-params", flags.rm_params.is_some(), &|s| {
            s.rm_params.is_some() || s.runs.values().any(|r| r.rm_params.is_some())
        }),
        num(&|r| r.meta.rm_params),
    );
    add("kl", kl_key.clone(), num(&|r| Some(r.kl)));
    let gold_source = match &gold_file {
        Some(g) => g.gold_key.clone(),
        None => gold_key.clone().unwrap_or_default(),
    };
    add("gold", gold_source, num(&|r| Some(r.gold)));
    if let Some(p) = &proxy_key {
        add("proxy", p.clone(), num(&|r| r.proxy));
    }
    if rows.iter().any(|r| r.run.is_some()) {
        add(
            "run",
            "run".to_string(),
            ColumnData::Text(rows.iter().map(|r| r.run.clone()).collect()),
        );
    }
    if let Some(s) = &step_key {
        add("step", s.clone(), num(&|r| r.step));
    }
    for (name, flag, f) in [
        (
            "kl_penalty",
            "--kl-penalty",
            (|m: &crate::ingest::RunMeta| m.kl_penalty)
                as fn(&crate::ingest::RunMeta) -> Option<f64>,
        ),
        ("policy_params", "--policy-params", |m| m.policy_params),
        ("rm_data", "--rm-data", |m| m.rm_data),
    ] {
        if rows.iter().any(|r| f(&r.meta).is_some()) {
            let flag_set = f(flags).is_some();
            add(
                name,
                meta_source(flag, flag_set, &|_| true),
                num(&|r| f(&r.meta)),
            );
        }
    }
    if rows.iter().any(|r| r.run.is_some()) {
        info.picked.push((
            "run",
            match format {
                LogFormat::Wandb => "the '<run> - ' prefix of each column".to_string(),
                LogFormat::Tensorboard => "the file names run-<run>-tag-<tag>.csv".to_string(),
                _ => "--run or the sidecar".to_string(),
            },
        ));
    }
    for canonical in [
        "method",
        "rm_params",
        "kl_penalty",
        "policy_params",
        "rm_data",
    ] {
        if let Some(m) = mapping.iter().find(|m| m.canonical == canonical) {
            info.picked.push((canonical, m.source.clone()));
        }
    }
    let table = Table {
        path: path.clone(),
        format: match format {
            LogFormat::Wandb | LogFormat::Tensorboard => Format::Csv,
            _ => Format::Ndjson,
        },
        n_rows: rows.len(),
        source_columns: records.keys,
        mapping,
        columns,
    };
    Ok(LoadedTable {
        table,
        unit: unit_tag,
        info,
    })
}
