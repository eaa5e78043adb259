// Command wudf-embed adds the "wasmudf" custom section (docs/abi.md §6) to a WebAssembly module
// built by Go, whose linker cannot write custom sections. It reads the metadata records from
// directive comments in the Go sources,
//
//	//wasmudf:KIND SIGNATURE        (KIND: scalar, batch, table or aggregate)
//
// and appends one custom section holding "wasmudf:1 KIND SIGNATURE\x00" per directive:
//
//	wudf-embed -o udf.wasm build.wasm main.go other.go ...
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
)

var directive = regexp.MustCompile(`^//wasmudf:(scalar|batch|table|aggregate)\s+(.+?)\s*$`)

// leb128 appends the unsigned LEB128 encoding of v.
func leb128(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
		} else {
			return append(b, c)
		}
	}
}

func main() {
	output := flag.String("o", "", "the module to write")
	flag.Parse()
	if *output == "" || flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: wudf-embed -o OUT.wasm IN.wasm SOURCE.go...")
		os.Exit(2)
	}
	module, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "wudf-embed:", err)
		os.Exit(1)
	}
	if !bytes.HasPrefix(module, []byte("\x00asm\x01\x00\x00\x00")) {
		fmt.Fprintf(os.Stderr, "wudf-embed: %s is not a WebAssembly module\n", flag.Arg(0))
		os.Exit(1)
	}
	var records []byte
	count := 0
	for _, source := range flag.Args()[1:] {
		file, err := os.Open(source)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wudf-embed:", err)
			os.Exit(1)
		}
		lines := bufio.NewScanner(file)
		for lines.Scan() {
			if m := directive.FindStringSubmatch(lines.Text()); m != nil {
				records = append(records, fmt.Sprintf("wasmudf:1 %s %s\x00", m[1], m[2])...)
				count++
			}
		}
		file.Close()
	}
	if count == 0 {
		fmt.Fprintln(os.Stderr, "wudf-embed: no //wasmudf: directives in the sources")
		os.Exit(1)
	}
	name := "wasmudf"
	payload := leb128(nil, uint64(len(name)))
	payload = append(append(payload, name...), records...)
	section := leb128([]byte{0}, uint64(len(payload)))
	module = append(append(module, section...), payload...)
	if err := os.WriteFile(*output, module, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "wudf-embed:", err)
		os.Exit(1)
	}
	fmt.Printf("wudf-embed: %s: %d function(s)\n", *output, count)
}
