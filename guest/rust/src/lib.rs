//! Write [wasmudf](https://github.com/) user-defined functions over Apache Arrow in Rust.
//!
//! This crate implements version 1 of the wasmudf guest ABI (`docs/abi.md`) on arrow-rs's C
//! Data Interface (`arrow::ffi`): the allocator, the release callbacks of the host's input
//! structs, the error message and the per-handle state of table and aggregate functions. Its
//! attribute macros turn ordinary Rust functions into exported UDFs, each with its metadata
//! record in the module's `wasmudf` custom section:
//!
//! ```ignore
//! use wasmudf_guest::function;
//!
//! #[function("gcd(int32, int32) -> int32")]
//! fn gcd(mut a: i32, mut b: i32) -> i32 {
//!     while b != 0 { (a, b) = (b, a % b); }
//!     a.abs()
//! }
//! ```
//!
//! * **Row-wise scalar functions** take one Rust value per argument (`i32`, `f64`, `bool`,
//!   `&str`, `&[u8]`, ...) and return one value. `Option<T>` arguments see nulls (the macro adds
//!   `CALLED ON NULL INPUT` to the signature); an `Option<T>` result may be null; a
//!   `Result<T, E>` result fails the call with `NAME: MESSAGE at row N`, the host's guest error.
//! * **Vectorized functions** take and return arrow-rs arrays (`&Int32Array`, `&StringArray`,
//!   `&ArrayRef`, ... -> any array, or a `Result` of one); add `batch` after the signature for a
//!   batch function (`#[function("sum(int32) -> struct<sum: int64>", batch)]`).
//! * **Table functions** (`-> setof T` or `-> table<a: T, b: U>`) are row-wise functions that
//!   return an iterator (`impl Iterator<Item = T>` or `<Item = (T, U)>`) for each input row; the
//!   crate streams the rows in chunks, keeping the iterator between calls.
//! * **Aggregates** implement [`Aggregate`] (update, merge, state, finish over the groups of an
//!   accumulator) and are exported with [`aggregate`] on the `impl` block.
//!
//! The signature's types are checked against the Rust types at compile time where the types
//! are visible: a row-wise `fn f(a: i64)` declared `f(int32)` does not compile. Inputs are
//! released through the callbacks the host put in them when arrow-rs drops them (nothing is
//! leaked with `mem::forget`); results are exported with `FFI_ArrowArray::new` and released by
//! arrow-rs when the host calls `wudf_release_array`.
//!
//! Build for `wasm32-wasip1` as a `cdylib` (see the README); a panic should abort (`panic =
//! "abort"`), which traps: the host then reports the call as failed.

use std::alloc::{Layout, alloc, dealloc};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::fmt::Display;
use std::ptr;

use arrow::array::{ArrayData, ArrayRef, GenericBinaryBuilder, GenericStringBuilder, OffsetSizeTrait};
use arrow::datatypes::DataType;
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};

pub use arrow;
pub use wasmudf_guest_macros::{aggregate, function};

/// The error type of [`Aggregate`]'s methods: anything that converts into a boxed error,
/// `String`s and `&str`s included (`Err("no such group".into())`, or `?` on an `ArrowError`).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// An aggregate function: one value of `Self` per group (`Default` is the empty group). The
/// crate keeps the states of every accumulator the host opens, grows them to the host's group
/// count and checks every group id before calling these methods, all of which see every group
/// of the accumulator at once (the shape of DataFusion's `GroupsAccumulator`).
///
/// Export it with `#[wasmudf_guest::aggregate("NAME(ARGS) -> RESULT STATE TYPE")]` on the `impl`.
pub trait Aggregate: Default + 'static {
    /// Folds the rows of the arguments `args` (one array per argument) into the states: row `r`
    /// goes into `states[groups[r] as usize]`. A strict aggregate never sees a null argument.
    fn update(states: &mut [Self], groups: &[u32], args: &[ArrayRef]) -> Result<(), Error>;
    /// Folds the partial states `partial` (an array of the STATE type made by [`Self::state`],
    /// maybe in another instance) into the states: row `r` goes into `states[groups[r]]`.
    fn merge(states: &mut [Self], groups: &[u32], partial: &ArrayRef) -> Result<(), Error>;
    /// Returns the states as an array of the STATE type, one row per group.
    fn state(states: &[Self]) -> Result<ArrayRef, Error>;
    /// Returns the results as an array of the result type, one row per group.
    fn finish(states: &[Self]) -> Result<ArrayRef, Error>;
}

