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
	if e := byName["pods/eviction"]; e.Kind != "Eviction" || e.Group != "policy" || e.Version != "v1" || strings.Join(e.Verbs, ",") != "create" {
		t.Fatalf("pods/eviction: %+v", e)
	}
	if _, ok := Resources("autoscaling/v1"); ok {
		t.Fatal("autoscaling/v1 listed without resources")
	}
	if _, ok := Resources("nothing/v1"); ok {
		t.Fatal("an unknown group-version is served")
	}
	csr, ok := Resources("certificates.k8s.io/v1")
	if !ok || len(csr.Resources) != 3 || csr.Resources[1].Name != "certificatesigningrequests/approval" {
		t.Fatalf("certificates.k8s.io/v1: %+v", csr)
	}
	// every group listed has resources in each of its versions
	groups := Groups()
	var names []string
	for _, g := range groups.Groups {
		names = append(names, g.Name)
		for _, v := range g.Versions {
			if l, ok := Resources(v.GroupVersion); !ok || len(l.Resources) == 0 {
				t.Errorf("group-version %s is listed without resources", v.GroupVersion)
			}
		}
	}
	want := "apps batch certificates.k8s.io coordination.k8s.io discovery.k8s.io events.k8s.io policy rbac.authorization.k8s.io scheduling.k8s.io storage.k8s.io"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("groups %s, want %s", got, want)
	}
	b, _ := json.Marshal(groups.Groups[0])
	if string(b) != `{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}` {
		t.Fatalf("apps group: %s", b)
	}
	b, _ = json.Marshal(CoreAPIVersions())
	if string(b) != `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}` {
		t.Fatalf("api versions: %s", b)
	}
}
