// Package guest writes wasmudf UDFs in Go: scalar and batch functions over Arrow arrays,
// exported with //go:wasmexport from a module built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o udf.wasm .
//
// It implements version 1 of the guest ABI (docs/abi.md): the allocator, the release of the
// host's input structs (this file), typed views of the input columns (input.go), builders of the
// result (output.go) and the calls (call.go). A function is one exported stub and a metadata
// record, written as a directive comment that cmd/wudf-embed copies into the module's
// "wasmudf" custom section after the build (Go's linker cannot write custom sections):
//
//	//wasmudf:scalar gcd(int32, int32) -> int32
//	//go:wasmexport wudf_fn_gcd
//	func gcdExport(args, argsSchema, out, outSchema uint32) int32 {
//		return guest.Map2(args, argsSchema, out, outSchema, gcd)
//	}
//
// Release callbacks: Go functions have no wasm function table index of type (i32) -> (), so the
// `release` fields this package writes, and the ones wudf_input_array_release and
// wudf_input_schema_release give the host for its input structs, are small nonzero markers that
// only this package's own wudf_release_array / wudf_release_schema interpret. The host treats
// them as opaque (it releases through those exports), which the ABI allows; a guest written in
// another language must not be handed these structs.
package guest

import "unsafe"

// Markers in the `release` fields (see the package comment).
const (
	releaseInputArray   = 1 // a struct of the host's input block
	releaseInputSchema  = 2
	releaseOutputRoot   = 3 // the root of a result: frees the Go memory it pins
	releaseOutputChild  = 4 // a child of a result: its root owns its memory
	blockMagic          = 0x46445557
	arrayStructSize     = 64
	schemaStructSize    = 48
	arrayReleaseOffset  = 52
	schemaReleaseOffset = 40
)

// Memory access by 32-bit offset into linear memory (the module's address space).
func ptr(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }
func load32(addr uint32) uint32      { return *(*uint32)(ptr(addr)) }
func load64(addr uint32) int64       { return *(*int64)(ptr(addr)) }
func store32(addr, v uint32)         { *(*uint32)(ptr(addr)) = v }
func store64(addr uint32, v int64)   { *(*int64)(ptr(addr)) = v }
func addrOf(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

// cString returns the NUL-terminated string at addr (copied).
func cString(addr uint32) string {
	if addr == 0 {
		return ""
	}
	n := uint32(0)
	for *(*byte)(ptr(addr + n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(ptr(addr)), n))
}

// allocations keeps every block of wudf_alloc reachable (Go's collector does not move
// objects, so the address stays valid) until wudf_free.
var allocations = map[uint32][]uint64{}

//go:wasmexport wudf_abi_version
func abiVersion() int32 { return 1 }

// wudfAlloc allocates size bytes aligned to align (a power of two, at most 64) for the host,
// or returns 0.
//
//go:wasmexport wudf_alloc
func wudfAlloc(size, align uint32) uint32 {
	if align == 0 || align&(align-1) != 0 || align > 64 || size > 1<<31 {
		return 0
	}
	words := make([]uint64, (uint64(size)+64+7)/8)
	base := addrOf(unsafe.Pointer(&words[0]))
	block := (base + align - 1) &^ (align - 1)
	allocations[block] = words
	return block
}

// wudfFree frees a block from wudf_alloc; 0 is a no-op.
//
//go:wasmexport wudf_free
func wudfFree(block uint32) { delete(allocations, block) }

//go:wasmexport wudf_input_array_release
func inputArrayRelease() uint32 { return releaseInputArray }

//go:wasmexport wudf_input_schema_release
func inputSchemaRelease() uint32 { return releaseInputSchema }

// releaseBlockStruct counts one struct of the input block at block as released and frees the
// block when it was the last. A damaged header means the host broke the ABI.
func releaseBlockStruct(block uint32) {
	if block == 0 || load32(block+4) != blockMagic || load32(block) == 0 {
		panic("wasmudf: damaged input block header")
	}
	live := load32(block) - 1
	store32(block, live)
	if live == 0 {
		wudfFree(block)
	}
}

// releaseArray releases the ArrowArray at addr unless it is 0 or released.
//
//go:wasmexport wudf_release_array
func releaseArray(addr uint32) {
	if addr == 0 {
		return
	}
	switch load32(addr + arrayReleaseOffset) {
	case releaseInputArray:
		children, count := load32(addr+44), load64(addr+32)
		for i := int64(0); i < count; i++ {
			releaseArray(load32(children + uint32(i)*4))
		}
		releaseArray(load32(addr + 48))
		store32(addr+arrayReleaseOffset, 0)
		releaseBlockStruct(load32(addr + 56))
	case releaseOutputRoot:
		store32(addr+arrayReleaseOffset, 0)
		delete(pinned, load32(addr+56))
	case releaseOutputChild:
		store32(addr+arrayReleaseOffset, 0)
	}
}

// releaseSchema releases the ArrowSchema at addr unless it is 0 or released.
//
//go:wasmexport wudf_release_schema
func releaseSchema(addr uint32) {
	if addr == 0 {
		return
	}
	switch load32(addr + schemaReleaseOffset) {
	case releaseInputSchema:
		children, count := load32(addr+32), load64(addr+24)
		for i := int64(0); i < count; i++ {
			releaseSchema(load32(children + uint32(i)*4))
		}
		releaseSchema(load32(addr + 36))
		store32(addr+schemaReleaseOffset, 0)
		releaseBlockStruct(load32(addr + 44))
	case releaseOutputRoot:
		store32(addr+schemaReleaseOffset, 0)
		delete(pinned, load32(addr+44))
	case releaseOutputChild:
		store32(addr+schemaReleaseOffset, 0)
	}
}

// errorMessage holds the NUL-terminated message of the last failed call.
var errorMessage []byte

//go:wasmexport wudf_error_message
func wudfErrorMessage() uint32 {
	if len(errorMessage) == 0 {
		return 0
	}
	return addrOf(unsafe.Pointer(&errorMessage[0]))
}

// fail records message as the last failed call's and returns the failure code.
func fail(message string) int32 {
	errorMessage = append([]byte(message), 0)
	return 1
}
