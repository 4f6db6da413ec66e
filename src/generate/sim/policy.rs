//! The RL policies of the simulated world: Gaussians over responses with a learnable mean and
//! scale (diagonal) or a full Cholesky factor, optimised against a proxy by reparameterisation
//! gradients and Adam. Their KL from pi_0 = N(0, I) and their entropy are exact.

use rand_chacha::ChaCha8Rng;

use super::nets::{Adam, CalibratedProxy, GoldRm, dot, mean_var, normals};

/// The parameterisation of a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyFamily {
    /// N(mu, diag(sigma^2)): `2 D` parameters.
    Diag,
    /// N(mu, L L^T) with L lower-triangular: `D + D (D + 1) / 2` parameters.
    Full,
}

impl PolicyFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyFamily::Diag => "diag",
            PolicyFamily::Full => "full",
        }
    }

    pub fn n_params(self, dim: usize) -> usize {
        match self {
            PolicyFamily::Diag => 2 * dim,
            PolicyFamily::Full => dim + dim * (dim + 1) / 2,
        }
    }
}

/// A Gaussian policy N(mu, L L^T), `L` lower-triangular with diagonal `exp(log_diag)`.
///
/// `theta` holds `mu` (D), `log_diag` (D), then for the full family the strictly lower
/// entries of `L` row by row (`L[1][0], L[2][0], L[2][1], ...`).
#[derive(Debug, Clone)]
pub struct GaussianPolicy {
    pub dim: usize,
    pub family: PolicyFamily,
    pub theta: Vec<f64>,
}

impl GaussianPolicy {
    /// pi_0 itself: mu = 0, L = I.
    pub fn initial(dim: usize, family: PolicyFamily) -> GaussianPolicy {
        GaussianPolicy {
            dim,
            family,
            theta: vec![0.0; family.n_params(dim)],
        }
    }

    pub fn mu(&self) -> &[f64] {
        &self.theta[..self.dim]
    }

    pub fn log_diag(&self) -> &[f64] {
        &self.theta[self.dim..2 * self.dim]
    }

    fn lower(&self) -> &[f64] {
        &self.theta[2 * self.dim..]
    }

    /// `L[i][j]` for `j <= i`.
    pub fn l(&self, i: usize, j: usize) -> f64 {
        if i == j {
            self.log_diag()[i].exp()
        } else if self.family == PolicyFamily::Full {
            self.lower()[i * (i - 1) / 2 + j]
        } else {
            0.0
        }
    }

    /// `x = mu + L eps`.
    pub fn transform(&self, eps: &[f64], x: &mut [f64]) {
        for i in 0..self.dim {
            let mut v = self.mu()[i] + self.l(i, i) * eps[i];
            if self.family == PolicyFamily::Full {
                for (j, e) in eps.iter().enumerate().take(i) {
                    v += self.l(i, j) * e;
                }
            }
            x[i] = v;
        }
    }

    /// KL(pi || N(0, I)) = (tr(L L^T) + |mu|^2 - D) / 2 - sum_i ln L_ii, in nats.
    pub fn kl_from_initial(&self) -> f64 {
        let mut trace = 0.0;
        for i in 0..self.dim {
            for j in 0..=i {
                trace += self.l(i, j).powi(2);
            }
        }
        let mu2 = dot(self.mu(), self.mu());
        0.5 * (trace + mu2 - self.dim as f64) - self.log_diag().iter().sum::<f64>()
    }

    /// The differential entropy, D/2 ln(2 pi e) + sum_i ln L_ii, in nats.
    pub fn entropy(&self) -> f64 {
        0.5 * self.dim as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln()
            + self.log_diag().iter().sum::<f64>()
    }

    /// ln pi(x), by forward substitution for eps = L^-1 (x - mu).
    pub fn log_density(&self, x: &[f64]) -> f64 {
        let mut eps = vec![0.0; self.dim];
        for i in 0..self.dim {
            let mut r = x[i] - self.mu()[i];
            for (j, e) in eps.iter().enumerate().take(i) {
                r -= self.l(i, j) * e;
            }
            eps[i] = r / self.l(i, i);
        }
        -0.5 * self.dim as f64 * (2.0 * std::f64::consts::PI).ln()
            - self.log_diag().iter().sum::<f64>()
            - 0.5 * dot(&eps, &eps)
    }

