/*
 * dictlookup.c -- benchmark kernel: a dictionary lookup. Each row of a
 * dictionary<int32, utf8> column (1,000 distinct words) is decoded to its
 * string: the index is looked up in the dictionary and the value copied
 * into a plain utf8 result.
 *
 * Native twin: native_dictlookup in bench/suite/native.c.
 */
#include <wasmudf/guest.h>

WUDF_SCALAR(dictlookup, "dictlookup(dictionary<int32, utf8>) -> utf8") {
  const wudf_input* codes = wudf_arg(args, 0);
  const wudf_input* words = wudf_dictionary(codes);
  const int32_t* indices = wudf_values_int32(codes);
  const int32_t* offsets = wudf_utf8_offsets(words);
  const char* data = wudf_utf8_data(words);
  int64_t rows = args->length;
  /* One pass for the bytes of the result, one reservation, then appends
   * that check nothing. */
  int64_t bytes = 0;
  for (int64_t row = 0; row < rows; row++) {
    bytes += offsets[indices[row] + 1] - offsets[indices[row]];
  }
  if (wudf_output_reserve_str(out, rows, bytes) != 0) {
    return wudf_error("dictlookup: out of memory");
  }
  for (int64_t row = 0; row < rows; row++) {
    int32_t start = offsets[indices[row]], end = offsets[indices[row] + 1];
    wudf_append_str(out, data + start, (size_t)(end - start));
  }
  return 0;
}
