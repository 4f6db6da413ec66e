//! Run metadata on tidy tables. The flags a trainer log needs (`--method`, `--rm-params`,
//! `--kl-penalty`, `--policy-params`, `--rm-data`, `--run`, and the sidecar file) apply to tidy
//! tables too: a value fills the column the table lacks, on every row, and must agree with the
//! column the table has (every non-empty cell equal to it; empty cells stay empty), else the
//! flag is refused with the first row that differs. Flags that only mean something for a
//! trainer log (`--kl-key`, `--length-key`, `--kl-unit token`, ...) are refused when no input
//! is a trainer log, with the reason. No flag is ever silently ignored.

use std::path::{Path, PathBuf};

use super::adapters::meta;
use super::{
    ColumnData, ColumnMap, KlUnit, LabelColumn, LogOptions, MetadataHint, RunMeta, Table,
    read_table,
};
use crate::error::{Error, Result};
use crate::format::fmt_num;
use crate::schema::{CURVES, ColumnSpec, KL_PENALTY, METHOD, Method};

/// One metadata value to put in a column.
#[derive(Debug, Clone)]
enum Value {
    Number(f64),
    Method(Method),
    Text(String),
}

impl Value {
    fn show(&self) -> String {
        match self {
            Value::Number(x) => fmt_num(*x),
            Value::Method(m) => m.as_str().to_string(),
            Value::Text(t) => t.clone(),
        }
    }
}

/// A column's value and where it came from (`--rm-params 1e9`, or the sidecar's `rm_params`).
#[derive(Debug, Clone)]
struct Fill {
    column: &'static str,
    value: Value,
    from: String,
}

/// The metadata flags and the column each fills.
const FLAGS: [(&str, &str); 6] = [
    ("--method", "method"),
    ("--rm-params", "rm_params"),
    ("--kl-penalty", "kl_penalty"),
    ("--policy-params", "policy_params"),
    ("--rm-data", "rm_data"),
    ("--run", "run"),
];

/// The values of a resolved [`RunMeta`], by column.
fn meta_values(m: &RunMeta) -> Vec<(&'static str, Value)> {
    let mut v = Vec::new();
    if let Some(x) = m.method {
        v.push(("method", Value::Method(x)));
    }
    for (column, x) in [
        ("rm_params", m.rm_params),
        ("kl_penalty", m.kl_penalty),
        ("policy_params", m.policy_params),
        ("rm_data", m.rm_data),
    ] {
        if let Some(x) = x {
            v.push((column, Value::Number(x)));
        }
    }
    if let Some(r) = &m.run {
        v.push(("run", Value::Text(r.clone())));
    }
    v
}

/// The values to apply to one tidy file: flags, then its sidecar's file-wide values.
fn fills(path: &Path, opts: &LogOptions) -> Result<Vec<Fill>> {
    let sidecar = match meta::sidecar_path(path, opts) {
        Some(p) => Some(meta::load(&p)?),
        None => None,
    };
    if let Some(s) = &sidecar {
        if !s.runs.is_empty() {
            return Err(Error::Usage(format!(
                "{}: the sidecar {} gives per-run values (\"runs\"), which apply to trainer logs; a tidy table carries per-run values in its columns",
                path.display(),
                s.path.display()
            )));
        }
        if s.kl_unit == Some(KlUnit::Token) && opts.meta.kl_unit.is_none() {
            return Err(Error::Usage(format!(
                "{}: the sidecar {} says \"kl_unit\": \"token\", but a tidy table's kl is KL per sequence (nats); multiply a per-token KL by the mean response length first",
                path.display(),
                s.path.display()
            )));
        }
    }
    let resolved = meta::resolve(&opts.meta, sidecar.as_ref(), None);
    let from_flags = meta_values(&opts.meta);
    Ok(meta_values(&resolved)
        .into_iter()
        .map(|(column, value)| {
            let flag = FLAGS.iter().find(|f| f.1 == column).map_or("", |f| f.0);
            let from = if from_flags.iter().any(|(c, _)| *c == column) {
                format!("{flag} {}", value.show())
            } else {
                let side = sidecar.as_ref().map(|s| s.path.display().to_string());
                format!(
                    "\"{column}\": {} of the sidecar {}",
                    value.show(),
                    side.unwrap_or_default()
                )
            };
            Fill {
                column,
                value,
                from,
            }
        })
        .collect())
}

