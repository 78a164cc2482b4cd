package framework

import (
	"fmt"
	"sync/atomic"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// ImageStateSummary is what the scheduler knows of an image across the
// cluster: its size and how many nodes hold it.
type ImageStateSummary struct {
	Size     int64
	NumNodes int
}

// NodeInfo is a node and the pods the scheduler counts on it (bound,
// assumed, and during preemption the simulated ones), with the sums the
// filters need. The scheduler's cache owns the NodeInfos it hands to
// plugins: they are read-only for plugins, valid during the scheduling
// cycle that got them, and must not be kept. Clone gives a private copy
// to change.
type NodeInfo struct {
	node *api.Node

	// Pods is every pod counted on the node.
	Pods []*PodInfo
	// PodsWithAffinity is the pods with any pod affinity or anti-affinity.
	PodsWithAffinity []*PodInfo
	// PodsWithRequiredAntiAffinity is the pods with required
	// anti-affinity terms.
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts is the host ports the pods use.
	UsedPorts HostPortInfo
	// Requested is the sum of the pods' requests.
	Requested Resource
	// NonZeroRequested is the same with DefaultMilliCPURequest and
	// DefaultMemoryRequest for containers that request no CPU or memory.
	NonZeroRequested Resource
	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// ImageStates holds, by normalized image name, the images on the
	// node; the summaries are shared across nodes.
	ImageStates map[string]*ImageStateSummary
	// Generation changes whenever the NodeInfo does, to a value no other
	// NodeInfo of the process has had (a clone keeps it until it is
	// changed): plugins may key what they derive from a node by its name
	// and Generation.
	Generation int64
}

// NewNodeInfo returns a NodeInfo of node (which may be nil for pods whose
// node is not known yet) with pods added.
func NewNodeInfo(node *api.Node, pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{}
	if node != nil {
		n.SetNode(node)
	}
	for _, p := range pods {
		n.AddPodInfo(p)
	}
	return n
}

// Node returns the node (nil if it is not known).
func (n *NodeInfo) Node() *api.Node { return n.node }

// SetNode sets the node object and its allocatable resources.
func (n *NodeInfo) SetNode(node *api.Node) {
	n.node = node
	n.Allocatable = NewResource(node.Status.Allocatable)
	n.Generation = nextGeneration()
}

// AddPodInfo counts a pod on the node.
func (n *NodeInfo) AddPodInfo(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	if p.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, p)
	}
	if len(p.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, p)
	}
	n.update(p, 1)
}

// RemovePod stops counting the pod with pod's UID; an error if it is not
// counted here.
func (n *NodeInfo) RemovePod(pod *api.Pod) error {
	i := indexOf(n.Pods, pod.UID)
	if i < 0 {
		return fmt.Errorf("pod %s/%s (uid %s) is not on node %s", pod.Namespace, pod.Name, pod.UID, n.nodeName())
	}
	p := n.Pods[i]
	n.Pods = removeAt(n.Pods, i)
	if j := indexOf(n.PodsWithAffinity, pod.UID); j >= 0 {
		n.PodsWithAffinity = removeAt(n.PodsWithAffinity, j)
	}
	if j := indexOf(n.PodsWithRequiredAntiAffinity, pod.UID); j >= 0 {
		n.PodsWithRequiredAntiAffinity = removeAt(n.PodsWithRequiredAntiAffinity, j)
	}
	n.update(p, -1)
	return nil
}

func (n *NodeInfo) nodeName() string {
	if n.node == nil {
		return "<unknown>"
	}
	return n.node.Name
}

func (n *NodeInfo) update(p *PodInfo, sign int64) {
	if sign > 0 {
		n.Requested.Add(&p.Requests)
		n.NonZeroRequested.Add(&p.NonZeroRequests)
	} else {
		n.Requested.Sub(&p.Requests)
		n.NonZeroRequested.Sub(&p.NonZeroRequests)
	}
	for _, hp := range p.HostPorts {
		if sign > 0 {
			if n.UsedPorts == nil {
				n.UsedPorts = HostPortInfo{}
			}
			n.UsedPorts.Add(hp.HostIP, string(hp.Protocol), hp.HostPort)
		} else {
			n.UsedPorts.Remove(hp.HostIP, string(hp.Protocol), hp.HostPort)
		}
	}
	n.Generation = nextGeneration()
}

