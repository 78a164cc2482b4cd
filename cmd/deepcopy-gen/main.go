// Command deepcopy-gen writes DeepCopy methods for Go struct types, so that
// store.Clone (and any caller) copies objects without reflection or JSON.
// Run it through go generate, from a line in the package that declares the
// types:
//
//	//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen -type Widget,WidgetList
//
// For each type named in -type (a defined, non-generic struct type of the
// package in the working directory), or with -all for every exported such
// type that has no DeepCopy method of its own, it writes a method
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
// Usage:
//
//	deepcopy-gen [flags] [dir ...]
//
// The packages are those in the directories named (loaded together, which
// is faster than one run per package), or the one in the working
// directory.
//
// Flags:
//
//	-type    comma-separated type names (this or -all is required)
//	-all     every exported defined non-generic struct type of the package
//	         without a hand-written DeepCopy method
//	-output  the file to write (default zz_generated_deepcopy.go)
//	-check   write nothing; fail if the file is not what it would write
//
// The output is deterministic and gofmt-formatted. A test in the package
// can run the same command with -check to keep the committed file current.
package main

import (
	"bytes"
	"errors"
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

// run parses args and generates for the package in dir, or for the
// packages in the directories args name (relative to dir), loaded together.
func run(args []string, dir string, stderr io.Writer) error {
	fs := flag.NewFlagSet("deepcopy-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	typeList := fs.String("type", "", "comma-separated names of the struct types that get a DeepCopy method")
	all := fs.Bool("all", false, "every exported struct type of the package without a DeepCopy method of its own")
	output := fs.String("output", "zz_generated_deepcopy.go", "file to write, relative to the package directory")
	check := fs.Bool("check", false, "write nothing; fail if the output file is stale")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var names []string
	for _, n := range strings.Split(*typeList, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	switch {
	case len(names) == 0 && !*all:
		return fmt.Errorf("-type or -all is required")
	case len(names) > 0 && *all:
		return fmt.Errorf("-type and -all exclude each other")
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	if filepath.IsAbs(*output) && len(dirs) > 1 {
		return fmt.Errorf("an absolute -output needs exactly one package directory")
	}
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		dirs[i] = d
		paths[i] = *output
		if !filepath.IsAbs(paths[i]) {
			paths[i] = filepath.Join(d, *output)
		}
	}
	pkgs, err := load(dirs, paths)
	if err != nil {
		return err
	}
	var stale []error
	for i, pkg := range pkgs {
		roots := names
		if *all {
			if roots = allStructs(pkg); len(roots) == 0 {
				return fmt.Errorf("package %s declares no exported struct type", pkg.Path())
			}
		}
		src, err := generate(pkg, roots)
		if err != nil {
			return fmt.Errorf("package %s: %w", pkg.Path(), err)
		}
		if !*check {
			if err := os.WriteFile(paths[i], src, 0o644); err != nil {
				return err
			}
			continue
		}
		cur, err := os.ReadFile(paths[i])
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, src) {
			stale = append(stale, fmt.Errorf("%s is stale: run go generate in %s", *output, pkg.Path()))
		}
	}
	return errors.Join(stale...)
}
