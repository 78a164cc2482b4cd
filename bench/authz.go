package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	k8srbac "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
)

// authz-rbac-decisions: RBAC authorization decisions per second on one
// goroutine, with 1,000 Roles and 1,000 RoleBindings (100 of each in each
// of 10 namespaces) plus 20 ClusterRoles and 20 ClusterRoleBindings to
// groups. Ours is examples/apiserver/authz's RBAC over its MapSource (the
// server serves the same Source from informer caches indexed the same
// way); the anchor is Kubernetes' own RBAC authorizer
// (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac) over client-go
// listers on namespace-indexed caches, as kube-apiserver feeds it. Both get
// the same objects (ours decoded from the anchor's JSON) and the same
// request mix: half allowed by a role binding (get/list on the user's own
// resource, or get on a named configmap), a quarter allowed by a cluster
// role binding to a group, a quarter denied (wrong verb, or another
// namespace). The run fails if the two ever decide differently.
const (
	authzNamespaces = 10
	authzPerNS      = 100
	authzGroups     = 20
	authzRequests   = 20000
	authzRounds     = 10
)

func init() { register("authz-rbac-decisions", benchAuthz) }

// authzObjects builds the policy in Kubernetes' types.
func authzObjects() ([]*rbacv1.Role, []*rbacv1.RoleBinding, []*rbacv1.ClusterRole, []*rbacv1.ClusterRoleBinding) {
	var roles []*rbacv1.Role
	var rbs []*rbacv1.RoleBinding
	for n := range authzNamespaces {
		ns := fmt.Sprintf("ns-%d", n)
		for i := range authzPerNS {
			name := fmt.Sprintf("role-%d", i)
			roles = append(roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: []rbacv1.PolicyRule{
				{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"example.com"}, Resources: []string{fmt.Sprintf("res-%d", i), fmt.Sprintf("res-%d/status", i)}},
				{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{fmt.Sprintf("cm-%d", i)}},
				{Verbs: []string{"create", "update"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
			}})
			rbs = append(rbs, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bind-" + name},
				Subjects: []rbacv1.Subject{{Kind: "User", Name: fmt.Sprintf("user-%d", i)}, {Kind: "ServiceAccount", Namespace: ns, Name: fmt.Sprintf("sa-%d", i)}},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}})
		}
	}
	var crs []*rbacv1.ClusterRole
	var crbs []*rbacv1.ClusterRoleBinding
	for g := range authzGroups {
		name := fmt.Sprintf("cluster-role-%d", g)
		crs = append(crs, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"nodes", fmt.Sprintf("kind-%d", g)}},
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/version"}},
		}})
		crbs = append(crbs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bind-" + name},
			Subjects: []rbacv1.Subject{{Kind: "Group", Name: fmt.Sprintf("group-%d", g)}},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}})
	}
	return roles, rbs, crs, crbs
}

// authzRequestMix returns the requests, the same for both authorizers.
func authzRequestMix() []*authz.Attributes {
	reqs := make([]*authz.Attributes, 0, authzRequests)
	for k := range authzRequests {
		i, n, g := (k*7919)%authzPerNS, (k*31)%authzNamespaces, (k*13)%authzGroups
		u := authz.User{Name: fmt.Sprintf("user-%d", i), Groups: []string{fmt.Sprintf("group-%d", g), "system:authenticated"}}
		if k%10 == 9 {
			u = authz.User{Name: fmt.Sprintf("system:serviceaccount:ns-%d:sa-%d", n, i), Groups: []string{"system:serviceaccounts", "system:authenticated"}}
		}
		a := &authz.Attributes{User: u, ResourceRequest: true, Namespace: fmt.Sprintf("ns-%d", n)}
		switch k % 8 {
		case 0, 1: // allowed by the role binding
			a.Verb, a.APIGroup, a.Resource = "list", "example.com", fmt.Sprintf("res-%d", i)
		case 2: // allowed: a subresource
			a.Verb, a.APIGroup, a.Resource, a.Subresource, a.Name = "get", "example.com", fmt.Sprintf("res-%d", i), "status", "x"
		case 3: // allowed: a named configmap
			a.Verb, a.Resource, a.Name = "get", "configmaps", fmt.Sprintf("cm-%d", i)
		case 4: // allowed by the group's cluster role
			a.Verb, a.Resource, a.Namespace = "list", fmt.Sprintf("kind-%d", g), ""
		case 5: // a non-resource URL (allowed for users through the group)
			*a = authz.Attributes{User: u, Verb: "get", Path: "/version"}
		case 6: // denied: wrong verb
			a.Verb, a.APIGroup, a.Resource = "delete", "example.com", fmt.Sprintf("res-%d", i)
		case 7: // denied: another role's configmap
			a.Verb, a.Resource, a.Name = "get", "configmaps", fmt.Sprintf("cm-%d", (i+1)%authzPerNS)
		}
		reqs = append(reqs, a)
	}
	return reqs
}

