package authz

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
)

// autoupdate reports whether the server may repair a bootstrap object.
func autoupdate(annotations map[string]string) bool {
	return annotations[AutoupdateAnnotation] != "false"
}

func mergeMaps(dst, src map[string]string) (map[string]string, bool) {
	changed := false
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			if dst == nil {
				dst = map[string]string{}
			}
			dst[k] = v
			changed = true
		}
	}
	return dst, changed
}

// ReconcileClusterRole repairs a bootstrap cluster role as Kubernetes does
// at start: unless existing is annotated autoupdate "false", it gets the
// missing labels and annotations, every rule of want it lacks (rules it
// has beyond want stay), and for an aggregated role the missing cluster
// role selectors. It returns the repaired copy and whether anything
// changed; existing is not modified.
func ReconcileClusterRole(existing, want *rbac.ClusterRole) (*rbac.ClusterRole, bool) {
	if !autoupdate(existing.Annotations) {
		return existing, false
	}
	out := existing.DeepCopy()
	var c1, c2 bool
	out.Labels, c1 = mergeMaps(out.Labels, want.Labels)
	out.Annotations, c2 = mergeMaps(out.Annotations, want.Annotations)
	changed := c1 || c2
	if want.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbac.AggregationRule{}
		}
		for _, sel := range want.AggregationRule.ClusterRoleSelectors {
			if !slices.ContainsFunc(out.AggregationRule.ClusterRoleSelectors, func(s api.LabelSelector) bool { return reflect.DeepEqual(s, sel) }) {
				out.AggregationRule.ClusterRoleSelectors = append(out.AggregationRule.ClusterRoleSelectors, sel)
				changed = true
			}
		}
		return out, changed
	}
	for _, r := range want.Rules {
		if ok, _ := Covers(out.Rules, []rbac.PolicyRule{r}); !ok {
			out.Rules = append(out.Rules, r)
			changed = true
		}
	}
	return out, changed
}

// ErrRoleRefChanged is returned by ReconcileClusterRoleBinding for a
// binding whose roleRef differs from the bootstrap policy's.
var ErrRoleRefChanged = errors.New("roleRef differs from the bootstrap policy")

// ReconcileClusterRoleBinding repairs a bootstrap binding: unless
// annotated autoupdate "false", it gets the missing labels, annotations
// and subjects of want. A roleRef cannot change (it is immutable), so a
// different one is reported as an error.
func ReconcileClusterRoleBinding(existing, want *rbac.ClusterRoleBinding) (*rbac.ClusterRoleBinding, bool, error) {
	if !autoupdate(existing.Annotations) {
		return existing, false, nil
	}
	if existing.RoleRef != want.RoleRef {
		return existing, false, fmt.Errorf("clusterrolebinding %s: %w: it is %s %s, want %s %s (delete it to have it recreated)",
			existing.Name, ErrRoleRefChanged, existing.RoleRef.Kind, existing.RoleRef.Name, want.RoleRef.Kind, want.RoleRef.Name)
	}
	out := existing.DeepCopy()
	var c1, c2 bool
	out.Labels, c1 = mergeMaps(out.Labels, want.Labels)
	out.Annotations, c2 = mergeMaps(out.Annotations, want.Annotations)
	changed := c1 || c2
	for _, s := range want.Subjects {
		if !slices.Contains(out.Subjects, s) {
			out.Subjects = append(out.Subjects, s)
			changed = true
		}
	}
	return out, changed, nil
}

// AggregateRules returns the rules aggregated role role collects: those of
// every other cluster role in all matched by one of its selectors, each
// distinct rule once, in the order of all (callers sort it by name).
func AggregateRules(role *rbac.ClusterRole, all []*rbac.ClusterRole) []rbac.PolicyRule {
	if role.AggregationRule == nil {
		return role.Rules
	}
	out := []rbac.PolicyRule{}
	for _, cr := range all {
		if cr.Name == role.Name {
			continue
		}
		if !slices.ContainsFunc(role.AggregationRule.ClusterRoleSelectors, func(s api.LabelSelector) bool {
			return (len(s.MatchLabels) > 0 || len(s.MatchExpressions) > 0) && s.Matches(cr.Labels)
		}) {
			continue
		}
		for _, r := range cr.Rules {
			if !slices.ContainsFunc(out, func(o rbac.PolicyRule) bool { return reflect.DeepEqual(o, r) }) {
				out = append(out, r)
			}
		}
	}
	return out
}

// EscalationError is Kubernetes' refusal of a role or binding that would
// grant permissions the requester does not hold.
type EscalationError struct {
	User    string
	Groups  []string
	Missing []rbac.PolicyRule
}

// Error formats the error as Kubernetes does.
func (e *EscalationError) Error() string {
	lines := make([]string, len(e.Missing))
	for i, r := range e.Missing {
		lines[i] = CompactString(r)
	}
	return fmt.Sprintf("user %q (groups=%s) is attempting to grant RBAC permissions not currently held:\n%s",
		e.User, quoteList(e.Groups), strings.Join(lines, "\n"))
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// ConfirmNoEscalation returns an *EscalationError unless u already holds
// every permission of rules in namespace ns ("" for cluster-wide).
func (z *RBAC) ConfirmNoEscalation(u *User, ns string, rules []rbac.PolicyRule) error {
	if ok, missing := Covers(z.RulesFor(u, ns), rules); !ok {
		return &EscalationError{User: u.Name, Groups: u.Groups, Missing: missing}
	}
	return nil
}
