//! A trainer log's points to the canonical Curves [`Table`]: keys mapped to `kl`, `proxy`,
//! `gold`, `step`; points of one (run, step) merged; non-finite and negative-KL points dropped
//! and counted; metadata added per run; KL units converted or tagged; gold joined from a
//! separate file when asked.
//!
//! [`convert`] runs the steps in order: the keys are resolved here, the points become rows in
//! `rows` (merged, filtered, unit-checked, joined with gold), and the columns are built in
//! `table`.

mod rows;
mod table;

use std::path::Path;

use super::detect::Detection;
use super::gold_join::{self, GoldFile};
use super::{LoadedTable, LogRecords, keys};
use crate::error::{Error, Result};
use crate::ingest::{Format, LogFormat, LogOptions, RunMeta, Table};
use rows::{
    check_rows, join_gold, load_sidecar, merge_steps, note_replicates, note_skipped, read_rows,
    unit_tag,
};
use table::{build_columns, pick_run_and_meta};

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
    meta: RunMeta,
}

/// Converts a trainer log into a Curves table, step by step: resolve the keys, merge the
/// points of a step, read the rows, settle the KL unit, join gold from a separate file, check
/// the rows are usable, and build the table; `info` gathers what each step picked, dropped
/// or noticed.
pub fn convert(
    records: LogRecords,
    detection: Detection,
    opts: &LogOptions,
) -> Result<LoadedTable> {
    let path = records.paths.first().cloned().unwrap_or_default();
    let source = records.display();
    let format = records.format;
    let mut info = LogInfo {
        source: source.clone(),
        detection,
        keys: records.keys.clone(),
        ignored: records.ignored.clone(),
        picked: Vec::new(),
        warnings: Vec::new(),
        notes: records.notes.clone(),
    };
    let log = Log {
        path: &path,
        source: &source,
        format,
        avail: &records.keys,
        opts,
    };
    let lk = resolve_keys(&log)?;
    check_repeated(&records.repeated, &lk)?;
    let mut unused_repeats: Vec<&str> = Vec::new();
    for r in &records.repeated {
        if !unused_repeats.contains(&r.key.as_str()) {
            unused_repeats.push(&r.key);
        }
    }
    if !unused_repeats.is_empty() {
        info.notes.push(format!(
            "{} has a step more than once: not used, so the later value stands",
            unused_repeats.join(", ")
        ));
    }
    pick_keys(&mut info, &log, &lk);
    note_proxy_candidates(&mut info, &log, &lk);
    let points = manifest_run(records.points, &log)?;
    let points = merge_steps(points, lk.step.as_deref(), &mut info);
    let sidecar = load_sidecar(&log, &mut info)?;
    let mut unit_reason = None;
    let read = read_rows(&log, &lk, &points, sidecar.as_ref(), &mut unit_reason)?;
    note_skipped(&mut info, &log, &lk, &read.skipped);
    let unit = unit_tag(&mut info, &log, &lk, &read.units)?;
    if let Some(why) = unit_reason {
        info.notes.push(format!("KL unit of '{}': {why}", lk.kl));
    }
    // The first step each run logged, points dropped later (NaN, negative KL) included: a gold
    // evaluation at a logged step is never the KL = 0 baseline, even when that point is dropped.
    let mut first_steps: Vec<(Option<String>, f64)> = Vec::new();
    if let Some(step_key) = lk.step.as_deref() {
        for p in &points {
            if let Some(&s) = p.values.get(step_key).filter(|s| s.is_finite()) {
                match first_steps.iter_mut().find(|(r, _)| *r == p.run) {
                    Some((_, f)) => *f = f.min(s),
                    None => first_steps.push((p.run.clone(), s)),
                }
            }
        }
    }
    let rows = join_gold(&mut info, &log, &lk, read.rows, &first_steps)?;
    check_rows(&log, &lk, &rows, points.len(), &read.skipped)?;
    note_replicates(&mut info, &rows);
    let (columns, mapping) = build_columns(&log, &lk, &rows, sidecar.as_ref());
    pick_run_and_meta(
        &mut info,
        format,
        records.run_source.as_deref(),
        &rows,
        &mapping,
    );
    let table = Table {
        path,
        format: match format {
            LogFormat::Wandb | LogFormat::Tensorboard => Format::Csv,
            _ => Format::Ndjson,
        },
        n_rows: rows.len(),
        source_columns: records.keys,
        mapping,
        columns,
    };
    Ok(LoadedTable { table, unit, info })
}

/// The log being converted, as every step sees it.
struct Log<'a> {
    /// The first input path: messages, the sidecar and the table are named after it.
    path: &'a Path,
    /// Every input path, for messages.
    source: &'a str,
    format: LogFormat,
    /// Every key the log has.
    avail: &'a [String],
    opts: &'a LogOptions,
}

/// The log keys that become canonical columns, and where gold comes from.
struct LogKeys {
    kl: String,
    proxy: Option<String>,
    step: Option<String>,
    /// The mean response length (`--length-key`, else the first of [`keys::LENGTH_KEYS`] the
    /// log has), to convert per-token KL.
    length: Option<String>,
    /// Whether `length` was given by `--length-key`.
    length_given: bool,
    /// The gold key of the log itself; None when gold comes from `gold_file`.
    gold: Option<String>,
    /// The gold evaluations of `--gold-from`, read.
    gold_file: Option<GoldFile>,
}

