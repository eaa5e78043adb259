/*
 * decmul.c -- benchmark kernel: a decimal multiply, decimal128(18, 2) x
 * decimal128(18, 2) -> decimal128(38, 4). The inputs' precision makes every
 * unscaled value fit an int64, so the exact product is one 64 x 64 -> 128
 * bit multiply; the scale of the result is the sum of the scales.
 *
 * Native twin: native_decmul in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(decmul, "decmul(decimal128(18, 2), decimal128(18, 2)) -> decimal128(38, 4)") {
  const wudf_input* a = wudf_arg(args, 0);
  const wudf_input* b = wudf_arg(args, 1);
  uint8_t* result = wudf_output_values(out);
  for (int64_t row = 0; row < args->length; row++) {
    /* The low limb is the whole value: precision 18 fits an int64. */
    int64_t x = (int64_t)wudf_get_decimal128(a, row).limbs[0];
    int64_t y = (int64_t)wudf_get_decimal128(b, row).limbs[0];
    __int128 product = (__int128)x * y;
    memcpy(result + row * 16, &product, 16); /* little-endian two's complement */
  }
  return 0;
}
