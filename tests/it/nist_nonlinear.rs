//! The nonlinear solver against the 27 NIST StRD nonlinear regression datasets: the model code
//! reproduces the certified residual sum of squares at the certified parameters, and the solver,
//! started from start 1 and from start 2, reaches the certified parameters and residual sum of
//! squares. Derivatives come from forward-mode dual numbers, so no Jacobian is typed by hand.

use std::ops::{Add, Div, Mul, Neg, Sub};

use nalgebra::DMatrix;

use goodhart::solve::nonlinear::{LeastSquares, SolverOptions, solve};

const MAX_P: usize = 9;

/// A number with its gradient with respect to the parameters.
#[derive(Clone, Copy, Debug)]
struct D {
    v: f64,
    g: [f64; MAX_P],
}

impl D {
    fn c(v: f64) -> D {
        D { v, g: [0.0; MAX_P] }
    }
    fn var(v: f64, j: usize) -> D {
        let mut g = [0.0; MAX_P];
        g[j] = 1.0;
        D { v, g }
    }
    fn chain(self, v: f64, dv: f64) -> D {
        D {
            v,
            g: self.g.map(|x| x * dv),
        }
    }
    fn exp(self) -> D {
        let e = self.v.exp();
        self.chain(e, e)
    }
    fn ln(self) -> D {
        self.chain(self.v.ln(), 1.0 / self.v)
    }
    fn sin(self) -> D {
        self.chain(self.v.sin(), self.v.cos())
    }
    fn cos(self) -> D {
        self.chain(self.v.cos(), -self.v.sin())
    }
    fn atan(self) -> D {
        self.chain(self.v.atan(), 1.0 / (1.0 + self.v * self.v))
    }
    fn powf(self, k: f64) -> D {
        self.chain(self.v.powf(k), k * self.v.powf(k - 1.0))
    }
}

impl Add for D {
    type Output = D;
    fn add(self, o: D) -> D {
        let mut g = self.g;
        for (a, b) in g.iter_mut().zip(o.g) {
            *a += b;
        }
        D { v: self.v + o.v, g }
    }
}
impl Sub for D {
    type Output = D;
    fn sub(self, o: D) -> D {
        self + (-o)
    }
}
impl Neg for D {
    type Output = D;
    fn neg(self) -> D {
        D {
            v: -self.v,
            g: self.g.map(|x| -x),
        }
    }
}
impl Mul for D {
    type Output = D;
    fn mul(self, o: D) -> D {
        let mut g = [0.0; MAX_P];
        for (j, gj) in g.iter_mut().enumerate() {
            *gj = self.g[j] * o.v + self.v * o.g[j];
        }
        D { v: self.v * o.v, g }
    }
}
impl Div for D {
    type Output = D;
    fn div(self, o: D) -> D {
        let mut g = [0.0; MAX_P];
        for (j, gj) in g.iter_mut().enumerate() {
            *gj = (self.g[j] * o.v - self.v * o.g[j]) / (o.v * o.v);
        }
        D { v: self.v / o.v, g }
    }
}
impl Add<f64> for D {
    type Output = D;
    fn add(self, o: f64) -> D {
        D {
            v: self.v + o,
            g: self.g,
        }
    }
}
impl Sub<f64> for D {
    type Output = D;
    fn sub(self, o: f64) -> D {
        D {
            v: self.v - o,
            g: self.g,
        }
    }
}
impl Mul<f64> for D {
    type Output = D;
    fn mul(self, o: f64) -> D {
        self.chain(self.v * o, o)
    }
}
impl Div<f64> for D {
    type Output = D;
    fn div(self, o: f64) -> D {
        self.chain(self.v / o, 1.0 / o)
    }
}
impl Add<D> for f64 {
    type Output = D;
    fn add(self, o: D) -> D {
        o + self
    }
}
impl Sub<D> for f64 {
    type Output = D;
    fn sub(self, o: D) -> D {
        -o + self
    }
}
impl Mul<D> for f64 {
    type Output = D;
    fn mul(self, o: D) -> D {
        o * self
    }
}
impl Div<D> for f64 {
    type Output = D;
    fn div(self, o: D) -> D {
        D::c(self) / o
    }
}

type Model = fn(&[D], &[f64]) -> D;

