package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// deepCopyLine returns the arguments of cmd/deepcopy-gen in the
// go:generate lines of the Go files in dir, or nil.
func deepCopyLine(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(src), "\n") {
			cmd, ok := strings.CutPrefix(line, "//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen")
			if ok {
				return strings.Fields(cmd)
			}
		}
	}
	return nil
}

// TestDeepCopyGeneratedIsCurrent runs the go:generate line for
// cmd/deepcopy-gen of this package and of every group package under it
// with -check: it fails when a zz_generated_deepcopy.go is not what "go
// generate" would write, or when a package of the tree has no such line.
func TestDeepCopyGeneratedIsCurrent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "deepcopy-gen")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/setpoint-dev/setpoint/cmd/deepcopy-gen").CombinedOutput(); err != nil {
		t.Fatalf("building deepcopy-gen: %v\n%s", err, out)
	}
	// every group package: generated types, or hand-written types with a
	// generated deep copy (such as offers)
	dirs, err := filepath.Glob("*/zz_generated.types.go")
	if err != nil {
		t.Fatal(err)
	}
	copies, err := filepath.Glob("*/zz_generated_deepcopy.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range copies {
		if !slices.Contains(dirs, filepath.Join(filepath.Dir(c), "zz_generated.types.go")) {
			dirs = append(dirs, c)
		}
	}
	dirs = append(dirs, "zz_generated.types.go")
	var args []string
	for i, typesFile := range dirs {
		dir := filepath.Dir(typesFile)
		line := deepCopyLine(t, dir)
		if line == nil {
			t.Errorf("package %s has no go:generate line for cmd/deepcopy-gen", dir)
			continue
		}
		if i == 0 {
			args = line
		} else if strings.Join(line, " ") != strings.Join(args, " ") {
			t.Errorf("package %s runs deepcopy-gen with %q, the others with %q", dir, line, args)
		}
		dirs[i] = dir
	}
	// one run checks every package (loading them together is faster)
	out, err := exec.Command(bin, append(append(args, "-check"), dirs...)...).CombinedOutput()
	if err != nil {
		t.Errorf("%v\n%s", err, out)
	}
}
