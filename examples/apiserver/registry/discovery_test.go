package registry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestDiscovery(t *testing.T) {
	core, ok := Resources("v1")
	if !ok {
		t.Fatal("no v1")
	}
	byName := map[string]api.APIResource{}
	for _, r := range core.Resources {
		byName[r.Name] = r
	}
	pods := byName["pods"]
	if !pods.Namespaced || pods.Kind != "Pod" || pods.SingularName != "pod" || strings.Join(pods.ShortNames, ",") != "po" ||
		len(pods.Verbs) != 8 || strings.Join(pods.Categories, ",") != "all" {
		t.Fatalf("pods: %+v", pods)
	}
	if b := byName["pods/binding"]; b.Kind != "Binding" || strings.Join(b.Verbs, ",") != "create" {
		t.Fatalf("pods/binding: %+v", b)
	}
	if s := byName["pods/status"]; s.Kind != "Pod" || strings.Join(s.Verbs, ",") != "get,patch,update" {
		t.Fatalf("pods/status: %+v", s)
	}
	if n := byName["nodes"]; n.Namespaced {
		t.Fatal("nodes are cluster-scoped")
	}
	apps, _ := Resources("apps/v1")
	var scale *api.APIResource
	for i := range apps.Resources {
		if apps.Resources[i].Name == "deployments/scale" {
			scale = &apps.Resources[i]
		}
	}
	if scale == nil || scale.Group != "autoscaling" || scale.Version != "v1" || scale.Kind != "Scale" {
		t.Fatalf("deployments/scale: %+v", scale)
	}
	if _, ok := Resources("batch/v1"); ok {
		t.Fatal("batch/v1 is not served")
	}
	if l, ok := Resources("autoscaling/v1"); !ok || len(l.Resources) != 0 {
		t.Fatal("autoscaling/v1 is served, empty")
	}
	b, _ := json.Marshal(Groups())
	want := `{"apiVersion":"v1","kind":"APIGroupList","groups":[` +
		`{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},` +
		`{"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v1","version":"v1"}],"preferredVersion":{"groupVersion":"autoscaling/v1","version":"v1"}},` +
		`{"name":"coordination.k8s.io","versions":[{"groupVersion":"coordination.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"coordination.k8s.io/v1","version":"v1"}}]}`
	if string(b) != want {
		t.Fatalf("groups:\n%s\nwant\n%s", b, want)
	}
	b, _ = json.Marshal(CoreAPIVersions())
	if string(b) != `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}` {
		t.Fatalf("api versions: %s", b)
	}
}
