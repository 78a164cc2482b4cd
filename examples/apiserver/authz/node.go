package authz

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// NodesGroup is the group of kubelets; NodeUserPrefix starts their user
// names (system:node:<node>).
const (
	NodesGroup     = "system:nodes"
	NodeUserPrefix = "system:node:"
)

// Pods is what the Node authorizer reads: pods by node and by key.
type Pods interface {
	// OnNode returns the pods bound to node.
	OnNode(node string) []*api.Pod
	// Pod returns a pod.
	Pod(namespace, name string) (*api.Pod, bool)
}

// Node authorizes kubelets (user system:node:<name> in group
// system:nodes), as Kubernetes' Node authorizer does: a kubelet may read
// the secrets, config maps and persistent volume claims that pods bound
// to its node use (get by name, or list and watch with the field selector
// metadata.name=<name>, which the server puts in Attributes.Name), and create tokens of their service accounts; it may
// write its own Node and its own Lease only, and the status of pods bound
// to it only; everything else is system:node's rules (NodeRules). A
// request on another node's objects is denied with a reason naming the
// rule; requests of other users get NoOpinion.
type Node struct {
	pods Pods
}

var _ Authorizer = (*Node)(nil)

// NewNode returns a Node authorizer over pods.
func NewNode(pods Pods) *Node { return &Node{pods: pods} }

// NodeName returns the node a user is the kubelet of, and false for
// other users.
func NodeName(u *User) (string, bool) {
	name, ok := strings.CutPrefix(u.Name, NodeUserPrefix)
	if !ok || name == "" {
		return "", false
	}
	for _, g := range u.Groups {
		if g == NodesGroup {
			return name, true
		}
	}
	return "", false
}

// Authorize implements Authorizer.
func (z *Node) Authorize(a *Attributes) (Decision, string) {
	node, ok := NodeName(&a.User)
	if !ok {
		return NoOpinion, ""
	}
	if !a.ResourceRequest {
		return NoOpinion, ""
	}
	write := a.Verb != "get" && a.Verb != "list" && a.Verb != "watch"
	switch {
	case a.APIGroup == "" && (a.Resource == "secrets" || a.Resource == "configmaps" || a.Resource == "persistentvolumeclaims") && a.Subresource == "":
		if write || a.Name == "" {
			return Deny, fmt.Sprintf("node %q may only get individual %s its pods use", node, a.Resource)
		}
		if z.podUses(node, a.Namespace, a.Resource, a.Name) {
			return Allow, ""
		}
		return Deny, fmt.Sprintf("no relationship found between node %q and this object", node)
	case a.APIGroup == "" && a.Resource == "serviceaccounts" && a.Subresource == "token":
		if a.Verb == "create" && z.podUses(node, a.Namespace, "serviceaccounts", a.Name) {
			return Allow, ""
		}
		return Deny, fmt.Sprintf("no relationship found between node %q and this object", node)
	case a.APIGroup == "" && a.Resource == "nodes" && write:
		if a.Name != node && !(a.Verb == "create" && a.Name == "") {
			return Deny, fmt.Sprintf("node %q may not modify node %q", node, a.Name)
		}
	case a.APIGroup == "coordination.k8s.io" && a.Resource == "leases" && write:
		if a.Namespace != "kube-node-lease" || (a.Name != node && !(a.Verb == "create" && a.Name == "")) {
			return Deny, fmt.Sprintf("node %q may only modify its own lease kube-node-lease/%s", node, node)
		}
	case a.APIGroup == "" && a.Resource == "pods" && a.Subresource == "status" && write:
		p, ok := z.pods.Pod(a.Namespace, a.Name)
		if !ok || p.Spec.NodeName != node {
			return Deny, fmt.Sprintf("node %q may only update the status of pods bound to it", node)
		}
	case a.APIGroup == "" && a.Resource == "pods" && a.Subresource == "" && (a.Verb == "update" || a.Verb == "patch"):
		return Deny, fmt.Sprintf("node %q may not update pods, only their status", node)
	}
	if anyRuleAllows(nodeRules, a) {
		return Allow, ""
	}
	return NoOpinion, ""
}

var nodeRules = NodeRules()

// podUses reports whether a pod bound to node in namespace ns refers to
// the named object of resource (secrets, configmaps,
// persistentvolumeclaims, or serviceaccounts for its service account).
func (z *Node) podUses(node, ns, resource, name string) bool {
	for _, p := range z.pods.OnNode(node) {
		if p.Namespace != ns {
			continue
		}
		if resource == "serviceaccounts" {
			sa := p.Spec.ServiceAccountName
			if sa == "" {
				sa = "default"
			}
			if sa == name {
				return true
			}
			continue
		}
		if refs := podRefs(p); refs[resource+"/"+name] {
			return true
		}
	}
	return false
}

// podRefs returns the secrets, config maps and claims a pod refers to
// (volumes, projected volumes, env, envFrom, image pull secrets), as
// "<resource>/<name>", found by walking the spec's JSON so that every
// place the schema allows a reference is covered.
func podRefs(p *api.Pod) map[string]bool {
	data, err := json.Marshal(p.Spec)
	if err != nil {
		return nil
	}
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	refs := map[string]bool{}
	var walk func(key string, v any)
	nameOf := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["name"].(string)
		return s
	}
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			switch key {
			case "secret":
				if s, _ := x["secretName"].(string); s != "" {
					refs["secrets/"+s] = true
				}
				if s := nameOf(x); s != "" {
					refs["secrets/"+s] = true // projected secret
				}
			case "secretRef", "secretKeyRef":
				refs["secrets/"+nameOf(x)] = true
			case "configMap", "configMapRef", "configMapKeyRef":
				refs["configmaps/"+nameOf(x)] = true
			case "persistentVolumeClaim":
				if s, _ := x["claimName"].(string); s != "" {
					refs["persistentvolumeclaims/"+s] = true
				}
			}
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				if key == "imagePullSecrets" {
					refs["secrets/"+nameOf(e)] = true
				}
				walk(key, e)
			}
		}
	}
	walk("", v)
	return refs
}
