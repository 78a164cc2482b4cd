package api

import (
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
)

// APIResource describes one resource or subresource in discovery, as
// Kubernetes' metav1.APIResource.
type APIResource struct {
	// Name is the plural name, or "pods/status" for a subresource.
	Name         string `json:"name"`
	SingularName string `json:"singularName"`
	Namespaced   bool   `json:"namespaced"`
	// Group and Version are set when the subresource's kind lives in
	// another group-version (the autoscaling/v1 Scale).
	Group      string   `json:"group,omitempty"`
	Version    string   `json:"version,omitempty"`
	Kind       string   `json:"kind"`
	Verbs      []string `json:"verbs"`
	ShortNames []string `json:"shortNames,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

// APIResourceList is the discovery document of one group-version
// (GET /api/v1, GET /apis/apps/v1).
type APIResourceList struct {
	store.TypeMeta `json:",inline"`
	GroupVersion   string        `json:"groupVersion"`
	Resources      []APIResource `json:"resources"`
}

// APIVersions is GET /api: the versions of the core group.
type APIVersions struct {
	store.TypeMeta `json:",inline"`
	Versions       []string `json:"versions"`
	// ServerAddressByClientCIDRs is required on the wire; the server fills it.
	ServerAddressByClientCIDRs []ServerAddressByClientCIDR `json:"serverAddressByClientCIDRs"`
}

// ServerAddressByClientCIDR tells clients in a CIDR which address to use.
type ServerAddressByClientCIDR struct {
	ClientCIDR    string `json:"clientCIDR"`
	ServerAddress string `json:"serverAddress"`
}

// APIGroupList is GET /apis: the named groups.
type APIGroupList struct {
	store.TypeMeta `json:",inline"`
	Groups         []APIGroup `json:"groups"`
}

// APIGroup is one named group and its versions.
type APIGroup struct {
	Name             string                     `json:"name"`
	Versions         []GroupVersionForDiscovery `json:"versions"`
	PreferredVersion GroupVersionForDiscovery   `json:"preferredVersion"`
}

// GroupVersionForDiscovery names one version of a group.
type GroupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

// Verbs every registered resource supports.
var resourceVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// Verbs returns the verbs of a resource (all registered resources support
// the full set).
func Verbs(Descriptor) []string { return append([]string(nil), resourceVerbs...) }

// CoreAPIVersions is the document GET /api returns (the server adds its
// addresses).
func CoreAPIVersions() *APIVersions {
	return &APIVersions{TypeMeta: store.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []ServerAddressByClientCIDR{}}
}

// Groups is the document GET /apis returns: every named group with a
// registered resource, plus autoscaling (for Scale).
func Groups() *APIGroupList {
	versions := map[string][]string{"autoscaling": {"v1"}}
	for _, d := range Kinds() {
		g, v := GroupVersion(d.Resource())
		if g != "" && !contains(versions[g], v) {
			versions[g] = append(versions[g], v)
		}
	}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Strings(names)
	list := &APIGroupList{TypeMeta: store.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range names {
		group := APIGroup{Name: g}
		for _, v := range versions[g] {
			group.Versions = append(group.Versions, GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		group.PreferredVersion = group.Versions[0]
		list.Groups = append(list.Groups, group)
	}
	return list
}

// Resources is the discovery document of a group-version ("v1",
// "apps/v1"), or false if nothing is served there. Subresources are listed
// as "<plural>/<sub>" entries with their own kind and verbs.
func Resources(groupVersion string) (*APIResourceList, bool) {
	list := &APIResourceList{TypeMeta: store.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: groupVersion, Resources: []APIResource{}}
	for _, d := range Kinds() {
		r := d.Resource()
		if r.APIVersion != groupVersion {
			continue
		}
		list.Resources = append(list.Resources, APIResource{
			Name: r.Name, SingularName: d.Singular(), Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: Verbs(d), ShortNames: d.ShortNames(), Categories: d.Categories(),
		})
		for _, sub := range d.Subresources() {
			e := APIResource{Name: r.Name + "/" + sub, Namespaced: r.Namespaced, Kind: r.Kind, Verbs: []string{"get", "patch", "update"}}
			switch sub {
			case "binding":
				e.Kind, e.Verbs = "Binding", []string{"create"}
			case "scale":
				e.Group, e.Version, e.Kind = "autoscaling", "v1", "Scale"
			}
			list.Resources = append(list.Resources, e)
		}
	}
	if len(list.Resources) == 0 && groupVersion != "autoscaling/v1" {
		return nil, false
	}
	sort.SliceStable(list.Resources, func(i, j int) bool {
		return strings.Compare(list.Resources[i].Name, list.Resources[j].Name) < 0
	})
	return list, true
}
