//! A wasmudf guest written in Rust with the `arrow` crate's own C Data Interface support.
//!
//! This module implements version 1 of the guest ABI (docs/abi.md) without the C guest SDK: it
//! exports the allocator, the release entry points and the error message that §1 requires, and
//! five functions, `sum` (a batch function), `str_len` and `fail_on_negative` (scalar
//! functions), `chars` (a table function, streamed in chunks) and `mean` (a grouped aggregate),
//! each described by a record in the `wasmudf` custom section. The inputs are
//! imported with `arrow::ffi::from_ffi`, as in the blog post this project grew from, but nothing
//! is leaked with `mem::forget`: the inputs are released by dropping them, which calls the
//! `release` callback that the host put in every input struct. That callback is part of this
//! module (`input_array_release`, `input_schema_release`) and keeps the input block's reference
//! count as ABI §4 describes. Results are exported with `FFI_ArrowArray::new` and moved into the
//! host's output slots.
//!
//! The module is built for wasm32-wasip1 by scripts/build-rust-guest.sh (see README.md beside
//! Cargo.toml). The same code also compiles natively, where the tests at the bottom of this file
//! check the functions and the block reference count with native pointers.

use std::alloc::{Layout, alloc, dealloc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CString, c_char, c_void};
use std::ptr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, StringArray, StringBuilder,
    StructArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, UInt32Type};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};

// ---------------------------------------------------------------------------------------------
// Function metadata (ABI §6).
// ---------------------------------------------------------------------------------------------

/// Places one NUL-terminated metadata record in the `wasmudf` custom section. The linker
/// concatenates all statics of that section, so each function brings its own record.
macro_rules! metadata_record {
    ($name:ident, $record:literal) => {
        #[unsafe(link_section = "wasmudf")]
        #[used]
        static $name: [u8; $record.len()] = *$record;
    };
}

metadata_record!(
    META_SUM,
    b"wasmudf:1 batch sum(int32) -> struct<sum: int64>\0"
);
metadata_record!(META_STR_LEN, b"wasmudf:1 scalar str_len(utf8) -> int64\0");
metadata_record!(
    META_FAIL_ON_NEGATIVE,
    b"wasmudf:1 scalar fail_on_negative(int32) -> int32\0"
);
metadata_record!(
    META_CHARS,
    b"wasmudf:1 table chars(utf8 text) -> table<position: int32, character: utf8>\0"
);
metadata_record!(
    META_MEAN,
    b"wasmudf:1 aggregate mean(float64) -> float64 STATE struct<sum: float64, count: int64>\0"
);

// ---------------------------------------------------------------------------------------------
// The C Data Interface structs as the input release function sees them (ABI §2).
// ---------------------------------------------------------------------------------------------

/// The `ArrowArray` struct with public fields. The fields of `FFI_ArrowArray` are private, and
/// the input release function has to walk the children and the dictionary, so it reads the same
/// memory through this declaration instead.
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

// On wasm32 both our declarations and arrow's FFI structs must have exactly the layout of ABI §2;
// the build fails here if they do not.
#[cfg(target_arch = "wasm32")]
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<RawArray>() == 64 && align_of::<RawArray>() == 8);
    assert!(offset_of!(RawArray, buffers) == 40);
    assert!(offset_of!(RawArray, children) == 44);
    assert!(offset_of!(RawArray, dictionary) == 48);
    assert!(offset_of!(RawArray, release) == 52);
    assert!(offset_of!(RawArray, private_data) == 56);
    assert!(size_of::<RawSchema>() == 48 && align_of::<RawSchema>() == 8);
    assert!(offset_of!(RawSchema, flags) == 16);
    assert!(offset_of!(RawSchema, n_children) == 24);
    assert!(offset_of!(RawSchema, children) == 32);
    assert!(offset_of!(RawSchema, dictionary) == 36);
    assert!(offset_of!(RawSchema, release) == 40);
    assert!(offset_of!(RawSchema, private_data) == 44);
    assert!(size_of::<FFI_ArrowArray>() == 64 && align_of::<FFI_ArrowArray>() == 8);
    assert!(size_of::<FFI_ArrowSchema>() == 48 && align_of::<FFI_ArrowSchema>() == 8);
};

// ---------------------------------------------------------------------------------------------
// Memory (ABI §1): wudf_alloc and wudf_free.
// ---------------------------------------------------------------------------------------------

/// Bytes kept in front of every block from `wudf_alloc`: the total size and the alignment of the
/// underlying allocation, which `wudf_free` needs to rebuild its `Layout`.
const ALLOC_HEADER: usize = 2 * size_of::<usize>();