// generation is the last Generation handed out.
var generation atomic.Int64

func nextGeneration() int64 { return generation.Add(1) }

func indexOf(pods []*PodInfo, uid string) int {
	for i, p := range pods {
		if p.Pod.UID == uid {
			return i
		}
	}
	return -1
}

// removeAt removes element i without keeping order, in place.
func removeAt(pods []*PodInfo, i int) []*PodInfo {
	last := len(pods) - 1
	pods[i] = pods[last]
	pods[last] = nil
	return pods[:last]
}

// Clone returns a copy whose pod lists and sums can be changed without
// touching n (the pods and the node themselves are shared, read-only).
func (n *NodeInfo) Clone() *NodeInfo {
	c := &NodeInfo{
		node:                         n.node,
		Pods:                         append([]*PodInfo(nil), n.Pods...),
		PodsWithAffinity:             append([]*PodInfo(nil), n.PodsWithAffinity...),
		PodsWithRequiredAntiAffinity: append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...),
		UsedPorts:                    n.UsedPorts.Clone(),
		Requested:                    n.Requested.Clone(),
		NonZeroRequested:             n.NonZeroRequested.Clone(),
		Allocatable:                  n.Allocatable.Clone(),
		ImageStates:                  n.ImageStates,
		Generation:                   n.Generation,
	}
	return c
}

// ProtocolPort is a protocol and port pair.
type ProtocolPort struct {
	Protocol string
	Port     int32
}

// HostPortInfo is the host ports in use on a node, by host IP ("0.0.0.0"
// for all addresses), protocol ("TCP" when unset) and port.
type HostPortInfo map[string]map[ProtocolPort]int

const anyIP = "0.0.0.0"

func sanitize(ip, protocol string) (string, string) {
	if ip == "" {
		ip = anyIP
	}
	if protocol == "" {
		protocol = string(api.ProtocolTCP)
	}
	return ip, protocol
}

// Add records a port in use (ports <= 0 are ignored).
func (h HostPortInfo) Add(ip, protocol string, port int32) {
	if port <= 0 {
		return
	}
	ip, protocol = sanitize(ip, protocol)
	m := h[ip]
	if m == nil {
		m = map[ProtocolPort]int{}
		h[ip] = m
	}
	m[ProtocolPort{protocol, port}]++
}

// Remove forgets one use of a port.
func (h HostPortInfo) Remove(ip, protocol string, port int32) {
	if port <= 0 || h == nil {
		return
	}
	ip, protocol = sanitize(ip, protocol)
	m := h[ip]
	pp := ProtocolPort{protocol, port}
	if m[pp] <= 1 {
		delete(m, pp)
	} else {
		m[pp]--
	}
	if len(m) == 0 {
		delete(h, ip)
	}
}

// CheckConflict reports whether using the port would conflict: the same
// protocol and port on the same IP, or on any IP when either side is
// 0.0.0.0.
func (h HostPortInfo) CheckConflict(ip, protocol string, port int32) bool {
	if port <= 0 || len(h) == 0 {
		return false
	}
	ip, protocol = sanitize(ip, protocol)
	pp := ProtocolPort{protocol, port}
	if ip == anyIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[anyIP][pp] > 0 || h[ip][pp] > 0
}

// Clone returns a deep copy.
func (h HostPortInfo) Clone() HostPortInfo {
	if h == nil {
		return nil
	}
	c := make(HostPortInfo, len(h))
	for ip, m := range h {
		cm := make(map[ProtocolPort]int, len(m))
		for k, v := range m {
			cm[k] = v
		}
		c[ip] = cm
	}
	return c
}
