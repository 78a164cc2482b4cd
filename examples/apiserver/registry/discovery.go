package registry

import (
	"slices"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// Verbs every registered resource supports.
var resourceVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// Verbs returns the verbs of a resource (all registered resources support
// the full set).
func Verbs(Descriptor) []string { return append([]string(nil), resourceVerbs...) }

// CoreAPIVersions is the document GET /api returns (the server adds its
// addresses).
func CoreAPIVersions() *api.APIVersions {
	return &api.APIVersions{TypeMeta: store.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []api.ServerAddressByClientCIDR{}}
}

// Groups is the document GET /apis returns: every named group with a
// registered resource, and no other (a group listed without resources
// breaks discovery clients: kubectl api-resources exits 1). The scale
// subresource's autoscaling/v1 Scale is named by the subresource entries
// only, as no autoscaling resource is served.
func Groups() *api.APIGroupList { return Default().Groups() }

// Groups is the registry's GET /apis document, extra groups included.
func (r *Registry) Groups() *api.APIGroupList {
	versions := map[string][]string{}
	for _, d := range r.kinds {
		g, v := GroupVersion(d.Resource())
		if g != "" && !slices.Contains(versions[g], v) {
			versions[g] = append(versions[g], v)
		}
	}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Strings(names)
	list := &api.APIGroupList{TypeMeta: store.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range names {
		group := api.APIGroup{Name: g}
		for _, v := range versions[g] {
			group.Versions = append(group.Versions, api.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		group.PreferredVersion = group.Versions[0]
		list.Groups = append(list.Groups, group)
	}
	return list
}

// Resources is the discovery document of a group-version ("v1",
// "apps/v1"), or false if nothing is served there. Subresources are listed
// as "<plural>/<sub>" entries with their own kind and verbs.
func Resources(groupVersion string) (*api.APIResourceList, bool) {
	return Default().Resources(groupVersion)
}

// Resources is the registry's discovery document of a group-version.
func (rg *Registry) Resources(groupVersion string) (*api.APIResourceList, bool) {
	list := &api.APIResourceList{TypeMeta: store.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: groupVersion, Resources: []api.APIResource{}}
	for _, d := range rg.kinds {
		r := d.Resource()
		if r.APIVersion != groupVersion {
			continue
		}
		list.Resources = append(list.Resources, api.APIResource{
			Name: r.Name, SingularName: d.Singular(), Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: Verbs(d), ShortNames: d.ShortNames(), Categories: d.Categories(),
		})
		for _, sub := range d.Subresources() {
			list.Resources = append(list.Resources, subresourceEntry(r, sub))
		}
	}
	if len(list.Resources) == 0 {
		return nil, false
	}
	sort.SliceStable(list.Resources, func(i, j int) bool {
		return strings.Compare(list.Resources[i].Name, list.Resources[j].Name) < 0
	})
	return list, true
}

// subresourceEntry is a subresource's discovery entry: binding and
// eviction are created (a Binding, a policy/v1 Eviction), the others read
// and written (scale as autoscaling/v1 Scale).
func subresourceEntry(r store.Resource, sub string) api.APIResource {
	e := api.APIResource{Name: r.Name + "/" + sub, Namespaced: r.Namespaced, Kind: r.Kind, Verbs: []string{"get", "patch", "update"}}
	switch sub {
	case "binding":
		e.Kind, e.Verbs = "Binding", []string{"create"}
	case "eviction":
		e.Group, e.Version, e.Kind, e.Verbs = "policy", "v1", "Eviction", []string{"create"}
	case "scale":
		e.Group, e.Version, e.Kind = "autoscaling", "v1", "Scale"
	}
	return e
}
