package apiserver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Authorizer decides on requests: authz.Authorizer. The server's is the
// chain rules file, then Node, then RBAC (authz.Chain).
type Authorizer = authz.Authorizer

var _ Authorizer = Rules(nil)

// Authorize implements Authorizer for a rules file: Allow when a rule
// matches the resource request, NoOpinion otherwise (non-resource
// requests included), so the next authorizer decides.
func (rules Rules) Authorize(a *authz.Attributes) (authz.Decision, string) {
	if !a.ResourceRequest {
		return authz.NoOpinion, ""
	}
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	if rules.Allows(&a.User, a.Verb, resource, a.Namespace) {
		return authz.Allow, "allowed by the rules file"
	}
	return authz.NoOpinion, ""
}

// groupOf returns the API group of an apiVersion ("" for the core group).
func groupOf(apiVersion string) string {
	g, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// attributesOf returns what authorizers decide r on, for user u.
func attributesOf(r *http.Request, u *User) *authz.Attributes {
	a := &authz.Attributes{}
	if u != nil {
		a.User = *u
	}
	info, ok := infoOf(r)
	if !ok {
		a.Verb, a.Path = strings.ToLower(r.Method), r.URL.Path
		return a
	}
	a.ResourceRequest = true
	a.Verb, a.APIGroup, a.Resource, a.Subresource = info.Verb, groupOf(info.APIVersion), info.Resource, info.Subresource
	a.Namespace, a.Name = info.Namespace, info.Name
	if a.Name == "" && (a.Verb == "list" || a.Verb == "watch") {
		// A list or watch narrowed to one object by the field selector
		// metadata.name=<n> is on that object, as in Kubernetes' request
		// info: a kubelet may then watch exactly the ConfigMaps and
		// Secrets its pods use.
		a.Name = nameSelected(r.URL.Query().Get("fieldSelector"))
	}
	if info.Resource == "namespaces" && info.Name != "" {
		// A namespace is in itself, as in Kubernetes: a role binding in
		// namespace n may grant get on namespace n.
		a.Namespace = info.Name
	}
	return a
}

// nameSelected returns the name a field selector requires with a
// metadata.name=<n> (or ==) term, and "" when it requires none, is
// malformed, or names something no object can be named.
func nameSelected(selector string) string {
	sel, err := store.ParseFieldSelector(selector)
	if err != nil {
		return ""
	}
	for _, req := range sel {
		if req.Field == "metadata.name" && req.Op == "=" && validPathName(req.Value) {
			return req.Value
		}
	}
	return ""
}

// validPathName reports whether name can be a path segment naming an
// object (not empty, ".", "..", and without '/' or '%').
func validPathName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/%")
}

// forbidden is the 403 for a refused request, worded as Kubernetes words
// it; reason (an authorizer's) is appended when set.
func forbidden(a *authz.Attributes, reason string) *watch.StatusError {
	name := a.User.Name
	if name == "" {
		name = "system:anonymous"
	}
	var msg string
	if !a.ResourceRequest {
		msg = fmt.Sprintf("forbidden: User %q cannot %s path %q", name, a.Verb, a.Path)
	} else {
		resource := a.Resource
		if a.Subresource != "" {
			resource += "/" + a.Subresource
		}
		gr := a.Resource
		if a.APIGroup != "" {
			gr += "." + a.APIGroup
		}
		if a.Name != "" {
			msg = fmt.Sprintf("%s %q is forbidden: ", gr, a.Name)
		} else {
			msg = gr + " is forbidden: "
		}
		msg += fmt.Sprintf("User %q cannot %s resource %q in API group %q", name, a.Verb, resource, a.APIGroup)
		if a.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", a.Namespace)
		} else {
			msg += " at the cluster scope"
		}
	}
	if reason != "" {
		msg += ": " + reason
	}
	return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, msg)
}

// withAuthorization answers 403 unless z allows the request (a resource
// request, or a non-resource one such as discovery, which RBAC's
// system:discovery role grants every authenticated user).
func withAuthorization(next http.Handler, z Authorizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := UserFrom(r.Context())
		a := attributesOf(r, u)
		if u == nil {
			rest.WriteError(w, forbidden(a, ""))
			return
		}
		if d, why := z.Authorize(a); d != authz.Allow {
			rest.WriteError(w, forbidden(a, why))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// NodesGroup is the group of kubelets (users system:node:<name>).
const NodesGroup = authz.NodesGroup
