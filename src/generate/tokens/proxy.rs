//! Proxy reward models of the token world: linear token scores fitted by the Bradley-Terry loss
//! on gold-labelled comparisons with argmin's full-batch L-BFGS (deterministic), then
//! recalibrated to mean 0 and standard deviation 1 under pi_0, exactly.

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::spec::ProxySize;
use super::world::TokenWorld;

/// Comparisons between pairs of responses, each stored as the difference of their token counts
/// (sparse: at most 2T tokens) and the sign of the gold preference (+1 when the first wins).
#[derive(Debug, Clone, Default)]
pub struct Comparisons {
    /// Row i's entries are `tokens[start[i]..start[i + 1]]` with coefficients `counts[..]`.
    start: Vec<usize>,
    tokens: Vec<u32>,
    counts: Vec<f64>,
    sign: Vec<f64>,
}

impl Comparisons {
    /// `n` comparisons between independent draws of the position-wise policy `p`, labelled
    /// by the gold reward (the higher gold wins; a tie counts as a loss of the first).
    pub fn draw(world: &TokenWorld, p: &[f64], n: usize, rng: &mut ChaCha8Rng) -> Comparisons {
        let a = world.sample(p, n, rng);
        let b = world.sample(p, n, rng);
        let mut c = Comparisons {
            start: vec![0],
            ..Comparisons::default()
        };
        let t = world.positions;
        for (ra, rb) in a.chunks_exact(t).zip(b.chunks_exact(t)) {
            let ga: f64 = ra.iter().map(|&v| world.gold[v as usize]).sum();
            let gb: f64 = rb.iter().map(|&v| world.gold[v as usize]).sum();
            c.push(ra, rb, if ga > gb { 1.0 } else { -1.0 });
        }
        c
    }

    fn push(&mut self, a: &[u32], b: &[u32], sign: f64) {
        let mut entries: Vec<(u32, f64)> = a
            .iter()
            .map(|&v| (v, 1.0))
            .chain(b.iter().map(|&v| (v, -1.0)))
            .collect();
        entries.sort_by_key(|e| e.0);
        let mut merged: Vec<(u32, f64)> = Vec::with_capacity(entries.len());
        for (v, c) in entries {
            match merged.last_mut() {
                Some(last) if last.0 == v => last.1 += c,
                _ => merged.push((v, c)),
            }
        }
        for (v, c) in merged.into_iter().filter(|e| e.1 != 0.0) {
            self.tokens.push(v);
            self.counts.push(c);
        }
        self.start.push(self.tokens.len());
        self.sign.push(sign);
    }

    pub fn len(&self) -> usize {
        self.sign.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sign.is_empty()
    }

    /// The first `n` comparisons.
    pub fn prefix(&self, n: usize) -> Comparisons {
        let end = self.start[n];
        Comparisons {
            start: self.start[..=n].to_vec(),
            tokens: self.tokens[..end].to_vec(),
            counts: self.counts[..end].to_vec(),
            sign: self.sign[..n].to_vec(),
        }
    }

    /// These comparisons followed by `other`'s.
    pub fn concat(&self, other: &Comparisons) -> Comparisons {
        let off = self.tokens.len();
        let mut c = self.clone();
        c.start.extend(other.start[1..].iter().map(|s| s + off));
        c.tokens.extend(&other.tokens);
        c.counts.extend(&other.counts);
        c.sign.extend(&other.sign);
        c
    }

    /// The margins `sign_i * (r(a_i) - r(b_i))` under token scores `r`.
    fn margins(&self, r: &[f64]) -> Vec<f64> {
        (0..self.len())
            .map(|i| {
                let (s, e) = (self.start[i], self.start[i + 1]);
                self.sign[i]
                    * self.tokens[s..e]
                        .iter()
                        .zip(&self.counts[s..e])
                        .map(|(&v, c)| c * r[v as usize])
                        .sum::<f64>()
            })
            .collect()
    }

    /// Mean Bradley-Terry loss and accuracy (a tie counts as wrong) of token scores `r`.
    pub fn loss_accuracy(&self, r: &[f64]) -> (f64, f64) {
        let z = self.margins(r);
        let n = z.len() as f64;
        (
            z.iter().map(|z| softplus(-z)).sum::<f64>() / n,
            z.iter().filter(|z| **z > 0.0).count() as f64 / n,
        )
    }
}

