package plugins

import (
	"encoding/json"

	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// The basic plugins read only the pod and one node, so they sign pods
// (framework.SignPlugin) with the fields they read.
var (
	_ framework.SignPlugin = NodeName{}
	_ framework.SignPlugin = NodeUnschedulable{}
	_ framework.SignPlugin = NodePorts{}
	_ framework.SignPlugin = TaintToleration{}
	_ framework.SignPlugin = NodeAffinity{}
	_ framework.SignPlugin = (*NodeResourcesFit)(nil)
	_ framework.SignPlugin = BalancedAllocation{}
)

// sign encodes parts as JSON (maps in key order, so equal parts give
// equal signatures).
func sign(parts ...any) (string, bool) {
	b, err := json.Marshal(parts)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Signature is the pod's spec.nodeName.
func (NodeName) Signature(p *framework.PodInfo) (string, bool) { return p.Pod.Spec.NodeName, true }

// Signature is the pod's tolerations.
func (NodeUnschedulable) Signature(p *framework.PodInfo) (string, bool) {
	return sign(p.Pod.Spec.Tolerations)
}

// Signature is the pod's host ports.
func (NodePorts) Signature(p *framework.PodInfo) (string, bool) { return sign(p.HostPorts) }

// Signature is the pod's tolerations.
func (TaintToleration) Signature(p *framework.PodInfo) (string, bool) {
	return sign(p.Pod.Spec.Tolerations)
}

// Signature is the pod's nodeSelector and node affinity.
func (NodeAffinity) Signature(p *framework.PodInfo) (string, bool) {
	var na any
	if a := p.Pod.Spec.Affinity; a != nil {
		na = a.NodeAffinity
	}
	return sign(p.Pod.Spec.NodeSelector, na)
}

// Signature is the pod's requests.
func (*NodeResourcesFit) Signature(p *framework.PodInfo) (string, bool) {
	return sign(p.Requests, p.NonZeroRequests)
}

// Signature is the pod's requests.
func (BalancedAllocation) Signature(p *framework.PodInfo) (string, bool) {
	return sign(p.Requests, p.NonZeroRequests)
}
