package hub_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/store"
)

const subscriptionYAML = `apiVersion: multicluster.setpoint.dev/v1alpha1
kind: Subscription
metadata: {name: web, namespace: default}
spec:
  schedulingStrategy: Dividing
  subscribers:
  - clusterAffinity: {matchLabels: {env: prod}}
    weight: 2
  manifests:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: web, namespace: default}
    data: {a: b}
`

// TestKubectlMulticlusterKinds: the parent serves the
// multicluster.setpoint.dev group; kubectl applies a Subscription (with
// its defaults filled and its inline manifest kept whole), lists it with
// the STRATEGY, CLUSTERS and DEPLOYED columns, explains its fields from
// the Go doc comments, and a Subscription with an unparsable selector is
// refused naming the field, with nothing stored.
func TestKubectlMulticlusterKinds(t *testing.T) {
	p := mctest.StartParent(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	controllertest.Kubectl(t, p.Server, "apply", "-f", write("sub.yaml", subscriptionYAML))
	out := controllertest.Kubectl(t, p.Server, "get", "subscriptions", "-n", "default")
	for _, want := range []string{"STRATEGY", "CLUSTERS", "DEPLOYED", "web", "Dividing/Static", "<none>", "0/0"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get subscriptions: no %q in\n%s", want, out)
		}
	}
	out = controllertest.Kubectl(t, p.Server, "get", "subscription", "web", "-n", "default", "-o", "jsonpath={.spec.subscribers[0].weight} {.spec.manifests[0].data.a}")
	if out != "2 b" {
		t.Errorf("stored subscription: weight and manifest data = %q, want \"2 b\"", out)
	}
	out = controllertest.Kubectl(t, p.Server, "explain", "subscriptions.spec.subscribers")
	if !strings.Contains(out, "select the clusters") {
		t.Errorf("kubectl explain subscriptions.spec.subscribers: no doc comment in\n%s", out)
	}
	bad := strings.ReplaceAll(strings.ReplaceAll(subscriptionYAML, "name: web, namespace: default}\nspec", "name: bad, namespace: default}\nspec"),
		"{matchLabels: {env: prod}}", "{matchExpressions: [{key: env, operator: Near, values: [x]}]}")
	out, err := controllertest.KubectlErr(t, p.Server, "apply", "-f", write("bad.yaml", bad))
	if err == nil || !strings.Contains(out, "spec.subscribers[0].clusterAffinity") {
		t.Errorf("bad selector: err %v, output %s; want a refusal naming spec.subscribers[0].clusterAffinity", err, out)
	}
	if _, err := mctest.Subscriptions(t, p).Get(context.Background(), "default", "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused subscription: Get = %v, want not found", err)
	}
}
