package api

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDeepCopyGeneratedIsCurrent runs this package's go:generate line for
// cmd/deepcopy-gen with -check: it fails when zz_generated_deepcopy.go is
// not what "go generate" would write.
func TestDeepCopyGeneratedIsCurrent(t *testing.T) {
	src, err := os.ReadFile("deepcopy.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(src), "\n") {
		if cmd, ok := strings.CutPrefix(line, "//go:generate "); ok && strings.Contains(cmd, "cmd/deepcopy-gen") {
			args = strings.Fields(cmd)
		}
	}
	if len(args) == 0 {
		t.Fatal("deepcopy.go has no go:generate line for cmd/deepcopy-gen")
	}
	out, err := exec.Command(args[0], append(args[1:], "-check")...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