/// Allocates `size` bytes aligned to `align` (a power of two, at most 64) for the host, or
/// returns 0. The block is preceded by a small header that remembers its layout.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_alloc(size: usize, align: usize) -> *mut u8 {
    if !align.is_power_of_two() || align > 64 {
        return ptr::null_mut();
    }
    // The header sits in the `align` bytes before the returned pointer, so those bytes must be
    // at least as many as the header needs; raising the alignment keeps the result aligned.
    let align = align.max(ALLOC_HEADER);
    let Some(total) = size.checked_add(align) else {
        return ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(total, align) else {
        return ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size because `total >= align >= ALLOC_HEADER`.
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `base + align` is inside the allocation, and the two header words before it are
    // inside it too and aligned to `usize`.
    unsafe {
        let block = base.add(align);
        let header = block.cast::<usize>().sub(2);
        header.write(total);
        header.add(1).write(align);
        block
    }
}

/// Frees a block from `wudf_alloc`; a null pointer is a no-op.
///
/// # Safety
///
/// `block` must be null or a pointer returned by `wudf_alloc` that has not been freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_free(block: *mut u8) {
    if block.is_null() {
        return;
    }
    // SAFETY: `wudf_alloc` wrote the layout of the allocation in the two words before `block`.
    unsafe {
        let header = block.cast::<usize>().sub(2);
        let total = header.read();
        let align = header.add(1).read();
        dealloc(
            block.sub(align),
            Layout::from_size_align_unchecked(total, align),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Releasing the inputs (ABI §4).
// ---------------------------------------------------------------------------------------------

/// The header at the start of the input block that the host writes for each call.
#[repr(C)]
struct BlockHeader {
    /// The number of structs in the block that are not released yet.
    live: u32,
    /// `BLOCK_MAGIC`.
    magic: u32,
    reserved: u64,
}

/// The block header's magic number, "WUDF" in little-endian bytes.
const BLOCK_MAGIC: u32 = 0x4644_5557;

/// Counts one struct of the input block `block` as released, and frees the block with
/// `wudf_free` when it was the last one. A block without the magic number means the host broke
/// the ABI, and the module traps rather than corrupting its memory.
unsafe fn release_block_struct(block: *mut c_void) {
    let header = block.cast::<BlockHeader>();
    // SAFETY: the host set `private_data` to the start of the input block, which it allocated
    // with `wudf_alloc`; the block stays allocated while `live` is above zero.
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

/// The release callback of every input `ArrowArray`: releases the children and the dictionary
/// that are still unreleased, marks the struct released and counts it out of its block.
///
/// It only uses `private_data` and the pointers in the struct, never the struct's own address,
/// so it also works on a struct that was moved out of the block (as `FFI_ArrowArray::from_raw`
/// does).
unsafe extern "C" fn input_array_release(array: *mut RawArray) {
    // SAFETY: the caller passes a valid struct written by the host, or one moved out of it.
    unsafe {
        let Some(array) = array.as_mut() else {
            return;
        };
        if array.release.is_none() {
            return;
        }
        // The children and the dictionary are released first: while this struct is still
        // counted, the block (which holds their pointers) cannot be freed under us.
        for i in 0..usize::try_from(array.n_children).unwrap_or(0) {
            let child = *array.children.add(i);
            if let Some(release) = child.as_ref().and_then(|c| c.release) {
                release(child);
            }
        }
        if let Some(release) = array.dictionary.as_ref().and_then(|d| d.release) {
            release(array.dictionary);
        }
        let block = array.private_data;
        array.release = None;
        release_block_struct(block);
    }
}

/// The release callback of every input `ArrowSchema`, the schema counterpart of
/// `input_array_release`.
unsafe extern "C" fn input_schema_release(schema: *mut RawSchema) {
    // SAFETY: the caller passes a valid struct written by the host, or one moved out of it.
    unsafe {
        let Some(schema) = schema.as_mut() else {
            return;
        };
        if schema.release.is_none() {
            return;
        }
        for i in 0..usize::try_from(schema.n_children).unwrap_or(0) {
            let child = *schema.children.add(i);
            if let Some(release) = child.as_ref().and_then(|c| c.release) {
                release(child);
            }
        }
        if let Some(release) = schema.dictionary.as_ref().and_then(|d| d.release) {
            release(schema.dictionary);
        }
        let block = schema.private_data;
        schema.release = None;
        release_block_struct(block);
    }
}

/// Returns the function table index of `input_array_release`, which the host stores in the
/// `release` field of every input `ArrowArray`.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_input_array_release() -> i32 {
    input_array_release as *const () as usize as i32
}

/// Returns the function table index of `input_schema_release`.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_input_schema_release() -> i32 {
    input_schema_release as *const () as usize as i32
}

/// Releases the `ArrowArray` at `array` if it is not released yet. The struct is moved out first,
/// so the slot is left released whatever its callback does.
///
/// # Safety
///
/// `array` must be null or point to a valid `ArrowArray` in this module's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_release_array(array: *mut FFI_ArrowArray) {
    if !array.is_null() {
        // SAFETY: the caller guarantees a valid struct; dropping it calls its release callback.
        drop(unsafe { FFI_ArrowArray::from_raw(array) });
    }
}

/// Releases the `ArrowSchema` at `schema` if it is not released yet.
///
/// # Safety
///
/// `schema` must be null or point to a valid `ArrowSchema` in this module's memory.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_release_schema(schema: *mut FFI_ArrowSchema) {
    if !schema.is_null() {
        // SAFETY: as in `wudf_release_array`.
        drop(unsafe { FFI_ArrowSchema::from_raw(schema) });
    }
}

