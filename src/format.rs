//! Numbers as text, one family for every report, table, figure and message: [`g6`] for reports
//! (C's `%g`), [`fmt_num`] for keys and messages (shortest round trip), [`sig`] for figure
//! labels (significant digits, typographic minus), [`pm`] for `value ± se`.

/// A number with 6 significant digits, like C's `%g`.
///
/// ```
/// use goodhart::format::g6;
/// assert_eq!(g6(0.490123456), "0.490123");
/// assert_eq!(g6(1234567.0), "1.23457e6");
/// ```
pub fn g6(x: f64) -> String {
    let mut s = String::new();
    push_g6(&mut s, x);
    s
}

/// Appends [`g6`]`(x)` to `out`, without an allocation when `x` needs no exponent (the case of
/// most numbers in a table): the 6 significant digits are the integer nearest |x| 10^(5-e),
/// whose error as an f64 product is far below the 1e-9 margin kept from a rounding tie (a near
/// tie is formatted exactly, as is every other case).
pub fn push_g6(out: &mut String, x: f64) {
    if x != 0.0 && x.is_finite() {
        let e = x.abs().log10().floor() as i32;
        if (-4..6).contains(&e) {
            let decimals = (5 - e) as usize;
            // exact powers of ten (10^9 at most); |x| 10^(5-e) is about 1e5 to 1e6
            let y = x.abs() * 10f64.powi(5 - e);
            let frac = y - y.floor();
            if (frac - 0.5).abs() > 1e-9 {
                let m = y.round() as u64;
                if x < 0.0 {
                    out.push('-');
                }
                let scale = 10u64.pow(decimals as u32);
                let (int, mut fraction) = (m / scale, m % scale);
                push_u64(out, int);
                if fraction > 0 {
                    let mut width = decimals;
                    while fraction % 10 == 0 {
                        fraction /= 10;
                        width -= 1;
                    }
                    out.push('.');
                    let digits = decimal_len(fraction);
                    for _ in digits..width {
                        out.push('0');
                    }
                    push_u64(out, fraction);
                }
                return;
            }
        }
    }
    out.push_str(&g6_exact(x));
}

fn decimal_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

fn push_u64(out: &mut String, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("?"));
}

/// [`g6`] by the standard library's exact formatting (every case; the reference of [`push_g6`]).
fn g6_exact(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let e = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&e) {
        let s = format!("{x:.5e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        format!("{mant}e{exp}")
    } else {
        let s = format!("{:.*}", (5 - e).max(0) as usize, x);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// Formats a number as the shortest text that reads back to the same `f64`, with an exponent
/// for very large or very small magnitudes (`3e6`, `0.25`, `1.5e-7`).
///
/// ```
/// use goodhart::format::fmt_num;
/// assert_eq!(fmt_num(3e6), "3e6");
/// assert_eq!(fmt_num(0.5), "0.5");
/// ```
pub fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if x != 0.0 && x.is_finite() && !(1e-4..1e6).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// `value ± se` with [`g6`], or the value alone without a standard error.
pub fn pm(value: f64, se: Option<f64>) -> String {
    match se {
        Some(s) => format!("{} ± {}", g6(value), g6(s)),
        None => g6(value),
    }
}

/// A figure label: `digits` significant digits, trailing zeros dropped, typographic minus.
///
/// ```
/// use goodhart::format::sig;
/// assert_eq!(sig(0.012345, 3), "0.0123");
/// assert_eq!(sig(-2.5, 3), "\u{2212}2.5");
/// ```
pub fn sig(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            "?".into()
        };
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    minus(&s)
}

/// Replaces a leading hyphen by the typographic minus sign; "-0" becomes "0".
pub fn minus(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        Some(rest) => format!("\u{2212}{rest}"),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The fast path of `push_g6` against the exact formatting, on numbers of every magnitude
    /// it handles and on the rounding boundaries (x.xxxxx5, 9.999995, powers of ten).
    #[test]
    fn push_g6_is_the_exact_formatting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut cases: Vec<f64> = (0..400_000)
            .map(|_| {
                let mag: f64 = rng.random_range(-6.0..8.0);
                let sign = if rng.random_bool(0.5) { -1.0 } else { 1.0 };
                sign * 10f64.powf(mag) * rng.random_range(1.0..10.0)
            })
            .collect();
        for e in -5..7 {
            let p = 10f64.powi(e);
            for m in [
                1.0, 1.5, 9.999995, 9.9999949, 9.9999951, 1.000005, 1.234565, 5.0,
            ] {
                for d in [-1e-12, 0.0, 1e-12] {
                    cases.push(m * p * (1.0 + d));
                    cases.push(-m * p * (1.0 + d));
                }
            }
        }
        cases.extend([
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            5e-324,
        ]);
        for x in cases {
            let mut fast = String::new();
            push_g6(&mut fast, x);
            assert_eq!(fast, g6_exact(x), "{x:e}");
        }
    }

    #[test]
    fn g6_formats_like_printf_g() {
        assert_eq!(g6(0.490123456), "0.490123");
        assert_eq!(g6(123456.0), "123456");
        assert_eq!(g6(1234567.0), "1.23457e6");
        assert_eq!(g6(0.00001234), "1.234e-5");
        assert_eq!(g6(2.0), "2");
        assert_eq!(g6(-0.5), "-0.5");
    }

    #[test]
    fn fmt_num_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        for x in [3e6, 0.25, 1.5e-7, -2.0, 0.0, 123456.789, 1e300, 5e-324] {
            assert_eq!(fmt_num(x).parse::<f64>()?, x);
        }
        assert_eq!(fmt_num(3e6), "3e6");
        assert_eq!(fmt_num(0.5), "0.5");
        Ok(())
    }

    #[test]
    fn pm_with_and_without_se() {
        assert_eq!(pm(0.5, Some(0.01)), "0.5 ± 0.01");
        assert_eq!(pm(0.5, None), "0.5");
    }
}
