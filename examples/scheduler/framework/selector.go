package framework

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// Well-known labels and taints the default plugins use.
const (
	// LabelHostname is the node label with the node's host name.
	LabelHostname = "kubernetes.io/hostname"
	// LabelTopologyZone is the node label with the node's zone.
	LabelTopologyZone = "topology.kubernetes.io/zone"
	// TaintNodeUnschedulable is the taint that spec.unschedulable stands for.
	TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"
	// ObjectNameField is the only field node selectors' matchFields know.
	ObjectNameField = "metadata.name"
)

type opKind uint8

const (
	opIn opKind = iota
	opNotIn
	opExists
	opDoesNotExist
	opGt
	opLt
)

type requirement struct {
	key    string
	op     opKind
	values []string // sorted for In and NotIn
	num    int64    // for Gt and Lt
}

func (r *requirement) matches(labels map[string]string) bool {
	v, ok := labels[r.key]
	switch r.op {
	case opIn:
		return ok && r.has(v)
	case opNotIn:
		return !ok || !r.has(v)
	case opExists:
		return ok
	case opDoesNotExist:
		return !ok
	case opGt, opLt:
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == opGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

func (r *requirement) has(v string) bool {
	if len(r.values) < 8 {
		return slices.Contains(r.values, v)
	}
	_, ok := slices.BinarySearch(r.values, v)
	return ok
}

// Selector is a compiled label selector (Kubernetes' LabelSelector): a
// nil *LabelSelector selects nothing, an empty one everything.
type Selector struct {
	reqs    []requirement
	nothing bool
}

// Nothing is a selector that matches no labels.
var Nothing = &Selector{nothing: true}

// Everything is a selector that matches all labels.
var Everything = &Selector{}

// NewSelector compiles a label selector. Errors name the bad requirement,
// as Kubernetes' LabelSelectorAsSelector does.
func NewSelector(ls *api.LabelSelector) (*Selector, error) {
	if ls == nil {
		return Nothing, nil
	}
	if len(ls.MatchLabels)+len(ls.MatchExpressions) == 0 {
		return Everything, nil
	}
	s := &Selector{reqs: make([]requirement, 0, len(ls.MatchLabels)+len(ls.MatchExpressions))}
	for k, v := range ls.MatchLabels {
		s.reqs = append(s.reqs, requirement{key: k, op: opIn, values: []string{v}})
	}
	for i, e := range ls.MatchExpressions {
		r := requirement{key: e.Key, values: slices.Sorted(slices.Values(e.Values))}
		switch e.Operator {
		case api.LabelSelectorOpIn, api.LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				return nil, fmt.Errorf("matchExpressions[%d] (key %q): values must be non-empty for operator %s", i, e.Key, e.Operator)
			}
			r.op = opIn
			if e.Operator == api.LabelSelectorOpNotIn {
				r.op = opNotIn
			}
		case api.LabelSelectorOpExists, api.LabelSelectorOpDoesNotExist:
			if len(e.Values) != 0 {
				return nil, fmt.Errorf("matchExpressions[%d] (key %q): values must be empty for operator %s", i, e.Key, e.Operator)
			}
			r.op = opExists
			if e.Operator == api.LabelSelectorOpDoesNotExist {
				r.op = opDoesNotExist
			}
		default:
			return nil, fmt.Errorf("matchExpressions[%d] (key %q): %q is not a valid label selector operator", i, e.Key, e.Operator)
		}
		if e.Key == "" {
			return nil, fmt.Errorf("matchExpressions[%d]: key is required", i)
		}
		s.reqs = append(s.reqs, r)
	}
	s.sort()
	return s, nil
}

// sort orders requirements by key, so equal selectors compile alike.
func (s *Selector) sort() {
	slices.SortFunc(s.reqs, func(a, b requirement) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return int(a.op) - int(b.op)
	})
}

// SelectorFromSet returns a selector requiring each label of set.
func SelectorFromSet(set map[string]string) *Selector {
	s := &Selector{}
	for k, v := range set {
		s.reqs = append(s.reqs, requirement{key: k, op: opIn, values: []string{v}})
	}
	s.sort()
	return s
}

