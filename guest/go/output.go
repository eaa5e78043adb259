// output.go: builders of a call's result in Go memory, handed to the host without a copy and
// pinned until the host releases them.

package guest

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Builder builds one result column (or a struct of columns) in Go memory. The result is handed
// to the host without copying; its memory stays pinned until the host releases it.
type Builder struct {
	format   string
	name     string
	length   int
	nulls    int
	validity []byte
	fixed    []byte // fixed-width values, or the bits of a bool column
	width    int
	offsets  []int32
	data     []byte
	children []*Builder
}

// NewInt32 starts an empty int32 column; NewInt64, NewFloat64, NewBool and NewString the others.
func NewInt32() *Builder   { return &Builder{format: "i", width: 4} }
func NewInt64() *Builder   { return &Builder{format: "l", width: 8} }
func NewFloat64() *Builder { return &Builder{format: "g", width: 8} }
func NewBool() *Builder    { return &Builder{format: "b"} }
func NewString() *Builder  { return &Builder{format: "u", offsets: []int32{0}} }

// NewStruct starts a struct column (a batch function's result) of the named children, which
// must end with the same length.
func NewStruct(names []string, children ...*Builder) *Builder {
	for i, child := range children {
		child.name = names[i]
	}
	return &Builder{format: "+s", children: children}
}

// Len returns the number of rows appended.
func (b *Builder) Len() int { return b.length }

func (b *Builder) appendValidity(valid bool) {
	if b.length%8 == 0 {
		b.validity = append(b.validity, 0)
	}
	if valid {
		b.validity[b.length/8] |= 1 << (b.length % 8)
	} else {
		b.nulls++
	}
}

func (b *Builder) appendFixed(bits uint64) {
	if b.width == 4 {
		b.fixed = binary.LittleEndian.AppendUint32(b.fixed, uint32(bits))
	} else {
		b.fixed = binary.LittleEndian.AppendUint64(b.fixed, bits)
	}
}

// AppendNull appends a null row.
func (b *Builder) AppendNull() {
	b.appendValidity(false)
	switch b.format {
	case "u":
		b.offsets = append(b.offsets, int32(len(b.data)))
	case "b":
		if b.length%8 == 0 {
			b.fixed = append(b.fixed, 0)
		}
	default:
		b.appendFixed(0)
	}
	b.length++
}

// AppendInt32 / AppendInt64 / AppendFloat64 / AppendBool / AppendString append a value; the
// builder must be of that type.
func (b *Builder) AppendInt32(v int32) {
	b.appendValidity(true)
	b.appendFixed(uint64(uint32(v)))
	b.length++
}
func (b *Builder) AppendInt64(v int64) { b.appendValidity(true); b.appendFixed(uint64(v)); b.length++ }
func (b *Builder) AppendFloat64(v float64) {
	b.appendValidity(true)
	b.appendFixed(math.Float64bits(v))
	b.length++
}
func (b *Builder) AppendBool(v bool) {
	b.appendValidity(true)
	if b.length%8 == 0 {
		b.fixed = append(b.fixed, 0)
	}
	if v {
		b.fixed[b.length/8] |= 1 << (b.length % 8)
	}
	b.length++
}
func (b *Builder) AppendString(v string) {
	b.appendValidity(true)
	b.data = append(b.data, v...)
	b.offsets = append(b.offsets, int32(len(b.data)))
	b.length++
}

// appender returns a function that appends a value of the Go type T to b (a builder of T).
func appender[T Value](b *Builder) func(T) {
	var f any
	switch any(*new(T)).(type) {
	case int32:
		f = b.AppendInt32
	case int64:
		f = b.AppendInt64
	case float64:
		f = b.AppendFloat64
	case bool:
		f = b.AppendBool
	case string:
		f = b.AppendString
	}
	return f.(func(T))
}

