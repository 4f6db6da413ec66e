//! Where each axis starts and ends and where its ticks go: the ranges come from the items
//! that take part in them, the ticks are nice numbers on linear, square-root (KL) and log
//! scales. Pure numbers, no drawing, so they are tested on their own.

use super::{Axis, Item, Panel, Scale};
use crate::plot::theme;

/// A nice step (1, 2, 2.5 or 5 times a power of ten) for about `n` intervals over `span`.
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= raw * 0.999 {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Ticks (position, label) of a linear axis over [lo, hi].
pub fn linear_ticks(lo: f64, hi: f64, n: f64) -> Vec<(f64, String)> {
    let step = nice_step(hi - lo, n);
    if !(step.is_finite() && step > 0.0) {
        return vec![(lo, theme::sig(lo, 3))];
    }
    let decimals = (-(step.log10().floor()) as i32).max(0) as usize
        + usize::from(((step / 10f64.powf(step.log10().floor())) - 2.5).abs() < 1e-9);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            (v, theme::minus(&format!("{v:.decimals$}")))
        })
        .collect()
}

/// Ticks of a square-root (KL) axis over positions [0, hi] (hi = sqrt of the largest KL): evenly
/// spaced in d = sqrt(KL) with a step of 1, 2 or 5 times a power of ten, labelled with the KL in
/// nats, so every label is the exact square of a round number (0, 1, 4, 9, 16, ... for a step
/// of 1; 0.25, 1, 2.25, ... for a step of 0.5; never a rounded 56.2).
///
/// ```
/// use goodhart::plot::scene::sqrt_ticks;
/// let ticks = sqrt_ticks(5.0, 5.0); // positions up to sqrt(KL) = 5, i.e. KL = 25
/// let labels: Vec<&str> = ticks.iter().map(|t| t.1.as_str()).collect();
/// assert_eq!(labels, ["0", "1", "4", "9", "16", "25"]);
/// assert_eq!(ticks[2].0, 2.0); // KL = 4 sits at d = 2
/// let small: Vec<String> = sqrt_ticks(2.1, 5.0).into_iter().map(|t| t.1).collect();
/// assert_eq!(small, ["0", "0.25", "1", "2.25", "4"]);
/// let wide: Vec<String> = sqrt_ticks(8.3, 4.0).into_iter().map(|t| t.1).collect();
/// assert_eq!(wide, ["0", "4", "16", "36", "64"]);
/// ```
pub fn sqrt_ticks(hi: f64, n: f64) -> Vec<(f64, String)> {
    if !(hi.is_finite() && hi > 0.0 && n > 0.0) {
        return vec![(0.0, "0".into())];
    }
    // A step of m * 10^e with m in {1, 2, 5}: d = k * step has at most -e decimals, so d² is
    // printed exactly with 2 * max(0, -e) decimals.
    let raw = hi / n;
    let e = raw.log10().floor() as i32;
    let mag = 10f64.powi(e);
    // the candidate nearest to the raw step (by ratio), so that a narrow axis keeps a few ticks
    let (step, e) = [(1.0, e), (2.0, e), (5.0, e), (1.0, e + 1)]
        .into_iter()
        .map(|(m, e)| (m * 10f64.powi(e), e))
        .min_by(|a, b| (a.0 / raw).ln().abs().total_cmp(&(b.0 / raw).ln().abs()))
        .unwrap_or((mag, e));
    let decimals = 2 * (-e).max(0) as usize;
    let last = (hi / step + 1e-9).floor() as i64;
    (0..=last)
        .map(|k| {
            let d = k as f64 * step;
            (d, kl_label(d * d, decimals))
        })
        .collect()
}

/// A KL tick label, exact: `decimals` places with trailing zeros dropped; whole thousands from
/// 10k up as `10k`, `250k`.
fn kl_label(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if v >= 1e4 && (v / 1000.0).fract() == 0.0 {
        format!("{}k", (v / 1000.0) as i64)
    } else {
        s
    }
}

