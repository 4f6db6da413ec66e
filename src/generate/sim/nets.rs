//! The reward models of the simulated world: the fixed random gold RM, and the proxy RMs (small
//! ReLU networks) trained with the Bradley-Terry loss by hand-written backprop and Adam.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The gold reward model: a random two-layer tanh network plus a typicality term, normalised
/// to mean 0 and variance 1 under pi_0 = N(0, I_D).
///
/// `raw(x) = sum_j a_j tanh(w_j . x + b_j) - typicality * (|x|^2 - D) / sqrt(2 D)`, and
/// `gold(x) = (raw(x) - shift) / scale` with `shift` and `scale` the Monte Carlo mean and
/// standard deviation of `raw` under pi_0. The typicality term says that responses far from what
/// pi_0 writes are worse (the analogue of gibberish); nothing in it knows about any proxy.
#[derive(Debug, Clone)]
pub struct GoldRm {
    pub dim: usize,
    /// Hidden weights, row-major `hidden x dim`.
    w: Vec<f64>,
    b: Vec<f64>,
    a: Vec<f64>,
    typicality: f64,
    pub shift: f64,
    pub scale: f64,
}

impl GoldRm {
    /// Draws the network; `shift` and `scale` are set by [`GoldRm::normalise`].
    pub fn random(dim: usize, hidden: usize, typicality: f64, rng: &mut ChaCha8Rng) -> GoldRm {
        let w_sd = 1.0 / (dim as f64).sqrt();
        let w = (0..hidden * dim).map(|_| w_sd * normal(rng)).collect();
        let b = (0..hidden).map(|_| 0.5 * normal(rng)).collect();
        let a_sd = 1.0 / (hidden as f64).sqrt();
        let a = (0..hidden).map(|_| a_sd * normal(rng)).collect();
        GoldRm {
            dim,
            w,
            b,
            a,
            typicality,
            shift: 0.0,
            scale: 1.0,
        }
    }

    /// The unnormalised score.
    pub fn raw(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for (j, row) in self.w.chunks_exact(self.dim).enumerate() {
            s += self.a[j] * tanh(self.b[j] + dot(row, x));
        }
        let d = self.dim as f64;
        s - self.typicality * (dot(x, x) - d) / (2.0 * d).sqrt()
    }

    /// The normalised gold score.
    pub fn score(&self, x: &[f64]) -> f64 {
        (self.raw(x) - self.shift) / self.scale
    }

    /// Sets `shift` and `scale` to the mean and standard deviation of `raw` over `samples`
    /// (draws from pi_0, row-major `n x dim`).
    pub fn normalise(&mut self, samples: &[f64]) {
        let raws: Vec<f64> = samples
            .chunks_exact(self.dim)
            .map(|x| self.raw(x))
            .collect();
        let (mean, var) = mean_var(&raws);
        self.shift = mean;
        // A variance of 0 would need every hidden weight and the typicality to be 0; the
        // generator refuses such settings, so the fallback is never used in practice.
        self.scale = if var > 0.0 { var.sqrt() } else { 1.0 };
    }
}

/// A proxy reward model: a linear part plus a tanh hidden layer,
/// `r(x) = u . x + sum_j v_j tanh(w_j . x + c_j)` (no output bias: the Bradley-Terry loss
/// cannot see one), `dim + hidden * (dim + 2)` parameters; `hidden = 0` is a linear model.
///
/// Far from the data the tanh units saturate and `r` grows linearly along `u` without bound:
/// the proxy keeps promising more where it has never seen a comparison.
#[derive(Debug, Clone)]
pub struct ProxyNet {
    pub dim: usize,
    pub hidden: usize,
    /// `u` (dim), then the `hidden x dim` weights, then `hidden` biases, then `hidden` output
    /// weights.
    pub theta: Vec<f64>,
}

impl ProxyNet {
    /// A random start: `u = 0`, hidden pre-activations of unit scale under pi_0.
    pub fn random(dim: usize, hidden: usize, rng: &mut ChaCha8Rng) -> ProxyNet {
        let w_sd = 1.0 / (dim as f64).sqrt();
        let v_sd = 1.0 / (hidden.max(1) as f64).sqrt();
        let mut theta = Vec::with_capacity(Self::n_params(dim, hidden));
        theta.extend(std::iter::repeat_n(0.0, dim));
        theta.extend((0..hidden * dim).map(|_| w_sd * normal(rng)));
        theta.extend((0..hidden).map(|_| 0.5 * normal(rng)));
        theta.extend((0..hidden).map(|_| v_sd * normal(rng)));
        ProxyNet { dim, hidden, theta }
    }

    /// The number of parameters, `dim + hidden * (dim + 2)`.
    pub fn n_params(dim: usize, hidden: usize) -> usize {
        dim + hidden * (dim + 2)
    }