// ---------------------------------------------------------------------------------------------
// Version and errors.
// ---------------------------------------------------------------------------------------------

/// Returns the version of the guest ABI this module implements.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_abi_version() -> i32 {
    1
}

thread_local! {
    /// The message of the last failed call; it lives until the next failure replaces it.
    static ERROR_MESSAGE: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records `message` as the message of the failed call.
fn set_error(message: String) {
    // A NUL inside the message would cut it short, so it is replaced.
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    ERROR_MESSAGE.with_borrow_mut(|slot| *slot = Some(message));
}

/// Returns the NUL-terminated message of the last failed call, or null if no call has failed.
#[unsafe(no_mangle)]
pub extern "C" fn wudf_error_message() -> *const c_char {
    ERROR_MESSAGE.with_borrow(|slot| slot.as_ref().map_or(ptr::null(), |m| m.as_ptr()))
}

// ---------------------------------------------------------------------------------------------
// Calling a function (ABI §3).
// ---------------------------------------------------------------------------------------------

/// Takes ownership of the input of a call and imports it with `from_ffi` as a struct array (the
/// move leaves the host's structs released, as ABI §4 allows). The inputs are released when the
/// imported data is dropped: the schema at once, the array when the last buffer imported from it
/// goes (which may be after the host releases a result that borrows the input's buffers, as
/// `fail_on_negative` does, or after later calls, as `chars` keeps its input).
///
/// # Safety
///
/// The pointers must be those the host passes, not null.
unsafe fn take_input(
    name: &str,
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
) -> Result<StructArray, String> {
    if args.is_null() || args_schema.is_null() {
        return Err(format!("{name}: called with a null pointer"));
    }
    // SAFETY: the host passed valid input structs whose ownership is now ours.
    let (array, schema) = unsafe {
        (
            FFI_ArrowArray::from_raw(args),
            FFI_ArrowSchema::from_raw(args_schema),
        )
    };
    // SAFETY: the host wrote the input following the C Data Interface.
    let data = unsafe { from_ffi(array, &schema) }
        .map_err(|e| format!("{name}: cannot import the arguments: {e}"))?;
    match data.data_type() {
        DataType::Struct(_) => Ok(StructArray::from(data)),
        other => Err(format!("{name}: the arguments are a {other}, not a struct")),
    }
}

/// Moves `result` into the output slots.
///
/// # Safety
///
/// The slots must be those the host passes.
unsafe fn put_result(
    name: &str,
    result: ArrayRef,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> Result<(), String> {
    let data = result.to_data();
    let schema = FFI_ArrowSchema::try_from(data.data_type())
        .map_err(|e| format!("{name}: cannot export the result: {e}"))?;
    // SAFETY: the output slots are valid, zeroed and hold nothing to drop.
    unsafe {
        ptr::write(out, FFI_ArrowArray::new(&data));
        ptr::write(out_schema, schema);
    }
    Ok(())
}

/// Turns the outcome of a table or aggregate op into its return code.
fn finish_op(outcome: Result<(), String>) -> i32 {
    match outcome {
        Ok(()) => 0,
        Err(message) => {
            set_error(message);
            1
        }
    }
}

/// Runs one call of scalar or batch function `name`: takes the arguments (`take_input`), runs
/// `body` on them and moves its result into the output slots. Returns 0 on success; on failure
/// records the message and returns 1. The inputs are released on every path.
///
/// # Safety
///
/// The pointers must be those the host passes to `wudf_fn_NAME` (ABI §3).
unsafe fn call(
    name: &str,
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
    body: impl FnOnce(&StructArray) -> Result<ArrayRef, String>,
) -> i32 {
    let outcome = if out.is_null() || out_schema.is_null() {
        Err(format!("{name}: called with a null pointer"))
    } else {
        // SAFETY: the host passes the arguments and output slots of this call.
        unsafe { take_input(name, args, args_schema) }
            .and_then(|args| body(&args))
            .and_then(|result| unsafe { put_result(name, result, out, out_schema) })
    };
    finish_op(outcome)
}

/// Returns argument `index` of a call of `name` after checking that there are exactly `count`
/// arguments.
fn argument<'a>(
    name: &str,
    args: &'a StructArray,
    count: usize,
    index: usize,
) -> Result<&'a ArrayRef, String> {
    if args.num_columns() != count {
        return Err(format!(
            "{name}: expected {count} argument(s), got {}",
            args.num_columns()
        ));
    }
    Ok(args.column(index))
}

