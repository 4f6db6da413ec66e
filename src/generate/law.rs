//! Curves drawn from the paper's functional forms with known coefficients and seeded Gaussian
//! noise: the ground truth that tests of the fits and of the scaling laws check against.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{Error, Result};
use crate::forms::{Form, FormId};
use crate::output::{OutColumn, OutTable};
use crate::schema::Method;

/// How a coefficient depends on RM size.
#[derive(Debug, Clone, PartialEq)]
pub enum Coefficient {
    /// One value per RM size (or one value for all).
    Values(Vec<f64>),
    /// c = a + b * log10(rm_params).
    LogLinear { a: f64, b: f64 },
}

impl Coefficient {
    /// The coefficient at the `i`-th of the given sizes.
    pub fn at(&self, i: usize, rm_params: f64) -> f64 {
        match self {
            Coefficient::Values(v) if v.len() == 1 => v[0],
            Coefficient::Values(v) => v[i],
            Coefficient::LogLinear { a, b } => a + b * rm_params.log10(),
        }
    }
}

/// The paper's proxy RM sizes.
pub const PAPER_RM_SIZES: [f64; 9] = [3e6, 1.2e7, 2.5e7, 4.2e7, 8.5e7, 3e8, 6.8e8, 1.2e9, 3e9];

/// Everything `generate law` needs; the defaults give a family like the paper's Fig. 3 trends.
#[derive(Debug, Clone)]
pub struct LawSpec {
    pub methods: Vec<Method>,
    pub rm_params: Vec<f64>,
    pub bon_alpha: Coefficient,
    pub bon_beta: Coefficient,
    pub rl_alpha: Coefficient,
    pub rl_beta: Coefficient,
    /// Largest KL of the best-of-n curves (nats; ln 60000 - 1 is about 10).
    pub kl_max_bon: f64,
    /// Largest KL of the RL curves (nats).
    pub kl_max_rl: f64,
    /// Points per curve with kl > 0, evenly spaced in d = sqrt(KL).
    pub points: usize,
    /// Points per curve at kl = 0 (the baseline).
    pub baseline_points: usize,
    /// Standard deviation of the Gaussian noise on the gold score.
    pub noise: f64,
    /// Also write a `gold_se` column (equal to `noise`).
    pub with_se: bool,
    pub seed: u64,
}

impl Default for LawSpec {
    fn default() -> Self {
        LawSpec {
            methods: vec![Method::Bon, Method::Rl],
            rm_params: PAPER_RM_SIZES.to_vec(),
            bon_alpha: Coefficient::LogLinear { a: 0.30, b: 0.065 },
            bon_beta: Coefficient::LogLinear { a: 0.45, b: -0.035 },
            rl_alpha: Coefficient::Values(vec![0.5]),
            rl_beta: Coefficient::LogLinear { a: 0.45, b: -0.03 },
            kl_max_bon: 10.0,
            kl_max_rl: 100.0,
            points: 40,
            baseline_points: 4,
            noise: 0.02,
            with_se: false,
            seed: 0,
        }
    }
}

fn invalid(msg: String) -> Error {
    Error::Analysis(format!("generate law: {msg}"))
}

/// A setting no command line may ask for (a flag value out of its range, a size given twice):
/// a usage error (exit status 2) naming the flag.
fn unusable(msg: String) -> Error {
    Error::Usage(format!("generate law: {msg}"))
}

