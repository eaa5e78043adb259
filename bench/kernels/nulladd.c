/*
 * nulladd.c -- benchmark kernel: a null-heavy add. add(a, b) of two int64
 * columns with about half of each column null; the function is called on
 * null input and makes a row null when either argument is, so every row
 * crosses the boundary with its validity bitmaps. Sums wrap (two's
 * complement).
 *
 * Native twin: native_nulladd in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

/* Byte `i` of a bitmap whose row 0 is bit `offset` (< 8) of bits[0]; the
 * byte past the last is read only when the offset needs its bits. */
static uint8_t bitmap_byte(wudf_bitmap bitmap, int64_t i, int64_t bytes) {
  if (bitmap.offset == 0) return bitmap.bits[i];
  unsigned high = i + 1 < bytes ? bitmap.bits[i + 1] : 0;
  return (uint8_t)((bitmap.bits[i] >> bitmap.offset) | (high << (8 - bitmap.offset)));
}

WUDF_SCALAR(nulladd, "nulladd(int64, int64) -> int64 CALLED ON NULL INPUT") {
  const wudf_input* a = wudf_arg(args, 0);
  const wudf_input* b = wudf_arg(args, 1);
  int64_t rows = args->length;
  const uint64_t* x = (const uint64_t*)wudf_values_int64(a);
  const uint64_t* y = (const uint64_t*)wudf_values_int64(b);
  int64_t* result = wudf_output_values_int64(out, rows);
  if (result == NULL) return wudf_error("nulladd: out of memory");
  for (int64_t row = 0; row < rows; row++) result[row] = (int64_t)(x[row] + y[row]);
  if (!wudf_has_nulls(a) && !wudf_has_nulls(b)) return 0;
  /* A row is null when either is: the output's bits are the AND of the
   * inputs', a byte (eight rows) at a time. */
  uint8_t* valid = wudf_output_validity(out);
  if (valid == NULL) return wudf_error("nulladd: out of memory");
  wudf_bitmap left = wudf_validity(a), right = wudf_validity(b);
  int64_t bytes = (rows + 7) / 8;
  int64_t left_bytes = (left.offset + rows + 7) / 8, right_bytes = (right.offset + rows + 7) / 8;
  for (int64_t i = 0; i < bytes; i++) {
    uint8_t bits = 0xff;
    if (left.bits != NULL) bits &= bitmap_byte(left, i, left_bytes);
    if (right.bits != NULL) bits &= bitmap_byte(right, i, right_bytes);
    valid[i] = bits;
  }
  return 0;
}