/// Builds the error for argument `index` of `name` not having the `expected` type.
fn wrong_type(name: &str, index: usize, expected: &str, column: &ArrayRef) -> String {
    format!(
        "{name}: argument {index} is {}, expected {expected}",
        column.data_type()
    )
}

// ---------------------------------------------------------------------------------------------
// The functions.
// ---------------------------------------------------------------------------------------------

/// `sum(int32) -> struct<sum: int64>`, a batch function: one row holding the sum of the
/// non-null values of its argument.
fn sum(args: &StructArray) -> Result<ArrayRef, String> {
    let column = argument("sum", args, 1, 0)?;
    let values = column
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| wrong_type("sum", 0, "int32", column))?;
    // The blog post's fold, widened to 64 bits so that it cannot overflow.
    let total = values.iter().fold(0_i64, |acc, value| match value {
        Some(v) => acc + i64::from(v),
        None => acc,
    });
    let field = Arc::new(Field::new("sum", DataType::Int64, false));
    let column: ArrayRef = Arc::new(Int64Array::from(vec![total]));
    Ok(Arc::new(StructArray::from(vec![(field, column)])))
}

/// `str_len(utf8) -> int64`: the length in bytes of each string. Rows that are null in the input
/// stay null (the host only passes them for a function called on null input, but the function
/// does not rely on that).
fn str_len(args: &StructArray) -> Result<ArrayRef, String> {
    let column = argument("str_len", args, 1, 0)?;
    let strings = column
        .as_string_opt::<i32>()
        .ok_or_else(|| wrong_type("str_len", 0, "utf8", column))?;
    let lengths = strings.offsets().lengths().map(|n| n as i64).collect();
    Ok(Arc::new(Int64Array::new(lengths, strings.nulls().cloned())))
}

/// `fail_on_negative(int32) -> int32`: returns its argument unchanged, or fails the call naming
/// the first negative value and its row.
///
/// The result is the input column itself, so it borrows the input block's buffers: the block is
/// freed only when the host releases the result.
fn fail_on_negative(args: &StructArray) -> Result<ArrayRef, String> {
    let column = argument("fail_on_negative", args, 1, 0)?;
    let values = column
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| wrong_type("fail_on_negative", 0, "int32", column))?;
    for (row, value) in values.iter().enumerate() {
        if let Some(v) = value
            && v < 0
        {
            return Err(format!("fail_on_negative: negative value {v} at row {row}"));
        }
    }
    Ok(column.clone())
}

/// The export of `sum` (ABI §1: `wudf_fn_NAME`).
///
/// # Safety
///
/// The pointers must be those the host passes (ABI §3).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_fn_sum(
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    unsafe { call("sum", args, args_schema, out, out_schema, sum) }
}

/// The export of `str_len`.
///
/// # Safety
///
/// The pointers must be those the host passes (ABI §3).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_fn_str_len(
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    unsafe { call("str_len", args, args_schema, out, out_schema, str_len) }
}

