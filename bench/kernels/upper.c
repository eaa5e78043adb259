/*
 * upper.c -- benchmark kernel: upper(utf8), ASCII letters to upper case,
 * every other byte unchanged. A string kernel: offsets in, offsets and
 * bytes out.
 *
 * Native twin: native_upper in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

/* Eight bytes upper-cased at once: a byte of 'a' .. 'z' loses bit 5; every
 * other byte (bytes >= 0x80 included) is kept. */
static uint64_t upper8(uint64_t bytes) {
  const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  uint64_t low7 = bytes & ~high;
  uint64_t from_a = low7 + (0x80 - 'a') * ones;     /* high bit: byte >= 'a' */
  uint64_t past_z = low7 + (0x80 - 'z' - 1) * ones; /* high bit: byte > 'z' */
  uint64_t lower = from_a & ~past_z & ~bytes & high;
  return bytes ^ (lower >> 2);                      /* 0x80 >> 2 is bit 5 */
}

/* Upper-casing keeps every string's size: the output takes the input's
 * offsets and nulls (wudf_output_str_sized_like), and one loop maps the
 * bytes of the whole column. */
WUDF_SCALAR(upper, "upper(utf8) -> utf8") {
  const wudf_input* in = wudf_arg(args, 0);
  const int32_t* offsets = wudf_utf8_offsets(in);
  const char* from = wudf_utf8_data(in) + offsets[0];
  int32_t size = offsets[args->length] - offsets[0];
  char* to = wudf_output_str_sized_like(out, in);
  if (to == NULL) return wudf_error("upper: out of memory");
  int32_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t bytes;
    memcpy(&bytes, from + i, 8);
    bytes = upper8(bytes);
    memcpy(to + i, &bytes, 8);
  }
  for (; i < size; i++) {
    char c = from[i];
    to[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  return 0;
}
