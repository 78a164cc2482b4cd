package registry

import (
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// GroupVersion splits r's apiVersion into the API group ("" for the core
// group) and the version.
func GroupVersion(r store.Resource) (group, version string) {
	if g, v, ok := strings.Cut(r.APIVersion, "/"); ok {
		return g, v
	}
	return "", r.APIVersion
}

func groupOf(r store.Resource) string {
	g, _ := GroupVersion(r)
	return g
}
