//! The seed's example: the sum of an int32 column ([1, null, 3] gives 4), a batch function.
use std::sync::Arc;
use wasmudf_guest::arrow::{array::*, error::ArrowError};

#[wasmudf_guest::function("sum(int32) -> struct<sum: int64>", batch)]
fn sum(values: &Int32Array) -> Result<StructArray, ArrowError> {
    let total: i64 = values.iter().flatten().map(i64::from).sum();
    StructArray::try_from(vec![("sum", Arc::new(Int64Array::from(vec![total])) as ArrayRef)])
}
