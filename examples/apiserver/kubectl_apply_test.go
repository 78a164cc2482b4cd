package apiserver

import (
	"context"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// ssaDeployYAML is a Deployment with a label and an env var that a later
// configuration drops.
const ssaDeployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: TIER}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx
        env: [{name: MODE, value: fast}]
`

func ssaDeploy(replicas, tier string, env bool) string {
	s := strings.NewReplacer("REPLICAS", replicas, "TIER", tier).Replace(ssaDeployYAML)
	if tier == "" {
		s = strings.Replace(s, ", tier: ", "", 1)
	}
	if !env {
		s = strings.Replace(s, "        env: [{name: MODE, value: fast}]\n", "", 1)
	}
	return s
}

func owner(d *apps.Deployment, manager, op, subresource string) (store.ManagedFieldsEntry, bool) {
	for _, e := range d.ManagedFields {
		if e.Manager == manager && e.Operation == op && e.Subresource == subresource {
			return e, true
		}
	}
	return store.ManagedFieldsEntry{}, false
}

// TestKubectlServerSideApply drives kubectl 1.32's apply --server-side:
// create, an idempotent re-apply, a conflict with another manager, then
// --force-conflicts, removal of fields left out of the configuration,
// --show-managed-fields, and an apply through the status subresource.
func TestKubectlServerSideApply(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	ctx := context.Background()
	deps := deployments(t, s)

	out := s.kubectl(t, false, "apply", "--server-side", "-f", s.writeFile(t, "d1.yaml", ssaDeploy("2", "x", true)))
	if !strings.Contains(out, "deployment.apps/web serverside-applied") {
		t.Fatalf("apply: %s", out)
	}
	d, err := deps.Get(ctx, "default", "web")
	if err != nil || *d.Spec.Replicas != 2 || d.Labels["tier"] != "x" {
		t.Fatalf("applied deployment: %+v %v", d, err)
	}
	e, ok := owner(d, "kubectl", "Apply", "")
	if !ok || !strings.Contains(string(e.FieldsV1.Raw), `"f:replicas":{}`) || !strings.Contains(string(e.FieldsV1.Raw), `k:{\"name\":\"c\"}`) {
		t.Fatalf("kubectl's entry: %+v", d.ManagedFields)
	}

	// Re-applying the same file writes nothing.
	rev := s.revision(t)
	s.kubectl(t, false, "apply", "--server-side", "-f", s.writeFile(t, "d1.yaml", ssaDeploy("2", "x", true)))
	if s.revision(t) != rev {
		t.Fatal("re-applying an unchanged configuration wrote")
	}

	// Another manager changing replicas conflicts, naming kubectl and the field.
	other := s.writeFile(t, "other.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 5\n")
	out = s.kubectl(t, true, "apply", "--server-side", "--field-manager=scaler", "-f", other)
	if !strings.Contains(out, `conflict with "kubectl": .spec.replicas`) || !strings.Contains(out, "--force-conflicts") {
		t.Fatalf("conflict output: %s", out)
	}
	if s.revision(t) != rev {
		t.Fatal("a conflicting apply wrote")
	}
	s.kubectl(t, false, "apply", "--server-side", "--field-manager=scaler", "--force-conflicts", "-f", other)
	if d, err = deps.Get(ctx, "default", "web"); err != nil || *d.Spec.Replicas != 5 {
		t.Fatalf("forced apply: %+v %v", d, err)
	}
	if e, ok := owner(d, "scaler", "Apply", ""); !ok || string(e.FieldsV1.Raw) != `{"f:spec":{"f:replicas":{}}}` {
		t.Fatalf("scaler's entry: %+v", d.ManagedFields)
	}

	// kubectl drops the tier label, the env var and replicas (now the
	// scaler's): the first two are removed, replicas stays the scaler's.
	s.kubectl(t, false, "apply", "--server-side", "-f", s.writeFile(t, "d2.yaml", strings.Replace(ssaDeploy("5", "", false), "  replicas: 5\n", "", 1)))
	d, err = deps.Get(ctx, "default", "web")
	if err != nil || d.Labels["tier"] != "" || len(d.Spec.Template.Spec.Containers[0].Env) != 0 || *d.Spec.Replicas != 5 {
		t.Fatalf("after dropping fields: labels %v env %v replicas %v (%v)", d.Labels, d.Spec.Template.Spec.Containers[0].Env, d.Spec.Replicas, err)
	}

	// managedFields are shown only on request.
	if out := s.kubectl(t, false, "get", "deployment", "web", "-o", "yaml"); strings.Contains(out, "managedFields") {
		t.Fatalf("managedFields shown without --show-managed-fields:\n%s", out)
	}
	out = s.kubectl(t, false, "get", "deployment", "web", "-o", "yaml", "--show-managed-fields")
	for _, want := range []string{"managedFields:", "manager: kubectl", "manager: scaler", "operation: Apply", "fieldsType: FieldsV1", "f:replicas: {}"} {
		if !strings.Contains(out, want) {
			t.Fatalf("--show-managed-fields lacks %q:\n%s", want, out)
		}
	}

	// An apply through the status subresource changes and owns only status.
	status := s.writeFile(t, "status.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 9\nstatus:\n  replicas: 3\n  readyReplicas: 2\n")
	s.kubectl(t, false, "apply", "--server-side", "--subresource=status", "--field-manager=observer", "-f", status)
	d, err = deps.Get(ctx, "default", "web")
	if err != nil || d.Status.Replicas != 3 || d.Status.ReadyReplicas != 2 || *d.Spec.Replicas != 5 {
		t.Fatalf("status apply: status %+v replicas %v (%v)", d.Status, d.Spec.Replicas, err)
	}
	if e, ok := owner(d, "observer", "Apply", "status"); !ok || strings.Contains(string(e.FieldsV1.Raw), "f:spec") || !strings.Contains(string(e.FieldsV1.Raw), "f:readyReplicas") {
		t.Fatalf("status applier's entry: %+v", d.ManagedFields)
	}
}

