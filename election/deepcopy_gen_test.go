package election

import (
	"os/exec"
	"testing"
)

// TestDeepCopyGeneratedIsCurrent fails when zz_generated_deepcopy.go is not
// what the go:generate line in record.go would write.
func TestDeepCopyGeneratedIsCurrent(t *testing.T) {
	out, err := exec.Command("go", "run", "github.com/setpoint-dev/setpoint/cmd/deepcopy-gen", "-type", "Lease", "-check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
