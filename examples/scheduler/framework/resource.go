package framework

import (
	"maps"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// Defaults used for scoring a container that requests no CPU or memory, as
// Kubernetes does (so that such pods still spread).
const (
	// DefaultMilliCPURequest is 0.1 core.
	DefaultMilliCPURequest int64 = 100
	// DefaultMemoryRequest is 200 MiB.
	DefaultMemoryRequest int64 = 200 * 1024 * 1024
)

// Resource is an amount of compute resources as the scheduler counts
// them: CPU in millicores, memory and ephemeral storage in bytes, the
// number of pods, and scalar resources (extended resources such as
// example.com/gpu, hugepages-*, and kubernetes.io/ prefixed ones).
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	Scalar           map[api.ResourceName]int64
}

// IsScalarResourceName reports whether the scheduler counts a resource
// other than cpu, memory, ephemeral-storage and pods: hugepages-*,
// attachable-volumes-* and any domain-qualified name (extended resources
// and kubernetes.io/ native ones), but not requests.* quota names.
func IsScalarResourceName(name api.ResourceName) bool {
	n := string(name)
	return strings.HasPrefix(n, "hugepages-") || strings.HasPrefix(n, "attachable-volumes-") ||
		(strings.Contains(n, "/") && !strings.HasPrefix(n, "requests."))
}

// NewResource converts a resource list: CPU rounded up to whole
// millicores, everything else rounded up to integers; quantities too large
// for an int64 saturate.
func NewResource(rl api.ResourceList) Resource {
	var r Resource
	for name, q := range rl {
		r.set(name, quantityValue(name, q))
	}
	return r
}

func quantityValue(name api.ResourceName, q api.Quantity) int64 {
	if name == api.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

func (r *Resource) set(name api.ResourceName, v int64) {
	switch name {
	case api.ResourceCPU:
		r.MilliCPU = v
	case api.ResourceMemory:
		r.Memory = v
	case api.ResourceEphemeralStorage:
		r.EphemeralStorage = v
	case api.ResourcePods:
		r.AllowedPodNumber = v
	default:
		if IsScalarResourceName(name) {
			if r.Scalar == nil {
				r.Scalar = make(map[api.ResourceName]int64, 2)
			}
			r.Scalar[name] = v
		}
	}
}

// Get returns the amount of one resource.
func (r *Resource) Get(name api.ResourceName) int64 {
	switch name {
	case api.ResourceCPU:
		return r.MilliCPU
	case api.ResourceMemory:
		return r.Memory
	case api.ResourceEphemeralStorage:
		return r.EphemeralStorage
	case api.ResourcePods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

// Add adds o to r, saturating instead of overflowing.
func (r *Resource) Add(o *Resource) {
	r.MilliCPU = satAdd(r.MilliCPU, o.MilliCPU)
	r.Memory = satAdd(r.Memory, o.Memory)
	r.EphemeralStorage = satAdd(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = satAdd(r.AllowedPodNumber, o.AllowedPodNumber)
	for n, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[api.ResourceName]int64, len(o.Scalar))
		}
		r.Scalar[n] = satAdd(r.Scalar[n], v)
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for n, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[api.ResourceName]int64, len(o.Scalar))
		}
		r.Scalar[n] -= v
	}
}

// setMax sets every amount of r to the larger of r's and o's.
func (r *Resource) setMax(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for n, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[api.ResourceName]int64, len(o.Scalar))
		}
		if cur, ok := r.Scalar[n]; !ok || v > cur {
			r.Scalar[n] = v
		}
	}
}

// Clone returns a deep copy.
func (r Resource) Clone() Resource {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}

// IsZero reports whether r holds no CPU, memory, ephemeral storage or
// scalar amount (the pod count is ignored).
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return 1<<63 - 1
	case a < 0 && b < 0 && s >= 0:
		return -1 << 63
	}
	return s
}

// PodRequests returns what a pod requests, as Kubernetes computes it for
// scheduling: the larger of (the sum of the regular containers' and the
// sidecars' requests) and (the largest init container's request plus the
// sidecars started before it); pod-level requests (spec.resources) replace
// the containers' CPU and memory; spec.overhead is added. With nonZero,
// a container (or init container) that requests no CPU or no memory counts
// DefaultMilliCPURequest or DefaultMemoryRequest for it: the amounts the
// scoring plugins use.
func PodRequests(pod *api.Pod, nonZero bool) Resource {
	var reqs Resource
	for i := range pod.Spec.Containers {
		c := containerRequests(&pod.Spec.Containers[i], nonZero)
		reqs.Add(&c)
	}
	var sidecars, init Resource
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		c := containerRequests(ic, nonZero)
		if ic.RestartPolicy != nil && *ic.RestartPolicy == api.ContainerRestartPolicyAlways {
			reqs.Add(&c)
			sidecars.Add(&c)
			c = sidecars.Clone()
		} else {
			c.Add(&sidecars)
		}
		init.setMax(&c)
	}
	reqs.setMax(&init)
	if pr := pod.Spec.Resources; pr != nil {
		for _, name := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
			if q, ok := pr.Requests[name]; ok {
				reqs.set(name, quantityValue(name, q))
			}
		}
	}
	if len(pod.Spec.Overhead) > 0 {
		o := NewResource(pod.Spec.Overhead)
		o.AllowedPodNumber = 0
		reqs.Add(&o)
	}
	reqs.AllowedPodNumber = 0
	return reqs
}

func containerRequests(c *api.Container, nonZero bool) Resource {
	r := NewResource(c.Resources.Requests)
	r.AllowedPodNumber = 0
	if nonZero {
		if _, ok := c.Resources.Requests[api.ResourceCPU]; !ok {
			r.MilliCPU = DefaultMilliCPURequest
		}
		if _, ok := c.Resources.Requests[api.ResourceMemory]; !ok {
			r.Memory = DefaultMemoryRequest
		}
	}
	return r
}