impl LawSpec {
    fn check(&self) -> Result<()> {
        if self.methods.is_empty() {
            return Err(unusable("no method chosen".into()));
        }
        if self.rm_params.is_empty() {
            return Err(unusable("--rm-params is empty".into()));
        }
        if let Some(x) = self
            .rm_params
            .iter()
            .find(|x| !(x.is_finite() && **x > 0.0))
        {
            return Err(unusable(format!("--rm-params: {x} is not a size > 0")));
        }
        // a size given twice would make one curve of two sizes' points
        let mut sizes = self.rm_params.clone();
        sizes.sort_by(f64::total_cmp);
        if let Some(w) = sizes.windows(2).find(|w| w[0] == w[1]) {
            return Err(unusable(format!(
                "--rm-params lists the size {} twice: give each RM size once",
                crate::format::fmt_num(w[0])
            )));
        }
        for (name, c) in [
            ("bon-alpha", &self.bon_alpha),
            ("bon-beta", &self.bon_beta),
            ("rl-alpha", &self.rl_alpha),
            ("rl-beta", &self.rl_beta),
        ] {
            match c {
                Coefficient::Values(v) if v.len() != 1 && v.len() != self.rm_params.len() => {
                    return Err(unusable(format!(
                        "--{name} has {} values for {} RM sizes: give one value, or one per size",
                        v.len(),
                        self.rm_params.len()
                    )));
                }
                Coefficient::Values(v) if v.iter().any(|x| !x.is_finite()) => {
                    return Err(unusable(format!("--{name}: values must be finite")));
                }
                Coefficient::LogLinear { a, b } if !(a.is_finite() && b.is_finite()) => {
                    return Err(unusable(format!("--{name}-law: values must be finite")));
                }
                _ => {}
            }
        }
        for (name, x) in [
            ("kl-max-bon", self.kl_max_bon),
            ("kl-max-rl", self.kl_max_rl),
        ] {
            if !(x.is_finite() && x > 0.0) {
                return Err(unusable(format!("--{name} must be a number > 0, not {x}")));
            }
        }
        if self.points < 1 {
            return Err(unusable("--points must be at least 1".into()));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(unusable(format!(
                "--noise must be >= 0, not {}",
                self.noise
            )));
        }
        if self.with_se && self.noise == 0.0 {
            return Err(unusable(
                "--with-se needs --noise > 0 (a standard error must be > 0)".into(),
            ));
        }
        Ok(())
    }

    /// The true (alpha, beta) of a method at the `i`-th RM size.
    pub fn truth(&self, method: Method, i: usize) -> (f64, f64) {
        let n = self.rm_params[i];
        match method {
            Method::Bon => (self.bon_alpha.at(i, n), self.bon_beta.at(i, n)),
            Method::Rl => (self.rl_alpha.at(i, n), self.rl_beta.at(i, n)),
        }
    }

    /// Draws the Curves table.
    pub fn generate(&self) -> Result<OutTable> {
        self.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let normal = Normal::new(0.0, self.noise.max(f64::MIN_POSITIVE))
            .map_err(|e| invalid(e.to_string()))?;
        let mut method = Vec::new();
        let mut rm = Vec::new();
        let mut kl = Vec::new();
        let mut gold = Vec::new();
        for &m in &self.methods {
            let kl_max = match m {
                Method::Bon => self.kl_max_bon,
                Method::Rl => self.kl_max_rl,
            };
            let form = FormId::for_method(m).form();
            for (i, &n) in self.rm_params.iter().enumerate() {
                let (alpha, beta) = self.truth(m, i);
                let d_max = kl_max.sqrt();
                let ds = std::iter::repeat_n(0.0, self.baseline_points)
                    .chain((1..=self.points).map(|k| d_max * k as f64 / self.points as f64));
                for d in ds {
                    let noise = if self.noise > 0.0 {
                        normal.sample(&mut rng)
                    } else {
                        0.0
                    };
                    method.push(Some(m.as_str().to_string()));
                    rm.push(Some(n));
                    kl.push(Some(d * d));
                    gold.push(Some(Form::eval(form, &[alpha, beta], d) + noise));
                }
            }
        }
        let rows = kl.len();
        let mut t = OutTable::default();
        t.push("method", OutColumn::Text(method));
        t.push(crate::schema::RM_PARAMS, OutColumn::Number(rm));
        t.push("kl", OutColumn::Number(kl));
        t.push("gold", OutColumn::Number(gold));
        if self.with_se {
            t.push("gold_se", OutColumn::Number(vec![Some(self.noise); rows]));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noiseless_law_is_exact() -> Result<(), Box<dyn std::error::Error>> {
        let spec = LawSpec {
            noise: 0.0,
            ..LawSpec::default()
        };
        let t = spec.generate()?;
        let expect_rows = 2 * 9 * (40 + 4);
        assert_eq!(t.n_rows(), expect_rows);
        Ok(())
    }

    #[test]
    fn same_seed_same_table() -> Result<(), Box<dyn std::error::Error>> {
        let a = LawSpec::default().generate()?;
        let b = LawSpec::default().generate()?;
        let p = std::path::Path::new("x.csv");
        assert_eq!(a.to_bytes_for(p)?, b.to_bytes_for(p)?);
        Ok(())
    }
}