/// The model of each dataset, as written in NIST's `Models` file (x = predictors).
fn model(name: &str) -> Model {
    use std::f64::consts::PI;
    match name {
        "Misra1a" | "BoxBOD" => |b, x| b[0] * (1.0 - (-(b[1] * x[0])).exp()),
        "Chwirut1" | "Chwirut2" => |b, x| (-(b[0] * x[0])).exp() / (b[1] + b[2] * x[0]),
        "DanWood" => |b, x| b[0] * (b[1] * x[0].ln()).exp(),
        "Gauss1" | "Gauss2" | "Gauss3" => |b, x| {
            let g = |a: D, mu: D, s: D| {
                let z = (-(mu - x[0])) / s;
                a * (-(z * z)).exp()
            };
            b[0] * (-(b[1] * x[0])).exp() + g(b[2], b[3], b[4]) + g(b[5], b[6], b[7])
        },
        "Lanczos1" | "Lanczos2" | "Lanczos3" => |b, x| {
            b[0] * (-(b[1] * x[0])).exp()
                + b[2] * (-(b[3] * x[0])).exp()
                + b[4] * (-(b[5] * x[0])).exp()
        },
        "Misra1b" => |b, x| b[0] * (1.0 - (1.0 + b[1] * x[0] / 2.0).powf(-2.0)),
        "Kirby2" => |b, x| {
            let x = x[0];
            (b[0] + b[1] * x + b[2] * (x * x)) / (1.0 + b[3] * x + b[4] * (x * x))
        },
        "Hahn1" | "Thurber" => |b, x| {
            let x = x[0];
            (b[0] + b[1] * x + b[2] * (x * x) + b[3] * (x * x * x))
                / (1.0 + b[4] * x + b[5] * (x * x) + b[6] * (x * x * x))
        },
        "Nelson" => |b, x| b[0] - b[1] * x[0] * (-(b[2] * x[1])).exp(),
        "MGH17" => |b, x| b[0] + b[1] * (-(b[3] * x[0])).exp() + b[2] * (-(b[4] * x[0])).exp(),
        "Misra1c" => |b, x| b[0] * (1.0 - (1.0 + 2.0 * b[1] * x[0]).powf(-0.5)),
        "Misra1d" => |b, x| b[0] * b[1] * x[0] / (1.0 + b[1] * x[0]),
        "Roszman1" => |b, x| b[0] - b[1] * x[0] - (b[2] / (D::c(x[0]) - b[3])).atan() / PI,
        "ENSO" => |b, x| {
            let w = 2.0 * PI * x[0];
            let x = x[0];
            D::c(0.0)
                + b[0]
                + b[1] * (2.0 * PI * x / 12.0).cos()
                + b[2] * (2.0 * PI * x / 12.0).sin()
                + b[4] * (w / b[3]).cos()
                + b[5] * (w / b[3]).sin()
                + b[7] * (w / b[6]).cos()
                + b[8] * (w / b[6]).sin()
        },
        "MGH09" => |b, x| {
            let x = x[0];
            b[0] * (x * x + x * b[1]) / (x * x + x * b[2] + b[3])
        },
        "MGH10" => |b, x| b[0] * (b[1] / (x[0] + b[2])).exp(),
        "Eckerle4" => |b, x| {
            let z = (-(b[2] - x[0])) / b[1];
            (b[0] / b[1]) * (-(z * z) * 0.5).exp()
        },
        "Rat42" => |b, x| b[0] / (1.0 + (b[1] - b[2] * x[0]).exp()),
        "Rat43" => |b, x| b[0] / ((1.0 + (b[1] - b[2] * x[0]).exp()).ln() / b[3]).exp(),
        "Bennett5" => |b, x| b[0] * ((b[1] + x[0]).ln() * (-1.0 / b[2])).exp(),
        other => panic!("no model for {other}"),
    }
}

/// NIST's Nelson model is for log(y).
fn response(name: &str, y: f64) -> f64 {
    if name == "Nelson" { y.ln() } else { y }
}

struct Dataset {
    name: String,
    difficulty: String,
    start1: Vec<f64>,
    start2: Vec<f64>,
    certified: Vec<f64>,
    certified_sd: Vec<f64>,
    certified_rss: f64,
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    /// The first predictor and the response exactly as printed, in double-double (a decimal
    /// such as 0.05 is not an f64).
    x_dd: Vec<Dd>,
    y_dd: Vec<Dd>,
}

