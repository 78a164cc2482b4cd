package registry

import (
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// computeQuotaNames are the compute resource names a quota may limit; pod
// creates count them (PodUsage).
var computeQuotaNames = []string{"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}

// legacyCountNames maps the object-count names Kubernetes accepted before
// count/<resource> (for the kinds this server serves) to their resource.
// "pods" counts only pods that have not finished (PodUsage); the others
// count every object.
var legacyCountNames = map[string]store.Resource{
	"pods":                   api.PodResource,
	"services":               api.ServiceResource,
	"resourcequotas":         api.ResourceQuotaResource,
	"configmaps":             api.ConfigMapResource,
	"secrets":                api.SecretResource,
	"replicationcontrollers": api.ReplicationControllerResource,
	"persistentvolumeclaims": api.PersistentVolumeClaimResource,
}

// CountName is the object-count quota name of a resource:
// "count/<plural>" for the core group, "count/<plural>.<group>" otherwise.
func CountName(r store.Resource) string {
	if g := groupOf(r); g != "" {
		return "count/" + r.Name + "." + g
	}
	return "count/" + r.Name
}

// ObjectUsage returns what obj, an object of resource r, counts against a
// ResourceQuota: one of its count/ name (every object, finished pods too,
// as in Kubernetes), one of its legacy name for services and
// resourcequotas, and for a pod what PodUsage says.
func ObjectUsage(r store.Resource, obj store.Object) api.ResourceList {
	u := api.ResourceList{}
	if p, ok := obj.(*api.Pod); ok && r == api.PodResource {
		u = PodUsage(p)
	} else {
		for name, res := range legacyCountNames {
			if res == r {
				u[api.ResourceName(name)] = api.NewQuantity(1, api.DecimalSI)
			}
		}
	}
	u[api.ResourceName(CountName(r))] = api.NewQuantity(1, api.DecimalSI)
	return u
}

// checkQuotaName returns why a quota may not name n ("" if it may): every
// name a quota accepts is enforced, so only compute resources and the
// object counts of namespaced resources this server serves are accepted.
func checkQuotaName(n string) string {
	if slices.Contains(computeQuotaNames, n) {
		return ""
	}
	if _, ok := legacyCountNames[n]; ok {
		return ""
	}
	r, ok := strings.CutPrefix(n, "count/")
	if !ok {
		return "Unsupported value: supported values: the compute resources " + strings.Join(computeQuotaNames, ", ") +
			", the object counts pods, services, resourcequotas, configmaps, secrets, replicationcontrollers, persistentvolumeclaims, and count/<resource>[.<group>] for a namespaced resource this server serves"
	}
	res, ok := countable[r]
	switch {
	case !ok:
		return "Invalid value: this server serves no resource " + r + " (write count/<plural> for the core group, count/<plural>.<group> otherwise)"
	case !res.Namespaced:
		return "Invalid value: " + res.Name + " are not namespaced: a quota cannot count them"
	}
	return ""
}

// countable maps "<plural>" (core group) and "<plural>.<group>" to each
// served resource. It is filled by init, after the kinds exist (the kinds'
// validation refers to it).
var countable map[string]store.Resource

func init() {
	countable = map[string]store.Resource{}
	for _, d := range Kinds() {
		r := d.Resource()
		countable[strings.TrimPrefix(CountName(r), "count/")] = r
	}
}

// QuotaLimits reports whether a quota with limits hard limits a create
// that adds add: whether hard names anything add counts.
func QuotaLimits(hard, add api.ResourceList) bool {
	for n := range add {
		if _, ok := hard[n]; ok {
			return true
		}
	}
	return false
}

// ChargeQuota returns a quota's status.used after a create that adds add,
// where used is the usage counted before it: for each name of hard that
// add counts, used plus add; every other name keeps its value in prev.
func ChargeQuota(hard, prev, used, add api.ResourceList) api.ResourceList {
	next := make(api.ResourceList, len(hard))
	for n := range hard {
		if a, ok := add[n]; ok {
			next[n] = used[n].Add(a)
		} else if p, ok := prev[n]; ok {
			next[n] = p
		}
	}
	return next
}
