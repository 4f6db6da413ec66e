//! The Curves table validated, and grouped into the curves that are fitted.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ingest::{ColumnData, ColumnMap, Table, read_table};
use crate::schema::{CURVES, CurveKey, Method};

/// A validated Curves table (DESIGN.md), one entry per row.
#[derive(Debug, Clone)]
pub struct CurvesTable {
    pub path: PathBuf,
    pub method: Vec<Method>,
    pub rm_params: Vec<f64>,
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<Option<f64>>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
    pub policy_params: Option<Vec<Option<f64>>>,
    pub rm_data: Option<Vec<Option<f64>>>,
    pub kl_penalty: Option<Vec<Option<f64>>>,
}

/// One curve: the points that share a [`CurveKey`], sorted by KL (then by score), so that
/// results never depend on the order of rows in the file.
#[derive(Debug, Clone)]
pub struct Curve {
    pub key: CurveKey,
    pub kl: Vec<f64>,
    pub gold: Vec<f64>,
    pub proxy: Option<Vec<Option<f64>>>,
    pub gold_se: Option<Vec<f64>>,
    pub proxy_se: Option<Vec<f64>>,
}

struct Check<'a> {
    path: &'a Path,
    table: &'a Table,
}

impl Check<'_> {
    fn bad(&self, column: &str, row: usize, value: String, problem: &str) -> Error {
        Error::BadValue {
            path: self.path.to_path_buf(),
            column: self.table.source_name(column),
            row,
            value,
            problem: problem.to_string(),
        }
    }

    fn numbers(&self, column: &str, data: Option<ColumnData>) -> Option<Vec<Option<f64>>> {
        match data {
            Some(ColumnData::Number(v)) => Some(v),
            Some(ColumnData::Text(_)) => unreachable!("{column} is a numeric column in the schema"),
            None => None,
        }
    }

    /// A required numeric column: every value present and satisfying `ok`.
    fn required(
        &self,
        column: &str,
        data: Option<ColumnData>,
        ok: impl Fn(f64) -> bool,
        problem: &str,
    ) -> Result<Vec<f64>> {
        let v = self.numbers(column, data).unwrap_or_default();
        v.iter()
            .enumerate()
            .map(|(i, x)| match x {
                Some(x) if ok(*x) => Ok(*x),
                Some(x) => Err(self.bad(column, i + 1, format!("{x}"), problem)),
                None => Err(self.bad(column, i + 1, String::new(), "missing value")),
            })
            .collect()
    }

    /// An optional numeric column: present values must satisfy `ok`; empty cells allowed.
    fn optional(
        &self,
        column: &str,
        data: Option<ColumnData>,
        ok: impl Fn(f64) -> bool,
        problem: &str,
    ) -> Result<Option<Vec<Option<f64>>>> {
        let Some(v) = self.numbers(column, data) else {
            return Ok(None);
        };
        for (i, x) in v.iter().enumerate() {
            if let Some(x) = x
                && !ok(*x)
            {
                return Err(self.bad(column, i + 1, format!("{x}"), problem));
            }
        }
        Ok(Some(v))
    }
}

impl CurvesTable {
    /// Reads and validates a Curves table from CSV, Parquet or NDJSON.
    pub fn read(path: &Path, map: &ColumnMap) -> Result<CurvesTable> {
        let table = read_table(path, CURVES, map)?;
        CurvesTable::from_table(table)
    }

