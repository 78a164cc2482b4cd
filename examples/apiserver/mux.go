package apiserver

import (
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// route names requests a special handler serves instead of the resource's
// own REST handler: a subresource the REST layer does not know (binding),
// or a verb with server-wide effects (deleting a namespace). An empty verb
// matches every verb.
type route struct {
	apiVersion, resource, subresource, verb string
}

// resourceMux is the innermost handler: it sends resource requests to
// their resource (or to a special route) and the rest to nonResource
// (discovery, OpenAPI, /version).
type resourceMux struct {
	resources map[string]served // by apiVersion + "/" + plural
	routes    map[route]http.Handler
	// virtual are resources served without a store (the access
	// reviews), by apiVersion + "/" + plural.
	virtual     map[string]http.Handler
	nonResource http.Handler
}

func newResourceMux(nonResource http.Handler) *resourceMux {
	return &resourceMux{resources: map[string]served{}, routes: map[route]http.Handler{}, virtual: map[string]http.Handler{}, nonResource: nonResource}
}

func (m *resourceMux) add(r served) {
	res := r.descriptor().Resource()
	m.resources[res.APIVersion+"/"+res.Name] = r
}

func (m *resourceMux) handle(rt route, h http.Handler) { m.routes[rt] = h }

// handleVirtual serves resource of apiVersion with h; no store is behind
// it.
func (m *resourceMux) handleVirtual(apiVersion, resource string, h http.Handler) {
	m.virtual[apiVersion+"/"+resource] = h
}

// fenceTarget maps a store key (a fence's key) to the object it is: the
// served resource, its namespace and name. ok is false for a key that is no
// served object's.
func (m *resourceMux) fenceTarget(prefix, key string) (group, resource, namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(key, prefix+"/")
	if !found {
		return "", "", "", "", false
	}
	parts := strings.Split(rest, "/")
	for _, r := range m.resources {
		res := r.descriptor().Resource()
		if res.Name != parts[0] {
			continue
		}
		switch {
		case res.Namespaced && len(parts) == 3 && parts[1] != "" && parts[2] != "":
			return groupOf(res.APIVersion), res.Name, parts[1], parts[2], true
		case !res.Namespaced && len(parts) == 2 && parts[1] != "":
			return groupOf(res.APIVersion), res.Name, "", parts[1], true
		}
		return "", "", "", "", false
	}
	return "", "", "", "", false
}

func (m *resourceMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, ok := infoOf(r)
	if !ok {
		m.nonResource.ServeHTTP(w, r)
		return
	}
	res, ok := m.resources[info.APIVersion+"/"+info.Resource]
	if h := m.virtual[info.APIVersion+"/"+info.Resource]; !ok && h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if !ok {
		rest.WriteError(w, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
		return
	}
	for _, verb := range []string{info.Verb, ""} {
		if h := m.routes[route{info.APIVersion, info.Resource, info.Subresource, verb}]; h != nil {
			h.ServeHTTP(w, r)
			return
		}
	}
	res.serve(w, r, info)
}
