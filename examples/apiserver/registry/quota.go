package registry

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// ErrQuotaExceeded is wrapped by CheckQuota's error.
var ErrQuotaExceeded = errors.New("exceeded quota")

// effective sums one resource over the app containers and takes the
// larger of that and any single init container's value (init containers
// run one at a time, before the app containers), as Kubernetes does.
func effective(s *api.PodSpec, pick func(api.ResourceRequirements) api.ResourceList, name api.ResourceName) (api.Quantity, bool) {
	var sum api.Quantity
	set := false
	for _, c := range s.Containers {
		if q, ok := pick(c.Resources)[name]; ok {
			sum, set = sum.Add(q), true
		}
	}
	for _, c := range s.InitContainers {
		if q, ok := pick(c.Resources)[name]; ok {
			set = true
			if q.Cmp(sum) > 0 {
				sum = q
			}
		}
	}
	return sum, set
}

// PodUsage returns what a pod counts against a ResourceQuota: "pods" 1,
// and "requests.cpu", "requests.memory" (also as "cpu" and "memory"),
// "limits.cpu" and "limits.memory" where the containers set them. Pods
// that have finished (Succeeded or Failed) count nothing.
func PodUsage(p *api.Pod) api.ResourceList {
	if p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
		return api.ResourceList{}
	}
	u := api.ResourceList{"pods": api.NewQuantity(1, api.DecimalSI)}
	req := func(r api.ResourceRequirements) api.ResourceList { return r.Requests }
	lim := func(r api.ResourceRequirements) api.ResourceList { return r.Limits }
	for _, res := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
		if q, ok := effective(&p.Spec, req, res); ok {
			u["requests."+res] = q
			u[res] = q
		}
		if q, ok := effective(&p.Spec, lim, res); ok {
			u["limits."+res] = q
		}
	}
	return u
}

// CheckQuota reports whether adding add to used stays within hard, for
// every resource hard names. A quota on a compute resource also requires
// the addition to state it (a pod without a cpu request cannot be admitted
// under a requests.cpu quota). The error wraps ErrQuotaExceeded and reads
// like Kubernetes': "exceeded quota: compute, requested: pods=1, used:
// pods=10, limited: pods=10".
func CheckQuota(name string, hard, used, add api.ResourceList) error {
	names := make([]string, 0, len(hard))
	for n := range hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var over, missing []string
	for _, s := range names {
		n := api.ResourceName(s)
		a, ok := add[n]
		if !ok {
			if s != "pods" && s != "services" && !strings.HasPrefix(s, "count/") && (strings.Contains(s, "cpu") || strings.Contains(s, "memory")) {
				if _, counted := add["pods"]; counted {
					missing = append(missing, s)
				}
			}
			continue
		}
		if used[n].Add(a).Cmp(hard[n]) > 0 {
			over = append(over, s)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s, must specify %s", ErrQuotaExceeded, name, strings.Join(missing, ","))
	}
	if len(over) == 0 {
		return nil
	}
	list := func(l api.ResourceList) string {
		parts := make([]string, len(over))
		for i, n := range over {
			q := l[api.ResourceName(n)]
			parts[i] = n + "=" + q.String()
		}
		return strings.Join(parts, ",")
	}
	return fmt.Errorf("%w: %s, requested: %s, used: %s, limited: %s", ErrQuotaExceeded, name, list(add), list(used), list(hard))
}
