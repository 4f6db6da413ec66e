//! The end of a log's conversion: the canonical columns built from the rows, and where each
//! came from (a key, a flag, the sidecar or a default), for the mapping and for `inspect`.

use std::collections::HashMap;

use super::{Log, LogInfo, LogKeys, Row};
use crate::ingest::adapters::meta::Sidecar;
use crate::ingest::{ColumnData, ColumnMapping, LabelColumn, LogFormat, RunMeta};
use crate::schema::Method;

/// Where a metadata column came from: the flag, the sidecar, or the default.
fn meta_source(
    sidecar: Option<&Sidecar>,
    flag: &str,
    flag_set: bool,
    in_sidecar: &dyn Fn(&Sidecar) -> bool,
) -> String {
    match sidecar {
        _ if flag_set => flag.to_string(),
        Some(s) if in_sidecar(s) => format!("sidecar {}", s.path.display()),
        _ if flag == "--method" => {
            "rl (the default for trainer logs; --method to change)".to_string()
        }
        _ => flag.to_string(),
    }
}

/// The table's columns and where each came from: method (rl by default), rm_params, kl, gold,
/// then proxy, run and step when present, then the metadata columns some row has.
pub(super) fn build_columns(
    log: &Log,
    lk: &LogKeys,
    rows: &[Row],
    sidecar: Option<&Sidecar>,
) -> (HashMap<&'static str, ColumnData>, Vec<ColumnMapping>) {
    let default_method = Method::Rl;
    let mut method = LabelColumn::default();
    for r in rows {
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
    let source_of = |flag: &str, flag_set: bool, in_sidecar: &dyn Fn(&Sidecar) -> bool| {
        meta_source(sidecar, flag, flag_set, in_sidecar)
    };
    let flags = &log.opts.meta;
    add(
        "method",
        source_of("--method", flags.method.is_some(), &|s| {
            s.method.is_some() || s.runs.values().any(|r| r.method.is_some())
        }),
        ColumnData::Label(method),
    );
    add(
        "rm_params",
        source_of("--rm-params", flags.rm_params.is_some(), &|s| {
            s.rm_params.is_some() || s.runs.values().any(|r| r.rm_params.is_some())
        }),
        num(&|r| r.meta.rm_params),
    );
    add("kl", lk.kl.clone(), num(&|r| Some(r.kl)));
    let gold_source = match &lk.gold_file {
        Some(g) => g.gold_key.clone(),
        None => lk.gold.clone().unwrap_or_default(),
    };
    add("gold", gold_source, num(&|r| Some(r.gold)));
    if let Some(p) = &lk.proxy {
        add("proxy", p.clone(), num(&|r| r.proxy));
    }
    if rows.iter().any(|r| r.run.is_some()) {
        add(
            "run",
            "run".to_string(),
            ColumnData::Text(rows.iter().map(|r| r.run.clone()).collect()),
        );
    }
    if let Some(s) = &lk.step {
        add("step", s.clone(), num(&|r| r.step));
    }
    for (name, flag, f) in [
        (
            "kl_penalty",
            "--kl-penalty",
            (|m: &RunMeta| m.kl_penalty) as fn(&RunMeta) -> Option<f64>,
        ),
        ("policy_params", "--policy-params", |m| m.policy_params),
        ("rm_data", "--rm-data", |m| m.rm_data),
    ] {
        if rows.iter().any(|r| f(&r.meta).is_some()) {
            let flag_set = f(flags).is_some();
            add(
                name,
                source_of(flag, flag_set, &|_| true),
                num(&|r| f(&r.meta)),
            );
        }
    }
    (columns, mapping)
}

/// Records where the run names (`run_source` when the reader says) and the metadata columns
/// came from.
pub(super) fn pick_run_and_meta(
    info: &mut LogInfo,
    format: LogFormat,
    run_source: Option<&str>,
    rows: &[Row],
    mapping: &[ColumnMapping],
) {
    if rows.iter().any(|r| r.run.is_some()) {
        info.picked.push((
            "run",
            match (run_source, format) {
                (Some(s), _) => s.to_string(),
                (None, LogFormat::Wandb) => "the '<run> - ' prefix of each column".to_string(),
                (None, LogFormat::Tensorboard) => {
                    "the file names run-<run>-tag-<tag>.csv".to_string()
                }
                (None, _) => "--run or the sidecar".to_string(),
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
}