/// A decimal like `2.513400000000E+00` in double-double: its digits as an integer (exact in f64
/// up to 2^53), scaled by a power of ten (exact in f64 up to 1e22) with an exact division.
fn parse_dd(text: &str) -> Dd {
    let (mant, exp) = match text.to_ascii_uppercase().split_once('E') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap()),
        None => (text.to_string(), 0),
    };
    let frac_digits = mant.split_once('.').map_or(0, |(_, f)| f.len() as i32);
    let digits: f64 = mant.replace('.', "").parse().unwrap();
    assert!(digits.abs() < 9.007e15, "{text}: too many digits");
    let e10 = exp - frac_digits;
    if e10 >= 0 {
        Dd::from(digits).mul(Dd::from(10f64.powi(e10)))
    } else {
        Dd::from(digits).div_f64(10f64.powi(-e10))
    }
}

/// "(lines 61 to 74)" -> (61, 74)
fn line_range(line: &str) -> (usize, usize) {
    let inner = line.split('(').nth(1).unwrap().trim_end_matches(')');
    let w: Vec<&str> = inner.split_whitespace().collect();
    (w[1].parse().unwrap(), w[3].parse().unwrap())
}

fn load(name: &str) -> Dataset {
    let path = format!("{}/tests/data/nist/{name}.dat", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let data = line_range(
        lines
            .iter()
            .find(|l| l.trim_start().starts_with("Data  "))
            .unwrap(),
    );
    let difficulty = lines
        .iter()
        .find(|l| l.contains("Level of Difficulty"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut ds = Dataset {
        name: name.to_string(),
        difficulty,
        start1: vec![],
        start2: vec![],
        certified: vec![],
        certified_sd: vec![],
        certified_rss: f64::NAN,
        x: vec![],
        y: vec![],
        x_dd: vec![],
        y_dd: vec![],
    };
    for line in &lines {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() == 6 && w[0].starts_with('b') && w[1] == "=" {
            ds.start1.push(w[2].parse().unwrap());
            ds.start2.push(w[3].parse().unwrap());
            ds.certified.push(w[4].parse().unwrap());
            ds.certified_sd.push(w[5].parse().unwrap());
        } else if line.starts_with("Residual Sum of Squares:") {
            ds.certified_rss = w[4].parse().unwrap();
        }
    }
    for line in &lines[data.0 - 1..data.1] {
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect();
        ds.y.push(v[0]);
        ds.x.push(v[1..].to_vec());
        let words: Vec<&str> = line.split_whitespace().collect();
        ds.y_dd.push(parse_dd(words[0]));
        ds.x_dd.push(parse_dd(words[1]));
    }
    assert!(
        !ds.certified.is_empty() && ds.certified_rss.is_finite(),
        "{name}: parse"
    );
    assert_eq!(ds.y.len(), data.1 - data.0 + 1);
    ds
}

/// Double-double arithmetic (a value as an unevaluated sum hi + lo, about 32 digits).
#[derive(Clone, Copy, Debug)]
struct Dd(f64, f64);

impl Dd {
    fn from(x: f64) -> Dd {
        Dd(x, 0.0)
    }
    fn two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        let bb = s - a;
        Dd(s, (a - (s - bb)) + (b - bb))
    }
    fn add(self, o: Dd) -> Dd {
        let s = Dd::two_sum(self.0, o.0);
        let t = Dd::two_sum(self.1, o.1);
        let hi = Dd::two_sum(s.0, s.1 + t.0);
        Dd::two_sum(hi.0, hi.1 + t.1)
    }
    fn neg(self) -> Dd {
        Dd(-self.0, -self.1)
    }
    fn mul(self, o: Dd) -> Dd {
        let p = self.0 * o.0;
        let e = self.0.mul_add(o.0, -p);
        Dd::two_sum(p, e + self.0 * o.1 + self.1 * o.0)
    }
    /// Division by an f64, exact to double-double precision (remainder by fused multiply-add).
    fn div_f64(self, n: f64) -> Dd {
        let q1 = self.0 / n;
        let p = q1 * n;
        let e = q1.mul_add(n, -p);
        let rem = ((self.0 - p) - e) + self.1;
        Dd::two_sum(q1, rem / n)
    }
    fn scale2(self, k: i32) -> Dd {
        let f = 2f64.powi(k);
        Dd(self.0 * f, self.1 * f)
    }
    /// exp by range reduction x = k ln2 + r, r / 2^10 in a Taylor series, then squaring.
    fn exp(self) -> Dd {
        const LN2: Dd = Dd(std::f64::consts::LN_2, 2.319_046_813_846_299_6e-17);
        let k = (self.0 / LN2.0).round();
        let r = self.add(LN2.mul(Dd::from(k)).neg()).scale2(-10);
        let mut term = Dd::from(1.0);
        let mut sum = Dd::from(1.0);
        for n in 1..=14 {
            term = term.mul(r).div_f64(n as f64);
            sum = sum.add(term);
        }
        for _ in 0..10 {
            sum = sum.mul(sum);
        }
        sum.scale2(k as i32)
    }
}

/// y - sum b_{2j} exp(-b_{2j+1} x), in double-double, rounded to f64 at the end.
fn lanczos_residual_dd(b: &[f64], x: Dd, y: Dd) -> f64 {
    let mut r = y;
    for j in 0..3 {
        let e = Dd::from(b[2 * j + 1]).mul(x).neg().exp();
        r = r.add(Dd::from(b[2 * j]).mul(e).neg());
    }
    r.0 + r.1
}

struct Problem<'a> {
    ds: &'a Dataset,
    model: Model,
}

impl Problem<'_> {
    fn eval(&self, p: &[f64], i: usize) -> D {
        let b: Vec<D> = p.iter().enumerate().map(|(j, &v)| D::var(v, j)).collect();
        (self.model)(&b, &self.ds.x[i])
    }
}

