// Command apiextract writes the facts file that setpoint's API generator
// reads (see package apifacts).
//
// Usage (from bench/):
//
//	go run ./cmd/apiextract -out ../examples/internal/apigen/facts/schema.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/bench/internal/apifacts"
)

func main() {
	out := flag.String("out", "", "file to write the facts to")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "apiextract: -out is required")
		os.Exit(2)
	}
	f, err := apifacts.Extract()
	if err == nil {
		var b []byte
		if b, err = apifacts.Encode(f); err == nil {
			err = os.WriteFile(*out, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiextract:", err)
		os.Exit(1)
	}
}