// TestKubectlClientSideThenServerSideApply: an object kubectl applied
// client-side moves to server-side apply without conflicts, even with a
// changed value; kubectl then migrates the kubectl-client-side-apply
// manager's fields to its own entry, so a field dropped afterwards is
// removed.
func TestKubectlClientSideThenServerSideApply(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	ctx := context.Background()
	deps := deployments(t, s)

	out := s.kubectl(t, false, "apply", "-f", s.writeFile(t, "d1.yaml", ssaDeploy("2", "x", true)))
	if !strings.Contains(out, "deployment.apps/web created") {
		t.Fatalf("client-side apply: %s", out)
	}
	d, err := deps.Get(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := owner(d, "kubectl-client-side-apply", "Update", ""); !ok || d.Annotations["kubectl.kubernetes.io/last-applied-configuration"] == "" {
		t.Fatalf("client-side apply left %+v, annotations %v", d.ManagedFields, d.Annotations)
	}

	out = s.kubectl(t, false, "apply", "--server-side", "-f", s.writeFile(t, "d2.yaml", ssaDeploy("3", "x", true)))
	if !strings.Contains(out, "serverside-applied") || strings.Contains(out, "Warning") {
		t.Fatalf("server-side apply after client-side apply: %s", out)
	}
	d, err = deps.Get(ctx, "default", "web")
	if err != nil || *d.Spec.Replicas != 3 {
		t.Fatalf("replicas after migration: %+v %v", d, err)
	}
	if e, ok := owner(d, "kubectl-client-side-apply", "Update", ""); ok {
		t.Fatalf("client-side apply still owns %s after the migration", e.FieldsV1.Raw)
	}
	e, ok := owner(d, "kubectl", "Apply", "")
	if !ok || !strings.Contains(string(e.FieldsV1.Raw), `"f:tier":{}`) || !strings.Contains(string(e.FieldsV1.Raw), `"f:replicas":{}`) {
		t.Fatalf("kubectl's entry after the migration: %+v", d.ManagedFields)
	}
	if !strings.Contains(d.Annotations["kubectl.kubernetes.io/last-applied-configuration"], `"replicas":3`) {
		t.Fatalf("last-applied annotation not kept up to date: %s", d.Annotations["kubectl.kubernetes.io/last-applied-configuration"])
	}

	// Now kubectl owns what client-side apply set: dropping it removes it.
	s.kubectl(t, false, "apply", "--server-side", "-f", s.writeFile(t, "d3.yaml", ssaDeploy("3", "", false)))
	d, err = deps.Get(ctx, "default", "web")
	if err != nil || d.Labels["tier"] != "" || len(d.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Fatalf("fields dropped after the migration remain: labels %v env %v (%v)", d.Labels, d.Spec.Template.Spec.Containers[0].Env, err)
	}
}