impl LeastSquares for Problem<'_> {
    fn n_params(&self) -> usize {
        self.ds.certified.len()
    }
    fn n_residuals(&self) -> usize {
        self.ds.y.len()
    }
    fn residuals(&self, p: &[f64], out: &mut [f64]) {
        for (i, r) in out.iter_mut().enumerate() {
            *r = match self.ds.name.as_str() {
                // Lanczos residuals (~1e-13 for Lanczos1) are far below the rounding error of
                // an f64 model value (~1e-16 * y): evaluate them in double-double.
                "Lanczos1" | "Lanczos2" | "Lanczos3" => {
                    lanczos_residual_dd(p, self.ds.x_dd[i], self.ds.y_dd[i])
                }
                _ => response(&self.ds.name, self.ds.y[i]) - self.eval(p, i).v,
            };
        }
    }
    fn jacobian(&self, p: &[f64], out: &mut DMatrix<f64>) {
        for i in 0..self.ds.y.len() {
            let f = self.eval(p, i);
            for j in 0..p.len() {
                out[(i, j)] = -f.g[j];
            }
        }
    }
}

const ALL: [&str; 27] = [
    "Misra1a", "Chwirut2", "Chwirut1", "Lanczos3", "Gauss1", "Gauss2", "DanWood", "Misra1b",
    "Kirby2", "Hahn1", "Nelson", "MGH17", "Lanczos1", "Lanczos2", "Gauss3", "Misra1c", "Misra1d",
    "Roszman1", "ENSO", "MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43",
    "Bennett5",
];

/// Log relative error: the number of significant digits that agree (NIST's LRE), capped at 11.
fn lre(got: f64, cert: f64) -> f64 {
    if got == cert {
        return 11.0;
    }
    let rel = (got - cert).abs() / cert.abs();
    (-rel.log10()).clamp(0.0, 11.0)
}

struct Outcome {
    min_lre_params: f64,
    lre_rss: f64,
    termination: String,
}

fn run(ds: &Dataset, start: &[f64]) -> Outcome {
    let problem = Problem {
        ds,
        model: model(&ds.name),
    };
    let s = match solve(&problem, &[start.to_vec()], &SolverOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            return Outcome {
                min_lre_params: 0.0,
                lre_rss: 0.0,
                termination: e.to_string(),
            };
        }
    };
    let min_lre_params = s
        .params
        .iter()
        .zip(&ds.certified)
        .map(|(&g, &c)| lre(g, c))
        .fold(f64::INFINITY, f64::min);
    if std::env::var("NIST_DEBUG").is_ok() {
        eprintln!(
            "{}: ssr {:e} certified {:e} params {:?}",
            ds.name, s.ssr, ds.certified_rss, s.params
        );
    }
    Outcome {
        min_lre_params,
        lre_rss: lre(s.ssr, ds.certified_rss),
        termination: s.termination,
    }
}

#[test]
fn double_double_exp_is_accurate() {
    // e = 2.718281828459045 + 1.4456468917292502e-16 (the next 16 digits of e)
    let e = Dd::from(1.0).exp();
    assert_eq!(e.0, std::f64::consts::E);
    // (double-double carries ~32 digits; the 10 squarings of the reduced argument cost 3)
    assert!(
        (e.1 - 1.445_646_891_729_250_2e-16).abs() < 1e-27,
        "{:e}",
        e.1
    );
    // exp(-x) exp(x) = 1 to double-double precision
    for x in [0.05, 1.3, 7.9] {
        let one = Dd::from(x)
            .exp()
            .mul(Dd::from(-x).exp())
            .add(Dd::from(-1.0));
        assert!((one.0 + one.1).abs() < 1e-27, "{x}: {:e}", one.0 + one.1);
    }
}

