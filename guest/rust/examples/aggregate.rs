//! An aggregate: one state per group, updated, merged, saved and finished by the trait.
use std::sync::Arc;
use wasmudf_guest::arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, StructArray};
use wasmudf_guest::arrow::datatypes::{Float64Type, Int64Type};
use wasmudf_guest::{Aggregate, Error, aggregate};

#[derive(Default)]
struct Mean {
    sum: f64,
    count: i64,
}

#[aggregate("mean(float64) -> float64 STATE struct<sum: float64, count: int64>")]
impl Aggregate for Mean {
    fn update(states: &mut [Self], groups: &[u32], args: &[ArrayRef]) -> Result<(), Error> {
        let values = args[0].as_primitive::<Float64Type>();
        for (value, g) in values.iter().zip(groups) {
            let state = &mut states[*g as usize];
            if let Some(value) = value {
                state.sum += value;
                state.count += 1;
            }
        }
        Ok(())
    }

    fn merge(states: &mut [Self], groups: &[u32], partial: &ArrayRef) -> Result<(), Error> {
        let partial = partial.as_struct();
        let sums = partial.column(0).as_primitive::<Float64Type>();
        let counts = partial.column(1).as_primitive::<Int64Type>();
        for (row, g) in groups.iter().enumerate() {
            states[*g as usize].sum += sums.value(row);
            states[*g as usize].count += counts.value(row);
        }
        Ok(())
    }

    fn state(states: &[Self]) -> Result<ArrayRef, Error> {
        let sums = Float64Array::from_iter_values(states.iter().map(|s| s.sum));
        let counts = Int64Array::from_iter_values(states.iter().map(|s| s.count));
        let columns: Vec<(&str, ArrayRef)> = vec![("sum", Arc::new(sums)), ("count", Arc::new(counts))];
        Ok(Arc::new(StructArray::try_from(columns)?))
    }

    fn finish(states: &[Self]) -> Result<ArrayRef, Error> {
        let means = states.iter().map(|s| (s.count > 0).then(|| s.sum / s.count as f64));
        Ok(Arc::new(means.collect::<Float64Array>()))
    }
}
