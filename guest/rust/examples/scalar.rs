//! Row-wise scalar functions: one Rust value per argument and row, one value back.
use wasmudf_guest::function;

/// The greatest common divisor (non-negative); gcd(0, 0) is 0.
#[function("gcd(int32, int32) -> int32")]
fn gcd(a: i32, b: i32) -> i32 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a as i32
}

/// Strings in, strings out.
#[function("upper(utf8) -> utf8")]
fn upper(text: &str) -> String {
    text.to_uppercase()
}

/// Half of a value, as a float64.
#[function("half(int64 value) -> float64 DETERMINISTIC")]
fn half(value: i64) -> f64 {
    value as f64 / 2.0
}