/// Resolves the keys: each flag's key (which must exist) or the format's first default that
/// exists. KL is required; gold must come from `--gold-key` or `--gold-from`, and joining
/// `--gold-from` needs a step key.
fn resolve_keys(log: &Log) -> Result<LogKeys> {
    let (path, avail, format) = (log.path, log.avail, log.format);
    let k = &log.opts.keys;
    let kl_key = keys::resolve(
        path,
        avail,
        "--kl-key",
        k.kl.as_deref(),
        keys::default_kl(format),
    )?
    .ok_or_else(|| {
        keys::unknown_key(
            path,
            "--kl-key (default)",
            &keys::default_kl(format).join("' or '"),
            avail,
        )
    })?;
    let proxy_key = keys::resolve(
        path,
        avail,
        "--proxy-key",
        k.proxy.as_deref(),
        keys::default_proxy(format),
    )?;
    let step_key = keys::resolve(
        path,
        avail,
        "--step-key",
        k.step.as_deref(),
        keys::default_step(format),
    )?;
    let length_key = match &k.length {
        Some(l) => keys::resolve(path, avail, "--length-key", Some(l), &[])?,
        None => keys::resolve(path, avail, "--length-key", None, keys::LENGTH_KEYS)?,
    };
    let gold_file = match &log.opts.gold_from {
        Some(g) => Some(gold_join::read(g, k.gold.as_deref())?),
        None => None,
    };
    let gold_key = match (&gold_file, &k.gold) {
        (Some(_), _) => None,
        (None, Some(g)) => keys::resolve(path, avail, "--gold-key", Some(g), &[])?,
        (None, None) => {
            return Err(Error::NoGold {
                path: path.to_path_buf(),
                keys: avail.join(", "),
            });
        }
    };
    if gold_file.is_some() && step_key.is_none() {
        return Err(keys::unknown_key(
            path,
            "--step-key (needed to join --gold-from)",
            &keys::default_step(format).join("' or '"),
            avail,
        ));
    }
    Ok(LogKeys {
        kl: kl_key,
        proxy: proxy_key,
        step: step_key,
        length: length_key,
        length_given: k.length.is_some(),
        gold: gold_key,
        gold_file,
    })
}

/// Records which key each of `kl`, `proxy`, `gold` and `step` was read from.
fn pick_keys(info: &mut LogInfo, log: &Log, lk: &LogKeys) {
    info.picked.push(("kl", lk.kl.clone()));
    if let Some(p) = &lk.proxy {
        info.picked.push(("proxy", p.clone()));
    }
    match (&lk.gold_file, &lk.gold) {
        (Some(g), _) => info.picked.push((
            "gold",
            format!(
                "'{}' of {} (--gold-from, joined on {}'{}')",
                g.gold_key,
                log.opts.gold_from.as_deref().unwrap_or(log.path).display(),
                if g.has_run { "'run' and " } else { "" },
                g.step_key
            ),
        )),
        (None, Some(g)) => info.picked.push(("gold", g.clone())),
        _ => {}
    }
    if let Some(s) = &lk.step {
        info.picked.push(("step", s.clone()));
    }
}

/// Refuses a used key that has a step twice (a TensorBoard tag exported twice, or written by
/// two runs of one directory); unused keys may repeat.
fn check_repeated(repeated: &[super::RepeatedStep], lk: &LogKeys) -> Result<()> {
    let used: Vec<&String> = [&lk.proxy, &lk.step, &lk.length, &lk.gold]
        .into_iter()
        .flatten()
        .chain([&lk.kl])
        .collect();
    for r in repeated {
        if used.iter().any(|u| **u == r.key) {
            return Err(r.error());
        }
    }
    Ok(())
}

/// Lists the proxy candidates of a log with several reward functions (TRL's
/// `rewards/<func>/mean`), and warns when the proxy is `reward`, their weighted sum.
fn note_proxy_candidates(info: &mut LogInfo, log: &Log, lk: &LogKeys) {
    let funcs = keys::reward_function_means(log.avail);
    if funcs.is_empty() {
        return;
    }
    info.notes.push(format!(
        "proxy candidates (--proxy-key): {}{}",
        lk.proxy
            .as_ref()
            .map(|p| format!("{p} (used), "))
            .unwrap_or_default(),
        funcs
            .iter()
            .filter(|f| Some(*f) != lk.proxy.as_ref())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if funcs.len() > 1
        && let Some(p) = &lk.proxy
        && keys::normal(p) == "reward"
    {
        info.warnings.push(format!(
            "{}: the proxy '{p}' is the weighted sum of {} reward functions ({}), not one reward model's score: give --proxy-key {} to fit one of them",
            log.source,
            funcs.len(),
            funcs.join(", "),
            funcs[0]
        ));
    }
}

/// In a runs manifest, a row that names a run of a log holding several named runs (a W&B or
/// TensorBoard export) takes only that run's points, so that each run of one export can have
/// its own row and metadata.
fn manifest_run(points: Vec<super::LogPoint>, log: &Log) -> Result<Vec<super::LogPoint>> {
    let Some(run) = log.opts.meta.run.as_deref() else {
        return Ok(points);
    };
    if !log.opts.from_manifest || points.iter().all(|p| p.run.is_none()) {
        return Ok(points);
    }
    let mut runs: Vec<&str> = Vec::new();
    for p in &points {
        if let Some(r) = p.run.as_deref()
            && !runs.contains(&r)
        {
            runs.push(r);
        }
    }
    if !runs.contains(&run) {
        return Err(Error::Usage(format!(
            "{}: the runs manifest names run '{run}', which this log does not have (its runs: {})",
            log.source,
            runs.join(", ")
        )));
    }
    Ok(points
        .into_iter()
        .filter(|p| p.run.as_deref() == Some(run))
        .collect())
}