// k8sAttributes converts a request to Kubernetes' attributes.
func k8sAttributes(a *authz.Attributes) authorizer.AttributesRecord {
	return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: a.User.Name, Groups: a.User.Groups},
		Verb: a.Verb, Namespace: a.Namespace, APIGroup: a.APIGroup, APIVersion: "v1", Resource: a.Resource,
		Subresource: a.Subresource, Name: a.Name, ResourceRequest: a.ResourceRequest, Path: a.Path}
}

// convert decodes a Kubernetes object's JSON into ours.
func convert[T any](in any) (T, error) {
	var out T
	b, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	return out, err
}

func benchAuthz(ctx context.Context) ([]Result, error) {
	roles, rbs, crs, crbs := authzObjects()
	idx := func() cache.Indexer {
		return cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	ri, rbi, cri, crbi := idx(), idx(), idx(), idx()
	for _, o := range roles {
		ri.Add(o)
	}
	for _, o := range rbs {
		rbi.Add(o)
	}
	for _, o := range crs {
		cri.Add(o)
	}
	for _, o := range crbs {
		crbi.Add(o)
	}
	anchor := k8srbac.New(&k8srbac.RoleGetter{Lister: rbaclisters.NewRoleLister(ri)},
		&k8srbac.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(rbi)},
		&k8srbac.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(cri)},
		&k8srbac.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(crbi)})

	oRoles, err := convert[[]*rbac.Role](roles)
	if err != nil {
		return nil, err
	}
	oRBs, err := convert[[]*rbac.RoleBinding](rbs)
	if err != nil {
		return nil, err
	}
	oCRs, err := convert[[]*rbac.ClusterRole](crs)
	if err != nil {
		return nil, err
	}
	oCRBs, err := convert[[]*rbac.ClusterRoleBinding](crbs)
	if err != nil {
		return nil, err
	}
	ours := authz.NewRBAC(authz.NewMapSource(oRoles, oCRs, oRBs, oCRBs))

	reqs := authzRequestMix()
	kreqs := make([]authorizer.AttributesRecord, len(reqs))
	allowed := 0
	for i, a := range reqs {
		kreqs[i] = k8sAttributes(a)
		d, _ := ours.Authorize(a)
		kd, reason, _ := anchor.Authorize(ctx, kreqs[i])
		if (d == authz.Allow) != (kd == authorizer.DecisionAllow) {
			return nil, fmt.Errorf("authz-rbac-decisions: request %d (%+v): ours %v, Kubernetes %v (%s)", i, *a, d, kd, reason)
		}
		if d == authz.Allow {
			allowed++
		}
	}
	if allowed == 0 || allowed == len(reqs) {
		return nil, fmt.Errorf("authz-rbac-decisions: %d of %d requests allowed: the mix does not test both answers", allowed, len(reqs))
	}
	measure := func(decide func(i int)) float64 {
		best := 0.0
		for range authzRounds {
			start := time.Now()
			for i := range reqs {
				decide(i)
			}
			if r := float64(len(reqs)) / time.Since(start).Seconds(); r > best {
				best = r
			}
		}
		return best
	}
	var sink authz.Decision
	o := measure(func(i int) { d, _ := ours.Authorize(reqs[i]); sink += d })
	var ksink authorizer.Decision
	k := measure(func(i int) { d, _, _ := anchor.Authorize(ctx, kreqs[i]); ksink += d })
	_, _ = sink, ksink
	return []Result{{Name: "authz-rbac-decisions", Ours: o, Anchor: k, Unit: "decisions/s", HigherIsBetter: true}}, nil
}
