//! Errors: a `Result` result fails the call with the error's message, which reaches the host
//! as `NAME: MESSAGE at row N`.
use wasmudf_guest::function;

/// a / b, failing on a zero divisor.
#[function("checked_div(int32, int32) -> int32")]
fn checked_div(a: i32, b: i32) -> Result<i32, String> {
    a.checked_div(b).ok_or_else(|| format!("cannot divide {a} by {b}"))
}

/// Parses an integer; any error type that implements Display works.
#[function("parse_int(utf8) -> int64")]
fn parse_int(text: &str) -> Result<i64, std::num::ParseIntError> {
    text.trim().parse()
}
