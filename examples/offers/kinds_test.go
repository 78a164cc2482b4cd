package offers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
)

// servesOffers adds the offers group to an apiserver's configuration, as
// the example cluster does.
func servesOffers(c *apiserver.Config) {
	c.ExtraKinds = append(c.ExtraKinds, apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind))
}

const frameworkYAML = `apiVersion: offers.setpoint.dev/v1alpha1
kind: Framework
metadata: {name: batch}
spec:
  weight: WEIGHT
  taskResources: {cpu: "1", memory: 4Gi}
`

const offerYAML = `apiVersion: offers.setpoint.dev/v1alpha1
kind: Offer
metadata: {name: batch-n1-1}
spec:
  framework: batch
  node: n1
  resources: {cpu: "3", memory: 12Gi}
  expiryTime: "2099-01-01T00:00:00Z"
`

// TestKubectlFrameworksAndOffers: the apiserver serves the
// offers.setpoint.dev group; kubectl creates, explains and lists
// frameworks (ROLE, WEIGHT, DOMINANT SHARE, with the defaults filled) and
// offers (NODE, FRAMEWORK, CPU, MEMORY, EXPIRES), and a bad framework is
// refused naming its field, with nothing stored.
func TestKubectlFrameworksAndOffers(t *testing.T) {
	s := controllertest.StartAPIServer(t, servesOffers)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	controllertest.Kubectl(t, s, "apply", "-f", write("fw.yaml", strings.ReplaceAll(frameworkYAML, "WEIGHT", "2")))
	controllertest.Kubectl(t, s, "apply", "-f", write("offer.yaml", offerYAML))
	out := controllertest.Kubectl(t, s, "get", "frameworks")
	for _, want := range []string{"ROLE", "WEIGHT", "DOMINANT SHARE", "batch", "*", "2", "<none>"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get frameworks: no %q in\n%s", want, out)
		}
	}
	out = controllertest.Kubectl(t, s, "get", "offers")
	for _, want := range []string{"NODE", "FRAMEWORK", "CPU", "MEMORY", "EXPIRES", "n1", "batch", "3", "12Gi"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get offers: no %q in\n%s", want, out)
		}
	}
	out = controllertest.Kubectl(t, s, "explain", "frameworks.spec.weight")
	if !strings.Contains(out, "fair share") {
		t.Errorf("kubectl explain frameworks.spec.weight:\n%s", out)
	}

	bad := strings.ReplaceAll(strings.ReplaceAll(frameworkYAML, "WEIGHT", "-1"), "batch", "bad")
	out, err := controllertest.KubectlErr(t, s, "create", "-f", write("bad.yaml", bad))
	if err == nil || !strings.Contains(out, "spec.weight") {
		t.Errorf("a negative weight: err=%v\n%s", err, out)
	}
	if out := controllertest.Kubectl(t, s, "get", "frameworks", "-o", "name"); strings.TrimSpace(out) != "framework.offers.setpoint.dev/batch" {
		t.Errorf("frameworks after the bad create: %q", out)
	}
}
