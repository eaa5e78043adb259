// The Go guest example: gcd (row-wise), upper (strings), sum (the seed's batch function) and
// gcd_columnar (the columnar form over Int32s). Built by scripts/build-go-guest.sh.
package main

import (
	"strings"

	guest "wasmudf/guest/go"
)

func gcd(a, b int32) int32 {
	x, y := uint32(a), uint32(b)
	if a < 0 {
		x = uint32(-int64(a))
	}
	if b < 0 {
		y = uint32(-int64(b))
	}
	for y != 0 {
		x, y = y, x%y
	}
	return int32(x)
}

//wasmudf:scalar gcd(int32, int32) -> int32
//go:wasmexport wudf_fn_gcd
func gcdExport(args, argsSchema, out, outSchema uint32) int32 {
	return guest.Map2(args, argsSchema, out, outSchema, gcd)
}

//wasmudf:scalar upper(utf8) -> utf8
//go:wasmexport wudf_fn_upper
func upperExport(args, argsSchema, out, outSchema uint32) int32 {
	return guest.Map1(args, argsSchema, out, outSchema, strings.ToUpper)
}

//wasmudf:scalar gcd_columnar(int32, int32) -> int32
//go:wasmexport wudf_fn_gcd_columnar
func gcdColumnar(args, argsSchema, out, outSchema uint32) int32 {
	return guest.Scalar(args, argsSchema, out, outSchema, func(in *guest.Batch) (*guest.Builder, error) {
		a, b := in.Columns[0], in.Columns[1]
		av, bv, result := a.Int32s(), b.Int32s(), guest.NewInt32()
		for i := range in.Rows {
			if a.IsNull(i) || b.IsNull(i) {
				result.AppendNull()
			} else {
				result.AppendInt32(gcd(av[i], bv[i]))
			}
		}
		return result, nil
	})
}

//wasmudf:batch sum(int32) -> struct<sum: int64>
//go:wasmexport wudf_fn_sum
func sumExport(args, argsSchema, out, outSchema uint32) int32 {
	return guest.BatchFunction(args, argsSchema, out, outSchema, func(in *guest.Batch) (*guest.Builder, error) {
		column, total := in.Columns[0], int64(0)
		for i, v := range column.Int32s() {
			if !column.IsNull(i) {
				total += int64(v)
			}
		}
		sum := guest.NewInt64()
		sum.AppendInt64(total)
		return guest.NewStruct([]string{"sum"}, sum), nil
	})
}

func main() {}
