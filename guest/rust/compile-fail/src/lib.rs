//! One signature mismatch per feature (see Cargo.toml); `valid` compiles.
#![allow(dead_code, unused_imports)]
use wasmudf_guest::arrow::array::{Int32Array, Int64Array};
use wasmudf_guest::function;

#[cfg(feature = "valid")]
#[function("f(int32, utf8) -> int64")]
fn f(a: i32, b: Option<&str>) -> Result<Option<i64>, String> {
    Ok(b.map(|b| b.len() as i64 + a as i64))
}

#[cfg(feature = "wrong_argument")]
#[function("f(int32) -> int32")]
fn f(a: i64) -> i32 {
    a as i32
}

#[cfg(feature = "wrong_result")]
#[function("f(utf8) -> int64")]
fn f(a: &str) -> String {
    a.to_owned()
}

#[cfg(feature = "wrong_count")]
#[function("f(int32, int32) -> int32")]
fn f(a: i32) -> i32 {
    a
}

#[cfg(feature = "strict_option")]
#[function("f(int32) -> int32 RETURNS NULL ON NULL INPUT")]
fn f(a: Option<i32>) -> i32 {
    a.unwrap_or(0)
}

#[cfg(feature = "table_column")]
#[function("t(int32) -> setof utf8")]
fn t(n: i32) -> impl Iterator<Item = i32> {
    0..n
}

#[cfg(feature = "vectorized_argument")]
#[function("v(int32) -> int32")]
fn v(a: &Int64Array) -> Int32Array {
    a.iter().map(|v| v.map(|v| v as i32)).collect()
}

#[cfg(feature = "row_wise_unsupported")]
#[function("f(list<int32>) -> int32")]
fn f(a: i32) -> i32 {
    a
}

#[cfg(feature = "table_borrowed_rows")]
#[function("words(utf8) -> setof utf8")]
fn words(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.split(' ')
}
