//! A run's metadata, which logs rarely carry: method, RM size, KL penalty, policy size, RM data,
//! run name and KL unit, from flags or a small sidecar JSON file (flags win).
//!
//! The sidecar is `--meta FILE`, or else `<log file name>.goodhart.json` beside the log when it
//! exists, e.g. `trainer_state.json.goodhart.json`:
//! `{"method": "rl", "rm_params": 1.2e9, "kl_penalty": 0.05, "kl_unit": "sequence",
//!   "runs": {"ppo-b": {"kl_penalty": 0.1}}}`; `runs` gives per-run values for logs with several
//! runs (W&B, TensorBoard), over the file-wide ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ingest::{KlUnit, LogOptions, RunMeta};
use crate::schema::Method;

/// Per-run values of a sidecar.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFields {
    pub method: Option<String>,
    pub rm_params: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub kl_unit: Option<KlUnit>,
}

/// A sidecar file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    pub method: Option<String>,
    pub rm_params: Option<f64>,
    pub kl_penalty: Option<f64>,
    pub policy_params: Option<f64>,
    pub rm_data: Option<f64>,
    pub run: Option<String>,
    pub kl_unit: Option<KlUnit>,
    #[serde(default)]
    pub runs: BTreeMap<String, RunFields>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// The sidecar of a log: `--meta`, or `<log>.goodhart.json` when it exists.
pub fn sidecar_path(log: &Path, opts: &LogOptions) -> Option<PathBuf> {
    if let Some(m) = &opts.meta_file {
        return Some(m.clone());
    }
    let mut name = log.file_name()?.to_os_string();
    name.push(".goodhart.json");
    let p = log.with_file_name(name);
    p.is_file().then_some(p)
}

pub fn load(path: &Path) -> Result<Sidecar> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut s: Sidecar = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        format: "goodhart sidecar JSON (keys: method, rm_params, kl_penalty, policy_params, rm_data, run, kl_unit, runs)",
        detail: e.to_string(),
    })?;
    s.path = path.to_path_buf();
    let check = |what: &str, m: &Option<String>| -> Result<()> {
        match m {
            Some(t) if Method::parse(t).is_none() => Err(Error::Corrupt {
                path: path.to_path_buf(),
                format: "goodhart sidecar JSON",
                detail: format!("{what}method is '{t}': it must be 'rl' or 'bon'"),
            }),
            _ => Ok(()),
        }
    };
    check("", &s.method)?;
    for (run, r) in &s.runs {
        check(&format!("runs['{run}'].",), &r.method)?;
    }
    Ok(s)
}

/// The metadata of one run: flags, then the sidecar's entry for the run, then its file-wide
/// values.
pub fn resolve(flags: &RunMeta, sidecar: Option<&Sidecar>, run: Option<&str>) -> RunMeta {
    let Some(s) = sidecar else {
        return flags.clone();
    };
    let r = run.and_then(|r| s.runs.get(r));
    let method = |m: &Option<String>| m.as_deref().and_then(Method::parse);
    RunMeta {
        method: flags
            .method
            .or_else(|| r.and_then(|r| method(&r.method)))
            .or_else(|| method(&s.method)),
        rm_params: flags
            .rm_params
            .or_else(|| r.and_then(|r| r.rm_params))
            .or(s.rm_params),
        kl_penalty: flags
            .kl_penalty
            .or_else(|| r.and_then(|r| r.kl_penalty))
            .or(s.kl_penalty),
        policy_params: flags
            .policy_params
            .or_else(|| r.and_then(|r| r.policy_params))
            .or(s.policy_params),
        rm_data: flags
            .rm_data
            .or_else(|| r.and_then(|r| r.rm_data))
            .or(s.rm_data),
        run: flags.run.clone().or_else(|| s.run.clone()),
        kl_unit: flags
            .kl_unit
            .or_else(|| r.and_then(|r| r.kl_unit))
            .or(s.kl_unit),
    }
}

/// Refuses nonsense metadata flags before any reading (usage errors).
pub fn check_flags(m: &RunMeta) -> Result<()> {
    for (flag, v, zero_ok) in [
        ("--rm-params", m.rm_params, false),
        ("--policy-params", m.policy_params, false),
        ("--rm-data", m.rm_data, false),
        ("--kl-penalty", m.kl_penalty, true),
    ] {
        if let Some(x) = v
            && !(x.is_finite() && (x > 0.0 || (zero_ok && x == 0.0)))
        {
            let bound = if zero_ok { ">= 0" } else { "> 0" };
            return Err(Error::Usage(format!(
                "{flag} must be a number {bound}, not {x}"
            )));
        }
    }
    Ok(())
}
