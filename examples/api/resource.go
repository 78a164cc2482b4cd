package api

import (
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// Resource is store.Resource: plural name, apiVersion, kind and scope.
type Resource = store.Resource

// GroupVersion splits r's apiVersion into the API group ("" for the core
// group) and the version.
func GroupVersion(r Resource) (group, version string) {
	if g, v, ok := strings.Cut(r.APIVersion, "/"); ok {
		return g, v
	}
	return "", r.APIVersion
}

func groupOf(r Resource) string {
	g, _ := GroupVersion(r)
	return g
}