// newBuilder returns the builder of the Go type T.
func newBuilder[T Value]() *Builder {
	switch any(*new(T)).(type) {
	case int32:
		return NewInt32()
	case int64:
		return NewInt64()
	case float64:
		return NewFloat64()
	case bool:
		return NewBool()
	default:
		return NewString()
	}
}

// pinned keeps the Go memory of every result the host has not released, by id.
var (
	pinned = map[uint32][]any{}
	nextID = uint32(1)
)

// bytesAt returns the address of the first byte of s, or 0 for an empty slice. The slice is
// added to keep, which pins it.
func bytesAt(s []byte, keep *[]any) uint32 {
	if len(s) == 0 {
		return 0
	}
	*keep = append(*keep, s)
	return addrOf(unsafe.Pointer(&s[0]))
}

// aligned returns n zeroed bytes aligned to 8, pinned in keep.
func aligned(n int, keep *[]any) []byte {
	words := make([]uint64, (n+7)/8+1)
	*keep = append(*keep, words)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// write stores the builder's ArrowArray at array and ArrowSchema at schema (both in memory
// pinned by keep), with the release markers of a root or a child.
func (b *Builder) write(array, schema uint32, release, id uint32, keep *[]any) {
	var buffers []uint32
	if b.format != "+s" {
		validity := uint32(0)
		if b.nulls > 0 {
			validity = bytesAt(b.validity, keep)
		}
		buffers = append(buffers, validity)
		if b.format == "u" {
			buffers = append(buffers, bytesAt(unsafe.Slice((*byte)(unsafe.Pointer(&b.offsets[0])), 4*len(b.offsets)), keep))
			data := b.data
			if len(data) == 0 {
				data = []byte{0}
			}
			buffers = append(buffers, bytesAt(data, keep))
		} else {
			fixed := b.fixed
			if len(fixed) == 0 {
				fixed = []byte{0}
			}
			buffers = append(buffers, bytesAt(fixed, keep))
		}
	} else {
		buffers = []uint32{0}
		if len(b.children) > 0 {
			b.length = b.children[0].length
		}
	}
	pointers := aligned(4*(len(buffers)+2*len(b.children))+4, keep)
	for i, buffer := range buffers {
		*(*uint32)(unsafe.Pointer(&pointers[4*i])) = buffer
	}
	base := addrOf(unsafe.Pointer(&pointers[0]))
	arrayChildren, schemaChildren := base+uint32(4*len(buffers)), base+uint32(4*(len(buffers)+len(b.children)))
	for i, child := range b.children {
		childArray := addrOf(unsafe.Pointer(&aligned(arrayStructSize, keep)[0]))
		childSchema := addrOf(unsafe.Pointer(&aligned(schemaStructSize, keep)[0]))
		child.write(childArray, childSchema, releaseOutputChild, 0, keep)
		store32(arrayChildren+uint32(4*i), childArray)
		store32(schemaChildren+uint32(4*i), childSchema)
	}
	store64(array, int64(b.length))
	store64(array+8, int64(b.nulls))
	store64(array+16, 0)
	store64(array+24, int64(len(buffers)))
	store64(array+32, int64(len(b.children)))
	store32(array+40, base)
	store32(array+44, arrayChildren)
	store32(array+48, 0)
	store32(array+arrayReleaseOffset, release)
	store32(array+56, id)
	store32(schema, bytesAt(append([]byte(b.format), 0), keep))
	store32(schema+4, bytesAt(append([]byte(b.name), 0), keep))
	store32(schema+8, 0)
	store64(schema+16, 2) // ARROW_FLAG_NULLABLE
	store64(schema+24, int64(len(b.children)))
	store32(schema+32, schemaChildren)
	store32(schema+36, 0)
	store32(schema+schemaReleaseOffset, release)
	store32(schema+44, id)
}

// export moves the finished result into the host's output slots.
func (b *Builder) export(out, outSchema uint32) {
	id := nextID
	nextID++
	if nextID == 0 {
		nextID = 1
	}
	var keep []any
	b.write(out, outSchema, releaseOutputRoot, id, &keep)
	pinned[id] = keep
}
