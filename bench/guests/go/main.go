// Package main is the Go test module of the benchmark suite's cold-start
// measurement (docs/performance.md): a WebAssembly reactor built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o go_guest.wasm .
//
// whose exports are plain functions of i32s (//go:wasmexport). It uses strconv,
// strings and sort, as a typical Go guest does, so the module
// carries the Go runtime and those packages: about 1.9 MB, the size class
// of issue 12. bench/suite/suite.py loads it with wasmudf (both tiers) and
// wasmtime, and calls gcd and digits to check that it runs.
package main

import (
	"sort"
	"strconv"
	"strings"
)

// gcd is the greatest common divisor of a and b (Euclid), non-negative.
//
//go:wasmexport gcd
func gcd(a, b int32) int32 {
	x, y := int64(a), int64(b)
	for y != 0 {
		x, y = y, x%y
	}
	if x < 0 {
		x = -x
	}
	return int32(x)
}

// digits formats the numbers 1..n, sorts their decimal strings,
// joins them and returns how many digits the text has: work for the
// runtime's allocator, strconv, sort and strings.
//
//go:wasmexport digits
func digits(n int32) int32 {
	words := make([]string, 0, n)
	for i := int32(1); i <= n; i++ {
		words = append(words, strconv.Itoa(int(i)))
	}
	sort.Strings(words)
	text := strings.Join(words, ",")
	count := 0
	for _, word := range strings.Split(text, ",") {
		if _, err := strconv.Atoi(word); err == nil {
			count += len(word)
		}
	}
	return int32(count)
}

func main() {}
