package api

import "github.com/setpoint-dev/setpoint/store"

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
