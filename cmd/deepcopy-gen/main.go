// Command deepcopy-gen writes DeepCopy methods for Go struct types, so that
// store.Clone (and any caller) copies objects without reflection or JSON.
// Run it through go generate, from a line in the package that declares the
// types:
//
//	//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen -type Widget,WidgetList
//
// For each type named in -type (a defined, non-generic struct type of the
// package in the working directory) it writes a method
//
//	func (in *Widget) DeepCopy() *Widget
//
// and, for every struct type reachable from them (also from other
// packages, such as store.ObjectMeta), a copy function that duplicates the
// pointers, slices and maps of exported fields, so the copy shares no
// mutable memory with the original. Unexported fields are copied by value.
// Fields it cannot copy (interfaces, channels, functions) are an error
// naming the field: write those DeepCopy methods by hand.
//
// Flags:
//
//	-type    comma-separated type names (required)
//	-output  the file to write (default zz_generated_deepcopy.go)
//	-check   write nothing; fail if the file is not what it would write
//
// The output is deterministic and gofmt-formatted. A test in the package
// can run the same command with -check to keep the committed file current.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], ".", os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "deepcopy-gen:", err)
		os.Exit(1)
	}
}

// run parses args and generates for the package in dir.
func run(args []string, dir string, stderr io.Writer) error {
	fs := flag.NewFlagSet("deepcopy-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typeList := fs.String("type", "", "comma-separated names of the struct types that get a DeepCopy method (required)")
	output := fs.String("output", "zz_generated_deepcopy.go", "file to write, relative to the package directory")
	check := fs.Bool("check", false, "write nothing; fail if the output file is stale")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: the package is the one in the working directory", fs.Args())
	}
	var names []string
	for _, n := range strings.Split(*typeList, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("-type is required")
	}
	path := *output
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	pkg, err := load(dir, path)
	if err != nil {
		return err
	}
	src, err := generate(pkg, names)
	if err != nil {
		return err
	}
	if *check {
		cur, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, src) {
			return fmt.Errorf("%s is stale: run go generate in %s", *output, pkg.Path())
		}
		return nil
	}
	return os.WriteFile(path, src, 0o644)
}