/// Appends a Rust value to an arrow-rs builder: the result of a row-wise function, or one
/// column of a table function's row. Implemented for the values of every type the row-wise form
/// supports and their `Option`s (`None` appends a null).
pub trait AppendTo<B> {
    /// Appends `self` to `builder`.
    fn append_to(self, builder: &mut B);
}

macro_rules! append_primitive {
    ($($native:ty => $builder:ident),* $(,)?) => {$(
        impl AppendTo<arrow::array::$builder> for $native {
            fn append_to(self, builder: &mut arrow::array::$builder) { builder.append_value(self) }
        }
        impl AppendTo<arrow::array::$builder> for Option<$native> {
            fn append_to(self, builder: &mut arrow::array::$builder) { builder.append_option(self) }
        }
    )*};
}

append_primitive!(
    i8 => Int8Builder, i16 => Int16Builder, i32 => Int32Builder, i64 => Int64Builder,
    u8 => UInt8Builder, u16 => UInt16Builder, u32 => UInt32Builder, u64 => UInt64Builder,
    f32 => Float32Builder, f64 => Float64Builder, bool => BooleanBuilder,
    i32 => Date32Builder, i64 => Date64Builder,
);

macro_rules! append_bytes {
    ($builder:ident, $($value:ty),*) => {$(
        impl<O: OffsetSizeTrait> AppendTo<$builder<O>> for $value {
            fn append_to(self, builder: &mut $builder<O>) { builder.append_value(self) }
        }
        impl<O: OffsetSizeTrait> AppendTo<$builder<O>> for Option<$value> {
            fn append_to(self, builder: &mut $builder<O>) { builder.append_option(self) }
        }
    )*};
}

append_bytes!(GenericStringBuilder, String, &str, Box<str>);
append_bytes!(GenericBinaryBuilder, Vec<u8>, &[u8], Box<[u8]>);

// ---------------------------------------------------------------------------------------------
// The C Data Interface structs as the input release functions see them (ABI §2).
// ---------------------------------------------------------------------------------------------

/// The `ArrowArray` struct with public fields: the fields of `FFI_ArrowArray` are private, and
/// the input release function walks the children and the dictionary.
#[repr(C)]
struct RawArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut RawArray,
    dictionary: *mut RawArray,
    release: Option<unsafe extern "C" fn(*mut RawArray)>,
    private_data: *mut c_void,
}

/// The `ArrowSchema` struct with public fields, for the same reason as `RawArray`.
#[repr(C)]
struct RawSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut RawSchema,
    dictionary: *mut RawSchema,
    release: Option<unsafe extern "C" fn(*mut RawSchema)>,
    private_data: *mut c_void,
}

/// The control block of table and aggregate calls (ABI §3).
#[repr(C)]
pub struct Control {
    op: u32,
    handle: u32,
    count: i64,
    flags: u32,
    reserved: [u32; 3],
}

// On wasm32 these declarations and arrow's FFI structs must have the layout of ABI §2 and §3.
#[cfg(target_arch = "wasm32")]
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<RawArray>() == 64 && align_of::<RawArray>() == 8);
    assert!(offset_of!(RawArray, buffers) == 40 && offset_of!(RawArray, release) == 52);
    assert!(size_of::<RawSchema>() == 48 && align_of::<RawSchema>() == 8);
    assert!(offset_of!(RawSchema, children) == 32 && offset_of!(RawSchema, release) == 40);
    assert!(size_of::<FFI_ArrowArray>() == 64 && size_of::<FFI_ArrowSchema>() == 48);
    assert!(size_of::<Control>() == 32 && offset_of!(Control, flags) == 16);
};

// ---------------------------------------------------------------------------------------------
// The exports every module has (ABI §1).
// ---------------------------------------------------------------------------------------------

