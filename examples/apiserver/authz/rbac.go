package authz

import (
	"fmt"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
)

// Source is what the RBAC authorizer reads: roles by name and bindings by
// subject. InformerSource serves it from informer caches; MapSource from
// maps.
type Source interface {
	Role(namespace, name string) (*rbac.Role, bool)
	ClusterRole(name string) (*rbac.ClusterRole, bool)
	// RoleBindings returns the role bindings of namespace that have a
	// subject with key subject (SubjectKeys).
	RoleBindings(namespace, subject string) []*rbac.RoleBinding
	// ClusterRoleBindings returns the cluster role bindings that have a
	// subject with key subject.
	ClusterRoleBindings(subject string) []*rbac.ClusterRoleBinding
}

// SubjectKeys returns the index keys of subjects bound in namespace ns
// ("" for a cluster role binding): "user:<name>", "group:<name>", and for
// a service account the user name it authenticates as,
// "user:system:serviceaccount:<ns>:<name>" (its namespace defaulting to
// the binding's).
func SubjectKeys(subjects []rbac.Subject, ns string) []string {
	keys := make([]string, 0, len(subjects))
	for _, s := range subjects {
		switch s.Kind {
		case rbac.UserKind:
			keys = append(keys, "user:"+s.Name)
		case rbac.GroupKind:
			keys = append(keys, "group:"+s.Name)
		case rbac.ServiceAccountKind:
			sns := s.Namespace
			if sns == "" {
				sns = ns
			}
			keys = append(keys, "user:system:serviceaccount:"+sns+":"+s.Name)
		}
	}
	return keys
}

// userKeys returns the subject keys a user matches.
func userKeys(u *User) []string {
	keys := make([]string, 0, 1+len(u.Groups))
	keys = append(keys, "user:"+u.Name)
	for _, g := range u.Groups {
		keys = append(keys, "group:"+g)
	}
	return keys
}

// RBAC authorizes with Kubernetes' role-based access control: a request
// is allowed when a rule of a role bound to the user (by name), to one of
// its groups, or to its service account allows it. Cluster role bindings
// apply everywhere; role bindings in their namespace only. RBAC never
// denies: it answers Allow or NoOpinion.
type RBAC struct {
	src Source
}

var _ Authorizer = (*RBAC)(nil)

// NewRBAC returns an RBAC authorizer reading src.
func NewRBAC(src Source) *RBAC { return &RBAC{src: src} }

// Authorize implements Authorizer.
func (z *RBAC) Authorize(a *Attributes) (Decision, string) {
	keys := userKeys(&a.User)
	for _, k := range keys {
		for _, b := range z.src.ClusterRoleBindings(k) {
			if b.RoleRef.Kind != "ClusterRole" {
				continue
			}
			cr, ok := z.src.ClusterRole(b.RoleRef.Name)
			if ok && anyRuleAllows(cr.Rules, a) {
				return Allow, fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of ClusterRole %q to %s", b.Name, cr.Name, describeKey(k))
			}
		}
	}
	if a.Namespace == "" {
		return NoOpinion, ""
	}
	for _, k := range keys {
		for _, b := range z.src.RoleBindings(a.Namespace, k) {
			rules, ok := z.roleRules(b.RoleRef, a.Namespace)
			if ok && anyRuleAllows(rules, a) {
				return Allow, fmt.Sprintf("RBAC: allowed by RoleBinding \"%s/%s\" of %s %q to %s", b.Namespace, b.Name, b.RoleRef.Kind, b.RoleRef.Name, describeKey(k))
			}
		}
	}
	return NoOpinion, ""
}

func describeKey(k string) string {
	switch {
	case len(k) > 5 && k[:5] == "user:":
		return fmt.Sprintf("User %q", k[5:])
	case len(k) > 6 && k[:6] == "group:":
		return fmt.Sprintf("Group %q", k[6:])
	}
	return k
}

func anyRuleAllows(rules []rbac.PolicyRule, a *Attributes) bool {
	for i := range rules {
		if RuleAllows(&rules[i], a) {
			return true
		}
	}
	return false
}

// roleRules returns the rules ref names in namespace ns.
func (z *RBAC) roleRules(ref rbac.RoleRef, ns string) ([]rbac.PolicyRule, bool) {
	switch ref.Kind {
	case "Role":
		r, ok := z.src.Role(ns, ref.Name)
		if !ok {
			return nil, false
		}
		return r.Rules, true
	case "ClusterRole":
		r, ok := z.src.ClusterRole(ref.Name)
		if !ok {
			return nil, false
		}
		return r.Rules, true
	}
	return nil, false
}

// RoleRefRules returns the rules of the role ref names (a Role in
// namespace ns, or a ClusterRole), and false if it does not exist.
func (z *RBAC) RoleRefRules(ref rbac.RoleRef, ns string) ([]rbac.PolicyRule, bool) {
	return z.roleRules(ref, ns)
}

// RulesFor returns every rule granted to u in namespace ns (cluster-wide
// grants included; ns "" gives the cluster-wide ones only), each binding
// counted once, as SelfSubjectRulesReview reports them.
func (z *RBAC) RulesFor(u *User, ns string) []rbac.PolicyRule {
	var rules []rbac.PolicyRule
	seen := map[string]bool{}
	for _, k := range userKeys(u) {
		for _, b := range z.src.ClusterRoleBindings(k) {
			if seen["c/"+b.Name] || b.RoleRef.Kind != "ClusterRole" {
				continue
			}
			seen["c/"+b.Name] = true
			if cr, ok := z.src.ClusterRole(b.RoleRef.Name); ok {
				rules = append(rules, cr.Rules...)
			}
		}
		if ns == "" {
			continue
		}
		for _, b := range z.src.RoleBindings(ns, k) {
			if seen["r/"+b.Name] {
				continue
			}
			seen["r/"+b.Name] = true
			if r, ok := z.roleRules(b.RoleRef, ns); ok {
				rules = append(rules, r...)
			}
		}
	}
	return slices.Clip(rules)
}
