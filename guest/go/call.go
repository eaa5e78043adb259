// call.go: the calls of scalar and batch functions, columnar (Scalar, BatchFunction) and
// row-wise (Map1, Map2), with errors and panics turned into the call's error message.

package guest

import "fmt"

// Value is a Go type the row-wise helpers read and write: int32 (Arrow int32), int64, float64,
// bool and string (utf8).
type Value interface {
	int32 | int64 | float64 | bool | string
}

// Batch is the input of one call: one column per argument, Rows rows.
type Batch struct {
	Rows    int
	Columns []*Column
}

// call runs one call: reads the input, runs body, exports its result and releases the input.
// A panic in body fails the call with its message (the instance stays usable).
func call(args, argsSchema, out, outSchema uint32, body func(*Batch) (*Builder, error)) (code int32) {
	defer releaseArray(args)
	defer releaseSchema(argsSchema)
	defer func() {
		if r := recover(); r != nil {
			code = fail(fmt.Sprint(r))
		}
	}()
	if args == 0 || argsSchema == 0 {
		return fail("called without arguments")
	}
	input := readColumn(args, argsSchema)
	result, err := body(&Batch{Rows: input.Length, Columns: input.Children})
	if err != nil {
		return fail(err.Error())
	}
	result.export(out, outSchema)
	return 0
}

// Scalar runs a columnar scalar function: body returns one column of exactly batch.Rows rows.
// Call it from the //go:wasmexport stub wudf_fn_NAME with the stub's four arguments.
func Scalar(args, argsSchema, out, outSchema uint32, body func(*Batch) (*Builder, error)) int32 {
	return call(args, argsSchema, out, outSchema, body)
}

// BatchFunction runs a batch function: body returns a struct column (NewStruct) of any length.
func BatchFunction(args, argsSchema, out, outSchema uint32, body func(*Batch) (*Builder, error)) int32 {
	return call(args, argsSchema, out, outSchema, body)
}

// Map1 runs a row-wise scalar function of one argument; null rows give null (a strict
// function never sees them anyway).
func Map1[A, R Value](args, argsSchema, out, outSchema uint32, f func(A) R) int32 {
	return call(args, argsSchema, out, outSchema, func(in *Batch) (*Builder, error) {
		if len(in.Columns) != 1 {
			return nil, fmt.Errorf("expected 1 argument, got %d", len(in.Columns))
		}
		a, result := in.Columns[0], newBuilder[R]()
		readA, write := reader[A](a), appender[R](result)
		for i := 0; i < in.Rows; i++ {
			if a.IsNull(i) {
				result.AppendNull()
			} else {
				write(f(readA(i)))
			}
		}
		return result, nil
	})
}

// Map2 runs a row-wise scalar function of two arguments, like Map1.
func Map2[A, B, R Value](args, argsSchema, out, outSchema uint32, f func(A, B) R) int32 {
	return call(args, argsSchema, out, outSchema, func(in *Batch) (*Builder, error) {
		if len(in.Columns) != 2 {
			return nil, fmt.Errorf("expected 2 arguments, got %d", len(in.Columns))
		}
		a, b, result := in.Columns[0], in.Columns[1], newBuilder[R]()
		readA, readB, write := reader[A](a), reader[B](b), appender[R](result)
		for i := 0; i < in.Rows; i++ {
			if a.IsNull(i) || b.IsNull(i) {
				result.AppendNull()
			} else {
				write(f(readA(i), readB(i)))
			}
		}
		return result, nil
	})
}
