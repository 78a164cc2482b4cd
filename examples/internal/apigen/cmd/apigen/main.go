package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/setpoint-dev/setpoint/examples/internal/apigen"
)

func main() {
	factsFile := flag.String("facts", "", "the facts file written by bench/cmd/apiextract")
	descFile := flag.String("descriptions", "", "the descriptions file")
	out := flag.String("out", "", "output root directory (package api goes to OUT/api)")
	imp := flag.String("import", "", "Go import path of the output root")
	microTime := flag.Bool("library-microtime", false, "map MicroTime to store.MicroTime")
	lease := flag.Bool("library-lease", false, "map coordination Lease and LeaseSpec to election's")
	flag.Parse()
	if *factsFile == "" || *descFile == "" || *out == "" || *imp == "" {
		fmt.Fprintln(os.Stderr, "apigen: -facts, -descriptions, -out and -import are required")
		os.Exit(2)
	}
	if err := run(*factsFile, *descFile, *out, apigen.Config{ImportPath: *imp, LibraryMicroTime: *microTime, LibraryLease: *lease}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(factsFile, descFile, out string, cfg apigen.Config) error {
	facts, err := apigen.LoadFacts(factsFile)
	if err != nil {
		return err
	}
	d, err := apigen.LoadDescriptions(descFile)
	if err != nil {
		return err
	}
	files, err := apigen.Generate(facts, d, cfg)
	if err != nil {
		return err
	}
	return apigen.Write(out, files)
}
