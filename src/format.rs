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
    match g6_fast(x) {
        // only ASCII digits, '-' and '.' are written
        Some((buf, len)) => out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or("?")),
        None => out.push_str(&g6_exact(x)),
    }
}

/// [`push_g6`] onto bytes (the text of a table being written).
pub fn push_g6_bytes(out: &mut Vec<u8>, x: f64) {
    match g6_fast(x) {
        Some((buf, len)) => {
            // the whole buffer (a copy of fixed size), then the unused end dropped
            let at = out.len();
            out.extend_from_slice(&buf);
            out.truncate(at + len);
        }
        None => out.extend_from_slice(g6_exact(x).as_bytes()),
    }
}

/// [`g6`] of the numbers that need no exponent and are not near a rounding tie, as ASCII
/// bytes (the buffer and its length); `None` for every other number.
fn g6_fast(x: f64) -> Option<([u8; 16], usize)> {
    // 10^-4 ..= 10^6 as f64; 10^0 ..= 10^9 exactly
    const POW10: [f64; 11] = [1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
    const SCALE: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    let a = x.abs();
    // zero, NaN and the infinities are outside the range (formatted exactly)
    if !(POW10[0]..POW10[10]).contains(&a) {
        return None;
    }
    // the decimal exponent: the largest power of ten at or below |x| (a number within an ulp
    // of a power of ten may get the other neighbour; either gives the same digits)
    let mut i = 0;
    while a >= POW10[i + 1] {
        i += 1;
    }
    let e = i as i32 - 4;
    // |x| 10^(5-e) is about 1e5 to 1e6
    let y = a * SCALE[(5 - e) as usize];
    // y < 2^53: the casts are floor, and with the fraction away from one half, the floor of
    // y + 1/2 (exact) is y rounded (without the libm calls of floor and round)
    let whole = y as i64;
    let frac = y - whole as f64;
    if (frac - 0.5).abs() <= 1e-9 {
        return None;
    }
    let m = (y + 0.5) as i64 as u64;
    // six digits; a number that rounds up to the next power of ten is left to the exact
    // formatting (which decides between 1000000 and 1e6)
    if !(100_000..1_000_000).contains(&m) {
        return None;
    }
    let mut buf = [0u8; 16];
    let mut len = 0;
    if x < 0.0 {
        buf[0] = b'-';
        len = 1;
    }
    len += six_digits(&mut buf[len..], m, e);
    Some((buf, len))
}

/// Writes the six significant digits `m` (100000..=999999) of a number of decimal exponent `e`
/// (-4..=5) to `out` as [`g6`] writes them (integer digits, then the fraction without its
/// trailing zeros), from a table of digit pairs; the number of bytes written (at most 11).
fn six_digits(out: &mut [u8], m: u64, e: i32) -> usize {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut digits = [0u8; 6];
    let mut v = m as usize;
    for i in (0..3).rev() {
        let pair = v % 100;
        v /= 100;
        digits[2 * i] = PAIRS[2 * pair];
        digits[2 * i + 1] = PAIRS[2 * pair + 1];
    }
    // the significant digits without trailing zeros (the first is never 0)
    let mut last = 6;
    while digits[last - 1] == b'0' {
        last -= 1;
    }
    // byte by byte (at most 11): no copy of a slice of variable length
    let mut len = 0;
    if e >= 0 {
        let int = e as usize + 1;
        for &d in &digits[..int] {
            out[len] = d;
            len += 1;
        }
        if last > int {
            out[len] = b'.';
            len += 1;
            for &d in &digits[int..last] {
                out[len] = d;
                len += 1;
            }
        }
    } else {
        out[0] = b'0';
        out[1] = b'.';
        len = 2;
        for _ in 0..(-e - 1) {
            out[len] = b'0';
            len += 1;
        }
        for &d in &digits[..last] {
            out[len] = d;
            len += 1;
        }
    }
    len
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
    /// it handles and on the rounding boundaries (x.xxxxx5, 9.999995, powers of ten and the
    /// numbers an ulp or two on either side).
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
        // the neighbours of each power of ten, where the decimal exponent is decided
        for e in -6..8 {
            let mut below = 10f64.powi(e);
            let mut above = below;
            for _ in 0..3 {
                cases.extend([below, -below, above, -above]);
                below = below.next_down();
                above = above.next_up();
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