/// The export of `fail_on_negative`.
///
/// # Safety
///
/// The pointers must be those the host passes (ABI §3).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_fn_fail_on_negative(
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    unsafe {
        call(
            "fail_on_negative",
            args,
            args_schema,
            out,
            out_schema,
            fail_on_negative,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Table and aggregate functions (ABI §3): the control block and per-handle state.
// ---------------------------------------------------------------------------------------------

/// The control block the host passes to table and aggregate functions.
#[repr(C)]
pub struct Control {
    op: u32,
    handle: u32,
    count: i64,
    flags: u32,
    reserved: [u32; 3],
}

#[cfg(target_arch = "wasm32")]
const _: () = assert!(size_of::<Control>() == 32);

/// Table ops (ABI §3).
const OP_TABLE_INPUT: u32 = 1;
const OP_TABLE_CONTINUE: u32 = 2;
const OP_TABLE_CLOSE: u32 = 3;
/// The flag of a table chunk with more output to come.
const FLAG_MORE: u32 = 1;
/// Aggregate ops (ABI §3).
const OP_AGGREGATE_UPDATE: u32 = 1;
const OP_AGGREGATE_MERGE: u32 = 2;
const OP_AGGREGATE_STATE: u32 = 3;
const OP_AGGREGATE_FINISH: u32 = 4;
const OP_AGGREGATE_FREE: u32 = 5;

/// Where a stream of `chars` is in its input.
struct CharsInput {
    texts: StringArray,
    row: usize,
    /// The byte in `texts[row]` where the next character starts, and that character's position.
    at: usize,
    position: i32,
}

thread_local! {
    /// The input each open stream of `chars` holds, by handle.
    static CHARS: RefCell<HashMap<u32, CharsInput>> = RefCell::new(HashMap::new());
    /// The (sum, count) of each group of each accumulator of `mean`, by handle.
    static MEANS: RefCell<HashMap<u32, Vec<(f64, i64)>>> = RefCell::new(HashMap::new());
}

/// One chunk of `chars`: at most `limit` rows; returns whether the input has more.
fn chars_chunk(input: &mut CharsInput, limit: usize) -> (ArrayRef, bool) {
    let mut rows = Vec::new();
    let mut positions = Vec::new();
    let mut characters = StringBuilder::new();
    while input.row < input.texts.len() && rows.len() < limit {
        // A strict function never sees a null row; a null would simply yield no rows.
        let text = if input.texts.is_null(input.row) { "" } else { input.texts.value(input.row) };
        match text[input.at..].chars().next() {
            Some(c) => {
                rows.push(input.row as i64);
                positions.push(input.position);
                characters.append_value(c.encode_utf8(&mut [0; 4]));
                input.at += c.len_utf8();
                input.position += 1;
            }
            None => {
                input.row += 1;
                input.at = 0;
                input.position = 0;
            }
        }
    }
    // Past the last character of the last row with output there may be empty rows left: the
    // input has more only if a character is still to come.
    while input.row < input.texts.len()
        && (input.texts.is_null(input.row) || input.at >= input.texts.value(input.row).len())
    {
        input.row += 1;
        input.at = 0;
        input.position = 0;
    }
    let more = input.row < input.texts.len();
    let fields: Vec<(Arc<Field>, ArrayRef)> = vec![
        (Arc::new(Field::new("input_row", DataType::Int64, false)), Arc::new(Int64Array::from(rows))),
        (Arc::new(Field::new("position", DataType::Int32, true)), Arc::new(Int32Array::from(positions))),
        (Arc::new(Field::new("character", DataType::Utf8, true)), Arc::new(characters.finish())),
    ];
    (Arc::new(StructArray::from(fields)), more)
}

/// The export of `chars(utf8 text) -> table<position: int32, character: utf8>`: the characters
/// (Unicode scalar values) of each text with their positions, in chunks of at most
/// `control.count` rows.
///
/// # Safety
///
/// The pointers must be those the host passes (ABI §3).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_fn_chars(
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
    control: *mut Control,
) -> i32 {
    // SAFETY: the host passes a valid control block.
    let control = unsafe { &mut *control };
    control.flags = 0;
    let handle = control.handle;
    let limit = usize::try_from(control.count.max(1)).unwrap_or(usize::MAX);
    let outcome = CHARS.with_borrow_mut(|streams| -> Result<(), String> {
        match control.op {
            OP_TABLE_INPUT => {
                // SAFETY: the host passes the input of this op.
                let input = unsafe { take_input("chars", args, args_schema) }?;
                let texts = input
                    .column(0)
                    .as_string_opt::<i32>()
                    .ok_or_else(|| wrong_type("chars", 0, "utf8", input.column(0)))?
                    .clone();
                streams.insert(handle, CharsInput { texts, row: 0, at: 0, position: 0 });
            }
            OP_TABLE_CONTINUE => {}
            OP_TABLE_CLOSE => {
                streams.remove(&handle);
                return Ok(());
            }
            op => return Err(format!("chars: unknown op {op}")),
        }
        let input = streams
            .get_mut(&handle)
            .ok_or_else(|| format!("chars: no input for handle {handle}"))?;
        let (chunk, more) = chars_chunk(input, limit);
        if more {
            control.flags = FLAG_MORE;
        } else {
            streams.remove(&handle); // the input is done: drop it
        }
        // SAFETY: the output slots are the host's.
        unsafe { put_result("chars", chunk, out, out_schema) }
    });
    if outcome.is_err() {
        CHARS.with_borrow_mut(|streams| streams.remove(&handle));
    }
    finish_op(outcome)
}

/// The group ids of an update or merge input (its last column, uint32).
fn group_ids<'a>(input: &'a StructArray) -> Result<&'a [u32], String> {
    let column = input.column(input.num_columns() - 1);
    let ids = column
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| format!("mean: the group column is {}", column.data_type()))?;
    Ok(ids.values())
}

