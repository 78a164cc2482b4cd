package kubelet

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// admit checks that a pod can run on this node, as Kubernetes' kubelet
// admits pods: it must name this node, fit the node's allocatable cpu,
// memory and pods next to the pods already admitted, and not want a host
// port one of them holds. It returns the reason and message of a refusal
// (OutOfcpu, OutOfmemory, OutOfpods, NodePorts, NodeName) or "".
func (k *Kubelet) admit(pod *api.Pod) (reason, msg string) {
	if pod.Spec.NodeName != k.cfg.NodeName {
		return "NodeName", fmt.Sprintf("Pod was assigned to node %q, not %q", pod.Spec.NodeName, k.cfg.NodeName)
	}
	if pod.Status.StartTime != nil {
		return "", "" // admitted before: running pods are never refused later
	}
	alloc := k.allocatable()
	var cpu, mem int64
	pods := 0
	ports := map[string]bool{}
	for _, other := range k.inf.List() {
		if other.UID == pod.UID || other.Status.StartTime == nil || other.Status.Phase == api.PodSucceeded || other.Status.Phase == api.PodFailed {
			continue
		}
		pods++
		c, m := podRequests(other)
		cpu, mem = cpu+c, mem+m
		for _, p := range hostPorts(other) {
			ports[p] = true
		}
	}
	c, m := podRequests(pod)
	if q, ok := alloc[api.ResourcePods]; ok && int64(pods+1) > q.Value() {
		return "OutOfpods", "Node didn't have enough resource: pods"
	}
	if q, ok := alloc[api.ResourceCPU]; ok && c > 0 && cpu+c > q.MilliValue() {
		return "OutOfcpu", fmt.Sprintf("Pod Node didn't have enough resource: cpu, requested: %d, used: %d, capacity: %d", c, cpu, q.MilliValue())
	}
	if q, ok := alloc[api.ResourceMemory]; ok && m > 0 && mem+m > q.Value() {
		return "OutOfmemory", fmt.Sprintf("Pod Node didn't have enough resource: memory, requested: %d, used: %d, capacity: %d", m, mem, q.Value())
	}
	for _, p := range hostPorts(pod) {
		if ports[p] {
			return "NodePorts", "Pod Node didn't have free ports for the requested pod ports"
		}
	}
	return "", ""
}

// podRequests sums a pod's cpu (millicores) and memory (bytes) requests:
// the app containers' sum, or the largest init container's if larger.
func podRequests(pod *api.Pod) (cpu, mem int64) {
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Requests[api.ResourceCPU]; ok {
			cpu += q.MilliValue()
		}
		if q, ok := c.Resources.Requests[api.ResourceMemory]; ok {
			mem += q.Value()
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if q, ok := c.Resources.Requests[api.ResourceCPU]; ok {
			cpu = max(cpu, q.MilliValue())
		}
		if q, ok := c.Resources.Requests[api.ResourceMemory]; ok {
			mem = max(mem, q.Value())
		}
	}
	return cpu, mem
}

// hostPorts lists a pod's host ports as "protocol/ip/port".
func hostPorts(pod *api.Pod) []string {
	var out []string
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				proto := p.Protocol
				if proto == "" {
					proto = api.ProtocolTCP
				}
				out = append(out, fmt.Sprintf("%s/%s/%d", proto, p.HostIP, p.HostPort))
			}
		}
	}
	return out
}
