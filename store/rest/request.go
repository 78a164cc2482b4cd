package rest

import (
	"net/http"
	"strings"
)

// RequestInfo is what a resource URL says: which resource, namespace,
// object and subresource, and the verb derived from the method and query.
type RequestInfo struct {
	// APIVersion is "v1" for /api/v1, "group/version" for /apis/group/version.
	APIVersion string
	// Resource is the plural resource name, e.g. "pods".
	Resource string
	// Namespace is the namespace in the path, "" for none.
	Namespace string
	// Name is the object's name, "" for a collection.
	Name string
	// Subresource is "status", "scale", ... or "".
	Subresource string
	// Verb is one of get, list, watch, create, update, patch, delete,
	// deletecollection (as Kubernetes authorization names them).
	Verb string
}

// ParseRequestInfo parses a resource request path such as
// /api/v1/namespaces/default/pods/web/status or
// /apis/apps/v1/watch/deployments. ok is false if the path is not a
// resource path (discovery documents, /healthz, ...).
func ParseRequestInfo(r *http.Request) (info RequestInfo, ok bool) {
	p := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.APIVersion = parts[1]
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.APIVersion = parts[1] + "/" + parts[2]
		parts = parts[3:]
	default:
		return info, false
	}
	for _, s := range parts {
		if s == "" {
			return info, false
		}
	}
	isWatch := false
	if parts[0] == "watch" {
		isWatch = true
		parts = parts[1:]
		if len(parts) == 0 {
			return info, false
		}
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		} else {
			// the namespace object itself: namespaces/<name>[/status]
			info.Namespace = ""
		}
	}
	switch len(parts) {
	case 1:
		info.Resource = parts[0]
	case 2:
		info.Resource, info.Name = parts[0], parts[1]
	case 3:
		info.Resource, info.Name, info.Subresource = parts[0], parts[1], parts[2]
	default:
		// The proxy subresource takes a path of its own
		// (nodes/<name>/proxy/stats/summary), as in Kubernetes.
		if parts[2] != "proxy" {
			return info, false
		}
		info.Resource, info.Name, info.Subresource = parts[0], parts[1], parts[2]
	}
	if !isWatch && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		q := r.URL.Query().Get("watch")
		isWatch = q == "true" || q == "1"
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case isWatch:
			info.Verb = "watch"
		case info.Name == "":
			info.Verb = "list"
		default:
			info.Verb = "get"
		}
	case http.MethodPost:
		info.Verb = "create"
	case http.MethodPut:
		info.Verb = "update"
	case http.MethodPatch:
		info.Verb = "patch"
	case http.MethodDelete:
		if info.Name == "" {
			info.Verb = "deletecollection"
		} else {
			info.Verb = "delete"
		}
	default:
		info.Verb = strings.ToLower(r.Method)
	}
	return info, true
}