/// Refuses the flags that only apply to trainer logs when none of `paths` is one (usage errors,
/// each naming the flag and why). A tidy table's `kl` is KL per sequence in nats by definition,
/// its columns are renamed with `--map`, and its gold is in the table.
/// `any_log`: whether any of `paths` is a trainer log (the caller has detected their formats).
pub fn check_log_flags(paths: &[PathBuf], any_log: bool, opts: &LogOptions) -> Result<()> {
    if any_log {
        return Ok(());
    }
    let what = match paths {
        [one] => format!("{} is a tidy table", one.display()),
        _ => "no input is a trainer log".to_string(),
    };
    let k = &opts.keys;
    for (flag, given, canonical) in [
        ("--kl-key", &k.kl, "kl"),
        ("--proxy-key", &k.proxy, "proxy"),
        ("--gold-key", &k.gold, "gold"),
        ("--step-key", &k.step, "step"),
    ] {
        if let Some(key) = given {
            if flag == "--gold-key" && opts.gold_from.is_some() {
                continue;
            }
            return Err(Error::Usage(format!(
                "{flag} {key} names a key of a trainer log, but {what}: rename a table's column with --map {key}={canonical}"
            )));
        }
    }
    if let Some(key) = &k.length {
        return Err(Error::Usage(format!(
            "--length-key {key} turns a trainer log's per-token KL into per-sequence KL, but {what}, whose kl is KL per sequence already (multiply a per-token column by the mean response length first)"
        )));
    }
    if opts.meta.kl_unit == Some(KlUnit::Token) {
        return Err(Error::Usage(format!(
            "--kl-unit token: {what}, whose kl is KL per sequence (nats) by definition; multiply a per-token KL by the mean response length first, or give the trainer's log"
        )));
    }
    Ok(())
}

/// Refuses `--run` where nothing would use it: fitting (`fit`, `report`, `scale --joint`) keys
/// curves by method and sizes, not by run, so a run name matters only to a trainer log's gold
/// join (a `--gold-from` file with a `run` column). `convert` and `inspect` write or show the
/// run column, and do not call this.
/// `any_log`: whether any input is a trainer log.
pub fn check_run_flag(any_log: bool, opts: &LogOptions) -> Result<()> {
    let Some(run) = &opts.meta.run else {
        return Ok(());
    };
    if !any_log || opts.gold_from.is_none() {
        return Err(Error::Usage(format!(
            "--run {run}: curves are fitted by method and sizes, not by run, so a run name only matters to a trainer log's --gold-from file with a run column (goodhart convert and inspect write and show it)"
        )));
    }
    Ok(())
}

/// Reads a tidy Curves table with the run metadata of `opts` applied: the flags (and the
/// file's sidecar) fill the columns the table lacks and must agree with those it has.
pub fn read_curves_table(path: &Path, map: &ColumnMap, opts: &LogOptions) -> Result<Table> {
    let fills = fills(path, opts)?;
    let schema: Vec<ColumnSpec> = CURVES
        .iter()
        .map(|s| ColumnSpec {
            required: s.required && !fills.iter().any(|f| f.column == s.name),
            ..*s
        })
        .collect();
    let mut table = read_table(path, &schema, map).map_err(|e| flag_hint(e, opts.metadata_hint))?;
    apply(&mut table, &fills)?;
    Ok(table)
}

/// Adds to a missing-column error how to give the metadata columns: the flags that would fill
/// them, or (for a command without those flags) `goodhart convert`, which writes them.
fn flag_hint(e: Error, how: MetadataHint) -> Error {
    match e {
        Error::MissingColumn {
            path,
            columns,
            hint,
            found,
        } => {
            let flags: Vec<String> = columns
                .iter()
                // A column the hint already renames needs no flag.
                .filter(|c| !hint.contains(&format!("={c}")))
                .filter_map(|c| {
                    FLAGS.iter().find(|f| f.1 == c).map(|f| match f.0 {
                        "--method" => "--method rl|bon".to_string(),
                        flag => format!("{flag} N"),
                    })
                })
                .collect();
            // Another kind of table (Samples, iterated RLHF, reward models) needs another
            // command, not metadata flags.
            let other_table = hint.contains("(this looks like a");
            let hint = if flags.is_empty() || other_table {
                hint
            } else if how == MetadataHint::Convert {
                format!(
                    "{hint} (analyze reads Curves tables that carry their metadata columns; `goodhart convert` writes them from a log with --method, --rm-params, ...)"
                )
            } else {
                format!(
                    "{hint} (a table of one run can take {} from {})",
                    if flags.len() == 1 { "it" } else { "them" },
                    flags.join(", ")
                )
            };
            Error::MissingColumn {
                path,
                columns,
                hint,
                found,
            }
        }
        e => e,
    }
}

/// The metadata of a Samples table or dump (`goodhart bon`, `convert` of dumps): `--rm-params`,
/// `--policy-params` and `--rm-data` apply; `--method rl`, `--kl-penalty`, `--run` and the
/// trainer-log flags are refused (best-of-n samples have no KL penalty, no run, no log keys).
pub fn check_samples_flags(opts: &LogOptions) -> Result<()> {
    let why = "best-of-n samples";
    if opts.meta.method == Some(Method::Rl) {
        return Err(Error::Usage(format!(
            "--method rl: {why} are best-of-n (method bon) by definition"
        )));
    }
    if let Some(c) = opts.meta.kl_penalty {
        return Err(Error::Usage(format!(
            "--kl-penalty {}: {why} have no KL penalty (it is a setting of RL runs)",
            fmt_num(c)
        )));
    }
    if let Some(r) = &opts.meta.run {
        return Err(Error::Usage(format!(
            "--run {r}: {why} have no run column (a curve of best-of-n is keyed by its reward model)"
        )));
    }
    let k = &opts.keys;
    for (flag, given) in [
        ("--kl-key", &k.kl),
        ("--proxy-key", &k.proxy),
        ("--gold-key", &k.gold),
        ("--step-key", &k.step),
        ("--length-key", &k.length),
    ] {
        if let Some(key) = given {
            return Err(Error::Usage(format!(
                "{flag} {key} names a key of a trainer log, but {why} are read from a Samples table or dump: rename a column or a dump's key with --map"
            )));
        }
    }
    if let Some(u) = opts.meta.kl_unit {
        return Err(Error::Usage(format!(
            "--kl-unit {}: the KL of best-of-n is computed from n (ln n - (n-1)/n, or the pool KL), not read",
            u.name()
        )));
    }
    if opts.gold_from.is_some() {
        return Err(Error::Usage(format!(
            "--gold-from joins gold to a trainer log; {why} carry their gold scores"
        )));
    }
    Ok(())
}