    /// `n` draws, row-major `n x dim`.
    pub fn sample(&self, n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let eps = normals(n * self.dim, rng);
        let mut x = vec![0.0; n * self.dim];
        for (e, xi) in eps.chunks_exact(self.dim).zip(x.chunks_exact_mut(self.dim)) {
            self.transform(e, xi);
        }
        x
    }

    /// The gradient of `E[proxy(x)] - penalty * KL` with respect to `theta`, the expectation
    /// estimated by reparameterisation over the standard normal draws `eps` (`n x dim`).
    fn objective_gradient(&self, proxy: &CalibratedProxy, penalty: f64, eps: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let n = eps.len() / d;
        let mut grad = vec![0.0; self.theta.len()];
        let mut x = vec![0.0; d];
        let mut gx = vec![0.0; d];
        let w = 1.0 / n.max(1) as f64;
        for e in eps.chunks_exact(d) {
            self.transform(e, &mut x);
            gx.iter_mut().for_each(|g| *g = 0.0);
            proxy.add_input_gradient(&x, w, &mut gx);
            for i in 0..d {
                grad[i] += gx[i];
                grad[d + i] += gx[i] * e[i] * self.l(i, i);
                if self.family == PolicyFamily::Full {
                    for j in 0..i {
                        grad[2 * d + i * (i - 1) / 2 + j] += gx[i] * e[j];
                    }
                }
            }
        }
        if penalty > 0.0 {
            for i in 0..d {
                grad[i] -= penalty * self.mu()[i];
                let lii = self.l(i, i);
                grad[d + i] -= penalty * (lii * lii - 1.0);
                if self.family == PolicyFamily::Full {
                    for j in 0..i {
                        grad[2 * d + i * (i - 1) / 2 + j] -= penalty * self.l(i, j);
                    }
                }
            }
        }
        grad
    }
}

/// How an RL run optimises its policy.
#[derive(Debug, Clone, Copy)]
pub struct RlSettings {
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub log_every: usize,
    pub eval_samples: usize,
}

/// One logged step of an RL run.
#[derive(Debug, Clone, Copy)]
pub struct RlPoint {
    pub step: usize,
    pub kl: f64,
    pub entropy: f64,
    pub gold: f64,
    pub gold_se: f64,
    pub proxy: f64,
    pub proxy_se: f64,
}

/// Runs gradient ascent of `E[proxy] - penalty * KL(pi || pi_0)` from pi_0 with Adam, logging
/// at step 0, every `log_every` steps and at the end: exact KL and entropy, and the gold and
/// proxy means (with standard errors) over fresh samples from `eval_rng`.
pub fn optimise(
    family: PolicyFamily,
    proxy: &CalibratedProxy,
    gold: &GoldRm,
    penalty: f64,
    s: RlSettings,
    train_rng: &mut ChaCha8Rng,
    eval_rng: &mut ChaCha8Rng,
) -> Vec<RlPoint> {
    let dim = gold.dim;
    let mut policy = GaussianPolicy::initial(dim, family);
    let mut adam = Adam::new(policy.theta.len());
    let mut points = Vec::new();
    for step in 0..=s.steps {
        if step % s.log_every == 0 || step == s.steps {
            points.push(evaluate(
                &policy,
                proxy,
                gold,
                step,
                s.eval_samples,
                eval_rng,
            ));
        }
        if step == s.steps {
            break;
        }
        let eps = normals(s.batch * dim, train_rng);
        let grad = policy.objective_gradient(proxy, penalty, &eps);
        // Ascent: Adam descends on the negated gradient.
        let neg: Vec<f64> = grad.iter().map(|g| -g).collect();
        adam.descend(&mut policy.theta, &neg, s.lr);
    }
    points
}

fn evaluate(
    policy: &GaussianPolicy,
    proxy: &CalibratedProxy,
    gold: &GoldRm,
    step: usize,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> RlPoint {
    let x = policy.sample(n, rng);
    let golds: Vec<f64> = x
        .chunks_exact(policy.dim)
        .map(|xi| gold.score(xi))
        .collect();
    let proxies: Vec<f64> = x
        .chunks_exact(policy.dim)
        .map(|xi| proxy.score(xi))
        .collect();
    let se = |var: f64| (var / (n.max(2) - 1) as f64).sqrt();
    let (g, gv) = mean_var(&golds);
    let (p, pv) = mean_var(&proxies);
    RlPoint {
        step,
        kl: policy.kl_from_initial(),
        entropy: policy.entropy(),
        gold: g,
        gold_se: se(gv),
        proxy: p,
        proxy_se: se(pv),
    }
}