/// Folds an update or merge input into the states `states` (grown to `count` groups).
fn mean_fold(op: u32, input: &StructArray, states: &mut Vec<(f64, i64)>) -> Result<(), String> {
    let groups = group_ids(input)?;
    let group_count = states.len();
    let check = |g: u32| -> Result<usize, String> {
        let g = g as usize;
        if g < group_count { Ok(g) } else { Err(format!("mean: group {g} of {group_count}")) }
    };
    if op == OP_AGGREGATE_UPDATE {
        let column = input.column(0);
        let values = column
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| wrong_type("mean", 0, "float64", column))?;
        for (row, g) in groups.iter().enumerate() {
            let g = check(*g)?;
            // A strict aggregate never gets null rows; skip them anyway.
            if values.is_valid(row) {
                states[g].0 += values.value(row);
                states[g].1 += 1;
            }
        }
    } else {
        let partial = input
            .column(0)
            .as_struct_opt()
            .ok_or_else(|| "mean: the partial states are not a struct".to_owned())?;
        let sums = partial.column(0).as_primitive_opt::<Float64Type>();
        let counts = partial.column(1).as_primitive_opt::<Int64Type>();
        let (Some(sums), Some(counts)) = (sums, counts) else {
            return Err("mean: the partial states are not struct<sum: float64, count: int64>".into());
        };
        for (row, g) in groups.iter().enumerate() {
            let g = check(*g)?;
            if partial.is_valid(row) {
                states[g].0 += sums.value(row);
                states[g].1 += counts.value(row);
            }
        }
    }
    Ok(())
}

/// The export of `mean(float64) -> float64 STATE struct<sum: float64, count: int64>`: the mean
/// of each group, null for a group without values.
///
/// # Safety
///
/// The pointers must be those the host passes (ABI §3).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wudf_fn_mean(
    args: *mut FFI_ArrowArray,
    args_schema: *mut FFI_ArrowSchema,
    out: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
    control: *mut Control,
) -> i32 {
    // SAFETY: the host passes a valid control block.
    let control = unsafe { &mut *control };
    control.flags = 0;
    let (op, handle) = (control.op, control.handle);
    let Ok(count) = usize::try_from(control.count) else {
        return finish_op(Err(format!("mean: group count {}", control.count)));
    };
    let outcome = MEANS.with_borrow_mut(|accumulators| -> Result<(), String> {
        if op == OP_AGGREGATE_FREE {
            accumulators.remove(&handle);
            return Ok(());
        }
        let states = accumulators.entry(handle).or_default();
        if states.len() < count {
            states.resize(count, (0.0, 0));
        }
        match op {
            OP_AGGREGATE_UPDATE | OP_AGGREGATE_MERGE => {
                // SAFETY: the host passes the input of this op.
                let input = unsafe { take_input("mean", args, args_schema) }?;
                mean_fold(op, &input, states)
            }
            OP_AGGREGATE_STATE => {
                let states = &states[..count];
                let fields: Vec<(Arc<Field>, ArrayRef)> = vec![
                    (
                        Arc::new(Field::new("sum", DataType::Float64, true)),
                        Arc::new(Float64Array::from_iter_values(states.iter().map(|s| s.0))),
                    ),
                    (
                        Arc::new(Field::new("count", DataType::Int64, true)),
                        Arc::new(Int64Array::from_iter_values(states.iter().map(|s| s.1))),
                    ),
                ];
                // SAFETY: the output slots are the host's.
                unsafe { put_result("mean", Arc::new(StructArray::from(fields)), out, out_schema) }
            }
            OP_AGGREGATE_FINISH => {
                let means: Float64Array = states[..count]
                    .iter()
                    .map(|(sum, n)| (*n > 0).then(|| sum / *n as f64))
                    .collect();
                // SAFETY: the output slots are the host's.
                unsafe { put_result("mean", Arc::new(means), out, out_schema) }
            }
            op => Err(format!("mean: unknown op {op}")),
        }
    });
    finish_op(outcome)
}

