package api

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTypesLinkNoServerCode: the types package depends on none of the
// apiserver's machinery, so a kubelet or a proxy that imports it links
// only the types (and the store's object model).
func TestTypesLinkNoServerCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/setpoint-dev/setpoint/examples/api").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/setpoint-dev/setpoint/store/rest",
			"github.com/setpoint-dev/setpoint/examples/apiserver",
			"github.com/setpoint-dev/setpoint/informer",
			"go.etcd.io/",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("examples/api depends on %s", dep)
			}
		}
	}
}
