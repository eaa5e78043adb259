// input.go: typed, read-only views of a call's input columns in the host's input block.

package guest

import (
	"fmt"
	"unsafe"
)

// Column is a read-only view of one input array of a call (an argument). It points into the
// host's input block and is valid only during the call: copy what you keep.
type Column struct {
	Name      string // the field name (arg0, arg1, ...; a batch's own names below)
	Format    string // the C Data Interface format ("i" int32, "l" int64, "g" float64, "u" utf8, ...)
	Length    int
	offset    int
	nullCount int64
	buffers   []uint32
	Children  []*Column
}

// readColumn reads the array at array with its schema at schema.
func readColumn(array, schema uint32) *Column {
	c := &Column{
		Name:      cString(load32(schema + 4)),
		Format:    cString(load32(schema)),
		Length:    int(load64(array)),
		nullCount: load64(array + 8),
		offset:    int(load64(array + 16)),
	}
	buffers := load32(array + 40)
	for i := int64(0); i < load64(array+24); i++ {
		c.buffers = append(c.buffers, load32(buffers+uint32(i)*4))
	}
	children, schemaChildren := load32(array+44), load32(schema+32)
	for i := int64(0); i < load64(array+32); i++ {
		c.Children = append(c.Children,
			readColumn(load32(children+uint32(i)*4), load32(schemaChildren+uint32(i)*4)))
	}
	return c
}

// IsNull reports whether row i is null.
func (c *Column) IsNull(i int) bool {
	if c.nullCount == 0 || len(c.buffers) == 0 || c.buffers[0] == 0 {
		return false
	}
	bit := c.offset + i
	return *(*byte)(ptr(c.buffers[0] + uint32(bit/8)))&(1<<(bit%8)) == 0
}

// HasNulls reports whether any row may be null.
func (c *Column) HasNulls() bool {
	return c.nullCount != 0 && len(c.buffers) > 0 && c.buffers[0] != 0
}

func (c *Column) expect(format string) {
	if c.Format != format {
		panic(fmt.Sprintf("wasmudf: column %s has format %q, not %q", c.Name, c.Format, format))
	}
}

// values returns the fixed-width values buffer as a slice of T (offset applied).
func values[T any](c *Column) []T {
	if c.Length == 0 || len(c.buffers) < 2 || c.buffers[1] == 0 {
		return nil
	}
	return unsafe.Slice((*T)(ptr(c.buffers[1])), c.offset+c.Length)[c.offset:]
}

// Int32s returns the values of an int32 column ("i"); rows that are null hold any value.
func (c *Column) Int32s() []int32 { c.expect("i"); return values[int32](c) }

// Int64s returns the values of an int64 column ("l").
func (c *Column) Int64s() []int64 { c.expect("l"); return values[int64](c) }

// Float64s returns the values of a float64 column ("g").
func (c *Column) Float64s() []float64 { c.expect("g"); return values[float64](c) }

// Bool returns row i of a bool column ("b").
func (c *Column) Bool(i int) bool {
	c.expect("b")
	bit := c.offset + i
	return *(*byte)(ptr(c.buffers[1] + uint32(bit/8)))&(1<<(bit%8)) != 0
}

// String returns row i of a utf8 column ("u") without copying: valid during the call only.
func (c *Column) String(i int) string {
	c.expect("u")
	offsets := unsafe.Slice((*int32)(ptr(c.buffers[1])), c.offset+c.Length+1)
	start, end := offsets[c.offset+i], offsets[c.offset+i+1]
	if end == start {
		return ""
	}
	return unsafe.String((*byte)(ptr(c.buffers[2]+uint32(start))), end-start)
}

// reader returns a function that reads row i of c as the Go type T (int32, int64, float64,
// bool or string). The type is resolved once, not per row.
func reader[T Value](c *Column) func(int) T {
	var f any
	switch any(*new(T)).(type) {
	case int32:
		values := c.Int32s()
		f = func(i int) int32 { return values[i] }
	case int64:
		values := c.Int64s()
		f = func(i int) int64 { return values[i] }
	case float64:
		values := c.Float64s()
		f = func(i int) float64 { return values[i] }
	case bool:
		f = c.Bool
	case string:
		f = c.String
	}
	return f.(func(int) T)
}
