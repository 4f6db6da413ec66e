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
