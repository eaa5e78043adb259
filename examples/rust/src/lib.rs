//! A wasmudf guest written in Rust with the wasmudf-guest crate (guest/rust): a batch function,
//! two scalar functions, a table function and a grouped aggregate. The crate implements the
//! guest ABI of docs/abi.md on arrow-rs's C Data Interface; each attribute below exports one
//! function with its metadata record. Built by scripts/build-rust-guest.sh (see README.md).

use std::sync::Arc;

use wasmudf_guest::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array};
use wasmudf_guest::arrow::array::{StringArray, StructArray};
use wasmudf_guest::arrow::datatypes::{Float64Type, Int64Type};
use wasmudf_guest::arrow::error::ArrowError;
use wasmudf_guest::{Aggregate, Error, aggregate, function};

/// The seed's example: one row holding the sum of the non-null values ([1, null, 3] gives 4).
#[function("sum(int32) -> struct<sum: int64>", batch)]
fn sum(values: &Int32Array) -> Result<StructArray, ArrowError> {
    let total: i64 = values.iter().flatten().map(i64::from).sum();
    StructArray::try_from(vec![("sum", Arc::new(Int64Array::from(vec![total])) as ArrayRef)])
}

/// The length in bytes of each string (vectorized: the offsets' differences, nulls kept).
#[function("str_len(utf8) -> int64")]
fn str_len(strings: &StringArray) -> Int64Array {
    let lengths = strings.offsets().lengths().map(|n| n as i64).collect();
    Int64Array::new(lengths, strings.nulls().cloned())
}

/// Returns its argument, or fails the call on the first negative value (`fail_on_negative:
/// negative value -5 at row 2`).
#[function("fail_on_negative(int32) -> int32")]
fn fail_on_negative(value: i32) -> Result<i32, String> {
    if value < 0 { Err(format!("negative value {value}")) } else { Ok(value) }
}

/// The characters of each text with their positions, streamed in chunks.
#[function("chars(utf8 text) -> table<position: int32, character: utf8>")]
fn chars(text: &str) -> impl Iterator<Item = (i32, String)> + '_ {
    text.chars().enumerate().map(|(i, c)| (i as i32, c.to_string()))
}

/// The mean of each group: a (sum, count) per group, null for a group without values.
#[derive(Default)]
struct Mean(f64, i64);

#[aggregate("mean(float64) -> float64 STATE struct<sum: float64, count: int64>")]
impl Aggregate for Mean {
    fn update(states: &mut [Self], groups: &[u32], args: &[ArrayRef]) -> Result<(), Error> {
        for (value, g) in args[0].as_primitive::<Float64Type>().iter().zip(groups) {
            if let Some(value) = value {
                states[*g as usize].0 += value;
                states[*g as usize].1 += 1;
            }
        }
        Ok(())
    }

    fn merge(states: &mut [Self], groups: &[u32], partial: &ArrayRef) -> Result<(), Error> {
        let partial = partial.as_struct();
        let sums = partial.column(0).as_primitive::<Float64Type>();
        let counts = partial.column(1).as_primitive::<Int64Type>();
        for (row, g) in groups.iter().enumerate() {
            states[*g as usize].0 += sums.value(row);
            states[*g as usize].1 += counts.value(row);
        }
        Ok(())
    }

    fn state(states: &[Self]) -> Result<ArrayRef, Error> {
        let sums = Arc::new(Float64Array::from_iter_values(states.iter().map(|s| s.0)));
        let counts = Arc::new(Int64Array::from_iter_values(states.iter().map(|s| s.1)));
        let columns: Vec<(&str, ArrayRef)> = vec![("sum", sums), ("count", counts)];
        Ok(Arc::new(StructArray::try_from(columns)?))
    }

    fn finish(states: &[Self]) -> Result<ArrayRef, Error> {
        Ok(Arc::new(states.iter().map(|s| (s.1 > 0).then(|| s.0 / s.1 as f64)).collect::<Float64Array>()))
    }
}