// ---------------------------------------------------------------------------------------------
// Native tests: `cargo test` runs them on the build machine, with native pointers.
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, StringArray, make_array};
    use arrow::ffi::to_ffi;
    use std::ffi::CStr;
    use std::mem::size_of;

    /// The result of one call: the return code and the output slots.
    struct Called {
        rc: i32,
        out: Box<FFI_ArrowArray>,
        out_schema: Box<FFI_ArrowSchema>,
    }

    impl Called {
        /// Imports the result, as the host would after a successful call.
        fn result(mut self) -> ArrayRef {
            assert_eq!(self.rc, 0, "the call failed: {}", last_error());
            let array = unsafe { FFI_ArrowArray::from_raw(&mut *self.out) };
            make_array(unsafe { from_ffi(array, &self.out_schema) }.unwrap())
        }
    }

    type Export = unsafe extern "C" fn(
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
        *mut FFI_ArrowArray,
        *mut FFI_ArrowSchema,
    ) -> i32;

    /// Calls `function` on `args` and `args_schema`, which it takes ownership of.
    fn call_raw(
        function: Export,
        args: *mut FFI_ArrowArray,
        args_schema: *mut FFI_ArrowSchema,
    ) -> Called {
        let mut out = Box::new(FFI_ArrowArray::empty());
        let mut out_schema = Box::new(FFI_ArrowSchema::empty());
        let rc = unsafe { function(args, args_schema, &mut *out, &mut *out_schema) };
        Called {
            rc,
            out,
            out_schema,
        }
    }

    /// Calls `function` with the columns `columns` exported by arrow itself.
    fn call_with(function: Export, columns: Vec<ArrayRef>) -> Called {
        let fields: Vec<(Arc<Field>, ArrayRef)> = columns
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    Arc::new(Field::new(format!("arg{i}"), c.data_type().clone(), true)),
                    c,
                )
            })
            .collect();
        let (mut array, mut schema) = to_ffi(&StructArray::from(fields).to_data()).unwrap();
        let called = call_raw(function, &mut array, &mut schema);
        // The function moved the inputs out, so what is left here is released.
        assert!(array.is_released());
        called
    }

    fn last_error() -> String {
        let message = wudf_error_message();
        assert!(!message.is_null());
        unsafe { CStr::from_ptr(message) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn sum_of_the_non_null_values() {
        let column: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(3)]));
        let result = call_with(wudf_fn_sum, vec![column]).result();
        let result = result.as_struct();
        assert_eq!(result.len(), 1);
        assert_eq!(result.column_names(), vec!["sum"]);
        assert_eq!(
            result
                .column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            4
        );
    }

    #[test]
    fn str_len_of_a_slice_with_nulls() {
        let strings = StringArray::from(vec![Some("skipped"), Some("héllo"), None, Some("")]);
        let column: ArrayRef = Arc::new(strings.slice(1, 3));
        let result = call_with(wudf_fn_str_len, vec![column]).result();
        let lengths = result.as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(
            lengths.iter().collect::<Vec<_>>(),
            vec![Some(6), None, Some(0)]
        );
    }

    #[test]
    fn fail_on_negative_names_the_value_and_the_row() {
        let column: ArrayRef = Arc::new(Int32Array::from(vec![Some(1), None, Some(-5), Some(-6)]));
        let called = call_with(wudf_fn_fail_on_negative, vec![column]);
        assert_ne!(called.rc, 0);
        assert!(called.out.is_released() && called.out_schema.release().is_none());
        assert_eq!(last_error(), "fail_on_negative: negative value -5 at row 2");
    }

    #[test]
    fn wrong_argument_types_fail() {
        let column: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        let called = call_with(wudf_fn_sum, vec![column]);
        assert_ne!(called.rc, 0);
        assert_eq!(last_error(), "sum: argument 0 is Utf8, expected int32");
    }

    #[test]
    fn alloc_honours_the_alignment_and_frees() {
        for align in [1, 2, 4, 8, 16, 32, 64] {
            let block = wudf_alloc(100, align);
            assert!(!block.is_null() && (block as usize).is_multiple_of(align));
            unsafe { wudf_free(block) };
        }
        assert!(wudf_alloc(8, 3).is_null());
        assert!(wudf_alloc(8, 128).is_null());
        unsafe { wudf_free(ptr::null_mut()) };
    }

    /// An input block laid out like the host's (ABI §3, §4), with native pointers.
    struct InputBlock {
        base: *mut u8,
        used: usize,
    }

    impl InputBlock {
        const SIZE: usize = 4096;

        fn new() -> Self {
            let base = wudf_alloc(Self::SIZE, 64);
            unsafe { ptr::write_bytes(base, 0, Self::SIZE) };
            Self { base, used: 64 }
        }

        /// Copies `value` into the block at the next 64-byte boundary.
        fn place<T>(&mut self, value: T) -> *mut T {
            assert!(self.used + size_of::<T>() <= Self::SIZE);
            let at = unsafe { self.base.add(self.used) }.cast::<T>();
            unsafe { at.write(value) };
            self.used = (self.used + size_of::<T>()).next_multiple_of(64);
            at
        }

        fn header(&mut self) -> &mut BlockHeader {
            unsafe { &mut *self.base.cast::<BlockHeader>() }
        }

        fn array(
            &mut self,
            length: i64,
            offset: i64,
            buffers: &[*const c_void],
            children: &[*mut RawArray],
        ) -> *mut RawArray {
            let buffers_at = self
                .place([ptr::null::<c_void>(); 4])
                .cast::<*const c_void>();
            unsafe { ptr::copy_nonoverlapping(buffers.as_ptr(), buffers_at, buffers.len()) };
            let children_at = self
                .place([ptr::null_mut::<RawArray>(); 4])
                .cast::<*mut RawArray>();
            unsafe { ptr::copy_nonoverlapping(children.as_ptr(), children_at, children.len()) };
            self.place(RawArray {
                length,
                null_count: -1,
                offset,
                n_buffers: buffers.len() as i64,
                n_children: children.len() as i64,
                buffers: buffers_at,
                children: children_at,
                dictionary: ptr::null_mut(),
                release: Some(input_array_release),
                private_data: self.base.cast(),
            })
        }

        fn schema(
            &mut self,
            format: &'static CStr,
            name: &'static CStr,
            children: &[*mut RawSchema],
        ) -> *mut RawSchema {
            let children_at = self
                .place([ptr::null_mut::<RawSchema>(); 4])
                .cast::<*mut RawSchema>();
            unsafe { ptr::copy_nonoverlapping(children.as_ptr(), children_at, children.len()) };
            self.place(RawSchema {
                format: format.as_ptr(),
                name: name.as_ptr(),
                metadata: ptr::null(),
                flags: 2,
                n_children: children.len() as i64,
                children: children_at,
                dictionary: ptr::null_mut(),
                release: Some(input_schema_release),
                private_data: self.base.cast(),
            })
        }

        /// Writes the arguments of one int32 column [1, null, 3, -5][..length] stored with an
        /// offset of 1; returns the struct array and its schema. The block counts one extra
        /// struct, the test's own hold, so that it stays readable after the call.
        fn int32_arguments(&mut self, length: i64) -> (*mut RawArray, *mut RawSchema) {
            let validity = self.place(0b1_1011u8);
            let values = self.place([100i32, 1, 0, 3, -5]);
            let child = self.array(length, 1, &[validity.cast(), values.cast()], &[]);
            let args = self.array(length, 0, &[ptr::null()], &[child]);
            let child_schema = self.schema(c"i", c"arg0", &[]);
            let args_schema = self.schema(c"+s", c"", &[child_schema]);
            *self.header() = BlockHeader {
                live: 5,
                magic: BLOCK_MAGIC,
                reserved: 0,
            };
            (args, args_schema)
        }

        /// Drops the test's hold; the block is freed if nothing else holds it.
        fn release_hold(self) {
            unsafe { release_block_struct(self.base.cast()) };
        }
    }

    #[test]
    fn inputs_are_released_through_the_block_refcount() {
        let mut block = InputBlock::new();
        let (args, args_schema) = block.int32_arguments(3);
        let (child, child_schema) = unsafe { (*(*args).children, *(*args_schema).children) };
        let result = call_raw(wudf_fn_sum, args.cast(), args_schema.cast()).result();
        assert_eq!(
            result
                .as_struct()
                .column(0)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            4
        );
        // Every struct of the block is released (the parents were moved out of their slots,
        // which are left released too); only the test's hold is left.
        assert_eq!(block.header().live, 1);
        unsafe {
            assert!((*args).release.is_none() && (*args_schema).release.is_none());
            assert!((*child).release.is_none() && (*child_schema).release.is_none());
        }
        block.release_hold();
    }

    #[test]
    fn a_result_borrowing_the_input_keeps_the_block_alive() {
        let mut block = InputBlock::new();
        let (args, args_schema) = block.int32_arguments(3);
        let called = call_raw(wudf_fn_fail_on_negative, args.cast(), args_schema.cast());
        // The schemas are released; the two arrays are owned by the result.
        assert_eq!(block.header().live, 3);
        let result = called.result();
        assert_eq!(
            result
                .as_primitive::<Int32Type>()
                .iter()
                .collect::<Vec<_>>(),
            vec![Some(1), None, Some(3)]
        );
        drop(result);
        assert_eq!(block.header().live, 1);
        block.release_hold();
    }

    #[test]
    fn a_failed_call_releases_its_inputs() {
        let mut block = InputBlock::new();
        let (args, args_schema) = block.int32_arguments(4);
        let called = call_raw(wudf_fn_fail_on_negative, args.cast(), args_schema.cast());
        assert_ne!(called.rc, 0);
        assert_eq!(last_error(), "fail_on_negative: negative value -5 at row 3");
        assert_eq!(block.header().live, 1);
        block.release_hold();
    }

    #[test]
    fn release_entry_points_release_and_tolerate_released_structs() {
        let mut block = InputBlock::new();
        let (args, args_schema) = block.int32_arguments(3);
        unsafe {
            wudf_release_array(args.cast());
            wudf_release_array(args.cast());
            wudf_release_schema(args_schema.cast());
            wudf_release_array(ptr::null_mut());
        }
        assert_eq!(block.header().live, 1);
        block.release_hold();
    }
}
