package server

import (
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// openAPIV3 serves a minimal OpenAPI v3 discovery: /openapi/v3 lists one
// document per group version, and each document has the PATCH operation of
// every resource, tagged with its group-version-kind and the
// fieldValidation parameter. That is what kubectl looks for to use
// server-side field validation (fieldValidation=Strict) instead of
// validating against downloaded schemas, which are not served. /openapi/v2
// is not served (404).
func (s *Server) openAPIV3(w http.ResponseWriter, r *http.Request) bool {
	p := strings.TrimRight(r.URL.Path, "/")
	if p == "/openapi/v3" {
		paths := map[string]any{}
		for _, d := range api.Kinds() {
			gv := gvPath(d.Resource().APIVersion)
			paths[gv] = map[string]string{"serverRelativeURL": "/openapi/v3/" + gv + "?hash=setpoint"}
		}
		writeJSON(w, map[string]any{"paths": paths})
		return true
	}
	gv, ok := strings.CutPrefix(p, "/openapi/v3/")
	if !ok {
		return false
	}
	paths := map[string]any{}
	for _, d := range api.Kinds() {
		r := d.Resource()
		if gvPath(r.APIVersion) != gv {
			continue
		}
		group, version := api.GroupVersion(r)
		op := map[string]any{
			"x-kubernetes-group-version-kind": map[string]string{"group": group, "version": version, "kind": r.Kind},
			"x-kubernetes-action":             "patch",
			"parameters": []any{
				map[string]any{"name": "fieldValidation", "in": "query", "schema": map[string]string{"type": "string"}},
				map[string]any{"name": "fieldManager", "in": "query", "schema": map[string]string{"type": "string"}},
			},
			"responses": map[string]any{"200": map[string]string{"description": "OK"}},
		}
		path := "/" + gv + "/"
		if r.Namespaced {
			path += "namespaces/{namespace}/"
		}
		path += r.Name + "/{name}"
		paths[path] = map[string]any{"patch": op}
	}
	if len(paths) == 0 {
		return false
	}
	writeJSON(w, map[string]any{"openapi": "3.0.0", "info": map[string]string{"title": "setpoint", "version": "v1.32.0"},
		"paths": paths, "components": map[string]any{"schemas": map[string]any{}}})
	return true
}

func gvPath(apiVersion string) string {
	if strings.Contains(apiVersion, "/") {
		return "apis/" + apiVersion
	}
	return "api/" + apiVersion
}
