//! Table functions: an iterator of output rows per input row, streamed in chunks.
use wasmudf_guest::function;

/// The integers start, start + 1, ..., stop - 1 (one column named `series`).
#[function("series(int32 start, int32 stop) -> setof int32")]
fn series(start: i32, stop: i32) -> impl Iterator<Item = i32> {
    start..stop
}

/// The characters of a text with their positions.
#[function("chars(utf8 text) -> table<position: int32, character: utf8>")]
fn chars(text: &str) -> impl Iterator<Item = (i32, String)> + '_ {
    text.chars().enumerate().map(|(i, c)| (i as i32, c.to_string()))
}
