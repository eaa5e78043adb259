//! Every example in one module, so that a test compiles one module instead of seven (a module
//! is mostly arrow-rs's code, which the host's compiler translates once per module).
#[path = "aggregate.rs"]
mod aggregate;
#[path = "erroring.rs"]
mod erroring;
#[path = "nullable.rs"]
mod nullable;
#[path = "scalar.rs"]
mod scalar;
#[path = "sum.rs"]
mod sum;
#[path = "table.rs"]
mod table;
#[path = "vectorized.rs"]
mod vectorized;