/// A metadata value against the value a file has for it: equal is fine, different is refused.
/// `file` is the file's value, `flag` the flag's (`None`: not given). Returns the value to use.
pub fn agree(
    path: &Path,
    at: &str,
    column: &str,
    file: Option<f64>,
    flag: Option<f64>,
    flag_name: &str,
) -> Result<Option<f64>> {
    match (file, flag) {
        (Some(a), Some(b)) if a != b => Err(contradiction(
            path,
            &format!("{flag_name} {}", fmt_num(b)),
            column,
            at,
            &fmt_num(a),
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn contradiction(path: &Path, from: &str, column: &str, at: &str, value: &str) -> Error {
    Error::Usage(format!(
        "{}: {from} contradicts column '{column}' ({at} has {value}): a metadata flag fills a column the file lacks and must agree with one it has; drop the flag, or give this file its own sidecar {}.goodhart.json",
        path.display(),
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ))
}

/// Fills the missing columns and checks the present ones.
fn apply(table: &mut Table, fills: &[Fill]) -> Result<()> {
    let n = table.n_rows;
    for f in fills {
        let source = table.source_name(f.column);
        match table.get(f.column) {
            None if f.column == KL_PENALTY => {
                // A KL penalty is a setting of RL runs: it fills the RL rows only.
                let rl: Vec<bool> = match table.get(METHOD) {
                    Some(ColumnData::Label(l)) => l
                        .codes
                        .iter()
                        .map(|c| {
                            c.is_some_and(|c| {
                                Method::parse(&l.labels[c as usize]) == Some(Method::Rl)
                            })
                        })
                        .collect(),
                    _ => vec![false; n],
                };
                if !rl.contains(&true) {
                    return Err(Error::Usage(format!(
                        "{}: {} applies to RL curves, and the table has none (a KL penalty is a setting of RL runs)",
                        table.path.display(),
                        f.from
                    )));
                }
                // kl_penalty is always a number (`meta_values`).
                let Value::Number(x) = f.value else { continue };
                let data = rl.iter().map(|&r| r.then_some(x)).collect();
                table.fill(f.column, ColumnData::Number(data), f.from.clone());
            }
            None => {
                let data = match &f.value {
                    Value::Number(x) => ColumnData::Number(vec![Some(*x); n]),
                    Value::Text(t) => ColumnData::Text(vec![Some(t.clone()); n]),
                    Value::Method(m) => {
                        let mut l = LabelColumn::default();
                        for _ in 0..n {
                            l.push_text(m.as_str());
                        }
                        ColumnData::Label(l)
                    }
                };
                table.fill(f.column, data, f.from.clone());
            }
            Some(data) => {
                let differs = |i: usize, v: String| Some((i, v));
                let first = match (data, &f.value) {
                    (ColumnData::Number(v), Value::Number(x)) => {
                        v.iter().enumerate().find_map(|(i, c)| {
                            c.filter(|c| c != x).and_then(|c| differs(i, fmt_num(c)))
                        })
                    }
                    (ColumnData::Label(l), Value::Method(m)) => {
                        l.codes.iter().enumerate().find_map(|(i, c)| {
                            let label = &l.labels[(*c)? as usize];
                            (Method::parse(label) != Some(*m)).then(|| (i, label.clone()))
                        })
                    }
                    (ColumnData::Text(v), Value::Text(t)) => v
                        .iter()
                        .enumerate()
                        .find_map(|(i, c)| c.as_ref().filter(|c| *c != t).map(|c| (i, c.clone()))),
                    (ColumnData::Label(l), Value::Text(t)) => {
                        l.codes.iter().enumerate().find_map(|(i, c)| {
                            let label = &l.labels[(*c)? as usize];
                            (label != t).then(|| (i, label.clone()))
                        })
                    }
                    // The schema fixes each column's kind; any other pairing cannot occur.
                    _ => None,
                };
                if let Some((i, value)) = first {
                    return Err(contradiction(
                        &table.path,
                        &f.from,
                        &source,
                        &format!("row {}", i + 1),
                        &value,
                    ));
                }
            }
        }
    }
    Ok(())
}
