package framework

// NamespacesKey is the CycleState key under which the scheduler leaves a
// NamespaceLister before PreFilter, so that namespaceSelectors of pod
// affinity terms can be evaluated.
const NamespacesKey StateKey = "Namespaces"

// NamespaceLister gives a namespace's labels by name, and whether the
// namespace is known. It is read-only and safe for concurrent use.
type NamespaceLister interface {
	NamespaceLabels(name string) (map[string]string, bool)
}

// NamespaceListerFunc adapts a function to NamespaceLister.
type NamespaceListerFunc func(name string) (map[string]string, bool)

// NamespaceLabels calls f.
func (f NamespaceListerFunc) NamespaceLabels(name string) (map[string]string, bool) { return f(name) }

type namespacesData struct{ l NamespaceLister }

func (d namespacesData) Clone() StateData { return d }

// WriteNamespaces leaves l in state under NamespacesKey.
func WriteNamespaces(state *CycleState, l NamespaceLister) {
	state.Write(NamespacesKey, namespacesData{l})
}

// NamespaceLabels returns the labels of namespace name as the state's
// NamespaceLister knows them; nil when there is no lister or the
// namespace is unknown (a namespaceSelector then matches nothing there).
func NamespaceLabels(state *CycleState, name string) map[string]string {
	if state == nil {
		return nil
	}
	v, err := ReadAs[namespacesData](state, NamespacesKey)
	if err != nil || v.l == nil {
		return nil
	}
	labels, ok := v.l.NamespaceLabels(name)
	if !ok {
		return nil
	}
	if labels == nil {
		return map[string]string{}
	}
	return labels
}

// AllNodesKey is the CycleState key under which the scheduler leaves
// every node of the cycle's snapshot, for PreScore plugins that count
// over the whole cluster rather than over the feasible nodes.
const AllNodesKey StateKey = "AllNodes"

type allNodes []*NodeInfo

func (a allNodes) Clone() StateData { return a }

// WriteAllNodes leaves nodes in state under AllNodesKey.
func WriteAllNodes(state *CycleState, nodes []*NodeInfo) { state.Write(AllNodesKey, allNodes(nodes)) }

// AllNodes returns the nodes WriteAllNodes left in state, or fallback
// when there are none.
func AllNodes(state *CycleState, fallback []*NodeInfo) []*NodeInfo {
	if state == nil {
		return fallback
	}
	if v, err := ReadAs[allNodes](state, AllNodesKey); err == nil {
		return v
	}
	return fallback
}