// Matches reports whether labels satisfy every requirement.
func (s *Selector) Matches(labels map[string]string) bool {
	if s == nil || s.nothing {
		return false
	}
	for i := range s.reqs {
		if !s.reqs[i].matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether s matches everything.
func (s *Selector) Empty() bool { return s != nil && !s.nothing && len(s.reqs) == 0 }

// IsNothing reports whether s matches nothing.
func (s *Selector) IsNothing() bool { return s == nil || s.nothing }

// With returns a copy of s with key=value (in is true) or key!=value
// requirements added.
func (s *Selector) With(in bool, key, value string) *Selector {
	if s.IsNothing() {
		return s
	}
	op := opIn
	if !in {
		op = opNotIn
	}
	c := &Selector{reqs: append(slices.Clip(s.reqs), requirement{key: key, op: op, values: []string{value}})}
	c.sort()
	return c
}

// Equals returns the label values an equality requirement of s pins
// (key -> value), for indexing; nil when s has none.
func (s *Selector) Equals() map[string]string {
	var out map[string]string
	if s == nil {
		return nil
	}
	for _, r := range s.reqs {
		if r.op == opIn && len(r.values) == 1 {
			if out == nil {
				out = map[string]string{}
			}
			out[r.key] = r.values[0]
		}
	}
	return out
}

// NodeSelectorTerm is a compiled term of a node selector: label and field
// requirements that must all hold.
type NodeSelectorTerm struct {
	labels []requirement
	fields []requirement
}

// compileNodeSelectorTerm compiles a term, with errors naming the
// requirement, as Kubernetes' node affinity helpers do.
func compileNodeSelectorTerm(t *api.NodeSelectorTerm) (*NodeSelectorTerm, error) {
	out := &NodeSelectorTerm{}
	for i, e := range t.MatchExpressions {
		r, err := nodeRequirement(e)
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
		out.labels = append(out.labels, r)
	}
	for i, e := range t.MatchFields {
		if e.Key != ObjectNameField {
			return nil, fmt.Errorf("matchFields[%d]: field %q is not supported (only %s)", i, e.Key, ObjectNameField)
		}
		if e.Operator != api.NodeSelectorOpIn && e.Operator != api.NodeSelectorOpNotIn {
			return nil, fmt.Errorf("matchFields[%d]: operator %q is not supported for fields (only In and NotIn)", i, e.Operator)
		}
		r, err := nodeRequirement(e)
		if err != nil {
			return nil, fmt.Errorf("matchFields[%d]: %w", i, err)
		}
		out.fields = append(out.fields, r)
	}
	return out, nil
}

func nodeRequirement(e api.NodeSelectorRequirement) (requirement, error) {
	r := requirement{key: e.Key, values: slices.Sorted(slices.Values(e.Values))}
	if e.Key == "" {
		return r, fmt.Errorf("key is required")
	}
	switch e.Operator {
	case api.NodeSelectorOpIn, api.NodeSelectorOpNotIn:
		if len(e.Values) == 0 {
			return r, fmt.Errorf("key %q: values must be non-empty for operator %s", e.Key, e.Operator)
		}
		r.op = opIn
		if e.Operator == api.NodeSelectorOpNotIn {
			r.op = opNotIn
		}
	case api.NodeSelectorOpExists, api.NodeSelectorOpDoesNotExist:
		if len(e.Values) != 0 {
			return r, fmt.Errorf("key %q: values must be empty for operator %s", e.Key, e.Operator)
		}
		r.op = opExists
		if e.Operator == api.NodeSelectorOpDoesNotExist {
			r.op = opDoesNotExist
		}
	case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
		if len(e.Values) != 1 {
			return r, fmt.Errorf("key %q: operator %s needs exactly one value", e.Key, e.Operator)
		}
		n, err := strconv.ParseInt(e.Values[0], 10, 64)
		if err != nil {
			return r, fmt.Errorf("key %q: operator %s needs an integer value, not %q", e.Key, e.Operator, e.Values[0])
		}
		r.op, r.num = opGt, n
		if e.Operator == api.NodeSelectorOpLt {
			r.op = opLt
		}
	default:
		return r, fmt.Errorf("key %q: %q is not a valid node selector operator", e.Key, e.Operator)
	}
	return r, nil
}

// Matches reports whether the node satisfies every requirement of the
// term; a term with no requirements matches nothing.
func (t *NodeSelectorTerm) Matches(node *api.Node) bool {
	if len(t.labels)+len(t.fields) == 0 {
		return false
	}
	for i := range t.labels {
		if !t.labels[i].matches(node.Labels) {
			return false
		}
	}
	if len(t.fields) > 0 {
		f := map[string]string{ObjectNameField: node.Name}
		for i := range t.fields {
			if !t.fields[i].matches(f) {
				return false
			}
		}
	}
	return true
}

// NodeNames returns the node names the term's metadata.name In
// requirements allow (their intersection), or nil when it has none.
func (t *NodeSelectorTerm) NodeNames() []string {
	var names []string
	first := true
	for _, r := range t.fields {
		if r.op != opIn {
			continue
		}
		if first {
			names, first = append([]string(nil), r.values...), false
			continue
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(r.values, n) })
	}
	if first {
		return nil
	}
	if names == nil {
		names = []string{}
	}
	return names
}

// NodeSelector is a compiled node selector: terms ORed together. Terms
// that do not compile match nothing (Kubernetes ignores them too); their
// errors are kept in Errors.
type NodeSelector struct {
	Terms  []*NodeSelectorTerm
	Errors []error
}

// NewNodeSelector compiles a node selector.
func NewNodeSelector(ns *api.NodeSelector) *NodeSelector {
	out := &NodeSelector{}
	for i := range ns.NodeSelectorTerms {
		t, err := compileNodeSelectorTerm(&ns.NodeSelectorTerms[i])
		if err != nil {
			out.Errors = append(out.Errors, fmt.Errorf("nodeSelectorTerms[%d]: %w", i, err))
			continue
		}
		out.Terms = append(out.Terms, t)
	}
	return out
}

// Matches reports whether any term matches the node.
func (s *NodeSelector) Matches(node *api.Node) bool {
	for _, t := range s.Terms {
		if t.Matches(node) {
			return true
		}
	}
	return false
}

// RequiredNodeAffinity is what a pod requires of its node: its
// spec.nodeSelector labels and its required node affinity terms.
type RequiredNodeAffinity struct {
	labels   map[string]string
	affinity *NodeSelector
}

// GetRequiredNodeAffinity compiles the pod's node requirements.
func GetRequiredNodeAffinity(pod *api.Pod) RequiredNodeAffinity {
	r := RequiredNodeAffinity{labels: pod.Spec.NodeSelector}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.affinity = NewNodeSelector(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	}
	return r
}

// Err returns the errors of the required terms that did not compile
// (those terms match no node), or nil.
func (r RequiredNodeAffinity) Err() error {
	if r.affinity == nil {
		return nil
	}
	return errors.Join(r.affinity.Errors...)
}

// Matches reports whether node satisfies both the node selector and the
// required node affinity.
func (r RequiredNodeAffinity) Matches(node *api.Node) bool {
	for k, v := range r.labels {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false
		}
	}
	return r.affinity == nil || r.affinity.Matches(node)
}