/// ln(1 + e^x), stably.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The Bradley-Terry objective of one proxy size on one data set: the argmin problem.
struct BradleyTerry<'a> {
    world: &'a TokenWorld,
    size: ProxySize,
    free: &'a [usize],
    data: &'a Comparisons,
    l2_embedding: f64,
    l2_free: f64,
}

impl BradleyTerry<'_> {
    fn token_scores(&self, theta: &[f64]) -> Vec<f64> {
        token_scores(self.world, self.size, self.free, theta)
    }
}

/// `r(v) = u . E_v[..k] + b_v` for parameters `theta = [u, b]`.
fn token_scores(world: &TokenWorld, size: ProxySize, free: &[usize], theta: &[f64]) -> Vec<f64> {
    let k = size.embedding_dims;
    let mut r: Vec<f64> = world
        .embedding
        .chunks_exact(world.dims)
        .map(|e| e[..k].iter().zip(&theta[..k]).map(|(a, b)| a * b).sum())
        .collect();
    for (&v, b) in free.iter().zip(&theta[k..]) {
        r[v] += b;
    }
    r
}

impl CostFunction for BradleyTerry<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        let (loss, _) = self.data.loss_accuracy(&self.token_scores(theta));
        let k = self.size.embedding_dims;
        let n = self.data.len() as f64;
        let reg_u: f64 = theta[..k].iter().map(|u| u * u).sum();
        let reg_b: f64 = theta[k..].iter().map(|b| b * b).sum();
        Ok(loss + self.l2_embedding * reg_u + self.l2_free * reg_b / n)
    }
}

impl Gradient for BradleyTerry<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let d = self.data;
        let z = d.margins(&self.token_scores(theta));
        let n = d.len() as f64;
        // d loss / d r_v
        let mut gr = vec![0.0; self.world.vocab];
        for (i, z) in z.iter().enumerate() {
            let w = -d.sign[i] / (1.0 + z.exp()) / n;
            for j in d.start[i]..d.start[i + 1] {
                gr[d.tokens[j] as usize] += w * d.counts[j];
            }
        }
        let k = self.size.embedding_dims;
        let mut g = vec![0.0; k + self.free.len()];
        for (e, gv) in self.world.embedding.chunks_exact(self.world.dims).zip(&gr) {
            if *gv != 0.0 {
                for (gj, ej) in g[..k].iter_mut().zip(&e[..k]) {
                    *gj += gv * ej;
                }
            }
        }
        for (j, &v) in self.free.iter().enumerate() {
            g[k + j] = gr[v];
        }
        for (gj, t) in g[..k].iter_mut().zip(&theta[..k]) {
            *gj += 2.0 * self.l2_embedding * t;
        }
        for (gj, t) in g[k..].iter_mut().zip(&theta[k..]) {
            *gj += 2.0 * self.l2_free * t / n;
        }
        Ok(g)
    }
}

/// A fitted proxy: its token scores, calibrated under pi_0, and how its fit ended.
#[derive(Debug, Clone, Serialize)]
pub struct TokenProxy {
    pub size: ProxySize,
    pub rm_data: usize,
    /// Calibrated token scores: the proxy score of a response is their sum, with mean 0 and
    /// standard deviation 1 under pi_0.
    #[serde(skip)]
    pub scores: Vec<f64>,
    /// Raw (uncalibrated) token scores, for the Bradley-Terry validation metrics.
    #[serde(skip)]
    pub raw: Vec<f64>,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub lbfgs_iters: u64,
    /// argmin's termination reason.
    pub termination: String,
}

/// The settings of a proxy fit.
#[derive(Debug, Clone, Copy)]
pub struct FitSettings {
    pub l2_embedding: f64,
    pub l2_free: f64,
    pub max_iters: u64,
}

