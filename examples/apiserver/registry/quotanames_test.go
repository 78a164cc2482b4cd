package registry

import (
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// TestQuotaNames is issue 12 case 15: every resource name a quota accepts
// is one the quota plugin enforces; the others are 422 at validation.
func TestQuotaNames(t *testing.T) {
	for name, want := range map[string]string{
		"pods": "", "services": "", "resourcequotas": "", "cpu": "", "limits.memory": "",
		"count/pods": "", "count/services": "", "count/events": "", "count/leases.coordination.k8s.io": "",
		"count/deployments.apps": "", "count/replicasets.apps": "",
		"configmaps": "", "secrets": "", "persistentvolumeclaims": "", "count/configmaps": "", "count/secrets": "",
		"requests.storage":  "Unsupported value",
		"gpus":              "Unsupported value",
		"count/widgets":     "serves no resource widgets",
		"count/deployments": "serves no resource deployments",
		"count/pods.apps":   "serves no resource pods.apps",
		"count/nodes":       "nodes are not namespaced",
		"count/namespaces":  "namespaces are not namespaced",
		"count/":            "serves no resource",
	} {
		q := &api.ResourceQuota{ObjectMeta: store.ObjectMeta{Name: "q", Namespace: "d"},
			Spec: api.ResourceQuotaSpec{Hard: api.ResourceList{api.ResourceName(name): api.MustParse("3")}}}
		err := ResourceQuotaKind.Validate(q)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "spec.hard["+name+"]") {
			t.Errorf("%s: %v, want spec.hard[%s] %q", name, err, name, want)
		}
		// the same rule holds for the status the quota plugin writes
		q.Spec.Hard, q.Status.Used = nil, api.ResourceList{api.ResourceName(name): api.MustParse("1")}
		if err := ResourceQuotaKind.Validate(q); err == nil || !strings.Contains(err.Error(), "status.used["+name+"]") {
			t.Errorf("status.used[%s]: %v, want refused", name, err)
		}
	}
	// every served namespaced resource can be counted, under CountName
	for _, d := range Kinds() {
		r := d.Resource()
		why := checkQuotaName(CountName(r))
		if r.Namespaced != (why == "") {
			t.Errorf("%s (namespaced %v): %q", CountName(r), r.Namespaced, why)
		}
	}
}

func TestObjectUsage(t *testing.T) {
	one := api.MustParse("1")
	check := func(what string, got api.ResourceList, want ...string) {
		t.Helper()
		var names []string
		for n, q := range got {
			if counted := n == "pods" || n == "services" || n == "resourcequotas" || strings.HasPrefix(string(n), "count/"); counted && q.Cmp(one) != 0 {
				t.Errorf("%s: %s = %s, want 1", what, n, q.String())
			}
			names = append(names, string(n))
		}
		if len(names) != len(want) {
			t.Fatalf("%s: usage %v, want names %v", what, got, want)
		}
		for _, w := range want {
			if _, ok := got[api.ResourceName(w)]; !ok {
				t.Fatalf("%s: usage %v lacks %s", what, got, w)
			}
		}
	}
	p := validPod()
	check("running pod", ObjectUsage(api.PodResource, p), "pods", "count/pods", "limits.cpu", "requests.cpu", "cpu")
	p.Status.Phase = api.PodFailed
	// count/pods counts every stored pod; "pods" only unfinished ones
	check("failed pod", ObjectUsage(api.PodResource, p), "count/pods")
	check("service", ObjectUsage(api.ServiceResource, &api.Service{}), "services", "count/services")
	check("quota", ObjectUsage(api.ResourceQuotaResource, &api.ResourceQuota{}), "resourcequotas", "count/resourcequotas")
	check("deployment", ObjectUsage(DeploymentKind.Resource(), &apps.Deployment{}), "count/deployments.apps")
	check("event", ObjectUsage(api.EventResource, &api.Event{}), "count/events")
}

func TestChargeQuota(t *testing.T) {
	hard := api.ResourceList{"pods": api.MustParse("5"), "count/services": api.MustParse("2"), "requests.cpu": api.MustParse("1")}
	prev := api.ResourceList{"pods": api.MustParse("9"), "count/services": api.MustParse("1"), "gone": api.MustParse("4")}
	used := api.ResourceList{"pods": api.MustParse("3"), "requests.cpu": api.MustParse("200m")}
	add := api.ResourceList{"pods": api.MustParse("1"), "requests.cpu": api.MustParse("300m"), "count/pods": api.MustParse("1")}
	if !QuotaLimits(hard, add) || QuotaLimits(api.ResourceList{"count/services": one()}, add) {
		t.Fatal("QuotaLimits")
	}
	got := ChargeQuota(hard, prev, used, add)
	want := map[api.ResourceName]string{"pods": "4", "requests.cpu": "500m", "count/services": "1"}
	if len(got) != len(want) {
		t.Fatalf("charged %v, want %v", got, want)
	}
	for n, w := range want {
		if q := got[n]; q.String() != w {
			t.Errorf("%s = %s, want %s", n, q.String(), w)
		}
	}
}

func one() api.Quantity { return api.MustParse("1") }