/// Ticks of a log10 axis over positions [lo, hi]: decades (every other when many), with 2 and
/// 5 added when the range spans less than two decades.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let (a, b) = (lo.floor() as i64, hi.ceil() as i64);
    let decades = b - a;
    let mults: &[f64] = if decades <= 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let every = if decades > 8 { 2 } else { 1 };
    let mut out = Vec::new();
    for e in a..=b {
        if e.rem_euclid(every) != 0 {
            continue;
        }
        for &m in mults {
            let v = m * 10f64.powi(e as i32);
            let p = v.log10();
            if p >= lo - 1e-9 && p <= hi + 1e-9 {
                out.push((p, theme::si(v)));
            }
        }
    }
    if out.len() < 2 {
        // less than one decade with no 1-2-5 inside: label the ends
        out = vec![
            (lo, theme::si(10f64.powf(lo))),
            (hi, theme::si(10f64.powf(hi))),
        ];
    }
    out
}

/// Widens the range `r` to hold `v` when `v` is finite.
fn extend(r: &mut (f64, f64), v: f64) {
    if v.is_finite() {
        r.0 = r.0.min(v);
        r.1 = r.1.max(v);
    }
}

/// Positions [lo, hi] of an axis from the data positions seen, padded.
pub(super) fn axis_range(axis: &Axis, seen: (f64, f64)) -> (f64, f64) {
    if let Some((a, b)) = axis.fixed {
        let (a, b) = (axis.scale.fwd(a), axis.scale.fwd(b));
        if a.is_finite() && b.is_finite() && b > a {
            return (a, b);
        }
    }
    let mut r = seen;
    for &v in &axis.include {
        extend(&mut r, axis.scale.fwd(v));
    }
    if r.0
        .partial_cmp(&r.1)
        .is_none_or(|o| o == std::cmp::Ordering::Greater)
    {
        return (0.0, 1.0);
    }
    match axis.scale {
        Scale::Sqrt => {
            let hi = if r.1 > 0.0 { r.1 * 1.03 } else { 1.0 };
            (0.0, hi)
        }
        Scale::Log => {
            let span = r.1 - r.0;
            let pad = if span > 0.0 { span * 0.06 + 0.03 } else { 0.5 };
            (r.0 - pad, r.1 + pad)
        }
        Scale::Linear => {
            let span = r.1 - r.0;
            if span > 0.0 {
                (r.0 - 0.05 * span, r.1 + 0.05 * span)
            } else {
                let pad = if r.0 != 0.0 { r.0.abs() * 0.1 } else { 1.0 };
                (r.0 - pad, r.1 + pad)
            }
        }
    }
}

/// The positions each axis must show, from the items that take part in the range.
pub(super) fn data_ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let empty = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut rx, mut ry) = (empty, empty);
    let (fx, fy) = (p.x.scale, p.y.scale);
    let mut pair = |x: f64, y: f64| {
        let (px, py) = (fx.fwd(x), fy.fwd(y));
        if px.is_finite() && py.is_finite() {
            extend(&mut rx, px);
            extend(&mut ry, py);
        }
    };
    for it in &p.items {
        match it {
            Item::Line {
                pts, ranged: true, ..
            }
            | Item::Points { pts, .. } => pts.iter().for_each(|&(x, y)| pair(x, y)),
            Item::ErrorBars {
                bars, ranged: true, ..
            } => bars.iter().for_each(|&(x, lo, hi)| {
                pair(x, lo);
                pair(x, hi);
            }),
            _ => {}
        }
    }
    for it in &p.items {
        if let Item::HLine { y, .. } = it
            && rx.0 <= rx.1
        {
            extend(&mut ry, fy.fwd(*y));
        }
    }
    (rx, ry)
}

/// The ticks of an axis over positions `r`, about `n` of them.
pub(super) fn ticks_for(axis: &Axis, r: (f64, f64), n: f64) -> Vec<(f64, String)> {
    match axis.scale {
        Scale::Linear => linear_ticks(r.0, r.1, n),
        Scale::Sqrt => sqrt_ticks(r.1, n),
        Scale::Log => log_ticks(r.0, r.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        let t = linear_ticks(-0.07, 1.02, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.00", "0.25", "0.50", "0.75", "1.00"]);
        let t = linear_ticks(-21.0, 3.0, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(
            labels,
            ["\u{2212}20", "\u{2212}15", "\u{2212}10", "\u{2212}5", "0"]
        );
        let t = log_ticks(1.0, 5.0);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["10", "100", "1k", "10k", "100k"]);
        let t = log_ticks(1.1, 3.4);
        let labels: Vec<&str> = t.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["20", "50", "100", "200", "500", "1k", "2k"]);
        assert_eq!(sqrt_ticks(1e-3, 5.0)[0].1, "0");
    }
}
