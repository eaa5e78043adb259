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
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_str(words, indices[row]);
    wudf_set_str(out, row, s.data, s.size);
  }
  return 0;
}
