//! Vectorized functions: arrow-rs arrays in, an array out, with arrow's kernels.
use wasmudf_guest::arrow::array::{Int32Array, StringArray};
use wasmudf_guest::arrow::{compute, error::ArrowError};
use wasmudf_guest::function;

fn gcd_u32(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// gcd over whole columns; nulls stay null (arrow's `binary` kernel).
#[function("gcd_vectorized(int32, int32) -> int32")]
fn gcd_vectorized(a: &Int32Array, b: &Int32Array) -> Result<Int32Array, ArrowError> {
    compute::binary(a, b, |a: i32, b: i32| gcd_u32(a.unsigned_abs(), b.unsigned_abs()) as i32)
}

/// The length in characters of each string.
#[function("char_length(utf8) -> int32")]
fn char_length(texts: &StringArray) -> Int32Array {
    texts.iter().map(|t| t.map(|t| t.chars().count() as i32)).collect()
}
