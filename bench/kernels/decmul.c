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
  /* The low limb of each value is the whole value: precision 18 fits an
   * int64 (the limbs are little-endian, low first). */
  const uint8_t* x = wudf_get_fixed(a, 0);
  const uint8_t* y = wudf_get_fixed(b, 0);
  uint8_t* result = wudf_output_fixed_values(out, args->length, 16);
  if (result == NULL) return wudf_error("decmul: out of memory");
  for (int64_t row = 0; row < args->length; row++) {
    int64_t left, right;
    memcpy(&left, x + row * 16, 8);
    memcpy(&right, y + row * 16, 8);
    if (left == (int32_t)left && right == (int32_t)right) {
      /* Both below 2^31 in magnitude: the product fits an int64, and the
       * high limb is its sign (WebAssembly has no 64 x 64 -> 128 multiply:
       * __int128 is a call of compiler-rt's __multi3). */
      int64_t low = left * right, high = low < 0 ? -1 : 0;
      memcpy(result + row * 16, &low, 8);
      memcpy(result + row * 16 + 8, &high, 8);
    } else {
      __int128 product = (__int128)left * right;
      memcpy(result + row * 16, &product, 16); /* little-endian two's complement */
    }
  }
  return 0;
}
