package daemonset

import (
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
)

// The node taints Kubernetes' node lifecycle controller and kubelets set,
// which daemon set pods tolerate automatically.
const (
	TaintNodeNotReady           = "node.kubernetes.io/not-ready"
	TaintNodeUnreachable        = "node.kubernetes.io/unreachable"
	TaintNodeDiskPressure       = "node.kubernetes.io/disk-pressure"
	TaintNodeMemoryPressure     = "node.kubernetes.io/memory-pressure"
	TaintNodePIDPressure        = "node.kubernetes.io/pid-pressure"
	TaintNodeUnschedulable      = "node.kubernetes.io/unschedulable"
	TaintNodeNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)

// addTolerations adds the tolerations Kubernetes' daemon set controller
// gives every daemon pod (AddOrUpdateDaemonPodTolerations): not-ready and
// unreachable NoExecute without a time limit; disk, memory and pid
// pressure and unschedulable NoSchedule; network-unavailable NoSchedule
// for host-network pods.
func addTolerations(spec *api.PodSpec) {
	add := func(key string, effect api.TaintEffect) {
		t := api.Toleration{Key: key, Operator: api.TolerationOpExists, Effect: effect}
		if !slices.ContainsFunc(spec.Tolerations, func(x api.Toleration) bool { return x.Key == key && x.Effect == effect }) {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
	add(TaintNodeNotReady, api.TaintEffectNoExecute)
	add(TaintNodeUnreachable, api.TaintEffectNoExecute)
	add(TaintNodeDiskPressure, api.TaintEffectNoSchedule)
	add(TaintNodeMemoryPressure, api.TaintEffectNoSchedule)
	add(TaintNodePIDPressure, api.TaintEffectNoSchedule)
	add(TaintNodeUnschedulable, api.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(TaintNodeNetworkUnavailable, api.TaintEffectNoSchedule)
	}
}

// shouldRun reports whether the daemon pod (its template, tolerations
// added) belongs on node, and whether an existing one may keep running
// there, as Kubernetes' NodeShouldRunDaemonPod: the node selector and the
// required node affinity must match; a NoSchedule or NoExecute taint not
// tolerated keeps a new pod off, and only an untolerated NoExecute taint
// evicts a running one.
func shouldRun(pod *api.Pod, node *api.Node) (run, keep bool) {
	if !framework.GetRequiredNodeAffinity(pod).Matches(node) {
		return false, false
	}
	run, keep = true, true
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect == api.TaintEffectPreferNoSchedule || plugins.TolerationsTolerate(pod.Spec.Tolerations, t) {
			continue
		}
		run = false
		if t.Effect == api.TaintEffectNoExecute {
			keep = false
		}
	}
	return run, keep
}

// withNodeAffinity returns spec with the required node affinity replaced
// by a term matching only node's metadata.name, so the scheduler places
// the pod there (Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity).
func withNodeAffinity(spec *api.PodSpec, node string) {
	term := api.NodeSelectorTerm{MatchFields: []api.NodeSelectorRequirement{{Key: "metadata.name", Operator: api.NodeSelectorOpIn, Values: []string{node}}}}
	if spec.Affinity == nil {
		spec.Affinity = &api.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &api.NodeAffinity{}
	}
	spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &api.NodeSelector{NodeSelectorTerms: []api.NodeSelectorTerm{term}}
}

// targetNode is the node a daemon pod is on or, before it is bound, the
// node its affinity names.
func targetNode(p *api.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, r := range t.MatchFields {
				if r.Key == "metadata.name" && r.Operator == api.NodeSelectorOpIn && len(r.Values) == 1 {
					return r.Values[0]
				}
			}
		}
	}
	return ""
}