    /// Validates a table read with the [`CURVES`] schema.
    pub fn from_table(mut table: Table) -> Result<CurvesTable> {
        let path = table.path.clone();
        let cols: Vec<(&str, Option<ColumnData>)> = [
            "method",
            "rm_params",
            "kl",
            "gold",
            "proxy",
            "gold_se",
            "proxy_se",
            "policy_params",
            "rm_data",
            "kl_penalty",
            "step",
            "n",
        ]
        .into_iter()
        .map(|c| (c, table.take(c)))
        .collect();
        let mut cols = cols.into_iter();
        let mut next = || cols.next().expect("one entry per name above").1;
        let check = Check {
            path: &path,
            table: &table,
        };
        let method = match next() {
            Some(ColumnData::Text(v)) => v
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let m = m.as_deref().unwrap_or("");
                    Method::parse(m).ok_or_else(|| {
                        check.bad("method", i + 1, m.to_string(), "method must be 'bon' or 'rl'")
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            _ => unreachable!("method is a required text column"),
        };
        let finite_pos = |x: f64| x.is_finite() && x > 0.0;
        let rm_params = check.required("rm_params", next(), finite_pos, "rm_params must be a finite number > 0")?;
        let kl = check.required(
            "kl",
            next(),
            |x| x.is_finite() && x >= 0.0,
            "kl must be a finite number >= 0 (NaN, infinite and negative KL are not allowed)",
        )?;
        let gold = check.required("gold", next(), f64::is_finite, "gold must be a finite number (not NaN or infinite)")?;
        let proxy = check.optional("proxy", next(), f64::is_finite, "proxy must be a finite number (leave the cell empty when unknown)")?;
        let se_ok = "a standard error must be a finite number > 0";
        let gold_se = match next() {
            Some(d) => Some(check.required("gold_se", Some(d), finite_pos, se_ok)?),
            None => None,
        };
        let proxy_se = match next() {
            Some(d) => Some(check.required("proxy_se", Some(d), finite_pos, se_ok)?),
            None => None,
        };
        let policy_params = check.optional("policy_params", next(), finite_pos, "policy_params must be a finite number > 0")?;
        let rm_data = check.optional("rm_data", next(), finite_pos, "rm_data must be a finite number > 0")?;
        let kl_penalty = check.optional(
            "kl_penalty",
            next(),
            |x| x.is_finite() && x >= 0.0,
            "kl_penalty must be a finite number >= 0",
        )?;
        let whole = |x: f64| x.is_finite() && x >= 0.0 && x.fract() == 0.0;
        check.optional("step", next(), whole, "step must be a whole number >= 0")?;
        check.optional("n", next(), |x| whole(x) && x >= 1.0, "n must be a whole number >= 1")?;
        Ok(CurvesTable {
            path,
            method,
            rm_params,
            kl,
            gold,
            proxy,
            gold_se,
            proxy_se,
            policy_params,
            rm_data,
            kl_penalty,
        })
    }

    pub fn len(&self) -> usize {
        self.kl.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kl.is_empty()
    }

    pub fn has_proxy(&self) -> bool {
        self.proxy
            .as_ref()
            .is_some_and(|p| p.iter().any(Option::is_some))
    }

    fn key(&self, i: usize) -> CurveKey {
        let get = |c: &Option<Vec<Option<f64>>>| c.as_ref().and_then(|v| v[i]);
        CurveKey {
            method: self.method[i],
            rm_params: self.rm_params[i],
            policy_params: get(&self.policy_params),
            rm_data: get(&self.rm_data),
            kl_penalty: get(&self.kl_penalty),
        }
    }

    /// Groups rows into curves, in key order; within a curve points are sorted by
    /// (kl, gold, proxy), so the result does not depend on the order of rows.
    pub fn curves(&self) -> Vec<Curve> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        let proxy_of = |i: usize| self.proxy.as_ref().and_then(|p| p[i]).unwrap_or(f64::NAN);
        order.sort_by(|&a, &b| {
            self.key(a)
                .cmp(&self.key(b))
                .then(self.kl[a].total_cmp(&self.kl[b]))
                .then(self.gold[a].total_cmp(&self.gold[b]))
                .then(proxy_of(a).total_cmp(&proxy_of(b)))
                .then_with(|| {
                    let se = |c: &Option<Vec<f64>>, i: usize| c.as_ref().map_or(0.0, |v| v[i]);
                    se(&self.gold_se, a)
                        .total_cmp(&se(&self.gold_se, b))
                        .then(se(&self.proxy_se, a).total_cmp(&se(&self.proxy_se, b)))
                })
        });
        let mut curves: Vec<Curve> = Vec::new();
        for i in order {
            let key = self.key(i);
            if curves.last().is_none_or(|c| c.key != key) {
                curves.push(Curve {
                    key,
                    kl: Vec::new(),
                    gold: Vec::new(),
                    proxy: self.proxy.as_ref().map(|_| Vec::new()),
                    gold_se: self.gold_se.as_ref().map(|_| Vec::new()),
                    proxy_se: self.proxy_se.as_ref().map(|_| Vec::new()),
                });
            }
            let c = curves.last_mut().expect("pushed above");
            c.kl.push(self.kl[i]);
            c.gold.push(self.gold[i]);
            if let (Some(p), Some(src)) = (c.proxy.as_mut(), self.proxy.as_ref()) {
                p.push(src[i]);
            }
            if let (Some(p), Some(src)) = (c.gold_se.as_mut(), self.gold_se.as_ref()) {
                p.push(src[i]);
            }
            if let (Some(p), Some(src)) = (c.proxy_se.as_mut(), self.proxy_se.as_ref()) {
                p.push(src[i]);
            }
        }
        curves
    }
}

/// Reads several Curves files and concatenates their curves (keys must not repeat across files).
pub fn read_curves(paths: &[PathBuf], map: &ColumnMap) -> Result<Vec<Curve>> {
    let mut all: Vec<Curve> = Vec::new();
    let mut origin: std::collections::BTreeMap<CurveKey, &PathBuf> = Default::default();
    for path in paths {
        let table = CurvesTable::read(path, map)?;
        for c in table.curves() {
            if let Some(other) = origin.get(&c.key) {
                return Err(Error::Analysis(format!(
                    "curve {} appears in both {} and {}: give each curve in one file, or tell them apart with a key column (policy_params, rm_data, kl_penalty)",
                    c.key,
                    other.display(),
                    path.display()
                )));
            }
            origin.insert(c.key, path);
            all.push(c);
        }
    }
    all.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(all)
}