    fn parts(&self) -> (&[f64], &[f64], &[f64], &[f64]) {
        let (u, rest) = self.theta.split_at(self.dim);
        let (w, rest) = rest.split_at(self.hidden * self.dim);
        let (c, v) = rest.split_at(self.hidden);
        (u, w, c, v)
    }

    /// The raw score.
    pub fn score(&self, x: &[f64]) -> f64 {
        let (u, w, c, v) = self.parts();
        let mut s = dot(u, x);
        for (j, row) in w.chunks_exact(self.dim).enumerate() {
            s += v[j] * tanh(c[j] + dot(row, x));
        }
        s
    }

    /// Adds `weight * d r(x) / d x` to `grad_x`.
    pub fn add_input_gradient(&self, x: &[f64], weight: f64, grad_x: &mut [f64]) {
        let (u, w, c, v) = self.parts();
        for (gx, uk) in grad_x.iter_mut().zip(u) {
            *gx += weight * uk;
        }
        for (j, row) in w.chunks_exact(self.dim).enumerate() {
            let t = tanh(c[j] + dot(row, x));
            let g = weight * v[j] * (1.0 - t * t);
            for (gx, wk) in grad_x.iter_mut().zip(row) {
                *gx += g * wk;
            }
        }
    }

    /// The raw score, keeping the hidden activations in `act` (length `hidden`) for
    /// [`ProxyNet::add_param_gradient`].
    fn score_keeping(&self, x: &[f64], act: &mut [f64]) -> f64 {
        let (u, w, c, v) = self.parts();
        let mut s = dot(u, x);
        for (j, row) in w.chunks_exact(self.dim).enumerate() {
            act[j] = tanh(c[j] + dot(row, x));
            s += v[j] * act[j];
        }
        s
    }

    /// Adds `weight * d r(x) / d theta` to `grad` (laid out like `theta`), given the hidden
    /// activations `act` of `x` from [`ProxyNet::score_keeping`].
    fn add_param_gradient(&self, x: &[f64], act: &[f64], weight: f64, grad: &mut [f64]) {
        let (h, d) = (self.hidden, self.dim);
        let (_, _, _, v) = self.parts();
        let (gu, rest) = grad.split_at_mut(d);
        let (gw, rest) = rest.split_at_mut(h * d);
        let (gc, gv) = rest.split_at_mut(h);
        for (g, xk) in gu.iter_mut().zip(x) {
            *g += weight * xk;
        }
        for (j, &t) in act.iter().enumerate() {
            gv[j] += weight * t;
            let g = weight * v[j] * (1.0 - t * t);
            gc[j] += g;
            for (gwk, xk) in gw[j * d..(j + 1) * d].iter_mut().zip(x) {
                *gwk += g * xk;
            }
        }
    }
}

/// Comparisons: pairs of responses and the probability that the first one wins (1 or 0 for
/// deterministic labels).
#[derive(Debug, Clone)]
pub struct Comparisons {
    pub dim: usize,
    /// Row-major `n x dim` first responses.
    pub first: Vec<f64>,
    /// Row-major `n x dim` second responses.
    pub second: Vec<f64>,
    /// The training target: P(first wins).
    pub label: Vec<f64>,
    /// The gold soft label sigmoid(gold(first) - gold(second)), used for recalibration.
    pub soft: Vec<f64>,
}

impl Comparisons {
    pub fn len(&self) -> usize {
        self.label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.label.is_empty()
    }

    pub fn pair(&self, i: usize) -> (&[f64], &[f64]) {
        let d = self.dim;
        (
            &self.first[i * d..(i + 1) * d],
            &self.second[i * d..(i + 1) * d],
        )
    }

    /// `n` pairs drawn from pi_0, labelled by the gold RM: deterministically (the higher gold
    /// score wins, as in the paper) or sampled from the Bradley-Terry model of the gold score.
    pub fn draw(
        n: usize,
        gold: &GoldRm,
        sampled_labels: bool,
        rng: &mut ChaCha8Rng,
    ) -> Comparisons {
        let dim = gold.dim;
        let first = normals(n * dim, rng);
        let second = normals(n * dim, rng);
        let mut label = Vec::with_capacity(n);
        let mut soft = Vec::with_capacity(n);
        for i in 0..n {
            let diff = gold.score(&first[i * dim..(i + 1) * dim])
                - gold.score(&second[i * dim..(i + 1) * dim]);
            let p = sigmoid(diff);
            soft.push(p);
            let u: f64 = rng.random();
            let wins = if sampled_labels { u < p } else { diff > 0.0 };
            label.push(if wins { 1.0 } else { 0.0 });
        }
        Comparisons {
            dim,
            first,
            second,
            label,
            soft,
        }
    }
}

/// How a proxy RM is trained.
#[derive(Debug, Clone, Copy)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
}

