// A Go reactor for the engine's tests and cold-start benchmarks
// (docs/engine.md, "Tiers"): built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go_reactor.wasm
//
// it exports its functions with //go:wasmexport; with the Go runtime and a
// little of the standard library (strconv, sort, strings) it is a module of
// realistic size (about 1.9 MB). Its exports use Go's interfaces, which
// compile to call_indirect, and allocate on Go's heap.
package main

import (
	"sort"
	"strconv"
	"strings"
)

func main() {}

// add returns a + b (wrapping).
//
//go:wasmexport add
func add(a, b int32) int32 { return a + b }

// gcd_sum returns the sum of gcd(i, n - i) for i in [1, n).
//
//go:wasmexport gcd_sum
func gcdSum(n int32) int64 {
	var sum int64
	for i := int32(1); i < n; i++ {
		a, b := i, n-i
		for b != 0 {
			a, b = b, a%b
		}
		sum += int64(a)
	}
	return sum
}

type shape interface{ area() int64 }
type square struct{ side int64 }
type rect struct{ w, h int64 }

func (s square) area() int64 { return s.side * s.side }
func (r rect) area() int64   { return r.w * r.h }

// shapes_area returns the sum over i in [0, n) of the area of a square of
// side i (i even) or an i x (i + 1) rectangle (i odd), called through an
// interface (call_indirect).
//
//go:wasmexport shapes_area
func shapesArea(n int32) int64 {
	shapes := make([]shape, 0, n)
	for i := int64(0); i < int64(n); i++ {
		if i%2 == 0 {
			shapes = append(shapes, square{i})
		} else {
			shapes = append(shapes, rect{i, i + 1})
		}
	}
	var sum int64
	for _, s := range shapes {
		sum += s.area()
	}
	return sum
}

// digit_sum formats 0..n-1 with strconv, sorts the strings and returns the
// sum of the digits of the first half of them plus the length of n quoted.
//
//go:wasmexport digit_sum
func digitSum(n int32) int64 {
	words := make([]string, 0, n)
	for i := int32(0); i < n; i++ {
		words = append(words, strconv.Itoa(int(i)))
	}
	sort.Strings(words)
	var sum int64
	for _, w := range words[:len(words)/2] {
		for _, c := range strings.TrimSpace(w) {
			sum += int64(c - '0')
		}
	}
	doc := strconv.Quote(strconv.Itoa(int(n)))
	return sum + int64(len(doc))
}
