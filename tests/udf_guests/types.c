/*
 * types.c -- test guest: every type of the guest ABI across the boundary.
 *
 * id_T(T) -> T is called on null input and copies every row, nulls included,
 * through the SDK's typed accessors (which apply the input's offset) and
 * setters. The transforms are strict and change every value, so a test can
 * tell the guest really computed the result: neg_T (integers wrap, floats
 * negate), not(bool), reverse(strings and binary, bytewise), len (bytes).
 */
#include <stdio.h>
#include <wasmudf/guest.h>

#define IDENTITY(T, ctype)                                                     \
  WUDF_SCALAR(id_##T, "id_" #T "(" #T ") -> " #T " CALLED ON NULL INPUT") {    \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    for (int64_t row = 0; row < args->length; row++) {                         \
      if (wudf_is_null(in, row)) {                                             \
        wudf_set_null(out, row);                                               \
      } else {                                                                 \
        wudf_set_##T(out, row, wudf_get_##T(in, row));                         \
      }                                                                        \
    }                                                                          \
    return 0;                                                                  \
  }

#define NEGATE(T, ctype)                                                       \
  WUDF_SCALAR(neg_##T, "neg_" #T "(" #T ") -> " #T) {                          \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    if (in->null_count != 0) return wudf_error("neg_" #T ": saw a null");      \
    const ctype* values = wudf_values_##T(in);                                 \
    ctype* result = wudf_output_values(out);                                   \
    for (int64_t row = 0; row < args->length; row++) {                         \
      result[row] = (ctype)(0 - values[row]);                                  \
    }                                                                          \
    return 0;                                                                  \
  }

#define BOTH(T, ctype) IDENTITY(T, ctype) NEGATE(T, ctype)
BOTH(int8, int8_t)
BOTH(int16, int16_t)
BOTH(int32, int32_t)
BOTH(int64, int64_t)
BOTH(uint8, uint8_t)
BOTH(uint16, uint16_t)
BOTH(uint32, uint32_t)
BOTH(uint64, uint64_t)
BOTH(float32, float)
BOTH(float64, double)
IDENTITY(bool, bool)

WUDF_SCALAR(not, "not(bool) -> bool") {
  const wudf_input* in = wudf_arg(args, 0);
  for (int64_t row = 0; row < args->length; row++) {
    wudf_set_bool(out, row, !wudf_get_bool(in, row));
  }
  return 0;
}

#define STRINGS(T)                                                             \
  WUDF_SCALAR(id_##T, "id_" #T "(" #T ") -> " #T " CALLED ON NULL INPUT") {    \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    for (int64_t row = 0; row < args->length; row++) {                         \
      if (wudf_is_null(in, row)) {                                             \
        wudf_set_null(out, row);                                               \
      } else {                                                                 \
        wudf_str s = wudf_get_str(in, row);                                    \
        wudf_set_str(out, row, s.data, s.size);                                \
      }                                                                        \
    }                                                                          \
    return 0;                                                                  \
  }                                                                            \
  WUDF_SCALAR(reverse_##T, "reverse_" #T "(" #T ") -> " #T) {                  \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    for (int64_t row = 0; row < args->length; row++) {                         \
      wudf_str s = wudf_get_str(in, row);                                      \
      char* target = wudf_set_str_uninit(out, row, s.size);                    \
      if (target == NULL) return wudf_error("reverse: out of memory");         \
      for (size_t i = 0; i < s.size; i++) target[i] = s.data[s.size - 1 - i];  \
    }                                                                          \
    return 0;                                                                  \
  }                                                                            \
  WUDF_SCALAR(len_##T, "len_" #T "(" #T ") -> int64") {                        \
    const wudf_input* in = wudf_arg(args, 0);                                  \
    int64_t* result = wudf_output_values(out);                                 \
    for (int64_t row = 0; row < args->length; row++) {                         \
      result[row] = (int64_t)wudf_get_str(in, row).size;                       \
    }                                                                          \
    return 0;                                                                  \
  }
STRINGS(utf8)
STRINGS(large_utf8)
STRINGS(binary)
STRINGS(large_binary)

/* Several arguments of different types, strict: the guest must never see a
 * row where one of them is null. */
WUDF_SCALAR(mix, "mix(int32, utf8, float64, bool) -> utf8") {
  for (int a = 0; a < args->count; a++) {
    if (wudf_arg(args, a)->null_count != 0) return wudf_error("mix: saw a null");
  }
  for (int64_t row = 0; row < args->length; row++) {
    wudf_str s = wudf_get_str(wudf_arg(args, 1), row);
    char text[256];
    int length = snprintf(text, sizeof(text), "%d:%.*s:%g:%d",
                          wudf_get_int32(wudf_arg(args, 0), row), (int)s.size, s.data,
                          wudf_get_float64(wudf_arg(args, 2), row),
                          wudf_get_bool(wudf_arg(args, 3), row));
    wudf_set_str(out, row, text, (size_t)length);
  }
  return 0;
}

/* How many rows one guest call saw, per row: shows the host's chunking. */
WUDF_SCALAR(call_rows, "call_rows(int32) -> int64 CALLED ON NULL INPUT") {
  for (int64_t row = 0; row < args->length; row++) wudf_set_int64(out, row, args->length);
  return 0;
}

/* As call_rows, declared DETERMINISTIC: a call whose arguments are all
 * constants runs it on one row (test_udf_constants). */
WUDF_SCALAR(call_rows_deterministic,
            "call_rows_deterministic(int32) -> int64 CALLED ON NULL INPUT DETERMINISTIC") {
  for (int64_t row = 0; row < args->length; row++) wudf_set_int64(out, row, args->length);
  return 0;
}

/* A batch function whose output length differs from its input: the rows of
 * a utf8 column whose value is not null, with their position. */
WUDF_BATCH(non_null, "non_null(utf8) -> struct<position: int64, value: utf8>") {
  const wudf_input* in = wudf_arg(args, 0);
  wudf_output* position = wudf_column(result, 0);
  wudf_output* value = wudf_column(result, 1);
  int64_t kept = 0;
  for (int64_t row = 0; row < args->length; row++) {
    if (wudf_is_null(in, row)) continue;
    wudf_str s = wudf_get_str(in, row);
    wudf_set_int64(position, kept, row);
    wudf_set_str(value, kept, s.data, s.size);
    kept++;
  }
  return 0;
}