#[test]
fn model_code_reproduces_certified_rss_at_certified_parameters() {
    for name in ALL {
        let ds = load(name);
        let problem = Problem {
            ds: &ds,
            model: model(name),
        };
        let mut r = vec![0.0; ds.y.len()];
        problem.residuals(&ds.certified, &mut r);
        let rss: f64 = r.iter().map(|x| x * x).sum();
        // The certified parameters are printed to 11 significant digits. Their rounding moves
        // each residual by at most sum_j |df/dp_j| * (half a unit in the 11th digit of p_j);
        // the RSS at them can only be compared with the certified RSS when that bound is small.
        let mut jac = DMatrix::zeros(ds.y.len(), ds.certified.len());
        problem.jacobian(&ds.certified, &mut jac);
        let half_ulp: Vec<f64> = ds
            .certified
            .iter()
            .map(|p| 0.5 * 10f64.powi(p.abs().log10().floor() as i32 - 10))
            .collect();
        let rounding: f64 = (0..ds.y.len())
            .map(|i| {
                (0..half_ulp.len())
                    .map(|j| jac[(i, j)].abs() * half_ulp[j])
                    .sum::<f64>()
            })
            .map(|e| e * e)
            .sum();
        if rounding < 1e-7 * ds.certified_rss {
            assert!(
                lre(rss, ds.certified_rss) >= 6.0,
                "{name}: rss {rss:e} vs certified {:e}",
                ds.certified_rss
            );
        } else {
            // Lanczos1 (certified RSS 1.4e-25): the rounding alone can add about 2e-20.
            eprintln!(
                "{name}: rounding of the printed parameters bounds the RSS change by {rounding:e}"
            );
            assert!(
                name == "Lanczos1",
                "{name}: unexpected rounding bound {rounding:e}"
            );
            let extra = (rss.sqrt() - ds.certified_rss.sqrt()).abs();
            assert!(
                extra <= rounding.sqrt(),
                "{name}: rss {rss:e} vs certified {:e} (bound {rounding:e})",
                ds.certified_rss
            );
        }
    }
}

#[test]
fn solver_matches_certified_values() {
    let mut required_failures = Vec::new();
    let mut table = String::from(
        "| dataset | difficulty | start 1: params / RSS digits | start 2: params / RSS digits |\n|---|---|---|---|\n",
    );
    for name in ALL {
        let ds = load(name);
        let mut cells = Vec::new();
        for (k, start) in [(1, &ds.start1), (2, &ds.start2)] {
            let o = run(&ds, start);
            let ok = o.min_lre_params >= 6.0 && o.lre_rss >= 6.0;
            let required = ds.difficulty != "Higher" || k == 2;
            if !ok && required {
                required_failures.push(format!(
                    "{name} start {k}: params {:.1} digits, RSS {:.1} digits ({})",
                    o.min_lre_params, o.lre_rss, o.termination
                ));
            }
            cells.push(format!(
                "{} {:.1} / {:.1} ({})",
                if ok { "ok" } else { "FAIL" },
                o.min_lre_params,
                o.lre_rss,
                o.termination.replace("converged: ", "")
            ));
        }
        table.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            ds.difficulty, cells[0], cells[1]
        ));
    }
    eprintln!("{table}");
    assert!(
        required_failures.is_empty(),
        "required NIST problems failed:\n{}",
        required_failures.join("\n")
    );
}

#[test]
fn certified_standard_deviations_from_the_covariance() {
    // The reported covariance (JᵀJ)⁻¹·RSS/(n - p) reproduces NIST's certified standard deviations,
    // for the Lower difficulty problems started at start 2.
    for name in ["Misra1a", "Chwirut2", "Chwirut1", "DanWood", "Misra1b"] {
        let ds = load(name);
        let problem = Problem {
            ds: &ds,
            model: model(name),
        };
        let s = solve(
            &problem,
            std::slice::from_ref(&ds.start2),
            &SolverOptions::default(),
        )
        .unwrap();
        let dof = (ds.y.len() - ds.certified.len()) as f64;
        let cov = s.cov_unscaled.unwrap() * (s.ssr / dof);
        for (j, &sd) in ds.certified_sd.iter().enumerate() {
            assert!(
                lre(cov[(j, j)].sqrt(), sd) >= 5.0,
                "{name} b{}: sd {} vs {sd}",
                j + 1,
                cov[(j, j)].sqrt()
            );
        }
    }
}
