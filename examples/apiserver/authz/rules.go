package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
)

// RuleAllows reports whether rule r allows the request a, with
// Kubernetes' matching: "*" matches any verb, API group or resource;
// "*/sub" matches subresource sub of every resource and "res/*" every
// subresource of res; a rule with resourceNames matches only requests
// naming one of them; a non-resource URL ending in "*" matches by prefix.
func RuleAllows(r *rbac.PolicyRule, a *Attributes) bool {
	if !hasOrStar(r.Verbs, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return urlMatches(r.NonResourceURLs, a.Path)
	}
	return hasOrStar(r.APIGroups, a.APIGroup) &&
		resourceMatches(r.Resources, a.Resource, a.Subresource) &&
		(len(r.ResourceNames) == 0 || (a.Name != "" && slices.Contains(r.ResourceNames, a.Name)))
}

func hasOrStar(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

func resourceMatches(list []string, resource, sub string) bool {
	combined := resource
	if sub != "" {
		combined = resource + "/" + sub
	}
	for _, x := range list {
		switch {
		case x == "*", x == combined:
			return true
		case sub != "" && (x == "*/"+sub || x == resource+"/*"):
			return true
		}
	}
	return false
}

func urlMatches(list []string, path string) bool {
	for _, u := range list {
		if u == "*" || u == path {
			return true
		}
		if p, ok := strings.CutSuffix(u, "*"); ok && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Covers reports whether the rules owned cover every permission of
// requested, and returns the (single-verb, single-resource) parts of
// requested that they do not. A requested "*" is covered only by "*".
func Covers(owned, requested []rbac.PolicyRule) (bool, []rbac.PolicyRule) {
	var missing []rbac.PolicyRule
	for _, req := range requested {
		for _, atom := range atoms(req) {
			if !slices.ContainsFunc(owned, func(o rbac.PolicyRule) bool { return ruleCovers(&o, &atom) }) {
				missing = append(missing, atom)
			}
		}
	}
	return len(missing) == 0, missing
}

// atoms splits r into rules of one verb and one resource (or URL) each.
func atoms(r rbac.PolicyRule) []rbac.PolicyRule {
	var out []rbac.PolicyRule
	for _, v := range r.Verbs {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if len(r.ResourceNames) == 0 {
					out = append(out, rbac.PolicyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}})
					continue
				}
				for _, n := range r.ResourceNames {
					out = append(out, rbac.PolicyRule{Verbs: []string{v}, APIGroups: []string{g}, Resources: []string{res}, ResourceNames: []string{n}})
				}
			}
		}
		for _, u := range r.NonResourceURLs {
			out = append(out, rbac.PolicyRule{Verbs: []string{v}, NonResourceURLs: []string{u}})
		}
	}
	return out
}

// ruleCovers reports whether owner grants everything atom (one verb, one
// group, one resource or URL, at most one name) does.
func ruleCovers(owner, atom *rbac.PolicyRule) bool {
	if !hasOrStar(owner.Verbs, atom.Verbs[0]) {
		return false
	}
	if len(atom.NonResourceURLs) > 0 {
		u := atom.NonResourceURLs[0]
		for _, o := range owner.NonResourceURLs {
			if o == "*" || o == u {
				return true
			}
			if p, ok := strings.CutSuffix(o, "*"); ok && strings.HasPrefix(u, p) {
				return true
			}
		}
		return false
	}
	if !hasOrStar(owner.APIGroups, atom.APIGroups[0]) {
		return false
	}
	res := atom.Resources[0]
	resource, sub, _ := strings.Cut(res, "/")
	ok := slices.Contains(owner.Resources, "*") || slices.Contains(owner.Resources, res) ||
		(sub != "" && (slices.Contains(owner.Resources, "*/"+sub) || slices.Contains(owner.Resources, resource+"/*")))
	if !ok {
		return false
	}
	if len(owner.ResourceNames) == 0 {
		return true
	}
	return len(atom.ResourceNames) == 1 && slices.Contains(owner.ResourceNames, atom.ResourceNames[0])
}

// CompactString formats a rule as Kubernetes' error messages do, e.g.
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.
func CompactString(r rbac.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) == 0 {
			return
		}
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = fmt.Sprintf("%q", s)
		}
		parts = append(parts, name+":["+strings.Join(q, ", ")+"]")
	}
	if len(r.NonResourceURLs) == 0 {
		q := make([]string, len(r.APIGroups))
		for i, s := range r.APIGroups {
			q[i] = fmt.Sprintf("%q", s)
		}
		parts = append(parts, "APIGroups:["+strings.Join(q, ", ")+"]")
	}
	add("Resources", r.Resources)
	add("ResourceNames", r.ResourceNames)
	add("NonResourceURLs", r.NonResourceURLs)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
