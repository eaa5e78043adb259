/*
 * fidelity.c -- test guest: identity functions whose results must come back
 * with exactly the type that went in -- extension types, child field names,
 * field metadata and nullability included -- for the types alltypes.c does
 * not cover (tests/python/test_fidelity_oracle.py checks them with pyarrow).
 *
 * Every function moves its argument into its result
 * (wudf_output_take_input), so the SDK returns the input's own schema.
 * Time zones are spelled with both quote styles: double quotes are the
 * canonical spelling `wasmudf list` prints.
 */
#include <wasmudf/guest.h>

/* Declares NAME(TYPE) -> TYPE, the argument moved into the result. */
#define IDENTITY(name, type)                                                   \
  WUDF_SCALAR(name, #name "(" type ") -> " type " CALLED ON NULL INPUT") {     \
    return wudf_output_take_input(out, wudf_arg(args, 0));                     \
  }

IDENTITY(id_fsb16, "fixed_size_binary(16)")
IDENTITY(id_ts_us_paris, "timestamp(us, \"Europe/Paris\")")
IDENTITY(id_ts_ns_utc, "timestamp(ns, 'UTC')")
IDENTITY(id_list_ts, "list<timestamp(ms, \"America/New_York\")>")
IDENTITY(id_large_list_struct, "large_list<struct<a: int64, b: utf8>>")
IDENTITY(id_fsl_fsb16, "fixed_size_list<fixed_size_binary(16), 2>")
IDENTITY(id_map_list, "map<utf8, list<int32>>")
IDENTITY(id_struct_deep, "struct<s: struct<l: list<int32>, u: dense_union<i: int32, f: float64>>>")
IDENTITY(id_dict_int8_int32, "dictionary<int8, int32>")
IDENTITY(id_dict_uint8_fsb4, "dictionary<uint8, fixed_size_binary(4)>")
IDENTITY(id_dict_int8_bool, "dictionary<int8, bool>")
IDENTITY(id_dict_int16_large_binary, "dictionary<int16, large_binary>")
IDENTITY(id_list_dict, "list<dictionary<int8, utf8>>")
IDENTITY(id_int32, "int32")
IDENTITY(id_utf8, "utf8")

/* Unions with type ids other than 0..n-1, structs with empty, repeated and
 * quoted field names. */
IDENTITY(id_sparse_odd, "sparse_union<i: int32 = 5, s: utf8 = 7>")
IDENTITY(id_dense_odd, "dense_union<a: int32 = 2, b: float64 = 0, c: utf8 = 1>")
IDENTITY(id_struct_names, "struct<\"\": int32, \"\": utf8, dup: int8, dup: list<int8>, "
                          "'with \"quotes\"': bool, \"a b\": struct<\"\": int64>>")