/// Returns the version of the guest ABI this crate implements.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_abi_version() -> i32 {
    1
}

/// Bytes kept in front of every block from `wudf_alloc`: the size and alignment of the
/// allocation, which `wudf_free` needs to rebuild its `Layout`.
const ALLOC_HEADER: usize = 2 * size_of::<usize>();

/// Allocates `size` bytes aligned to `align` (a power of two, at most 64) for the host, or
/// returns null.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_alloc(size: usize, align: usize) -> *mut u8 {
    if !align.is_power_of_two() || align > 64 {
        return ptr::null_mut();
    }
    // The header sits in the `align` bytes before the block, so they must hold it.
    let align = align.max(ALLOC_HEADER);
    let Some(layout) = size.checked_add(align).and_then(|t| Layout::from_size_align(t, align).ok())
    else {
        return ptr::null_mut();
    };
    // SAFETY: the layout's size is at least `align`, not zero.
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `base + align` and the two words before it lie inside the allocation.
    unsafe {
        let block = base.add(align);
        let header = block.cast::<usize>().sub(2);
        header.write(layout.size());
        header.add(1).write(align);
        block
    }
}

/// Frees a block from `wudf_alloc`; null is a no-op.
///
/// # Safety
///
/// `block` must be null or a block from `wudf_alloc` that is not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_free(block: *mut u8) {
    if block.is_null() {
        return;
    }
    // SAFETY: `wudf_alloc` wrote the layout in the two words before `block`.
    unsafe {
        let header = block.cast::<usize>().sub(2);
        let (total, align) = (header.read(), header.add(1).read());
        dealloc(block.sub(align), Layout::from_size_align_unchecked(total, align));
    }
}

/// The header the host writes at the start of every input block (ABI §4).
#[repr(C)]
struct BlockHeader {
    live: u32,
    magic: u32,
    reserved: u64,
}

/// The block header's magic number, "WUDF" in little-endian bytes.
const BLOCK_MAGIC: u32 = 0x4644_5557;

/// Counts one struct of the input block `block` as released and frees the block when it was the
/// last. A damaged header means the host broke the ABI: the module traps.
unsafe fn release_block_struct(block: *mut c_void) {
    let header = block.cast::<BlockHeader>();
    // SAFETY: the host set `private_data` to its block, allocated while `live` is above zero.
    unsafe {
        if header.is_null() || (*header).magic != BLOCK_MAGIC || (*header).live == 0 {
            std::process::abort();
        }
        (*header).live -= 1;
        if (*header).live == 0 {
            wudf_free(block.cast());
        }
    }
}

/// The release callback of every input `ArrowArray`: releases the children and dictionary that
/// are still unreleased, marks the struct released and counts it out of its block. It uses only
/// the struct's fields, so it also works on a struct moved out of the block.
unsafe extern "C" fn input_array_release(array: *mut RawArray) {
    // SAFETY: the struct is one the host wrote, or moved out of the host's block.
    unsafe {
        let Some(array) = array.as_mut().filter(|a| a.release.is_some()) else { return };
        for i in 0..usize::try_from(array.n_children).unwrap_or(0) {
            let child = *array.children.add(i);
            if let Some(release) = child.as_ref().and_then(|c| c.release) {
                release(child);
            }
        }
        if let Some(release) = array.dictionary.as_ref().and_then(|d| d.release) {
            release(array.dictionary);
        }
        array.release = None;
        release_block_struct(array.private_data);
    }
}

/// The release callback of every input `ArrowSchema`, like `input_array_release`.
unsafe extern "C" fn input_schema_release(schema: *mut RawSchema) {
    // SAFETY: as in `input_array_release`.
    unsafe {
        let Some(schema) = schema.as_mut().filter(|s| s.release.is_some()) else { return };
        for i in 0..usize::try_from(schema.n_children).unwrap_or(0) {
            let child = *schema.children.add(i);
            if let Some(release) = child.as_ref().and_then(|c| c.release) {
                release(child);
            }
        }
        if let Some(release) = schema.dictionary.as_ref().and_then(|d| d.release) {
            release(schema.dictionary);
        }
        schema.release = None;
        release_block_struct(schema.private_data);
    }
}