// PreferredSchedulingTerms is a pod's compiled preferred node affinity.
type PreferredSchedulingTerms struct {
	terms   []*NodeSelectorTerm
	weights []int64
}

// NewPreferredSchedulingTerms compiles preferred terms; terms with weight
// 0 or no requirements are dropped, and any term that does not compile is
// an error, as in Kubernetes.
func NewPreferredSchedulingTerms(terms []api.PreferredSchedulingTerm) (*PreferredSchedulingTerms, error) {
	out := &PreferredSchedulingTerms{}
	for i := range terms {
		t := &terms[i]
		if t.Weight == 0 || len(t.Preference.MatchExpressions)+len(t.Preference.MatchFields) == 0 {
			continue
		}
		c, err := compileNodeSelectorTerm(&t.Preference)
		if err != nil {
			return nil, fmt.Errorf("preferredDuringSchedulingIgnoredDuringExecution[%d].preference: %w", i, err)
		}
		out.terms = append(out.terms, c)
		out.weights = append(out.weights, int64(t.Weight))
	}
	return out, nil
}

// Score returns the sum of the weights of the terms node matches.
func (p *PreferredSchedulingTerms) Score(node *api.Node) int64 {
	var s int64
	for i, t := range p.terms {
		if t.Matches(node) {
			s += p.weights[i]
		}
	}
	return s
}