/// Trains `net` on the first `n_data` comparisons of `data` by minibatch Adam on the mean
/// Bradley-Terry loss; the learning rate decays linearly to a tenth. Returns the final
/// training loss (over those comparisons).
pub fn train_bradley_terry(
    net: &mut ProxyNet,
    data: &Comparisons,
    n_data: usize,
    s: TrainSettings,
    rng: &mut ChaCha8Rng,
) -> f64 {
    let n_data = n_data.min(data.len());
    let batch = s.batch.clamp(1, n_data.max(1));
    let steps = (s.epochs * n_data).div_ceil(batch);
    let mut adam = Adam::new(net.theta.len());
    let mut grad = vec![0.0; net.theta.len()];
    let (mut act_a, mut act_b) = (vec![0.0; net.hidden], vec![0.0; net.hidden]);
    let mut order: Vec<usize> = (0..n_data).collect();
    let mut cursor = n_data;
    for step in 0..steps {
        grad.iter_mut().for_each(|g| *g = 0.0);
        for _ in 0..batch {
            if cursor == n_data {
                shuffle(&mut order, rng);
                cursor = 0;
            }
            let i = order[cursor];
            cursor += 1;
            let (a, b) = data.pair(i);
            let diff = net.score_keeping(a, &mut act_a) - net.score_keeping(b, &mut act_b);
            // d loss / d diff for loss = -t ln p - (1-t) ln(1-p), p = sigmoid(diff).
            let g = (sigmoid(diff) - data.label[i]) / batch as f64;
            net.add_param_gradient(a, &act_a, g, &mut grad);
            net.add_param_gradient(b, &act_b, -g, &mut grad);
        }
        let lr = s.lr * (1.0 - 0.9 * step as f64 / steps.max(1) as f64);
        adam.descend(&mut net.theta, &grad, lr);
    }
    let scores = |i: usize| {
        let (a, b) = data.pair(i);
        net.score(a) - net.score(b)
    };
    (0..n_data)
        .map(|i| cross_entropy(data.label[i], scores(i)))
        .sum::<f64>()
        / n_data.max(1) as f64
}

/// The logit scale `s` minimising the cross-entropy between `sigmoid(s * diff_i)` and the
/// targets. The derivative in `s` is increasing (the loss is convex), so its root is found by
/// bracketing and bisection, which cannot diverge.
pub fn fit_logit_scale(diffs: &[f64], targets: &[f64]) -> f64 {
    if diffs.iter().all(|d| *d == 0.0) {
        // A proxy that cannot tell the pairs apart: every scale fits equally; keep its sign.
        return 1.0;
    }
    let slope = |s: f64| -> f64 {
        diffs
            .iter()
            .zip(targets)
            .map(|(&d, &t)| (sigmoid(s * d) - t) * d)
            .sum()
    };
    let (mut lo, mut hi) = (-1.0_f64, 1.0_f64);
    while slope(lo) > 0.0 && lo > -1e12 {
        lo *= 2.0;
    }
    while slope(hi) < 0.0 && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if slope(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-14 * mid.abs().max(1e-300) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Adam (Kingma and Ba) with the usual betas; `descend` steps against the gradient.
#[derive(Debug, Clone)]
pub struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    pub fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    pub fn descend(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        for i in 0..theta.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * grad[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * grad[i] * grad[i];
            theta[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// tanh through one `exp_m1` (faster than the library's `tanh`; accurate to a few ulps):
/// with `m = e^(-2|z|) - 1`, `tanh |z| = -m / (2 + m)`.
pub fn tanh(z: f64) -> f64 {
    let m = (-2.0 * z.abs()).exp_m1();
    (-m / (2.0 + m)).copysign(z)
}

pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `-t ln sigmoid(z) - (1 - t) ln(1 - sigmoid(z))`, computed stably.
pub fn cross_entropy(t: f64, z: f64) -> f64 {
    // ln(1 + e^z) - t z
    let softplus = if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    };
    softplus - t * z
}

pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// `n` standard normal draws.
pub fn normals(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| normal(rng)).collect()
}

/// Mean and (population) variance.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var)
}

/// Fisher-Yates with the given generator (so the order depends only on the seed).
fn shuffle(v: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// A trained proxy, re-centred under pi_0 and recalibrated on held-out comparisons:
/// `proxy(x) = logit_scale * (net(x) - centre)`.
#[derive(Debug, Clone)]
pub struct CalibratedProxy {
    pub net: ProxyNet,
    pub centre: f64,
    pub logit_scale: f64,
}

impl CalibratedProxy {
    pub fn score(&self, x: &[f64]) -> f64 {
        self.logit_scale * (self.net.score(x) - self.centre)
    }

    /// Adds `weight * d proxy(x) / d x` to `grad_x`.
    pub fn add_input_gradient(&self, x: &[f64], weight: f64, grad_x: &mut [f64]) {
        self.net
            .add_input_gradient(x, weight * self.logit_scale, grad_x);
    }
}