/// Returns the function table index the host puts in the `release` of every input array.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_input_array_release() -> i32 {
    input_array_release as *const () as usize as i32
}

/// Returns the function table index the host puts in the `release` of every input schema.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_input_schema_release() -> i32 {
    input_schema_release as *const () as usize as i32
}

/// Releases the `ArrowArray` at `array` unless it is null or released: the struct is moved out
/// (leaving the slot released) and dropped, which calls its `release`.
///
/// # Safety
///
/// `array` must be null or point to a valid `ArrowArray` in this module's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_release_array(array: *mut FFI_ArrowArray) {
    if !array.is_null() {
        // SAFETY: the caller guarantees a valid struct.
        drop(unsafe { FFI_ArrowArray::from_raw(array) });
    }
}

/// Releases the `ArrowSchema` at `schema` unless it is null or released.
///
/// # Safety
///
/// `schema` must be null or point to a valid `ArrowSchema` in this module's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_release_schema(schema: *mut FFI_ArrowSchema) {
    if !schema.is_null() {
        // SAFETY: the caller guarantees a valid struct.
        drop(unsafe { FFI_ArrowSchema::from_raw(schema) });
    }
}

thread_local! {
    /// The message of the last failed call, kept until the next failure.
    static ERROR_MESSAGE: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Returns the NUL-terminated message of the last failed call, or null.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_error_message() -> *const c_char {
    ERROR_MESSAGE.with_borrow(|slot| slot.as_ref().map_or(ptr::null(), |m| m.as_ptr()))
}

/// The code the macros build on. Not a stable API: use the macros.
#[doc(hidden)]
pub mod __private {
    use super::*;

    pub use arrow::array::{
        Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, BooleanArray, BooleanBuilder,
        Date32Array, Date32Builder, Date64Array, Date64Builder, Float32Array, Float32Builder,
        Float64Array, Float64Builder, Int8Array, Int8Builder, Int16Array, Int16Builder,
        Int32Array, Int32Builder, Int64Array, Int64Builder, LargeBinaryArray, LargeBinaryBuilder,
        LargeStringArray, LargeStringBuilder, StringArray, StringBuilder, StructArray,
        UInt8Array, UInt8Builder, UInt16Array, UInt16Builder, UInt32Builder, UInt64Array,
        UInt64Builder,
    };
    pub use arrow::array::UInt32Array;
    pub use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
    pub use super::Control;

    /// Records `message` as the message of the failed call and returns the failure code.
    pub fn fail(message: String) -> i32 {
        let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
        ERROR_MESSAGE.with_borrow_mut(|slot| *slot = Some(message));
        1
    }

    /// Turns a call's outcome into its return code.
    pub fn outcome(result: Result<(), String>) -> i32 {
        result.map_or_else(fail, |()| 0)
    }

    /// The message of a function's own error `error` at row `row` of the call.
    pub fn row_error(name: &str, error: impl Display, row: usize) -> String {
        format!("{name}: {error} at row {row}")
    }

    /// Takes ownership of a call's input (the structs are moved out of the host's block, which
    /// is left released) and imports it as a struct array. Dropping the array, or the last
    /// buffer taken from it, releases the input through the host's callbacks.
    ///
    /// # Safety
    ///
    /// The pointers must be the host's (ABI §3), or null.
    pub unsafe fn take_input(
        name: &str,
        args: *mut FFI_ArrowArray,
        args_schema: *mut FFI_ArrowSchema,
    ) -> Result<StructArray, String> {
        if args.is_null() || args_schema.is_null() {
            return Err(format!("{name}: called without arguments"));
        }
        // SAFETY: the host's structs are ours from the start of the call.
        let (array, schema) =
            unsafe { (FFI_ArrowArray::from_raw(args), FFI_ArrowSchema::from_raw(args_schema)) };
        // SAFETY: the host writes its input following the C Data Interface.
        let data = unsafe { from_ffi(array, &schema) }
            .map_err(|e| format!("{name}: cannot import the arguments: {e}"))?;
        match data.data_type() {
            DataType::Struct(_) => Ok(StructArray::from(data)),
            other => Err(format!("{name}: the arguments are a {other}, not a struct")),
        }
    }

    /// Exports `result` into the host's output slots.
    ///
    /// # Safety
    ///
    /// The slots must be the host's (ABI §3), or null.
    pub unsafe fn put_result(
        name: &str,
        result: ArrayData,
        out: *mut FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
    ) -> Result<(), String> {
        if out.is_null() || out_schema.is_null() {
            return Err(format!("{name}: called without output slots"));
        }
        let schema = FFI_ArrowSchema::try_from(result.data_type())
            .map_err(|e| format!("{name}: cannot export the result: {e}"))?;
        // SAFETY: the slots are valid and zeroed: nothing in them to drop.
        unsafe {
            ptr::write(out, FFI_ArrowArray::new(&result));
            ptr::write(out_schema, schema);
        }
        Ok(())
    }

    /// One call of a scalar or batch function: imports the arguments, runs `body` on them and
    /// exports its result. Returns the call's return code; the inputs are released on every path.
    ///
    /// # Safety
    ///
    /// The pointers must be the host's (ABI §3).
    pub unsafe fn call(
        name: &str,
        args: *mut FFI_ArrowArray,
        args_schema: *mut FFI_ArrowSchema,
        out: *mut FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
        body: impl FnOnce(&StructArray) -> Result<ArrayData, String>,
    ) -> i32 {
        // SAFETY: forwarded from the caller.
        let result = unsafe { take_input(name, args, args_schema) }.and_then(|a| body(&a));
        outcome(result.and_then(|data| unsafe { put_result(name, data, out, out_schema) }))
    }

    /// Checks that a call has `count` arguments.
    pub fn expect_arguments(name: &str, args: &StructArray, count: usize) -> Result<(), String> {
        if args.num_columns() == count {
            Ok(())
        } else {
            Err(format!("{name}: expected {count} argument(s), got {}", args.num_columns()))
        }
    }

    /// Returns argument `index` of a call as the array type `T`, or an error naming the type
    /// `declared` in the signature and the type that came.
    pub fn argument<'a, T: Array + 'static>(
        name: &str,
        args: &'a StructArray,
        index: usize,
        declared: &str,
    ) -> Result<&'a T, String> {
        let column = args.column(index);
        column.as_any().downcast_ref::<T>().ok_or_else(|| {
            format!(
                "{name}: argument {index} is {}, not {declared} (as {})",
                column.data_type(),
                std::any::type_name::<T>()
            )
        })
    }

    /// Converts a vectorized function's result into the data to export.
    pub fn into_data(result: impl Array) -> ArrayData {
        result.into_data()
    }

    /// Converts a function's error into the call's message.
    pub fn call_error(name: &str, error: impl Display) -> String {
        format!("{name}: {error}")
    }

    /// The states of every open stream and accumulator, by function name and handle.
    type States = HashMap<(&'static str, u32), Box<dyn Any>>;

    thread_local! {
        static STATES: RefCell<States> = RefCell::new(HashMap::new());
    }

    // -----------------------------------------------------------------------------------------
    // Table functions (ABI §3).
    // -----------------------------------------------------------------------------------------

    /// What the macro generates for a table function.
    pub trait TableFunction: 'static {
        /// The Rust value of one output row (a value, or a tuple of one per column).
        type Item: 'static;
        /// The builders of the output columns.
        type Builders;
        /// The function's name.
        const NAME: &'static str;
        /// The names of the output columns.
        const COLUMNS: &'static [&'static str];
        /// Calls the function on row `row` of `input`; `None` when the row yields nothing (a
        /// null in an argument that is not an `Option`).
        fn start(
            input: &'static StructArray,
            row: usize,
        ) -> Result<Option<Box<dyn Iterator<Item = Self::Item>>>, String>;
        /// New builders.
        fn builders() -> Self::Builders;
        /// Appends one row.
        fn append(builders: &mut Self::Builders, item: Self::Item);
        /// Finishes the columns.
        fn finish(builders: Self::Builders) -> Vec<ArrayRef>;
    }

    /// One stream of a table function: the input it keeps and where it is in it.
    struct Stream<T: TableFunction> {
        /// The iterator of the current row; it may borrow `input`, so it is declared (and
        /// dropped) first.
        rows: Option<Box<dyn Iterator<Item = T::Item>>>,
        /// The row the iterator belongs to, and the next row to start.
        current: usize,
        next: usize,
        /// A row taken from the iterator to learn that the input has more output.
        pending: Option<(usize, T::Item)>,
        /// The input, boxed so that it stays put while the iterator borrows it.
        input: Box<StructArray>,
    }

    impl<T: TableFunction> Stream<T> {
        /// Returns the next output row with its input row, or `None` at the input's end.
        fn next_row(&mut self) -> Result<Option<(usize, T::Item)>, String> {
            if let Some(row) = self.pending.take() {
                return Ok(Some(row));
            }
            loop {
                if let Some(item) = self.rows.as_mut().and_then(|rows| rows.next()) {
                    return Ok(Some((self.current, item)));
                }
                self.rows = None;
                if self.next >= self.input.len() {
                    return Ok(None);
                }
                // SAFETY: `input` is boxed and outlives `rows` (declared before it, and reset
                // whenever the input is): the iterator never sees it move or go.
                let input: &'static StructArray = unsafe { &*ptr::from_ref(&*self.input) };
                self.current = self.next;
                self.next += 1;
                self.rows = T::start(input, self.current)?;
            }
        }
    }

    const OP_TABLE_INPUT: u32 = 1;
    const OP_TABLE_CONTINUE: u32 = 2;
    const OP_TABLE_CLOSE: u32 = 3;
    const FLAG_MORE: u32 = 1;

    /// One call of table function `T`: a new input, the next chunk, or the end of a stream.
    ///
    /// # Safety
    ///
    /// The pointers must be the host's (ABI §3).
    pub unsafe fn table_call<T: TableFunction>(
        args: *mut FFI_ArrowArray,
        args_schema: *mut FFI_ArrowSchema,
        out: *mut FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
        control: *mut Control,
    ) -> i32 {
        let name = T::NAME;
        // SAFETY: the host passes a valid control block.
        let Some(control) = (unsafe { control.as_mut() }) else {
            return fail(format!("{name}: called without a control block"));
        };
        control.flags = 0;
        let key = (name, control.handle);
        let limit = usize::try_from(control.count.max(1)).unwrap_or(usize::MAX);
        let taken = STATES.with_borrow_mut(|states| states.remove(&key));
        let mut stream = match control.op {
            OP_TABLE_INPUT => {
                drop(taken);
                // SAFETY: the host passes this op's input.
                match unsafe { take_input(name, args, args_schema) } {
                    Ok(input) => Box::new(Stream::<T> {
                        rows: None,
                        current: 0,
                        next: 0,
                        pending: None,
                        input: Box::new(input),
                    }),
                    Err(message) => return fail(message),
                }
            }
            OP_TABLE_CONTINUE => match taken.and_then(|s| s.downcast::<Stream<T>>().ok()) {
                Some(stream) => stream,
                None => return fail(format!("{name}: no input for handle {}", key.1)),
            },
            OP_TABLE_CLOSE => return 0,
            op => return fail(format!("{name}: unknown op {op}")),
        };
        let mut input_rows = Vec::new();
        let mut builders = T::builders();
        let chunk = (|| -> Result<bool, String> {
            while input_rows.len() < limit {
                let Some((row, item)) = stream.next_row()? else { return Ok(false) };
                input_rows.push(row as i64);
                T::append(&mut builders, item);
            }
            stream.pending = stream.next_row()?;
            Ok(stream.pending.is_some())
        })();
        let more = match chunk {
            Ok(more) => more,
            Err(message) => return fail(message),
        };
        let mut columns: Vec<(&str, ArrayRef)> =
            vec![("input_row", std::sync::Arc::new(Int64Array::from(input_rows)))];
        columns.extend(T::COLUMNS.iter().copied().zip(T::finish(builders)));
        let result = StructArray::try_from(columns)
            .map_err(|e| format!("{name}: cannot build the chunk: {e}"))
            // SAFETY: the output slots are the host's.
            .and_then(|chunk| unsafe { put_result(name, chunk.into_data(), out, out_schema) });
        if result.is_ok() && more {
            control.flags = FLAG_MORE;
            STATES.with_borrow_mut(|states| states.insert(key, stream));
        }
        outcome(result)
    }

    // -----------------------------------------------------------------------------------------
    // Aggregate functions (ABI §3).
    // -----------------------------------------------------------------------------------------

    const OP_AGGREGATE_UPDATE: u32 = 1;
    const OP_AGGREGATE_MERGE: u32 = 2;
    const OP_AGGREGATE_STATE: u32 = 3;
    const OP_AGGREGATE_FINISH: u32 = 4;
    const OP_AGGREGATE_FREE: u32 = 5;
    /// Control flags of UPDATE and MERGE, host to guest: every group id is below the count.
    const FLAG_GROUPS_CHECKED: u32 = 1;

    /// The group ids of an update or merge input (its last column), each checked against
    /// `count` unless the host says it has checked them (`checked`).
    fn group_ids<'a>(
        name: &str,
        input: &'a StructArray,
        count: usize,
        checked: bool,
    ) -> Result<&'a [u32], String> {
        let column = input.column(input.num_columns().saturating_sub(1));
        let ids = column
            .as_any()
            .downcast_ref::<UInt32Array>()
            .ok_or_else(|| format!("{name}: the group column is {}", column.data_type()))?;
        if checked {
            return Ok(ids.values());
        }
        match ids.values().iter().find(|g| **g as usize >= count) {
            Some(g) => Err(format!("{name}: group {g} of {count}")),
            None => Ok(ids.values()),
        }
    }

    /// One call of aggregate `A`, named `name`.
    ///
    /// # Safety
    ///
    /// The pointers must be the host's (ABI §3).
    pub unsafe fn aggregate_call<A: Aggregate>(
        name: &'static str,
        args: *mut FFI_ArrowArray,
        args_schema: *mut FFI_ArrowSchema,
        out: *mut FFI_ArrowArray,
        out_schema: *mut FFI_ArrowSchema,
        control: *mut Control,
    ) -> i32 {
        // SAFETY: the host passes a valid control block.
        let Some(control) = (unsafe { control.as_mut() }) else {
            return fail(format!("{name}: called without a control block"));
        };
        let checked = control.flags & FLAG_GROUPS_CHECKED != 0;
        control.flags = 0;
        let (op, key) = (control.op, (name, control.handle));
        let Ok(count) = usize::try_from(control.count) else {
            return fail(format!("{name}: group count {}", control.count));
        };
        if op == OP_AGGREGATE_FREE {
            STATES.with_borrow_mut(|states| states.remove(&key));
            return 0;
        }
        let taken = STATES.with_borrow_mut(|states| states.remove(&key));
        let mut states: Box<Vec<A>> =
            taken.and_then(|s| s.downcast::<Vec<A>>().ok()).unwrap_or_default();
        if states.len() < count {
            states.resize_with(count, A::default);
        }
        let error = |e: Error| format!("{name}: {e}");
        let result = match op {
            OP_AGGREGATE_UPDATE | OP_AGGREGATE_MERGE => {
                // SAFETY: the host passes this op's input.
                unsafe { take_input(name, args, args_schema) }.and_then(|input| {
                    let groups = group_ids(name, &input, count, checked)?;
                    let columns = &input.columns()[..input.num_columns() - 1];
                    if op == OP_AGGREGATE_UPDATE {
                        A::update(&mut states[..count], groups, columns).map_err(error)
                    } else {
                        A::merge(&mut states[..count], groups, &columns[0]).map_err(error)
                    }
                })
            }
            OP_AGGREGATE_STATE | OP_AGGREGATE_FINISH => {
                let made = if op == OP_AGGREGATE_STATE {
                    A::state(&states[..count])
                } else {
                    A::finish(&states[..count])
                };
                // SAFETY: the output slots are the host's.
                made.map_err(error)
                    .and_then(|array| unsafe { put_result(name, array.into_data(), out, out_schema) })
            }
            op => Err(format!("{name}: unknown op {op}")),
        };
        STATES.with_borrow_mut(|all| all.insert(key, states));
        outcome(result)
    }
}