/// Fits a proxy of `size` on `data` by full-batch L-BFGS from zero and calibrates it.
pub fn fit_proxy(
    world: &TokenWorld,
    size: ProxySize,
    data: &Comparisons,
    val: &Comparisons,
    settings: FitSettings,
) -> Result<TokenProxy, String> {
    let free = most_frequent(world, size.free_tokens);
    let problem = BradleyTerry {
        world,
        size,
        free: &free,
        data,
        l2_embedding: settings.l2_embedding,
        l2_free: settings.l2_free,
    };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-8)
        .and_then(|s| s.with_tolerance_cost(1e-13))
        .map_err(|e| e.to_string())?;
    let res = Executor::new(problem, solver)
        .configure(|s| {
            s.param(vec![0.0; size.params()])
                .max_iters(settings.max_iters)
        })
        .run()
        .map_err(|e| e.to_string())?;
    let state = res.state();
    let theta = state
        .get_best_param()
        .ok_or_else(|| "L-BFGS returned no parameters".to_string())?;
    let raw = token_scores(world, size, &free, theta);
    let (mean, var) = world.moments(&raw, &world.p0);
    let sd = var.sqrt();
    let t = world.positions as f64;
    let scores = raw.iter().map(|r| (r - mean / t) / sd).collect();
    let (train_loss, _) = data.loss_accuracy(&raw);
    let (val_loss, val_accuracy) = val.loss_accuracy(&raw);
    Ok(TokenProxy {
        size,
        rm_data: data.len(),
        scores,
        raw,
        train_loss,
        val_loss,
        val_accuracy,
        lbfgs_iters: state.get_iter(),
        termination: state
            .get_termination_reason()
            .map_or("not terminated".to_string(), |r| r.text().to_string()),
    })
}

/// The `m` most frequent tokens under pi_0 (by the frequency averaged over positions; ties by
/// index), in increasing index order.
fn most_frequent(world: &TokenWorld, m: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..world.vocab).collect();
    order.sort_by(|&a, &b| world.pbar[b].total_cmp(&world.pbar[a]).then(a.cmp(&b)));
    let mut free = order[..m].to_vec();
    free.sort_unstable();
    free
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::sim::{Stream, rng};
    use crate::generate::tokens::spec::{TokenPreset, TokenSpec};

    #[test]
    fn the_gradient_matches_finite_differences() {
        let mut spec = TokenSpec::preset(TokenPreset::Test);
        spec.vocab = 128;
        let w = TokenWorld::new(&spec);
        let data = Comparisons::draw(&w, &w.p0, 300, &mut rng(1, Stream::TrainComparisons, &[]));
        let size = ProxySize {
            embedding_dims: 4,
            free_tokens: 5,
        };
        let free = most_frequent(&w, 5);
        let p = BradleyTerry {
            world: &w,
            size,
            free: &free,
            data: &data,
            l2_embedding: 0.01,
            l2_free: 1.0,
        };
        let theta: Vec<f64> = (0..9).map(|i| 0.1 * i as f64 - 0.3).collect();
        let g = p.gradient(&theta).unwrap();
        for i in 0..9 {
            let h = 1e-6;
            let mut a = theta.clone();
            let mut b = theta.clone();
            a[i] += h;
            b[i] -= h;
            let fd = (p.cost(&a).unwrap() - p.cost(&b).unwrap()) / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-7, "{i}: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn a_fit_is_calibrated_and_beats_chance() {
        let mut spec = TokenSpec::preset(TokenPreset::Test);
        spec.vocab = 256;
        let w = TokenWorld::new(&spec);
        let data = Comparisons::draw(&w, &w.p0, 2000, &mut rng(1, Stream::TrainComparisons, &[]));
        let val = Comparisons::draw(&w, &w.p0, 2000, &mut rng(1, Stream::ValComparisons, &[]));
        let settings = FitSettings {
            l2_embedding: 1e-3,
            l2_free: 1.0,
            max_iters: 500,
        };
        let size = ProxySize {
            embedding_dims: 32,
            free_tokens: 16,
        };
        let p = fit_proxy(&w, size, &data, &val, settings).unwrap();
        let (m, v) = w.moments(&p.scores, &w.p0);
        assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-12);
        assert!(p.val_accuracy > 0.6, "{}", p.val_accuracy);
        assert_ne!(p.termination, "not terminated");
        // the same fit twice gives the same bits
        let q = fit_proxy(&w, size, &data, &val, settings).unwrap();
        assert_eq!(p.raw, q.raw);
    }
}
