//! Nulls: `Option` arguments see them (the function is CALLED ON NULL INPUT), an `Option`
//! result makes them.
use wasmudf_guest::function;

/// The first argument that is not null, or null.
#[function("coalesce2(int64, int64) -> int64")]
fn coalesce2(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    a.or(b)
}

/// Null for empty strings; a null string is counted as "(null)".
#[function("describe(utf8) -> utf8")]
fn describe(text: Option<&str>) -> Option<String> {
    match text {
        None => Some("(null)".to_owned()),
        Some("") => None,
        Some(text) => Some(format!("{} bytes", text.len())),
    }
}
