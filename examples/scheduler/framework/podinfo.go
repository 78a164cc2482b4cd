package framework

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// AffinityTerm is a compiled pod (anti-)affinity term: the pods it
// selects (by namespace and labels) and the topology key that groups
// nodes into domains.
type AffinityTerm struct {
	// Namespaces is the namespaces the term looks in; with a nil
	// NamespaceSelector and no names, the pod's own namespace.
	Namespaces map[string]bool
	// NamespaceSelector, when not Nothing, adds namespaces by label.
	NamespaceSelector *Selector
	// Selector selects pods by label.
	Selector *Selector
	// TopologyKey is the node label that defines a domain.
	TopologyKey string
}

// Matches reports whether the term selects pod, given the labels of the
// pod's namespace (nil if not known, which a NamespaceSelector never
// matches).
func (t *AffinityTerm) Matches(pod *api.Pod, nsLabels map[string]string) bool {
	if !t.Namespaces[pod.Namespace] && (t.NamespaceSelector.IsNothing() || nsLabels == nil || !t.NamespaceSelector.Matches(nsLabels)) {
		return false
	}
	return t.Selector.Matches(pod.Labels)
}

// WeightedAffinityTerm is a preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// PodInfo is a pod with what the plugins compute from it once: its
// requests, host ports and compiled affinity terms. It is read-only once
// built.
type PodInfo struct {
	Pod *api.Pod
	// Requests is PodRequests(pod, false); NonZeroRequests is
	// PodRequests(pod, true).
	Requests, NonZeroRequests Resource
	// HostPorts is the ports of the containers with a hostPort.
	HostPorts []api.ContainerPort
	// RequiredAffinityTerms and RequiredAntiAffinityTerms are the pod's
	// required pod affinity and anti-affinity terms.
	RequiredAffinityTerms, RequiredAntiAffinityTerms []AffinityTerm
	// PreferredAffinityTerms and PreferredAntiAffinityTerms are the
	// preferred ones.
	PreferredAffinityTerms, PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseError is the first affinity term that did not compile; plugins
	// reject the pod with it instead of ignoring the term.
	ParseError error
}

// NewPodInfo computes a pod's PodInfo. A term that does not compile is
// kept in ParseError, not returned, so that the pod can still be counted
// on its node.
func NewPodInfo(pod *api.Pod) *PodInfo {
	p := &PodInfo{
		Pod:             pod,
		Requests:        PodRequests(pod, false),
		NonZeroRequests: PodRequests(pod, true),
	}
	p.Requests.AllowedPodNumber = 1
	p.NonZeroRequests.AllowedPodNumber = 1
	for i := range pod.Spec.Containers {
		for _, port := range pod.Spec.Containers[i].Ports {
			if port.HostPort > 0 {
				p.HostPorts = append(p.HostPorts, port)
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy == nil || *c.RestartPolicy != api.ContainerRestartPolicyAlways {
			continue
		}
		for _, port := range c.Ports {
			if port.HostPort > 0 {
				p.HostPorts = append(p.HostPorts, port)
			}
		}
	}
	a := pod.Spec.Affinity
	if a == nil {
		return p
	}
	if pa := a.PodAffinity; pa != nil {
		p.RequiredAffinityTerms = p.compileTerms(pod, "podAffinity.requiredDuringSchedulingIgnoredDuringExecution", pa.RequiredDuringSchedulingIgnoredDuringExecution)
		p.PreferredAffinityTerms = p.compileWeighted(pod, "podAffinity.preferredDuringSchedulingIgnoredDuringExecution", pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		p.RequiredAntiAffinityTerms = p.compileTerms(pod, "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", pa.RequiredDuringSchedulingIgnoredDuringExecution)
		p.PreferredAntiAffinityTerms = p.compileWeighted(pod, "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", pa.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return p
}

// HasAffinity reports whether the pod has any pod affinity or
// anti-affinity term.
func (p *PodInfo) HasAffinity() bool {
	return len(p.RequiredAffinityTerms)+len(p.RequiredAntiAffinityTerms)+len(p.PreferredAffinityTerms)+len(p.PreferredAntiAffinityTerms) > 0
}

func (p *PodInfo) compileTerms(pod *api.Pod, field string, terms []api.PodAffinityTerm) []AffinityTerm {
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := compileAffinityTerm(pod, &terms[i])
		if err != nil {
			if p.ParseError == nil {
				p.ParseError = fmt.Errorf("spec.affinity.%s[%d]: %w", field, i, err)
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

func (p *PodInfo) compileWeighted(pod *api.Pod, field string, terms []api.WeightedPodAffinityTerm) []WeightedAffinityTerm {
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := compileAffinityTerm(pod, &terms[i].PodAffinityTerm)
		if err != nil {
			if p.ParseError == nil {
				p.ParseError = fmt.Errorf("spec.affinity.%s[%d].podAffinityTerm: %w", field, i, err)
			}
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out
}

func compileAffinityTerm(pod *api.Pod, t *api.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := NewSelector(t.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("labelSelector: %w", err)
	}
	// matchLabelKeys and mismatchLabelKeys add the incoming pod's values.
	for _, k := range t.MatchLabelKeys {
		if v, ok := pod.Labels[k]; ok {
			sel = sel.With(true, k, v)
		}
	}
	for _, k := range t.MismatchLabelKeys {
		if v, ok := pod.Labels[k]; ok {
			sel = sel.With(false, k, v)
		}
	}
	nsSel, err := NewSelector(t.NamespaceSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("namespaceSelector: %w", err)
	}
	out := AffinityTerm{Selector: sel, NamespaceSelector: nsSel, TopologyKey: t.TopologyKey, Namespaces: map[string]bool{}}
	for _, ns := range t.Namespaces {
		out.Namespaces[ns] = true
	}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		out.Namespaces[pod.Namespace] = true
	}
	return out, nil
}
